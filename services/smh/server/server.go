// Package server runs every OpenSMH service in one process on embedded defaults
// (docs/architecture.md, "Starting it"): embedded etcd in the data dir, the services wired through
// the same gRPC interfaces as in a split deployment (over an in-process connection, pkg/inproc),
// and the gateway on one HTTPS port.
package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/bodytime"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/config"
	"github.com/opensmh/opensmh/pkg/etcdx"
	"github.com/opensmh/opensmh/pkg/grpcx"
	"github.com/opensmh/opensmh/pkg/inproc"
	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/serve"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/services/authtoken"
	"github.com/opensmh/opensmh/services/gateway"
	"github.com/opensmh/opensmh/services/library"
	"github.com/opensmh/opensmh/services/namespace"
	"github.com/opensmh/opensmh/services/object"
)

// Options configure the all-in-one. Zero values take the defaults of docs/architecture.md, "Starting it".
type Options struct {
	DataDir   string // default ./data
	Listen    string // default 127.0.0.1:8443
	PublicURL string // default https://<listen>
	TLSCert   string
	TLSKey    string
	// DataURL is the download origin: a host of its own on which upload tickets, cosUrls and
	// download, preview and cover redirects name the data endpoint, and which serves nothing
	// else (docs/security.md). Empty serves the data endpoint beside the API on PublicURL.
	DataURL string
	// AdminKey is the operator key; empty = read from (or create in) the data dir.
	AdminKey string
	// EtcdEndpoints, when set, use an external etcd instead of the embedded member.
	EtcdEndpoints []string
	// SQLDSN selects the namespace store: postgres://... for PostgreSQL; default a SQLite file
	// in the data dir.
	SQLDSN string
	// SecretKEK (32 bytes) encrypts library secrets; empty = read from (or create in) the data dir.
	SecretKEK []byte
	Logger    *slog.Logger
	// Out receives the one-time notice of a generated operator key.
	Out io.Writer
	// Clock is injectable so that tests can expire tokens without sleeping.
	Clock clock.Clock
	// S3 stores file bytes in an S3-compatible store instead of the data dir.
	S3 *object.S3Config
	// GCEvery is the pause between the background cleanup runs: the object service's garbage
	// collection and the namespace's purge of deleted entries (0 = 1 min; negative disables
	// both, for tests that run Objects().CollectGarbage and Namespace().PurgeDeleted
	// themselves). GCGrace is how long unreferenced bytes are kept (0 = 1 h).
	GCEvery time.Duration
	GCGrace time.Duration
	// PurgeAfter is how long the rows of entries deleted for good (an emptied bin included) are
	// kept before the purge removes them (0 = 10 min); until then their blobs stay referenced.
	PurgeAfter time.Duration
	// UploadTicketTTL is how long an upload ticket's signature holds (0 = 1 h); an unconfirmed
	// upload may be confirmed for UploadSessionTTL after its last ticket (0 = 24 h), then the
	// cleanup job removes it and its bytes.
	UploadTicketTTL  time.Duration
	UploadSessionTTL time.Duration
	// Bounds on hostile clients. BodyReadTimeout: how long the body of an API or admin request
	// may take to arrive (0 = 30 s). UploadMinRate: the slowest an upload body may arrive at the
	// data endpoint (zero = 16 KiB per 30 s). MaxOpenUploads: unconfirmed uploads one user of a
	// library may hold (0 = 1,000; negative: no cap).
	BodyReadTimeout time.Duration
	// TrustedProxies: proxies whose X-Forwarded-For names the client address (gateway.Config).
	TrustedProxies []string
	// ShareLimits bound share visitors (namespace and object Config); nil = defaults.
	ShareLimits    *ratelimit.ShareLimits
	UploadMinRate  bodytime.Rate
	MaxOpenUploads int
	// InlineBlobMax: the largest upload kept in the object database (object.Config).
	InlineBlobMax int64
	// ArchiveLimits bound zip preview and uncompress (zero fields: docs/archives.md defaults).
	ArchiveLimits object.ArchiveLimits
	// ---- issue 13 fetch: ShareZipLimits bound a share visitor's folder download (zero
	// fields: the defaults of docs/shares.md).
	ShareZipLimits object.ShareZipLimits
	// ---- end issue 13 fetch
	// EtcdNoFsync is for tests only.
	EtcdNoFsync bool
	// DrainTimeout bounds how long a stop waits for in-flight requests; default 10 s.
	DrainTimeout time.Duration
	// Deadlines bound the calls to etcd, the SQL stores and between services, and pace the
	// stores' readiness checks; zero fields take the defaults.
	Deadlines cmdutil.Deadlines
	// TaskWorkers and TaskQueue size the namespace's pool of async directory tasks (0 = its
	// defaults).
	TaskWorkers, TaskQueue int
}

