package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Share links (SMH API section 13, docs/shares.md) over migration 0016. Flags are stored as
// 0/1 integers on both engines (scanned into ints, then read as bools).

// shareColumns is the column list every share query selects, in shareScan's order. The item
// count, first item and visitor count are subqueries: a page holds at most 100 shares.
const shareColumns = shareOwnColumns + `,
	COALESCE((SELECT i.inode FROM share_items i WHERE i.share_pk = s.id ORDER BY i.position LIMIT 1), 0) AS first_item,
	(SELECT COUNT(*) FROM share_visitors v WHERE v.share_pk = s.id) AS visitors`

// shareVisitColumns is shareColumns for a visitor's call, which reads neither the first item
// nor the visitor count (verify counts visitors itself): a share with many visitors costs its
// visits nothing more. Share.FirstItem and Share.Visitors are 0 in what a visit answers.
const shareVisitColumns = shareOwnColumns + `, 0 AS first_item, 0 AS visitors`

const shareOwnColumns = `s.id, s.library_id, s.space_id, s.share_id, s.code, s.creator_id, s.name, s.extraction_code,
	s.is_permanent, s.expire_at, s.can_preview, s.can_download, s.can_save, s.forbid_anonymous,
	s.preview_limit, s.preview_used, s.download_limit, s.download_used, s.user_limit, s.to_users,
	s.admin_enabled, s.owner_enabled, s.status, s.failed_codes, s.failed_window_start,
	s.created_at, s.updated_at, s.version,
	(SELECT COUNT(*) FROM share_items i WHERE i.share_pk = s.id) AS item_count`

func scanShare(sc scanner) (app.Share, error) {
	var r shareScan
	if err := sc.Scan(r.dests()...); err != nil {
		return app.Share{}, err
	}
	return r.share()
}

// shareScan holds a row's shareColumns while it is scanned, so that a row carrying more columns
// after them (a visit's entries) scans in one call (leading).
type shareScan struct {
	sh                                                      app.Share
	permanent, canPreview, canDownload, canSave, forbidAnon int
	adminOn, ownerOn                                        int
	expire, failedStart, created, updated                   int64
	toUsers                                                 string
}

func (r *shareScan) dests() []any {
	sh := &r.sh
	return []any{&sh.PK, &sh.LibraryID, &sh.SpaceID, &sh.ShareID, &sh.Code, &sh.CreatorID, &sh.Name, &sh.Config.ExtractionCode,
		&r.permanent, &r.expire, &r.canPreview, &r.canDownload, &r.canSave, &r.forbidAnon,
		&sh.Config.PreviewLimit, &sh.PreviewUsed, &sh.Config.DownloadLimit, &sh.DownloadUsed, &sh.Config.UserLimit, &r.toUsers,
		&r.adminOn, &r.ownerOn, &sh.Status, &sh.FailedCodes, &r.failedStart,
		&r.created, &r.updated, &sh.Version, &sh.ItemCount, &sh.FirstItem, &sh.Visitors}
}

