package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

var binRules = app.WriteRules{Recycle: true, UserID: "u1"}

// markedRows counts the rows marked deleted: a delete marks its own row (and joining links) only.
func markedRows(t *testing.T, s *SQL) int64 {
	t.Helper()
	return rawQueryInt(t, s, "SELECT COUNT(*) FROM nodes WHERE deleted_at IS NOT NULL")
}

func (f *fixture) item(id int64) app.RecycledItem {
	f.t.Helper()
	it, err := f.st.RecycledItem(f.ctx, f.lib, f.space, id)
	if err != nil {
		f.t.Fatalf("RecycledItem(%d): %v", id, err)
	}
	return it
}

func (f *fixture) restore(id int64, opts app.RestoreOptions) []string {
	f.t.Helper()
	path, err := f.st.RestoreRecycled(f.ctx, f.lib, f.space, id, opts, binRules, f.tick())
	if err != nil {
		f.t.Fatalf("RestoreRecycled(%d): %v", id, err)
	}
	return path
}

func TestRecycleDirectoryKeepsItWhole(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		inodes := bigTree(f, "top/a")
		f.file("keep", 4)
		f.link("to-inside", "top/a/d1/f2.txt")
		before := f.counts()
		d, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("top/a"), binRules, f.tick())
		if err != nil || d.RecycledID <= 0 || d.Node.Inode != inodes["top/a"] {
			t.Fatalf("DeleteTree into the bin = %+v, %v", d, err)
		}
		// One row for the directory, one for the link from outside: nothing below was touched.
		if n := markedRows(t, s); n != 2 {
			t.Fatalf("%d rows marked, want 2", n)
		}
		c := f.counts()
		// 200 entries below a: 20 dirs, 180 files of 10*(45+9) bytes; plus a itself and the link.
		wantCounts(t, "live after", c, 4, 1, 1)
		if c.RecycledDirNum != 21 || c.RecycledFileNum != 181 {
			t.Fatalf("bin counters %+v", c)
		}
		it := f.item(d.RecycledID)
		if !slices.Equal(it.OriginalPath, []string{"top", "a"}) || it.Totals != (app.TreeTotals{Size: 540, Files: 181, Dirs: 21}) ||
			it.RemovedBy != "u1" || !it.ExpiresAt.IsZero() || it.Node.Type != app.TypeDir {
			t.Fatalf("item %+v", it)
		}
		if _, err := f.st.Lookup(f.ctx, f.lib, f.space, p("top/a/d1")); !errors.Is(err, app.ErrNodeNotFound) {
			t.Fatalf("a binned subtree is reachable: %v", err)
		}
		if _, _, err := f.st.NodeByInode(f.ctx, f.lib, f.space, inodes["top/a/d1/f2.txt"]); !errors.Is(err, app.ErrNodeNotFound) {
			t.Fatalf("an entry of a binned subtree answers by inode: %v", err)
		}
		checkInvariants(t, s, f.lib, f.space)

		// Restore: same inodes, counters back, the link back.
		if got := f.restore(d.RecycledID, app.RestoreOptions{Strategy: app.ConflictAsk}); !slices.Equal(got, []string{"top", "a"}) {
			t.Fatalf("restored to %v", got)
		}
		if f.lookup("top/a/d1/f2.txt").Inode != inodes["top/a/d1/f2.txt"] || f.resolve("to-inside") != "top/a/d1/f2.txt" {
			t.Fatal("the restored tree or its link differ")
		}
		after := f.counts()
		if after != before {
			t.Fatalf("counts after restore %+v, before delete %+v", after, before)
		}
		if _, err := f.st.RecycledItem(f.ctx, f.lib, f.space, d.RecycledID); !errors.Is(err, app.ErrRecycledItemNotFound) {
			t.Fatalf("the item outlived its restore: %v", err)
		}
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestRestoreWhereAndHow(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("x/y")
		f.file("x/y/f.txt", 3)
		del := func(path string) int64 {
			t.Helper()
			d, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p(path), binRules, f.tick())
			if err != nil || d.RecycledID <= 0 {
				t.Fatalf("DeleteFile(%s) = %+v, %v", path, d, err)
			}
			return d.RecycledID
		}
		id := del("x/y/f.txt")
		dirItem, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("x"), binRules, f.tick())
		if err != nil {
			t.Fatal(err)
		}
		// The original parents are gone: created again (empty), then the file is there.
		if got := f.restore(id, app.RestoreOptions{}); !slices.Equal(got, []string{"x", "y", "f.txt"}) {
			t.Fatalf("restored to %v", got)
		}
		checkInvariants(t, s, f.lib, f.space)
		// x exists again now: restoring the binned x clashes. ask refuses, rename renames.
		_, err = f.st.RestoreRecycled(f.ctx, f.lib, f.space, dirItem.RecycledID, app.RestoreOptions{Strategy: app.ConflictAsk}, binRules, f.tick())
		wantErr(t, "ask over a taken name", err, app.ErrNameTaken)
		_, err = f.st.RestoreRecycled(f.ctx, f.lib, f.space, dirItem.RecycledID, app.RestoreOptions{Strategy: app.ConflictOverwrite}, binRules, f.tick())
		wantErr(t, "overwrite a directory", err, app.ErrNameTaken)
		if got := f.restore(dirItem.RecycledID, app.RestoreOptions{Strategy: app.ConflictRename}); !slices.Equal(got, []string{"x (1)"}) {
			t.Fatalf("renamed restore to %v", got)
		}
		// The file inside the restored directory had left it before: x (1)/y is empty.
		if page, _ := f.st.List(f.ctx, f.lib, f.space, f.lookup("x (1)/y").Inode, app.ListOptions{}); len(page.Entries) != 0 {
			t.Fatalf("x (1)/y holds %s", names(page.Entries))
		}
		checkInvariants(t, s, f.lib, f.space)

		// fallbackToRoot: the parent is gone (and a file stands where a parent was).
		f.mkdir("p")
		f.file("p/q.txt", 5)
		id = del("p/q.txt")
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("p"), app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		f.file("p", 1)
		_, err = f.st.RestoreRecycled(f.ctx, f.lib, f.space, id, app.RestoreOptions{}, binRules, f.tick())
		wantErr(t, "original parent is a file", err, app.ErrNotDirectory)
		if got := f.restore(id, app.RestoreOptions{FallbackToRoot: true}); !slices.Equal(got, []string{"q.txt"}) {
			t.Fatalf("fallback restore to %v", got)
		}
		checkInvariants(t, s, f.lib, f.space)

		// A multi-album space keeps files out of its root (2.11): fallbackToRoot recreates the
		// album instead.
		f.mkdir("al")
		f.file("al/pic.jpg", 2)
		id = del("al/pic.jpg")
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("al"), app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if got := f.restore(id, app.RestoreOptions{FallbackToRoot: true, AlbumsOnly: true}); !slices.Equal(got, []string{"al", "pic.jpg"}) {
			t.Fatalf("albums-only fallback restore to %v", got)
		}
		checkInvariants(t, s, f.lib, f.space)

		// overwrite: the file in the way goes to the bin itself.
		f.file("w.txt", 7)
		id = del("w.txt")
		f.file("w.txt", 9)
		if got := f.restore(id, app.RestoreOptions{Strategy: app.ConflictOverwrite}); !slices.Equal(got, []string{"w.txt"}) {
			t.Fatalf("overwrite restore to %v", got)
		}
		if n := f.lookup("w.txt"); n.Size != 7 {
			t.Fatalf("w.txt has size %d after restoring the 7-byte one", n.Size)
		}
		page, err := f.st.ListRecycled(f.ctx, f.lib, f.space, app.RecycleListOptions{Count: true})
		if err != nil || page.Total != 1 || page.Items[0].Node.Name != "w.txt" || page.Items[0].Totals.Size != 9 {
			t.Fatalf("bin after the overwrite: %+v, %v", page, err)
		}
		_, err = f.st.RestoreRecycled(f.ctx, f.lib, f.space, 999999, app.RestoreOptions{}, binRules, f.tick())
		wantErr(t, "unknown item", err, app.ErrRecycledItemNotFound)
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestListRecycledOrdersAndMarkers(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		const n = 25
		for i := range n {
			// Names and sizes in an order of their own, so each listing order differs.
			f.file(fmt.Sprintf("f%02d", (i*7)%n), int64((i*11)%n))
		}
		for i := range n {
			if _, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p(fmt.Sprintf("f%02d", (i*3)%n)), binRules, f.tick()); err != nil {
				t.Fatal(err)
			}
		}
		for _, order := range []app.RecycleOrder{"", app.RecycleByName, app.RecycleBySize, app.RecycleByModificationTime, app.RecycleByRemovalTime} {
			for _, desc := range []bool{false, true} {
				var all []app.RecycledItem
				marker := ""
				for pages := 0; ; pages++ {
					page, err := f.st.ListRecycled(f.ctx, f.lib, f.space, app.RecycleListOptions{OrderBy: order, Desc: desc, Marker: marker, Limit: 4})
					if err != nil || pages > n {
						t.Fatalf("%s desc=%v: %v", order, desc, err)
					}
					all = append(all, page.Items...)
					if marker = page.NextMarker; marker == "" {
						break
					}
				}
				if len(all) != n {
					t.Fatalf("%s desc=%v: %d items through markers", order, desc, len(all))
				}
				key := func(it app.RecycledItem) string {
					switch order {
					case app.RecycleByName:
						return it.Node.Name
					case app.RecycleBySize:
						return fmt.Sprintf("%06d", it.Totals.Size)
					case app.RecycleByModificationTime:
						return fmt.Sprintf("%015d", it.Node.ModifiedAt.UnixMilli())
					}
					return fmt.Sprintf("%015d", it.RemovedAt.UnixMilli())
				}
				sorted := slices.IsSortedFunc(all, func(a, b app.RecycledItem) int {
					c := cmpStrings(key(a), key(b))
					if c == 0 {
						c = int(a.ID - b.ID)
					}
					if desc || order == "" {
						return -c
					}
					return c
				})
				if !sorted {
					t.Fatalf("%s desc=%v: not in order", order, desc)
				}
			}
		}
		// Page mode counts the whole bin; a marker of another order is refused.
		page, err := f.st.ListRecycled(f.ctx, f.lib, f.space, app.RecycleListOptions{Offset: 20, Limit: 10, Count: true})
		if err != nil || page.Total != n || len(page.Items) != 5 {
			t.Fatalf("page mode: %d items, total %d, %v", len(page.Items), page.Total, err)
		}
		first, _ := f.st.ListRecycled(f.ctx, f.lib, f.space, app.RecycleListOptions{Limit: 2})
		_, err = f.st.ListRecycled(f.ctx, f.lib, f.space, app.RecycleListOptions{OrderBy: app.RecycleByName, Marker: first.NextMarker})
		wantErr(t, "marker of another order", err, app.ErrMarkerNotFound)
		_, err = f.st.ListRecycled(f.ctx, f.lib, f.space, app.RecycleListOptions{Marker: "!!"})
		wantErr(t, "garbage marker", err, app.ErrMarkerNotFound)
	})
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestPurgeEmptyExpireAndBlobs(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		blob := func(path, id string) {
			t.Helper()
			if _, err := f.st.CreateFile(f.ctx, f.lib, f.space, p(path), app.Node{Size: 10, BlobID: id}, app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
				t.Fatal(err)
			}
		}
		blob("a", "blob-a")
		f.mkdir("d")
		blob("d/b", "blob-b")
		blob("c", "blob-c")
		blob("e", "blob-e")
		ids := map[string]int64{}
		for _, path := range []string{"a", "d", "c"} {
			d, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p(path), binRules, f.tick())
			if err != nil {
				t.Fatal(err)
			}
			ids[path] = d.RecycledID
		}
		all := []string{"blob-a", "blob-b", "blob-c", "blob-e"}
		refs := func() []string {
			t.Helper()
			if _, err := f.st.DrainPurges(f.ctx, time.Now().Add(time.Hour), 0); err != nil {
				t.Fatal(err)
			}
			r, err := f.st.ReferencedBlobs(f.ctx, all)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if r := refs(); !slices.Equal(r, all) {
			t.Fatalf("binned blobs must stay referenced: %v", r)
		}
		// Purging several is all or nothing.
		err := f.st.PurgeRecycled(f.ctx, f.lib, f.space, []int64{ids["a"], 424242}, f.tick())
		wantErr(t, "purge with an unknown id", err, app.ErrRecycledItemNotFound)
		if r := refs(); !slices.Equal(r, all) {
			t.Fatalf("a refused purge removed something: %v", r)
		}
		if err := f.st.PurgeRecycled(f.ctx, f.lib, f.space, []int64{ids["a"], ids["d"]}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if r := refs(); !slices.Equal(r, []string{"blob-c", "blob-e"}) {
			t.Fatalf("after purging a and d: %v", r)
		}
		checkInvariants(t, s, f.lib, f.space)
		if err := f.st.EmptyRecycled(f.ctx, f.lib, f.space, f.tick()); err != nil {
			t.Fatal(err)
		}
		if r := refs(); !slices.Equal(r, []string{"blob-e"}) {
			t.Fatalf("after emptying: %v", r)
		}
		if c := f.counts(); c.RecycledFileNum != 0 || c.RecycledDirNum != 0 {
			t.Fatalf("bin counters after emptying: %+v", c)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM nodes WHERE deleted_at IS NOT NULL"); n != 0 {
			t.Fatalf("%d deleted rows left after the drain", n)
		}
		checkInvariants(t, s, f.lib, f.space)

		// Expiry: items deleted with a retention go when it passes; a lengthened retention
		// applies to the items already binned, a shortened one does not.
		blob("r1", "blob-r1")
		blob("r2", "blob-r2")
		r1, _ := f.st.DeleteFile(f.ctx, f.lib, f.space, p("r1"), app.WriteRules{Recycle: true, RecycleDays: 2}, f.now)
		r2, _ := f.st.DeleteFile(f.ctx, f.lib, f.space, p("r2"), app.WriteRules{Recycle: true, RecycleDays: 2}, f.now)
		if err := f.st.SetRecycleRetention(f.ctx, f.lib, f.space, 1); err != nil {
			t.Fatal(err)
		}
		if got := f.item(r1.RecycledID).ExpiresAt; !got.Equal(f.now.Add(2 * day)) {
			t.Fatalf("shortening changed an existing item's expiry to %v", got)
		}
		if n, err := f.st.ExpireRecycled(f.ctx, f.now.Add(2*day+time.Millisecond), 0); err != nil || n != 2 {
			t.Fatalf("ExpireRecycled = %d, %v", n, err)
		}
		_ = r2
		blob("r3", "blob-r3")
		r3, _ := f.st.DeleteFile(f.ctx, f.lib, f.space, p("r3"), app.WriteRules{Recycle: true, RecycleDays: 2}, f.now)
		if err := f.st.SetRecycleRetention(f.ctx, f.lib, f.space, 5); err != nil {
			t.Fatal(err)
		}
		if got := f.item(r3.RecycledID).ExpiresAt; !got.Equal(f.now.Add(5 * day)) {
			t.Fatalf("lengthening did not reach an existing item: %v", got)
		}
		if n, err := f.st.ExpireRecycled(f.ctx, f.now.Add(3*day), 0); err != nil || n != 0 {
			t.Fatalf("ExpireRecycled before the lengthened expiry = %d, %v", n, err)
		}
		checkInvariants(t, s, f.lib, f.space)
	})
}

