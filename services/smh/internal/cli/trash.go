package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/services/smh/client"
)

// The recycle bin (docs/cli.md, smh-api.md section 5): trash ls, restore, rm and empty. rm puts
// files and directories in the bin when the library keeps one (useRecycleBin).

func newTrash() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trash",
		Short: "list, restore and purge what rm put in the recycle bin",
		Example: `  smh rm mylib:old-report.pdf && smh trash ls mylib:
  smh trash restore mylib: 312`,
	}
	cmd.AddCommand(newTrashLs(), newTrashRestore(), newTrashRm(), newTrashEmpty())
	return cmd
}

func newTrashLs() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:   "ls LIBRARY[/SPACE]:",
		Short: "list the recycle bin, newest removal first",
		Example: `  smh trash ls mylib:
  smh trash ls --json mylib/space1: | jq '.[] | select(.name == "report.pdf") | .recycledItemId'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.on(cmd, args[0], mustSpace, func(_ remote, sp *client.Space) error {
				items, err := collect(func(fn func(client.RecycledItem) error) error { return sp.ListRecycled(cmd.Context(), fn) })
				if err != nil {
					return err
				}
				return f.print(cmd, items, func(w io.Writer) {
					for _, it := range items {
						size, where := fmt.Sprint(int64(it.Size)), strings.Join(it.OriginalPath, "/")
						if it.Type == "dir" {
							size, where = "DIR", where+"/"
						}
						fmt.Fprintf(w, "%10d  %19s %14s  %4dd  %s\n", it.ID, shortTime(it.RemovalTime), size, it.RemainingTime, where)
					}
				})
			})
		},
	}
	f.add(cmd)
	return cmd
}

// restored is one item trash restore put back.
type restored struct {
	ID   int64  `json:"recycledItemId"`
	Path string `json:"path"`
}

func newTrashRestore() *cobra.Command {
	var f fileFlags
	var conflict string
	var toRoot bool
	cmd := &cobra.Command{
		Use:   "restore LIBRARY[/SPACE]: ID...",
		Short: "put recycled items back where they were, making missing parents again",
		Example: `  smh trash restore mylib: 312
  smh trash restore --conflict rename --to-root mylib/space1: 312 313`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkConflict(conflict); err != nil {
				return err
			}
			items, err := ids("recycled item id", args[1:])
			if err != nil {
				return err
			}
			return f.on(cmd, args[0], mustSpace, func(r remote, sp *client.Space) error {
				// One restore per item (5.4), not the batch (5.5): the batch takes no conflict
				// strategy. The first failure stops here, with the items before it restored
				// and printed.
				var out []restored
				for _, id := range items {
					landed, err := sp.Restore(cmd.Context(), id, conflict, toRoot)
					if err != nil {
						return fmt.Errorf("restore %d: %w", id, err)
					}
					out = append(out, restored{id, r.join(strings.Join(landed, "/")).String()})
					if !f.json {
						fmt.Fprintf(cmd.OutOrStdout(), "%d -> %s\n", id, out[len(out)-1].Path)
					}
				}
				return f.print(cmd, out, nil)
			})
		},
	}
	f.add(cmd)
	conflictFlag(cmd, &conflict)
	cmd.Flags().BoolVar(&toRoot, "to-root", false, "restore into the space root when the original directory is gone")
	return cmd
}

func newTrashRm() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:     "rm LIBRARY[/SPACE]: ID...",
		Short:   "delete recycled items for good: all of them, or none when one is unknown",
		Example: `  smh trash rm mylib: 312 313`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			items, err := ids("recycled item id", args[1:])
			if err != nil {
				return err
			}
			return f.on(cmd, args[0], mustSpace, func(r remote, sp *client.Space) error {
				if err := sp.PurgeRecycled(cmd.Context(), items); err != nil {
					return err
				}
				return f.print(cmd, map[string]any{"space": r.String(), "purged": items}, nil)
			})
		},
	}
	f.add(cmd)
	return cmd
}

func newTrashEmpty() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:     "empty LIBRARY[/SPACE]:",
		Short:   "delete everything in the recycle bin for good",
		Example: `  smh trash empty mylib/space1:`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.on(cmd, args[0], mustSpace, func(r remote, sp *client.Space) error {
				if err := sp.EmptyRecycleBin(cmd.Context()); err != nil {
					return err
				}
				return f.print(cmd, map[string]any{"space": r.String(), "emptied": true}, nil)
			})
		},
	}
	f.add(cmd)
	return cmd
}
