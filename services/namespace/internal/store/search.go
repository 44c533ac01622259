package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Search (SMH API section 8, docs/search.md). The name index is migration 0011's: FTS5 with
// the trigram tokenizer on SQLite, a pg_trgm GIN index on PostgreSQL, both kept in the
// transaction of every name change. A keyword finds the live rows whose name holds it; the other
// filters are plain predicates on the same rows. A hit must also be reachable: deleting a
// directory marks only its own row (docs/lifecycle.md), so each hit's ancestor chain is walked
// (cached per search) and a hit below a deleted directory, or outside the scope, is dropped.

// positionShift places the ranking above the inode in a hit's position (app.SearchHit).
const positionShift = 40

// searchBatch is how many candidate rows one query of a search reads at least.
const searchBatch = 128

// Search implements app.SearchStore.
func (s *SQL) Search(ctx context.Context, libraryID, spaceID string, f app.SearchFilter, after int64,
	fn func(app.SearchHit) bool,
) error {
	return s.inRead(ctx, func(t *sqldb.Tx) error {
		scope := int64(0)
		if len(f.ScopePath) > 0 {
			dir, err := lookupPath(ctx, t, libraryID, spaceID, f.ScopePath)
			if errors.Is(err, app.ErrNodeNotFound) || errors.Is(err, app.ErrNotDirectory) || (err == nil && !dir.isDir()) {
				return nil // a scope that is no directory holds nothing (docs/search.md)
			}
			if err != nil {
				return err
			}
			scope = dir.Inode
		} else if _, err := rootNode(ctx, t, libraryID, spaceID); err != nil {
			return err
		}
		q := &searchRun{t: t, lib: libraryID, space: spaceID, f: f, scope: scope, pg: t.Postgres(),
			ancestors: map[int64]ancestor{}}
		q.filterSQL()
		if len(f.Keywords) <= 1 {
			return q.streamed(ctx, after, fn)
		}
		return q.ranked(ctx, after, fn)
	})
}

// searchRun is one search in its read transaction.
type searchRun struct {
	t         *sqldb.Tx
	lib       string
	space     string
	f         app.SearchFilter
	scope     int64
	pg        bool
	where     string // the filters other than keywords, " AND ..." on alias n
	args      []any
	ancestors map[int64]ancestor
}

// ancestor is what the reachability walk needs of a directory.
type ancestor struct {
	parent int64
	name   string
	live   bool
}

// likeEscape escapes LIKE's wildcards; every LIKE here says ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// keywordSQL answers the join and predicate finding names that hold kw, on alias n.
//   - SQLite, 3 characters or more: an FTS5 trigram phrase query, case-folded by the tokenizer.
//   - SQLite, 1 or 2 characters: the trigram index cannot answer; LIKE over the space's rows
//     (ASCII case-folded; docs/search.md "Short keywords").
//   - PostgreSQL: LIKE on the folded name, which the pg_trgm index answers.
func (q *searchRun) keywordSQL(kw string) (join, pred string, args []any) {
	switch {
	case q.pg:
		return "", ` AND lower(n.name COLLATE "default") LIKE lower(?) ESCAPE '\'`, []any{"%" + likeEscape(kw) + "%"}
	case utf8.RuneCountInString(kw) >= 3:
		return " JOIN node_names f ON f.rowid = n.inode", " AND node_names MATCH ?", []any{`"` + strings.ReplaceAll(kw, `"`, `""`) + `"`}
	default:
		return "", ` AND n.name LIKE ? ESCAPE '\'`, []any{"%" + likeEscape(kw) + "%"}
	}
}

// kindSQL answers the predicate of one type clause on alias n.
func (q *searchRun) kindSQL(k app.Kind) (string, []any) {
	switch k.Class {
	case app.KindDir:
		return "n.is_dir = 1", nil
	case app.KindFile:
		return "n.type IN ('file', 'image', 'video')", nil
	case app.KindSymlink:
		return "n.type = 'symlink'", nil
	case app.KindExt:
		return q.extSQL(k.Exts)
	case app.KindMedia:
		pred := "(n.is_dir = 0 AND (lower(n.content_type) LIKE ? ESCAPE '\\'"
		args := []any{likeEscape(k.Media) + "/%"}
		if k.Media == "image" || k.Media == "video" {
			pred += " OR n.type = ?"
			args = append(args, k.Media)
		}
		return pred + "))", args
	default:
		return "1 = 0", nil
	}
}

