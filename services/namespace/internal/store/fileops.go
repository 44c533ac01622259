package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Issue 12 fileops (docs/fileops.md): the flat contents view (2.10), virtual files' attributes
// (3.17), directory stats by type and their calibration (4.9).

var _ app.FileOpsStore = (*SQL)(nil)

// contentsSortKey maps a contents-view order to its column; uploadTime is the creation time (a
// file's row is created by the upload that confirms it, docs/fileops.md).
func contentsSortKey(o app.OrderBy) (sortKey, error) {
	if o == app.OrderUploadTime {
		o = app.OrderCreationTime
	}
	return sortKeyFor(o)
}

// contentsMarker is a contents-view marker's JSON (base64url, no padding). It carries the
// view's order, direction, filter and category so that a marker used with other options is
// refused instead of silently skipping entries.
type contentsMarker struct {
	Version  int    `json:"v"`
	Order    string `json:"o"`
	Desc     bool   `json:"d,omitempty"`
	Dirs     bool   `json:"g,omitempty"`
	Category string `json:"c,omitempty"`
	Str      string `json:"s,omitempty"`
	Num      int64  `json:"n,omitempty"`
	Inode    int64  `json:"i"`
}

func encodeContentsMarker(k sortKey, opts app.ContentsViewOptions, p position) string {
	b, _ := json.Marshal(contentsMarker{ // plain fields always marshal
		Version: markerVersion, Order: string(k.order), Desc: opts.Desc, Dirs: opts.OnlyDirs,
		Category: opts.Category, Str: p.str, Num: p.num, Inode: p.inode,
	})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContentsMarker(k sortKey, opts app.ContentsViewOptions, s string) (position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return position{}, app.ErrMarkerNotFound
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m contentsMarker
	if err := dec.Decode(&m); err != nil || dec.More() {
		return position{}, app.ErrMarkerNotFound
	}
	if m.Version != markerVersion || m.Order != string(k.order) || m.Desc != opts.Desc || m.Dirs != opts.OnlyDirs ||
		m.Category != opts.Category || m.Inode <= 0 || (k.text && m.Num != 0) || (!k.text && m.Str != "") {
		return position{}, app.ErrMarkerNotFound
	}
	return position{dir: m.Dirs, str: m.Str, num: m.Num, inode: m.Inode}, nil
}

// contentsBatch is how many candidate rows one query of the contents view reads: a page needs
// limit+1 entries whose ancestors are live, and rows under a deleted directory are skipped.
const contentsBatch = 256

// ContentsView answers a page of the space's live entries of one kind, ignoring hierarchy
// (2.10). Rows are read in keyset order from the nodes_flat_* indexes (migration 0015); a row
// counts only when its ancestor chain is live, because deleting a directory marks only its own
// row (docs/lifecycle.md). Ancestors are checked once per request (memoised), so a page costs
// its index range plus the distinct directories above its entries.
func (s *SQL) ContentsView(ctx context.Context, libraryID, spaceID string, opts app.ContentsViewOptions) (app.ContentsPage, error) {
	k, err := contentsSortKey(opts.OrderBy)
	if err != nil {
		return app.ContentsPage{}, err
	}
	var after *position
	if opts.Marker != "" {
		p, err := decodeContentsMarker(k, opts, opts.Marker)
		if err != nil {
			return app.ContentsPage{}, err
		}
		after = &p
	}
	limit := clampLimit(opts.Limit)
	var page app.ContentsPage
	err = s.inRead(ctx, func(t *sqldb.Tx) error {
		if _, err := rootNode(ctx, t, libraryID, spaceID); err != nil {
			return err
		}
		live := map[int64]bool{0: true}
		var out []nodeRow
		for len(out) <= limit {
			rows, err := contentsRows(ctx, t, libraryID, spaceID, k, opts, after, contentsBatch)
			if err != nil {
				return err
			}
			for _, r := range rows {
				ok, err := chainLive(ctx, t, live, r.ParentInode)
				if err != nil {
					return err
				}
				if ok {
					out = append(out, r)
					if len(out) > limit {
						break
					}
				}
			}
			if len(rows) < contentsBatch {
				break
			}
			p := positionOf(k, rows[len(rows)-1])
			after = &p
		}
		if len(out) > limit {
			out = out[:limit]
			page.NextMarker = encodeContentsMarker(k, opts, positionOf(k, out[limit-1]))
		}
		page.Entries = make([]app.Node, len(out))
		for i, r := range out {
			page.Entries[i] = r.Node
		}
		if opts.WithPath {
			page.Paths = make([][]string, len(out))
			for i, r := range out {
				if page.Paths[i], err = pathOf(ctx, t, libraryID, spaceID, r.Inode); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return app.ContentsPage{}, err
	}
	return page, nil
}

// contentsRows reads up to n rows of one kind strictly after the position, in the view's order.
func contentsRows(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, k sortKey, opts app.ContentsViewOptions,
	after *position, n int,
) ([]nodeRow, error) {
	isDir := 0
	if opts.OnlyDirs {
		isDir = 1
	}
	where := "library_id = ? AND space_id = ? AND is_dir = ? AND deleted_at IS NULL"
	args := []any{libraryID, spaceID, isDir}
	if opts.Category != "" {
		where += " AND category = ?"
		args = append(args, opts.Category)
	}
	dir, op := "ASC", ">"
	if opts.Desc {
		dir, op = "DESC", "<"
	}
	if after != nil {
		where += " AND (" + k.col + ", inode) " + op + " (?, ?)"
		if k.text {
			args = append(args, after.str, after.inode)
		} else {
			args = append(args, after.num, after.inode)
		}
	}
	args = append(args, n)
	l := lister{t: t}
	return l.rows(ctx, "SELECT "+nodeColumns+" FROM nodes WHERE "+where+
		" ORDER BY "+k.col+" "+dir+", inode "+dir+" LIMIT ?", args...)
}

// chainLive reports whether dir and every directory above it are live, filling memo.
func chainLive(ctx context.Context, t *sqldb.Tx, memo map[int64]bool, dir int64) (bool, error) {
	var walked []int64
	ok := true
	for {
		if v, known := memo[dir]; known {
			ok = v
			break
		}
		walked = append(walked, dir)
		var (
			parent  int64
			deleted sql.NullInt64
		)
		err := t.QueryRow(ctx, "SELECT parent_inode, deleted_at FROM nodes WHERE inode = ?", dir).Scan(&parent, &deleted)
		if errors.Is(err, sql.ErrNoRows) {
			ok = false
			break
		}
		if err != nil {
			return false, wrap("contents view ancestors", err)
		}
		if deleted.Valid {
			ok = false
			break
		}
		dir = parent
	}
	for _, d := range walked {
		memo[d] = ok
	}
	return ok, nil
}

// UpdateVirtual sets a virtual file's content type and/or size (3.16 ?update, 3.17); the
// counters and the directories above it move by the size difference, and a growth is checked
// against the quota in the same transaction. ErrNotVirtual for any other entry.
func (s *SQL) UpdateVirtual(ctx context.Context, libraryID, spaceID string, path []string, contentType *string, size *int64,
	rules app.WriteRules, now time.Time,
) error {
	if len(path) == 0 {
		return app.ErrNotVirtual
	}
	return s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		n, err := lookupPath(ctx, t, libraryID, spaceID, path)
		if err != nil {
			return err
		}
		if n.Type != app.TypeVirtual {
			return app.ErrNotVirtual
		}
		ct, sz := n.ContentType, n.Size
		if contentType != nil {
			ct = *contentType
		}
		if size != nil {
			sz = *size
		}
		if _, err := t.Exec(ctx, "UPDATE nodes SET content_type = ?, size = ?, modified_at = ? WHERE inode = ?",
			ct, sz, millis(now), n.Inode); err != nil {
			return wrap("update virtual file", err)
		}
		if err := growTree(ctx, t, libraryID, spaceID, n.ParentInode, app.TreeTotals{Size: sz - n.Size}); err != nil {
			return err
		}
		// The change feed announces the new size and content type (FILE.MODIFY, 3.18), so a
		// synced copy of the space sees what the quota and the listings see.
		if err := recordChange(ctx, t, libraryID, spaceID, now, change{kind: app.EventFileModify, inode: n.Inode, userID: rules.UserID,
			extra: map[string]any{"oldSize": n.Size, "newSize": sz, "oldEtag": n.ETag}}); err != nil {
			return err
		}
		if sz > n.Size {
			return checkQuota(ctx, t, libraryID, spaceID, sz-n.Size, rules)
		}
		return nil
	})
}

// TreeHistoryStats sums the history versions of the live files below path (4.9 stats_type
// history): their bytes and their number.
func (s *SQL) TreeHistoryStats(ctx context.Context, libraryID, spaceID string, path []string) (int64, int64, error) {
	var size, count int64
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		top, err := lookupPath(ctx, t, libraryID, spaceID, path)
		if err != nil {
			return err
		}
		if !top.isDir() {
			return app.ErrNotDirectory
		}
		return wrap("history stats", t.QueryRow(ctx, subtreeCTE+`SELECT COALESCE(SUM(v.size), 0), COUNT(v.id)
			FROM sub JOIN file_versions v ON v.inode = sub.inode WHERE sub.is_dir = 0`,
			libraryID, spaceID, top.Inode, libraryID, spaceID).Scan(&size, &count))
	})
	return size, count, err
}

