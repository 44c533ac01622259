package object

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/opensmh/opensmh/pkg/bodytime"
	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/pkg/servicehost"
)

// Settings are the object service's flags that `smh serve` declares too: each flag's name and
// default live here only, and its help text too unless `smh serve` words it for the all-in-one.
type Settings struct {
	// S3 is Config.S3 when S3.Endpoint is set; its credentials come from the environment only.
	S3 S3Config
	// The fields below are the Config fields of the same names.
	GCEvery, GCGrace, TicketTTL, SessionTTL time.Duration
	MaxOpenUploads                          int
	InlineBlobMax                           int64
	BodyMinRate                             bodytime.Rate
	ShareZipLimits                          ShareZipLimits
}

// AddFlags declares s's flags on fs.
func (s *Settings) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&s.S3.Endpoint, "s3-endpoint", "", "host:port of an S3-compatible store")
	fs.StringVar(&s.S3.Bucket, "s3-bucket", "opensmh", "bucket")
	fs.StringVar(&s.S3.Region, "s3-region", "", "region")
	fs.StringVar(&s.S3.Prefix, "s3-prefix", "", "key prefix inside the bucket")
	fs.BoolVar(&s.S3.Secure, "s3-secure", true, "reach the store over HTTPS")
	fs.BoolVar(&s.S3.CreateBucket, "s3-create-bucket", false, "create the bucket if it does not exist")
	// Cleanup and lifetimes (docs/architecture.md, "Operator surface").
	fs.DurationVar(&s.GCEvery, "gc-every", time.Minute, "pause between cleanup runs (elected across replicas); negative disables them")
	fs.DurationVar(&s.GCGrace, "gc-grace", time.Hour, "how long unreferenced bytes and stray temporary files are kept; must exceed the longest stall of an upload")
	fs.DurationVar(&s.TicketTTL, "upload-ticket-ttl", time.Hour, "how long an upload ticket's signature holds")
	fs.DurationVar(&s.SessionTTL, "upload-session-ttl", 24*time.Hour, "how long an unconfirmed upload may still be confirmed after its last ticket expired")
	// Bounds on hostile clients (docs/security.md).
	fs.IntVar(&s.MaxOpenUploads, "max-open-uploads", DefaultMaxOpenUploads, "unconfirmed uploads one user of a library may hold; a begin beyond answers 429 (negative: no cap)")
	fs.Int64Var(&s.InlineBlobMax, "inline-blob-max", DefaultInlineBlobMax, "uploads of at most this many bytes keep their bytes in the object database instead of the blob store (negative: none)")
	fs.Int64Var(&s.BodyMinRate.Bytes, "upload-min-bytes", DefaultUploadMinBytes, "an upload body must deliver at least this many bytes in every --upload-min-window, or is cut with 408")
	fs.DurationVar(&s.BodyMinRate.Window, "upload-min-window", DefaultUploadMinWindow, "the window of --upload-min-bytes")
	// Bounds of a share visitor's folder download (docs/shares.md).
	fs.IntVar(&s.ShareZipLimits.MaxEntries, "share-zip-max-entries", DefaultShareZipMaxEntries, "files and directories one share folder download (zip) may hold")
	fs.Int64Var(&s.ShareZipLimits.MaxBytes, "share-zip-max-bytes", DefaultShareZipMaxBytes, "file bytes one share folder download (zip) may hold")
}

// Flags are the object binary's own flags (beside cmdutil.Common), declared here once for the
// binary and for the deploy test that checks the example env files against them.
type Flags struct {
	servicehost.Addresses
	// DataListen and DataAdvertise are the data endpoint's addresses (docs/decisions/0034-bytes-bypass-grpc.md).
	DataListen, DataAdvertise string
	// Domain, DSN and BlobDir are the Config fields of the same names.
	Domain, DSN, BlobDir string
	Settings
	ShareLimits ratelimit.ShareLimits
}

// AddFlags declares f's flags on fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	f.Addresses.AddFlags(fs, "127.0.0.1:9104")
	fs.StringVar(&f.DataListen, "data-listen", "127.0.0.1:9105", "HTTP address of the data endpoint, proxied by the gateway")
	fs.StringVar(&f.DataAdvertise, "data-advertise", "", "address of the data endpoint the gateway dials, listed in etcd (default: the --advertise host with the data endpoint's port, else the data listen address)")
	fs.StringVar(&f.Domain, "domain", "", "host[:port] that tickets and download URLs name: the gateway's --data-url host when it has one, else its public HTTPS address (required)")
	fs.StringVar(&f.DSN, "sql-dsn", "./data/object.db", "postgres://... for PostgreSQL, otherwise a SQLite file")
	fs.StringVar(&f.BlobDir, "blob-dir", "./data/blobs", "local directory of blobs (unless --s3-endpoint is set)")
	f.Settings.AddFlags(fs)
	f.ShareLimits = ratelimit.DefaultShareLimits()
	f.ShareLimits.AddFlags(fs)
}
