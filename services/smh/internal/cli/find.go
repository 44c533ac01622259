package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/services/smh/client"
)

// find searches names (docs/cli.md, smh-api.md 8.2); the library needs its search switch
// (enableSearch).

// found is one entry find prints: the server's hit with its address.
type found struct {
	client.Hit
	Remote string `json:"remote"`
}

func newFind() *cobra.Command {
	var f fileFlags
	var names, types, exts, excludes, labels []string
	var minSize, maxSize, newer, older string
	cmd := &cobra.Command{
		Use:   "find LIBRARY[/SPACE]:[DIR]",
		Short: "find files and directories by name, type, extension, size and time, best match first",
		Long: `Find entries under DIR (the whole space by default) on the server's search index. --name
matches a part of the name, case-insensitively; given several times, any of them matches. Every other
flag narrows the search further.`,
		Example: `  smh find mylib: --name report --name budget
  smh find mylib:projects --type file --ext pdf --min-size 1M --newer 7d
  smh find --json mylib/space1: --name invoice | jq -r '.[].remote'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sq := client.SearchQuery{Keywords: names, InExtnames: exts, ExcludeExtnames: excludes, Labels: labels}
			for _, t := range types {
				if t != "file" && t != "dir" && t != "symlink" {
					return usagef("--type must be file, dir or symlink, not %q", t)
				}
				sq.FileTypes = append(sq.FileTypes, t)
			}
			var err error
			if sq.MinFileSize, err = optionalSize("min-size", minSize); err != nil {
				return err
			}
			if sq.MaxFileSize, err = optionalSize("max-size", maxSize); err != nil {
				return err
			}
			now := time.Now()
			if sq.ModificationTimeStart, err = optionalTime("newer", newer, now); err != nil {
				return err
			}
			if sq.ModificationTimeEnd, err = optionalTime("older", older, now); err != nil {
				return err
			}
			return f.on(cmd, args[0], mustRemote, func(r remote, sp *client.Space) error {
				sq.Scope = r.Path
				out := []found{}
				err := sp.Search(cmd.Context(), sq, func(h client.Hit) error {
					at := r
					at.Path = strings.Join(h.Path, "/") // from the space root, not from DIR
					out = append(out, found{Hit: h, Remote: at.String()})
					return nil
				})
				if err != nil {
					return err
				}
				return f.print(cmd, out, func(w io.Writer) {
					for _, h := range out {
						name := h.Remote
						if h.IsDir() {
							name += "/"
						}
						fmt.Fprintln(w, name)
					}
				})
			})
		},
	}
	f.add(cmd)
	fs := cmd.Flags()
	fs.StringArrayVar(&names, "name", nil, "a part of the name to match (repeat: any matches)")
	fs.StringArrayVar(&types, "type", nil, "file, dir or symlink (repeat: any matches)")
	fs.StringArrayVar(&exts, "ext", nil, "file extension, e.g. pdf (repeat: any matches)")
	fs.StringArrayVar(&excludes, "exclude-ext", nil, "file extension to leave out (repeat)")
	fs.StringArrayVar(&labels, "label", nil, "label the entry carries (repeat: any matches)")
	fs.StringVar(&minSize, "min-size", "", "smallest size, bytes or with k, M, G, T (1024-based)")
	fs.StringVar(&maxSize, "max-size", "", "largest size, bytes or with k, M, G, T (1024-based)")
	fs.StringVar(&newer, "newer", "", "modified since: a time (2026-12-31T18:00:00Z, 2026-12-31) or a span back from now (7d, 36h)")
	fs.StringVar(&older, "older", "", "modified before: a time or a span back from now, as --newer")
	return cmd
}

// optionalSize reads a size flag; "" (not given) is nil.
func optionalSize(flag, v string) (*int64, error) {
	if v == "" {
		return nil, nil
	}
	n, err := byteSize(flag, v)
	return &n, err
}

// optionalTime reads a time flag of find as RFC 3339; "" (not given) stays "".
func optionalTime(flag, v string, now time.Time) (string, error) {
	if v == "" {
		return "", nil
	}
	t, err := instant(flag, v, now, false)
	return t.UTC().Format(time.RFC3339), err
}
