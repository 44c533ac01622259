package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// quotaFixture is a library with spaces sp1 (the fixture's), sp2 and sp3.
func quotaFixture(t *testing.T, s *SQL) *fixture {
	t.Helper()
	f := newFixture(t, s)
	for _, id := range []string{"sp2", "sp3"} {
		if err := s.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: id, CreatedAt: t0}); err != nil {
			t.Fatalf("CreateSpace %s: %v", id, err)
		}
	}
	return f
}

// putFileIn creates a file of size bytes in space.
func (f *fixture) putFileIn(space, path string, size int64) {
	f.t.Helper()
	_, err := f.st.CreateFile(f.ctx, f.lib, space, p(path), app.Node{Size: size, BlobID: "blob-" + path}, app.ConflictAsk, app.WriteRules{}, f.tick())
	if err != nil {
		f.t.Fatalf("CreateFile %s/%s: %v", space, path, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestQuotaCreateReadUpdate(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := quotaFixture(t, s)
		f.putFileIn("sp1", "a", 30)
		f.putFileIn("sp2", "b", 12)
		id, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp2", "sp1"}, Capacity: 100,
			RemoveWhenExceed: true, RemoveAfterDays: 7}, false, t0)
		if err != nil || id <= 0 {
			t.Fatalf("CreateQuota: %d %v", id, err)
		}
		q, err := s.QuotaOfSpace(f.ctx, f.lib, "sp2")
		if err != nil || q.ID != id || q.Capacity != 100 || !slices.Equal(q.Spaces, []string{"sp1", "sp2"}) ||
			q.Usage != 42 || q.Available() != 58 || !q.RemoveWhenExceed || q.RemoveAfterDays != 7 || q.RemoveNewest {
			t.Fatalf("QuotaOfSpace: %+v %v", q, err)
		}
		if byID, err := s.QuotaByID(f.ctx, f.lib, id); err != nil || !slices.Equal(byID.Spaces, q.Spaces) || byID.Usage != 42 {
			t.Fatalf("QuotaByID: %+v %v", byID, err)
		}
		if _, err := s.QuotaByID(f.ctx, "another-lib", id); !errors.Is(err, app.ErrQuotaNotFound) {
			t.Fatalf("another library's quota id: %v", err)
		}
		if _, err := s.QuotaOfSpace(f.ctx, f.lib, "sp3"); !errors.Is(err, app.ErrNoQuota) {
			t.Fatalf("space without quota: %v", err)
		}

		// A space that has a quota, or that does not exist, refuses the whole create.
		if _, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp3", "sp2"}, Capacity: 5}, false, t0); !errors.Is(err, app.ErrDuplicateQuota) {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp3", "nope"}, Capacity: 5}, false, t0); !errors.Is(err, app.ErrSpaceNotFound) {
			t.Fatalf("unknown space: %v", err)
		}
		if _, err := s.QuotaOfSpace(f.ctx, f.lib, "sp3"); !errors.Is(err, app.ErrNoQuota) {
			t.Fatalf("a refused create left sp3 a quota: %v", err)
		}

		// By space: capacity and options; spaces stay.
		if err := s.UpdateQuotaOfSpace(f.ctx, f.lib, "sp1", app.QuotaPatch{Capacity: ptr[int64](200), RemoveNewest: ptr(true)}, false); err != nil {
			t.Fatalf("UpdateQuotaOfSpace: %v", err)
		}
		if q, _ := s.QuotaByID(f.ctx, f.lib, id); q.Capacity != 200 || !q.RemoveNewest || q.RemoveAfterDays != 7 || len(q.Spaces) != 2 {
			t.Fatalf("after update by space: %+v", q)
		}
		if err := s.UpdateQuotaOfSpace(f.ctx, f.lib, "sp3", app.QuotaPatch{Capacity: ptr[int64](1)}, false); !errors.Is(err, app.ErrNoQuota) {
			t.Fatalf("update of a space without quota: %v", err)
		}
		// By id: the spaces list is replaced whole.
		if err := s.UpdateQuotaByID(f.ctx, f.lib, id, app.QuotaPatch{Spaces: []string{"sp3"}}, false); err != nil {
			t.Fatalf("UpdateQuotaByID: %v", err)
		}
		if _, err := s.QuotaOfSpace(f.ctx, f.lib, "sp1"); !errors.Is(err, app.ErrNoQuota) {
			t.Fatalf("sp1 still covered: %v", err)
		}
		if q, _ := s.QuotaOfSpace(f.ctx, f.lib, "sp3"); q.ID != id || q.Capacity != 200 || q.Usage != 0 {
			t.Fatalf("sp3's quota: %+v", q)
		}
		other, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp1"}, Capacity: 1000}, false, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateQuotaByID(f.ctx, f.lib, id, app.QuotaPatch{Spaces: []string{"sp3", "sp1"}}, false); !errors.Is(err, app.ErrDuplicateQuota) {
			t.Fatalf("claiming another quota's space: %v", err)
		}
		if q, _ := s.QuotaByID(f.ctx, f.lib, id); !slices.Equal(q.Spaces, []string{"sp3"}) {
			t.Fatalf("a refused update changed the spaces: %+v", q)
		}
		if err := s.UpdateQuotaByID(f.ctx, f.lib, 999999, app.QuotaPatch{Capacity: ptr[int64](1)}, false); !errors.Is(err, app.ErrQuotaNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
		if total, err := s.AllocatedQuota(f.ctx, f.lib); err != nil || total != 1200 {
			t.Fatalf("AllocatedQuota: %d %v", total, err)
		}
		_ = other
	})
}

