package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Issue 12 fileops on both engines: the contents view (2.10) and stats calibration (4.9).

func TestContentsView(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("a/b")
		f.mkdir("gone/deeper")
		f.file("a/b/z.txt", 5)
		f.file("a/y.txt", 50)
		f.file("x.txt", 500)
		f.file("gone/deeper/hidden.txt", 1)
		f.link("a/l.txt", "x.txt")
		if _, err := s.DeleteTree(f.ctx, f.lib, f.space, p("gone"), app.WriteRules{Recycle: true}, f.tick()); err != nil {
			t.Fatal(err)
		}
		walk := func(opts app.ContentsViewOptions) ([]string, [][]string) {
			t.Helper()
			var names []string
			var paths [][]string
			for {
				page, err := s.ContentsView(f.ctx, f.lib, f.space, opts)
				if err != nil {
					t.Fatalf("ContentsView(%+v): %v", opts, err)
				}
				for i, n := range page.Entries {
					names = append(names, n.Name)
					if opts.WithPath {
						paths = append(paths, page.Paths[i])
					}
				}
				if page.NextMarker == "" {
					return names, paths
				}
				opts.Marker = page.NextMarker
			}
		}
		// Files of every directory, none under the deleted one, in each order and direction,
		// one per page (so every marker is used).
		for _, tt := range []struct {
			order app.OrderBy
			desc  bool
			want  []string
		}{
			{app.OrderName, false, []string{"l.txt", "x.txt", "y.txt", "z.txt"}},
			{app.OrderName, true, []string{"z.txt", "y.txt", "x.txt", "l.txt"}},
			{app.OrderSize, true, []string{"x.txt", "y.txt", "z.txt", "l.txt"}},
			{app.OrderCreationTime, false, []string{"z.txt", "y.txt", "x.txt", "l.txt"}},
			{app.OrderUploadTime, true, []string{"l.txt", "x.txt", "y.txt", "z.txt"}},
		} {
			if got, _ := walk(app.ContentsViewOptions{OrderBy: tt.order, Desc: tt.desc, Limit: 1}); !slices.Equal(got, tt.want) {
				t.Errorf("files by %s desc=%v: %v, want %v", tt.order, tt.desc, got, tt.want)
			}
		}
		names, paths := walk(app.ContentsViewOptions{OnlyDirs: true, OrderBy: app.OrderName, Limit: 2, WithPath: true})
		if !slices.Equal(names, []string{"a", "b"}) || !slices.Equal(paths[1], []string{"a", "b"}) {
			t.Fatalf("directories: %v %v", names, paths)
		}
		// A marker of another order, or garbage, is refused.
		page, err := s.ContentsView(f.ctx, f.lib, f.space, app.ContentsViewOptions{OrderBy: app.OrderName, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []app.ContentsViewOptions{
			{OrderBy: app.OrderSize, Limit: 1, Marker: page.NextMarker},
			{OrderBy: app.OrderName, Limit: 1, Marker: page.NextMarker, OnlyDirs: true},
			{OrderBy: app.OrderName, Limit: 1, Marker: "!!"},
		} {
			if _, err := s.ContentsView(f.ctx, f.lib, f.space, opts); !errors.Is(err, app.ErrMarkerNotFound) {
				t.Errorf("%+v: %v, want ErrMarkerNotFound", opts, err)
			}
		}
		// Restoring the directory brings its files back into the view.
		items, err := s.ListRecycled(f.ctx, f.lib, f.space, app.RecycleListOptions{Limit: 10})
		if err != nil || len(items.Items) != 1 {
			t.Fatalf("bin: %+v %v", items, err)
		}
		if _, err := s.RestoreRecycled(f.ctx, f.lib, f.space, items.Items[0].ID, app.RestoreOptions{}, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if got, _ := walk(app.ContentsViewOptions{OrderBy: app.OrderName, Limit: 3}); !slices.Contains(got, "hidden.txt") {
			t.Fatalf("after restore: %v", got)
		}
	})
}

func TestCalibrateStats(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("a/b/c")
		f.mkdir("d")
		f.file("a/b/c/one.bin", 10)
		f.file("a/two.bin", 20)
		f.file("d/three.bin", 30)
		f.mkdir("bin/inner")
		f.file("bin/inner/four.bin", 40)
		if _, err := s.DeleteTree(f.ctx, f.lib, f.space, p("bin"), app.WriteRules{Recycle: true}, f.tick()); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, s, f.lib, f.space)
		binItem := rawQueryInt(t, s, "SELECT id FROM recycled_items")
		// Skew every stored total on purpose.
		rawExec(t, s, "UPDATE nodes SET tree_size = tree_size + 7, tree_files = tree_files + 3, tree_dirs = 99, child_files = 5 WHERE is_dir = 1")
		rawExec(t, s, "UPDATE spaces SET size = 1, file_num = 2, dir_num = 3, root_child_dirs = 9, recycled_size = 4, recycled_file_num = 5, recycled_dir_num = 6, history_size = 7, history_file_num = 8")
		rawExec(t, s, "UPDATE recycled_items SET size = 1, files = 1, dirs = 1")

		// A subdirectory: its subtree is repaired (its correction also moves the space, see
		// TestCalibrateStatsRepairsAncestors); d, outside it, is left for a root calibration.
		if err := s.CalibrateStats(f.ctx, f.lib, f.space, p("a"), app.StatsNormal, 0); err != nil {
			t.Fatal(err)
		}
		if got := rawQueryInt(t, s, "SELECT tree_size FROM nodes WHERE inode = ?", f.lookup("a").Inode); got != 30 {
			t.Fatalf("a holds %d bytes after calibration, want 30", got)
		}
		if got := rawQueryInt(t, s, "SELECT tree_dirs FROM nodes WHERE inode = ?", f.lookup("d").Inode); got != 99 {
			t.Fatalf("d outside the calibrated subtree changed: %d", got)
		}
		for _, typ := range []string{app.StatsNormal, app.StatsRecycle, app.StatsHistory} {
			if err := s.CalibrateStats(f.ctx, f.lib, f.space, nil, typ, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CalibrateStats(f.ctx, f.lib, f.space, nil, app.StatsRecycle, binItem); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, s, f.lib, f.space)
		if c := f.counts(); c.Size != 60 || c.FileNum != 3 || c.DirNum != 4 || c.RecycledSize != 40 || c.RecycledFileNum != 1 ||
			c.RecycledDirNum != 2 || c.HistorySize != 0 || c.HistoryFileNum != 0 {
			t.Fatalf("counters after calibration %+v", c)
		}
		if err := s.CalibrateStats(f.ctx, f.lib, f.space, nil, app.StatsRecycle, 999); !errors.Is(err, app.ErrRecycledItemNotFound) {
			t.Fatalf("unknown item: %v", err)
		}
		if err := s.CalibrateStats(f.ctx, f.lib, f.space, p("a/two.bin"), app.StatsNormal, 0); !errors.Is(err, app.ErrNotDirectory) {
			t.Fatalf("a file: %v", err)
		}
		// The rate limit: once a minute per key, shared through the table.
		now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		if err := s.ClaimCalibration(f.ctx, f.lib, f.space, "normal:1", time.Minute, now); err != nil {
			t.Fatal(err)
		}
		if err := s.ClaimCalibration(f.ctx, f.lib, f.space, "normal:1", time.Minute, now.Add(59*time.Second)); !errors.Is(err, app.ErrCalibrateRateLimited) {
			t.Fatalf("second claim within the minute: %v", err)
		}
		if err := s.ClaimCalibration(f.ctx, f.lib, f.space, "normal:2", time.Minute, now.Add(time.Second)); err != nil {
			t.Fatalf("another directory: %v", err)
		}
		if err := s.ClaimCalibration(f.ctx, f.lib, f.space, "normal:1", time.Minute, now.Add(time.Minute)); err != nil {
			t.Fatalf("after the minute: %v", err)
		}
	})
}