// Server is a running all-in-one.
type Server struct {
	URL       string // the public URL
	Addr      string // the address actually listened on
	AdminKey  string
	CACert    string // path of the local CA certificate ("" with an operator certificate)
	TLSConfig *tls.Config

	opts   Options
	logger *slog.Logger
	etcd   *etcdx.Embedded
	cli    *clientv3.Client
	public *grpc.Server
	conn   *inproc.Conn
	tokens *authtoken.Service
	ns     *namespace.Service
	obj    *object.Service
	http   *http.Server
	// stopServing ends the serving of the HTTPS port (pkg/serve.Run); served is closed once it
	// stopped, runErr holding what Run answered.
	stopServing context.CancelFunc
	served      chan struct{}
	runErr      error
	health      []*health.Server
	// gateway serves the REST API; Stop ends its caches' lookups.
	gateway *gateway.Gateway
	// stopProbes ends the stores' readiness checks.
	stopProbes func()
	closed     sync.Once

	// blobDir is the local blob store's directory, "" with S3.
	blobDir string
}

// Start brings everything up and answers once the port serves. On error everything started so far
// is stopped again.
func Start(ctx context.Context, o Options) (_ *Server, err error) {
	if o.DataDir == "" {
		o.DataDir = "./data"
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8443"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = serve.DefaultDrainTimeout
	}
	s := &Server{opts: o, logger: o.Logger}
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s is not writable: %w", o.DataDir, err)
	}
	// A data dir the operator made is left as it is; everything in it is private anyway.
	if fi, err := os.Stat(o.DataDir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		o.Logger.Warn("the data dir is open to other users; the files in it are not (0600, directories 0700)",
			"data_dir", o.DataDir, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	if f, err := os.CreateTemp(o.DataDir, ".probe-*"); err != nil {
		return nil, fmt.Errorf("data dir %s is not writable: %w", o.DataDir, err)
	} else {
		f.Close()
		os.Remove(f.Name())
	}
	// Listen before the slow parts, so a taken port fails fast and clearly.
	lis, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", o.Listen, err)
	}
	s.Addr = lis.Addr().String()
	s.URL = o.PublicURL
	if s.URL == "" {
		s.URL = "https://" + s.Addr
	}
	pub, err := url.Parse(s.URL)
	if err != nil || pub.Scheme != "https" || pub.Hostname() == "" {
		lis.Close()
		return nil, fmt.Errorf("--public-url %q must be an https:// URL", o.PublicURL)
	}

	// Tickets and download URLs name the download origin when there is one.
	dataHost, certHosts := pub.Host, []string{pub.Hostname()}
	data, err := gateway.ParseDataURL(o.DataURL, s.URL)
	if err != nil {
		lis.Close()
		return nil, err
	}
	if data != nil {
		dataHost, certHosts = data.Host, append(certHosts, data.Hostname())
	}

	cert, err := tlsx.LoadOrCreate(filepath.Join(o.DataDir, "tls"), o.TLSCert, o.TLSKey, certHosts)
	if err != nil {
		lis.Close()
		return nil, err
	}
	if o.TLSCert == "" {
		s.CACert = filepath.Join(o.DataDir, "tls", tlsx.CACertFile)
	}
	s.TLSConfig = tlsx.ServerConfig(cert)

	if err := s.loadKeys(); err != nil {
		lis.Close()
		return nil, err
	}
	if err := s.startEtcd(ctx); err != nil {
		lis.Close()
		return nil, err
	}
	if err := s.startServices(ctx, dataHost); err != nil {
		lis.Close()
		return nil, err
	}
	gw, err := gateway.New(ctx, gateway.Config{Library: s.conn, Token: s.conn, Namespace: s.conn, Object: s.conn,
		Data: s.obj.DataHandler(), AdminKey: s.AdminKey, Logger: s.logger, GRPC: s.public, PublicURL: s.URL, DataURL: o.DataURL,
		Tokens: s.tokens.Validator(), BodyReadTimeout: o.BodyReadTimeout, TrustedProxies: o.TrustedProxies})
	if err != nil {
		lis.Close()
		return nil, err
	}
	s.gateway = gw
	s.http = &http.Server{
		Handler:           gw,
		TLSConfig:         s.TLSConfig,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	https := serve.HTTP("https server", s.http, tls.NewListener(lis, s.TLSConfig))
	https.Leave = func() {
		for _, hs := range s.health {
			hs.Shutdown()
		}
	}
	// Served until Stop, not until ctx ends: ctx bounds the start.
	untilStop, stopServing := context.WithCancel(context.Background())
	s.stopServing, s.served = stopServing, make(chan struct{})
	go func() {
		s.runErr = serve.Run(untilStop, serve.Options{DrainTimeout: o.DrainTimeout, Logger: s.logger}, https)
		close(s.served)
	}()
	serving := []any{"url", s.URL, "listen", s.Addr, "data_dir", o.DataDir}
	if s.CACert != "" {
		serving = append(serving, "ca_cert", s.CACert) // what clients must trust
	}
	s.logger.Info("opensmh serving", serving...)
	return s, nil
}

func (s *Server) loadKeys() error {
	s.AdminKey = s.opts.AdminKey
	if s.AdminKey == "" {
		key, created, err := loadOrCreateSecret(s.opts.DataDir, "admin.key", 32)
		if err != nil {
			return fmt.Errorf("operator key: %w", err)
		}
		s.AdminKey = key
		if created {
			// Shown once, on the terminal of the operator who started the server; never logged.
			fmt.Fprintf(s.opts.Out, "Generated operator key (stored in %s):\n%s\n",
				filepath.Join(s.opts.DataDir, "admin.key"), key)
		}
	}
	if len(s.opts.SecretKEK) == 0 {
		v, _, err := loadOrCreateSecret(s.opts.DataDir, "secret.kek", 32)
		if err != nil {
			return fmt.Errorf("secret key: %w", err)
		}
		kek, err := config.DecodeKEK(v)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(s.opts.DataDir, "secret.kek"), err)
		}
		s.opts.SecretKEK = kek
	}
	return nil
}

