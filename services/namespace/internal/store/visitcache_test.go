package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// A visit repeated while nothing is written is answered from the cache; any write that changes
// what it read (an entry renamed, deleted, restored; the share turned off or deleted) is seen by
// the next visit; a caller sorting the answer's items does not reorder the kept ones.
func TestVisitCache(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("docs")
		a := f.file("docs/a.txt", 3)
		f.file("b.txt", 1)
		f.file("c.txt", 2)
		sh := f.newShare("c", "alice", "cached", app.ShareConfig{IsPermanent: true, CanDownload: true}, "c.txt", "b.txt", "docs")
		docs := f.lookup("docs")
		chain := []int64{docs.Inode, a.Inode}
		visit := func() (app.ShareVisit, app.ShareVisit) {
			t.Helper()
			root, err := s.VisitShare(f.ctx, sh.Code, nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			end, err := s.VisitShare(f.ctx, sh.Code, chain, 0)
			if err != nil {
				t.Fatal(err)
			}
			return root, end
		}
		names := func(v app.ShareVisit) []string {
			var out []string
			for _, n := range v.Items {
				out = append(out, n.Name)
			}
			return out
		}
		root, end := visit()
		hits := s.visits.hits.Load()
		root2, end2 := visit()
		if got := s.visits.hits.Load() - hits; got != 2 {
			t.Fatalf("%d of 2 repeated visits answered from the cache", got)
		}
		if !slices.Equal(names(root2), []string{"c.txt", "b.txt", "docs"}) || end2.End.Inode != a.Inode || end2.End.Name != end.End.Name {
			t.Fatalf("cached visits %v / %+v, first %v / %+v", names(root2), end2.End, names(root), end.End)
		}
		slices.Reverse(root2.Items)
		if again, _ := visit(); !slices.Equal(names(again), []string{"c.txt", "b.txt", "docs"}) {
			t.Fatalf("a caller's sort reordered the kept items: %v", names(again))
		}

		if _, err := s.Move(f.ctx, f.lib, f.space, p("docs/a.txt"), p("docs/renamed.txt"), app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if _, end := visit(); end.End.Name != "renamed.txt" {
			t.Fatalf("after a rename the chain ends at %q", end.End.Name)
		}
		deleted, err := s.DeleteTree(f.ctx, f.lib, f.space, p("docs"), app.WriteRules{Recycle: true, UserID: "u1"}, f.tick())
		if err != nil {
			t.Fatal(err)
		}
		if root, end := visit(); !slices.Equal(names(root), []string{"c.txt", "b.txt"}) || !errors.Is(end.ChainErr, app.ErrNotInShare) {
			t.Fatalf("after the delete: %v / %v", names(root), end.ChainErr)
		}
		if _, err := s.RestoreRecycled(f.ctx, f.lib, f.space, deleted.RecycledID, app.RestoreOptions{}, app.WriteRules{Recycle: true, UserID: "u1"}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if root, end := visit(); len(root.Items) != 3 || end.ChainErr != nil || end.End.Name != "renamed.txt" {
			t.Fatalf("after the restore: %v / %+v %v", names(root), end.End, end.ChainErr)
		}
		cur, err := s.GetShare(f.ctx, f.lib, sh.ShareID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateShare(f.ctx, f.lib, sh.ShareID, cur.Version, nil, app.ShareConfig{IsPermanent: true, CanPreview: true}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if root, end := visit(); root.Share.Config.CanDownload || !end.Share.Config.CanPreview {
			t.Fatalf("a visit after the update sees %+v", root.Share.Config)
		}
		off := false
		if err := s.SetShareEnabled(f.ctx, f.lib, sh.ShareID, nil, &off, f.tick()); err != nil {
			t.Fatal(err)
		}
		if root, end := visit(); root.Share.OwnerEnabled || end.Share.OwnerEnabled {
			t.Fatal("a visit after the share was turned off still sees it on")
		}
		if err := s.DeleteShare(f.ctx, f.lib, sh.ShareID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VisitShare(f.ctx, sh.Code, nil, 10); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("a visit of the deleted share: %v", err)
		}
		if _, err := s.VisitShare(f.ctx, sh.Code, chain[:1], 0); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("a chain visit of the deleted share: %v", err)
		}
	})
}

// Visits racing writes never keep an answer older than the last write that ended: once the
// writer is done, every visit sees its last rename.
func TestVisitCacheUnderConcurrentWrites(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.file("f0", 1)
		sh := f.newShare("r", "alice", "race", app.ShareConfig{IsPermanent: true, CanDownload: true}, "f0")
		done := make(chan struct{})
		var visitors sync.WaitGroup
		for range 4 {
			visitors.Add(1)
			go func() {
				defer visitors.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					if _, err := s.VisitShare(f.ctx, sh.Code, nil, 10); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		name := "f0"
		for i := 1; i <= 30; i++ {
			next := fmt.Sprint("f", i)
			if _, err := s.Move(f.ctx, f.lib, f.space, p(name), p(next), app.ConflictAsk, app.WriteRules{}, f.now.Add(time.Duration(i)*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			name = next
			v, err := s.VisitShare(f.ctx, sh.Code, nil, 10)
			if err != nil || len(v.Items) != 1 || v.Items[0].Name != name {
				t.Fatalf("after rename %d a visit sees %+v, %v", i, v.Items, err)
			}
		}
		close(done)
		visitors.Wait()
	})
}
