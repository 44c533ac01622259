package cli

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/pkg/config"
	"github.com/opensmh/opensmh/pkg/telemetry"
	"github.com/opensmh/opensmh/services/smh/server"
)

func newServe() *cobra.Command {
	var o server.Options
	var etcd, logLevel, kek string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run every service in one process on embedded defaults",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := config.BindEnv(cmd.Flags()); err != nil {
				return usagef("%v", err)
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usagef("--log-level: %v", err)
			}
			o.Logger = telemetry.NewLogger(os.Stderr, level)
			o.Out = cmd.OutOrStdout()
			o.EtcdEndpoints = config.SplitList(etcd)
			// The operator key comes from SMH_ADMIN_KEY only (admin-api.md section 1), never a flag,
			// so it does not show in the process list.
			o.AdminKey = os.Getenv("SMH_ADMIN_KEY")
			if kek != "" {
				b, err := config.DecodeKEK(kek)
				if err != nil {
					return usagef("SMH_SECRET_KEK: %v", err)
				}
				o.SecretKEK = b
			}
			shutdown, err := telemetry.SetupTracing(cmd.Context(), "opensmh")
			if err != nil {
				return err
			}
			defer shutdown(cmd.Context())
			srv, err := server.Start(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "OpenSMH serving on %s", srv.URL)
			if srv.CACert != "" {
				fmt.Fprintf(cmd.OutOrStdout(), " (CA certificate: %s)", srv.CACert)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return srv.Wait(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.DataDir, "data-dir", "./data", "directory for etcd, keys, certificates and data")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8443", "HTTPS address (REST, gRPC, console)")
	fs.StringVar(&o.PublicURL, "public-url", "", "base URL clients reach (default https://<listen>)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "server certificate (PEM); default: local CA in the data dir")
	fs.StringVar(&o.TLSKey, "tls-key", "", "server key (PEM)")
	fs.StringVar(&etcd, "etcd-endpoints", "", "comma-separated external etcd endpoints (default: embedded)")
	fs.StringVar(&o.SQLDSN, "sql-dsn", "", "namespace store: postgres://... for PostgreSQL (default: SQLite in the data dir)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&kek, "secret-kek", "", "base64 32-byte key encrypting library secrets (env SMH_SECRET_KEK; default: generated in the data dir)")
	return cmd
}
