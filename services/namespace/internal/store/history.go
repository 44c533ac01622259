package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// History versions (SMH API section 9, docs/lifecycle.md): rows of file_versions (migration
// 0007). A version shares the blob of the content it keeps; the space's history_size and
// history_file_num move with every version made or removed, in the same transaction.

// versionColumns is the column list every version query selects, in scanVersion's order.
const versionColumns = `id, library_id, space_id, inode, version, type, size, content_type, etag, crc64, blob_id,
	metadata, created_by, creation_way, created_at, set_latest_at, archived_at, expires_at`

func scanVersion(sc scanner) (app.Version, error) {
	var (
		v                            app.Version
		typ, meta                    string
		created, setLatest, archived int64
		expires                      sql.NullInt64
	)
	err := sc.Scan(&v.ID, &v.LibraryID, &v.SpaceID, &v.Inode, &v.Version, &typ, &v.Size, &v.ContentType, &v.ETag,
		&v.CRC64, &v.BlobID, &meta, &v.CreatedBy, &v.CreationWay, &created, &setLatest, &archived, &expires)
	if err != nil {
		return app.Version{}, err
	}
	v.Type = app.NodeType(typ)
	v.CreatedAt, v.SetLatestAt, v.ArchivedAt = fromMillis(created), fromMillis(setLatest), fromMillis(archived)
	if expires.Valid {
		v.ExpiresAt = fromMillis(expires.Int64)
	}
	if v.MetaData, err = decodeMeta(meta); err != nil {
		return app.Version{}, fmt.Errorf("version %d: %w", v.ID, err)
	}
	return v, nil
}

// keepsContent reports whether a node has content a version can keep: a file with a blob (not a
// directory, not a symlink).
func keepsContent(n nodeRow) bool {
	return !n.isDir() && !n.IsSymlink() && n.BlobID != ""
}

// contentMadeAt answers when a node's current content was made: when it became the latest, or,
// for the content it was created with (or one written with history off), its last write.
func contentMadeAt(n nodeRow) time.Time {
	if !n.LatestAt.IsZero() {
		return n.LatestAt
	}
	return n.ModifiedAt
}

// keepVersion runs inside an overwrite's transaction, before the new content replaces old:
// with rules.KeepVersions > 0 it keeps old's content (blob shared, no byte copy) as a version of
// the file into (old itself for an overwrite in place; the moved file when a move replaces old,
// which then also takes over old's earlier versions), drops the oldest beyond the count and moves
// the history counters. The node into gets the next version number, creationWay updated and
// latestAt now. With history off it does nothing.
func keepVersion(ctx context.Context, t *sqldb.Tx, old nodeRow, into int64, rules app.WriteRules, now time.Time) error {
	if rules.KeepVersions <= 0 {
		return nil
	}
	if into != old.Inode {
		// The moved file takes the replaced file's place, and with it its history.
		if _, err := t.Exec(ctx, "UPDATE file_versions SET inode = ? WHERE inode = ?", into, old.Inode); err != nil {
			return wrap("keep version", err)
		}
	}
	if !keepsContent(old) {
		return nil
	}
	if err := archiveContent(ctx, t, old, into, rules, now); err != nil {
		return err
	}
	// The next number follows every version the file now has: a moved file brings its own
	// numbers beside the replaced file's, and they must not repeat.
	var kept, current int64
	if err := t.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM file_versions WHERE inode = ?`, into).Scan(&kept); err != nil {
		return wrap("keep version", err)
	}
	if err := t.QueryRow(ctx, `SELECT version FROM nodes WHERE inode = ?`, into).Scan(&current); err != nil {
		return wrap("keep version", err)
	}
	_, err := t.Exec(ctx, "UPDATE nodes SET version = ?, creation_way = ?, latest_at = ? WHERE inode = ?",
		max(kept, current, old.Version)+1, app.HistoryUpdated, millis(now), into)
	if err != nil {
		return wrap("keep version", err)
	}
	return trimVersions(ctx, t, old.LibraryID, old.SpaceID, into, rules, now)
}

// archiveContent inserts n's current content as a version of the file into and counts it.
func archiveContent(ctx context.Context, t *sqldb.Tx, n nodeRow, into int64, rules app.WriteRules, now time.Time) error {
	var expires any
	if rules.VersionDays > 0 {
		expires = millis(now.Add(time.Duration(rules.VersionDays) * 24 * time.Hour))
	}
	made := contentMadeAt(n)
	setLatest := made
	if !n.LatestAt.IsZero() {
		setLatest = n.LatestAt
	}
	_, err := t.Exec(ctx, `INSERT INTO file_versions (library_id, space_id, inode, version, type, size, content_type,
		etag, crc64, blob_id, metadata, created_by, creation_way, created_at, set_latest_at, archived_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.LibraryID, n.SpaceID, into, n.Version, string(n.Type), n.Size, n.ContentType, n.ETag, n.CRC64, n.BlobID,
		encodeMeta(n.MetaData), n.UserID, n.CreationWay, millis(made), millis(setLatest), millis(now), expires)
	if err != nil {
		return wrap("keep version", err)
	}
	return addHistoryCounts(ctx, t, n.LibraryID, n.SpaceID, n.Size, 1)
}

