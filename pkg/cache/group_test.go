package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGroupSharesALoadAndKeepsNothing(t *testing.T) {
	g := NewGroup[string, int](time.Minute)
	defer g.Close()
	const callers = 8
	var calls atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (int, error) {
		<-release
		return int(calls.Add(1)), nil
	}
	var wg sync.WaitGroup
	answers := make(chan int, callers)
	for range callers {
		wg.Go(func() {
			v, err := g.Do(context.Background(), "k", load)
			if err != nil {
				t.Error(err)
			}
			answers <- v
		})
	}
	waitFor(t, func() bool { return groupWaiters(g, "k") == callers })
	close(release)
	wg.Wait()
	close(answers)
	for v := range answers {
		if v != 1 {
			t.Fatalf("answer %d, want every caller to share the first load", v)
		}
	}
	if v, _ := g.Do(context.Background(), "k", load); v != 2 {
		t.Fatalf("a later call answered %d: the group kept a value", v)
	}
}

func TestGroupCancelledWaiter(t *testing.T) {
	g := NewGroup[string, string](time.Minute)
	defer g.Close()
	release := make(chan struct{})
	load := func(ctx context.Context) (string, error) {
		<-release
		return "v", ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := g.Do(ctx, "k", load)
		firstErr <- err
	}()
	second := make(chan string, 1)
	go func() {
		v, err := g.Do(context.Background(), "k", load)
		if err != nil {
			t.Error(err)
		}
		second <- v
	}()
	waitFor(t, func() bool { return groupWaiters(g, "k") == 2 })
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller answered %v", err)
	}
	close(release)
	if v := <-second; v != "v" {
		t.Fatalf("other waiter answered %q", v)
	}
}

func groupWaiters[K comparable, V any](g *Group[K, V], key K) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.flights[key]; ok {
		return f.waiters
	}
	return 0
}
