package object

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/bodytime"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/dataroute"
	"github.com/opensmh/opensmh/pkg/jobs"
	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/object/internal/app"
	"github.com/opensmh/opensmh/services/object/internal/archive"
	"github.com/opensmh/opensmh/services/object/internal/blob"
	"github.com/opensmh/opensmh/services/object/internal/dataplane"
	"github.com/opensmh/opensmh/services/object/internal/media"
	"github.com/opensmh/opensmh/services/object/internal/store"
	"github.com/opensmh/opensmh/services/object/internal/transport"
)

// S3Config names an S3-compatible store (endpoint, bucket, credentials).
type S3Config = blob.S3Config

// GCReport counts what one cleanup run removed.
type GCReport = app.GCReport

// Config wires the service.
type Config struct {
	// DSN selects the SQL engine of the upload and blob records: postgres://... or a SQLite file.
	DSN string
	// BlobDir stores blobs in a local directory (the embedded default) unless S3 is set.
	BlobDir string
	S3      *S3Config
	// Domain is the host[:port] that upload tickets and download URLs name: the public HTTPS
	// address where the data endpoint is reachable (decision 11).
	Domain string
	// Libraries answers library facts; Tokens validates access tokens.
	Libraries libraryv1.LibraryServiceClient
	Tokens    authz.TokenValidator
	// Namespace is the connection to the namespace service.
	Namespace grpc.ClientConnInterface
	// AdminKey authenticates internal calls and seeds the signing key of tickets and URLs, which
	// every replica must share.
	AdminKey string
	Clock    clock.Clock
	Logger   *slog.Logger
	// Etcd, when set, elects the one replica that runs garbage collection; without it this
	// process runs it (a single all-in-one).
	Etcd *clientv3.Client
	// GCEvery is the pause between cleanup runs (default 1 min); negative disables the job
	// (tests run CollectGarbage themselves).
	GCEvery time.Duration
	// GCGrace is how long unreferenced bytes are kept after their last use (default 1 h).
	GCGrace time.Duration
	// TicketTTL is how long upload tickets hold (default 1 h); an unconfirmed upload may still be
	// confirmed for SessionTTL after its last ticket (default 24 h), then cleanup removes it.
	TicketTTL  time.Duration
	SessionTTL time.Duration
	// MaxOpenUploads caps one user's unconfirmed uploads in a library (default 1,000; negative:
	// no cap); a begin beyond it answers 429 RateLimitExceeded.
	MaxOpenUploads int
	// InlineBlobMax is the largest upload kept in its blob's record in the object database
	// instead of the blob store (0 = 64 KiB, negative: none; docs/smallfiles.md).
	InlineBlobMax int64
	// BodyMinRate is the slowest a client may send upload bytes to the data endpoint: at least
	// BodyMinRate.Bytes in every BodyMinRate.Window (default 16 KiB per 30 s).
	BodyMinRate bodytime.Rate
	// TxTimeout bounds each store transaction (0 = sqldb.DefaultTxTimeout): a database that
	// stops answering fails requests with 503 instead of holding them.
	TxTimeout time.Duration
	// ArchiveLimits bound what one archive may make zip preview and uncompress do (zero fields:
	// the defaults of docs/archives.md).
	ArchiveLimits ArchiveLimits
	// ShareLimits bound share visitors per client address and per share (issue 13,
	// docs/shares.md); nil = ratelimit.DefaultShareLimits. The object service applies Visits
	// to preview, download and zip per (share, client address).
	ShareLimits *ratelimit.ShareLimits
	// ShareZipLimits bound one folder download of a share visitor (zero fields: the defaults
	// of docs/shares.md).
	ShareZipLimits ShareZipLimits
}

// ShareZipLimits bound a share visitor's folder download (docs/shares.md).
type ShareZipLimits = app.ZipLimits

// Defaults of ShareZipLimits, for the flags of the binaries.
const (
	DefaultShareZipMaxEntries = app.DefaultZipMaxEntries
	DefaultShareZipMaxBytes   = app.DefaultZipMaxBytes
)

// ArchiveLimits bound archive reading (docs/archives.md).
type ArchiveLimits = archive.Limits

