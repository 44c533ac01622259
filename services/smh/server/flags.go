package server

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/services/gateway"
	"github.com/opensmh/opensmh/services/namespace"
	"github.com/opensmh/opensmh/services/object"
)

// Flags are the flags of `smh serve`, declared here rather than in its command (a package
// internal to services/smh) so that what checks the deployment files (tests/deploy) reads the
// command's real flag set, as it does each split binary's Flags. The command fills Options from
// the fields that are not Options' own.
type Flags struct {
	Options       Options
	EtcdEndpoints string // comma-separated
	LogLevel      string
	SecretKEK     string // base64
	MetricsListen string
	// The flags the all-in-one shares with the split binaries, declared by their services.
	Objects    object.Settings
	Namespaces namespace.Settings
	Edge       gateway.Settings
}

// AddFlags declares every flag of `smh serve` on fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	o := &f.Options
	fs.StringVar(&o.DataDir, "data-dir", "./data", "directory for etcd, keys, certificates and data")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8443", "HTTPS address (REST, gRPC, console)")
	fs.StringVar(&o.PublicURL, "public-url", "", "base URL clients reach (default https://<listen>)")
	fs.StringVar(&o.DataURL, "data-url", "", "download origin: https:// URL of a host of its own that serves uploaded bytes and nothing else (default: the public URL; use one in production)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "server certificate (PEM); default: local CA in the data dir")
	fs.StringVar(&o.TLSKey, "tls-key", "", "server key (PEM)")
	fs.StringVar(&f.EtcdEndpoints, "etcd-endpoints", "", "comma-separated external etcd endpoints (default: embedded)")
	fs.StringVar(&o.SQLDSN, "sql-dsn", "", "namespace and object stores: postgres://... for PostgreSQL (default: SQLite files in the data dir)")
	fs.StringVar(&f.LogLevel, "log-level", "info", "debug, info, warn or error")
	// Metrics go on a plain-HTTP listener of their own, never on the public HTTPS port.
	fs.StringVar(&f.MetricsListen, "metrics-listen", "", "plain-HTTP address serving Prometheus /metrics, internal only (default: off)")
	fs.StringVar(&f.SecretKEK, "secret-kek", "", "base64 32-byte key encrypting library secrets (env SMH_SECRET_KEK; default: generated in the data dir)")
	// File bytes: the data dir's blobs/ unless an S3-compatible store is named (credentials from
	// SMH_S3_ACCESS_KEY and SMH_S3_SECRET_KEY only); cleanup and upload lifetimes, which tests
	// shorten to watch the cleanup jobs work in real time; bounds on hostile clients
	// (docs/security.md).
	f.Objects.AddFlags(fs)
	f.Namespaces.AddFlags(fs)
	f.Edge.AddFlags(fs)
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