// ClaimCalibration records a calibration of key starting now, or answers ErrCalibrateRateLimited
// when the last one of key started less than every ago (4.9: rate-limited per directory). The
// claim is a row, so every replica sees it.
func (s *SQL) ClaimCalibration(ctx context.Context, libraryID, spaceID, key string, every time.Duration, now time.Time) error {
	return s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		var last int64
		err := t.QueryRow(ctx, "SELECT started_at FROM stats_calibrations WHERE library_id = ? AND space_id = ? AND dir_key = ?",
			libraryID, spaceID, key).Scan(&last)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = t.Exec(ctx, "INSERT INTO stats_calibrations (library_id, space_id, dir_key, started_at) VALUES (?, ?, ?, ?)",
				libraryID, spaceID, key, millis(now))
			return wrap("claim calibration", err)
		case err != nil:
			return wrap("claim calibration", err)
		case now.Sub(fromMillis(last)) < every:
			return app.ErrCalibrateRateLimited
		}
		_, err = t.Exec(ctx, "UPDATE stats_calibrations SET started_at = ? WHERE library_id = ? AND space_id = ? AND dir_key = ?",
			millis(now), libraryID, spaceID, key)
		return wrap("claim calibration", err)
	})
}

// treeRow is one row of a subtree being recounted.
type treeRow struct {
	inode, parent int64
	dir           bool
	size          int64
	stored        app.TreeTotals
	childDirs     int64
	childFiles    int64
}

