package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Favorites and recently used files (SMH API section 11, docs/favorites.md): rows of a user
// in a space naming an inode (migration 0012). An entry is live when its row is, and every
// ancestor's (pathOf walks them): a deleted directory marks only its own row, so a favorite
// below it reads as deleted through the walk.

// AddFavorite records a favorite of a live entry.
func (s *SQL) AddFavorite(ctx context.Context, libraryID, spaceID, userID string, inode int64, now time.Time) error {
	if inode <= 0 {
		return app.ErrNodeNotFound // the root is not an entry
	}
	// No structural lock: a delete racing the add leaves a favorite that lists as deleted,
	// which is what it would be had the add come first.
	return s.inWrite(ctx, libraryID, "", func(t *sqldb.Tx) error {
		if _, err := pathOf(ctx, t, libraryID, spaceID, inode); err != nil {
			return err
		}
		res, err := t.Exec(ctx, `INSERT INTO favorites (library_id, space_id, user_id, inode, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (library_id, space_id, user_id, inode) DO NOTHING`,
			libraryID, spaceID, userID, inode, millis(now))
		if err != nil {
			return wrap("add favorite", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return wrap("add favorite", err)
		}
		if n == 0 {
			return app.ErrFavoriteExists
		}
		return nil
	})
}

// RemoveFavorite forgets a favorite.
func (s *SQL) RemoveFavorite(ctx context.Context, libraryID, spaceID, userID string, inode int64) error {
	return s.inWrite(ctx, libraryID, "", func(t *sqldb.Tx) error {
		res, err := t.Exec(ctx, `DELETE FROM favorites WHERE library_id = ? AND space_id = ? AND user_id = ? AND inode = ?`,
			libraryID, spaceID, userID, inode)
		if err != nil {
			return wrap("remove favorite", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return wrap("remove favorite", err)
		}
		if n == 0 {
			return app.ErrFavoriteNotFound
		}
		return nil
	})
}

// favoriteMarker is a marker-mode position: the last item's favoriteTime and id.
type favoriteMarker struct{ at, id int64 }

func (m favoriteMarker) String() string {
	return "f" + strconv.FormatInt(m.at, 10) + "." + strconv.FormatInt(m.id, 10)
}

func parseFavoriteMarker(s string) (favoriteMarker, error) {
	at, id, ok := strings.Cut(strings.TrimPrefix(s, "f"), ".")
	if !strings.HasPrefix(s, "f") || !ok {
		return favoriteMarker{}, app.ErrMarkerNotFound
	}
	var (
		m   favoriteMarker
		err error
	)
	if m.at, err = strconv.ParseInt(at, 10, 64); err != nil {
		return favoriteMarker{}, app.ErrMarkerNotFound
	}
	if m.id, err = strconv.ParseInt(id, 10, 64); err != nil || m.id <= 0 {
		return favoriteMarker{}, app.ErrMarkerNotFound
	}
	return m, nil
}

// ListFavorites answers a page in favoriteTime order, id breaking ties: a range scan of
// favorites_by_time, each target looked up by inode.
func (s *SQL) ListFavorites(ctx context.Context, libraryID, spaceID, userID string, opts app.FavoriteListOptions) (app.FavoritePage, error) {
	var page app.FavoritePage
	cmp, dir := ">", "ASC"
	if opts.Desc {
		cmp, dir = "<", "DESC"
	}
	where := `f.library_id = ? AND f.space_id = ? AND f.user_id = ?`
	args := []any{libraryID, spaceID, userID}
	if opts.Marker != "" {
		m, err := parseFavoriteMarker(opts.Marker)
		if err != nil {
			return page, err
		}
		where += fmt.Sprintf(` AND (f.created_at %s ? OR (f.created_at = ? AND f.id %s ?))`, cmp, cmp)
		args = append(args, m.at, m.at, m.id)
	}
	limit := max(opts.Limit, 1)
	query := `SELECT f.id, f.inode, f.created_at, n.inode IS NOT NULL AND n.deleted_at IS NULL FROM favorites f
		LEFT JOIN nodes n ON n.inode = f.inode AND n.library_id = f.library_id AND n.space_id = f.space_id
		WHERE ` + where + ` ORDER BY f.created_at ` + dir + `, f.id ` + dir + ` LIMIT ? OFFSET ?`
	args = append(args, limit+1, max(opts.Offset, 0))
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		type row struct {
			id, inode, at int64
			live          bool
		}
		var rows []row
		if err := queryEach(ctx, t, query, args, func(sc scanner) error {
			var r row
			if err := sc.Scan(&r.id, &r.inode, &r.at, &r.live); err != nil {
				return err
			}
			rows = append(rows, r)
			return nil
		}); err != nil {
			return wrap("list favorites", err)
		}
		if len(rows) > limit {
			rows = rows[:limit]
			last := rows[limit-1]
			page.NextMarker = favoriteMarker{at: last.at, id: last.id}.String()
		}
		for _, r := range rows {
			f := app.Favorite{Inode: r.inode, UserID: userID, FavoritedAt: fromMillis(r.at), Deleted: !r.live}
			f.Node.Inode = r.inode
			if r.live {
				n, path, err := liveEntry(ctx, t, libraryID, spaceID, r.inode)
				switch {
				case errors.Is(err, app.ErrNodeNotFound):
					f.Deleted = true
				case err != nil:
					return err
				default:
					f.Node = n.Node
					if opts.WithPath {
						f.Path = path
					}
				}
			}
			page.Items = append(page.Items, f)
		}
		if opts.Count {
			if err := t.QueryRow(ctx, `SELECT COUNT(*) FROM favorites WHERE library_id = ? AND space_id = ? AND user_id = ?`,
				libraryID, spaceID, userID).Scan(&page.Total); err != nil {
				return wrap("count favorites", err)
			}
		}
		return nil
	})
	return page, err
}

