// Package namespace is the namespace service (docs/architecture.md, "Services"): tenant spaces and the
// tree of directories, albums and files, on a SQL store (SQLite in the data dir, or PostgreSQL).
package namespace

import (
	"context"
	"errors"
	"log/slog"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/jobs"
	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/internal/store"
	"github.com/opensmh/opensmh/services/namespace/internal/transport"
)

// Config wires the service.
type Config struct {
	// DSN selects the SQL engine: postgres://... for PostgreSQL, otherwise a SQLite file path.
	DSN string
	// Libraries answers library facts (tenancy, public read).
	Libraries libraryv1.LibraryServiceClient
	// Tokens validates access tokens: in process in the all-in-one, through authtoken otherwise.
	Tokens   authz.TokenValidator
	AdminKey string
	Clock    clock.Clock
	// Etcd elects the one replica that purges deleted entries; without it this process purges
	// (a single all-in-one).
	Etcd *clientv3.Client
	// Logger receives the purge job's outcome.
	Logger *slog.Logger
	// PurgeEvery is the pause between rounds of the cleanup job (0 = 1 min; negative disables the
	// job: tests call PurgeDeleted). PurgeAfter is how long entries deleted for good are kept
	// before their rows go (0 = 10 min): until then their blobs stay referenced. Recycle-bin
	// items stay until they expire or are purged (docs/lifecycle.md).
	PurgeEvery time.Duration
	PurgeAfter time.Duration
	// AsyncTreeThreshold is decision 7's entry count above which a directory copy or delete
	// answers 202 with a task; 0 = 1,000. Tests lower it.
	AsyncTreeThreshold int
	// AsyncBatchThreshold is decision 7's item count above which a batch restore, copy, move or
	// delete answers 202 with a task; 0 = 100. Tests lower it.
	AsyncBatchThreshold int
	// TaskHeartbeat is how often a replica refreshes the heartbeat of the async tasks it runs (0 =
	// 5 s); a running task without a beat for a few of these reads as interrupted. Tests shorten it.
	TaskHeartbeat time.Duration
	// TaskWorkers and TaskQueue size the pool that runs async directory tasks (0 =
	// DefaultTaskWorkers and DefaultTaskQueue); a task beyond both answers 503.
	TaskWorkers, TaskQueue int
	// SearchGroups caps each group list of search-fs-stats (8.3; 0 = 2,000); tests lower it.
	SearchGroups int
	// TxTimeout bounds each store transaction (0 = sqldb.DefaultTxTimeout): a database that
	// stops answering fails requests with 503 instead of holding them.
	TxTimeout time.Duration
	// DeltaRetention is how long the change feed keeps its events (3.18; 0 = 180 days): a
	// cursor whose next events are older answers CursorExpired.
	DeltaRetention time.Duration
	// ---- issue 13 shares
	// PublicURL is the base clients reach (the gateway's --public-url; the all-in-one passes its
	// own): share links are <PublicURL>/s/<code> and shareDomain its host (docs/shares.md).
	PublicURL string
	// TokenService mints share access tokens (MintShareToken, operator key); nil refuses 13.9.
	TokenService tokenv1.TokenServiceClient
	// ---- end issue 13 shares
	// ShareLimits bound share visitors per client address and per share (issue 13,
	// docs/shares.md); nil = ratelimit.DefaultShareLimits.
	ShareLimits *ratelimit.ShareLimits
}

// Defaults of Config.TaskWorkers and Config.TaskQueue.
const (
	DefaultTaskWorkers = app.DefaultTaskWorkers
	DefaultTaskQueue   = app.DefaultTaskQueue
)

// Service is a running namespace service.
type Service struct {
	store      *store.SQL
	ns         *app.Namespace
	server     *transport.Server
	clock      clock.Clock
	purgeAfter time.Duration
	// deltaRetention: see Config.DeltaRetention.
	deltaRetention time.Duration

	stopPurge func()
}