// Defaults of the bounds on hostile clients, for the flags of the binaries: the cap on one
// user's unconfirmed uploads and the slowest an upload body may arrive.
const (
	DefaultMaxOpenUploads  = app.DefaultMaxOpenUploads
	DefaultInlineBlobMax   = app.DefaultInlineBlobMax
	DefaultUploadMinBytes  = dataplane.DefaultMinBytes
	DefaultUploadMinWindow = dataplane.DefaultMinWindow
)

// Service is a running object service.
type Service struct {
	store  *store.SQL
	obj    *app.Object
	server *transport.Server
	data   *dataplane.Handler

	stopGC func()
}

// New opens the stores (applying migrations) and builds the service; the cleanup job starts
// unless disabled.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Libraries == nil || cfg.Tokens == nil || cfg.Namespace == nil || cfg.AdminKey == "" || cfg.Domain == "" {
		return nil, errors.New("object: library client, token validator, namespace connection, operator key and domain are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var blobs blob.Store
	switch {
	case cfg.S3 != nil:
		s3, err := blob.NewS3(ctx, *cfg.S3)
		if err != nil {
			return nil, err
		}
		blobs = blob.Observed("s3", s3)
	case cfg.BlobDir != "":
		local, err := blob.NewLocal(cfg.BlobDir)
		if err != nil {
			return nil, err
		}
		blobs = blob.Observed("local", local)
	default:
		return nil, errors.New("object: a blob directory or an S3 store is required")
	}
	db, err := store.Open(ctx, cfg.DSN, cfg.TxTimeout)
	if err != nil {
		return nil, err
	}
	obj := app.New(app.Config{
		Store: db,
		Blobs: blobs,
		Namespace: namespaceClient{
			client: namespacev1.NewNamespaceServiceClient(cfg.Namespace), recycle: namespacev1.NewRecycleServiceClient(cfg.Namespace),
			favorites: namespacev1.NewFavoriteServiceClient(cfg.Namespace),
			adminKey:  cfg.AdminKey,
		},
		Auth:       authz.New(cfg.Tokens, authz.LibrarySecrets(cfg.Libraries, cfg.AdminKey)),
		Signer:     app.NewSigner(cfg.AdminKey),
		Clock:      cfg.Clock,
		Domain:     cfg.Domain,
		TicketTTL:  cfg.TicketTTL,
		SessionTTL: cfg.SessionTTL,
		GCGrace:    cfg.GCGrace,
		FFmpeg:     media.FindFFmpeg(),

		MaxOpenUploads: cfg.MaxOpenUploads,
		InlineBlobMax:  cfg.InlineBlobMax,
		Archives:       archiveTasks{client: namespacev1.NewArchiveTaskServiceClient(cfg.Namespace), adminKey: cfg.AdminKey},
		ArchiveLimits:  cfg.ArchiveLimits,
		// issue 13 fetch: a share visitor's bytes.
		Shares:    shareResolver{client: namespacev1.NewShareResolverServiceClient(cfg.Namespace), adminKey: cfg.AdminKey},
		Visitors:  ratelimit.NewShareVisitors(cfg.ShareLimits.OrDefault(), ratelimit.WithClock(clockOrReal(cfg.Clock))),
		ZipLimits: cfg.ShareZipLimits,
	})
	s := &Service{store: db, obj: obj, server: transport.New(obj), data: dataplane.New(obj, cfg.Logger, cfg.BodyMinRate), stopGC: func() {}}
	if cfg.GCEvery >= 0 {
		every := cfg.GCEvery
		if every == 0 {
			every = time.Minute
		}
		job := jobs.Job{Election: gcElection, Every: every, Log: cfg.Logger, Round: func(ctx context.Context) {
			collect(ctx, obj, cfg.Logger)
		}}
		s.stopGC = job.Start(context.WithoutCancel(ctx), cfg.Etcd)
	}
	return s, nil
}

// gcElection is the etcd election of the cleanup job (one runner across replicas).
const gcElection = "/smh/object/jobs/collect-garbage"

