package cli

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/config"
	"github.com/opensmh/opensmh/pkg/telemetry"
	"github.com/opensmh/opensmh/services/gateway"
	"github.com/opensmh/opensmh/services/namespace"
	"github.com/opensmh/opensmh/services/object"
	"github.com/opensmh/opensmh/services/smh/server"
)

// serve runs the all-in-one until ctx ends (SIGINT, SIGTERM).
func serve(ctx context.Context, o server.Options, metricsListen string) error {
	shutdown, err := telemetry.SetupTracing(ctx, "opensmh")
	if err != nil {
		return err
	}
	defer shutdown(context.Background())
	stopMetrics, err := telemetry.ServeMetrics(metricsListen, "opensmh", o.Logger)
	if err != nil {
		return err
	}
	defer stopMetrics(context.Background())
	srv, err := server.Start(ctx, o)
	if err != nil {
		return err
	}
	return srv.Wait(ctx)
}

func newServe() *cobra.Command {
	// Its flags are declared by server.Flags, which tests/deploy reads too.
	var f server.Flags
	o := &f.Options
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run every service in one process on embedded defaults",
		Example: `  smh serve --data-dir /var/lib/smh --listen 0.0.0.0:8443 --public-url https://smh.example.com
  SMH_SQL_DSN=postgres://smh@db/smh smh serve --s3-endpoint s3.example.com:443`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := config.BindEnv(cmd.Flags()); err != nil {
				return usagef("%v", err)
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(f.LogLevel)); err != nil {
				return usagef("--log-level: %v", err)
			}
			allInOne(o, f.Objects, f.Namespaces, f.Edge)
			if o.GCEvery == 0 {
				return usagef("--gc-every must not be 0 (a negative value disables the cleanup jobs)")
			}
			for _, d := range []struct {
				flag string
				v    time.Duration
			}{{"--gc-grace", o.GCGrace}, {"--purge-after", o.PurgeAfter}, {"--upload-ticket-ttl", o.UploadTicketTTL}, {"--upload-session-ttl", o.UploadSessionTTL},
				{"--body-read-timeout", o.BodyReadTimeout}, {"--upload-min-window", o.UploadMinRate.Window}} {
				if d.v <= 0 {
					return usagef("%s must be positive", d.flag)
				}
			}
			if o.UploadMinRate.Bytes <= 0 {
				return usagef("--upload-min-bytes must be positive")
			}
			o.Out = cmd.OutOrStdout()
			o.EtcdEndpoints = config.SplitList(f.EtcdEndpoints)
			// The operator key comes from SMH_ADMIN_KEY only (docs/architecture.md, "Starting it"), never a flag,
			// so it does not show in the process list.
			o.AdminKey = os.Getenv("SMH_ADMIN_KEY")
			if s3 := f.Objects.S3; s3.Endpoint != "" {
				// S3 credentials too come from the environment only, as for the object binary.
				s3.AccessKey, s3.SecretKey = os.Getenv("SMH_S3_ACCESS_KEY"), os.Getenv("SMH_S3_SECRET_KEY")
				o.S3 = &s3
			}
			if f.SecretKEK != "" {
				b, err := config.DecodeKEK(f.SecretKEK)
				if err != nil {
					return usagef("SMH_SECRET_KEK: %v", err)
				}
				o.SecretKEK = b
			}
			// From here on every line is a JSON log record (the generated operator key excepted,
			// which is shown on stdout and never logged); a failure is one error record naming
			// the cause.
			o.Logger = cmdutil.InstallLogger(level)
			if err := serve(cmd.Context(), *o, f.MetricsListen); err != nil {
				o.Logger.Error("smh stopped", "error", err.Error())
				return &reportedError{err}
			}
			return nil
		},
	}
	f.AddFlags(cmd.Flags())
	return cmd
}

// allInOne copies the shared flags into the all-in-one's options.
func allInOne(o *server.Options, objects object.Settings, namespaces namespace.Settings, edge gateway.Settings) {
	o.GCEvery, o.GCGrace = objects.GCEvery, objects.GCGrace
	o.UploadTicketTTL, o.UploadSessionTTL = objects.TicketTTL, objects.SessionTTL
	o.MaxOpenUploads, o.InlineBlobMax, o.UploadMinRate = objects.MaxOpenUploads, objects.InlineBlobMax, objects.BodyMinRate
	o.ShareZipLimits = objects.ShareZipLimits
	o.TaskWorkers, o.TaskQueue = namespaces.TaskWorkers, namespaces.TaskQueue
	o.BodyReadTimeout, o.TrustedProxies = edge.BodyReadTimeout, edge.TrustedProxies
}
