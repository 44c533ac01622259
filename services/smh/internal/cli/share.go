package cli

import (
	"fmt"
	"io"
	"path"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/services/smh/client"
)

// Share links (docs/cli.md, smh-api.md section 13, docs/shares.md): share create, ls and rm.

func newShare() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "share",
		Short: "create, list and delete share links to files and directories",
		Example: `  smh share create --code 4821 --expire 7d mylib:photos/2026
  smh share ls mylib:`,
	}
	cmd.AddCommand(newShareCreate(), newShareLs(), newShareRm())
	return cmd
}

// shareIDPattern is the URL-safe form of the ids the server mints (13.0).
var shareIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// extractionCodePattern is what the server accepts as an extraction code (docs/shares.md).
var extractionCodePattern = regexp.MustCompile(`^[A-Za-z0-9]{0,6}$`)

func newShareCreate() *cobra.Command {
	var f fileFlags
	var name, code, expire string
	var preview, download, save bool
	cmd := &cobra.Command{
		Use:   "create LIBRARY[/SPACE]:PATH...",
		Short: "share files and directories of one space as a link, and print the link",
		Example: `  smh share create mylib:photos/2026
  smh share create --code 4f7k --expire 7d --name "the report" mylib:docs/report.pdf mylib:docs/data.xlsx
  smh share create --json --download=false mylib:video.mp4 | jq -r .endpoint`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, err := remotes(args)
			if err != nil {
				return err
			}
			o := client.ShareOptions{Name: name, ExtractionCode: code, CanPreview: preview, CanDownload: download, CanSave: save}
			for _, r := range rs {
				if r.Space != rs[0].Space {
					return usagef("%s and %s are in different spaces", rs[0], r)
				}
				if r.Path == "" {
					return usagef("%s: share the files or directories of the root, not the root", r)
				}
				o.Paths = append(o.Paths, r.Path)
			}
			if o.Name == "" {
				o.Name = path.Base(rs[0].Path)
			}
			if !extractionCodePattern.MatchString(code) {
				return usagef("--code %q: at most 6 letters or digits", code)
			}
			if expire != "" {
				if o.Expire, err = instant("expire", expire, time.Now(), true); err != nil {
					return err
				}
			}
			return f.withSession(cmd, rs, func(s *session) error {
				sh, err := s.space(rs[0]).CreateShare(cmd.Context(), o)
				if err != nil {
					return err
				}
				return f.print(cmd, sh, func(w io.Writer) {
					expires := sh.ExpireTime
					if sh.IsPermanent {
						expires = "never"
					}
					fmt.Fprintf(w, "url:      %s\nid:       %s\nexpires:  %s\n", sh.Endpoint, sh.ID, expires)
				})
			})
		},
	}
	f.add(cmd)
	fs := cmd.Flags()
	fs.StringVar(&name, "name", "", "the share's name (default: the first path's name)")
	fs.StringVar(&code, "code", "", "extraction code a visitor must type, at most 6 letters or digits (default: none)")
	fs.StringVar(&expire, "expire", "", "when the link stops working: a time (2026-12-31T18:00:00Z, 2026-12-31) or a span from now (7d, 36h); default never")
	fs.BoolVar(&preview, "preview", true, "visitors may preview files")
	fs.BoolVar(&download, "download", true, "visitors may download files")
	fs.BoolVar(&save, "save", false, "library users may save the files into their own space")
	return cmd
}

func newShareLs() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:   "ls LIBRARY:",
		Short: "list the library's share links (an admin token sees all, any other its own), oldest first",
		Example: `  smh share ls mylib:
  smh share ls --json mylib: | jq -r '.[] | select(.isPermanent) | .id'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.on(cmd, args[0], mustSpace, func(_ remote, sp *client.Space) error {
				shares, err := collect(func(fn func(client.ShareInfo) error) error { return sp.ListShares(cmd.Context(), fn) })
				if err != nil {
					return err
				}
				return f.print(cmd, shares, func(w io.Writer) {
					for _, sh := range shares {
						expires, state := shortTime(sh.ExpireTime), "enabled"
						if sh.IsPermanent {
							expires = "never"
						}
						if !sh.AdminEnabled || !sh.OwnerEnabled {
							state = "disabled"
						}
						fmt.Fprintf(w, "%s  %-8s  %19s  %-12s  %s\n", sh.ID, state, expires, sh.CreatorID, sh.Name)
					}
				})
			})
		},
	}
	f.add(cmd)
	return cmd
}

func newShareRm() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:     "rm LIBRARY: SHARE_ID...",
		Short:   "delete share links for good; their links stop working at once",
		Example: `  smh share rm mylib: 8aZ3kQ0pLm2xYv7nR4tW1s`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, id := range args[1:] {
				if !shareIDPattern.MatchString(id) {
					return usagef("%q is not a share id", id)
				}
			}
			return f.on(cmd, args[0], mustSpace, func(_ remote, sp *client.Space) error {
				for _, id := range args[1:] {
					if err := sp.DeleteShare(cmd.Context(), id); err != nil {
						return fmt.Errorf("share %s: %w", id, err)
					}
				}
				return f.print(cmd, map[string]any{"deleted": args[1:]}, nil)
			})
		},
	}
	f.add(cmd)
	return cmd
}