// trimVersions drops the oldest versions of inode beyond rules.KeepVersions (fileHistoryCount,
// decision 19); the change feed gets a HISTORY.DELETE for each, by rules.UserID.
func trimVersions(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, inode int64, rules app.WriteRules, now time.Time) error {
	rows, err := t.Query(ctx, `SELECT id, size FROM file_versions WHERE inode = ? ORDER BY id DESC`, inode)
	if err != nil {
		return wrap("trim versions", err)
	}
	var (
		drop      []any
		dropBytes int64
		seen      int
	)
	for rows.Next() {
		var id, size int64
		if err := rows.Scan(&id, &size); err != nil {
			rows.Close()
			return wrap("trim versions", err)
		}
		if seen++; seen > rules.KeepVersions {
			drop = append(drop, id)
			dropBytes += size
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap("trim versions", err)
	}
	if len(drop) == 0 {
		return nil
	}
	in := "id IN (?" + strings.Repeat(", ?", len(drop)-1) + ")"
	if err := recordVersionDeletes(ctx, t, now, rules.UserID, "v."+in, drop...); err != nil {
		return err
	}
	if _, err := t.Exec(ctx, "DELETE FROM file_versions WHERE "+in, drop...); err != nil {
		return wrap("trim versions", err)
	}
	return addHistoryCounts(ctx, t, libraryID, spaceID, -dropBytes, -int64(len(drop)))
}

// addHistoryCounts moves a space's history counters.
func addHistoryCounts(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, dSize, dNum int64) error {
	if dSize == 0 && dNum == 0 {
		return nil
	}
	_, err := t.Exec(ctx, `UPDATE spaces SET history_size = history_size + ?, history_file_num = history_file_num + ?
		WHERE library_id = ? AND space_id = ?`, dSize, dNum, libraryID, spaceID)
	return wrap("history counters", err)
}

// dropVersionsOf removes the versions of files whose rows are being purged for good, with their
// history counters.
func dropVersionsOf(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, inodes []int64) error {
	for start := 0; start < len(inodes); start += referencedBatch {
		batch := inodes[start:min(start+referencedBatch, len(inodes))]
		args := []any{libraryID, spaceID}
		for _, in := range batch {
			args = append(args, in)
		}
		in := " AND inode IN (?" + strings.Repeat(", ?", len(batch)-1) + ")"
		var num, size int64
		if err := t.QueryRow(ctx, "SELECT COUNT(*), "+sumBigint("size")+
			" FROM file_versions WHERE library_id = ? AND space_id = ?"+in, args...).Scan(&num, &size); err != nil {
			return wrap("drop versions", err)
		}
		if num == 0 {
			continue
		}
		if _, err := t.Exec(ctx, "DELETE FROM file_versions WHERE library_id = ? AND space_id = ?"+in, args...); err != nil {
			return wrap("drop versions", err)
		}
		if err := addHistoryCounts(ctx, t, libraryID, spaceID, -size, -num); err != nil {
			return err
		}
	}
	return nil
}

// versionBlobs answers which of blobIDs a history version still names (ReferencedBlobs: a blob
// stays while a version keeps it).
func versionBlobs(ctx context.Context, t *sqldb.Tx, blobIDs []any) ([]string, error) {
	if len(blobIDs) == 0 {
		return nil, nil
	}
	rows, err := t.Query(ctx, "SELECT DISTINCT blob_id FROM file_versions WHERE blob_id IN (?"+
		strings.Repeat(", ?", len(blobIDs)-1)+")", blobIDs...)
	if err != nil {
		return nil, wrap("version blobs", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("version blobs", err)
		}
		out = append(out, id)
	}
	return out, wrap("version blobs", rows.Err())
}

// versionMarker is the position of a marker-mode page's last version: its creation time and id
// ("<ms>.<id>"), so both orders continue by a range scan of their index.
func versionMarker(v app.Version) string {
	return strconv.FormatInt(millis(v.CreatedAt), 10) + "." + strconv.FormatInt(v.ID, 10)
}

func parseVersionMarker(s string) (created, id int64, err error) {
	a, b, ok := strings.Cut(s, ".")
	if ok {
		if created, err = strconv.ParseInt(a, 10, 64); err == nil {
			id, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil {
		return 0, 0, app.ErrMarkerNotFound
	}
	return created, id, nil
}

// ListVersions answers a page of a file's versions (9.4).
func (s *SQL) ListVersions(ctx context.Context, libraryID, spaceID string, inode int64, opts app.VersionListOptions) (app.VersionPage, error) {
	limit := clampLimit(opts.Limit)
	dir, cmp := "ASC", ">"
	if opts.Desc {
		dir, cmp = "DESC", "<"
	}
	where := "library_id = ? AND space_id = ? AND inode = ?"
	args := []any{libraryID, spaceID, inode}
	order := "id " + dir
	if opts.OrderBy == app.VersionsByCreationTime {
		order = "created_at " + dir + ", id " + dir
	}
	if opts.Marker != "" {
		created, id, err := parseVersionMarker(opts.Marker)
		if err != nil {
			return app.VersionPage{}, err
		}
		if opts.OrderBy == app.VersionsByCreationTime {
			where += " AND (created_at " + cmp + " ? OR (created_at = ? AND id " + cmp + " ?))"
			args = append(args, created, created, id)
		} else {
			where += " AND id " + cmp + " ?"
			args = append(args, id)
		}
	}
	var page app.VersionPage
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		q := "SELECT " + versionColumns + " FROM file_versions WHERE " + where + " ORDER BY " + order + " LIMIT ?"
		qargs := append(slices.Clone(args), limit+1)
		if opts.Marker == "" && opts.Offset > 0 {
			q += " OFFSET ?"
			qargs = append(qargs, opts.Offset)
		}
		rows, err := t.Query(ctx, q, qargs...)
		if err != nil {
			return wrap("list versions", err)
		}
		for rows.Next() {
			v, err := scanVersion(rows)
			if err != nil {
				rows.Close()
				return wrap("list versions", err)
			}
			page.Versions = append(page.Versions, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("list versions", err)
		}
		if len(page.Versions) > limit {
			page.Versions, page.More = page.Versions[:limit], true
			page.NextMarker = versionMarker(page.Versions[limit-1])
		}
		if opts.Count {
			err = t.QueryRow(ctx, "SELECT COUNT(*) FROM file_versions WHERE library_id = ? AND space_id = ? AND inode = ?",
				libraryID, spaceID, inode).Scan(&page.Total)
		}
		return wrap("list versions", err)
	})
	if err != nil {
		return app.VersionPage{}, err
	}
	return page, nil
}

func versionByID(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, id int64) (app.Version, error) {
	v, err := scanVersion(t.QueryRow(ctx, "SELECT "+versionColumns+
		" FROM file_versions WHERE id = ? AND library_id = ? AND space_id = ?", id, libraryID, spaceID))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Version{}, app.ErrHistoryNotFound
	}
	return v, wrap("version", err)
}

// Version answers one version of the space.
func (s *SQL) Version(ctx context.Context, libraryID, spaceID string, id int64) (app.Version, error) {
	var v app.Version
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		v, err = versionByID(ctx, t, libraryID, spaceID, id)
		return err
	})
	return v, err
}

