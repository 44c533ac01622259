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
	"strings"
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
		Use:   "smh",
		Short: "OpenSMH: self-hosted Smart Media Hosting",
		Long: `OpenSMH: self-hosted Smart Media Hosting.

smh serve runs the server. The library and token commands manage libraries (with the operator
key) and access tokens (with a library secret). The file commands address files as
LIBRARY[/SPACE]:path (SPACE only in multi-tenant libraries) and call with --token, or with
--library-secret to mint a short-lived token for the one command (or SMH_TOKEN,
SMH_LIBRARY_SECRET). Exit codes: 0 ok, 1 API or runtime error, 2 usage error.`,
		Example: `  smh serve --data-dir ./data
  export SMH_URL=https://127.0.0.1:8443 SMH_CA_CERT=data/tls/ca.pem
  smh library create --name photos --admin-key "$(cat data/admin.key)"
  SMH_LIBRARY_SECRET=... smh put -r ./pictures LIBRARY_ID:pictures
  source <(smh completion bash)`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.AddCommand(
		newServe(),
		&cobra.Command{Use: "version", Short: "print the version", Example: "  smh version", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "smh", Version)
			return nil
		}},
		newLibrary(),
		newToken(),
	)
	root.AddCommand(newFileCommands()...)
	root.AddCommand(newTrash(), newVersions(), newQuota(), newFind(), newShare())
	addHelpExamples(root)
	for _, c := range append(root.Commands(), root) {
		requireSubcommand(c)
	}
	wrapArgs(root)
	return root
}

// addHelpExamples makes cobra's own help and completion commands now, instead of at Execute, so
// that they too show an example in their help.
func addHelpExamples(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = "  smh help put"
		case "completion":
			examples := map[string]string{
				"bash":       "  source <(smh completion bash)",
				"zsh":        `  smh completion zsh > "${fpath[1]}/_smh"`,
				"fish":       "  smh completion fish > ~/.config/fish/completions/smh.fish",
				"powershell": "  smh completion powershell | Out-String | Invoke-Expression",
			}
			for _, shell := range c.Commands() {
				shell.Example = examples[shell.Name()]
				c.Example += shell.Example + "\n"
			}
			c.Example = strings.TrimSuffix(c.Example, "\n")
		}
	}
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