// share answers the scanned share.
func (r *shareScan) share() (app.Share, error) {
	sh := r.sh
	sh.Config.IsPermanent = r.permanent != 0
	if !sh.Config.IsPermanent {
		sh.Config.ExpireAt = fromMillis(r.expire)
	}
	sh.Config.CanPreview, sh.Config.CanDownload, sh.Config.CanSave = r.canPreview != 0, r.canDownload != 0, r.canSave != 0
	sh.Config.ForbidAnonymous = r.forbidAnon != 0
	sh.AdminEnabled, sh.OwnerEnabled = r.adminOn != 0, r.ownerOn != 0
	if r.failedStart != 0 {
		sh.FailedWindowStart = fromMillis(r.failedStart)
	}
	sh.CreatedAt, sh.UpdatedAt = fromMillis(r.created), fromMillis(r.updated)
	if err := json.Unmarshal([]byte(r.toUsers), &sh.ToUsers); err != nil {
		return app.Share{}, fmt.Errorf("share %d to_users: %w", sh.PK, err)
	}
	if len(sh.ToUsers) == 0 {
		sh.ToUsers = nil
	}
	return sh, nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

func expireMillis(c app.ShareConfig) int64 {
	if c.IsPermanent {
		return 0
	}
	return millis(c.ExpireAt)
}

// CreateShare resolves every path to a live entry and records the share and its items.
func (s *SQL) CreateShare(ctx context.Context, sh app.Share, paths [][]string) (app.Share, error) {
	toUsers := "[]"
	if len(sh.ToUsers) > 0 {
		b, _ := json.Marshal(sh.ToUsers) // a slice of strings always marshals
		toUsers = string(b)
	}
	var out app.Share
	// No structural lock: the items are named by inode, so an entry deleted right after the
	// share is recorded simply stops being visible through it (as one deleted later would).
	err := s.inWrite(ctx, sh.LibraryID, "", func(t *sqldb.Tx) error {
		inodes := make([]int64, 0, len(paths))
		seen := make(map[int64]bool, len(paths))
		for _, p := range paths {
			n, err := lookupPath(ctx, t, sh.LibraryID, sh.SpaceID, p)
			if errors.Is(err, app.ErrNotDirectory) {
				return app.ErrNodeNotFound // a file on the way: no entry there
			}
			if err != nil {
				return err
			}
			if n.Inode == 0 {
				return app.ErrNodeNotFound // the root is not an entry one can share
			}
			if !seen[n.Inode] {
				seen[n.Inode] = true
				inodes = append(inodes, n.Inode)
			}
		}
		c := sh.Config
		var pk int64
		err := t.QueryRow(ctx, `INSERT INTO shares (library_id, space_id, share_id, code, creator_id, name, extraction_code,
			is_permanent, expire_at, can_preview, can_download, can_save, forbid_anonymous,
			preview_limit, download_limit, user_limit, to_users, admin_enabled, owner_enabled, status,
			created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, 0, ?, ?) RETURNING id`,
			sh.LibraryID, sh.SpaceID, sh.ShareID, sh.Code, sh.CreatorID, sh.Name, c.ExtractionCode,
			flag(c.IsPermanent), expireMillis(c), flag(c.CanPreview), flag(c.CanDownload), flag(c.CanSave), flag(c.ForbidAnonymous),
			c.PreviewLimit, c.DownloadLimit, c.UserLimit, toUsers, millis(sh.CreatedAt), millis(sh.CreatedAt)).Scan(&pk)
		if err != nil {
			return wrap("create share", err)
		}
		for i, in := range inodes {
			if _, err := t.Exec(ctx, `INSERT INTO share_items (share_pk, position, inode) VALUES (?, ?, ?)`, pk, i, in); err != nil {
				return wrap("create share item", err)
			}
		}
		out, err = shareWhere(ctx, t, "s.id = ?", pk)
		return err
	})
	return out, err
}

func shareWhere(ctx context.Context, t *sqldb.Tx, where string, args ...any) (app.Share, error) {
	sh, err := scanShare(t.QueryRow(ctx, "SELECT "+shareColumns+" FROM shares s WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Share{}, app.ErrShareNotFound
	}
	return sh, wrap("share", err)
}

// GetShare answers a share by library and ShareID.
func (s *SQL) GetShare(ctx context.Context, libraryID, shareID string) (app.Share, error) {
	var sh app.Share
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		sh, err = shareWhere(ctx, t, "s.library_id = ? AND s.share_id = ?", libraryID, shareID)
		return err
	})
	return sh, err
}

// GetShareByCode answers the share of a visitor's code.
func (s *SQL) GetShareByCode(ctx context.Context, code string) (app.Share, error) {
	var sh app.Share
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		sh, err = shareWhere(ctx, t, "s.code = ?", code)
		return err
	})
	return sh, err
}

// shareSortKey is the SQL expression of an order; expireTime puts permanent shares last
// (ascending) by reading them as the largest time.
func shareSortKey(o app.ShareOrder) (expr string, text bool, err error) {
	switch o {
	case app.ShareByCreateTime, "":
		return "s.created_at", false, nil
	case app.ShareByExpireTime:
		return fmt.Sprintf("(CASE WHEN s.is_permanent = 1 THEN %d ELSE s.expire_at END)", int64(math.MaxInt64)), false, nil
	case app.ShareByName:
		return "s.name", true, nil
	case app.ShareByCreator:
		return "s.creator_id", true, nil
	}
	return "", false, fmt.Errorf("store: unknown share order %q", o)
}