// extSQL is "a file whose name ends in one of exts" (lower case, no dot).
func (q *searchRun) extSQL(exts []string) (string, []any) {
	if len(exts) == 0 {
		return "1 = 0", nil
	}
	parts := make([]string, len(exts))
	args := make([]any, len(exts))
	for i, e := range exts {
		parts[i] = `lower(n.name) LIKE ? ESCAPE '\'`
		args[i] = "%." + likeEscape(e)
	}
	return "(n.is_dir = 0 AND (" + strings.Join(parts, " OR ") + "))", args
}

// filterSQL builds the predicates of every filter but the keywords.
func (q *searchRun) filterSQL() {
	var b strings.Builder
	add := func(pred string, args ...any) {
		b.WriteString(" AND ")
		b.WriteString(pred)
		q.args = append(q.args, args...)
	}
	f := q.f
	if len(f.Include) > 0 {
		var parts []string
		var args []any
		for _, k := range f.Include {
			p, a := q.kindSQL(k)
			parts = append(parts, p)
			args = append(args, a...)
		}
		add("("+strings.Join(parts, " OR ")+")", args...)
	}
	for _, k := range f.Exclude {
		p, a := q.kindSQL(k)
		add("NOT "+p, a...)
	}
	if len(f.InExts) > 0 {
		p, a := q.extSQL(f.InExts)
		add(p, a...)
	}
	if len(f.ExcludeExts) > 0 {
		p, a := q.extSQL(f.ExcludeExts)
		add("NOT "+p, a...)
	}
	if f.MinSize != nil || f.MaxSize != nil {
		add("n.is_dir = 0")
		if f.MinSize != nil {
			add("n.size >= ?", *f.MinSize)
		}
		if f.MaxSize != nil {
			add("n.size <= ?", *f.MaxSize)
		}
	}
	if f.ModifiedFrom != nil {
		add("n.modified_at >= ?", millis(*f.ModifiedFrom))
	}
	if f.ModifiedTo != nil {
		add("n.modified_at <= ?", millis(*f.ModifiedTo))
	}
	if len(f.Labels) > 0 {
		// SQLite: the JSON text of a label inside the stored list; labelsHold confirms exactly.
		parts := make([]string, len(f.Labels))
		args := make([]any, len(f.Labels))
		for i, l := range f.Labels {
			if q.pg { // labels is jsonb there: containment is exact
				parts[i], args[i] = "n.labels @> jsonb_build_array(?::text)", l
				continue
			}
			enc, _ := json.Marshal(l) // a string always marshals
			parts[i], args[i] = "instr(n.labels, ?) > 0", string(enc)
		}
		add("("+strings.Join(parts, " OR ")+")", args...)
	}
	if len(f.Categories) > 0 {
		add("n.category IN (?"+strings.Repeat(", ?", len(f.Categories)-1)+")", anySlice(f.Categories)...)
	}
	q.where = b.String()
}

func anySlice[T any](in []T) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}

// labelsHold confirms the labels filter on a decoded row (the SQL test is on JSON text).
func (q *searchRun) labelsHold(n app.Node) bool {
	if len(q.f.Labels) == 0 {
		return true
	}
	for _, l := range q.f.Labels {
		if slices.Contains(n.Labels, l) {
			return true
		}
	}
	return false
}

// streamed answers a search of at most one keyword: every hit ranks alike, so hits come in
// inode order straight from the index, a batch at a time, from the marker on.
func (q *searchRun) streamed(ctx context.Context, after int64, fn func(app.SearchHit) bool) error {
	join, pred, kwArgs := "", "", []any(nil)
	if len(q.f.Keywords) == 1 {
		join, pred, kwArgs = q.keywordSQL(q.f.Keywords[0])
	}
	// With the FTS index joined, its rowid orders and bounds the scan: SQLite then walks the
	// index's hits in rowid order and stops at the batch, instead of the space's rows.
	key := "n.inode"
	if join != "" {
		key = "f.rowid"
	}
	query := "SELECT " + nodeColumnsOf("n") + " FROM nodes n" + join +
		" WHERE n.library_id = ? AND n.space_id = ? AND n.deleted_at IS NULL AND " + key + " > ?" + pred + q.where +
		" ORDER BY " + key + " LIMIT ?"
	for {
		args := append([]any{q.lib, q.space, after}, kwArgs...)
		args = append(args, q.args...)
		args = append(args, searchBatch)
		rows, err := q.load(ctx, query, args...)
		if err != nil {
			return err
		}
		more, err := q.emit(ctx, rows, func(r nodeRow) int64 { return r.Inode }, fn)
		if err != nil || !more || len(rows) < searchBatch {
			return err
		}
		after = rows[len(rows)-1].Inode
	}
}

