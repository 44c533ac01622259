package cli

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/config"
	"github.com/opensmh/opensmh/pkg/ratelimit"
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
	var o server.Options
	var etcd, logLevel, kek, metricsListen string
	// The flags the all-in-one shares with the split binaries, declared by their services.
	var objects object.Settings
	var namespaces namespace.Settings
	var edge gateway.Settings
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
			allInOne(&o, objects, namespaces, edge)
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
			o.EtcdEndpoints = config.SplitList(etcd)
			// The operator key comes from SMH_ADMIN_KEY only (docs/architecture.md, "Starting it"), never a flag,
			// so it does not show in the process list.
			o.AdminKey = os.Getenv("SMH_ADMIN_KEY")
			if s3 := objects.S3; s3.Endpoint != "" {
				// S3 credentials too come from the environment only, as for the object binary.
				s3.AccessKey, s3.SecretKey = os.Getenv("SMH_S3_ACCESS_KEY"), os.Getenv("SMH_S3_SECRET_KEY")
				o.S3 = &s3
			}
			if kek != "" {
				b, err := config.DecodeKEK(kek)
				if err != nil {
					return usagef("SMH_SECRET_KEK: %v", err)
				}
				o.SecretKEK = b
			}
			// From here on every line is a JSON log record (the generated operator key excepted,
			// which is shown on stdout and never logged); a failure is one error record naming
			// the cause.
			o.Logger = cmdutil.InstallLogger(level)
			if err := serve(cmd.Context(), o, metricsListen); err != nil {
				o.Logger.Error("smh stopped", "error", err.Error())
				return &reportedError{err}
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.DataDir, "data-dir", "./data", "directory for etcd, keys, certificates and data")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8443", "HTTPS address (REST, gRPC, console)")
	fs.StringVar(&o.PublicURL, "public-url", "", "base URL clients reach (default https://<listen>)")
	fs.StringVar(&o.DataURL, "data-url", "", "download origin: https:// URL of a host of its own that serves uploaded bytes and nothing else (default: the public URL; use one in production)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "server certificate (PEM); default: local CA in the data dir")
	fs.StringVar(&o.TLSKey, "tls-key", "", "server key (PEM)")
	fs.StringVar(&etcd, "etcd-endpoints", "", "comma-separated external etcd endpoints (default: embedded)")
	fs.StringVar(&o.SQLDSN, "sql-dsn", "", "namespace and object stores: postgres://... for PostgreSQL (default: SQLite files in the data dir)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	// Metrics go on a plain-HTTP listener of their own, never on the public HTTPS port.
	fs.StringVar(&metricsListen, "metrics-listen", "", "plain-HTTP address serving Prometheus /metrics, internal only (default: off)")
	fs.StringVar(&kek, "secret-kek", "", "base64 32-byte key encrypting library secrets (env SMH_SECRET_KEK; default: generated in the data dir)")
	// File bytes: the data dir's blobs/ unless an S3-compatible store is named (credentials from
	// SMH_S3_ACCESS_KEY and SMH_S3_SECRET_KEY only); cleanup and upload lifetimes, which tests
	// shorten to watch the cleanup jobs work in real time; bounds on hostile clients
	// (docs/security.md).
	objects.AddFlags(fs)
	namespaces.AddFlags(fs)
	edge.AddFlags(fs)
	// Entries deleted for good are purged by the namespace service, which has no binary flag
	// for it: the split namespace keeps its default.
	fs.DurationVar(&o.PurgeAfter, "purge-after", 10*time.Minute, "how long entries deleted for good (an emptied recycle bin included) keep their rows, and so their bytes, before the purge removes them")
	for name, usage := range allInOneUsage() {
		fs.Lookup(name).Usage = usage
	}
	shareLimits := ratelimit.DefaultShareLimits()
	shareLimits.AddFlags(fs)
	o.ShareLimits = &shareLimits
	// Deadlines of the calls to etcd, the SQL stores and between services: the flags of the
	// split binaries.
	o.Deadlines.Add(fs)
	return cmd
}

// allInOneUsage words the help of shared flags whose meaning in one process is wider than in the
// split binary that declares them: in the all-in-one the S3 flags sit beside other stores, and
// the cleanup runs cover the namespace's purge too.
func allInOneUsage() map[string]string {
	return map[string]string{
		"s3-endpoint":        "host:port of an S3-compatible store for file bytes (default: blobs/ in the data dir)",
		"s3-bucket":          "S3 bucket",
		"s3-region":          "S3 region",
		"s3-prefix":          "key prefix inside the S3 bucket",
		"s3-secure":          "reach the S3 store over HTTPS",
		"s3-create-bucket":   "create the S3 bucket if it does not exist",
		"gc-every":           "pause between cleanup runs (object garbage collection, purge of deleted entries); negative disables them",
		"upload-session-ttl": "how long an unconfirmed upload may still be confirmed after its last ticket expired; then cleanup removes it and its bytes",
		"max-open-uploads":   "unconfirmed uploads one user of a library may hold; a begin beyond answers 429 RateLimitExceeded (negative: no cap)",
	}
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