func (s *Server) startEtcd(ctx context.Context) error {
	endpoints := s.opts.EtcdEndpoints
	if len(endpoints) == 0 {
		e, err := etcdx.StartEmbedded(ctx, etcdx.EmbeddedOptions{Dir: filepath.Join(s.opts.DataDir, "etcd"), NoFsync: s.opts.EtcdNoFsync, Logger: s.logger})
		if err != nil {
			return err
		}
		s.etcd = e
		endpoints = []string{e.Endpoint}
	}
	cli, err := etcdx.Connect(ctx, endpoints, s.opts.Deadlines.Etcd, s.logger)
	if err != nil {
		return err
	}
	s.cli = cli
	return nil
}

// startServices hosts library and authtoken on an in-process connection (what the gateway and
// the services call each other through) and on the public gRPC server (what gRPC callers on the
// HTTPS port reach). Both run the same interceptors in front of the same handlers.
func (s *Server) startServices(ctx context.Context, domain string) error {
	// The in-process connection has no client interceptors: the default deadlines of the calls
	// between services are given first thing on the callee's side, as a network client would.
	conn := inproc.New(append([]grpc.UnaryServerInterceptor{grpcx.DefaultDeadlines(s.opts.Deadlines.GRPC())},
		grpcx.UnaryInterceptors(s.logger)...)...)
	conn.UseStreamInterceptors(grpcx.StreamInterceptors(s.logger)...)
	s.conn = conn

	libs, err := library.New(library.Config{
		Etcd:      s.cli,
		AdminKey:  s.AdminKey,
		SecretKEK: s.opts.SecretKEK,
		PublicURL: s.URL,
		Purgers: []library.Purger{
			library.TokenPurger(tokenv1.NewTokenServiceClient(conn), s.AdminKey),
			library.NamespacePurger(namespacev1.NewNamespaceServiceClient(conn), s.AdminKey),
		},
		Tokens: library.TokenRevokerFromClient(tokenv1.NewTokenServiceClient(conn), s.AdminKey),
		Usage:  library.NamespaceUsage(namespacev1.NewNamespaceServiceClient(conn), s.AdminKey),
		Clock:  s.opts.Clock,
	})
	if err != nil {
		return err
	}
	tokens, err := authtoken.New(ctx, authtoken.Config{
		Etcd:      s.cli,
		Libraries: libraryv1.NewLibraryServiceClient(conn),
		AdminKey:  s.AdminKey,
		Clock:     s.opts.Clock,
		Logger:    s.logger,
	})
	if err != nil {
		return err
	}
	s.tokens = tokens
	dsn := s.opts.SQLDSN
	if dsn == "" {
		dsn = filepath.Join(s.opts.DataDir, "namespace.db")
	}
	ns, err := namespace.New(ctx, namespace.Config{
		DSN:       dsn,
		Libraries: libraryv1.NewLibraryServiceClient(conn),
		Tokens:    tokens.Validator(),
		AdminKey:  s.AdminKey,
		Clock:     s.opts.Clock,
		Etcd:      s.cli,
		Logger:    s.logger,
		// The background jobs of tests are run by the tests themselves.
		PurgeEvery:  s.opts.GCEvery,
		PurgeAfter:  s.opts.PurgeAfter,
		TxTimeout:   s.opts.Deadlines.SQLTx,
		TaskWorkers: s.opts.TaskWorkers,
		TaskQueue:   s.opts.TaskQueue,
		// issue 13 shares: links name the public URL; share tokens come from authtoken.
		PublicURL:    s.URL,
		TokenService: tokenv1.NewTokenServiceClient(conn),
		ShareLimits:  s.opts.ShareLimits,
	})
	if err != nil {
		return err
	}
	s.ns = ns
	objectDSN := s.opts.SQLDSN
	if objectDSN == "" {
		objectDSN = filepath.Join(s.opts.DataDir, "object.db")
	}
	blobDir := ""
	if s.opts.S3 == nil {
		blobDir = filepath.Join(s.opts.DataDir, "blobs")
	}
	s.blobDir = blobDir
	obj, err := object.New(ctx, object.Config{
		DSN:         objectDSN,
		BlobDir:     blobDir,
		S3:          s.opts.S3,
		Domain:      domain,
		Libraries:   libraryv1.NewLibraryServiceClient(conn),
		Tokens:      tokens.Validator(),
		Namespace:   conn,
		AdminKey:    s.AdminKey,
		Clock:       s.opts.Clock,
		Logger:      s.logger,
		Etcd:        s.cli,
		GCEvery:     s.opts.GCEvery,
		GCGrace:     s.opts.GCGrace,
		TicketTTL:   s.opts.UploadTicketTTL,
		SessionTTL:  s.opts.UploadSessionTTL,
		ShareLimits: s.opts.ShareLimits,
		TxTimeout:   s.opts.Deadlines.SQLTx,

		MaxOpenUploads: s.opts.MaxOpenUploads,
		InlineBlobMax:  s.opts.InlineBlobMax,
		BodyMinRate:    s.opts.UploadMinRate,
		ArchiveLimits:  s.opts.ArchiveLimits,
		ShareZipLimits: s.opts.ShareZipLimits, // issue 13 fetch
	})
	if err != nil {
		return err
	}
	s.obj = obj

	// The public server overwrites the client address from the peer (grpcx.PublicEdgeOptions).
	s.public = grpc.NewServer(append(grpcx.ServerOptions(s.logger), grpcx.PublicEdgeOptions()...)...)
	for _, r := range []grpc.ServiceRegistrar{conn, s.public} {
		libs.Register(r)
		tokens.Register(r)
		ns.Register(r)
		obj.Register(r)
		hs := health.NewServer()
		healthpb.RegisterHealthServer(r, hs)
		s.health = append(s.health, hs)
	}
	reflection.Register(s.public)
	s.stopProbes = readiness.Start([]readiness.Probe{libs.Probe(), tokens.Probe(), ns.Probe(), obj.Probe()},
		s.opts.Deadlines.Readiness(s.logger), s.health...)
	return nil
}

