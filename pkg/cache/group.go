package cache

import (
	"context"
	"sync"
	"time"
)

// Group runs one load per key at a time, keeping nothing: callers that ask for a key while its
// load is in flight wait for that load's answer. It is for work whose result is stored elsewhere
// (a thumbnail written to the blob store, a token entry kept in a cache of its own), where only
// the duplicate work needs collapsing. As with Cache, the load runs detached from the caller that
// started it and is bounded by the load timeout; a caller whose ctx ends answers ctx's error.
type Group[K comparable, V any] struct {
	loadTimeout time.Duration

	mu      sync.Mutex
	flights map[K]*flight[V]

	closing context.Context
	close   context.CancelFunc
	loads   sync.WaitGroup
}

// NewGroup answers a group whose loads last at most loadTimeout.
func NewGroup[K comparable, V any](loadTimeout time.Duration) *Group[K, V] {
	closing, closeFn := context.WithCancel(context.Background())
	return &Group[K, V]{loadTimeout: loadTimeout, flights: make(map[K]*flight[V]), closing: closing, close: closeFn}
}

// Do answers load's answer for key, sharing a load in flight.
func (g *Group[K, V]) Do(ctx context.Context, key K, load Loader[V]) (V, error) {
	if err := ctx.Err(); err != nil {
		var zero V
		return zero, err // a caller already gone starts no load
	}
	g.mu.Lock()
	f, ok := g.flights[key]
	if !ok {
		f = &flight[V]{done: make(chan struct{})}
		g.flights[key] = f
		g.loads.Add(1)
		go g.run(ctx, key, f, load)
	}
	f.waiters++
	g.mu.Unlock()
	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

func (g *Group[K, V]) run(callerCtx context.Context, key K, f *flight[V], load Loader[V]) {
	defer g.loads.Done()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(callerCtx), g.loadTimeout)
	stop := context.AfterFunc(g.closing, cancel)
	f.value, f.err = load(ctx)
	stop()
	cancel()
	g.mu.Lock()
	delete(g.flights, key)
	g.mu.Unlock()
	close(f.done)
}

// Close cancels the loads in flight and waits for them to return.
func (g *Group[K, V]) Close() {
	g.close()
	g.loads.Wait()
}
