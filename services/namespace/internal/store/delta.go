package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// The change feed of a space (SMH API 3.18, docs/changefeed.md). Every transaction that
// changes a space's live tree records its events with recordChange (or recordMany) before it
// commits: the events are a copy of each entry as the change left it, numbered from the space's
// counter spaces.delta_seq. Taking a number updates the space's row, which PostgreSQL then holds
// until the transaction ends, so numbers are taken in commit order and a reader's snapshot that
// holds event k+1 holds every event before it (SQLite has a single writer). A transaction that
// rolls back gives its numbers back with everything else.

// Locations of an entry after an event (3.18 "location").
const (
	locationLive     = 0
	locationBin      = 1
	locationHistory  = 2
	locationDeleted  = 3
	deltaEventsBatch = 1000
)

// change is one event to record: its kind (app.Event*), the entry it is about (the entry's row
// as it is now is copied), where the entry is, who did it and the event's extraInfo.
type change struct {
	kind     string
	inode    int64
	location int
	byQuota  bool
	userID   string
	// extra is the extraInfo object; nil records null.
	extra map[string]any
}

// deltaColumns are the columns recordChange fills, in deltaSelect's order.
const deltaColumns = `library_id, space_id, seq, event_type, event_time, user_id, location, removed_by_quota,
	extra_info, inode, parent_inode, name, type, size, etag, crc64, content_type, category, local_created,
	local_modified, created_at, modified_at, version, link_target`

// deltaNodeColumns copies the entry's own columns from nodes (aliased n).
const deltaNodeColumns = `n.inode, n.parent_inode, n.name, n.type, n.size, n.etag, n.crc64, n.content_type,
	n.category, n.local_created, n.local_modified, n.created_at, n.modified_at, n.version, n.link_target`

// nextSeq takes k numbers of the space's change feed and answers the first.
func nextSeq(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, k int64) (int64, error) {
	var last int64
	err := t.QueryRow(ctx, `UPDATE spaces SET delta_seq = delta_seq + ? WHERE library_id = ? AND space_id = ?
		RETURNING delta_seq`, k, libraryID, spaceID).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, app.ErrSpaceNotFound
	}
	if err != nil {
		return 0, wrap("change feed", err)
	}
	return last - k + 1, nil
}

// encodeExtra stores an extraInfo object as JSON (” = null).
func encodeExtra(extra map[string]any) string {
	if extra == nil {
		return ""
	}
	b, err := json.Marshal(extra)
	if err != nil {
		return "" // plain values only; unreachable
	}
	return string(b)
}

// recordChange records c as the next event of the space, in t. Call it after the change, so
// the entry's row shows the result (docs/changefeed.md "Recording a change").
//
// On PostgreSQL the number and the row are one statement (a data-modifying WITH): the space's row
// stays locked from the number to the commit, so every round trip in between is time no other
// writer of the space can use (measured: two statements cost creates about a quarter of their
// rate under 32 clients). SQLite has no round trips and no UPDATE in WITH: two statements.
func recordChange(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, now time.Time, c change) error {
	var (
		res sql.Result
		err error
	)
	if t.Postgres() {
		res, err = t.Exec(ctx, `WITH s AS (UPDATE spaces SET delta_seq = delta_seq + 1 WHERE library_id = ? AND space_id = ?
				RETURNING delta_seq)
			INSERT INTO delta_events (`+deltaColumns+`)
			SELECT ?, ?, s.delta_seq, ?, ?, ?, ?, ?, ?, `+deltaNodeColumns+` FROM s CROSS JOIN nodes n WHERE n.inode = ?`,
			libraryID, spaceID, libraryID, spaceID, c.kind, millis(now), c.userID, c.location, c.byQuota, encodeExtra(c.extra), c.inode)
	} else {
		var seq int64
		if seq, err = nextSeq(ctx, t, libraryID, spaceID, 1); err != nil {
			return err
		}
		res, err = t.Exec(ctx, `INSERT INTO delta_events (`+deltaColumns+`)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, `+deltaNodeColumns+` FROM nodes n WHERE n.inode = ?`,
			libraryID, spaceID, seq, c.kind, millis(now), c.userID, c.location, c.byQuota, encodeExtra(c.extra), c.inode)
	}
	if err != nil {
		return wrap("change feed", err)
	}
	if k, err := res.RowsAffected(); err != nil || k != 1 {
		// No row: the inode (or, on PostgreSQL, the space) is gone; the transaction must not
		// commit a change without its event.
		return fmt.Errorf("store: change feed: inode %d of %s/%s: no such row", c.inode, libraryID, spaceID)
	}
	return nil
}

