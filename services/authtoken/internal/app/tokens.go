// Package app holds the authtoken use cases (SMH API section 1): minting, renewing, revoking and
// validating access tokens, the in-memory token cache, and the background work that keeps the
// cache honest (etcd watch) and records sliding renewals (throttled flusher).
package app

import (
	"context"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/opensmh/opensmh/pkg/backoff"
	pkgcache "github.com/opensmh/opensmh/pkg/cache" // the token cache is cache.go's
	"github.com/opensmh/opensmh/pkg/clock"
)

// Config wires the use cases.
type Config struct {
	Store     Store
	Libraries LibraryVerifier
	// Clock judges expiry; nil = wall clock.
	Clock clock.Clock
	// RenewalWriteInterval is the least time between two renewal writes of one token driven by use
	// (docs/architecture.md: "sliding renewal is recorded at most once per token per minute").
	// Default 1 minute, measured on Clock.
	RenewalWriteInterval time.Duration
	// FlushEvery is how often the flusher looks for renewals to write (wall time). Default 10 s.
	FlushEvery time.Duration
	// IdleEviction drops cache entries unused this long (on Clock) once their renewal is written;
	// a later use reloads them. Default 1 hour.
	IdleEviction time.Duration
}

// Tokens is the token service's domain. Its background goroutines (Start) are owned by it and
// stopped by Close.
type Tokens struct {
	store     Store
	libraries LibraryVerifier
	clock     clock.Clock
	cache     *cache
	loads     *pkgcache.Group[[32]byte, *entry]
	revoked   *revocations

	writeInterval time.Duration
	flushEvery    time.Duration
	idleEviction  time.Duration

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New builds the use cases; call Start to follow etcd and flush renewals.
func New(cfg Config) *Tokens {
	t := &Tokens{
		store:         cfg.Store,
		libraries:     cfg.Libraries,
		clock:         cfg.Clock,
		cache:         newCache(),
		loads:         pkgcache.NewGroup[[32]byte, *entry](loadTimeout),
		revoked:       newRevocations(),
		writeInterval: cfg.RenewalWriteInterval,
		flushEvery:    cfg.FlushEvery,
		idleEviction:  cfg.IdleEviction,
		cancel:        func() {},
	}
	if t.clock == nil {
		t.clock = clock.Real{}
	}
	if t.writeInterval <= 0 {
		t.writeInterval = time.Minute
	}
	if t.flushEvery <= 0 {
		t.flushEvery = 10 * time.Second
	}
	if t.idleEviction <= 0 {
		t.idleEviction = time.Hour
	}
	return t
}

// Start begins following token changes in etcd from the current revision (so that every later
// deletion reaches this cache) and starts the renewal flusher. It returns once the starting
// revision is known; the goroutines run until Close or until ctx ends.
func (t *Tokens) Start(ctx context.Context) error {
	rev, err := t.store.Revision(ctx)
	if err != nil {
		return err
	}
	bg, cancel := context.WithCancel(ctx)
	t.cancel = cancel
	t.wg.Go(func() { t.follow(bg, rev) })
	t.wg.Go(func() { t.flushLoop(bg) })
	return nil
}

// Close stops the background goroutines, ends revocation subscriptions and writes every pending
// renewal. Safe to call more than once.
func (t *Tokens) Close() error {
	t.closeOnce.Do(func() {
		t.cancel()
		t.wg.Wait()
		t.loads.Close()
		t.revoked.shutdown()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		t.closeErr = t.flush(ctx, true)
	})
	return t.closeErr
}

// follow applies etcd changes to the cache and tells revocation subscribers. It resumes after
// errors and re-syncs after compaction (docs/architecture.md: revocations reach every cache).
// Retries are jittered so that the authtoken replicas do not all return to etcd at the same
// instant.
func (t *Tokens) follow(ctx context.Context, rev int64) {
	retry := backoff.New(50*time.Millisecond, 2*time.Second)
	needResync := false
	for ctx.Err() == nil {
		if needResync {
			r, err := t.store.Revision(ctx)
			if err != nil {
				if retry.Wait(ctx) != nil {
					return
				}
				continue
			}
			// Deletions between rev and r were lost: forget everything (entries reload lazily)
			// and make subscribers start over with empty caches too.
			t.cache.reset()
			t.revoked.closeAll()
			rev, needResync = r, false
		}
		last, err := t.store.Watch(ctx, rev+1, t.apply)
		if last > rev {
			rev = last
			retry.Reset()
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrCompacted) {
			needResync = true
		}
		if retry.Wait(ctx) != nil {
			return
		}
	}
}

// apply folds watched changes into the cache: deletions drop entries (leaving tombstones) and are
// published; puts of cached tokens carry renewals written by any instance.
func (t *Tokens) apply(events []TokenEvent) {
	var revokedHashes []string
	for _, ev := range events {
		h, ok := decodeHash(ev.Hash)
		if !ok {
			continue
		}
		if ev.Deleted {
			t.cache.remove(h, ev.ModRevision)
			revokedHashes = append(revokedHashes, ev.Hash)
			continue
		}
		if e := t.cache.get(&h); e != nil {
			e.observe(ev.ModRevision, ev.Record.LastRenewedAt.UnixNano())
		}
	}
	if len(revokedHashes) > 0 {
		t.revoked.publish(revokedHashes)
	}
}

func decodeHash(s string) ([32]byte, bool) {
	var h [32]byte
	n, err := hex.Decode(h[:], []byte(s))
	return h, err == nil && n == len(h)
}

// SubscribeRevocations streams the hashes of deleted tokens. The channel is closed when the
// subscriber falls behind, when the watch had to re-sync, or on Close: a subscriber must then
// drop its whole cache and subscribe again. cancel ends the subscription.
func (t *Tokens) SubscribeRevocations() (hashes <-chan []string, cancel func()) {
	return t.revoked.subscribe()
}

type revocations struct {
	mu     sync.Mutex
	subs   map[chan []string]struct{}
	closed bool
}

func newRevocations() *revocations {
	return &revocations{subs: make(map[chan []string]struct{})}
}

func (r *revocations) subscribe() (<-chan []string, func()) {
	ch := make(chan []string, 256)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		close(ch)
		return ch, func() {}
	}
	r.subs[ch] = struct{}{}
	return ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if _, ok := r.subs[ch]; ok {
			delete(r.subs, ch)
			close(ch)
		}
	}
}

// publish never blocks the watch: a subscriber whose buffer is full is cut off (and must re-sync).
func (r *revocations) publish(hashes []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ch := range r.subs {
		select {
		case ch <- hashes:
		default:
			delete(r.subs, ch)
			close(ch)
		}
	}
}

// closeAll ends every subscription (subscribers re-subscribe and start over).
func (r *revocations) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ch := range r.subs {
		delete(r.subs, ch)
		close(ch)
	}
}

func (r *revocations) shutdown() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.closeAll()
}
