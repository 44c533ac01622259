package cli

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/services/smh/client"
)

// usageError makes the command exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// newClient answers a client of the server at base; a bad URL or CA file is a usage error.
func newClient(base, adminKey, caCert string) (*client.Client, error) {
	c, err := client.New(client.Options{URL: base, AdminKey: adminKey, CACert: caCert})
	if errors.Is(err, client.ErrUsage) {
		return nil, usagef("%v", err)
	}
	return c, err
}

// show calls a route and prints the JSON answer, if any, indented on the command's output. A
// body is the generated request message of the RPC the route reaches: a field the contract does
// not have cannot be sent, and a renamed one fails to compile.
func show(cmd *cobra.Command, c *client.Client, method, path string, query url.Values, body any, admin bool) error {
	var out map[string]any
	if err := c.Call(cmd.Context(), method, path, query, body, admin, &out); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return printJSON(cmd.OutOrStdout(), out)
}