// shareMarker is a listing position: the last share's sort key and row id, with the order
// and direction it was made for (a marker of another listing is refused).
type shareMarker struct {
	Order string `json:"o"`
	Desc  bool   `json:"d,omitempty"`
	Str   string `json:"s,omitempty"`
	Num   int64  `json:"n,omitempty"`
	ID    int64  `json:"i"`
}

func (m shareMarker) String() string {
	b, _ := json.Marshal(m) // plain fields always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseShareMarker(s string, order app.ShareOrder, desc, text bool) (shareMarker, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return shareMarker{}, app.ErrMarkerNotFound
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m shareMarker
	if err := dec.Decode(&m); err != nil || dec.More() || m.ID <= 0 || m.Order != string(order) || m.Desc != desc ||
		(text && m.Num != 0) || (!text && m.Str != "") {
		return shareMarker{}, app.ErrMarkerNotFound
	}
	return m, nil
}

// ListShares answers a page in the query's order, row id breaking ties (keyset pagination).
func (s *SQL) ListShares(ctx context.Context, libraryID string, q app.ShareQuery) (app.SharePage, error) {
	if q.OrderBy == "" {
		q.OrderBy = app.ShareByCreateTime
	}
	key, text, err := shareSortKey(q.OrderBy)
	if err != nil {
		return app.SharePage{}, err
	}
	where := []string{"s.library_id = ?"}
	args := []any{libraryID}
	if q.CreatorID != "" {
		where = append(where, "s.creator_id = ?")
		args = append(args, q.CreatorID)
	}
	switch {
	case q.SpaceIDs == nil:
	case len(q.SpaceIDs) == 0:
		where = append(where, "1 = 0")
	default:
		where = append(where, "s.space_id IN (?"+strings.Repeat(", ?", len(q.SpaceIDs)-1)+")")
		for _, id := range q.SpaceIDs {
			args = append(args, id)
		}
	}
	between := func(col string, from, to *time.Time) {
		if from != nil {
			where = append(where, col+" >= ?")
			args = append(args, millis(*from))
		}
		if to != nil {
			where = append(where, col+" <= ?")
			args = append(args, millis(*to))
		}
	}
	between("s.created_at", q.CreatedFrom, q.CreatedTo)
	if q.ExpireFrom != nil || q.ExpireTo != nil {
		// A permanent share never expires: no expiry range holds it.
		where = append(where, "s.is_permanent = 0")
		between("s.expire_at", q.ExpireFrom, q.ExpireTo)
	}
	var page app.SharePage
	err = s.inRead(ctx, func(t *sqldb.Tx) error {
		if q.NameLike != "" {
			fn := "instr(lower(s.name), lower(?)) > 0"
			if t.Postgres() {
				fn = "strpos(lower(s.name), lower(?)) > 0"
			}
			where = append(where, fn)
			args = append(args, q.NameLike)
		}
		cmp, dir := ">", "ASC"
		if q.Desc {
			cmp, dir = "<", "DESC"
		}
		if q.Marker != "" {
			m, err := parseShareMarker(q.Marker, q.OrderBy, q.Desc, text)
			if err != nil {
				return err
			}
			var v any = m.Num
			if text {
				v = m.Str
			}
			where = append(where, fmt.Sprintf("(%s %s ? OR (%s = ? AND s.id %s ?))", key, cmp, key, cmp))
			args = append(args, v, v, m.ID)
		}
		limit := max(q.Limit, 1)
		query := "SELECT " + shareColumns + " FROM shares s WHERE " + strings.Join(where, " AND ") +
			" ORDER BY " + key + " " + dir + ", s.id " + dir + " LIMIT ?"
		args = append(args, limit+1)
		if err := queryEach(ctx, t, query, args, func(sc scanner) error {
			sh, err := scanShare(sc)
			if err != nil {
				return err
			}
			page.Shares = append(page.Shares, sh)
			return nil
		}); err != nil {
			return wrap("list shares", err)
		}
		if len(page.Shares) > limit {
			page.Shares = page.Shares[:limit]
			last := page.Shares[limit-1]
			m := shareMarker{Order: string(q.OrderBy), Desc: q.Desc, ID: last.PK}
			switch q.OrderBy {
			case app.ShareByCreateTime:
				m.Num = millis(last.CreatedAt)
			case app.ShareByExpireTime:
				m.Num = math.MaxInt64
				if !last.Config.IsPermanent {
					m.Num = millis(last.Config.ExpireAt)
				}
			case app.ShareByName:
				m.Str = last.Name
			case app.ShareByCreator:
				m.Str = last.CreatorID
			}
			page.NextMarker = m.String()
		}
		return nil
	})
	return page, err
}