// ranked answers a search of several keywords: each keyword's hits are read (inodes only),
// counted per entry, and ordered by how many keywords an entry holds, then by inode. Its cost
// grows with the entries matching any keyword (docs/search.md).
func (q *searchRun) ranked(ctx context.Context, after int64, fn func(app.SearchHit) bool) error {
	matched := map[int64]int64{}
	for _, kw := range q.f.Keywords {
		join, pred, kwArgs := q.keywordSQL(kw)
		args := append([]any{q.lib, q.space}, kwArgs...)
		args = append(args, q.args...)
		rows, err := q.t.Query(ctx, "SELECT n.inode FROM nodes n"+join+
			" WHERE n.library_id = ? AND n.space_id = ? AND n.deleted_at IS NULL"+pred+q.where, args...)
		if err != nil {
			return wrap("search", err)
		}
		for rows.Next() {
			var inode int64
			if err := rows.Scan(&inode); err != nil {
				rows.Close()
				return wrap("search", err)
			}
			matched[inode]++
		}
		if err := rows.Close(); err != nil {
			return wrap("search", err)
		}
	}
	k := int64(len(q.f.Keywords))
	position := func(inode int64) int64 { return (k-matched[inode])<<positionShift | inode }
	order := make([]int64, 0, len(matched))
	for inode := range matched {
		if position(inode) > after {
			order = append(order, inode)
		}
	}
	slices.SortFunc(order, func(a, b int64) int {
		pa, pb := position(a), position(b)
		switch {
		case pa < pb:
			return -1
		case pa > pb:
			return 1
		}
		return 0
	})
	for start := 0; start < len(order); start += searchBatch {
		batch := order[start:min(start+searchBatch, len(order))]
		rows, err := q.load(ctx, "SELECT "+nodeColumns+" FROM nodes WHERE inode IN (?"+
			strings.Repeat(", ?", len(batch)-1)+")", anySlice(batch)...)
		if err != nil {
			return err
		}
		byInode := make(map[int64]nodeRow, len(rows))
		for _, r := range rows {
			byInode[r.Inode] = r
		}
		inOrder := make([]nodeRow, 0, len(batch))
		for _, inode := range batch {
			if r, ok := byInode[inode]; ok {
				inOrder = append(inOrder, r)
			}
		}
		more, err := q.emit(ctx, inOrder, func(r nodeRow) int64 { return position(r.Inode) }, fn)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (q *searchRun) load(ctx context.Context, query string, args ...any) ([]nodeRow, error) {
	rows, err := q.t.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap("search", err)
	}
	defer rows.Close()
	var out []nodeRow
	for rows.Next() {
		r, err := scanNode(rows)
		if err != nil {
			return nil, wrap("search", err)
		}
		out = append(out, r)
	}
	return out, wrap("search", rows.Err())
}

// emit hands the reachable rows to fn in order; false once fn wants no more.
func (q *searchRun) emit(ctx context.Context, rows []nodeRow, position func(nodeRow) int64, fn func(app.SearchHit) bool) (bool, error) {
	if err := q.learnAncestors(ctx, rows); err != nil {
		return false, err
	}
	for _, r := range rows {
		if !q.labelsHold(r.Node) {
			continue
		}
		path, ok := q.place(r)
		if !ok {
			continue
		}
		if !fn(app.SearchHit{Node: r.Node, Path: path, Position: position(r)}) {
			return false, nil
		}
	}
	return true, nil
}

// learnAncestors reads, level by level, the ancestors of rows not known yet.
func (q *searchRun) learnAncestors(ctx context.Context, rows []nodeRow) error {
	var pending []int64
	want := func(inode int64) {
		if _, known := q.ancestors[inode]; inode != 0 && !known && !slices.Contains(pending, inode) {
			pending = append(pending, inode)
		}
	}
	for _, r := range rows {
		want(r.ParentInode)
	}
	for depth := 0; len(pending) > 0; depth++ {
		if depth > maxDepth {
			return errTooDeep
		}
		level := pending
		pending = nil
		for _, inode := range level {
			// An ancestor not found (purged meanwhile) makes its descendants unreachable.
			q.ancestors[inode] = ancestor{}
		}
		res, err := q.t.Query(ctx, `SELECT inode, parent_inode, name, deleted_at FROM nodes
			WHERE library_id = ? AND space_id = ? AND inode IN (?`+strings.Repeat(", ?", len(level)-1)+")",
			append([]any{q.lib, q.space}, anySlice(level)...)...)
		if err != nil {
			return wrap("search ancestors", err)
		}
		var found []ancestor
		for res.Next() {
			var (
				inode   int64
				a       ancestor
				deleted sql.NullInt64
			)
			if err := res.Scan(&inode, &a.parent, &a.name, &deleted); err != nil {
				res.Close()
				return wrap("search ancestors", err)
			}
			a.live = !deleted.Valid
			q.ancestors[inode] = a
			found = append(found, a)
		}
		if err := res.Close(); err != nil {
			return wrap("search ancestors", err)
		}
		for _, a := range found {
			if a.live {
				want(a.parent)
			}
		}
	}
	return nil
}

// place answers a row's path (its own name last) when every ancestor is live and the scope is
// among them.
func (q *searchRun) place(r nodeRow) ([]string, bool) {
	path := []string{r.Name}
	inScope := q.scope == 0
	for cur := r.ParentInode; cur != 0; {
		if cur == q.scope {
			inScope = true
		}
		a := q.ancestors[cur]
		if !a.live {
			return nil, false
		}
		path = append(path, a.name)
		cur = a.parent
		if len(path) > maxDepth {
			return nil, false
		}
	}
	if !inScope {
		return nil, false
	}
	slices.Reverse(path)
	return path, true
}

// CreateSearch implements app.SearchStore.
func (s *SQL) CreateSearch(ctx context.Context, rec app.SavedSearch) error {
	return s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		_, err := t.Exec(ctx, `INSERT INTO searches (id, library_id, space_id, request, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, rec.ID, rec.LibraryID, rec.SpaceID, rec.Request, millis(rec.CreatedAt), millis(rec.ExpiresAt))
		return wrap("create search", err)
	})
}

// SavedSearch implements app.SearchStore.
func (s *SQL) SavedSearch(ctx context.Context, libraryID, spaceID, id string, now time.Time) (app.SavedSearch, error) {
	rec := app.SavedSearch{ID: id, LibraryID: libraryID, SpaceID: spaceID}
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var created, expires int64
		err := t.QueryRow(ctx, `SELECT request, created_at, expires_at FROM searches
			WHERE id = ? AND library_id = ? AND space_id = ? AND expires_at > ?`, id, libraryID, spaceID, millis(now)).
			Scan(&rec.Request, &created, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrSearchIDInvalid
		}
		rec.CreatedAt, rec.ExpiresAt = fromMillis(created), fromMillis(expires)
		return wrap("saved search", err)
	})
	if err != nil {
		return app.SavedSearch{}, err
	}
	return rec, nil
}

// DeleteSearch implements app.SearchStore.
func (s *SQL) DeleteSearch(ctx context.Context, libraryID, spaceID, id string) error {
	return s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		res, err := t.Exec(ctx, "DELETE FROM searches WHERE id = ? AND library_id = ? AND space_id = ?", id, libraryID, spaceID)
		if err != nil {
			return wrap("delete search", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return wrap("delete search", err)
		}
		if n == 0 {
			return app.ErrSearchIDInvalid
		}
		return nil
	})
}

// PurgeSearches implements app.SearchStore.
func (s *SQL) PurgeSearches(ctx context.Context, now time.Time, limit int) (int64, error) {
	var n int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		res, err := t.Exec(ctx, `DELETE FROM searches WHERE id IN (SELECT id FROM searches WHERE expires_at <= ? LIMIT ?)`,
			millis(now), clampPurge(limit))
		if err != nil {
			return wrap("purge searches", err)
		}
		n, err = res.RowsAffected()
		return wrap("purge searches", err)
	})
	return n, err
}

// indexPendingNames brings SQLite's search index up to date with the names a write transaction
// added, renamed or removed: the triggers of migration 0017 record each change in
// node_names_pending while the batch's calls run, and this applies them in their order, once,
// before the batch commits (docs/smallfiles.md "Search names, once a batch"). A NULL first
// column is an ordinary insert into the index; 'delete' takes an old name out.
func indexPendingNames(ctx context.Context, t *sqldb.Tx) error {
	if _, err := t.Exec(ctx, `INSERT INTO node_names (node_names, rowid, name)
		SELECT CASE forget WHEN 1 THEN 'delete' END, inode, name FROM node_names_pending ORDER BY seq`); err != nil {
		return wrap("index names", err)
	}
	_, err := t.Exec(ctx, `DELETE FROM node_names_pending`)
	return wrap("index names", err)
}