// New opens the store (applying migrations) and builds the service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Libraries == nil || cfg.Tokens == nil || cfg.AdminKey == "" {
		return nil, errors.New("namespace: library client, token validator and operator key are required")
	}
	db, err := store.Open(ctx, cfg.DSN, cfg.TxTimeout)
	if err != nil {
		return nil, err
	}
	libs := libraryFacts{client: cfg.Libraries, adminKey: cfg.AdminKey}
	ns := app.New(app.Config{
		Store:     db,
		Libraries: libs,
		// 9.2 writes the history switches through the library service, as the operator.
		LibrarySettings: libs,
		Auth:            authz.New(cfg.Tokens, authz.LibrarySecrets(cfg.Libraries, cfg.AdminKey)),
		Clock:           cfg.Clock,

		AsyncTreeThreshold:  int64(cfg.AsyncTreeThreshold),
		AsyncBatchThreshold: cfg.AsyncBatchThreshold,
		DeltaRetention:      cfg.DeltaRetention,
		TaskHeartbeat:       cfg.TaskHeartbeat,
		TaskWorkers:         cfg.TaskWorkers,
		TaskQueue:           cfg.TaskQueue,
		SearchGroups:        cfg.SearchGroups,
		Shares:              shareSettings(cfg), // issue 13 shares
	})
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PurgeAfter <= 0 {
		cfg.PurgeAfter = 10 * time.Minute
	}
	if cfg.DeltaRetention <= 0 {
		cfg.DeltaRetention = app.DefaultDeltaRetention
	}
	s := &Service{store: db, ns: ns, server: transport.New(ns, adminauth.NewChecker(cfg.AdminKey)),
		clock: cfg.Clock, purgeAfter: cfg.PurgeAfter, deltaRetention: cfg.DeltaRetention, stopPurge: func() {}}
	if cfg.PurgeEvery >= 0 {
		every := cfg.PurgeEvery
		if every == 0 {
			every = time.Minute
		}
		job := jobs.Job{Election: purgeElection, Every: every, Log: cfg.Logger, Round: func(ctx context.Context) {
			if n, err := s.PurgeDeleted(ctx); err != nil && ctx.Err() == nil {
				cfg.Logger.Warn("namespace purge failed", "purged", n, "err", err)
			} else if n > 0 {
				cfg.Logger.Info("namespace purge", "purged", n)
			}
		}}
		s.stopPurge = job.Start(context.WithoutCancel(ctx), cfg.Etcd)
	}
	return s, nil
}

// purgeElection is the etcd election of the purge job (one runner across replicas).
const purgeElection = "/smh/namespace/jobs/purge-deleted"

// PurgeDeleted is one round of the cleanup job (docs/lifecycle.md): it purges the recycle-bin
// items past their expiry (they join the entries deleted for good) and what quotas with
// removeWhenExceed must give back, then removes the rows of
// entries deleted for good longer than PurgeAfter ago, deepest first, so the blobs only they
// referenced become garbage for the object service; it forgets upload commits older than
// commitMemory and async tasks (of spaces and of libraries) that ended more than taskMemory
// ago, and removes history versions past their expiry. It answers how many rows of deleted
// entries went.
func (s *Service) PurgeDeleted(ctx context.Context) (int64, error) {
	now := s.clock.Now()
	steps := []struct {
		batch func() (int64, error)
		// entries marks the step whose count PurgeDeleted answers.
		entries bool
	}{
		{batch: func() (int64, error) { return s.store.ExpireRecycled(ctx, now, purgeBatch) }},
		// Quotas with removeWhenExceed over their capacity long enough give back what they must
		// (their removed entries join the ones drained next).
		{batch: func() (int64, error) { return s.store.EnforceQuotaRemovals(ctx, now, purgeBatch) }},
		{batch: func() (int64, error) { return s.store.DrainPurges(ctx, now.Add(-s.purgeAfter), purgeBatch) }, entries: true},
		{batch: func() (int64, error) { return s.store.PruneCommits(ctx, now.Add(-commitMemory), purgeBatch) }},
		{batch: func() (int64, error) { return s.store.PurgeTasks(ctx, now.Add(-taskMemory), purgeBatch) }},
		{batch: func() (int64, error) { return s.store.PurgeLibraryTasks(ctx, now.Add(-taskMemory), purgeBatch) }},
		// Legacy search ids past their life (docs/search.md).
		{batch: func() (int64, error) { return s.store.PurgeSearches(ctx, now, purgeBatch) }},
		// History versions past fileHistoryExpireDay (decision 19); their blobs become garbage
		// for the object service once nothing else names them.
		{batch: func() (int64, error) { return s.store.ExpireVersions(ctx, now, purgeBatch) }},
		// Change-feed events past the retention window (3.18, docs/changefeed.md).
		{batch: func() (int64, error) { return s.store.PruneDelta(ctx, now.Add(-s.deltaRetention), purgeBatch) }},
	}
	var entries, rows int64
	for _, step := range steps {
		n, err := drainBatches(step.batch)
		rows += n
		if step.entries {
			entries = n
		}
		if err != nil {
			return entries, err
		}
	}
	if rows > 0 {
		// What the rows held goes back to the file system (docs/smallfiles.md "Space comes back").
		return entries, s.store.ReturnFreeSpace(ctx)
	}
	return entries, nil
}

// drainBatches repeats one batch of a purge until a batch comes back short of purgeBatch (the
// rest is done) or fails, and answers how many rows went in all.
func drainBatches(batch func() (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := batch()
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
	}
}

// taskMemory is how long a finished task stays queryable (7.1: 30 days). A task whose process
// died counts as ended at its last heartbeat.
const taskMemory = 30 * 24 * time.Hour

// commitMemory is how long a commit's upload id is remembered, far beyond any upload session's
// life (a confirm can only be repeated while its session lives).
const commitMemory = 30 * 24 * time.Hour

// purgeBatch bounds one purge transaction.
const purgeBatch = 5000