// subtreeRows reads every row hanging under top that is not deleted itself (top excluded), with
// its stored totals: the live subtree of a live directory, the held rows of a bin item.
func subtreeRows(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, top int64) ([]treeRow, error) {
	rows, err := t.Query(ctx, `WITH RECURSIVE sub(inode, is_dir) AS (
			SELECT inode, is_dir FROM nodes
			WHERE library_id = ? AND space_id = ? AND parent_inode = ? AND deleted_at IS NULL
		UNION ALL
			SELECT n.inode, n.is_dir FROM sub CROSS JOIN nodes n
			WHERE n.parent_inode = sub.inode AND sub.is_dir = 1 AND n.library_id = ? AND n.space_id = ?
				AND n.deleted_at IS NULL
		) SELECT n.inode, n.parent_inode, n.is_dir, n.size, n.tree_size, n.tree_files, n.tree_dirs, n.child_dirs, n.child_files
		FROM sub JOIN nodes n ON n.inode = sub.inode`, libraryID, spaceID, top, libraryID, spaceID)
	if err != nil {
		return nil, wrap("calibrate", err)
	}
	defer rows.Close()
	var out []treeRow
	for rows.Next() {
		var (
			r     treeRow
			isDir int
		)
		if err := rows.Scan(&r.inode, &r.parent, &isDir, &r.size, &r.stored.Size, &r.stored.Files, &r.stored.Dirs,
			&r.childDirs, &r.childFiles); err != nil {
			return nil, wrap("calibrate", err)
		}
		r.dir = isDir == 1
		out = append(out, r)
	}
	return out, wrap("calibrate", rows.Err())
}