// UpdateShare is a compare-and-set on the version: the UPDATE matches only the version read.
func (s *SQL) UpdateShare(ctx context.Context, libraryID, shareID string, version int64, name *string, cfg app.ShareConfig, now time.Time) (app.Share, error) {
	var out app.Share
	err := s.inWrite(ctx, libraryID, "", func(t *sqldb.Tx) error {
		set := `extraction_code = ?, is_permanent = ?, expire_at = ?, can_preview = ?, can_download = ?, can_save = ?,
			forbid_anonymous = ?, preview_limit = ?, download_limit = ?, user_limit = ?, preview_used = 0, download_used = 0,
			updated_at = ?, version = version + 1`
		args := []any{cfg.ExtractionCode, flag(cfg.IsPermanent), expireMillis(cfg), flag(cfg.CanPreview), flag(cfg.CanDownload),
			flag(cfg.CanSave), flag(cfg.ForbidAnonymous), cfg.PreviewLimit, cfg.DownloadLimit, cfg.UserLimit, millis(now)}
		if name != nil {
			set += ", name = ?"
			args = append(args, *name)
		}
		args = append(args, libraryID, shareID, version)
		res, err := t.Exec(ctx, "UPDATE shares SET "+set+" WHERE library_id = ? AND share_id = ? AND version = ?", args...)
		if err != nil {
			return wrap("update share", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return wrap("update share", err)
		} else if n == 0 {
			if _, err := shareWhere(ctx, t, "s.library_id = ? AND s.share_id = ?", libraryID, shareID); err != nil {
				return err
			}
			return app.ErrShareUpdated
		}
		out, err = shareWhere(ctx, t, "s.library_id = ? AND s.share_id = ?", libraryID, shareID)
		return err
	})
	return out, err
}

// SetShareEnabled sets the given flags.
func (s *SQL) SetShareEnabled(ctx context.Context, libraryID, shareID string, adminEnabled, ownerEnabled *bool, now time.Time) error {
	set := "updated_at = ?"
	args := []any{millis(now)}
	if adminEnabled != nil {
		set += ", admin_enabled = ?"
		args = append(args, flag(*adminEnabled))
	}
	if ownerEnabled != nil {
		set += ", owner_enabled = ?"
		args = append(args, flag(*ownerEnabled))
	}
	args = append(args, libraryID, shareID)
	return s.inWrite(ctx, libraryID, "", func(t *sqldb.Tx) error {
		return oneRow(t.Exec(ctx, "UPDATE shares SET "+set+" WHERE library_id = ? AND share_id = ?", args...))
	})
}

// oneRow answers ErrShareNotFound when a statement on one share touched none.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return wrap("share", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("share", err)
	}
	if n == 0 {
		return app.ErrShareNotFound
	}
	return nil
}

// DeleteShare removes the share; items and visitors go with it (ON DELETE CASCADE).
func (s *SQL) DeleteShare(ctx context.Context, libraryID, shareID string) error {
	return s.inWrite(ctx, libraryID, "", func(t *sqldb.Tx) error {
		return oneRow(t.Exec(ctx, "DELETE FROM shares WHERE library_id = ? AND share_id = ?", libraryID, shareID))
	})
}

