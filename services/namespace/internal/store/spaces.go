package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// maxPage caps every listing; the use cases validate limits (2.4, 4.2) before they get here.
const maxPage = 1000

func clampLimit(n int) int {
	if n <= 0 || n > maxPage {
		return maxPage
	}
	return n
}

// CreateSpace records a new space; ErrSpaceExists when its id is taken in the library.
func (s *SQL) CreateSpace(ctx context.Context, sp app.Space) error {
	return s.inWrite(ctx, sp.LibraryID, sp.ID, func(t *sqldb.Tx) error {
		at := millis(sp.CreatedAt)
		_, err := t.Exec(ctx, `INSERT INTO spaces (library_id, space_id, user_id, created_at, extension, root_modified_at)
			VALUES (?, ?, ?, ?, ?, ?)`, sp.LibraryID, sp.ID, sp.UserID, at, encodeExtension(sp.Ext), at)
		if sqldb.IsUniqueViolation(err) {
			return app.ErrSpaceExists
		}
		return wrap("create space", err)
	})
}

const spaceColumns = `library_id, space_id, user_id, created_at, extension`

// spaceColumnsOf is spaceColumns qualified by a table alias, for queries that join.
func spaceColumnsOf(alias string) string { return qualified(alias, spaceColumns) }

// spaceFields receives spaceColumns, alone (scanSpace) or leading a row (leading).
type spaceFields struct {
	sp      app.Space
	created int64
	ext     string
}

func (f *spaceFields) dests() []any {
	return []any{&f.sp.LibraryID, &f.sp.ID, &f.sp.UserID, &f.created, &f.ext}
}

// space answers the scanned space.
func (f *spaceFields) space() (app.Space, error) {
	sp := f.sp
	sp.CreatedAt = fromMillis(f.created)
	var err error
	sp.Ext, err = decodeExtension(f.ext)
	return sp, err
}

func scanSpace(sc scanner) (app.Space, error) {
	var f spaceFields
	if err := sc.Scan(f.dests()...); err != nil {
		return app.Space{}, err
	}
	return f.space()
}

// GetSpace answers a space; ErrSpaceNotFound when there is none.
func (s *SQL) GetSpace(ctx context.Context, libraryID, spaceID string) (app.Space, error) {
	var sp app.Space
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		sp, err = getSpace(ctx, t, libraryID, spaceID, false)
		return err
	})
	return sp, err
}

func getSpace(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, forUpdate bool) (app.Space, error) {
	q := "SELECT " + spaceColumns + " FROM spaces WHERE library_id = ? AND space_id = ?"
	if forUpdate && t.Postgres() {
		q += " FOR UPDATE"
	}
	sp, err := scanSpace(t.QueryRow(ctx, q, libraryID, spaceID))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Space{}, app.ErrSpaceNotFound
	}
	return sp, wrap("get space", err)
}

// ListSpaces answers a library's spaces in space-id order after opts.After, with ids starting
// with opts.Prefix and, when set, created by opts.UserID. more tells whether a further page exists.
func (s *SQL) ListSpaces(ctx context.Context, libraryID string, opts app.SpaceListOptions) ([]app.Space, bool, error) {
	limit := clampLimit(opts.Limit)
	q := "SELECT " + spaceColumns + " FROM spaces WHERE library_id = ? AND space_id > ?"
	args := []any{libraryID, opts.After}
	if opts.Prefix != "" {
		cond, cargs := prefixCondition("space_id", opts.Prefix)
		q += " AND " + cond
		args = append(args, cargs...)
	}
	if opts.UserID != "" {
		q += " AND user_id = ?"
		args = append(args, opts.UserID)
	}
	q += " ORDER BY space_id LIMIT ?"
	args = append(args, limit+1)

	var out []app.Space
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		rows, err := t.Query(ctx, q, args...)
		if err != nil {
			return wrap("list spaces", err)
		}
		defer rows.Close()
		for rows.Next() {
			sp, err := scanSpace(rows)
			if err != nil {
				return wrap("list spaces", err)
			}
			out = append(out, sp)
		}
		return wrap("list spaces", rows.Err())
	})
	if err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// CountSpaces answers how many spaces a library has (2.10 count).