// liveEntry answers a node whose row and every ancestor's are live, and its path;
// ErrNodeNotFound otherwise.
func liveEntry(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, inode int64) (nodeRow, []string, error) {
	n, err := nodeByInode(ctx, t, libraryID, spaceID, inode)
	if err != nil {
		return nodeRow{}, nil, err
	}
	path, err := pathOf(ctx, t, libraryID, spaceID, inode)
	if err != nil {
		return nodeRow{}, nil, err
	}
	return n, path, nil
}

// FavoritedAmong answers the favorited subset of inodes (with_favorite_status): one query per
// batch of favoriteBatch inodes, one batch for any page of a listing.
func (s *SQL) FavoritedAmong(ctx context.Context, libraryID, spaceID, userID string, inodes []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(inodes))
	if len(inodes) == 0 || userID == "" {
		return out, nil
	}
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		for start := 0; start < len(inodes); start += favoriteBatch {
			batch := inodes[start:min(start+favoriteBatch, len(inodes))]
			args := []any{libraryID, spaceID, userID}
			for _, in := range batch {
				args = append(args, in)
			}
			err := queryEach(ctx, t, `SELECT inode FROM favorites WHERE library_id = ? AND space_id = ? AND user_id = ?
				AND inode IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`, args, func(sc scanner) error {
				var in int64
				if err := sc.Scan(&in); err != nil {
					return err
				}
				out[in] = true
				return nil
			})
			if err != nil {
				return wrap("favorited among", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// favoriteBatch bounds the placeholders of one FavoritedAmong query (a listing page is at most
// 1,000 entries).
const favoriteBatch = 1000

// queryEach runs query and hands each row to fn.
func queryEach(ctx context.Context, t *sqldb.Tx, query string, args []any, fn func(scanner) error) error {
	rows, err := t.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// RecordRecent upserts the (file, action) row and trims the user's rows of the space to keep.
func (s *SQL) RecordRecent(ctx context.Context, libraryID, spaceID, userID string, inode int64, action app.RecentAction, now time.Time, keep int) error {
	return s.inWrite(ctx, libraryID, "", func(t *sqldb.Tx) error {
		if _, err := t.Exec(ctx, `INSERT INTO recent_files (library_id, space_id, user_id, inode, action, operated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (library_id, space_id, user_id, inode, action)
			DO UPDATE SET operated_at = excluded.operated_at`,
			libraryID, spaceID, userID, inode, string(action), millis(now)); err != nil {
			return wrap("record recent", err)
		}
		var n int
		if err := t.QueryRow(ctx, `SELECT COUNT(*) FROM recent_files WHERE library_id = ? AND space_id = ? AND user_id = ?`,
			libraryID, spaceID, userID).Scan(&n); err != nil {
			return wrap("record recent", err)
		}
		if n <= keep {
			return nil
		}
		_, err := t.Exec(ctx, `DELETE FROM recent_files WHERE library_id = ? AND space_id = ? AND user_id = ?
			AND (inode, action) IN (SELECT inode, action FROM recent_files WHERE library_id = ? AND space_id = ? AND user_id = ?
				ORDER BY operated_at, inode, action LIMIT ?)`,
			libraryID, spaceID, userID, libraryID, spaceID, userID, n-keep)
		return wrap("trim recent", err)
	})
}

// recentMarker is a position in the newest-first order: the last examined row.
type recentMarker struct {
	at, inode int64
	action    string
}

func (m recentMarker) String() string {
	return "r" + strconv.FormatInt(m.at, 10) + "." + strconv.FormatInt(m.inode, 10) + "." + m.action
}

func parseRecentMarker(s string) (recentMarker, error) {
	parts := strings.Split(strings.TrimPrefix(s, "r"), ".")
	if !strings.HasPrefix(s, "r") || len(parts) != 3 {
		return recentMarker{}, app.ErrMarkerNotFound
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	inode, err2 := strconv.ParseInt(parts[1], 10, 64)
	action := app.RecentAction(parts[2])
	if err1 != nil || err2 != nil || inode <= 0 || (action != app.RecentPreview && action != app.RecentModify) {
		return recentMarker{}, app.ErrMarkerNotFound
	}
	return recentMarker{at: at, inode: inode, action: parts[2]}, nil
}

// ListRecent walks the user's rows newest first (recent_files_by_time) in batches, each row
// joined with its entry's live row, and skips directories, files Match refuses and files below
// a deleted directory (pathOf) until the page is full. Match is judged on the joined row before
// any parent walk, so a sparse type filter costs one query per batch; the rows are capped per
// user, so the walk is bounded.
func (s *SQL) ListRecent(ctx context.Context, libraryID, spaceID, userID string, opts app.RecentListOptions) (app.RecentPage, error) {
	var (
		page  app.RecentPage
		after *recentMarker
	)
	if opts.Marker != "" {
		m, err := parseRecentMarker(opts.Marker)
		if err != nil {
			return page, err
		}
		after = &m
	}
	limit := max(opts.Limit, 1)
	batch := max(limit+1, recentBatch)
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		for {
			where := `r.library_id = ? AND r.space_id = ? AND r.user_id = ?`
			args := []any{libraryID, spaceID, userID}
			if opts.Action != "" {
				where += ` AND r.action = ?`
				args = append(args, string(opts.Action))
			}
			if after != nil {
				where += ` AND (r.operated_at < ? OR (r.operated_at = ? AND (r.inode < ? OR (r.inode = ? AND r.action < ?))))`
				args = append(args, after.at, after.at, after.inode, after.inode, after.action)
			}
			args = append(args, batch)
			type row struct {
				at     int64
				action string
				node   nodeRow
			}
			var rows []row
			err := queryEach(ctx, t, `SELECT r.operated_at, r.action, `+nodeColumnsOf("n")+` FROM recent_files r
				JOIN nodes n ON n.inode = r.inode AND n.library_id = r.library_id AND n.space_id = r.space_id AND n.deleted_at IS NULL
				WHERE `+where+` ORDER BY r.operated_at DESC, r.inode DESC, r.action DESC LIMIT ?`, args, func(sc scanner) error {
				var r row
				var err error
				r.node, err = scanNode(leading{sc: sc, first: []any{&r.at, &r.action}})
				if err != nil {
					return err
				}
				rows = append(rows, r)
				return nil
			})
			if err != nil {
				return wrap("list recent", err)
			}
			for _, r := range rows {
				here := &recentMarker{at: r.at, inode: r.node.Inode, action: r.action}
				if r.node.isDir() || (opts.Match != nil && !opts.Match(r.node.Node)) {
					after = here
					continue
				}
				path, err := pathOf(ctx, t, libraryID, spaceID, r.node.Inode)
				if errors.Is(err, app.ErrNodeNotFound) {
					after = here // below a deleted directory
					continue
				}
				if err != nil {
					return err
				}
				if len(page.Items) == limit {
					// One more live entry exists: the page ends at the previous one.
					page.NextMarker = after.String()
					return nil
				}
				it := app.RecentFile{Node: r.node.Node, Action: app.RecentAction(r.action), OperatedAt: fromMillis(r.at)}
				if opts.WithPath {
					it.Path = path
				}
				page.Items = append(page.Items, it)
				after = here
			}
			if len(rows) < batch {
				return nil
			}
		}
	})
	return page, err
}

// recentBatch is the least number of rows ListRecent reads at once.
const recentBatch = 100
