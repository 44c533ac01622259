package store

import (
	"errors"
	"slices"
	"testing"
	"time"

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

		// A subdirectory: its subtree is repaired, the rest is left for a root calibration.
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
