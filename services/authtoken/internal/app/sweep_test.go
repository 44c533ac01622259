package app_test

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
	"github.com/opensmh/opensmh/services/authtoken/internal/store"
)

const usersPrefix = "/smh/authtoken/users/"

func hashOf(token string) string {
	h := authz.HashToken(token)
	return hex.EncodeToString(h[:])
}

// storedHashes answers the hashes of the token records and of the index entries in etcd.
func storedHashes(t *testing.T, cli *clientv3.Client) (records, index []string) {
	t.Helper()
	ctx := context.Background()
	for _, p := range []struct {
		prefix string
		out    *[]string
	}{{tokensPrefix, &records}, {usersPrefix, &index}} {
		resp, err := cli.Get(ctx, p.prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range resp.Kvs {
			k := string(kv.Key)
			*p.out = append(*p.out, k[strings.LastIndex(k, "/")+1:])
		}
		slices.Sort(*p.out)
	}
	return records, index
}

func TestSweepExpired(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	a := newTokens(t, cli, clk)
	// The sweeping instance has cached nothing: expiry is judged from the records alone.
	b := newTokens(t, cli, clk)

	mintN := func(n int, period string) []string {
		var out []string
		for i := range n {
			out = append(out, mint(t, a, app.MintInput{UserID: "user" + string(rune('a'+i)), Period: period}))
		}
		return out
	}
	old := mintN(4, "1200") // expires t0+20m; sweepable from t0+25m
	clk.Advance(10 * time.Minute)
	inGrace := mintN(3, "1200") // expires t0+30m; sweepable from t0+35m
	clk.Advance(10 * time.Minute)
	fresh := mintN(3, "3600") // expires t0+80m
	clk.Advance(12 * time.Minute)

	wantLeft := func(tokens ...[]string) []string {
		var out []string
		for _, tt := range tokens {
			for _, tok := range tt {
				out = append(out, hashOf(tok))
			}
		}
		slices.Sort(out)
		return out
	}
	sweep := func(want int) {
		t.Helper()
		n, err := b.SweepExpired(ctx, 3) // pages of 3 over 10 records: page boundaries are crossed
		if err != nil || n != want {
			t.Fatalf("SweepExpired = %d, %v; want %d", n, err, want)
		}
	}

	sweep(4)
	records, index := storedHashes(t, cli)
	if want := wantLeft(inGrace, fresh); !slices.Equal(records, want) || !slices.Equal(index, want) {
		t.Fatalf("after sweep:\nrecords %v\nindex   %v\nwant    %v", records, index, want)
	}
	for _, tok := range fresh {
		for _, inst := range []*app.Tokens{a, b} {
			if _, err := inst.Validate(ctx, "single", tok); err != nil {
				t.Errorf("fresh token refused after sweep: %v", err)
			}
		}
	}
	for _, tok := range old {
		if _, err := b.Validate(ctx, "single", tok); !errors.Is(err, app.ErrInvalidAccessToken) {
			t.Errorf("swept token: %v", err)
		}
	}
	sweep(0) // idempotent

	// Past the grace, the tokens that were within it go too.
	clk.Advance(4 * time.Minute)
	sweep(3)
	sweep(0)
	records, index = storedHashes(t, cli)
	if want := wantLeft(fresh); !slices.Equal(records, want) || !slices.Equal(index, want) {
		t.Fatalf("after second sweep:\nrecords %v\nindex   %v\nwant    %v", records, index, want)
	}
}

// A use this instance has not written yet keeps the token from this instance's sweep. (Other
// instances rely on the grace: the flusher writes such a use within about a minute.)
func TestSweepSparesUnwrittenUse(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	tok := newTokens(t, etcdtest.New(t), clk)
	token := mint(t, tok, app.MintInput{Period: "1200"})
	clk.Advance(19 * time.Minute)
	if _, err := tok.Validate(ctx, "single", token); err != nil {
		t.Fatal(err)
	}
	clk.Advance(7 * time.Minute) // the record says sweepable; this instance's use says live
	if n, err := tok.SweepExpired(ctx, 3); n != 0 || err != nil {
		t.Fatalf("SweepExpired = %d, %v", n, err)
	}
	if _, err := tok.Validate(ctx, "single", token); err != nil {
		t.Fatal(err)
	}
}

// racingStore rewrites every record the sweep reads before the sweep can delete it, as a renewal
// written by another instance between the page read and the delete would.
type racingStore struct {
	*store.Etcd
	rewrite func(app.Record) app.Record // nil = no race
}

func (s *racingStore) Scan(ctx context.Context, after string, limit int) ([]app.StoredToken, string, error) {
	page, next, err := s.Etcd.Scan(ctx, after, limit)
	if err != nil || s.rewrite == nil {
		return page, next, err
	}
	for _, st := range page {
		if _, err := s.SaveRenewal(ctx, st.Hash, s.rewrite(st.Record), st.ModRevision); err != nil {
			return nil, "", err
		}
	}
	return page, next, nil // stale: the mod revisions no longer match
}

func TestSweepLosesToConcurrentWrite(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	a := newTokens(t, cli, clk)
	racing := &racingStore{Etcd: store.NewEtcd(cli)}
	sweeper := app.New(app.Config{Store: racing, Libraries: testLibraries(), Clock: clk})
	t.Cleanup(func() { sweeper.Close() })

	renewed := mint(t, a, app.MintInput{Period: "1200"})
	clk.Advance(time.Hour)

	// A renewal lands between read and delete: the renewal wins and the token lives on.
	racing.rewrite = func(r app.Record) app.Record {
		r.LastRenewedAt = clk.Now()
		return r
	}
	if n, err := sweeper.SweepExpired(ctx, 3); n != 0 || err != nil {
		t.Fatalf("SweepExpired = %d, %v", n, err)
	}
	if _, err := a.Validate(ctx, "single", renewed); err != nil {
		t.Fatalf("renewed token: %v", err)
	}

	// Any change of the record refuses the delete, even one that leaves it expired; the next
	// sweep judges it again and deletes it.
	clk.Advance(time.Hour)
	racing.rewrite = func(r app.Record) app.Record { return r }
	if n, err := sweeper.SweepExpired(ctx, 3); n != 0 || err != nil {
		t.Fatalf("SweepExpired = %d, %v", n, err)
	}
	racing.rewrite = nil
	if n, err := sweeper.SweepExpired(ctx, 3); n != 1 || err != nil {
		t.Fatalf("SweepExpired = %d, %v; want 1", n, err)
	}
	if records, index := storedHashes(t, cli); len(records)+len(index) != 0 {
		t.Fatalf("left in etcd: %v %v", records, index)
	}
}