// skewChain moves the stored totals of the directory at path, of every directory above it and
// the space's live counters by d, as a write that counted a wrong amount would have moved them
// (docs/lifecycle.md: every write moves the whole chain). Raw SQL, so that the store's own
// arithmetic is not what sets the test up.
func (f *fixture) skewChain(path string, d app.TreeTotals) {
	f.t.Helper()
	parts := p(path)
	for i := len(parts); i > 0; i-- {
		rawExec(f.t, f.raw, "UPDATE nodes SET tree_size = tree_size + ?, tree_files = tree_files + ?, tree_dirs = tree_dirs + ? WHERE inode = ?",
			d.Size, d.Files, d.Dirs, f.lookup(strings.Join(parts[:i], "/")).Inode)
	}
	rawExec(f.t, f.raw, "UPDATE spaces SET size = size + ?, file_num = file_num + ?, dir_num = dir_num + ? WHERE library_id = ? AND space_id = ?",
		d.Size, d.Files, d.Dirs, f.lib, f.space)
}

// storedTotals answers the subtree totals stored on a directory row, live or deleted.
func (f *fixture) storedTotals(inode int64) app.TreeTotals {
	f.t.Helper()
	var tt app.TreeTotals
	err := f.raw.inRead(f.ctx, func(t *sqldb.Tx) error {
		return t.QueryRow(f.ctx, "SELECT tree_size, tree_files, tree_dirs FROM nodes WHERE inode = ?", inode).
			Scan(&tt.Size, &tt.Files, &tt.Dirs)
	})
	if err != nil {
		f.t.Fatalf("stored totals of %d: %v", inode, err)
	}
	return tt
}

