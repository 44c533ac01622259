package store

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// deleteAcc collects what deletions owe the rows around them (docs/batch.md "Speed"): each
// parent's child counts and time (touchDir), each parent's ancestor chain's subtree totals and
// the space's live counters (growTree), and the bin's counters (binCounts). A single delete
// flushes it at once; a chunk of a batch delete flushes it once at the chunk's end, so a parent
// shared by a hundred items is updated once instead of a hundred times. It also keeps the paths
// of the parents it resolved, for the bin items' original paths.
//
// Additions commute and every touch sets the same time (the chunk's now), so the rows end as
// they would after the deletions one by one. What a later deletion reads must not depend on a
// pending change: a file's own row never does (only directories are touched or grown), and
// DeleteEntries flushes before deleting a directory, whose row and totals would, and reads
// the directory's row again.
type deleteAcc struct {
	touches map[int64][2]int64       // directory → child dirs, child files added
	grows   map[int64]app.TreeTotals // directory → totals added to it and its ancestors
	live    app.TreeTotals           // the space's live counters
	bin     app.TreeTotals           // the space's bin counters
	paths   map[int64][]string       // directory → its path (pathOf)
}

func (a *deleteAcc) touch(dir, dDirs, dFiles int64) {
	if a.touches == nil {
		a.touches = map[int64][2]int64{}
	}
	d := a.touches[dir]
	a.touches[dir] = [2]int64{d[0] + dDirs, d[1] + dFiles}
}

func (a *deleteAcc) grow(dir int64, d app.TreeTotals) {
	if a.grows == nil {
		a.grows = map[int64]app.TreeTotals{}
	}
	a.grows[dir] = addTotals(a.grows[dir], d)
	a.live = addTotals(a.live, d)
}

// pathOf answers pathOf(inode), kept until forget.
func (a *deleteAcc) pathOf(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, inode int64) ([]string, error) {
	if p, ok := a.paths[inode]; ok {
		return p, nil
	}
	p, err := pathOf(ctx, t, libraryID, spaceID, inode)
	if err != nil {
		return nil, err
	}
	if a.paths == nil {
		a.paths = map[int64][]string{}
	}
	a.paths[inode] = p
	return p, nil
}

// pending reports whether anything waits to be flushed.
func (a *deleteAcc) pending() bool {
	return len(a.touches) > 0 || len(a.grows) > 0 || a.live != (app.TreeTotals{}) || a.bin != (app.TreeTotals{})
}

// forgetPaths drops the kept paths: a directory of the space was deleted.
func (a *deleteAcc) forgetPaths() { clear(a.paths) }

// flush applies what was collected, directories in inode order (so that two transactions never
// wait on each other's rows in opposite orders), and empties the collection (the kept paths
// stay).
func (a *deleteAcc) flush(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, now time.Time) error {
	for _, dir := range slices.Sorted(maps.Keys(a.touches)) {
		d := a.touches[dir]
		if err := touchDir(ctx, t, libraryID, spaceID, dir, d[0], d[1], now); err != nil {
			return err
		}
	}
	for _, dir := range slices.Sorted(maps.Keys(a.grows)) {
		if err := growChain(ctx, t, dir, a.grows[dir]); err != nil {
			return err
		}
	}
	if a.live != (app.TreeTotals{}) || a.bin != (app.TreeTotals{}) {
		if _, err := t.Exec(ctx, `UPDATE spaces SET size = size + ?, file_num = file_num + ?, dir_num = dir_num + ?,
			recycled_size = recycled_size + ?, recycled_file_num = recycled_file_num + ?, recycled_dir_num = recycled_dir_num + ?
			WHERE library_id = ? AND space_id = ?`,
			a.live.Size, a.live.Files, a.live.Dirs, a.bin.Size, a.bin.Files, a.bin.Dirs, libraryID, spaceID); err != nil {
			return wrap("counters", err)
		}
	}
	clear(a.touches)
	clear(a.grows)
	a.live, a.bin = app.TreeTotals{}, app.TreeTotals{}
	return nil
}

// addTotals answers a + b.
func addTotals(a, b app.TreeTotals) app.TreeTotals {
	return app.TreeTotals{Size: a.Size + b.Size, Files: a.Files + b.Files, Dirs: a.Dirs + b.Dirs}
}