// EtcdEndpoint answers the embedded member's client URL ("" with an external etcd), so that the
// benchmark can measure raw etcd on the same member.
func (s *Server) EtcdEndpoint() string {
	if s.etcd == nil {
		return ""
	}
	return s.etcd.Endpoint
}

// Namespace exposes the namespace service (its purge job, for tests).
func (s *Server) Namespace() *namespace.Service { return s.ns }

// Objects exposes the object service (its cleanup job, for tests).
func (s *Server) Objects() *object.Service { return s.obj }

// BlobDir answers the directory of the local blob store, "" when file bytes are kept in S3
// (tests look there for what garbage collection left).
func (s *Server) BlobDir() string { return s.blobDir }

// Tokens exposes the token service for in-process measurements (the benchmark's validations).
func (s *Server) Tokens() *authtoken.Service { return s.tokens }

// Wait blocks until the HTTPS server fails or ctx ends; then it stops everything.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-s.served:
	}
	return s.Stop()
}

// Stop stops accepting, finishes in-flight requests within the drain timeout (pkg/serve.Run),
// and shuts down the services and etcd. It answers the HTTPS server's failure, if it failed.
func (s *Server) Stop() error {
	if s.stopServing != nil {
		s.stopServing()
		<-s.served
	}
	s.close()
	return s.runErr
}

func (s *Server) close() { s.closed.Do(s.closeOnce) }

func (s *Server) closeOnce() {
	if s.stopProbes != nil {
		s.stopProbes()
	}
	if s.public != nil {
		s.public.Stop()
	}
	if s.gateway != nil {
		s.gateway.Stop() // its caches' lookups in flight; the gRPC server is ours, stopped above
	}
	if s.tokens != nil {
		_ = s.tokens.Close()
	}
	if s.obj != nil {
		_ = s.obj.Close()
	}
	if s.ns != nil {
		_ = s.ns.Close()
	}
	if s.cli != nil {
		s.cli.Close()
	}
	if s.etcd != nil {
		s.etcd.Close()
	}
}
