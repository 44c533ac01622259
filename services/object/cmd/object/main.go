// Command object runs the object service as its own process (split deployment): gRPC for the
// gateway and the other services (registered in etcd), and the data endpoint over HTTP, which the
// gateway proxies (or an ingress routes) from the public HTTPS port. Blobs go to a local directory
// or an S3-compatible store; upload and blob records to PostgreSQL (or a SQLite file).
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/bodytime"
	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/serve"
	"github.com/opensmh/opensmh/pkg/servicehost"
	"github.com/opensmh/opensmh/services/object"
)

func main() {
	var common cmdutil.Common
	var listen, advertise, dataListen, dataAdvertise, domain, dsn, blobDir string
	var s3 object.S3Config
	var gcEvery, gcGrace, ticketTTL, sessionTTL time.Duration
	var maxOpenUploads int
	var inlineBlobMax int64
	var minRate bodytime.Rate
	fs := pflag.NewFlagSet("object", pflag.ContinueOnError)
	common.Add(fs)
	fs.StringVar(&listen, "listen", "127.0.0.1:9104", "gRPC address")
	fs.StringVar(&advertise, "advertise", "", "address other services dial (default: the listen address)")
	fs.StringVar(&dataListen, "data-listen", "127.0.0.1:9105", "HTTP address of the data endpoint, proxied by the gateway")
	fs.StringVar(&dataAdvertise, "data-advertise", "", "address of the data endpoint the gateway dials, listed in etcd (default: the --advertise host with the data endpoint's port, else the data listen address)")
	fs.StringVar(&domain, "domain", "", "host[:port] that tickets and download URLs name: the gateway's --data-url host when it has one, else its public HTTPS address (required)")
	fs.StringVar(&dsn, "sql-dsn", "./data/object.db", "postgres://... for PostgreSQL, otherwise a SQLite file")
	fs.StringVar(&blobDir, "blob-dir", "./data/blobs", "local directory of blobs (unless --s3-endpoint is set)")
	fs.StringVar(&s3.Endpoint, "s3-endpoint", "", "host:port of an S3-compatible store")
	fs.StringVar(&s3.Bucket, "s3-bucket", "opensmh", "bucket")
	fs.StringVar(&s3.Region, "s3-region", "", "region")
	fs.StringVar(&s3.Prefix, "s3-prefix", "", "key prefix inside the bucket")
	fs.BoolVar(&s3.Secure, "s3-secure", true, "reach the store over HTTPS")
	fs.BoolVar(&s3.CreateBucket, "s3-create-bucket", false, "create the bucket if it does not exist")
	// The same cleanup and lifetime knobs as smh serve (docs/architecture.md, "Operator surface"), for a split deployment.
	fs.DurationVar(&gcEvery, "gc-every", time.Minute, "pause between cleanup runs (elected across replicas); negative disables them")
	fs.DurationVar(&gcGrace, "gc-grace", time.Hour, "how long unreferenced bytes and stray temporary files are kept; must exceed the longest stall of an upload")
	fs.DurationVar(&ticketTTL, "upload-ticket-ttl", time.Hour, "how long an upload ticket's signature holds")
	fs.DurationVar(&sessionTTL, "upload-session-ttl", 24*time.Hour, "how long an unconfirmed upload may still be confirmed after its last ticket expired")
	fs.IntVar(&maxOpenUploads, "max-open-uploads", object.DefaultMaxOpenUploads, "unconfirmed uploads one user of a library may hold; a begin beyond answers 429 (negative: no cap)")
	fs.Int64Var(&inlineBlobMax, "inline-blob-max", object.DefaultInlineBlobMax, "uploads of at most this many bytes keep their bytes in the object database instead of the blob store (negative: none)")
	fs.Int64Var(&minRate.Bytes, "upload-min-bytes", object.DefaultUploadMinBytes, "an upload body must deliver at least this many bytes in every --upload-min-window, or is cut with 408")
	fs.DurationVar(&minRate.Window, "upload-min-window", object.DefaultUploadMinWindow, "the window of --upload-min-bytes")
	shareLimits := ratelimit.DefaultShareLimits()
	shareLimits.AddFlags(fs)
	// issue 13 fetch: bounds of a share visitor's folder download (docs/shares.md).
	var zipLimits object.ShareZipLimits
	fs.IntVar(&zipLimits.MaxEntries, "share-zip-max-entries", object.DefaultShareZipMaxEntries, "files and directories one share folder download (zip) may hold")
	fs.Int64Var(&zipLimits.MaxBytes, "share-zip-max-bytes", object.DefaultShareZipMaxBytes, "file bytes one share folder download (zip) may hold")
	os.Exit(cmdutil.Main("object", fs, &common, os.Args[1:], func(env cmdutil.Env) error {
		adminKey, err := cmdutil.RequireEnv("SMH_ADMIN_KEY")
		if err != nil {
			return err
		}
		if domain == "" {
			return errors.New("--domain (SMH_DOMAIN) is required: the host[:port] clients send bytes to")
		}
		if minRate.Bytes <= 0 || minRate.Window <= 0 {
			return errors.New("--upload-min-bytes and --upload-min-window must be positive")
		}
		if gcEvery == 0 || gcGrace <= 0 || ticketTTL <= 0 || sessionTTL <= 0 {
			return errors.New("--gc-every must not be 0, and --gc-grace, --upload-ticket-ttl and --upload-session-ttl must be positive")
		}
		cfg := object.Config{DSN: dsn, Domain: domain, AdminKey: adminKey, Logger: env.Logger, Etcd: env.Etcd,
			GCEvery: gcEvery, GCGrace: gcGrace, TicketTTL: ticketTTL, SessionTTL: sessionTTL, TxTimeout: env.Deadlines.SQLTx,
			MaxOpenUploads: maxOpenUploads, InlineBlobMax: inlineBlobMax, BodyMinRate: minRate, ShareLimits: &shareLimits, ShareZipLimits: zipLimits}
		if s3.Endpoint != "" {
			// Credentials come from the environment only, never from flags a process list shows.
			s3.AccessKey, s3.SecretKey = os.Getenv("SMH_S3_ACCESS_KEY"), os.Getenv("SMH_S3_SECRET_KEY")
			cfg.S3 = &s3
		} else {
			cfg.BlobDir = blobDir
		}
		libs, err := env.Dial("library")
		if err != nil {
			return err
		}
		defer libs.Close()
		tokens, err := env.Dial("authtoken")
		if err != nil {
			return err
		}
		defer tokens.Close()
		namespaces, err := env.Dial("namespace")
		if err != nil {
			return err
		}
		defer namespaces.Close()
		validator, err := authz.NewRemoteValidator(env.Ctx, tokenv1.NewTokenServiceClient(tokens), adminKey)
		if err != nil {
			return err
		}
		defer validator.Close()
		cfg.Libraries, cfg.Tokens, cfg.Namespace = libraryv1.NewLibraryServiceClient(libs), validator, namespaces
		svc, err := object.New(env.Ctx, cfg)
		if err != nil {
			return err
		}
		defer svc.Close()

		lis, err := net.Listen("tcp", dataListen)
		if err != nil {
			return fmt.Errorf("cannot listen on %s: %w", dataListen, err)
		}
		defer lis.Close() // should Run fail before the data endpoint serves
		// Listed in etcd for gateways that follow the data endpoints (--object-data-url etcd);
		// it leaves the list before the endpoint drains.
		if dataAdvertise == "" {
			dataAdvertise = defaultDataAdvertise(advertise, lis.Addr())
		}
		listed, err := discovery.Register(env.Ctx, env.Etcd, discovery.ObjectData, dataAdvertise)
		if err != nil {
			return fmt.Errorf("list the data endpoint in etcd: %w", err)
		}
		defer listed.Close()
		data := serve.HTTP("data endpoint", &http.Server{Handler: svc.DataHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(env.Logger.Handler(), slog.LevelDebug)}, lis)
		data.Leave = listed.Close
		return servicehost.Run(env.Ctx, servicehost.Options{
			Name: "object", Listen: listen, Advertise: advertise, Etcd: env.Etcd, Logger: env.Logger, Register: svc.Register,
			Probes: []readiness.Probe{svc.Probe()}, Readiness: env.Deadlines.Readiness(env.Logger),
			Servers: []serve.Server{data},
		})
	}))
}

// defaultDataAdvertise answers the data endpoint's address for others when --data-advertise is
// not given: the host other services dial for gRPC (--advertise: a pod IP, a compose service
// name) with the data endpoint's port, or else the data listener's own address.
func defaultDataAdvertise(advertise string, data net.Addr) string {
	host, _, err := net.SplitHostPort(advertise)
	_, port, portErr := net.SplitHostPort(data.String())
	if err != nil || host == "" || portErr != nil {
		return data.String()
	}
	return net.JoinHostPort(host, port)
}