// recount is what a subtree's rows say: each directory's totals and direct child counts.
type recount struct {
	totals     map[int64]app.TreeTotals
	childDirs  map[int64]int64
	childFiles map[int64]int64
}

// recountRows sums rows into every directory above them up to (and including) top.
func recountRows(rows []treeRow, top int64) recount {
	parent := make(map[int64]int64, len(rows))
	for _, r := range rows {
		parent[r.inode] = r.parent
	}
	rc := recount{totals: map[int64]app.TreeTotals{}, childDirs: map[int64]int64{}, childFiles: map[int64]int64{}}
	for _, r := range rows {
		add := app.TreeTotals{Files: 1, Size: r.size}
		if r.dir {
			add = app.TreeTotals{Dirs: 1}
			rc.childDirs[r.parent]++
		} else {
			rc.childFiles[r.parent]++
		}
		for d := r.parent; ; d = parent[d] {
			tt := rc.totals[d]
			tt.Size, tt.Files, tt.Dirs = tt.Size+add.Size, tt.Files+add.Files, tt.Dirs+add.Dirs
			rc.totals[d] = tt
			if d == top {
				break
			}
			if _, ok := parent[d]; !ok {
				break
			}
		}
	}
	return rc
}

// CalibrateStats recomputes stored totals from the rows (4.9 calibrateDirectoryStats,
// docs/fileops.md): normal — the subtree totals and child counts of path and every directory
// below it; at the root the space's live counters, below it the correction of path's totals
// applied to its ancestors and the space's live counters; recycle — the held rows and totals of bin
// item recycledID (0 = none) and the space's bin counters; history — the space's version
// counters (directories store no history totals). One write transaction, so a calibration and a
// write never interleave.
func (s *SQL) CalibrateStats(ctx context.Context, libraryID, spaceID string, path []string, statsType string, recycledID int64) error {
	return s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		switch statsType {
		case app.StatsRecycle:
			return calibrateRecycle(ctx, t, libraryID, spaceID, recycledID)
		case app.StatsHistory:
			_, err := t.Exec(ctx, `UPDATE spaces SET
				history_size = (SELECT COALESCE(SUM(size), 0) FROM file_versions v WHERE v.library_id = spaces.library_id AND v.space_id = spaces.space_id),
				history_file_num = (SELECT COUNT(*) FROM file_versions v WHERE v.library_id = spaces.library_id AND v.space_id = spaces.space_id)
				WHERE library_id = ? AND space_id = ?`, libraryID, spaceID)
			return wrap("calibrate history", err)
		}
		top, err := lookupPath(ctx, t, libraryID, spaceID, path)
		if err != nil {
			return err
		}
		if !top.isDir() {
			return app.ErrNotDirectory
		}
		rows, err := subtreeRows(ctx, t, libraryID, spaceID, top.Inode)
		if err != nil {
			return err
		}
		rc := recountRows(rows, top.Inode)
		dirs := append(rows, treeRow{inode: top.Inode, dir: top.Inode != 0, stored: top.tree, childDirs: top.childDirs, childFiles: top.childFiles})
		if err := writeRecount(ctx, t, dirs, rc); err != nil {
			return err
		}
		if top.Inode != 0 {
			// The directory's drift was counted along its whole chain (every write moves it,
			// docs/lifecycle.md), so its ancestors and the space's live counters are off by as
			// much: they move by the correction, as a write of that size would move them.
			return growTree(ctx, t, libraryID, spaceID, top.ParentInode, addTotals(rc.totals[top.Inode], neg(top.tree)))
		}
		tt := rc.totals[0]
		_, err = t.Exec(ctx, `UPDATE spaces SET size = ?, file_num = ?, dir_num = ?, root_child_dirs = ?, root_child_files = ?
			WHERE library_id = ? AND space_id = ?`, tt.Size, tt.Files, tt.Dirs, rc.childDirs[0], rc.childFiles[0], libraryID, spaceID)
		return wrap("calibrate counters", err)
	})
}

