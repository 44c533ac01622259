package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/clock"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// constant answers a loader of v that counts its calls.
func constant(v string, calls *atomic.Int32) Loader[string] {
	return func(context.Context) (string, error) {
		calls.Add(1)
		return v, nil
	}
}

func TestConcurrentMissesLoadOnce(t *testing.T) {
	c := New[string, string](time.Minute, 10)
	defer c.Close()
	const callers = 16
	var calls atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (string, error) {
		calls.Add(1)
		<-release
		return "v", nil
	}

	var arrived, wg sync.WaitGroup
	arrived.Add(callers)
	answers := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arrived.Done()
			answers[i], errs[i] = c.Get(context.Background(), "k", load)
		}()
	}
	// Every caller has at least reached Get before the load may answer; the ones that reach the
	// cache after the answer find the value kept. Either way the source is asked once.
	arrived.Wait()
	close(release)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || answers[i] != "v" {
			t.Fatalf("caller %d: %q, %v", i, answers[i], errs[i])
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d loads, want 1", n)
	}
}

func TestWaitersShareTheLoadInFlight(t *testing.T) {
	// Unlike the test above, every caller is known to wait on the one load before it answers,
	// and the answer is an error, which is not kept: a caller arriving late would load again.
	c := New[string, string](time.Minute, 10)
	defer c.Close()
	const callers = 8
	var calls atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (string, error) {
		calls.Add(1)
		<-release
		return "", errors.New("source down")
	}
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Get(context.Background(), "k", load)
			errs <- err
		}()
	}
	waitFor(t, func() bool { return waiters(c, "k") == callers })
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil || err.Error() != "source down" {
			t.Fatalf("error %v", err)
		}
	}
	// An error is not kept: the next Get asks again.
	var again atomic.Int32
	if v, err := c.Get(context.Background(), "k", constant("v", &again)); err != nil || v != "v" || again.Load() != 1 {
		t.Fatalf("after an error: %q, %v, %d loads", v, err, again.Load())
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d loads, want 1", n)
	}
}

func TestEntryOlderThanTTLIsReloaded(t *testing.T) {
	fake := clock.NewFake(start)
	c := New[string, string](10*time.Second, 10, WithClock[string](fake))
	defer c.Close()
	var calls atomic.Int32
	get := func(want string) {
		t.Helper()
		if v, err := c.Get(context.Background(), "k", constant(fmt.Sprint(calls.Load()+1), &calls)); err != nil || v != want {
			t.Fatalf("Get = %q, %v; want %q", v, err, want)
		}
	}
	get("1")
	fake.Advance(9 * time.Second)
	get("1")
	fake.Advance(time.Second)
	get("2")
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d loads, want 2", n)
	}
}

func TestExpiryShortensTheTTL(t *testing.T) {
	fake := clock.NewFake(start)
	c := New[string, time.Time](time.Minute, 10, WithClock[time.Time](fake),
		WithExpiry(func(until time.Time) time.Time { return until }))
	defer c.Close()
	var calls atomic.Int32
	load := func(until time.Time) Loader[time.Time] {
		return func(context.Context) (time.Time, error) { calls.Add(1); return until, nil }
	}
	_, _ = c.Get(context.Background(), "soon", load(start.Add(time.Second)))
	_, _ = c.Get(context.Background(), "past", load(start))
	if c.Len() != 1 {
		t.Fatalf("%d kept, want 1 (a value already expired is not kept)", c.Len())
	}
	fake.Advance(time.Second)
	_, _ = c.Get(context.Background(), "soon", load(start.Add(time.Hour)))
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d loads, want 3", n)
	}
}

func TestBoundEvictsTheOldest(t *testing.T) {
	fake := clock.NewFake(start)
	c := New[string, string](time.Hour, 2, WithClock[string](fake))
	defer c.Close()
	var calls atomic.Int32
	for _, k := range []string{"a", "b", "c"} {
		_, _ = c.Get(context.Background(), k, constant(k, &calls))
		fake.Advance(time.Second)
	}
	if c.Len() != 2 {
		t.Fatalf("%d kept, want 2", c.Len())
	}
	calls.Store(0)
	for _, k := range []string{"b", "c"} {
		_, _ = c.Get(context.Background(), k, constant(k, &calls))
	}
	if calls.Load() != 0 {
		t.Fatal("a newer entry was evicted")
	}
	_, _ = c.Get(context.Background(), "a", constant("a", &calls))
	if calls.Load() != 1 {
		t.Fatal("the oldest entry was kept")
	}
}

func TestCancelledWaiterLeavesTheLoadToOthers(t *testing.T) {
	c := New[string, string](time.Minute, 10)
	defer c.Close()
	started := make(chan struct{})
	release := make(chan struct{})
	var loadErr atomic.Value
	load := func(ctx context.Context) (string, error) {
		close(started)
		<-release
		if err := ctx.Err(); err != nil {
			loadErr.Store(err)
		}
		return "v", nil
	}
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := c.Get(first, "k", load)
		firstErr <- err
	}()
	<-started
	second := make(chan string, 1)
	go func() {
		v, _ := c.Get(context.Background(), "k", func(context.Context) (string, error) {
			t.Error("a second load ran while the first was in flight")
			return "", nil
		})
		second <- v
	}()
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller answered %v", err)
	}
	close(release)
	if v := <-second; v != "v" {
		t.Fatalf("other waiter answered %q", v)
	}
	if err := loadErr.Load(); err != nil {
		t.Fatalf("the load saw %v", err)
	}
}

func TestInvalidationDuringLoadIsNotUndone(t *testing.T) {
	tests := []struct {
		name       string
		invalidate func(c *Cache[string, string])
	}{
		{"Forget", func(c *Cache[string, string]) { c.Forget("k") }},
		{"ForgetFunc", func(c *Cache[string, string]) { c.ForgetFunc(func(string) bool { return true }) }},
		{"Clear", func(c *Cache[string, string]) { c.Clear() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New[string, string](time.Minute, 10)
			defer c.Close()
			load := func(context.Context) (string, error) {
				tt.invalidate(c) // the source changed while it was being read
				return "stale", nil
			}
			if v, err := c.Get(context.Background(), "k", load); err != nil || v != "stale" {
				t.Fatalf("Get = %q, %v", v, err)
			}
			if c.Len() != 0 {
				t.Fatal("a load overtaken by an invalidation was kept")
			}
		})
	}
}

func TestCloseCancelsLoads(t *testing.T) {
	c := New[string, string](time.Minute, 10)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	loadErr := make(chan error, 1)
	go func() {
		_, _ = c.Get(ctx, "k", func(ctx context.Context) (string, error) {
			close(started)
			<-ctx.Done()
			loadErr <- ctx.Err()
			return "", ctx.Err()
		})
	}()
	<-started
	cancel() // the caller leaves; the load must still be running
	c.Close()
	if err := <-loadErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("load ended with %v", err)
	}
}

func waiters[K comparable, V any](c *Cache[K, V], key K) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.flights[key]; ok {
		return f.waiters
	}
	return 0
}

// waitFor polls cond; the test's own deadline bounds it, not a threshold of ours.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}
