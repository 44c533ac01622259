package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
	"github.com/opensmh/opensmh/services/authtoken/internal/store"
)

// rotatingLibraries is the library service's VerifyLibrarySecret with a secret generation that
// the test moves by hand, so it can stand where a mint verified the old secret just before a reset.
type rotatingLibraries struct {
	mu          sync.Mutex
	generations map[string]int64
}

func (r *rotatingLibraries) VerifySecret(_ context.Context, libraryID, secret string) (app.LibraryFacts, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.generations[libraryID]
	if !ok || secret != "s" {
		return app.LibraryFacts{}, smherr.New(http.StatusNotFound, "WrongLibraryIdOrSecret", "wrong library id or secret")
	}
	return app.LibraryFacts{SecretGeneration: g}, nil
}

func (r *rotatingLibraries) set(libraryID string, generation int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.generations[libraryID] = generation
}

// TestRevokeSecretGenerations: the tokens of earlier secrets die on every instance, a mint that
// verified the old secret before the reset cannot store its token after it, tokens of the new
// secret and of other libraries stay, and the floor never moves down.
func TestRevokeSecretGenerations(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	libs := &rotatingLibraries{generations: map[string]int64{"lib": 7, "other": 7}}
	start := func() *app.Tokens {
		tok := app.New(app.Config{Store: store.NewEtcd(cli), Libraries: libs, Clock: clock.NewFake(t0), FlushEvery: time.Hour})
		if err := tok.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tok.Close() })
		return tok
	}
	a, b := start(), start()
	mintOn := func(tok *app.Tokens, libraryID, user string) (string, error) {
		m, err := tok.Mint(ctx, app.MintInput{LibraryID: libraryID, Secret: "s", UserID: user, SpaceID: "-"})
		return m.Token, err
	}
	var old []string
	for i := range 150 { // more than one etcd transaction's worth
		tk, err := mintOn(a, "lib", fmt.Sprint("u", i%5))
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, tk)
	}
	other, err := mintOn(a, "other", "u0")
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range old[:10] {
		if _, err := b.Validate(ctx, "lib", tk); err != nil { // cached on b before the reset
			t.Fatal(err)
		}
	}

	// The reset gave the library generation 9; the verifier still answers 7, as for a mint that
	// checked the old secret just before the swap.
	if err := a.RevokeSecretGenerations(ctx, "lib", 9); err != nil {
		t.Fatal(err)
	}
	if _, err := mintOn(b, "lib", "late"); !errors.Is(err, app.ErrSecretReplaced) {
		t.Fatalf("mint with the old secret after the reset: %v, want ErrSecretReplaced", err)
	}
	libs.set("lib", 9)
	fresh, err := mintOn(b, "lib", "u0")
	if err != nil {
		t.Fatalf("mint with the new secret: %v", err)
	}
	for _, tok := range []*app.Tokens{a, b} {
		for _, tk := range old {
			if !poll(t, func() bool { _, err := tok.Validate(ctx, "lib", tk); return errors.Is(err, app.ErrInvalidAccessToken) }) {
				t.Fatal("a token of the old secret is still valid")
			}
		}
		for lib, tk := range map[string]string{"lib": fresh, "other": other} {
			if _, err := tok.Validate(ctx, lib, tk); err != nil {
				t.Fatalf("token of %s lost: %v", lib, err)
			}
		}
	}

	// A repeat, or a stale revocation below an older generation, touches nothing and keeps the floor.
	for _, floor := range []int64{9, 8} {
		if err := a.RevokeSecretGenerations(ctx, "lib", floor); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Validate(ctx, "lib", fresh); err != nil {
		t.Fatalf("a repeat revoked the new secret's token: %v", err)
	}
	libs.set("lib", 8)
	if _, err := mintOn(a, "lib", "x"); !errors.Is(err, app.ErrSecretReplaced) {
		t.Fatalf("the floor moved down: mint at generation 8 = %v", err)
	}
	if err := a.RevokeSecretGenerations(ctx, "lib", 0); !errors.Is(err, app.ErrParamInvalid) {
		t.Fatalf("generation 0 = %v, want ErrParamInvalid", err)
	}
}

// TestRevokeSecretGenerationsAcrossPages: a library with more tokens than one index page (1000),
// older and newer generations interleaved in key order, loses exactly its older tokens.
func TestRevokeSecretGenerationsAcrossPages(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	libs := &rotatingLibraries{generations: map[string]int64{"lib": 7}}
	tok := app.New(app.Config{Store: store.NewEtcd(cli), Libraries: libs, Clock: clock.NewFake(t0), FlushEvery: time.Hour})
	if err := tok.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tok.Close() })
	mintMany := func(n int) []string {
		out := make([]string, n)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					m, err := tok.Mint(ctx, app.MintInput{LibraryID: "lib", Secret: "s", UserID: fmt.Sprint("u", i%13), SpaceID: "-"})
					if err != nil {
						t.Error(err)
						return
					}
					out[i] = m.Token
				}
			})
		}
		wg.Wait()
		return out
	}
	older := mintMany(1500)
	libs.set("lib", 8)
	newer := mintMany(200)
	if t.Failed() {
		t.FailNow()
	}
	if err := tok.RevokeSecretGenerations(ctx, "lib", 8); err != nil {
		t.Fatal(err)
	}
	for _, tk := range older {
		if _, err := tok.Validate(ctx, "lib", tk); !errors.Is(err, app.ErrInvalidAccessToken) {
			t.Fatalf("an older token survived: %v", err)
		}
	}
	for _, tk := range newer {
		if _, err := tok.Validate(ctx, "lib", tk); err != nil {
			t.Fatalf("a newer token was revoked: %v", err)
		}
	}
	resp, err := cli.Get(ctx, "/smh/authtoken/tokens/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || resp.Count != int64(len(newer)) {
		t.Fatalf("token records left = %d (%v), want %d", resp.Count, err, len(newer))
	}
}