// recordMany records one event like c for each row of sel, in sel's order: sel answers
// (inode, ord, extra), extra being the event's extraInfo as JSON text (” = c.extra). It is the
// bulk form for the changes that reach a whole subtree (a directory copied or restored).
func recordMany(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, now time.Time, c change, sel string, args ...any) error {
	var k int64
	if err := t.QueryRow(ctx, "SELECT COUNT(*) FROM ("+sel+") AS s", args...).Scan(&k); err != nil {
		return wrap("change feed", err)
	}
	if k == 0 {
		return nil
	}
	first, err := nextSeq(ctx, t, libraryID, spaceID, k)
	if err != nil {
		return err
	}
	all := append([]any{libraryID, spaceID, first - 1, c.kind, millis(now), c.userID, c.location, c.byQuota, encodeExtra(c.extra)}, args...)
	res, err := t.Exec(ctx, `INSERT INTO delta_events (`+deltaColumns+`)
		SELECT ?, ?, ? + ROW_NUMBER() OVER (ORDER BY s.ord), ?, ?, ?, ?, ?, CASE WHEN s.extra = '' THEN ? ELSE s.extra END,
			`+deltaNodeColumns+` FROM (`+sel+`) AS s JOIN nodes n ON n.inode = s.inode`, all...)
	if err != nil {
		return wrap("change feed", err)
	}
	if got, err := res.RowsAffected(); err != nil || got != k {
		return fmt.Errorf("store: change feed: %d of %d events recorded", got, k)
	}
	return nil
}

// recordVersionDeletes records a HISTORY.DELETE (location 2) for each history version the
// condition where selects (over file_versions aliased v), in the space of each, before they are
// deleted in the same transaction. The event shows the version: its content, number and
// creation time, at its file's inode, parent and name; extraInfo's versionId is the version's id
// (docs/changefeed.md). Spaces are taken in order, so two such transactions lock them alike.
func recordVersionDeletes(ctx context.Context, t *sqldb.Tx, now time.Time, userID, where string, args ...any) error {
	type count struct {
		lib, space string
		k          int64
	}
	var counts []count
	// A version whose file row is gone (none should be: purges drop the versions first) has no
	// place to show and no reader who knows it: it gets no event.
	rows, err := t.Query(ctx, `SELECT v.library_id, v.space_id, COUNT(*) FROM file_versions v
		JOIN nodes n ON n.inode = v.inode WHERE `+where+`
		GROUP BY v.library_id, v.space_id ORDER BY v.library_id, v.space_id`, args...)
	if err != nil {
		return wrap("change feed", err)
	}
	for rows.Next() {
		var c count
		if err := rows.Scan(&c.lib, &c.space, &c.k); err != nil {
			rows.Close()
			return wrap("change feed", err)
		}
		counts = append(counts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap("change feed", err)
	}
	for _, c := range counts {
		first, err := nextSeq(ctx, t, c.lib, c.space, c.k)
		if err != nil {
			return err
		}
		res, err := t.Exec(ctx, `INSERT INTO delta_events (`+deltaColumns+`)
			SELECT v.library_id, v.space_id, ? + ROW_NUMBER() OVER (ORDER BY v.id), ?, ?, ?, ?, ?,
				'{"versionId":"' || CAST(v.id AS TEXT) || '"}',
				v.inode, n.parent_inode, n.name, v.type, v.size, v.etag, v.crc64, v.content_type, n.category,
				n.local_created, n.local_modified, v.created_at, v.created_at, v.version, n.link_target
			FROM file_versions v JOIN nodes n ON n.inode = v.inode
			WHERE v.library_id = ? AND v.space_id = ? AND (`+where+`)`,
			append([]any{first - 1, app.EventHistoryDelete, millis(now), userID, locationHistory, false, c.lib, c.space}, args...)...)
		if err != nil {
			return wrap("change feed", err)
		}
		if got, err := res.RowsAffected(); err != nil || got != c.k {
			return fmt.Errorf("store: change feed: %d of %d version events recorded", got, c.k)
		}
	}
	return nil
}

// liveSubtreeSel selects the live descendants of a directory as (inode, ord, extra), parents
// before children (ord grows with depth), for recordMany. Its placeholders are library, space,
// directory, library, space.
const liveSubtreeSel = `WITH RECURSIVE sub(inode, is_dir, depth) AS (
		SELECT inode, is_dir, 1 FROM nodes
		WHERE library_id = ? AND space_id = ? AND parent_inode = ? AND deleted_at IS NULL
	UNION ALL
		SELECT n.inode, n.is_dir, sub.depth + 1 FROM sub CROSS JOIN nodes n
		WHERE n.parent_inode = sub.inode AND sub.is_dir = 1 AND n.library_id = ? AND n.space_id = ?
			AND n.deleted_at IS NULL
	) SELECT inode, depth * 10000000000000 + inode AS ord, '' AS extra FROM sub`

// overwritten answers the ow* fields of the *_OVERWRITE events: the file old was before it was
// replaced (3.18).
func overwritten(old nodeRow, extra map[string]any) map[string]any {
	if extra == nil {
		extra = map[string]any{}
	}
	extra["owInode"] = strconv.FormatInt(old.Inode, 10)
	extra["owSize"] = strconv.FormatInt(old.Size, 10)
	extra["owEtag"] = old.ETag
	extra["owCRC64"] = old.CRC64
	extra["owContentType"] = old.ContentType
	extra["owRevisionVersion"] = old.Version
	return extra
}

// deletion says who deleted an entry: a user (the default), or the quota removal job.
type deletion struct{ byQuota bool }

// deleteKind answers the event of a delete: to the bin or for good, by a user or a task.
func (d deletion) kind(recycle bool) (string, int) {
	switch {
	case d.byQuota:
		return app.EventTaskFileDelete, locationDeleted
	case recycle:
		return app.EventFileTrash, locationBin
	default:
		return app.EventFileDelete, locationDeleted
	}
}

// DeltaHead answers the space's creation time (in ms: it tells the space from an earlier one of
// the same id) and the number of its last event.
func (s *SQL) DeltaHead(ctx context.Context, libraryID, spaceID string) (app.DeltaPosition, error) {
	var p app.DeltaPosition
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		p, err = deltaHead(ctx, t, libraryID, spaceID)
		return err
	})
	return p, err
}