// CountShareUse is one conditional UPDATE, so concurrent fetches never count past the limit.
func (s *SQL) CountShareUse(ctx context.Context, sharePK int64, purpose app.SharePurpose, limit int64) error {
	col := "preview_used"
	if purpose == app.PurposeDownload {
		col = "download_used"
	}
	return s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		err := oneRow(t.Exec(ctx, "UPDATE shares SET "+col+" = "+col+" + 1 WHERE id = ? AND (? = 0 OR "+col+" < ?)",
			sharePK, limit, limit))
		if errors.Is(err, app.ErrShareNotFound) {
			if _, err := shareWhere(ctx, t, "s.id = ?", sharePK); err != nil {
				return err
			}
			return app.ErrShareLimitReached
		}
		return err
	})
}

// RecordWrongCode restarts the window when it is over, else counts on; the row is shared by
// every replica, so the per-share limit holds across them.
func (s *SQL) RecordWrongCode(ctx context.Context, sharePK int64, now time.Time, window time.Duration) (int64, error) {
	var n int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		startBefore := millis(now.Add(-window))
		err := t.QueryRow(ctx, `UPDATE shares SET
			failed_codes = CASE WHEN failed_window_start <= ? THEN 1 ELSE failed_codes + 1 END,
			failed_window_start = CASE WHEN failed_window_start <= ? THEN ? ELSE failed_window_start END
			WHERE id = ? RETURNING failed_codes`, startBefore, startBefore, millis(now), sharePK).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrShareNotFound
		}
		return wrap("record wrong code", err)
	})
	return n, err
}

