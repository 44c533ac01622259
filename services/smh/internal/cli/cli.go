// Package cli is the smh command (docs/architecture.md, "The smh command"): serve, version, and the library and
// token commands that call a running server over HTTPS.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/pkg/config"
	"github.com/opensmh/opensmh/services/smh/client"
)

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = "dev"

// Main runs the command and answers the exit code: 0 ok, 1 API or runtime error, 2 usage error.
func Main(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var re *reportedError
	if errors.As(err, &re) {
		return 1
	}
	fmt.Fprintln(stderr, "smh:", err)
	var ue *usageError
	var ae *client.Error
	switch {
	case errors.As(err, &ue), isCobraUsage(err), errors.Is(err, client.ErrUsage):
		return 2
	case errors.As(err, &ae):
		return 1
	}
	return 1
}

// reportedError is a failure already written to the log (smh serve's, once its JSON logger
// exists); Main only turns it into the exit code.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// isCobraUsage tells cobra's own argument and flag errors, which it returns as plain errors.
func isCobraUsage(err error) bool {
	var fe *flagError
	return errors.As(err, &fe)
}

type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

func newRoot(stdout io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "smh",
		Short:         "OpenSMH: self-hosted Smart Media Hosting",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.AddCommand(
		newServe(),
		&cobra.Command{Use: "version", Short: "print the version", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "smh", Version)
			return nil
		}},
		newLibrary(),
		newToken(),
	)
	root.AddCommand(newFileCommands()...)
	root.AddCommand(newTrash(), newVersions(), newQuota(), newFind(), newShare())
	for _, c := range append(root.Commands(), root) {
		requireSubcommand(c)
	}
	wrapArgs(root)
	return root
}

// requireSubcommand makes a command that only groups others refuse a missing or unknown
// subcommand as a usage error (exit 2), where cobra would print help and succeed.
func requireSubcommand(c *cobra.Command) {
	if c.Runnable() || !c.HasSubCommands() {
		return
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return nil
	}
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		_ = cmd.Usage()
		return usagef("%s needs a subcommand", cmd.CommandPath())
	}
}

// wrapArgs makes cobra's argument-count errors usage errors (exit 2).
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return &flagError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// apiFlags are the connection flags of every command that calls a server.
type apiFlags struct {
	url, adminKey, caCert string
}

func (f *apiFlags) add(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	fs.StringVar(&f.url, "url", "https://127.0.0.1:8443", "base URL of the server (env SMH_URL)")
	fs.StringVar(&f.adminKey, "admin-key", "", "operator key (env SMH_ADMIN_KEY)")
	fs.StringVar(&f.caCert, "ca-cert", "", "CA certificate to trust, e.g. data/tls/ca.pem (env SMH_CA_CERT)")
}

func (f *apiFlags) client(cmd *cobra.Command) (*client.Client, error) {
	if err := config.BindEnv(cmd.Flags()); err != nil {
		return nil, usagef("%v", err)
	}
	return newClient(f.url, f.adminKey, f.caCert)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
