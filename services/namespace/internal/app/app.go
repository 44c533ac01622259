// Package app holds the namespace service's use cases: tenant spaces now, the tree of
// directories and albums next (SMH API sections 2 and 4). Each use case authenticates its
// request through the shared authz package and applies the SMH rules; the store does the SQL.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/cache"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/pkg/workpool"
)

// Use-case errors; the transport maps each to one SMH code.
var (
	ErrLibraryNotFound = errors.New("library not found")
	ErrNotMultiSpace   = errors.New("the library is not multi-tenant")
	ErrSpaceIDInvalid  = errors.New("space id invalid")
	ErrParamInvalid    = errors.New("parameter invalid")
)

// InputError is rejected input with a caller-facing reason (shared with the other services).
type InputError = smherr.Invalid

func invalid(format string, args ...any) error {
	return smherr.Invalidf(ErrParamInvalid, format, args...)
}

// Library is what the namespace needs to know about a library (from the library service).
type Library struct {
	ID            string
	IsFileLibrary bool
	IsMultiSpace  bool
	IsMultiAlbum  bool
	IsPublicRead  bool
	// MaxNameLength is the library's maxDirFileNameLength (12.3, decision 6); 0 means 255.
	MaxNameLength int
	// Upload rules of a single-tenant library (section S: AllowPhoto, AllowVideo and their
	// extension whitelists for media libraries, AllowFileExtName for file libraries). A
	// multi-tenant library's spaces carry their own (2.1).
	AllowPhoto        bool
	AllowVideo        bool
	AllowPhotoExtname []string
	AllowVideoExtname []string
	AllowFileExtname  []string
	// Lifecycle switches (section S LibraryExtension, docs/lifecycle.md); WriteRules carries them
	// into the store's writes.
	UseRecycleBin            bool
	AutoRemoveRecycledDays   int
	EnableFileHistory        bool
	FileHistoryCount         int
	FileHistoryExpireDay     int
	EnableQuota              bool
	LibraryQuota             int64
	DenyOnQuotaLessThanUsage bool
	// EnableSearch switches the search routes of section 8 on (decision 20: off → SearchNotEnabled).
	EnableSearch bool
	// EnableFileUncompress switches zip preview and uncompress on (3.17, docs/archives.md).
	EnableFileUncompress bool
}

// Libraries answers library facts; ErrLibraryNotFound for an unknown id.
type Libraries interface {
	Library(ctx context.Context, libraryID string) (Library, error)
}

// Config wires the use cases.
type Config struct {
	Store     Store
	Libraries Libraries
	// LibrarySettings writes the history switches (9.2) to the library service.
	LibrarySettings LibrarySettings
	Auth            *authz.Authorizer
	Clock           clock.Clock
	// LibraryTTL bounds how long library facts are cached; default 2 s. Only mutable facts
	// (public read) can change, and a change is seen within this time.
	LibraryTTL time.Duration
	// AsyncTreeThreshold is decision 7's bound: a directory copy or delete touching more entries
	// than this runs as a task (202). Default 1,000; tests lower it.
	AsyncTreeThreshold int64
	// AsyncBatchThreshold is decision 7's batch bound: a batch restore (5.5), copy, move or
	// delete (10) of more items than this runs as a task (202). Default 100; tests lower it.
	AsyncBatchThreshold int
	// TaskHeartbeat is how often this instance refreshes the heartbeat of the tasks it runs;
	// a running task without a beat for a few of these reads as interrupted. Default 5 s; every
	// replica sharing a store needs the same value.
	TaskHeartbeat time.Duration
	// TaskWorkers is how many tasks this instance runs at once (default DefaultTaskWorkers);
	// TaskQueue how many more may wait for a worker (default DefaultTaskQueue). A task asked for
	// beyond both is refused with ErrTooManyTasks.
	TaskWorkers, TaskQueue int
	// Favorited answers favorites for with_favorite_status in search results (section 8); nil =
	// the store's FavoritedAmong (docs/favorites.md). SearchGroups caps each group list of search-fs-stats (8.3,
	// default DefaultSearchGroups; tests lower it).
	Favorited    Favorited
	SearchGroups int
	// DeltaRetention is how long the change feed keeps events (3.18; default
	// DefaultDeltaRetention, 180 days): checkFileDeletion reports it in days.
	DeltaRetention time.Duration
	// ---- issue 13 shares
	// Shares wires share links (section 13, docs/shares.md): the public URL of links, the token
	// minter and the visitor rate limits.
	Shares ShareSettings
	// ---- end issue 13 shares
}

// Defaults of Config's task pool: a task copies or deletes a large tree in one transaction, so a
// few at a time keep the database's connections for the requests.
const (
	DefaultTaskWorkers = 4
	DefaultTaskQueue   = 64
)

// Namespace is the namespace service's use cases.
type Namespace struct {
	store     Store
	libraries *cachedLibraries
	settings  LibrarySettings
	auth      *authz.Authorizer
	clock     clock.Clock
	// asyncTreeThreshold: see Config.AsyncTreeThreshold.
	asyncTreeThreshold int64
	// asyncBatchThreshold: see Config.AsyncBatchThreshold.
	asyncBatchThreshold int
	tasks               *taskBoard
	// favorited, searchGroups: see Config.Favorited and Config.SearchGroups.
	favorited    Favorited
	searchGroups int
	// deltaRetention: see Config.DeltaRetention.
	deltaRetention time.Duration
	// shares: see Config.Shares (issue 13 shares).
	shares ShareSettings
	// shareLimits: the buckets of Config.Shares.Limits (issue 13 wiring).
	shareLimits shareLimiters
}

