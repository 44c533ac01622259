package cli

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/services/smh/client"
)

// History versions (docs/cli.md, smh-api.md section 9): versions ls, restore and rm. With the
// library's history on (enableFileHistory), an overwrite keeps the content it replaces.

func newVersions() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "versions",
		Short: "list, restore and delete the versions overwrites kept of a file",
		Example: `  smh versions ls mylib:report.pdf
  smh versions restore mylib:report.pdf 17`,
	}
	cmd.AddCommand(newVersionsLs(), newVersionsRestore(), newVersionsRm())
	return cmd
}

// versionsOf answers the history of the file at r, the current content first.
func versionsOf(ctx context.Context, sp *client.Space, r remote) ([]client.Version, error) {
	vs, err := collect(func(fn func(client.Version) error) error { return sp.ListVersions(ctx, r.Path, fn) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r, err)
	}
	return vs, nil
}

// onVersions reads PATH VERSION_ID... and runs fn once every id is a kept version of the file:
// the history routes take an id alone, and the path a user gives must not be decoration.
func (f *fileFlags) onVersions(cmd *cobra.Command, args []string, fn func(r remote, sp *client.Space, ids []int64) error) error {
	vids, err := ids("version id", args[1:])
	if err != nil {
		return err
	}
	return f.on(cmd, args[0], mustFile, func(r remote, sp *client.Space) error {
		vs, err := versionsOf(cmd.Context(), sp, r)
		if err != nil {
			return err
		}
		for _, id := range vids {
			if !slices.ContainsFunc(vs, func(v client.Version) bool { return v.ID == id }) {
				return fmt.Errorf("%s has no version %d (smh versions ls %s lists them)", r, id, r)
			}
		}
		if err := fn(r, sp, vids); err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		return nil
	})
}

func newVersionsLs() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:   "ls LIBRARY[/SPACE]:PATH",
		Short: "list a file's versions: the current content, then the kept versions newest first",
		Example: `  smh versions ls mylib:docs/plan.txt
  smh versions ls --json mylib:docs/plan.txt | jq '.[1].id'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.on(cmd, args[0], mustFile, func(r remote, sp *client.Space) error {
				vs, err := versionsOf(cmd.Context(), sp, r)
				if err != nil {
					return err
				}
				return f.print(cmd, vs, func(w io.Writer) {
					for _, v := range vs {
						id := fmt.Sprint(v.ID)
						if v.IsLatestVersion {
							id = "current"
						}
						fmt.Fprintf(w, "%10s  v%-4d %19s %14d  %s\n", id, v.Version, shortTime(v.CreationTime), int64(v.Size), v.CreatedBy)
					}
				})
			})
		},
	}
	f.add(cmd)
	return cmd
}

func newVersionsRestore() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:     "restore LIBRARY[/SPACE]:PATH VERSION_ID",
		Short:   "make a kept version the file's content; the content it replaces is kept as a version",
		Example: `  smh versions restore mylib:docs/plan.txt 1842`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.onVersions(cmd, args, func(_ remote, sp *client.Space, id []int64) error {
				e, err := sp.RestoreVersion(cmd.Context(), id[0])
				if err != nil {
					return err
				}
				return f.print(cmd, e, nil)
			})
		},
	}
	f.add(cmd)
	return cmd
}

func newVersionsRm() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:     "rm LIBRARY[/SPACE]:PATH VERSION_ID...",
		Short:   "delete kept versions of a file for good",
		Example: `  smh versions rm mylib:docs/plan.txt 1842 1843`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.onVersions(cmd, args, func(r remote, sp *client.Space, vids []int64) error {
				if err := sp.DeleteVersions(cmd.Context(), vids); err != nil {
					return err
				}
				return f.print(cmd, map[string]any{"path": r.String(), "deleted": vids}, nil)
			})
		},
	}
	f.add(cmd)
	return cmd
}