// DeleteVersions removes versions of the space (9.5), all or none, each with a HISTORY.DELETE
// by userID in the change feed.
func (s *SQL) DeleteVersions(ctx context.Context, libraryID, spaceID string, ids []int64, userID string, now time.Time) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	return s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		args := []any{libraryID, spaceID}
		for _, id := range ids {
			args = append(args, id)
		}
		in := "id IN (?" + strings.Repeat(", ?", len(ids)-1) + ")"
		where := " FROM file_versions WHERE library_id = ? AND space_id = ? AND " + in
		var num, size int64
		if err := t.QueryRow(ctx, "SELECT COUNT(*), "+sumBigint("size")+where, args...).Scan(&num, &size); err != nil {
			return wrap("delete versions", err)
		}
		if num != int64(len(ids)) {
			return app.ErrHistoryNotFound
		}
		// All ids are the space's (counted above), so the ids alone select them.
		if err := recordVersionDeletes(ctx, t, now, userID, "v."+in, args[2:]...); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, "DELETE"+where, args...); err != nil {
			return wrap("delete versions", err)
		}
		return addHistoryCounts(ctx, t, libraryID, spaceID, -size, -num)
	})
}

// RestoreVersion makes a version the file's current content (9.6); see app.HistoryStore.
func (s *SQL) RestoreVersion(ctx context.Context, libraryID, spaceID string, id int64, rules app.WriteRules, now time.Time) (app.Node, []string, error) {
	var (
		out  nodeRow
		path []string
	)
	err := s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		v, err := versionByID(ctx, t, libraryID, spaceID, id)
		if err != nil {
			return err
		}
		cur, err := nodeByInode(ctx, t, libraryID, spaceID, v.Inode)
		if err != nil {
			return err // the file is in the bin (or going): ErrNodeNotFound
		}
		if path, err = pathOf(ctx, t, libraryID, spaceID, cur.Inode); err != nil {
			return err
		}
		// The current content stays as a version, whatever the history switch: restoring must
		// never lose what the file held (decision 24 lets versions be used with history off).
		if keepsContent(cur) {
			if err := archiveContent(ctx, t, cur, cur.Inode, rules, now); err != nil {
				return err
			}
		}
		out, err = scanNode(t.QueryRow(ctx, `UPDATE nodes SET type = ?, size = ?, content_type = ?, etag = ?, crc64 = ?,
			blob_id = ?, metadata = ?, user_id = ?, modified_at = ?, version = ?, creation_way = ?, latest_at = ?
			WHERE inode = ? RETURNING `+nodeColumns,
			string(v.Type), v.Size, v.ContentType, v.ETag, v.CRC64, v.BlobID, encodeMeta(v.MetaData),
			orUser(rules.UserID, cur.UserID), millis(now), cur.Version+1, app.HistoryRestored, millis(now), cur.Inode))
		if err != nil {
			return wrap("restore version", err)
		}
		if err := growTree(ctx, t, libraryID, spaceID, cur.ParentInode, app.TreeTotals{Size: v.Size - cur.Size}); err != nil {
			return err
		}
		if err := recordChange(ctx, t, libraryID, spaceID, now, change{kind: app.EventHistoryLatest, inode: cur.Inode,
			userID: rules.UserID, extra: overwritten(cur, map[string]any{"versionId": strconv.FormatInt(id, 10)})}); err != nil {
			return err
		}
		if rules.KeepVersions > 0 {
			if err := trimVersions(ctx, t, libraryID, spaceID, cur.Inode, rules, now); err != nil {
				return err
			}
		}
		return checkQuota(ctx, t, libraryID, spaceID, v.Size, rules)
	})
	if err != nil {
		return app.Node{}, nil, err
	}
	return out.Node, path, nil
}

