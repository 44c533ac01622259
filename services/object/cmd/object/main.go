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

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/serve"
	"github.com/opensmh/opensmh/pkg/servicehost"
	"github.com/opensmh/opensmh/services/object"
)

func main() {
	var common cmdutil.Common
	var flags object.Flags
	fs := cmdutil.FlagSet("object", &common, &flags)
	os.Exit(cmdutil.Main("object", fs, &common, os.Args[1:], func(env cmdutil.Env) error {
		adminKey, err := cmdutil.RequireEnv("SMH_ADMIN_KEY")
		if err != nil {
			return err
		}
		if flags.Domain == "" {
			return errors.New("--domain (SMH_DOMAIN) is required: the host[:port] clients send bytes to")
		}
		set := flags.Settings
		if set.BodyMinRate.Bytes <= 0 || set.BodyMinRate.Window <= 0 {
			return errors.New("--upload-min-bytes and --upload-min-window must be positive")
		}
		if set.GCEvery == 0 || set.GCGrace <= 0 || set.TicketTTL <= 0 || set.SessionTTL <= 0 {
			return errors.New("--gc-every must not be 0, and --gc-grace, --upload-ticket-ttl and --upload-session-ttl must be positive")
		}
		cfg := object.Config{DSN: flags.DSN, Domain: flags.Domain, AdminKey: adminKey, Logger: env.Logger, Etcd: env.Etcd,
			GCEvery: set.GCEvery, GCGrace: set.GCGrace, TicketTTL: set.TicketTTL, SessionTTL: set.SessionTTL, TxTimeout: env.Deadlines.SQLTx,
			MaxOpenUploads: set.MaxOpenUploads, InlineBlobMax: set.InlineBlobMax, BodyMinRate: set.BodyMinRate, ShareLimits: &flags.ShareLimits, ShareZipLimits: set.ShareZipLimits}
		if set.S3.Endpoint != "" {
			// Credentials come from the environment only, never from flags a process list shows.
			set.S3.AccessKey, set.S3.SecretKey = os.Getenv("SMH_S3_ACCESS_KEY"), os.Getenv("SMH_S3_SECRET_KEY")
			cfg.S3 = &set.S3
		} else {
			cfg.BlobDir = flags.BlobDir
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

		lis, err := net.Listen("tcp", flags.DataListen)
		if err != nil {
			return fmt.Errorf("cannot listen on %s: %w", flags.DataListen, err)
		}
		defer lis.Close() // should Run fail before the data endpoint serves
		// Listed in etcd for gateways that follow the data endpoints (--object-data-url etcd);
		// it leaves the list before the endpoint drains.
		dataAdvertise := flags.DataAdvertise
		if dataAdvertise == "" {
			dataAdvertise = defaultDataAdvertise(flags.Advertise, lis.Addr())
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
			Name: "object", Listen: flags.Listen, Advertise: flags.Advertise, Etcd: env.Etcd, Logger: env.Logger, Register: svc.Register,
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