// Calibrating a directory below the root repairs what its ancestors and the space hold by what
// its own totals were off, in the same transaction: the drift that entered through the directory
// was counted along its whole chain. Drift that entered elsewhere stays for its own calibration.
func TestCalibrateStatsRepairsAncestors(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("a/b/c")
		f.mkdir("d")
		f.file("a/b/c/one.bin", 10)
		f.file("a/b/two.bin", 20)
		f.file("a/three.bin", 30)
		f.file("d/four.bin", 40)
		f.file("top.bin", 50)
		f.mkdir("a/bin/inner")
		f.file("a/bin/inner/five.bin", 60)
		f.file("a/bin/six.bin", 70)
		binTop, binInner := f.lookup("a/bin").Inode, f.lookup("a/bin/inner").Inode
		deleted, err := s.DeleteTree(f.ctx, f.lib, f.space, p("a/bin"), app.WriteRules{Recycle: true}, f.tick())
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, s, f.lib, f.space)
		want := f.counts()

		// Drift under a/b (one level below it and at it), calibrated at a/b: every directory,
		// ancestor and counter equals the recount again.
		f.skewChain("a/b/c", app.TreeTotals{Size: 7, Files: 2, Dirs: 1})
		f.skewChain("a/b", app.TreeTotals{Size: -3, Files: -1, Dirs: 4})
		if err := s.CalibrateStats(f.ctx, f.lib, f.space, p("a/b"), app.StatsNormal, 0); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, s, f.lib, f.space)
		if c := f.counts(); c != want {
			t.Fatalf("counters after calibrating a/b: %+v, want %+v", c, want)
		}

		// Drift under a directory of the root and drift elsewhere: calibrating the first leaves
		// the other's share on the space and on its directory.
		f.skewChain("a/b/c", app.TreeTotals{Size: 5, Files: 1})
		f.skewChain("d", app.TreeTotals{Size: 11, Dirs: 2})
		if err := s.CalibrateStats(f.ctx, f.lib, f.space, p("a"), app.StatsNormal, 0); err != nil {
			t.Fatal(err)
		}
		if got := f.storedTotals(f.lookup("a").Inode); got != (app.TreeTotals{Size: 60, Files: 3, Dirs: 2}) {
			t.Fatalf("a holds %+v after its calibration", got)
		}
		if got := f.storedTotals(f.lookup("d").Inode); got != (app.TreeTotals{Size: 51, Files: 1, Dirs: 2}) {
			t.Fatalf("d, outside the calibrated directory, holds %+v", got)
		}
		if c := f.counts(); c.Size != want.Size+11 || c.FileNum != want.FileNum || c.DirNum != want.DirNum+2 {
			t.Fatalf("counters %+v, want %+v with d's drift (11 bytes, 2 directories)", c, want)
		}
		if err := s.CalibrateStats(f.ctx, f.lib, f.space, p("d"), app.StatsNormal, 0); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, s, f.lib, f.space)

		// The root: every row and the space's counters from the recount, whatever drifted where.
		f.skewChain("a/b/c", app.TreeTotals{Size: 1, Files: 1, Dirs: 1})
		f.skewChain("d", app.TreeTotals{Size: -2})
		rawExec(t, s, "UPDATE nodes SET tree_size = tree_size + 9 WHERE inode = ?", f.lookup("a/b").Inode)
		rawExec(t, s, "UPDATE spaces SET size = size + 13, root_child_files = 0")
		if err := s.CalibrateStats(f.ctx, f.lib, f.space, nil, app.StatsNormal, 0); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, s, f.lib, f.space)
		if c := f.counts(); c != want {
			t.Fatalf("counters after calibrating the root: %+v, want %+v", c, want)
		}

		// A bin item: its held rows, its totals and the bin counters are recounted; the live
		// directory it was deleted from (a) and the live counters are not its ancestors any more.
		aBefore := f.storedTotals(f.lookup("a").Inode)
		rawExec(t, s, "UPDATE nodes SET tree_size = tree_size + 4, tree_files = tree_files + 1 WHERE inode IN (?, ?)", binTop, binInner)
		rawExec(t, s, "UPDATE recycled_items SET size = size + 4, files = files + 1 WHERE id = ?", deleted.RecycledID)
		rawExec(t, s, "UPDATE spaces SET recycled_size = recycled_size + 4, recycled_file_num = recycled_file_num + 1")
		if err := s.CalibrateStats(f.ctx, f.lib, f.space, nil, app.StatsRecycle, deleted.RecycledID); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, s, f.lib, f.space)
		if got := f.storedTotals(binTop); got != (app.TreeTotals{Size: 130, Files: 2, Dirs: 1}) {
			t.Fatalf("the bin item's row holds %+v", got)
		}
		if got := f.storedTotals(f.lookup("a").Inode); got != aBefore {
			t.Fatalf("a moved from %+v to %+v by calibrating a bin item deleted from it", aBefore, got)
		}
		if c := f.counts(); c != want {
			t.Fatalf("counters after calibrating the bin item: %+v, want %+v", c, want)
		}
	})
}