// orUser answers the acting user, or fallback for a service call without one.
func orUser(user, fallback string) string {
	if user != "" {
		return user
	}
	return fallback
}

// clearHistoryLockSpace keys the advisory lock that serialises purges of one library's history
// (a space id can never hold "*").
const clearHistoryLockSpace = "*history"

// ClearLibraryHistory removes every version of a library (9.3) in one transaction and records it
// as a finished library task.
func (s *SQL) ClearLibraryHistory(ctx context.Context, libraryID string, every time.Duration, now time.Time) (app.LibraryTask, error) {
	task := app.LibraryTask{LibraryID: libraryID, Type: app.LibraryTaskClearHistory, Status: app.TaskDone, CreatedAt: now, FinishedAt: now}
	err := s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		if t.Postgres() {
			if _, err := t.Exec(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(?))",
				spaceLockClass, libraryID+"/"+clearHistoryLockSpace); err != nil {
				return wrap("clear history", err)
			}
		}
		var recent int64
		if err := t.QueryRow(ctx, `SELECT COUNT(*) FROM library_tasks WHERE library_id = ? AND type = ? AND created_at > ?`,
			libraryID, app.LibraryTaskClearHistory, millis(now.Add(-every))).Scan(&recent); err != nil {
			return wrap("clear history", err)
		}
		if recent > 0 {
			return app.ErrRateLimited
		}
		// A library task, not one user's write: the events carry no user (docs/changefeed.md).
		if err := recordVersionDeletes(ctx, t, now, "", "v.library_id = ?", libraryID); err != nil {
			return err
		}
		res, err := t.Exec(ctx, "DELETE FROM file_versions WHERE library_id = ?", libraryID)
		if err != nil {
			return wrap("clear history", err)
		}
		if task.DeleteCount, err = res.RowsAffected(); err != nil {
			return wrap("clear history", err)
		}
		if _, err := t.Exec(ctx, "UPDATE spaces SET history_size = 0, history_file_num = 0 WHERE library_id = ?", libraryID); err != nil {
			return wrap("clear history", err)
		}
		result, _ := json.Marshal(libraryTaskResult{Status: app.TaskDone, DeleteCount: task.DeleteCount}) // plain fields
		var id int64
		err = t.QueryRow(ctx, `INSERT INTO library_tasks (library_id, type, status, result, created_at, finished_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, libraryID, task.Type, task.Status, string(result), millis(now), millis(now)).Scan(&id)
		if err != nil {
			return wrap("clear history", err)
		}
		if id <= 0 || id > math.MaxInt32 {
			return fmt.Errorf("store: library task id %d out of the API's int32 range", id)
		}
		task.ID = int32(id)
		return nil
	})
	if err != nil {
		return app.LibraryTask{}, err
	}
	s.analyzeAsTablesGrow()
	return task, nil
}

// libraryTaskResult is the stored result of a library task.
type libraryTaskResult struct {
	Status      int    `json:"status"`
	Code        string `json:"code,omitempty"`
	DeleteCount int64  `json:"deleteCount"`
}

// LibraryTasks answers the library's tasks among ids, by id.
func (s *SQL) LibraryTasks(ctx context.Context, libraryID string, ids []int32) ([]app.LibraryTask, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{libraryID}
	for _, id := range ids {
		args = append(args, id)
	}
	var out []app.LibraryTask
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		rows, err := t.Query(ctx, `SELECT id, library_id, type, status, result, created_at, finished_at FROM library_tasks
			WHERE library_id = ? AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY id`, args...)
		if err != nil {
			return wrap("library tasks", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				lt       app.LibraryTask
				result   string
				created  int64
				finished sql.NullInt64
			)
			if err := rows.Scan(&lt.ID, &lt.LibraryID, &lt.Type, &lt.Status, &result, &created, &finished); err != nil {
				return wrap("library tasks", err)
			}
			if result != "" {
				var r libraryTaskResult
				if err := json.Unmarshal([]byte(result), &r); err != nil {
					return wrap("library tasks", fmt.Errorf("task %d result: %w", lt.ID, err))
				}
				lt.DeleteCount, lt.Code = r.DeleteCount, r.Code
			}
			lt.CreatedAt = fromMillis(created)
			if finished.Valid {
				lt.FinishedAt = fromMillis(finished.Int64)
			}
			out = append(out, lt)
		}
		return wrap("library tasks", rows.Err())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ExpireVersions removes up to limit versions whose expiry is before now (the cleanup job,
// decision 19), with their counters.
func (s *SQL) ExpireVersions(ctx context.Context, now time.Time, limit int) (int64, error) {
	var n int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		rows, err := t.Query(ctx, `SELECT id, library_id, space_id, size FROM file_versions
			WHERE expires_at IS NOT NULL AND expires_at < ? ORDER BY expires_at LIMIT ?`, millis(now), clampPurge(limit))
		if err != nil {
			return wrap("expire versions", err)
		}
		type spaceKey struct{ lib, space string }
		type delta struct{ size, num int64 }
		deltas := map[spaceKey]delta{}
		var ids []any
		for rows.Next() {
			var (
				id, size int64
				k        spaceKey
			)
			if err := rows.Scan(&id, &k.lib, &k.space, &size); err != nil {
				rows.Close()
				return wrap("expire versions", err)
			}
			d := deltas[k]
			deltas[k] = delta{size: d.size + size, num: d.num + 1}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("expire versions", err)
		}
		for start := 0; start < len(ids); start += referencedBatch {
			batch := ids[start:min(start+referencedBatch, len(ids))]
			in := "id IN (?" + strings.Repeat(", ?", len(batch)-1) + ")"
			if err := recordVersionDeletes(ctx, t, now, "", "v."+in, batch...); err != nil {
				return err
			}
			if _, err := t.Exec(ctx, "DELETE FROM file_versions WHERE "+in, batch...); err != nil {
				return wrap("expire versions", err)
			}
		}
		for k, d := range deltas {
			if err := addHistoryCounts(ctx, t, k.lib, k.space, -d.size, -d.num); err != nil {
				return err
			}
		}
		n = int64(len(ids))
		return nil
	})
	return n, err
}

// PurgeLibraryTasks removes library tasks that finished before before (7.2: 30 days).
func (s *SQL) PurgeLibraryTasks(ctx context.Context, before time.Time, limit int) (int64, error) {
	var n int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		res, err := t.Exec(ctx, `DELETE FROM library_tasks WHERE id IN (SELECT id FROM library_tasks
			WHERE finished_at < ? LIMIT ?)`, millis(before), clampPurge(limit))
		if err != nil {
			return wrap("purge library tasks", err)
		}
		n, err = res.RowsAffected()
		return wrap("purge library tasks", err)
	})
	return n, err
}