// writeRecount writes the recounted totals of the directory rows whose stored ones differ.
func writeRecount(ctx context.Context, t *sqldb.Tx, rows []treeRow, rc recount) error {
	for _, r := range rows {
		if !r.dir {
			continue
		}
		tt := rc.totals[r.inode]
		if tt == r.stored && rc.childDirs[r.inode] == r.childDirs && rc.childFiles[r.inode] == r.childFiles {
			continue
		}
		if _, err := t.Exec(ctx, `UPDATE nodes SET tree_size = ?, tree_files = ?, tree_dirs = ?, child_dirs = ?, child_files = ?
			WHERE inode = ?`, tt.Size, tt.Files, tt.Dirs, rc.childDirs[r.inode], rc.childFiles[r.inode], r.inode); err != nil {
			return wrap("calibrate", err)
		}
	}
	return nil
}

// calibrateRecycle recounts bin item id (when non-zero) from its held rows, then the space's bin
// counters from the items.
func calibrateRecycle(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, id int64) error {
	if id != 0 {
		var inode int64
		err := t.QueryRow(ctx, "SELECT inode FROM recycled_items WHERE id = ? AND library_id = ? AND space_id = ?",
			id, libraryID, spaceID).Scan(&inode)
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrRecycledItemNotFound
		}
		if err != nil {
			return wrap("calibrate recycle", err)
		}
		var (
			isDir        int
			size         int64
			tree         app.TreeTotals
			cDirs, cFile int64
		)
		if err := t.QueryRow(ctx, "SELECT is_dir, size, tree_size, tree_files, tree_dirs, child_dirs, child_files FROM nodes WHERE inode = ?",
			inode).Scan(&isDir, &size, &tree.Size, &tree.Files, &tree.Dirs, &cDirs, &cFile); err != nil {
			return wrap("calibrate recycle", err)
		}
		held := app.TreeTotals{Size: size, Files: 1}
		if isDir == 1 {
			rows, err := subtreeRows(ctx, t, libraryID, spaceID, inode)
			if err != nil {
				return err
			}
			rc := recountRows(rows, inode)
			dirs := append(rows, treeRow{inode: inode, dir: true, stored: tree, childDirs: cDirs, childFiles: cFile})
			if err := writeRecount(ctx, t, dirs, rc); err != nil {
				return err
			}
			tt := rc.totals[inode]
			held = app.TreeTotals{Size: tt.Size, Files: tt.Files, Dirs: tt.Dirs + 1}
		}
		if _, err := t.Exec(ctx, "UPDATE recycled_items SET size = ?, files = ?, dirs = ? WHERE id = ?",
			held.Size, held.Files, held.Dirs, id); err != nil {
			return wrap("calibrate recycle", err)
		}
	}
	_, err := t.Exec(ctx, `UPDATE spaces SET
		recycled_size = (SELECT COALESCE(SUM(size), 0) FROM recycled_items r WHERE r.library_id = spaces.library_id AND r.space_id = spaces.space_id),
		recycled_file_num = (SELECT COALESCE(SUM(files), 0) FROM recycled_items r WHERE r.library_id = spaces.library_id AND r.space_id = spaces.space_id),
		recycled_dir_num = (SELECT COALESCE(SUM(dirs), 0) FROM recycled_items r WHERE r.library_id = spaces.library_id AND r.space_id = spaces.space_id)
		WHERE library_id = ? AND space_id = ?`, libraryID, spaceID)
	return wrap("calibrate recycle", err)
}
