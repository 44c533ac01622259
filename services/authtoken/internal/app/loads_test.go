package app_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
	"github.com/opensmh/opensmh/services/authtoken/internal/store"
)

// gatedStore holds every token read until gate closes, and counts the reads.
type gatedStore struct {
	app.Store
	gate chan struct{}
	gets atomic.Int64
}

func (g *gatedStore) Get(ctx context.Context, hash string) (app.StoredToken, error) {
	g.gets.Add(1)
	<-g.gate
	if err := ctx.Err(); err != nil {
		return app.StoredToken{}, err // the read was cancelled by someone
	}
	return g.Store.Get(ctx, hash)
}

// A token this instance has not cached, presented by many requests at once, is read once; a
// request that gives up while the read is in flight answers its own error and does not fail the
// read for the others.
func TestConcurrentMissesReadOnce(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	minter := app.New(app.Config{Store: store.NewEtcd(cli), Libraries: testLibraries(), Clock: clock.NewFake(t0), FlushEvery: time.Hour})
	token := mint(t, minter, app.MintInput{})
	_ = minter.Close()

	gated := &gatedStore{Store: store.NewEtcd(cli), gate: make(chan struct{})}
	tok := app.New(app.Config{Store: gated, Libraries: testLibraries(), Clock: clock.NewFake(t0), FlushEvery: time.Hour})
	if err := tok.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer tok.Close()

	// The request that starts the read gives up before it answers.
	first, cancel := context.WithCancel(ctx)
	firstErr := make(chan error, 1)
	go func() {
		_, err := tok.Validate(first, "single", token)
		firstErr <- err
	}()
	eventually(t, func() bool { return gated.gets.Load() == 1 })
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("the request that gave up answered %v", err)
	}

	const callers = 16
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := tok.Validate(ctx, "single", token)
			errs <- err
		})
	}
	// Callers that join the read wait at the gate with it; callers arriving after it answered
	// find the token cached. Either way etcd is read once.
	close(gated.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := gated.gets.Load(); n != 1 {
		t.Fatalf("%d reads for %d concurrent requests, want 1", n, callers+1)
	}
}

// eventually polls cond; the test's own deadline bounds it.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}