func (s *SQL) CountSpaces(ctx context.Context, libraryID string) (int64, error) {
	var n int64
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		return wrap("count spaces", t.QueryRow(ctx, "SELECT COUNT(*) FROM spaces WHERE library_id = ?", libraryID).Scan(&n))
	})
	return n, err
}

// UpdateSpaceExtension applies change to the stored extension under a row lock. IsMultiAlbum is
// fixed at creation (2.1), so the stored value wins over whatever change answers.
func (s *SQL) UpdateSpaceExtension(ctx context.Context, libraryID, spaceID string,
	change func(app.SpaceExtension) (app.SpaceExtension, error),
) error {
	return s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		sp, err := getSpace(ctx, t, libraryID, spaceID, true)
		if err != nil {
			return err
		}
		ext, err := change(sp.Ext)
		if err != nil {
			return err
		}
		ext.IsMultiAlbum = sp.Ext.IsMultiAlbum
		_, err = t.Exec(ctx, "UPDATE spaces SET extension = ? WHERE library_id = ? AND space_id = ?",
			encodeExtension(ext), libraryID, spaceID)
		return wrap("update space extension", err)
	})
}

// DeleteSpace removes a space with all its rows, live or deleted. Without force a live entry
// answers ErrSpaceNotEmpty (2.2).
func (s *SQL) DeleteSpace(ctx context.Context, libraryID, spaceID string, force bool) error {
	ctx = sqldb.WithTxTimeout(ctx, treeTxTimeout)
	return s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		if _, err := getSpace(ctx, t, libraryID, spaceID, true); err != nil {
			return err
		}
		if !force {
			// The root's child counts: rows below a deleted entry are not live, and counting rows
			// would take them for entries.
			var live int64
			err := t.QueryRow(ctx, `SELECT root_child_dirs + root_child_files FROM spaces
				WHERE library_id = ? AND space_id = ?`, libraryID, spaceID).Scan(&live)
			if err != nil {
				return wrap("delete space", err)
			}
			if live > 0 {
				return app.ErrSpaceNotEmpty
			}
		}
		if _, err := t.Exec(ctx, "DELETE FROM nodes WHERE library_id = ? AND space_id = ?", libraryID, spaceID); err != nil {
			return wrap("delete space", err)
		}
		quotaID, hadQuota, err := quotaIDOfSpace(ctx, t, libraryID, spaceID)
		if err != nil {
			return err
		}
		// The space's quota membership goes with it (ON DELETE CASCADE); a quota it was the last
		// space of goes too (docs/lifecycle.md "Quota").
		if _, err := t.Exec(ctx, "DELETE FROM spaces WHERE library_id = ? AND space_id = ?", libraryID, spaceID); err != nil {
			return wrap("delete space", err)
		}
		if hadQuota {
			return dropQuotaIfEmpty(ctx, t, quotaID)
		}
		return nil
	})
}

const countColumns = `size, recycled_size, history_size, file_num, dir_num, recycled_file_num, recycled_dir_num, history_file_num`

// SpaceCounts answers a space's counters; ErrSpaceNotFound when there is no such space.
func (s *SQL) SpaceCounts(ctx context.Context, libraryID, spaceID string) (app.SpaceCounts, error) {
	var c app.SpaceCounts
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		err := t.QueryRow(ctx, "SELECT "+countColumns+" FROM spaces WHERE library_id = ? AND space_id = ?",
			libraryID, spaceID).Scan(&c.Size, &c.RecycledSize, &c.HistorySize, &c.FileNum, &c.DirNum, &c.RecycledFileNum, &c.RecycledDirNum, &c.HistoryFileNum)
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrSpaceNotFound
		}
		return wrap("space counts", err)
	})
	return c, err
}

