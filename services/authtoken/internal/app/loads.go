package app

import (
	"context"
	"sync"
	"time"
)

// A token missing from the cache is read from etcd once however many requests present it at the
// same time: a client that fans out requests with a freshly minted token on another replica, or
// every request after a re-sync emptied the cache, would otherwise cost one etcd Get each.
// The read runs detached from the request that started it, so that request's cancellation does
// not fail the others waiting for the same token; loadTimeout ends a read etcd does not answer.

const loadTimeout = 10 * time.Second

type loadFlight struct {
	done chan struct{}
	e    *entry
	err  error
	// waiters counts the requests sharing this read (under loads.mu); tests read it.
	waiters int
}

type loads struct {
	mu      sync.Mutex
	flights map[[32]byte]*loadFlight
	// closing ends the reads in flight when the Tokens close; wg waits for them.
	closing context.Context
	close   context.CancelFunc
	wg      sync.WaitGroup
}

func newLoads() *loads {
	closing, closeFn := context.WithCancel(context.Background())
	return &loads{flights: make(map[[32]byte]*loadFlight), closing: closing, close: closeFn}
}

// shutdown cancels the reads in flight and waits for them.
func (l *loads) shutdown() {
	l.close()
	l.wg.Wait()
}

// loadShared is load (validate.go) with the concurrent misses of one token sharing a read. A
// caller whose ctx ends answers ctx's error; the read goes on for the others.
func (t *Tokens) loadShared(ctx context.Context, h [32]byte) (*entry, error) {
	l := t.loads
	l.mu.Lock()
	f, ok := l.flights[h]
	if !ok {
		f = &loadFlight{done: make(chan struct{})}
		l.flights[h] = f
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
			stop := context.AfterFunc(l.closing, cancel)
			f.e, f.err = t.load(lctx, h)
			stop()
			cancel()
			l.mu.Lock()
			delete(l.flights, h)
			l.mu.Unlock()
			close(f.done)
		}()
	}
	f.waiters++
	l.mu.Unlock()
	select {
	case <-f.done:
		return f.e, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