// TestQuotaDenyBelowUsage: with the library's denyOnQuotaLessThanUsage a capacity under the usage
// is refused at create and update and changes nothing; without it the quota is taken as given.
func TestQuotaDenyBelowUsage(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := quotaFixture(t, s)
		f.putFileIn("sp1", "a", 100)
		if _, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp1"}, Capacity: 99}, true, t0); !errors.Is(err, app.ErrQuotaLessThanUsage) {
			t.Fatalf("create below usage: %v", err)
		}
		if _, err := s.QuotaOfSpace(f.ctx, f.lib, "sp1"); !errors.Is(err, app.ErrNoQuota) {
			t.Fatalf("the refused quota exists: %v", err)
		}
		id, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp1"}, Capacity: 100}, true, t0)
		if err != nil {
			t.Fatalf("create at usage: %v", err)
		}
		if err := s.UpdateQuotaOfSpace(f.ctx, f.lib, "sp1", app.QuotaPatch{Capacity: ptr[int64](10)}, true); !errors.Is(err, app.ErrQuotaLessThanUsage) {
			t.Fatalf("update below usage: %v", err)
		}
		if q, _ := s.QuotaByID(f.ctx, f.lib, id); q.Capacity != 100 {
			t.Fatalf("refused update changed the capacity: %+v", q)
		}
		if err := s.UpdateQuotaOfSpace(f.ctx, f.lib, "sp1", app.QuotaPatch{Capacity: ptr[int64](10)}, false); err != nil {
			t.Fatalf("update below usage without deny: %v", err)
		}
		if _, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp2"}, Capacity: 0}, false, t0); err != nil {
			t.Fatalf("a zero quota: %v", err)
		}
	})
}

// runCheck runs checkQuota in a write transaction of its own.
func runCheck(f *fixture, space string, added int64, rules app.WriteRules) error {
	return f.raw.inWrite(f.ctx, "", "", func(t *sqldb.Tx) error {
		return checkQuota(f.ctx, t, f.lib, space, added, rules)
	})
}

// TestCheckQuota: a write is refused exactly when, after it, usage (live + bin + versions) is
// above the capacity of the space's quota or of the library's cap; a write adding nothing is
// never refused (it cannot make things worse).
func TestCheckQuota(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := quotaFixture(t, s)
		f.putFileIn("sp1", "a", 60)
		f.putFileIn("sp2", "b", 40)
		if _, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp1", "sp2"}, Capacity: 100}, false, t0); err != nil {
			t.Fatal(err)
		}
		if err := runCheck(f, "sp1", 1, app.WriteRules{}); err != nil {
			t.Fatalf("usage == capacity: %v", err)
		}
		// The bin and the versions count: one more byte of either puts the quota over.
		for _, col := range []string{"recycled_size", "history_size"} {
			rawExec(t, s, "UPDATE spaces SET "+col+" = 1 WHERE library_id = ? AND space_id = ?", f.lib, "sp2")
			if err := runCheck(f, "sp1", 1, app.WriteRules{}); !errors.Is(err, app.ErrQuotaLimitReached) {
				t.Fatalf("%s over: %v", col, err)
			}
			if err := runCheck(f, "sp1", 0, app.WriteRules{}); err != nil {
				t.Fatalf("a write adding nothing was refused: %v", err)
			}
			rawExec(t, s, "UPDATE spaces SET "+col+" = 0 WHERE library_id = ? AND space_id = ?", f.lib, "sp2")
		}
		// sp3 has no quota; the library's cap covers every space (100 bytes used so far).
		if err := runCheck(f, "sp3", 1, app.WriteRules{}); err != nil {
			t.Fatalf("no quota: %v", err)
		}
		f.putFileIn("sp3", "c", 5)
		if err := runCheck(f, "sp3", 1, app.WriteRules{LibraryQuota: 105}); err != nil {
			t.Fatalf("library cap at usage: %v", err)
		}
		if err := runCheck(f, "sp3", 1, app.WriteRules{LibraryQuota: 104}); !errors.Is(err, app.ErrQuotaLimitReached) {
			t.Fatalf("library cap over: %v", err)
		}
		if rem, limited, err := s.RemainingSpace(f.ctx, f.lib, "sp1", 0); err != nil || !limited || rem != 0 {
			t.Fatalf("RemainingSpace sp1: %d %v %v", rem, limited, err)
		}
		if rem, limited, err := s.RemainingSpace(f.ctx, f.lib, "sp3", 0); err != nil || limited {
			t.Fatalf("RemainingSpace without quota: %d %v %v", rem, limited, err)
		}
		if rem, limited, err := s.RemainingSpace(f.ctx, f.lib, "sp3", 150); err != nil || !limited || rem != 45 {
			t.Fatalf("RemainingSpace under the library cap: %d %v %v", rem, limited, err)
		}
		if err := s.UpdateQuotaOfSpace(f.ctx, f.lib, "sp1", app.QuotaPatch{Capacity: ptr[int64](130)}, false); err != nil {
			t.Fatal(err)
		}
		if rem, _, err := s.RemainingSpace(f.ctx, f.lib, "sp1", 120); err != nil || rem != 15 {
			t.Fatalf("RemainingSpace takes the least of quota and library: %d %v", rem, err)
		}
	})
}