// Register adds smh.namespace.v1.NamespaceService to r.
func (s *Service) Register(r grpc.ServiceRegistrar) { s.server.Register(r) }

// Probe is the readiness check of the service's store (pkg/readiness).
func (s *Service) Probe() readiness.Probe {
	return readiness.Probe{Service: namespacev1.NamespaceService_ServiceDesc.ServiceName, Ping: s.store.Ping}
}

// Close stops the background tasks (waiting for them) and closes the store.
func (s *Service) Close() error {
	s.stopPurge()
	s.ns.Close()
	return s.store.Close()
}

// libraryFacts asks the library service (with the operator key) what a library is: its kind and
// tenancy, public read, the name length limit and the upload rules of section S.
type libraryFacts struct {
	client   libraryv1.LibraryServiceClient
	adminKey string
}

func (l libraryFacts) Library(ctx context.Context, id string) (app.Library, error) {
	resp, err := l.client.GetLibrary(adminauth.Outgoing(ctx, l.adminKey), &libraryv1.GetLibraryRequest{LibraryId: id})
	if err != nil {
		if e := smherr.As(err); e != nil && e.Code == "LibraryNotFound" {
			return app.Library{}, app.ErrLibraryNotFound
		}
		return app.Library{}, err
	}
	x := resp.GetLibrary().GetLibraryExtension()
	return app.Library{
		ID: id, IsFileLibrary: x.GetIsFileLibrary(), IsMultiSpace: x.GetIsMultiSpace(),
		IsMultiAlbum: x.GetIsMultiAlbum(), IsPublicRead: x.GetIsPublicRead(),
		MaxNameLength: int(x.GetMaxDirFileNameLength()),
		AllowPhoto:    x.GetAllowPhoto(), AllowVideo: x.GetAllowVideo(),
		AllowPhotoExtname: stringValues(x.GetAllowPhotoExtname()), AllowVideoExtname: stringValues(x.GetAllowVideoExtname()),
		AllowFileExtname:       stringValues(x.GetAllowFileExtname()),
		UseRecycleBin:          x.GetUseRecycleBin(),
		AutoRemoveRecycledDays: int(x.GetAutoRemoveRecycledDays()),
		EnableFileHistory:      x.GetEnableFileHistory(), FileHistoryCount: int(x.GetFileHistoryCount()),
		FileHistoryExpireDay: int(x.GetFileHistoryExpireDay()),
		EnableQuota:          x.GetEnableQuota(), LibraryQuota: int64(x.GetLibraryQuota()),
		DenyOnQuotaLessThanUsage: x.GetDenyOnQuotaLessThanUsage(),
		EnableSearch:             x.GetEnableSearch(),
		EnableFileUncompress:     x.GetEnableFileUncompress(),
	}, nil
}

// stringValues reads a list of strings (non-strings are skipped; the library service stores strings).
func stringValues(l *structpb.ListValue) []string {
	var out []string
	for _, v := range l.GetValues() {
		if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
			out = append(out, s.StringValue)
		}
	}
	return out
}

// SetFileHistory patches a library's history switches in the library service (9.2), as the
// operator: the business caller was authorized by the use case.
func (l libraryFacts) SetFileHistory(ctx context.Context, id string, enabled *bool, count, expireDay *uint32) error {
	_, err := l.client.UpdateLibrary(adminauth.Outgoing(ctx, l.adminKey), &libraryv1.UpdateLibraryRequest{
		LibraryId: id,
		Library: &libraryv1.LibraryPatch{LibraryExtension: &libraryv1.LibraryExtension{
			EnableFileHistory: enabled, FileHistoryCount: count, FileHistoryExpireDay: expireDay,
		}},
	})
	if err == nil {
		return nil
	}
	e := smherr.As(err)
	switch {
	case e != nil && e.Code == "LibraryNotFound":
		return app.ErrLibraryNotFound
	case e != nil && e.Status < 500:
		return e // the library service's own refusal of the settings, as it answered it
	}
	return err
}

// ---- issue 13 shares

func shareSettings(cfg Config) app.ShareSettings {
	st := app.ShareSettings{PublicURL: cfg.PublicURL, Limits: cfg.ShareLimits}
	if cfg.TokenService != nil {
		st.Minter = shareMinter{client: cfg.TokenService, adminKey: cfg.AdminKey}
	}
	return st
}

// shareMinter asks authtoken for share access tokens as the operator.
type shareMinter struct {
	client   tokenv1.TokenServiceClient
	adminKey string
}

func (m shareMinter) MintShareToken(ctx context.Context, libraryID, shareID, userID, clientID string) (string, time.Time, error) {
	resp, err := m.client.MintShareToken(adminauth.Outgoing(ctx, m.adminKey), &tokenv1.MintShareTokenRequest{
		LibraryId: libraryID, ShareId: shareID, UserId: userID, ClientId: clientID,
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return resp.GetAccessToken(), time.UnixMilli(resp.GetExpiresAtMs()).UTC(), nil
}

// ---- end issue 13 shares
