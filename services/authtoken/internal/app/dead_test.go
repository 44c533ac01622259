package app_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
	"github.com/opensmh/opensmh/services/authtoken/internal/store"
)

// A dead token presented again and again costs one etcd read, not one per use.
func TestDeadTokensAreRefusedFromMemory(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	counting := &countingStore{Store: store.NewEtcd(cli)}
	tok := app.New(app.Config{Store: counting, Libraries: testLibraries(), Clock: clock.NewFake(t0), FlushEvery: time.Hour})
	if err := tok.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer tok.Close()

	revoked := mint(t, tok, app.MintInput{})
	if err := tok.Revoke(ctx, "single", revoked); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		token     string
		wantReads int64
	}{
		{"made up", "acctk" + strings.Repeat("0", 64), 1},
		{"revoked here", revoked, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counting.gets.Load()
			for range 100 {
				if _, err := tok.Validate(ctx, "single", tt.token); !errors.Is(err, app.ErrInvalidAccessToken) {
					t.Fatal(err)
				}
			}
			if n := counting.gets.Load() - before; n != tt.wantReads {
				t.Fatalf("%d store reads for 100 uses, want %d", n, tt.wantReads)
			}
		})
	}
}

type countingStore struct {
	app.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, hash string) (app.StoredToken, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, hash)
}
