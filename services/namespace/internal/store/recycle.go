package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// The recycle bin (SMH API section 5, docs/lifecycle.md). A bin item is a row of
// recycled_items naming the deleted entry's own nodes row, which deleteEntry marked deleted
// (deleted_root = itself); the entry's descendants stay untouched below it. Restoring clears the
// mark and hangs the entry under a live parent again; purging moves the entry to purge_queue,
// whose rows DrainPurges removes later. All of these change a constant number of rows (plus the
// parent chain and the links that joined the deletion), whatever the entry holds.

const day = 24 * time.Hour

// recycleItem makes the entry n, just deleted by deleteEntry, an item of its space's bin: it
// holds totals and remembers parents, the names of its parent directories. The bin's counters
// must grow by what the live counters lost, so the space's usage does not change; the caller
// moves them (deleteEntry through its deleteAcc, once per flush).
func recycleItem(ctx context.Context, t *sqldb.Tx, n nodeRow, parents []string, totals app.TreeTotals,
	rules app.WriteRules, now time.Time,
) (int64, error) {
	var expires any
	if rules.RecycleDays > 0 {
		expires = millis(now.Add(time.Duration(rules.RecycleDays) * day))
	}
	if parents == nil {
		parents = []string{}
	}
	path, _ := json.Marshal(parents) // a slice of strings always marshals
	var id int64
	err := t.QueryRow(ctx, `INSERT INTO recycled_items (library_id, space_id, inode, name, type, modified_at,
		original_path, size, files, dirs, removed_at, expires_at, removed_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n.LibraryID, n.SpaceID, n.Inode, n.Name, string(n.Type), millis(n.ModifiedAt), string(path),
		totals.Size, totals.Files, totals.Dirs, millis(now), expires, rules.UserID).Scan(&id)
	if err != nil {
		return 0, wrap("recycle", err)
	}
	return id, nil
}

// binCounts moves a space's bin counters by d.
func binCounts(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, d app.TreeTotals) error {
	_, err := t.Exec(ctx, `UPDATE spaces SET recycled_size = recycled_size + ?, recycled_file_num = recycled_file_num + ?,
		recycled_dir_num = recycled_dir_num + ? WHERE library_id = ? AND space_id = ?`,
		d.Size, d.Files, d.Dirs, libraryID, spaceID)
	return wrap("bin counters", err)
}

// itemColumns are an item's own columns followed by its entry's nodeColumns (r and n).
var itemColumns = `r.id, r.original_path, r.size, r.files, r.dirs, r.removed_at, r.expires_at, r.removed_by, ` +
	nodeColumnsOf("n")

// itemRow is an item with its entry's full row.
type itemRow struct {
	app.RecycledItem
	node nodeRow
}

func scanItem(sc scanner) (itemRow, error) {
	var (
		r       itemRow
		path    string
		removed int64
		expires sql.NullInt64
	)
	// The item's columns first, then the node's, which scanNode reads.
	node, err := scanNode(leading{sc: sc, first: []any{&r.ID, &path, &r.Totals.Size, &r.Totals.Files, &r.Totals.Dirs,
		&removed, &expires, &r.RemovedBy}})
	if err != nil {
		return itemRow{}, err
	}
	r.node = node
	var parents []string
	if err := json.Unmarshal([]byte(path), &parents); err != nil {
		return itemRow{}, wrap("recycled item path", err)
	}
	r.OriginalPath = append(parents, r.node.Name)
	r.LibraryID, r.SpaceID, r.Node = r.node.LibraryID, r.node.SpaceID, r.node.Node
	r.RemovedAt = fromMillis(removed)
	if expires.Valid {
		r.ExpiresAt = fromMillis(expires.Int64)
	}
	return r, nil
}

// loadItem answers the space's item id with its entry.
func loadItem(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, id int64) (itemRow, error) {
	r, err := scanItem(t.QueryRow(ctx, "SELECT "+itemColumns+` FROM recycled_items r JOIN nodes n ON n.inode = r.inode
		WHERE r.id = ? AND r.library_id = ? AND r.space_id = ?`, id, libraryID, spaceID))
	if errors.Is(err, sql.ErrNoRows) {
		return itemRow{}, app.ErrRecycledItemNotFound
	}
	return r, wrap("recycled item", err)
}

// RecycledItem answers one item of a space's bin.
func (s *SQL) RecycledItem(ctx context.Context, libraryID, spaceID string, id int64) (app.RecycledItem, error) {
	var r itemRow
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		r, err = loadItem(ctx, t, libraryID, spaceID, id)
		return err
	})
	return r.RecycledItem, err
}

// recycleKey is the column an order lists by; every one has its own index (migration 0006).
func recycleKey(o app.RecycleOrder) (string, bool) {
	switch o {
	case "", app.RecycleByRemovalTime:
		return "removed_at", true
	case app.RecycleByName:
		return "name", false
	case app.RecycleByModificationTime:
		return "modified_at", true
	case app.RecycleBySize:
		return "size", true
	}
	return "", false
}

// recycleMarker is a bin listing's position: the last item's key and id, with the order it
// belongs to (base64url JSON, opaque to clients).
type recycleMarker struct {
	Order string `json:"o"`
	Desc  bool   `json:"d"`
	Num   int64  `json:"n,omitempty"`
	Text  string `json:"t,omitempty"`
	ID    int64  `json:"i"`
}

func (m recycleMarker) encode() string {
	b, _ := json.Marshal(m) // plain fields always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeRecycleMarker(s string, order string, desc bool) (recycleMarker, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return recycleMarker{}, app.ErrMarkerNotFound
	}
	var m recycleMarker
	if json.Unmarshal(b, &m) != nil || m.Order != order || m.Desc != desc || m.ID <= 0 {
		return recycleMarker{}, app.ErrMarkerNotFound
	}
	return m, nil
}

// ListRecycled answers a page of a space's bin. Marker mode continues after the marker's item by
// a range scan of the order's index, so a page near the end of a large bin costs what the first
// does; page mode (Offset) skips. Without an order the bin lists by removal time, newest first
// (decision 23). Total counts the whole bin when opts.Count asks for it.
func (s *SQL) ListRecycled(ctx context.Context, libraryID, spaceID string, opts app.RecycleListOptions) (app.RecyclePage, error) {
	col, numeric := recycleKey(opts.OrderBy)
	if col == "" {
		return app.RecyclePage{}, errors.New("store: unknown recycle order")
	}
	desc := opts.Desc || opts.OrderBy == ""
	limit := opts.Limit
	if limit <= 0 {
		limit = 20
	}
	where := "r.library_id = ? AND r.space_id = ?"
	args := []any{libraryID, spaceID}
	if opts.Marker != "" {
		m, err := decodeRecycleMarker(opts.Marker, col, desc)
		if err != nil {
			return app.RecyclePage{}, err
		}
		cmp := ">"
		if desc {
			cmp = "<"
		}
		var key any = m.Text
		if numeric {
			key = m.Num
		}
		// A row-value comparison is a range on the order's (library, space, key, id) index on
		// both engines; the equivalent OR made SQLite scan from the start of the bin.
		where += " AND (r." + col + ", r.id) " + cmp + " (?, ?)"
		args = append(args, key, m.ID)
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	q := "SELECT " + itemColumns + ` FROM recycled_items r JOIN nodes n ON n.inode = r.inode WHERE ` + where +
		" ORDER BY r." + col + " " + dir + ", r.id " + dir + " LIMIT ?"
	args = append(args, limit+1)
	if opts.Marker == "" && opts.Offset > 0 {
		q += " OFFSET ?"
		args = append(args, opts.Offset)
	}
	var page app.RecyclePage
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		if _, err := getSpace(ctx, t, libraryID, spaceID, false); err != nil {
			return err
		}
		rows, err := t.Query(ctx, q, args...)
		if err != nil {
			return wrap("list recycled", err)
		}
		var items []itemRow
		for rows.Next() {
			r, err := scanItem(rows)
			if err != nil {
				rows.Close()
				return wrap("list recycled", err)
			}
			items = append(items, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("list recycled", err)
		}
		if len(items) > limit {
			items = items[:limit]
			last := items[limit-1]
			m := recycleMarker{Order: col, Desc: desc, ID: last.ID}
			switch col {
			case "removed_at":
				m.Num = millis(last.RemovedAt)
			case "modified_at":
				m.Num = millis(last.node.ModifiedAt)
			case "size":
				m.Num = last.Totals.Size
			default:
				m.Text = last.node.Name
			}
			page.NextMarker = m.encode()
		}
		for _, r := range items {
			page.Items = append(page.Items, r.RecycledItem)
		}
		if opts.Count {
			return wrap("count recycled", t.QueryRow(ctx, `SELECT COUNT(*) FROM recycled_items
				WHERE library_id = ? AND space_id = ?`, libraryID, spaceID).Scan(&page.Total))
		}
		return nil
	})
	if err != nil {
		return app.RecyclePage{}, err
	}
	return page, nil
}

// RestoreRecycled puts an item back (see app.RecycleStore and docs/lifecycle.md).
func (s *SQL) RestoreRecycled(ctx context.Context, libraryID, spaceID string, id int64, opts app.RestoreOptions,
	rules app.WriteRules, now time.Time,
) ([]string, error) {
	var final []string
	err := s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		item, err := loadItem(ctx, t, libraryID, spaceID, id)
		if err != nil {
			return err
		}
		n := item.node
		parents := item.OriginalPath[:len(item.OriginalPath)-1]
		toRoot := opts.FallbackToRoot && (n.isDir() || !opts.AlbumsOnly)
		parent, at, err := restoreParent(ctx, t, libraryID, spaceID, parents, toRoot, rules.UserID, now)
		if err != nil {
			return err
		}
		p, err := place(ctx, t, libraryID, spaceID, parent.Inode, n.Name, n.isDir(), opts.Strategy)
		if err != nil {
			return err
		}
		if p.replace != nil {
			// The restored file takes the replaced one's place as a moved file would.
			if err := replaceByMove(ctx, t, *p.replace, n, rules, now); err != nil {
				return err
			}
		}
		if _, err := t.Exec(ctx, `UPDATE nodes SET deleted_at = NULL, deleted_root = NULL, parent_inode = ?, name = ?
			WHERE inode = ?`, parent.Inode, p.name, n.Inode); err != nil {
			if sqldb.IsUniqueViolation(err) {
				return app.ErrNameTaken
			}
			return wrap("restore", err)
		}
		dDirs, dFiles := kindDelta(n)
		if err := touchDir(ctx, t, libraryID, spaceID, parent.Inode, dDirs, dFiles, now); err != nil {
			return err
		}
		if err := growTree(ctx, t, libraryID, spaceID, parent.Inode, n.totals()); err != nil {
			return err
		}
		// The change feed: the entry, then (a directory) everything it holds, parents first, so
		// a client that dropped the subtree at FILE.TRASH learns it again; then its links.
		c := change{kind: app.EventFileRestore, inode: n.Inode, userID: rules.UserID}
		if p.replace != nil {
			c.kind, c.extra = app.EventFileRestoreOverwrite, overwritten(*p.replace, nil)
		}
		if err := recordChange(ctx, t, libraryID, spaceID, now, c); err != nil {
			return err
		}
		if n.isDir() {
			if err := recordMany(ctx, t, libraryID, spaceID, now, change{kind: app.EventFileRestore, userID: rules.UserID},
				liveSubtreeSel, libraryID, spaceID, n.Inode, libraryID, spaceID); err != nil {
				return err
			}
		}
		if err := restoreLinks(ctx, t, n, rules.UserID, now); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, "DELETE FROM recycled_items WHERE id = ?", id); err != nil {
			return wrap("restore", err)
		}
		if err := binCounts(ctx, t, libraryID, spaceID, neg(item.Totals)); err != nil {
			return err
		}
		final = append(at, p.name)
		return checkQuota(ctx, t, libraryID, spaceID, n.totals().Size, rules)
	})
	if err != nil {
		return nil, err
	}
	return final, nil
}

// restoreParent finds the directory a restored item goes into: its original parent, whose
// missing directories are created again, or with fallbackToRoot the root when the original
// parent is not there. It answers the directory and its path.
func restoreParent(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, parents []string,
	fallbackToRoot bool, userID string, now time.Time,
) (nodeRow, []string, error) {
	if fallbackToRoot {
		dir, err := lookupPath(ctx, t, libraryID, spaceID, parents)
		switch {
		case err == nil && dir.isDir():
			return dir, slices.Clone(parents), nil
		case err == nil, errors.Is(err, app.ErrNodeNotFound), errors.Is(err, app.ErrNotDirectory):
			root, err := rootNode(ctx, t, libraryID, spaceID)
			return root, []string{}, err
		default:
			return nodeRow{}, nil, err
		}
	}
	dir, err := ensureDirs(ctx, t, libraryID, spaceID, parents, userID, now)
	return dir, slices.Clone(parents), err
}

// restoreLinks brings back the symlinks that joined n's deletion (deleteLinksTo), each into its
// own directory. A link whose directory is gone meanwhile, or whose name is taken there, cannot
// come back and goes for good with nothing left pointing at it.
func restoreLinks(ctx context.Context, t *sqldb.Tx, n nodeRow, userID string, now time.Time) error {
	lib, space := n.LibraryID, n.SpaceID
	rows, err := t.Query(ctx, `SELECT inode, parent_inode, name FROM nodes
		WHERE deleted_root = ? AND deleted_at IS NOT NULL AND inode <> ?`, n.Inode, n.Inode)
	if err != nil {
		return wrap("restore symlinks", err)
	}
	type link struct {
		inode, parent int64
		name          string
	}
	var links []link
	for rows.Next() {
		var l link
		if err := rows.Scan(&l.inode, &l.parent, &l.name); err != nil {
			rows.Close()
			return wrap("restore symlinks", err)
		}
		links = append(links, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap("restore symlinks", err)
	}
	for _, l := range links {
		_, parentErr := pathOf(ctx, t, lib, space, l.parent)
		_, nameErr := childByName(ctx, t, lib, space, l.parent, l.name)
		if parentErr != nil || !errors.Is(nameErr, app.ErrNodeNotFound) {
			if parentErr != nil && !errors.Is(parentErr, app.ErrNodeNotFound) {
				return parentErr
			}
			if _, err := t.Exec(ctx, "DELETE FROM nodes WHERE inode = ?", l.inode); err != nil {
				return wrap("restore symlinks", err)
			}
			continue
		}
		if _, err := t.Exec(ctx, "UPDATE nodes SET deleted_at = NULL, deleted_root = NULL WHERE inode = ?", l.inode); err != nil {
			return wrap("restore symlinks", err)
		}
		if err := touchDir(ctx, t, lib, space, l.parent, 0, 1, now); err != nil {
			return err
		}
		if err := growTree(ctx, t, lib, space, l.parent, app.TreeTotals{Files: 1}); err != nil {
			return err
		}
		if err := recordChange(ctx, t, lib, space, now, change{kind: app.EventFileRestore, inode: l.inode, userID: userID}); err != nil {
			return err
		}
	}
	return nil
}

// purgeItem removes an item from the bin for good: its entry is queued for purging and the bin's
// counters drop by what it held.
func purgeItem(ctx context.Context, t *sqldb.Tx, item itemRow, now time.Time) error {
	return purgeItemBy(ctx, t, item, deletion{}, now)
}

// purgeItemBy is purgeItem with who purged: the change feed records RECYCLE.DELETE, removed by
// quota for the quota removal job.
func purgeItemBy(ctx context.Context, t *sqldb.Tx, item itemRow, by deletion, now time.Time) error {
	if err := recordChange(ctx, t, item.LibraryID, item.SpaceID, now, change{kind: app.EventRecycleDelete,
		inode: item.node.Inode, location: locationDeleted, byQuota: by.byQuota}); err != nil {
		return err
	}
	if _, err := t.Exec(ctx, "DELETE FROM recycled_items WHERE id = ?", item.ID); err != nil {
		return wrap("purge recycled", err)
	}
	if _, err := t.Exec(ctx, "INSERT INTO purge_queue (inode, library_id, space_id, queued_at) VALUES (?, ?, ?, ?)",
		item.node.Inode, item.LibraryID, item.SpaceID, millis(now)); err != nil {
		return wrap("purge recycled", err)
	}
	return binCounts(ctx, t, item.LibraryID, item.SpaceID, neg(item.Totals))
}

// PurgeRecycled removes items for good, all or none.
func (s *SQL) PurgeRecycled(ctx context.Context, libraryID, spaceID string, ids []int64, now time.Time) error {
	return s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		for _, id := range ids {
			item, err := loadItem(ctx, t, libraryID, spaceID, id)
			if err != nil {
				return err
			}
			if err := purgeItem(ctx, t, item, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// EmptyRecycled purges every item of a space's bin in three statements, whatever it holds.
func (s *SQL) EmptyRecycled(ctx context.Context, libraryID, spaceID string, now time.Time) error {
	return s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		if _, err := getSpace(ctx, t, libraryID, spaceID, true); err != nil {
			return err
		}
		if err := recordMany(ctx, t, libraryID, spaceID, now, change{kind: app.EventRecycleDelete, location: locationDeleted},
			`SELECT inode, id AS ord, '' AS extra FROM recycled_items WHERE library_id = ? AND space_id = ?`,
			libraryID, spaceID); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `INSERT INTO purge_queue (inode, library_id, space_id, queued_at)
			SELECT inode, library_id, space_id, ? FROM recycled_items WHERE library_id = ? AND space_id = ?`,
			millis(now), libraryID, spaceID); err != nil {
			return wrap("empty recycled", err)
		}
		if _, err := t.Exec(ctx, "DELETE FROM recycled_items WHERE library_id = ? AND space_id = ?", libraryID, spaceID); err != nil {
			return wrap("empty recycled", err)
		}
		_, err := t.Exec(ctx, `UPDATE spaces SET recycled_size = 0, recycled_file_num = 0, recycled_dir_num = 0
			WHERE library_id = ? AND space_id = ?`, libraryID, spaceID)
		return wrap("empty recycled", err)
	})
}

// SetRecycleRetention lengthens the retention of the items already in a space's bin to days
// (5.9: lengthening applies to existing items, shortening only to new ones). Items kept forever
// stay so.
func (s *SQL) SetRecycleRetention(ctx context.Context, libraryID, spaceID string, days int) error {
	return s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		if _, err := getSpace(ctx, t, libraryID, spaceID, true); err != nil {
			return err
		}
		_, err := t.Exec(ctx, `UPDATE recycled_items SET expires_at = removed_at + ?
			WHERE library_id = ? AND space_id = ? AND expires_at IS NOT NULL AND expires_at < removed_at + ?`,
			int64(days)*day.Milliseconds(), libraryID, spaceID, int64(days)*day.Milliseconds())
		return wrap("recycle retention", err)
	})
}

// ExpireRecycled purges up to limit items whose expiry has passed (the cleanup job).
func (s *SQL) ExpireRecycled(ctx context.Context, now time.Time, limit int) (int64, error) {
	var n int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		rows, err := t.Query(ctx, "SELECT "+itemColumns+` FROM recycled_items r JOIN nodes n ON n.inode = r.inode
			WHERE r.expires_at IS NOT NULL AND r.expires_at < ? ORDER BY r.expires_at LIMIT ?`, millis(now), clampPurge(limit))
		if err != nil {
			return wrap("expire recycled", err)
		}
		var items []itemRow
		for rows.Next() {
			r, err := scanItem(rows)
			if err != nil {
				rows.Close()
				return wrap("expire recycled", err)
			}
			items = append(items, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("expire recycled", err)
		}
		for _, item := range items {
			if err := purgeItem(ctx, t, item, now); err != nil {
				return err
			}
		}
		n = int64(len(items))
		return nil
	})
	return n, err
}

// purgeSubtree lists the rows below a queued entry, deepest first: its descendants, except
// entries deleted on their own (a bin item or a queued entry of their own, deleted_root = inode),
// which their own item or queue row removes.
const purgeSubtree = `WITH RECURSIVE sub(inode, depth) AS (
		SELECT inode, 1 FROM nodes
		WHERE library_id = ? AND space_id = ? AND parent_inode = ?
			AND NOT (deleted_at IS NOT NULL AND deleted_root = inode)
	UNION ALL
		SELECT n.inode, sub.depth + 1 FROM sub CROSS JOIN nodes n
		WHERE n.parent_inode = sub.inode AND n.library_id = ? AND n.space_id = ?
			AND NOT (n.deleted_at IS NOT NULL AND n.deleted_root = n.inode)
	) SELECT inode FROM sub ORDER BY depth DESC LIMIT ?`

// DrainPurges removes up to limit rows of entries queued before before, oldest entry first (see
// purgeSubtree): the deepest rows first, so a crash between batches leaves every remaining row
// reachable from its queued entry. When an entry's subtree is gone it removes the entry, the
// symlinks that joined its deletion and the queue row. Versions of the removed files go with
// them. It answers how many rows went (a finished queue row counts as one); 0 when nothing is
// queued.
func (s *SQL) DrainPurges(ctx context.Context, before time.Time, limit int) (int64, error) {
	limit = clampPurge(limit)
	var removed int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		removed = 0
		for removed < int64(limit) {
			n, done, err := drainOne(ctx, t, before, limit-int(removed))
			if err != nil {
				return err
			}
			removed += n
			if done {
				return nil
			}
		}
		return nil
	})
	return removed, err
}

// drainOne removes up to limit rows of the oldest queued entry; done reports an empty queue.
func drainOne(ctx context.Context, t *sqldb.Tx, before time.Time, limit int) (removed int64, done bool, err error) {
	var (
		top      int64
		lib, spc string
	)
	err = t.QueryRow(ctx, `SELECT inode, library_id, space_id FROM purge_queue WHERE queued_at < ?
		ORDER BY queued_at, inode LIMIT 1`, millis(before)).Scan(&top, &lib, &spc)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, wrap("drain purges", err)
	}
	inodes, err := queryInodes(ctx, t, purgeSubtree, lib, spc, top, lib, spc, limit)
	if err != nil {
		return 0, false, err
	}
	last := len(inodes) < limit
	if last {
		// The entry itself (deleted_root = top) and the links that joined its deletion.
		links, err := queryInodes(ctx, t, `SELECT inode FROM nodes WHERE deleted_root = ? AND deleted_at IS NOT NULL`, top)
		if err != nil {
			return 0, false, err
		}
		inodes = append(inodes, links...)
	}
	if err := dropVersionsOf(ctx, t, lib, spc, inodes); err != nil {
		return 0, false, err
	}
	for start := 0; start < len(inodes); start += referencedBatch {
		batch := inodes[start:min(start+referencedBatch, len(inodes))]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		res, err := t.Exec(ctx, "DELETE FROM nodes WHERE inode IN (?"+strings.Repeat(", ?", len(batch)-1)+")", args...)
		if err != nil {
			return 0, false, wrap("drain purges", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, false, wrap("drain purges", err)
		}
		removed += k
	}
	if last {
		if _, err := t.Exec(ctx, "DELETE FROM purge_queue WHERE inode = ?", top); err != nil {
			return 0, false, wrap("drain purges", err)
		}
		removed = max(removed, 1) // a queue row with nothing left still counts as work done
	}
	return removed, false, nil
}

// queryInodes answers the single int64 column of a query.
func queryInodes(ctx context.Context, t *sqldb.Tx, q string, args ...any) ([]int64, error) {
	rows, err := t.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap("drain purges", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("drain purges", err)
		}
		out = append(out, id)
	}
	return out, wrap("drain purges", rows.Err())
}
