package app_test

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
	"github.com/opensmh/opensmh/services/authtoken/internal/store"
)

// flakyWatch is the etcd store whose watch fails as compacted when the test says so, the way a
// watch resuming from a compacted revision does.
type flakyWatch struct {
	*store.Etcd
	fail chan struct{}
}

func (f flakyWatch) Watch(ctx context.Context, from int64, apply func([]app.TokenEvent)) (int64, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		rev int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		rev, err := f.Etcd.Watch(wctx, from, apply)
		done <- result{rev, err}
	}()
	select {
	case r := <-done:
		return r.rev, r.err
	case <-f.fail:
		cancel()
		r := <-done
		return r.rev, app.ErrCompacted
	}
}

func TestWatchResyncsAfterCompaction(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	flaky := flakyWatch{Etcd: store.NewEtcd(cli), fail: make(chan struct{})}
	b := app.New(app.Config{Store: flaky, Libraries: testLibraries(), Clock: clk})
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a := newTokens(t, cli, clk)

	token := mint(t, a, app.MintInput{})
	if _, err := b.Validate(ctx, "single", token); err != nil {
		t.Fatal(err)
	}
	sub, cancel := b.SubscribeRevocations()
	defer cancel()

	flaky.fail <- struct{}{}
	// Subscribers cannot be told what was missed: their stream ends, and they start over.
	for range sub {
	}
	// After the re-sync the watch follows again: a new revocation reaches b.
	if err := a.Revoke(ctx, "single", token); err != nil {
		t.Fatal(err)
	}
	if !poll(t, func() bool {
		_, err := b.Validate(ctx, "single", token)
		return errors.Is(err, app.ErrInvalidAccessToken)
	}) {
		t.Fatal("b accepts a token revoked after the re-sync")
	}
	other := mint(t, a, app.MintInput{})
	if _, err := b.Validate(ctx, "single", other); err != nil {
		t.Fatal(err)
	}
	sub2, cancel2 := b.SubscribeRevocations()
	defer cancel2()
	if err := a.Revoke(ctx, "single", other); err != nil {
		t.Fatal(err)
	}
	// The first revocation may still be on its way to subscribers when sub2 joins, so look for
	// the second one rather than expecting it alone.
	h := authz.HashToken(other)
	want := hex.EncodeToString(h[:])
	deadline := time.After(5 * time.Second)
	for {
		select {
		case hs := <-sub2:
			if slices.Contains(hs, want) {
				return
			}
		case <-deadline:
			t.Fatal("the revocation made after the re-sync was not published")
		}
	}
}