// New builds the use cases.
func New(cfg Config) *Namespace {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.LibraryTTL == 0 {
		cfg.LibraryTTL = 2 * time.Second
	}
	if cfg.AsyncTreeThreshold <= 0 {
		cfg.AsyncTreeThreshold = 1000
	}
	if cfg.AsyncBatchThreshold <= 0 {
		cfg.AsyncBatchThreshold = 100
	}
	if cfg.TaskHeartbeat <= 0 {
		cfg.TaskHeartbeat = 5 * time.Second
	}
	if cfg.TaskWorkers <= 0 {
		cfg.TaskWorkers = DefaultTaskWorkers
	}
	if cfg.TaskQueue <= 0 {
		cfg.TaskQueue = DefaultTaskQueue
	}
	if cfg.Favorited == nil && cfg.Store != nil {
		cfg.Favorited = cfg.Store.FavoritedAmong // favorites (issue 12 item 4): isFavorite in search results
	}
	if cfg.SearchGroups <= 0 {
		cfg.SearchGroups = DefaultSearchGroups
	}
	if cfg.DeltaRetention <= 0 {
		cfg.DeltaRetention = DefaultDeltaRetention
	}
	return &Namespace{
		shares:              cfg.Shares,                              // issue 13 shares
		shareLimits:         newShareLimiters(cfg.Shares, cfg.Clock), // issue 13 wiring
		store:               cfg.Store,
		libraries:           newCachedLibraries(cfg.Libraries, cfg.LibraryTTL),
		settings:            cfg.LibrarySettings,
		auth:                cfg.Auth,
		clock:               cfg.Clock,
		asyncTreeThreshold:  cfg.AsyncTreeThreshold,
		asyncBatchThreshold: cfg.AsyncBatchThreshold,
		tasks:               newTaskBoard(cfg.Store, cfg.Clock, cfg.TaskHeartbeat, workpool.New(cfg.TaskWorkers, cfg.TaskQueue)),
		favorited:           cfg.Favorited,
		searchGroups:        cfg.SearchGroups,
		deltaRetention:      cfg.DeltaRetention,
	}
}

// Close stops the background tasks (async directory copies), records them as interrupted and
// waits for them; call it before closing the store.
func (n *Namespace) Close() {
	n.tasks.close()
	n.libraries.close()
}

// request is an authenticated (or, for public reads, anonymous) request on a library.
type request struct {
	lib Library
	// p is nil for an anonymous request (no credentials), allowed only for public reads.
	p *authz.Principal
}

// begin loads the library and authenticates the caller. A request without credentials is kept
// as anonymous: the use case decides whether public read lets it through (12.7).
func (n *Namespace) begin(ctx context.Context, libraryID string) (request, error) {
	lib, err := n.libraries.Library(ctx, libraryID)
	if errors.Is(err, ErrLibraryNotFound) {
		// An unknown library answers as an existing private one would: no token is 400
		// EmptyAccessToken, any token 403 InvalidAccessToken. So a caller without a valid token
		// cannot tell which library ids exist (docs/security.md).
		if _, authErr := n.auth.Authenticate(ctx, libraryID); authErr != nil {
			return request{}, authErr
		}
		return request{}, err
	}
	if err != nil {
		return request{}, err
	}
	p, err := n.auth.Authenticate(ctx, libraryID)
	if errors.Is(err, authz.ErrEmptyAccessToken) {
		return request{lib: lib}, nil
	}
	if err != nil {
		return request{}, err
	}
	return request{lib: lib, p: p}, nil
}

// needPrincipal refuses anonymous requests for anything but public reads.
func (r request) needPrincipal() (*authz.Principal, error) {
	if r.p == nil {
		return nil, authz.ErrEmptyAccessToken
	}
	return r.p, nil
}

// require asks for a principal holding one of grants.
func (r request) require(grants ...string) (*authz.Principal, error) {
	p, err := r.needPrincipal()
	if err != nil {
		return nil, err
	}
	if err := p.RequireAny(grants...); err != nil {
		return nil, err
	}
	return p, nil
}

// maxCachedLibraries bounds the library facts kept; past it the oldest go.
const maxCachedLibraries = 10000

// cachedLibraries keeps library facts for a short time: every business request needs them, and
// a burst of requests on a library not yet cached asks the library service once. It counts age
// on the wall clock, not Config.Clock: tests that freeze a fake clock still see library changes.
type cachedLibraries struct {
	src   Libraries
	cache *cache.Cache[string, Library]
}

func newCachedLibraries(src Libraries, ttl time.Duration) *cachedLibraries {
	return &cachedLibraries{src: src, cache: cache.New[string, Library](ttl, maxCachedLibraries)}
}

func (c *cachedLibraries) Library(ctx context.Context, id string) (Library, error) {
	return c.cache.Get(ctx, id, func(ctx context.Context) (Library, error) { return c.src.Library(ctx, id) })
}

// fresh answers the library service's facts of a library now, and caches them.
func (c *cachedLibraries) fresh(ctx context.Context, id string) (Library, error) {
	c.cache.Forget(id)
	return c.Library(ctx, id)
}

// forget drops the cached facts of a library: this instance changed them (9.2), or the next
// read must be fresh (9.1). A read in flight may have seen the old facts and is not kept.
func (c *cachedLibraries) forget(id string) { c.cache.Forget(id) }

// close ends the reads in flight.
func (c *cachedLibraries) close() { c.cache.Close() }