// TestRandomBinOperations runs seeded random creates, moves, copies, overwrites, symlinks,
// deletes into the bin or for good, restores (every strategy, both path strategies), purges and
// drains, checking the store's invariants every few steps: exact counters and subtree totals,
// no orphans, every deleted entry binned or queued, bin counters equal to the items.
func TestRandomBinOperations(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		base := newFixture(t, s)
		for _, seed := range []uint64{7, 8} {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				f := *base
				f.t = t
				f.space = fmt.Sprint("bin", seed)
				if err := f.st.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: f.space, CreatedAt: t0}); err != nil {
					t.Fatal(err)
				}
				runRandomBin(t, &f, rand.New(rand.NewPCG(seed, 5)), 250)
			})
		}
	})
}

func runRandomBin(t *testing.T, f *fixture, rng *rand.Rand, steps int) {
	names := []string{"a", "b", "c.txt"}
	strategies := []app.Conflict{app.ConflictAsk, app.ConflictRename, app.ConflictOverwrite}
	randPath := func() []string {
		path := []string{}
		for range 1 + rng.IntN(3) {
			path = append(path, names[rng.IntN(len(names))])
		}
		return path
	}
	expected := func(err error) bool {
		for _, e := range []error{app.ErrNameTaken, app.ErrDestinationInside, app.ErrNotDirectory, app.ErrNodeNotFound,
			app.ErrIsDirectory, app.ErrSymlinkOverwrite, app.ErrSourceMissing, app.ErrRecycledItemNotFound} {
			if errors.Is(err, e) {
				return true
			}
		}
		return err == nil
	}
	ops := map[string]int{}
	defer func() { t.Logf("operations: %v", ops) }()
	for step := range steps {
		strategy := strategies[rng.IntN(len(strategies))]
		rules := app.WriteRules{Recycle: rng.IntN(4) != 0}
		var (
			op  string
			err error
		)
		switch k := rng.IntN(14); {
		case k < 2:
			op = "mkdir"
			_, _, err = f.st.MakeDirectories(f.ctx, f.lib, f.space, randPath(), strategy, app.DirAttrs{}, f.tick())
		case k < 5:
			op = "file"
			_, err = f.st.CreateFile(f.ctx, f.lib, f.space, randPath(), app.Node{Size: int64(1 + rng.IntN(50)), BlobID: fmt.Sprint("b", step)}, strategy, rules, f.tick())
		case k < 6:
			op = "move"
			_, err = f.st.Move(f.ctx, f.lib, f.space, randPath(), randPath(), strategy, rules, f.tick())
		case k < 7:
			op = "copy"
			_, err = f.st.CopyTree(f.ctx, f.lib, f.space, randPath(), randPath(), strategy, rules, f.tick())
		case k < 8:
			op = "symlink"
			_, err = f.st.CreateSymlink(f.ctx, f.lib, f.space, randPath(), randPath(), strategy, "", rules, f.tick())
		case k < 10:
			op = "delete"
			_, err = f.st.DeleteTree(f.ctx, f.lib, f.space, randPath(), rules, f.tick())
		case k < 12:
			op = "restore"
			page, lerr := f.st.ListRecycled(f.ctx, f.lib, f.space, app.RecycleListOptions{Limit: 100})
			if lerr != nil {
				t.Fatal(lerr)
			}
			if len(page.Items) == 0 {
				continue
			}
			it := page.Items[rng.IntN(len(page.Items))]
			_, err = f.st.RestoreRecycled(f.ctx, f.lib, f.space, it.ID, app.RestoreOptions{Strategy: strategy, FallbackToRoot: rng.IntN(2) == 0}, rules, f.tick())
		case k < 13:
			op = "purge"
			page, _ := f.st.ListRecycled(f.ctx, f.lib, f.space, app.RecycleListOptions{Limit: 3})
			var ids []int64
			for _, it := range page.Items {
				ids = append(ids, it.ID)
			}
			err = f.st.PurgeRecycled(f.ctx, f.lib, f.space, ids, f.tick())
		default:
			op = "drain"
			_, err = f.st.DrainPurges(f.ctx, time.Now().Add(time.Hour), 1+rng.IntN(5))
		}
		if !expected(err) {
			t.Fatalf("step %d %s: %v", step, op, err)
		}
		if err == nil {
			ops[op]++
		}
		t.Logf("step %d: %s (%v)", step, op, err)
		if step%4 == 3 || step == steps-1 {
			checkInvariants(t, f.raw, f.lib, f.space)
		}
	}
}