func collect(ctx context.Context, obj *app.Object, log *slog.Logger) {
	start := time.Now()
	r, err := obj.CollectGarbage(ctx)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil && ctx.Err() == nil {
		log.Warn("object cleanup failed", "report", r, "took", took, "err", err)
		return
	}
	if r != (app.GCReport{}) {
		log.Info("object cleanup", "expired_uploads", r.ExpiredUploads, "blobs", r.Blobs,
			"orphan_blobs", r.OrphanBlobs, "orphan_parts", r.OrphanParts, "temp_files", r.TempFiles, "took", took)
	}
}

// Register adds smh.object.v1.ObjectService to r.
func (s *Service) Register(r grpc.ServiceRegistrar) { s.server.Register(r) }

// DataHandler serves the data endpoint (decision 11): mount it where IsDataRequest says.
func (s *Service) DataHandler() http.Handler { return s.data }

// IsDataRequest reports whether r belongs to the data endpoint.
func IsDataRequest(r *http.Request) bool { return dataroute.Is(r) }

// CollectGarbage runs the cleanup job once (tests and operators).
func (s *Service) CollectGarbage(ctx context.Context) (GCReport, error) {
	return s.obj.CollectGarbage(ctx)
}

// Close stops the cleanup job and closes the store.
// Probe is the readiness check of the service's store (pkg/readiness).
func (s *Service) Probe() readiness.Probe {
	return readiness.Probe{Service: objectv1.ObjectService_ServiceDesc.ServiceName, Ping: s.store.Ping}
}

func (s *Service) Close() error {
	s.stopGC()
	s.obj.Close() // running uncompress tasks record that they were interrupted
	return s.store.Close()
}

// namespaceClient calls the namespace with the operator key: every method it calls is internal.
// The end user's credentials travel along on the calls the namespace also authorizes as the
// user's (CheckUpload, ResolveFile, ResolveAlbumCover, ResolveRecycledFile, RecordRecentFile,
// FavoriteStatus).
type namespaceClient struct {
	client  namespacev1.NamespaceServiceClient
	recycle namespacev1.RecycleServiceClient
	// favorites: recent files and isFavorite (issue 12 item 4).
	favorites namespacev1.FavoriteServiceClient
	adminKey  string
}

var _ app.Namespace = namespaceClient{}

// forwarded are the request metadata keys that carry the caller's identity.
var forwarded = []string{reqmeta.AccessToken, reqmeta.LibrarySecret, reqmeta.ActingUser, reqmeta.RequestID}

func forward(ctx context.Context) context.Context {
	var pairs []string
	for _, k := range forwarded {
		for _, v := range metadata.ValueFromIncomingContext(ctx, k) {
			pairs = append(pairs, k, v)
		}
	}
	return metadata.AppendToOutgoingContext(ctx, pairs...)
}

// forwardAsService is forward with the operator key: the namespace answers these internal calls
// to the object service only, and still judges the end user by the forwarded credentials.
func (n namespaceClient) forwardAsService(ctx context.Context) context.Context {
	return forward(adminauth.Outgoing(ctx, n.adminKey))
}

func (n namespaceClient) CheckUpload(ctx context.Context, in *namespacev1.CheckUploadRequest) (*namespacev1.CheckUploadResponse, error) {
	return n.client.CheckUpload(n.forwardAsService(ctx), in)
}

func (n namespaceClient) CommitFile(ctx context.Context, in *namespacev1.CommitFileRequest) (*namespacev1.StoredFile, error) {
	resp, err := n.client.CommitFile(adminauth.Outgoing(ctx, n.adminKey), in)
	return resp.GetFile(), err
}

func (n namespaceClient) ResolveFile(ctx context.Context, in *namespacev1.ResolveFileRequest) (*namespacev1.StoredFile, error) {
	resp, err := n.client.ResolveFile(n.forwardAsService(ctx), in)
	return resp.GetFile(), err
}

func (n namespaceClient) ResolveAlbumCover(ctx context.Context, in *namespacev1.ResolveAlbumCoverRequest) (*namespacev1.StoredFile, error) {
	resp, err := n.client.ResolveAlbumCover(n.forwardAsService(ctx), in)
	return resp.GetFile(), err
}

func (n namespaceClient) ResolveRecycledFile(ctx context.Context, in *namespacev1.ResolveRecycledFileRequest) (*namespacev1.StoredFile, error) {
	resp, err := n.recycle.ResolveRecycledFile(n.forwardAsService(ctx), in)
	return resp.GetFile(), err
}