func rawExec(t *testing.T, s *SQL, q string, args ...any) {
	t.Helper()
	err := s.inWrite(context.Background(), "", "", func(tx *sqldb.Tx) error {
		_, err := tx.Exec(context.Background(), q, args...)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestQuotaGoesWithSpaceAndLibrary: deleting a space removes its membership, and the quota too
// when it was the quota's last space; deleting a library removes its quotas.
func TestQuotaGoesWithSpaceAndLibrary(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := quotaFixture(t, s)
		shared, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp1", "sp2"}, Capacity: 10}, false, t0)
		if err != nil {
			t.Fatal(err)
		}
		alone, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp3"}, Capacity: 10}, false, t0)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range []string{"sp2", "sp3"} {
			if err := s.DeleteSpace(f.ctx, f.lib, sp, true); err != nil {
				t.Fatal(err)
			}
		}
		if q, err := s.QuotaByID(f.ctx, f.lib, shared); err != nil || !slices.Equal(q.Spaces, []string{"sp1"}) {
			t.Fatalf("shared quota after its space went: %+v %v", q, err)
		}
		if _, err := s.QuotaByID(f.ctx, f.lib, alone); !errors.Is(err, app.ErrQuotaNotFound) {
			t.Fatalf("a quota without spaces stayed: %v", err)
		}
		// A space created again under the old id starts without a quota.
		if err := s.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: "sp3", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.QuotaOfSpace(f.ctx, f.lib, "sp3"); !errors.Is(err, app.ErrNoQuota) {
			t.Fatalf("recreated space inherited a quota: %v", err)
		}
		if err := s.DeleteLibrary(f.ctx, f.lib); err != nil {
			t.Fatal(err)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM quotas WHERE library_id = ?", f.lib); n != 0 {
			t.Fatalf("%d quotas outlived their library", n)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM quota_spaces WHERE library_id = ?", f.lib); n != 0 {
			t.Fatalf("%d memberships outlived their library", n)
		}
	})
}

// TestQuotaRace: many commits race into the spaces of one quota whose capacity fits exactly K
// of them. Exactly K land and every other is refused with ErrQuotaLimitReached: the quota is
// never passed, and no commit that fits is refused. Run for one space, for two spaces under one
// quota (the quota row serialises writers that share no space lock), and for the library's cap.
func TestQuotaRace(t *testing.T) {
	const (
		size    = 1000
		fit     = 7
		writers = 24
	)
	cases := []struct {
		name   string
		spaces []string
		quota  bool // a space quota; otherwise the library's cap
	}{
		{"one space", []string{"sp1"}, true},
		{"two spaces under one quota", []string{"sp1", "sp2"}, true},
		{"library cap over two spaces", []string{"sp1", "sp3"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachEngine(t, func(t *testing.T, s *SQL) {
				f := quotaFixture(t, s)
				rules := app.WriteRules{}
				if tc.quota {
					if _, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: tc.spaces, Capacity: fit * size}, false, t0); err != nil {
						t.Fatal(err)
					}
				} else {
					rules.LibraryQuota = fit * size
				}
				var (
					wg              sync.WaitGroup
					mu              sync.Mutex
					landed, refused int
				)
				for i := range writers {
					wg.Go(func() {
						space := tc.spaces[i%len(tc.spaces)]
						_, err := s.CommitUpload(f.ctx, f.lib, space, p(fmt.Sprintf("f%d", i)),
							app.Node{Size: size, BlobID: fmt.Sprint("blob", i)}, app.ConflictAsk, fmt.Sprint("up", i), rules, t0)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							landed++
						case errors.Is(err, app.ErrQuotaLimitReached):
							refused++
						default:
							t.Errorf("commit %d: %v", i, err)
						}
					})
				}
				wg.Wait()
				if landed != fit || refused != writers-fit {
					t.Fatalf("%d landed, %d refused; want %d and %d", landed, refused, fit, writers-fit)
				}
				var usage int64
				for _, sp := range tc.spaces {
					c, err := s.SpaceCounts(f.ctx, f.lib, sp)
					if err != nil {
						t.Fatal(err)
					}
					usage += c.Usage()
				}
				if usage != fit*size {
					t.Fatalf("usage %d, want %d", usage, fit*size)
				}
			})
		})
	}
}
