package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// TestConcurrentCreatesOfOneName: creates share the space (inCreate), so on PostgreSQL many
// creates of one name race to the unique index. Under rename every create lands, each at its
// own name; under ask exactly one lands and the others are told the name is taken.
func TestConcurrentCreatesOfOneName(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		const n = 12
		run := func(strategy app.Conflict, file bool) (placed []string, taken int) {
			t.Helper()
			var (
				mu sync.Mutex
				wg sync.WaitGroup
			)
			for i := range n {
				wg.Go(func() {
					var (
						path []string
						err  error
					)
					now := t0.Add(time.Duration(i) * time.Millisecond)
					if file {
						var pl app.Placed
						pl, err = s.CreateFile(f.ctx, f.lib, f.space, p("d/f.txt"), app.Node{Size: 1, BlobID: fmt.Sprint("b", i)}, strategy, app.WriteRules{}, now)
						path = pl.Path
					} else {
						_, path, err = s.MakeDirectories(f.ctx, f.lib, f.space, p("d/x/y"), strategy, app.DirAttrs{UserID: "u"}, now)
					}
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						placed = append(placed, join(path))
					case errors.Is(err, app.ErrNameTaken):
						taken++
					default:
						t.Errorf("create: %v", err)
					}
				})
			}
			wg.Wait()
			return placed, taken
		}
		if placed, taken := run(app.ConflictAsk, true); len(placed) != 1 || taken != n-1 {
			t.Fatalf("ask: placed %v, %d taken", placed, taken)
		}
		placed, _ := run(app.ConflictRename, true)
		if len(toSet(placed)) != n {
			t.Fatalf("rename: %d distinct names of %d: %v", len(toSet(placed)), n, placed)
		}
		dirs, _ := run(app.ConflictRename, false)
		if len(toSet(dirs)) != n {
			t.Fatalf("directories under rename: %v", dirs)
		}
		c, err := s.SpaceCounts(f.ctx, f.lib, f.space)
		// d, d/x, and n directories y..y (n-1); files: 1 (ask) + n (rename).
		if err != nil || c.FileNum != 1+n || c.DirNum != 2+n {
			t.Fatalf("counts %+v (%v)", c, err)
		}
		page, err := s.List(f.ctx, f.lib, f.space, mustLookup(t, f, "d").Inode, app.ListOptions{Limit: 100})
		if err != nil || page.FileCount != 1+n || page.SubDirCount != 1 {
			t.Fatalf("d's children: %d files, %d dirs (%v)", page.FileCount, page.SubDirCount, err)
		}
	})
}

// TestCreatesWaitForDeletes: a create under a directory being deleted either lands before the
// delete (and goes with it) or finds the directory gone; it never leaves a live entry under a
// deleted parent.
func TestCreatesWaitForDeletes(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		for round := range 10 {
			dir := fmt.Sprint("r", round)
			f.mkdir(dir)
			var wg sync.WaitGroup
			for i := range 6 {
				wg.Go(func() {
					_, _, _ = s.MakeDirectories(f.ctx, f.lib, f.space, p(fmt.Sprintf("%s/c%d", dir, i)), app.ConflictAsk, app.DirAttrs{}, t0)
				})
			}
			wg.Go(func() {
				if _, err := s.DeleteTree(f.ctx, f.lib, f.space, p(dir), app.WriteRules{}, time.Now()); err != nil && !errors.Is(err, app.ErrNodeNotFound) {
					t.Errorf("delete: %v", err)
				}
			})
			wg.Wait()
			// Whatever won, the tree has no orphans, and nothing was created under the deleted
			// directory after the delete (its totals and the counters would disagree).
			checkInvariants(t, s, f.lib, f.space)
			var orphans int
			var err error
			if err != nil || orphans != 0 {
				t.Fatalf("round %d: %d orphans (%v)", round, orphans, err)
			}
		}
	})
}

func mustLookup(t *testing.T, f *fixture, path string) app.Node {
	t.Helper()
	n, err := f.st.Lookup(f.ctx, f.lib, f.space, p(path))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
