package cli

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/services/smh/client"
)

// What the trash, versions, quota and share commands share: one space, a walk collected into a
// list, and an answer printed as JSON or for people.

// on reads arg with parse (mustSpace, mustFile) and runs fn in a session on its space.
func (f *fileFlags) on(cmd *cobra.Command, arg string, parse func(string) (remote, error), fn func(r remote, sp *client.Space) error) error {
	r, err := parse(arg)
	if err != nil {
		return err
	}
	return f.withSession(cmd, []remote{r}, func(s *session) error { return fn(r, s.space(r)) })
}

// collect answers every item a walk of the client package sees, [] (not null in JSON) for none.
func collect[T any](walk func(func(T) error) error) ([]T, error) {
	out := []T{}
	err := walk(func(it T) error {
		out = append(out, it)
		return nil
	})
	return out, err
}

// print writes v as JSON with --json, else what human writes (nothing when human is nil).
func (f *fileFlags) print(cmd *cobra.Command, v any, human func(w io.Writer)) error {
	if f.json {
		return printJSON(cmd.OutOrStdout(), v)
	}
	if human != nil {
		human(cmd.OutOrStdout())
	}
	return nil
}
