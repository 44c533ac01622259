package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Listing (4.2, decision 1).
//
// Orders: OrderDefault is OrderName. Without Union, directories come first and then files, each
// group in the requested order and direction; with Union both are mixed in one order. A media
// library's "directories by name, then media by upload time" default is two requests' worth of
// policy, so the use case asks for it explicitly (OrderCreationTime for the file group) rather
// than the store guessing the library kind. Ties are broken by inode, in the listing direction.
// Prefix filters names in every order; StartName is an exclusive position in name order (after
// it ascending, before it descending) and is ignored in other orders.
//
// Marker mode is keyset pagination: a marker holds the last entry's group, sort key and inode,
// and the next page starts strictly after that position. An entry that exists throughout a walk
// is therefore listed exactly once, whatever is added or removed meanwhile, and a page deep in a
// huge directory costs what the first page costs (an index range scan per group, see the
// nodes_list_* indexes). Page mode (Offset) uses OFFSET; decision 1 caps it at 10,000 entries.

// sortKey describes the column of an order.
type sortKey struct {
	order app.OrderBy // normalised: never OrderDefault
	col   string
	text  bool
}

var sortKeys = []sortKey{
	{app.OrderName, "name", true},
	{app.OrderModificationTime, "modified_at", false},
	{app.OrderSize, "size", false},
	{app.OrderCreationTime, "created_at", false},
	{app.OrderLocalCreationTime, "local_created", true},
	{app.OrderLocalModificationTime, "local_modified", true},
}

func sortKeyFor(o app.OrderBy) (sortKey, error) {
	if o == app.OrderDefault {
		o = app.OrderName
	}
	for _, k := range sortKeys {
		if k.order == o {
			return k, nil
		}
	}
	return sortKey{}, fmt.Errorf("store: unknown listing order %q", o)
}

// position is a place in a listing: an entry's group, key and inode.
type position struct {
	dir   bool
	str   string
	num   int64
	inode int64
}

func positionOf(k sortKey, n nodeRow) position {
	p := position{dir: n.isDir(), inode: n.Inode}
	switch k.col {
	case "name":
		p.str = n.Name
	case "modified_at":
		p.num = millis(n.ModifiedAt)
	case "size":
		p.num = n.Size
	case "created_at":
		p.num = millis(n.CreatedAt)
	case "local_created":
		p.str = n.LocalCreationTime
	case "local_modified":
		p.str = n.LocalModificationTime
	}
	return p
}

// comparePos orders two positions by key then inode, ascending (Go's string comparison is the
// byte order both engines use for these columns).
func comparePos(a, b position) int {
	if c := cmp.Compare(a.str, b.str); c != 0 {
		return c
	}
	if c := cmp.Compare(a.num, b.num); c != 0 {
		return c
	}
	return cmp.Compare(a.inode, b.inode)
}

// wireMarker is a marker's JSON, base64url-encoded without padding. It carries the listing's
// order, direction and mode so that a marker used with different options is refused instead of
// silently skipping entries.
type wireMarker struct {
	Version int    `json:"v"`
	Order   string `json:"o"`
	Desc    bool   `json:"d,omitempty"`
	Union   bool   `json:"u,omitempty"`
	Dir     bool   `json:"g,omitempty"`
	Str     string `json:"s,omitempty"`
	Num     int64  `json:"n,omitempty"`
	Inode   int64  `json:"i"`
}

const markerVersion = 1

func encodeMarker(k sortKey, opts app.ListOptions, p position) string {
	b, _ := json.Marshal(wireMarker{ // plain fields always marshal
		Version: markerVersion, Order: string(k.order), Desc: opts.Desc, Union: opts.Union,
		Dir: p.dir && !opts.Union, Str: p.str, Num: p.num, Inode: p.inode,
	})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeMarker answers the position a marker names, or ErrMarkerNotFound when it is not one
// this listing made.
func decodeMarker(k sortKey, opts app.ListOptions, s string) (position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return position{}, app.ErrMarkerNotFound
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m wireMarker
	if err := dec.Decode(&m); err != nil || dec.More() {
		return position{}, app.ErrMarkerNotFound
	}
	if m.Version != markerVersion || m.Order != string(k.order) || m.Desc != opts.Desc ||
		m.Union != opts.Union || m.Inode <= 0 || (m.Union && m.Dir) ||
		(k.text && m.Num != 0) || (!k.text && m.Str != "") {
		return position{}, app.ErrMarkerNotFound
	}
	return position{dir: m.Dir, str: m.Str, num: m.Num, inode: m.Inode}, nil
}

// List answers a page of the live children of dir (an inode; 0 is the root) with its direct
// child counts. ErrNodeNotFound when dir is gone, ErrNotDirectory when it is a file,
// ErrMarkerNotFound for a marker this listing did not make.
func (s *SQL) List(ctx context.Context, libraryID, spaceID string, dir int64, opts app.ListOptions) (app.Page, error) {
	k, err := sortKeyFor(opts.OrderBy)
	if err != nil {
		return app.Page{}, err
	}
	var after *position
	if opts.Marker != "" {
		p, err := decodeMarker(k, opts, opts.Marker)
		if err != nil {
			return app.Page{}, err
		}
		after = &p
	}
	limit := clampLimit(opts.Limit)

	var page app.Page
	err = s.inRead(ctx, func(t *sqldb.Tx) error {
		d, err := nodeByInode(ctx, t, libraryID, spaceID, dir)
		if err != nil {
			return err
		}
		if !d.isDir() {
			return app.ErrNotDirectory
		}
		page.SubDirCount, page.FileCount = d.childDirs, d.childFiles

		l := lister{t: t, lib: libraryID, space: spaceID, dir: dir, key: k, opts: opts}
		var rows []nodeRow
		switch {
		case opts.Offset > 0 && after == nil:
			rows, err = l.offsetPage(ctx, limit+1)
		case opts.Union:
			rows, err = l.unionPage(ctx, after, limit+1)
		default:
			rows, err = l.groupedPage(ctx, after, limit+1)
		}
		if err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			page.NextMarker = encodeMarker(k, opts, positionOf(k, rows[limit-1]))
		}
		page.Entries = make([]app.Node, len(rows))
		for i, r := range rows {
			page.Entries[i] = r.Node
		}
		return nil
	})
	if err != nil {
		return app.Page{}, err
	}
	return page, nil
}

