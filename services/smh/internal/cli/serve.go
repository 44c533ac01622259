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
	var s3 object.S3Config
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
			if s3.Endpoint != "" {
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
	// File bytes: the data dir's blobs/ unless an S3-compatible store is named (same flags as
	// the object binary; credentials from SMH_S3_ACCESS_KEY and SMH_S3_SECRET_KEY only).
	fs.StringVar(&s3.Endpoint, "s3-endpoint", "", "host:port of an S3-compatible store for file bytes (default: blobs/ in the data dir)")
	fs.StringVar(&s3.Bucket, "s3-bucket", "opensmh", "S3 bucket")
	fs.StringVar(&s3.Region, "s3-region", "", "S3 region")
	fs.StringVar(&s3.Prefix, "s3-prefix", "", "key prefix inside the S3 bucket")
	fs.BoolVar(&s3.Secure, "s3-secure", true, "reach the S3 store over HTTPS")
	fs.BoolVar(&s3.CreateBucket, "s3-create-bucket", false, "create the S3 bucket if it does not exist")
	// Cleanup and upload lifetimes: operators rarely change them; tests shorten them to watch
	// the cleanup jobs work in real time.
	fs.DurationVar(&o.GCEvery, "gc-every", time.Minute, "pause between cleanup runs (object garbage collection, purge of deleted entries); negative disables them")
	fs.DurationVar(&o.GCGrace, "gc-grace", time.Hour, "how long unreferenced bytes and stray temporary files are kept; must exceed the longest stall of an upload")
	fs.DurationVar(&o.PurgeAfter, "purge-after", 10*time.Minute, "how long entries deleted for good (an emptied recycle bin included) keep their rows, and so their bytes, before the purge removes them")
	fs.DurationVar(&o.UploadTicketTTL, "upload-ticket-ttl", time.Hour, "how long an upload ticket's signature holds")
	fs.DurationVar(&o.UploadSessionTTL, "upload-session-ttl", 24*time.Hour, "how long an unconfirmed upload may still be confirmed after its last ticket expired; then cleanup removes it and its bytes")
	// Bounds on hostile clients (docs/security.md): slow bodies and piles of unconfirmed uploads.
	fs.DurationVar(&o.BodyReadTimeout, "body-read-timeout", gateway.DefaultBodyReadTimeout, "how long the body of an API or admin request may take to arrive; then 408 ReadRequestTimeout")
	shareLimits := ratelimit.DefaultShareLimits()
	shareLimits.AddFlags(fs)
	o.ShareLimits = &shareLimits
	// issue 13 fetch: bounds of a share visitor's folder download (docs/shares.md).
	fs.IntVar(&o.ShareZipLimits.MaxEntries, "share-zip-max-entries", object.DefaultShareZipMaxEntries, "files and directories one share folder download (zip) may hold")
	fs.Int64Var(&o.ShareZipLimits.MaxBytes, "share-zip-max-bytes", object.DefaultShareZipMaxBytes, "file bytes one share folder download (zip) may hold")
	fs.StringSliceVar(&o.TrustedProxies, "trusted-proxies", nil, "proxies (CIDR prefixes or addresses, comma-separated) whose X-Forwarded-For names the client address that rate limits count; default none (docs/security.md)")
	fs.Int64Var(&o.UploadMinRate.Bytes, "upload-min-bytes", object.DefaultUploadMinBytes, "an upload body must deliver at least this many bytes in every --upload-min-window, or is cut with 408")
	fs.DurationVar(&o.UploadMinRate.Window, "upload-min-window", object.DefaultUploadMinWindow, "the window of --upload-min-bytes")
	fs.Int64Var(&o.InlineBlobMax, "inline-blob-max", object.DefaultInlineBlobMax, "uploads of at most this many bytes keep their bytes in the object database instead of the blob store (negative: none)")
	fs.IntVar(&o.MaxOpenUploads, "max-open-uploads", object.DefaultMaxOpenUploads, "unconfirmed uploads one user of a library may hold; a begin beyond answers 429 RateLimitExceeded (negative: no cap)")
	// Deadlines of the calls to etcd, the SQL stores and between services: the flags of the
	// split binaries.
	o.Deadlines.Add(fs)
	fs.IntVar(&o.TaskWorkers, "task-workers", namespace.DefaultTaskWorkers, "async directory copies and deletes run at once; more wait in the queue")
	fs.IntVar(&o.TaskQueue, "task-queue", namespace.DefaultTaskQueue, "async directory tasks that may wait for a worker; beyond it a request answers 503")
	return cmd
}