// LibraryCounts sums the counters of a library's spaces (zero for a library without spaces).
func (s *SQL) LibraryCounts(ctx context.Context, libraryID string) (app.SpaceCounts, error) {
	var c app.SpaceCounts
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		return wrap("library counts", t.QueryRow(ctx, `SELECT `+sumBigint("size")+`, `+sumBigint("recycled_size")+`,
			`+sumBigint("history_size")+`, `+sumBigint("file_num")+`,
			`+sumBigint("dir_num")+`, `+sumBigint("recycled_file_num")+`, `+sumBigint("recycled_dir_num")+`,
			`+sumBigint("history_file_num")+` FROM spaces WHERE library_id = ?`, libraryID).
			Scan(&c.Size, &c.RecycledSize, &c.HistorySize, &c.FileNum, &c.DirNum, &c.RecycledFileNum, &c.RecycledDirNum, &c.HistoryFileNum))
	})
	return c, err
}

// LibrariesUsage sums the counters of several libraries' spaces in one grouped query: Size is
// the usage (live + bin + versions, as quotas count it), the entry counts are of live entries.
// A library without spaces has no group and answers zeros.
func (s *SQL) LibrariesUsage(ctx context.Context, libraryIDs []string) ([]app.LibraryUsage, error) {
	if len(libraryIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(libraryIDs))
	for i, id := range libraryIDs {
		args[i] = id
	}
	sums := make(map[string]app.LibraryUsage, len(libraryIDs))
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		rows, err := t.Query(ctx, `SELECT library_id, `+sumBigint("size + recycled_size + history_size")+`, `+sumBigint("dir_num")+`, `+sumBigint("file_num")+`
			FROM spaces WHERE library_id IN (?`+strings.Repeat(", ?", len(libraryIDs)-1)+`) GROUP BY library_id`, args...)
		if err != nil {
			return wrap("libraries usage", err)
		}
		defer rows.Close()
		for rows.Next() {
			var u app.LibraryUsage
			if err := rows.Scan(&u.LibraryID, &u.Size, &u.DirNum, &u.FileNum); err != nil {
				return wrap("libraries usage", err)
			}
			sums[u.LibraryID] = u
		}
		return wrap("libraries usage", rows.Err())
	})
	if err != nil {
		return nil, err
	}
	out := make([]app.LibraryUsage, len(libraryIDs))
	for i, id := range libraryIDs {
		out[i] = sums[id]
		out[i].LibraryID = id
	}
	return out, nil
}

// DeleteLibrary removes every space, row and quota of a library.
func (s *SQL) DeleteLibrary(ctx context.Context, libraryID string) error {
	ctx = sqldb.WithTxTimeout(ctx, treeTxTimeout)
	return s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		// The quotas' memberships go with them (and with the spaces).
		if _, err := t.Exec(ctx, "DELETE FROM quotas WHERE library_id = ?", libraryID); err != nil {
			return wrap("delete library", err)
		}
		// Library tasks (7.2) have no space to go with; the bin, the purge queue and the
		// versions go with the spaces (ON DELETE CASCADE).
		if _, err := t.Exec(ctx, "DELETE FROM library_tasks WHERE library_id = ?", libraryID); err != nil {
			return wrap("delete library", err)
		}
		if _, err := t.Exec(ctx, "DELETE FROM nodes WHERE library_id = ?", libraryID); err != nil {
			return wrap("delete library", err)
		}
		_, err := t.Exec(ctx, "DELETE FROM spaces WHERE library_id = ?", libraryID)
		return wrap("delete library", err)
	})
}

// sumBigint sums a column as a BIGINT on both engines (PostgreSQL's SUM of bigint is numeric).
func sumBigint(col string) string {
	return "CAST(COALESCE(SUM(" + col + "), 0) AS BIGINT)"
}