// lister builds the queries of one listing.
type lister struct {
	t          *sqldb.Tx
	lib, space string
	dir        int64
	key        sortKey
	opts       app.ListOptions
}

// groups answers the is_dir values the filters keep, directories first.
func (l lister) groups() []int {
	switch {
	case l.opts.OnlyDirs && l.opts.OnlyFiles:
		return nil
	case l.opts.OnlyDirs:
		return []int{1}
	case l.opts.OnlyFiles:
		return []int{0}
	default:
		return []int{1, 0}
	}
}

// filters answers the WHERE conditions shared by every query of the listing (group excluded).
func (l lister) filters() (string, []any) {
	var (
		b    strings.Builder
		args = []any{l.lib, l.space, l.dir}
	)
	b.WriteString("library_id = ? AND space_id = ? AND parent_inode = ? AND deleted_at IS NULL")
	if l.opts.Prefix != "" {
		cond, cargs := prefixCondition("name", l.opts.Prefix)
		b.WriteString(" AND " + cond)
		args = append(args, cargs...)
	}
	if l.opts.StartName != "" && l.key.col == "name" {
		if l.opts.Desc {
			b.WriteString(" AND name < ?")
		} else {
			b.WriteString(" AND name > ?")
		}
		args = append(args, l.opts.StartName)
	}
	return b.String(), args
}

func (l lister) direction() (string, string) {
	if l.opts.Desc {
		return "DESC", "<"
	}
	return "ASC", ">"
}

// fetchGroup answers up to n entries of one group (is_dir value) strictly after the position.
func (l lister) fetchGroup(ctx context.Context, isDir int, after *position, n int) ([]nodeRow, error) {
	where, args := l.filters()
	where += " AND is_dir = ?"
	args = append(args, isDir)
	dir, op := l.direction()
	if after != nil {
		// A row-value comparison is a range on the (…, is_dir, key, inode) index on both engines.
		where += " AND (" + l.key.col + ", inode) " + op + " (?, ?)"
		if l.key.text {
			args = append(args, after.str, after.inode)
		} else {
			args = append(args, after.num, after.inode)
		}
	}
	args = append(args, n)
	return l.rows(ctx, "SELECT "+nodeColumns+" FROM nodes WHERE "+where+
		" ORDER BY "+l.key.col+" "+dir+", inode "+dir+" LIMIT ?", args...)
}

// groupedPage lists directories first, then files: the group of the marker continues after it,
// and later groups start from their beginning.
func (l lister) groupedPage(ctx context.Context, after *position, n int) ([]nodeRow, error) {
	var out []nodeRow
	for _, g := range l.groups() {
		var bound *position
		if after != nil {
			switch {
			case after.dir == (g == 1):
				bound = after // continue the marker's own group
			case g == 1:
				continue // the marker is among the files, past every directory
			}
			// otherwise the marker is a directory and the files start from their beginning
		}
		rows, err := l.fetchGroup(ctx, g, bound, n-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if len(out) >= n {
			break
		}
	}
	return out, nil
}

// unionPage lists both groups in one order by merging one keyset range per group, so each page
// stays two index range scans.
func (l lister) unionPage(ctx context.Context, after *position, n int) ([]nodeRow, error) {
	var parts [][]nodeRow
	for _, g := range l.groups() {
		rows, err := l.fetchGroup(ctx, g, after, n)
		if err != nil {
			return nil, err
		}
		parts = append(parts, rows)
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	if len(parts) == 0 {
		return nil, nil
	}
	a, b := parts[0], parts[1]
	out := make([]nodeRow, 0, min(n, len(a)+len(b)))
	for len(out) < n && (len(a) > 0 || len(b) > 0) {
		takeA := len(b) == 0
		if len(a) > 0 && len(b) > 0 {
			c := comparePos(positionOf(l.key, a[0]), positionOf(l.key, b[0]))
			takeA = c < 0 != l.opts.Desc
		}
		if takeA {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out, nil
}

// offsetPage is page mode: one query with OFFSET over the whole listing order.
func (l lister) offsetPage(ctx context.Context, n int) ([]nodeRow, error) {
	groups := l.groups()
	if len(groups) == 0 {
		return nil, nil
	}
	where, args := l.filters()
	if len(groups) == 1 {
		where += " AND is_dir = ?"
		args = append(args, groups[0])
	}
	dir, _ := l.direction()
	order := l.key.col + " " + dir + ", inode " + dir
	if !l.opts.Union {
		order = "is_dir DESC, " + order
	}
	args = append(args, n, l.opts.Offset)
	return l.rows(ctx, "SELECT "+nodeColumns+" FROM nodes WHERE "+where+" ORDER BY "+order+" LIMIT ? OFFSET ?", args...)
}

func (l lister) rows(ctx context.Context, q string, args ...any) ([]nodeRow, error) {
	rows, err := l.t.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap("list", err)
	}
	defer rows.Close()
	var out []nodeRow
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, wrap("list", err)
		}
		out = append(out, n)
	}
	return out, wrap("list", rows.Err())
}