// AddShareVisitor counts a visitor once; the limit check and the insert share a transaction.
func (s *SQL) AddShareVisitor(ctx context.Context, sharePK int64, userID string, limit int64, now time.Time) error {
	return s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		if t.Postgres() {
			// Serialise the visitors of one share, so two new visitors cannot both take the last
			// place.
			if _, err := t.Exec(ctx, "SELECT id FROM shares WHERE id = ? FOR UPDATE", sharePK); err != nil {
				return wrap("lock share", err)
			}
		}
		var known, count int64
		if err := t.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN user_id = ? THEN 1 ELSE 0 END), 0)
			FROM share_visitors WHERE share_pk = ?`, userID, sharePK).Scan(&count, &known); err != nil {
			return wrap("share visitors", err)
		}
		if known > 0 {
			return nil
		}
		if limit > 0 && count >= limit {
			return app.ErrShareUserLimit
		}
		_, err := t.Exec(ctx, `INSERT INTO share_visitors (share_pk, user_id, first_seen) VALUES (?, ?, ?)`, sharePK, userID, millis(now))
		if sqldb.IsUniqueViolation(err) {
			return nil
		}
		return wrap("add share visitor", err)
	})
}

// LiveShareItems walks the items in position order and keeps those whose row and ancestors are
// live.
func (s *SQL) LiveShareItems(ctx context.Context, sh app.Share, limit int) ([]app.Node, error) {
	var out []app.Node
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		out, err = liveShareItems(ctx, t, sh, limit)
		return err
	})
	return out, err
}

func liveShareItems(ctx context.Context, t *sqldb.Tx, sh app.Share, limit int) ([]app.Node, error) {
	var inodes []int64
	if err := queryEach(ctx, t, `SELECT inode FROM share_items WHERE share_pk = ? ORDER BY position`, []any{sh.PK}, func(sc scanner) error {
		var in int64
		if err := sc.Scan(&in); err != nil {
			return err
		}
		inodes = append(inodes, in)
		return nil
	}); err != nil {
		return nil, wrap("share items", err)
	}
	var out []app.Node
	for _, in := range inodes {
		if len(out) >= limit {
			break
		}
		n, _, err := liveEntry(ctx, t, sh.LibraryID, sh.SpaceID, in)
		if errors.Is(err, app.ErrNodeNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, n.Node)
	}
	return out, nil
}

// ShareChainEnd checks the chain link by link: an item of the share, then children.
func (s *SQL) ShareChainEnd(ctx context.Context, sh app.Share, chain []int64) (app.Node, error) {
	var end app.Node
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		end, err = shareChainEnd(ctx, t, sh, chain)
		return err
	})
	return end, err
}

func shareChainEnd(ctx context.Context, t *sqldb.Tx, sh app.Share, chain []int64) (app.Node, error) {
	if len(chain) == 0 {
		return app.Node{}, app.ErrNotInShare
	}
	var n int64
	if err := t.QueryRow(ctx, `SELECT COUNT(*) FROM share_items WHERE share_pk = ? AND inode = ?`, sh.PK, chain[0]).Scan(&n); err != nil {
		return app.Node{}, wrap("share item", err)
	}
	if n == 0 {
		return app.Node{}, app.ErrNotInShare
	}
	first, _, err := liveEntry(ctx, t, sh.LibraryID, sh.SpaceID, chain[0])
	if errors.Is(err, app.ErrNodeNotFound) {
		return app.Node{}, app.ErrNotInShare
	}
	if err != nil {
		return app.Node{}, err
	}
	cur := first
	for _, in := range chain[1:] {
		if !cur.isDir() {
			return app.Node{}, app.ErrNotInShare
		}
		next, err := nodeByInode(ctx, t, sh.LibraryID, sh.SpaceID, in)
		if errors.Is(err, app.ErrNodeNotFound) || (err == nil && next.ParentInode != cur.Inode) {
			return app.Node{}, app.ErrNotInShare
		}
		if err != nil {
			return app.Node{}, err
		}
		cur = next
	}
	return cur.Node, nil
}

// ShareHolds walks up from inode: inside the share when it or an ancestor is an item.
func (s *SQL) ShareHolds(ctx context.Context, sh app.Share, inode int64) (bool, error) {
	var holds bool
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		if _, _, err := liveEntry(ctx, t, sh.LibraryID, sh.SpaceID, inode); errors.Is(err, app.ErrNodeNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		for cur := inode; cur > 0; {
			var n int64
			if err := t.QueryRow(ctx, `SELECT COUNT(*) FROM share_items WHERE share_pk = ? AND inode = ?`, sh.PK, cur).Scan(&n); err != nil {
				return wrap("share item", err)
			}
			if n > 0 {
				holds = true
				return nil
			}
			node, err := nodeByInode(ctx, t, sh.LibraryID, sh.SpaceID, cur)
			if errors.Is(err, app.ErrNodeNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			cur = node.ParentInode
		}
		return nil
	})
	return holds, err
}

// readVisit reads the share and what the chain names in one statement (visitQuery): a
// visitor's call is the hot path of a popular share, and one statement is one round trip and
// one snapshot, with no transaction to begin and end. When it finds nothing live, a second
// statement tells a missing share from a chain that leads nowhere.
func (s *SQL) readVisit(ctx context.Context, code string, chain []int64, itemLimit int) (app.ShareVisit, error) {
	if len(chain) > maxChainJoins {
		return s.visitByWalk(ctx, code, chain)
	}
	var v app.ShareVisit
	err := s.db.InStatements(ctx, func(t *sqldb.Tx) error {
		found := false
		if len(chain) > 0 || itemLimit > 0 {
			query, args := visitQuery(code, chain, itemLimit)
			var share shareScan
			err := queryEach(ctx, t, query, args, func(sc scanner) error {
				n, err := scanNode(leading{sc: sc, first: share.dests()})
				if err != nil {
					return err
				}
				if !found {
					if v.Share, err = share.share(); err != nil {
						return err
					}
					found = true
				}
				if len(chain) == 0 {
					v.Items = append(v.Items, n.Node)
				} else {
					v.End = n.Node
				}
				return nil
			})
			if err != nil {
				return wrap("visit share", err)
			}
		}
		if found {
			return nil
		}
		var err error
		if v.Share, err = shareWhere(ctx, t, "s.code = ?", code); err != nil {
			return err
		}
		if len(chain) > 0 {
			v.ChainErr = app.ErrNotInShare
		}
		return nil
	})
	return v, err
}

// maxChainJoins is the longest chain visitQuery joins in one statement: SQLite joins at most 64
// tables, and a chain joins one per link. Deeper chains (visitors send at most 64 links) are
// walked link by link in one read transaction, as every chain was before.
const maxChainJoins = 32

// visitByWalk is VisitShare for a chain longer than maxChainJoins.
func (s *SQL) visitByWalk(ctx context.Context, code string, chain []int64) (app.ShareVisit, error) {
	var v app.ShareVisit
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		sh, err := scanShare(t.QueryRow(ctx, "SELECT "+shareVisitColumns+" FROM shares s WHERE s.code = ?", code))
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrShareNotFound
		}
		if err != nil {
			return wrap("share", err)
		}
		v.Share = sh
		v.End, err = shareChainEnd(ctx, t, sh, chain)
		if errors.Is(err, app.ErrNotInShare) {
			v.ChainErr, err = err, nil
		}
		return err
	})
	return v, err
}

// visitQuery is VisitShare's statement. Every row carries the share (shareVisitColumns), then an
// entry (nodeColumns): with an empty chain, each of the share's items whose row and ancestors
// are live, in the share's order, at most itemLimit; else the chain's end, found when the chain's
// first inode is a live item (the recursive walk up reaches the root through live rows only)
// and each next inode a live child of the one before. No row: no share, or nothing live there.
func visitQuery(code string, chain []int64, itemLimit int) (string, []any) {
	if len(chain) == 0 {
		return visitRootQuery, []any{code, maxDepth, itemLimit}
	}
	args := make([]any, 0, len(chain)+3)
	args = append(args, code, chain[0], maxDepth)
	for _, in := range chain {
		args = append(args, in)
	}
	if q, ok := visitChainQueries.Load(len(chain)); ok {
		return q.(string), args
	}
	q := visitChainQuery(len(chain))
	visitChainQueries.Store(len(chain), q)
	return q, args
}

// visitWalkUp is the walk from the items (all, or the one the chain starts at) up through live
// rows; an item whose walk reaches the root (cur = 0) is live, a dead row ends its walk with a
// NULL. Each step is a lookup by primary key written as a scalar subquery, so that no planner
// turns it into a scan of the nodes (PostgreSQL did, on tables it had no statistics for).
const visitWalkUp = `WITH RECURSIVE sh AS (SELECT ` + shareVisitColumns + ` FROM shares s WHERE s.code = ?),
	up(item, cur, depth) AS (
		SELECT i.inode, i.inode, 0 FROM share_items i JOIN sh ON i.share_pk = sh.id %s
		UNION ALL
		SELECT up.item, (SELECT n.parent_inode FROM nodes n WHERE n.inode = up.cur AND n.deleted_at IS NULL), up.depth + 1
		FROM up WHERE up.cur <> 0 AND up.depth <= ?
	)`

var visitRootQuery = fmt.Sprintf(visitWalkUp, "") + `
	SELECT sh.*, ` + nodeColumnsOf("n") + ` FROM sh JOIN share_items i ON i.share_pk = sh.id
	JOIN nodes n ON n.inode = i.inode AND n.library_id = sh.library_id AND n.space_id = sh.space_id
	WHERE i.inode IN (SELECT item FROM up WHERE cur = 0)
	ORDER BY i.position LIMIT ?`

// visitChainQueries caches visitChainQuery by chain length: a visit builds no string.
var visitChainQueries sync.Map

func visitChainQuery(length int) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf(visitWalkUp, "WHERE i.inode = ?"))
	fmt.Fprintf(&b, `
	SELECT sh.*, %s FROM sh
	JOIN nodes n0 ON n0.inode = ? AND n0.library_id = sh.library_id AND n0.space_id = sh.space_id`, nodeColumnsOf(fmt.Sprint("n", length-1)))
	for k := 1; k < length; k++ {
		fmt.Fprintf(&b, `
	JOIN nodes n%d ON n%d.inode = ? AND n%d.parent_inode = n%d.inode AND n%d.deleted_at IS NULL`, k, k, k, k-1, k)
	}
	b.WriteString(`
	WHERE EXISTS (SELECT 1 FROM up WHERE cur = 0) LIMIT 1`)
	return b.String()
}