func deltaHead(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string) (app.DeltaPosition, error) {
	var p app.DeltaPosition
	err := t.QueryRow(ctx, `SELECT created_at, delta_seq FROM spaces WHERE library_id = ? AND space_id = ?`,
		libraryID, spaceID).Scan(&p.Epoch, &p.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return app.DeltaPosition{}, app.ErrSpaceNotFound
	}
	return p, wrap("change feed", err)
}

// DeltaLog answers up to limit events after the position from, in one snapshot:
// ErrCursorExpired when from is of an earlier space of the same id or its next events were
// pruned; ErrCursorInvalid when it lies past the head.
func (s *SQL) DeltaLog(ctx context.Context, libraryID, spaceID string, from app.DeltaPosition, limit int) (app.DeltaPage, error) {
	limit = min(max(limit, 1), deltaEventsBatch)
	var page app.DeltaPage
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		head, err := deltaHead(ctx, t, libraryID, spaceID)
		if err != nil {
			return err
		}
		switch {
		case head.Epoch != from.Epoch:
			return app.ErrCursorExpired
		case from.Seq > head.Seq:
			return app.ErrCursorInvalid
		}
		// The kept events are a suffix of the numbers (PruneDelta removes prefixes): the cursor
		// is good while the event after it is kept or none was ever pruned past it.
		var oldest sql.NullInt64
		if err := t.QueryRow(ctx, `SELECT MIN(seq) FROM delta_events WHERE library_id = ? AND space_id = ?`,
			libraryID, spaceID).Scan(&oldest); err != nil {
			return wrap("change feed", err)
		}
		if (oldest.Valid && from.Seq < oldest.Int64-1) || (!oldest.Valid && from.Seq < head.Seq) {
			return app.ErrCursorExpired
		}
		rows, err := t.Query(ctx, `SELECT seq, event_type, event_time, user_id, location, removed_by_quota, extra_info,
			inode, parent_inode, name, type, size, etag, crc64, content_type, category, local_created,
			local_modified, created_at, modified_at, version, link_target
			FROM delta_events WHERE library_id = ? AND space_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
			libraryID, spaceID, from.Seq, limit+1)
		if err != nil {
			return wrap("change feed", err)
		}
		defer rows.Close()
		page = app.DeltaPage{Next: from}
		for rows.Next() {
			if len(page.Events) == limit {
				page.More = true
				break
			}
			e, err := scanEvent(rows)
			if err != nil {
				return wrap("change feed", err)
			}
			page.Events = append(page.Events, e)
			page.Next.Seq = e.Seq
		}
		return wrap("change feed", rows.Err())
	})
	return page, err
}

func scanEvent(sc scanner) (app.DeltaEvent, error) {
	var (
		e                 app.DeltaEvent
		at, created, mod  int64
		typ               string
		link              sql.NullInt64
		byQuota           bool
		location, version int64
	)
	err := sc.Scan(&e.Seq, &e.Type, &at, &e.UserID, &location, &byQuota, &e.ExtraInfo,
		&e.Node.Inode, &e.Node.ParentInode, &e.Node.Name, &typ, &e.Node.Size, &e.Node.ETag, &e.Node.CRC64,
		&e.Node.ContentType, &e.Node.Category, &e.Node.LocalCreationTime, &e.Node.LocalModificationTime,
		&created, &mod, &version, &link)
	if err != nil {
		return app.DeltaEvent{}, err
	}
	e.Time, e.Location, e.RemovedByQuota = fromMillis(at), int(location), byQuota
	e.Node.Type, e.Node.CreatedAt, e.Node.ModifiedAt = app.NodeType(typ), fromMillis(created), fromMillis(mod)
	e.Node.Version, e.Node.LinkTarget = version, link.Int64
	return e, nil
}

// deletionKinds are the events that take an entry out of the live tree or the bin.
var deletionKinds = []any{app.EventFileDelete, app.EventFileTrash, app.EventTaskFileDelete, app.EventTaskFileTrash, app.EventRecycleDelete}

// DeletionOf answers how the entry inode of the space was deleted (checkFileDeletion, 3.18):
// the last deletion event of the deleted entry holding it (the inode itself, or the directory
// whose deletion took it), or, when that event is no longer kept, Unknown at the row's deletion
// time. A live inode, or one the store knows nothing of, is ErrNodeNotFound.
func (s *SQL) DeletionOf(ctx context.Context, libraryID, spaceID string, inode int64) (app.Deletion, error) {
	var out app.Deletion
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		top, deletedAt, err := deletedTop(ctx, t, libraryID, spaceID, inode)
		if err != nil {
			return err
		}
		in := "?" + strings.Repeat(", ?", len(deletionKinds)-1)
		var at int64
		var byQuota bool
		err = t.QueryRow(ctx, `SELECT event_time, removed_by_quota FROM delta_events
			WHERE inode = ? AND library_id = ? AND space_id = ? AND event_type IN (`+in+`) ORDER BY seq DESC LIMIT 1`,
			append([]any{top, libraryID, spaceID}, deletionKinds...)...).Scan(&at, &byQuota)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if deletedAt == 0 {
				return app.ErrNodeNotFound
			}
			out = app.Deletion{DeletedAt: fromMillis(deletedAt)}
			return nil
		case err != nil:
			return wrap("deletion check", err)
		}
		out = app.Deletion{DeletedAt: fromMillis(at), ByQuota: byQuota}
		return nil
	})
	return out, err
}

// deletedTop walks up from inode to the deleted entry holding it and answers that entry and
// when it was deleted; ErrNodeNotFound when inode is live. When inode's row is gone (purged) it
// answers inode itself with deletedAt 0: only its events can tell.
func deletedTop(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, inode int64) (int64, int64, error) {
	cur := inode
	for depth := 0; cur != 0; depth++ {
		if depth > maxDepth {
			return 0, 0, errTooDeep
		}
		var (
			parent  int64
			deleted sql.NullInt64
		)
		err := t.QueryRow(ctx, `SELECT parent_inode, deleted_at FROM nodes WHERE inode = ? AND library_id = ? AND space_id = ?`,
			cur, libraryID, spaceID).Scan(&parent, &deleted)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// A row of the chain is purged: what inode was in is gone; its own events may remain.
			return inode, 0, nil
		case err != nil:
			return 0, 0, wrap("deletion check", err)
		case deleted.Valid:
			return cur, deleted.Int64, nil
		}
		cur = parent
	}
	return 0, 0, app.ErrNodeNotFound
}

// PruneDelta removes events recorded before before (the retention window), up to limit rows a
// call: for each space, the prefix of its events up to its last one older than before, so the
// kept events stay a suffix (DeltaLog's expiry test). It answers how many went.
func (s *SQL) PruneDelta(ctx context.Context, before time.Time, limit int) (int64, error) {
	limit = clampPurge(limit)
	var removed int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		removed = 0
		type cut struct {
			lib, space string
			upTo       int64
		}
		var cuts []cut
		rows, err := t.Query(ctx, `SELECT library_id, space_id, MAX(seq) FROM delta_events WHERE event_time < ?
			GROUP BY library_id, space_id ORDER BY library_id, space_id`, millis(before))
		if err != nil {
			return wrap("prune change feed", err)
		}
		for rows.Next() {
			var c cut
			if err := rows.Scan(&c.lib, &c.space, &c.upTo); err != nil {
				rows.Close()
				return wrap("prune change feed", err)
			}
			cuts = append(cuts, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("prune change feed", err)
		}
		for _, c := range cuts {
			if removed >= int64(limit) {
				return nil
			}
			var oldest int64
			if err := t.QueryRow(ctx, `SELECT MIN(seq) FROM delta_events WHERE library_id = ? AND space_id = ?`,
				c.lib, c.space).Scan(&oldest); err != nil {
				return wrap("prune change feed", err)
			}
			upTo := min(c.upTo, oldest+int64(limit)-removed-1)
			res, err := t.Exec(ctx, `DELETE FROM delta_events WHERE library_id = ? AND space_id = ? AND seq <= ?`,
				c.lib, c.space, upTo)
			if err != nil {
				return wrap("prune change feed", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return wrap("prune change feed", err)
			}
			removed += n
		}
		return nil
	})
	return removed, err
}