func (n namespaceClient) RecordRecentFile(ctx context.Context, in *namespacev1.RecordRecentFileRequest) error {
	_, err := n.favorites.RecordRecentFile(n.forwardAsService(ctx), in)
	return err
}

func (n namespaceClient) FavoriteStatus(ctx context.Context, in *namespacev1.GetFavoriteStatusRequest) (map[int64]bool, error) {
	resp, err := n.favorites.GetFavoriteStatus(n.forwardAsService(ctx), in)
	if err != nil {
		return nil, err
	}
	marks := make(map[int64]bool, len(resp.GetFavorited()))
	for _, in := range resp.GetFavorited() {
		marks[in] = true
	}
	return marks, nil
}

func (n namespaceClient) ReferencedBlobs(ctx context.Context, ids []string) (map[string]bool, error) {
	resp, err := n.client.ReferencedBlobs(adminauth.Outgoing(ctx, n.adminKey), &namespacev1.ReferencedBlobsRequest{BlobIds: ids})
	if err != nil {
		return nil, err
	}
	refs := make(map[string]bool, len(resp.GetReferenced()))
	for _, id := range resp.GetReferenced() {
		refs[id] = true
	}
	return refs, nil
}

// archiveTasks calls the namespace's ArchiveTaskService (3.17, docs/archives.md) with the
// operator key; OpenArchive and BeginUncompressTask forward the end user's credentials too.
type archiveTasks struct {
	client   namespacev1.ArchiveTaskServiceClient
	adminKey string
}

var _ app.ArchiveTasks = archiveTasks{}

func (a archiveTasks) OpenArchive(ctx context.Context, in *namespacev1.OpenArchiveRequest) (*namespacev1.OpenArchiveResponse, error) {
	return a.client.OpenArchive(forward(adminauth.Outgoing(ctx, a.adminKey)), in)
}

func (a archiveTasks) BeginUncompressTask(ctx context.Context, in *namespacev1.BeginUncompressTaskRequest) (*namespacev1.BeginUncompressTaskResponse, error) {
	return a.client.BeginUncompressTask(forward(adminauth.Outgoing(ctx, a.adminKey)), in)
}

func (a archiveTasks) BeatUncompressTasks(ctx context.Context, runner string) error {
	_, err := a.client.BeatUncompressTasks(adminauth.Outgoing(ctx, a.adminKey), &namespacev1.BeatUncompressTasksRequest{Runner: runner})
	return err
}

func (a archiveTasks) FinishUncompressTask(ctx context.Context, in *namespacev1.FinishUncompressTaskRequest) error {
	_, err := a.client.FinishUncompressTask(adminauth.Outgoing(ctx, a.adminKey), in)
	return err
}

func (a archiveTasks) EnsureDirectory(ctx context.Context, in *namespacev1.EnsureDirectoryRequest) error {
	_, err := a.client.EnsureDirectory(adminauth.Outgoing(ctx, a.adminKey), in)
	return err
}

// shareResolver calls the namespace's ShareResolverService (issue 13 fetch) with the operator
// key and the visitor's forwarded share access token. The zip stream's re-check
// (signed_by_object) forwards nothing: no visitor token travels on the data endpoint.
type shareResolver struct {
	client   namespacev1.ShareResolverServiceClient
	adminKey string
}

var _ app.ShareResolver = shareResolver{}

func (s shareResolver) ResolveSharedFile(ctx context.Context, in *namespacev1.ResolveSharedFileRequest) (*namespacev1.ResolveSharedFileResponse, error) {
	return s.client.ResolveSharedFile(forward(adminauth.Outgoing(ctx, s.adminKey)), in)
}

func (s shareResolver) ListSharedTree(ctx context.Context, in *namespacev1.ListSharedTreeRequest) (*namespacev1.ListSharedTreeResponse, error) {
	out := adminauth.Outgoing(ctx, s.adminKey)
	if !in.GetSignedByObject() {
		out = forward(out)
	}
	return s.client.ListSharedTree(out, in)
}

// clockOrReal answers c, or the wall clock when c is nil.
func clockOrReal(c clock.Clock) clock.Clock {
	if c == nil {
		return clock.Real{}
	}
	return c
}
