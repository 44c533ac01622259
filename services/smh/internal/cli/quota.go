package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/services/smh/client"
)

// quotaReport is what smh quota prints: the space's usage and quota, and the library's cap
// when the token may read it.
type quotaReport struct {
	Space   remote               `json:"-"`
	Usage   client.SpaceUsage    `json:"space"`
	Library *client.LibraryUsage `json:"library,omitempty"`
}

func newQuota() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:   "quota LIBRARY[/SPACE]:",
		Short: "show a space's usage (files, recycle bin and versions), its quota and the library's cap",
		Long: `Show a space's usage, its quota and what is left (SMH usage, 2.9), and the library's own cap
over all its spaces (2.8) when the token may read it (an admin token). A write fits only when it fits
both. Usage counts live files, the recycle bin and history versions.`,
		Example: `  smh quota mylib:
  smh quota --json mylib/space1: | jq -r .space.availableSpace`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.on(cmd, args[0], mustSpace, func(r remote, sp *client.Space) error {
				rep := quotaReport{Space: r}
				var err error
				if rep.Usage, err = sp.Usage(cmd.Context()); err != nil {
					return err
				}
				// 2.8 needs an admin token; a space_admin still sees the space's own quota.
				lib, err := sp.LibraryUsage(cmd.Context())
				switch {
				case err == nil:
					rep.Library = &lib
				case !client.IsCode(err, "NoPermission"):
					return err
				}
				return f.print(cmd, rep, rep.print)
			})
		},
	}
	f.add(cmd)
	return cmd
}

func (rep quotaReport) print(w io.Writer) {
	u := rep.Usage
	fmt.Fprintf(w, "space:      %s\nused:       %d\n", rep.Space, int64(u.Size))
	fmt.Fprintf(w, "quota:      %s\navailable:  %s\n", orNone(u.Capacity), orNone(u.AvailableSpace))
	if l := rep.Library; l != nil {
		fmt.Fprintf(w, "library:    used %d, cap %s, available %s\n", int64(l.TotalFileSize), orNone(l.Capacity), orNone(l.AvailableSpace))
	}
}

// orNone prints a byte count that may be absent.
func orNone(n *client.Int64) string {
	if n == nil {
		return "none"
	}
	return fmt.Sprint(int64(*n))
}
