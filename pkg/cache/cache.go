// Package cache keeps answers of a remote or stored source in memory for a while. It exists
// because every cache of the suite needs the same three things and each had only some of them:
// concurrent misses of one key make one call to the source (the others wait for its answer), an
// entry is reloaded once it is older than a TTL, and the number of entries is bounded by evicting
// the oldest, so a burst of distinct keys cannot grow memory nor empty the whole cache at once.
//
// Only successful loads are kept; an error is answered to the callers of that one load and the
// next Get asks the source again. Forget and Clear take effect at once, and a load that was in
// flight when they were called answers its waiters but is not kept: it may have read what the
// invalidation was about (a revoked token, a changed library).
package cache

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/opensmh/opensmh/pkg/clock"
)

// Loader reads the value of one key from the source.
type Loader[V any] func(ctx context.Context) (V, error)

// Cache maps keys to values loaded on demand. Safe for concurrent use; the zero value is not
// usable, build one with New.
type Cache[K comparable, V any] struct {
	ttl         time.Duration
	maxEntries  int
	loadTimeout time.Duration
	clock       clock.Clock
	expiry      func(V) time.Time

	mu      sync.Mutex
	entries map[K]*list.Element // of *entry[K, V], oldest at the front
	byAge   *list.List
	flights map[K]*flight[V]
	// gen moves on every Forget and Clear; a load begun in an older generation is not kept.
	gen uint64

	closing context.Context
	close   context.CancelFunc
	loads   sync.WaitGroup
}

type entry[K comparable, V any] struct {
	key   K
	value V
	until time.Time
}

// flight is one load in progress; done closes once value and err are set.
type flight[V any] struct {
	done  chan struct{}
	value V
	err   error
	// waiters counts the callers that joined this load (under Cache.mu); tests read it to know
	// every caller is waiting before they let the load answer.
	waiters int
}

// Option tunes a Cache.
type Option[V any] func(*options[V])

type options[V any] struct {
	loadTimeout time.Duration
	clock       clock.Clock
	expiry      func(V) time.Time
}

// WithClock replaces the wall clock (tests move a fake one instead of sleeping).
func WithClock[V any](c clock.Clock) Option[V] { return func(o *options[V]) { o.clock = c } }

// WithLoadTimeout bounds one load (default 10 s). A load runs detached from the caller that
// started it, so that caller's cancellation does not fail the others waiting for the same key;
// this timeout is then what ends a source that does not answer.
func WithLoadTimeout[V any](d time.Duration) Option[V] {
	return func(o *options[V]) { o.loadTimeout = d }
}

// WithExpiry lets a value end its own life earlier than the TTL (a token that lapses sooner). A
// time not after the load's end means the value is answered but not kept.
func WithExpiry[V any](f func(V) time.Time) Option[V] { return func(o *options[V]) { o.expiry = f } }

// New answers a cache keeping each value for ttl and at most maxEntries values.
func New[K comparable, V any](ttl time.Duration, maxEntries int, opts ...Option[V]) *Cache[K, V] {
	o := options[V]{loadTimeout: 10 * time.Second, clock: clock.Real{}}
	for _, opt := range opts {
		opt(&o)
	}
	closing, closeFn := context.WithCancel(context.Background())
	return &Cache[K, V]{
		ttl:         ttl,
		maxEntries:  max(maxEntries, 1),
		loadTimeout: o.loadTimeout,
		clock:       o.clock,
		expiry:      o.expiry,
		entries:     make(map[K]*list.Element),
		byAge:       list.New(),
		flights:     make(map[K]*flight[V]),
		closing:     closing,
		close:       closeFn,
	}
}

// Get answers the value of key: from memory while it is younger than the TTL, otherwise from
// load, which runs once however many callers miss the key at the same time. A caller whose ctx
// ends stops waiting and answers ctx's error; the load goes on for the others. The load's context
// keeps ctx's values (metadata, trace) but not its cancellation, and ends after the load timeout
// or when the cache is closed.
func (c *Cache[K, V]) Get(ctx context.Context, key K, load Loader[V]) (V, error) {
	if err := ctx.Err(); err != nil {
		var zero V
		return zero, err // a caller already gone starts no load
	}
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*entry[K, V])
		if c.clock.Now().Before(e.until) {
			c.mu.Unlock()
			return e.value, nil
		}
		c.removeLocked(el)
	}
	f, ok := c.flights[key]
	if !ok {
		f = &flight[V]{done: make(chan struct{})}
		c.flights[key] = f
		c.loads.Add(1)
		go c.run(ctx, key, f, load, c.gen)
	}
	f.waiters++
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// run performs one load; the cache owns the goroutine and Close waits for it.
func (c *Cache[K, V]) run(callerCtx context.Context, key K, f *flight[V], load Loader[V], gen uint64) {
	defer c.loads.Done()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(callerCtx), c.loadTimeout)
	stop := context.AfterFunc(c.closing, cancel)
	defer func() {
		stop()
		cancel()
	}()
	// Age counts from the start of the read: the value is at least that old.
	loadedAt := c.clock.Now()
	f.value, f.err = load(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.flights, key)
	// Keep before answering, so a caller's next Get finds what this one answered.
	if f.err == nil && gen == c.gen {
		c.keepLocked(key, f.value, loadedAt)
	}
	close(f.done)
}

func (c *Cache[K, V]) keepLocked(key K, value V, loadedAt time.Time) {
	until := loadedAt.Add(c.ttl)
	if c.expiry != nil {
		if exp := c.expiry(value); exp.Before(until) {
			until = exp
		}
	}
	if !until.After(c.clock.Now()) {
		return
	}
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
	c.entries[key] = c.byAge.PushBack(&entry[K, V]{key: key, value: value, until: until})
	for c.byAge.Len() > c.maxEntries {
		c.removeLocked(c.byAge.Front())
	}
}

func (c *Cache[K, V]) removeLocked(el *list.Element) {
	delete(c.entries, el.Value.(*entry[K, V]).key)
	c.byAge.Remove(el)
}

// Forget drops key; a load of it in flight will not be kept.
func (c *Cache[K, V]) Forget(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
}

// ForgetFunc drops every key for which drop answers true; loads in flight will not be kept.
func (c *Cache[K, V]) ForgetFunc(drop func(K) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, el := range c.entries {
		if drop(k) {
			c.removeLocked(el)
		}
	}
}

// Clear drops every key; loads in flight will not be kept.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
	c.byAge.Init()
}

// Len answers the number of values kept, expired or not.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byAge.Len()
}

// Close cancels the loads in flight and waits for them to return.
func (c *Cache[K, V]) Close() {
	c.close()
	c.loads.Wait()
}
