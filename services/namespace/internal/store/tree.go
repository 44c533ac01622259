package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// maxDepth bounds parent walks, so a corrupt parent chain fails instead of looping.
const maxDepth = 10000

// maxRename bounds the search for a free "name (n)".
const maxRename = 100000

var (
	errRootNotEntry = errors.New("store: the root is not an entry")
	errTooDeep      = errors.New("store: parent chain too deep")
)

// Lookup resolves path to its node; the root is a directory with inode 0.
func (s *SQL) Lookup(ctx context.Context, libraryID, spaceID string, path []string) (app.Node, error) {
	var n nodeRow
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		n, err = lookupPath(ctx, t, libraryID, spaceID, path)
		return err
	})
	return n.Node, err
}

// rootNode answers the synthetic root of a space: ErrSpaceNotFound when there is no space.
func rootNode(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string) (nodeRow, error) {
	var (
		created, modified int64
		r                 nodeRow
	)
	err := t.QueryRow(ctx, `SELECT user_id, created_at, root_modified_at, root_child_dirs, root_child_files
		FROM spaces WHERE library_id = ? AND space_id = ?`, libraryID, spaceID).
		Scan(&r.UserID, &created, &modified, &r.childDirs, &r.childFiles)
	if errors.Is(err, sql.ErrNoRows) {
		return nodeRow{}, app.ErrSpaceNotFound
	}
	if err != nil {
		return nodeRow{}, wrap("root", err)
	}
	r.LibraryID, r.SpaceID, r.Type = libraryID, spaceID, app.TypeDir
	r.CreatedAt, r.ModifiedAt = fromMillis(created), fromMillis(modified)
	return r, nil
}

func lookupPath(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, path []string) (nodeRow, error) {
	if q, ok := pathQuery(len(path)); ok {
		// A live entry at the path is found in one statement; a miss (nothing there, a file on
		// the way, no space) is walked level by level below, which tells which it is.
		n, err := scanNode(t.QueryRow(ctx, q, chainArgs(libraryID, spaceID, path, libraryID, spaceID)...))
		if !errors.Is(err, sql.ErrNoRows) {
			return n, wrap("lookup", err)
		}
	}
	cur, err := rootNode(ctx, t, libraryID, spaceID)
	if err != nil {
		return nodeRow{}, err
	}
	for _, name := range path {
		if !cur.isDir() {
			return nodeRow{}, app.ErrNotDirectory
		}
		if cur, err = childByName(ctx, t, libraryID, spaceID, cur.Inode, name); err != nil {
			return nodeRow{}, err
		}
	}
	return cur, nil
}

// pathQueries holds pathQuery's statement for each depth.
var pathQueries = func() []string {
	qs := make([]string, maxSpaceFileDepth+1)
	for depth := 1; depth <= maxSpaceFileDepth; depth++ {
		qs[depth] = "SELECT " + nodeColumnsOf("n") + ` FROM spaces sp JOIN nodes n ON n.inode = ` + liveChain(depth, "0") + `
			WHERE sp.library_id = ? AND sp.space_id = ?`
	}
	return qs
}()

// pathQuery answers the statement that reads the live entry at a path of depth names in a space
// that exists (its arguments: chainArgs, then library id and space id); ok is false for the root
// and for paths deeper than maxSpaceFileDepth. A file has no children, so a path through one
// finds nothing, as a missing name does.
func pathQuery(depth int) (string, bool) {
	if depth < 1 || depth > maxSpaceFileDepth {
		return "", false
	}
	return pathQueries[depth], true
}

// chainArgs answers liveChain's arguments for names (library id, space id and name per level, the
// deepest first), followed by more.
func chainArgs(libraryID, spaceID string, names []string, more ...any) []any {
	args := make([]any, 0, 3*len(names)+len(more))
	for _, name := range slices.Backward(names) {
		args = append(args, libraryID, spaceID, name)
	}
	return append(args, more...)
}

func childByName(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, parent int64, name string) (nodeRow, error) {
	n, err := scanNode(t.QueryRow(ctx, "SELECT "+nodeColumns+` FROM nodes
		WHERE library_id = ? AND space_id = ? AND parent_inode = ? AND name = ? AND deleted_at IS NULL`,
		libraryID, spaceID, parent, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nodeRow{}, app.ErrNodeNotFound
	}
	return n, wrap("lookup", err)
}

// nodeByInode answers a live node of the space; inode 0 is the root.
func nodeByInode(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, inode int64) (nodeRow, error) {
	if inode == 0 {
		return rootNode(ctx, t, libraryID, spaceID)
	}
	n, err := scanNode(t.QueryRow(ctx, "SELECT "+nodeColumns+` FROM nodes
		WHERE inode = ? AND library_id = ? AND space_id = ? AND deleted_at IS NULL`, inode, libraryID, spaceID))
	if errors.Is(err, sql.ErrNoRows) {
		return nodeRow{}, app.ErrNodeNotFound
	}
	return n, wrap("lookup", err)
}

// touchDir records a change of a directory's children: its modification time (4.2: a
// directory's modificationTime is its last child add or remove) and its child counts.
func touchDir(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, dir int64, dDirs, dFiles int64, now time.Time) error {
	var err error
	if dir == 0 {
		_, err = t.Exec(ctx, `UPDATE spaces SET root_modified_at = ?, root_child_dirs = root_child_dirs + ?,
			root_child_files = root_child_files + ? WHERE library_id = ? AND space_id = ?`,
			millis(now), dDirs, dFiles, libraryID, spaceID)
	} else {
		_, err = t.Exec(ctx, `UPDATE nodes SET modified_at = ?, child_dirs = child_dirs + ?, child_files = child_files + ?
			WHERE inode = ?`, millis(now), dDirs, dFiles, dir)
	}
	return wrap("touch directory", err)
}

// growTree adds d to what dir and each of its ancestors hold (tree_size, tree_files,
// tree_dirs) and to the space's live counters: every write that adds, removes or resizes an
// entry under dir calls it once, in its transaction (docs/lifecycle.md). The ancestors are one
// recursive UPDATE over the parent chain, so the cost is the depth.
func growTree(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, dir int64, d app.TreeTotals) error {
	if d == (app.TreeTotals{}) {
		return nil
	}
	if err := growChain(ctx, t, dir, d); err != nil {
		return err
	}
	_, err := t.Exec(ctx, `UPDATE spaces SET size = size + ?, file_num = file_num + ?, dir_num = dir_num + ?
		WHERE library_id = ? AND space_id = ?`, d.Size, d.Files, d.Dirs, libraryID, spaceID)
	return wrap("counters", err)
}

// growChain adds d to what dir and each of its ancestors hold (growTree without the space's
// counters); nothing for the root (0), whose totals are the space's.
func growChain(ctx context.Context, t *sqldb.Tx, dir int64, d app.TreeTotals) error {
	if dir == 0 || d == (app.TreeTotals{}) {
		return nil
	}
	_, err := t.Exec(ctx, `WITH RECURSIVE up(inode) AS (
			SELECT CAST(? AS BIGINT)
		UNION ALL
			SELECT n.parent_inode FROM up CROSS JOIN nodes n WHERE n.inode = up.inode AND n.parent_inode <> 0
		) UPDATE nodes SET tree_size = tree_size + ?, tree_files = tree_files + ?, tree_dirs = tree_dirs + ?
		WHERE inode IN (SELECT inode FROM up)`, dir, d.Size, d.Files, d.Dirs)
	return wrap("subtree totals", err)
}

// neg answers the totals taken away.
func neg(d app.TreeTotals) app.TreeTotals {
	return app.TreeTotals{Size: -d.Size, Files: -d.Files, Dirs: -d.Dirs}
}

// insertNode inserts n under parent as a new live row and answers it with its inode. It adjusts
// neither counters nor the parent; the callers do, once per operation.
func insertNode(ctx context.Context, t *sqldb.Tx, n app.Node, childDirs, childFiles int64, tree app.TreeTotals) (nodeRow, error) {
	isDir := 0
	if n.Type == app.TypeDir {
		isDir = 1
	}
	row, err := scanNode(t.QueryRow(ctx, `INSERT INTO nodes (library_id, space_id, parent_inode, name, type, is_dir,
		user_id, created_at, modified_at, local_created, local_modified, size, content_type, etag, crc64,
		metadata, labels, child_dirs, child_files, blob_id, link_target, category, tree_size, tree_files, tree_dirs)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+nodeColumns,
		n.LibraryID, n.SpaceID, n.ParentInode, n.Name, string(n.Type), isDir, n.UserID, millis(n.CreatedAt),
		millis(n.ModifiedAt), n.LocalCreationTime, n.LocalModificationTime, n.Size, n.ContentType, n.ETag,
		n.CRC64, encodeMeta(n.MetaData), encodeLabels(n.Labels), childDirs, childFiles,
		n.BlobID, linkArg(n.LinkTarget), n.Category, tree.Size, tree.Files, tree.Dirs))
	if sqldb.IsUniqueViolation(err) {
		// A concurrent create took the name after this transaction looked (creates share the
		// space, see inCreate). Both stay in the chain: callers see ErrNameTaken, and inCreate
		// runs the create again, which then sees the other entry.
		return nodeRow{}, fmt.Errorf("%w: %w", app.ErrNameTaken, err)
	}
	return row, wrap("insert", err)
}

// makeDir creates one directory under parent and counts it.
func makeDir(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, parent int64, name string, attrs app.DirAttrs, now time.Time) (nodeRow, error) {
	d, err := insertNode(ctx, t, app.Node{
		LibraryID: libraryID, SpaceID: spaceID, ParentInode: parent, Name: name, Type: app.TypeDir,
		UserID: attrs.UserID, CreatedAt: now, ModifiedAt: now,
		LocalCreationTime: attrs.LocalCreationTime, LocalModificationTime: attrs.LocalModificationTime,
		MetaData: attrs.MetaData, Labels: attrs.Labels,
	}, 0, 0, app.TreeTotals{})
	if err != nil {
		return nodeRow{}, err
	}
	if err := touchDir(ctx, t, libraryID, spaceID, parent, 1, 0, now); err != nil {
		return nodeRow{}, err
	}
	if err := growTree(ctx, t, libraryID, spaceID, parent, app.TreeTotals{Dirs: 1}); err != nil {
		return nodeRow{}, err
	}
	return d, recordChange(ctx, t, libraryID, spaceID, now, change{kind: app.EventFileCreate, inode: d.Inode,
		userID: attrs.UserID, extra: map[string]any{"isRapidUpload": false}})
}

// makeChain creates the directories names under parent, each inside the one before, and answers
// the last. Each is inserted with the counts and totals it will have (one child directory, and
// every directory after it below it), and parent's chain grows once, so the cost is the depth of
// parent plus the number of names, not their product (a deep mkdir -p holds every ancestor row
// of its first directory for the whole transaction).
func makeChain(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, parent int64, names []string, userID string, now time.Time) (nodeRow, error) {
	var d nodeRow
	at := parent
	made := make([]int64, 0, len(names))
	for i, name := range names {
		below := int64(len(names) - 1 - i)
		var err error
		d, err = insertNode(ctx, t, app.Node{
			LibraryID: libraryID, SpaceID: spaceID, ParentInode: at, Name: name, Type: app.TypeDir,
			UserID: userID, CreatedAt: now, ModifiedAt: now,
		}, min(below, 1), 0, app.TreeTotals{Dirs: below})
		if err != nil {
			return nodeRow{}, err
		}
		at = d.Inode
		made = append(made, d.Inode)
	}
	if err := touchDir(ctx, t, libraryID, spaceID, parent, 1, 0, now); err != nil {
		return nodeRow{}, err
	}
	if err := growTree(ctx, t, libraryID, spaceID, parent, app.TreeTotals{Dirs: int64(len(names))}); err != nil {
		return nodeRow{}, err
	}
	for _, inode := range made {
		if err := recordChange(ctx, t, libraryID, spaceID, now, change{kind: app.EventFileCreate, inode: inode,
			userID: userID, extra: map[string]any{"isRapidUpload": false}}); err != nil {
			return nodeRow{}, err
		}
	}
	return d, nil
}

// ensureDirs resolves path as directories, creating the missing ones (4.1, 4.6, 4.7 create
// intermediate parents). A file on the way answers ErrNotDirectory.
func ensureDirs(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, path []string, userID string, now time.Time) (nodeRow, error) {
	cur, err := rootNode(ctx, t, libraryID, spaceID)
	if err != nil {
		return nodeRow{}, err
	}
	for i, name := range path {
		next, err := childByName(ctx, t, libraryID, spaceID, cur.Inode, name)
		switch {
		case errors.Is(err, app.ErrNodeNotFound):
			// A new directory has no children: the rest of the path is new too.
			return makeChain(ctx, t, libraryID, spaceID, cur.Inode, path[i:], userID, now)
		case err != nil:
			return nodeRow{}, err
		case !next.isDir():
			return nodeRow{}, app.ErrNotDirectory
		}
		cur = next
	}
	return cur, nil
}

// placement is where a created, moved or copied entry lands.
type placement struct {
	name string
	// replace is the live file that strategy overwrite replaces; nil otherwise.
	replace *nodeRow
	// existing is the entry that already holds the name (overwrite of a directory by a
	// directory reuses it in MakeDirectories).
	existing *nodeRow
}

// pathIn is path with its last name replaced by the one the placement chose.
func (p placement) pathIn(path []string) []string {
	return append(slices.Clone(path[:len(path)-1]), p.name)
}

// place chooses the final name of an entry called name under parent (pitfall 4): ask refuses a
// taken name, rename looks for the first free "name (n)", overwrite replaces a file by a file.
// Any other strategy value is ask.
func place(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, parent int64, name string, isDir bool, strategy app.Conflict) (placement, error) {
	existing, err := childByName(ctx, t, libraryID, spaceID, parent, name)
	if errors.Is(err, app.ErrNodeNotFound) {
		return placement{name: name}, nil
	}
	if err != nil {
		return placement{}, err
	}
	switch strategy {
	case app.ConflictRename:
		for i := 1; i <= maxRename; i++ {
			candidate := renamed(name, isDir, i)
			_, err := childByName(ctx, t, libraryID, spaceID, parent, candidate)
			if errors.Is(err, app.ErrNodeNotFound) {
				return placement{name: candidate}, nil
			}
			if err != nil {
				return placement{}, err
			}
		}
		return placement{}, app.ErrNameTaken
	case app.ConflictOverwrite:
		if !isDir && !existing.isDir() {
			return placement{name: name, replace: &existing, existing: &existing}, nil
		}
		return placement{name: name, existing: &existing}, app.ErrNameTaken
	default:
		return placement{}, app.ErrNameTaken
	}
}

// MakeDirectories creates path and its missing parents (4.1). The strategy applies to the last
// component: ask answers ErrNameTaken when the name exists as anything, rename picks "name (n)",
// overwrite answers an existing directory as it is (mkdir -p) and ErrNameTaken for a file.
func (s *SQL) MakeDirectories(ctx context.Context, libraryID, spaceID string, path []string,
	strategy app.Conflict, attrs app.DirAttrs, now time.Time,
) (app.Node, []string, error) {
	if len(path) == 0 {
		return app.Node{}, nil, app.ErrNameTaken // the root always exists
	}
	var (
		dir   nodeRow
		final []string
	)
	err := s.inCreate(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		last := len(path) - 1
		parent, err := ensureDirs(ctx, t, libraryID, spaceID, path[:last], attrs.UserID, now)
		if err != nil {
			return err
		}
		p, err := place(ctx, t, libraryID, spaceID, parent.Inode, path[last], true, strategy)
		if err != nil {
			if strategy == app.ConflictOverwrite && p.existing != nil && p.existing.isDir() {
				dir, final = *p.existing, slices.Clone(path)
				return nil
			}
			return err
		}
		if dir, err = makeDir(ctx, t, libraryID, spaceID, parent.Inode, p.name, attrs, now); err != nil {
			return err
		}
		final = p.pathIn(path)
		return nil
	})
	if err != nil {
		return app.Node{}, nil, err
	}
	return dir.Node, final, nil
}

// isUnder reports whether path lies strictly under dir.
func isUnder(path, dir []string) bool {
	return len(path) > len(dir) && slices.Equal(path[:len(dir)], dir)
}

// checkTransfer refuses a move or copy into the source itself or onto the root. Under the space
// lock paths are stable, so "to lies under from" is exactly "from is a prefix of to": the
// destination parent's ancestor chain contains from's inode iff its path starts with from's
// path. The root (empty from) contains everything.
func checkTransfer(from, to []string) error {
	if len(from) == 0 || isUnder(to, from) {
		return app.ErrDestinationInside
	}
	if len(to) == 0 {
		return app.ErrNameTaken
	}
	return nil
}

// Move renames or moves the entry at from to to (4.7, 3.14). Only the entry's own row changes,
// so the cost does not depend on the subtree's size, and inodes stay. Missing parents of to are
// created; to under from answers ErrDestinationInside; moving an entry onto itself answers its
// path and changes nothing. Files keep their extension on rename ("a (1).jpg").
func (s *SQL) Move(ctx context.Context, libraryID, spaceID string, from, to []string,
	strategy app.Conflict, rules app.WriteRules, now time.Time,
) ([]string, error) {
	if err := checkTransfer(from, to); err != nil {
		return nil, err
	}
	var final []string
	err := s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		src, err := lookupPath(ctx, t, libraryID, spaceID, from)
		if err != nil {
			return err
		}
		if slices.Equal(from, to) {
			final = slices.Clone(from)
			return nil
		}
		last := len(to) - 1
		parent, err := ensureDirs(ctx, t, libraryID, spaceID, to[:last], src.UserID, now)
		if err != nil {
			return err
		}
		p, err := place(ctx, t, libraryID, spaceID, parent.Inode, to[last], src.isDir(), strategy)
		if err != nil {
			return err
		}
		if p.replace != nil {
			// Only a file replaces a file: its links follow to the moved one.
			if err := replaceByMove(ctx, t, *p.replace, src, rules, now); err != nil {
				return err
			}
		}
		if _, err := t.Exec(ctx, "UPDATE nodes SET parent_inode = ?, name = ? WHERE inode = ?",
			parent.Inode, p.name, src.Inode); err != nil {
			if sqldb.IsUniqueViolation(err) {
				return app.ErrNameTaken
			}
			return wrap("move", err)
		}
		final = p.pathIn(to)
		if err := relocate(ctx, t, src, parent.Inode, now); err != nil {
			return err
		}
		return recordMove(ctx, t, src, parent.Inode, p.replace, rules.UserID, now)
	})
	if err != nil {
		return nil, err
	}
	return final, nil
}

// recordMove records the move of src under parent (FILE.MOVE, or FILE.MOVE_OVERWRITE when it
// replaced the file replaced).
func recordMove(ctx context.Context, t *sqldb.Tx, src nodeRow, parent int64, replaced *nodeRow, userID string, now time.Time) error {
	c := change{kind: app.EventFileMove, inode: src.Inode, userID: userID, extra: map[string]any{
		"fromParentInode": strconv.FormatInt(src.ParentInode, 10), "toParentInode": strconv.FormatInt(parent, 10),
	}}
	if replaced != nil {
		c.kind, c.extra = app.EventFileMoveOverwrite, overwritten(*replaced, c.extra)
	}
	return recordChange(ctx, t, src.LibraryID, src.SpaceID, now, c)
}

// relocate records that the entry n moved from its parent to parent: both directories' child
// counts and times, and the subtree totals of both parent chains (a move within one chain nets
// out on the common ancestors).
func relocate(ctx context.Context, t *sqldb.Tx, n nodeRow, parent int64, now time.Time) error {
	if n.ParentInode == parent {
		return touchDir(ctx, t, n.LibraryID, n.SpaceID, parent, 0, 0, now)
	}
	dDirs, dFiles := kindDelta(n)
	if err := touchDir(ctx, t, n.LibraryID, n.SpaceID, n.ParentInode, -dDirs, -dFiles, now); err != nil {
		return err
	}
	if err := touchDir(ctx, t, n.LibraryID, n.SpaceID, parent, dDirs, dFiles, now); err != nil {
		return err
	}
	if err := growTree(ctx, t, n.LibraryID, n.SpaceID, n.ParentInode, neg(n.totals())); err != nil {
		return err
	}
	return growTree(ctx, t, n.LibraryID, n.SpaceID, parent, n.totals())
}

// kindDelta answers (1, 0) for a directory and (0, 1) for anything else: its weight in a
// parent's child counts.
func kindDelta(n nodeRow) (dirs, files int64) {
	if n.isDir() {
		return 1, 0
	}
	return 0, 1
}

// subtreeCTE selects the live descendants of the inode bound to its third placeholder (after
// library and space), as sub(inode, is_dir, size). It needs the library and space again for the
// recursive step: the root's inode 0 is shared by every space. The recursive step is written
// "sub CROSS JOIN nodes" so that SQLite, for which CROSS JOIN fixes the join order, looks up
// each found directory's children by (library, space, parent); with a plain JOIN and bound
// parameters it scanned the whole space once per found entry, which is quadratic (counting the
// 1,000 entries of the e2e async-copy case took 20 s under -race). PostgreSQL plans it as before.
const subtreeCTE = `WITH RECURSIVE sub(inode, is_dir, size) AS (
		SELECT inode, is_dir, size FROM nodes
		WHERE library_id = ? AND space_id = ? AND parent_inode = ? AND deleted_at IS NULL
	UNION ALL
		SELECT n.inode, n.is_dir, n.size FROM sub CROSS JOIN nodes n
		WHERE n.parent_inode = sub.inode AND sub.is_dir = 1 AND n.library_id = ? AND n.space_id = ?
			AND n.deleted_at IS NULL
	) `

// deleteEntry deletes the live entry n in O(depth) whatever it holds (docs/lifecycle.md): only
// n's own row is marked (deleted_at, deleted_root = n); its descendants stay as they are,
// unreachable while n is deleted. The counters and n's ancestors lose n's totals, its parent
// records the removal, and the live symlinks pointing at n or into it join the deletion
// (deleteLinksTo). With rules.Recycle n becomes a bin item, whose id is answered; otherwise it
// is queued for purging and 0 is answered. Rows keep their blob ids until purged.
func deleteEntry(ctx context.Context, t *sqldb.Tx, n nodeRow, rules app.WriteRules, now time.Time) (int64, error) {
	return deleteEntryBy(ctx, t, n, rules, deletion{}, now)
}

// deleteEntryBy is deleteEntry with who deleted: the change feed records FILE.TRASH or
// FILE.DELETE for a user, TASK.FILE.DELETE removed by quota for the quota removal job.
func deleteEntryBy(ctx context.Context, t *sqldb.Tx, n nodeRow, rules app.WriteRules, by deletion, now time.Time) (int64, error) {
	var acc deleteAcc
	id, err := deleteEntryAcc(ctx, t, n, rules, by, &acc, now)
	if err != nil {
		return 0, err
	}
	return id, acc.flush(ctx, t, n.LibraryID, n.SpaceID, now)
}

// deleteEntryAcc is deleteEntryBy with what the deletion owes n's parent (its child counts and
// time), n's ancestors (their subtree totals) and the space's counters added to acc instead of
// applied: the caller flushes acc in the same transaction, once for many deletions
// (DeleteEntries, docs/batch.md "Speed"). n's own row, its event, its links and its bin item
// or purge row are written at once, as deleteEntry writes them.
func deleteEntryAcc(ctx context.Context, t *sqldb.Tx, n nodeRow, rules app.WriteRules, by deletion, acc *deleteAcc, now time.Time) (int64, error) {
	lib, space := n.LibraryID, n.SpaceID
	var parents []string
	if rules.Recycle {
		var err error
		if parents, err = acc.pathOf(ctx, t, lib, space, n.ParentInode); err != nil {
			return 0, err
		}
	} else if _, err := acc.pathOf(ctx, t, lib, space, n.ParentInode); err != nil {
		return 0, err // a deleted parent answers not found, as it did before
	}
	if _, err := t.Exec(ctx, "UPDATE nodes SET deleted_at = ?, deleted_root = ? WHERE inode = ?",
		millis(now), n.Inode, n.Inode); err != nil {
		return 0, wrap("delete", err)
	}
	totals := n.totals()
	selfDirs, selfFiles := kindDelta(n)
	acc.touch(n.ParentInode, -selfDirs, -selfFiles)
	acc.grow(n.ParentInode, neg(totals))
	kind, location := by.kind(rules.Recycle)
	c := change{kind: kind, inode: n.Inode, location: location, byQuota: by.byQuota, userID: rules.UserID}
	if err := recordChange(ctx, t, lib, space, now, c); err != nil {
		return 0, err
	}
	links, err := deleteLinksTo(ctx, t, n, c, now)
	if err != nil {
		return 0, err
	}
	if !rules.Recycle {
		_, err := t.Exec(ctx, "INSERT INTO purge_queue (inode, library_id, space_id, queued_at) VALUES (?, ?, ?, ?)",
			n.Inode, lib, space, millis(now))
		return 0, wrap("queue purge", err)
	}
	// The links that joined the deletion come back with the item, so the item holds them.
	totals.Files += links
	id, err := recycleItem(ctx, t, n, parents, totals, rules, now)
	if err != nil {
		return 0, err
	}
	acc.bin = addTotals(acc.bin, totals)
	return id, nil
}

// DeleteTree deletes the entry at path and its subtree (4.5, 3.12), with the symlinks elsewhere
// that point into it, into the bin or for good as rules say; only the entry's own row changes
// (see deleteEntry). The empty path (the root) is refused.
func (s *SQL) DeleteTree(ctx context.Context, libraryID, spaceID string, path []string, rules app.WriteRules, now time.Time) (app.Deleted, error) {
	return s.deleteAt(ctx, libraryID, spaceID, path, false, rules, now)
}

// deleteAt deletes the entry at path (see deleteEntry); onlyFile refuses a directory.
func (s *SQL) deleteAt(ctx context.Context, libraryID, spaceID string, path []string, onlyFile bool,
	rules app.WriteRules, now time.Time,
) (app.Deleted, error) {
	if len(path) == 0 {
		return app.Deleted{}, errRootNotEntry
	}
	var out app.Deleted
	err := s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		n, err := lookupPath(ctx, t, libraryID, spaceID, path)
		if err != nil {
			return err
		}
		if onlyFile && n.isDir() {
			return app.ErrIsDirectory
		}
		out.Node = n.Node
		out.RecycledID, err = deleteEntry(ctx, t, n, rules, now)
		return err
	})
	if err != nil {
		return app.Deleted{}, err
	}
	return out, nil
}

// CopyTree copies the entry at from, with its subtree, to to (4.6, 3.13): new inodes, the same
// shape and attributes, creation and modification times of now. Missing parents of to are
// created; to under from answers ErrDestinationInside. Counters grow by what was copied.
func (s *SQL) CopyTree(ctx context.Context, libraryID, spaceID string, from, to []string,
	strategy app.Conflict, rules app.WriteRules, now time.Time,
) ([]string, error) {
	if err := checkTransfer(from, to); err != nil {
		return nil, err
	}
	ctx = sqldb.WithTxTimeout(ctx, treeTxTimeout)
	var final []string
	err := s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		src, err := lookupPath(ctx, t, libraryID, spaceID, from)
		if err != nil {
			return err
		}
		last := len(to) - 1
		parent, err := ensureDirs(ctx, t, libraryID, spaceID, to[:last], src.UserID, now)
		if err != nil {
			return err
		}
		p, err := place(ctx, t, libraryID, spaceID, parent.Inode, to[last], src.isDir(), strategy)
		if err != nil {
			return err
		}
		final = p.pathIn(to)
		if !src.isDir() {
			// A file (only a file can replace a file) is copied as CopyFile copies it.
			_, err = copyFileTo(ctx, t, src, parent.Inode, p, rules, now)
		} else {
			err = copyEntry(ctx, t, src, parent.Inode, p.name, rules.UserID, now)
		}
		if err != nil {
			return err
		}
		return checkQuota(ctx, t, libraryID, spaceID, src.totals().Size, rules)
	})
	if err != nil {
		return nil, err
	}
	return final, nil
}

// copyEntry inserts a copy of src named name under parent and copies src's subtree breadth
// first: one INSERT ... SELECT per directory for its files, one INSERT per subdirectory (whose
// new inode its children need). Child counts are copied, since the copy has the same children.
// Copied files share their originals' blobs; copied symlinks point at the same targets as the
// originals, inside the copied tree or not (see files.go).
//
// The change feed gets a FILE.COPY for the copy and for every entry of its subtree, parents
// first, each naming its original (sourceInode): a client learns the copied entries' inodes.
func copyEntry(ctx context.Context, t *sqldb.Tx, src nodeRow, parent int64, name, userID string, now time.Time) error {
	lib, space := src.LibraryID, src.SpaceID
	top := src.Node
	top.ParentInode, top.Name, top.CreatedAt, top.ModifiedAt = parent, name, now, now
	copied, err := insertNode(ctx, t, top, src.childDirs, src.childFiles, src.tree)
	if err != nil {
		return err
	}
	copyEvent := change{kind: app.EventFileCopy, userID: userID}
	if err := recordChange(ctx, t, lib, space, now, change{kind: app.EventFileCopy, inode: copied.Inode, userID: userID,
		extra: map[string]any{"sourceInode": strconv.FormatInt(src.Inode, 10)}}); err != nil {
		return err
	}
	dDirs, dFiles := kindDelta(src)
	size := src.Size
	type pair struct{ from, to int64 }
	queue := []pair{}
	if src.isDir() {
		queue = append(queue, pair{src.Inode, copied.Inode})
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]

		var nFiles, nSize int64
		if err := t.QueryRow(ctx, `SELECT COUNT(*), `+sumBigint("size")+` FROM nodes
			WHERE library_id = ? AND space_id = ? AND parent_inode = ? AND is_dir = 0 AND deleted_at IS NULL`,
			lib, space, p.from).Scan(&nFiles, &nSize); err != nil {
			return wrap("copy", err)
		}
		if nFiles > 0 {
			if _, err := t.Exec(ctx, `INSERT INTO nodes (library_id, space_id, parent_inode, name, type, is_dir,
				user_id, created_at, modified_at, local_created, local_modified, size, content_type, etag, crc64,
				metadata, labels, child_dirs, child_files, blob_id, link_target, category)
				SELECT library_id, space_id, ?, name, type, is_dir, user_id, ?, ?, local_created, local_modified,
					size, content_type, etag, crc64, metadata, labels, 0, 0, blob_id, link_target, category
				FROM nodes WHERE library_id = ? AND space_id = ? AND parent_inode = ? AND is_dir = 0 AND deleted_at IS NULL`,
				p.to, millis(now), millis(now), lib, space, p.from); err != nil {
				return wrap("copy", err)
			}
			dFiles += nFiles
			size += nSize
		}

		subdirs, err := childDirs(ctx, t, lib, space, p.from)
		if err != nil {
			return err
		}
		for _, d := range subdirs {
			c := d.Node
			c.ParentInode, c.CreatedAt, c.ModifiedAt = p.to, now, now
			nd, err := insertNode(ctx, t, c, d.childDirs, d.childFiles, d.tree)
			if err != nil {
				return err
			}
			dDirs++
			queue = append(queue, pair{d.Inode, nd.Inode})
		}
		// The copies under p.to, each with its original: the one of the same name under p.from.
		if err := recordMany(ctx, t, lib, space, now, copyEvent, `SELECT c.inode, c.inode AS ord,
				'{"sourceInode":"' || CAST(o.inode AS TEXT) || '"}' AS extra
			FROM nodes c JOIN nodes o ON o.library_id = c.library_id AND o.space_id = c.space_id
				AND o.parent_inode = ? AND o.name = c.name AND o.deleted_at IS NULL
			WHERE c.library_id = ? AND c.space_id = ? AND c.parent_inode = ? AND c.deleted_at IS NULL`,
			p.from, lib, space, p.to); err != nil {
			return err
		}
	}
	selfDirs, selfFiles := kindDelta(src)
	if err := touchDir(ctx, t, lib, space, parent, selfDirs, selfFiles, now); err != nil {
		return err
	}
	return growTree(ctx, t, lib, space, parent, app.TreeTotals{Size: size, Files: dFiles, Dirs: dDirs})
}

// childDirs answers the live subdirectories of dir, read completely before the caller writes
// (SQLite's single connection cannot interleave an open cursor with writes safely).
func childDirs(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, dir int64) ([]nodeRow, error) {
	return readNodes(ctx, t, "copy", "SELECT "+nodeColumns+` FROM nodes
		WHERE library_id = ? AND space_id = ? AND parent_inode = ? AND is_dir = 1 AND deleted_at IS NULL`,
		libraryID, spaceID, dir)
}

// CountTree counts the live entries below path (its descendants, not the entry itself), stopping
// at atMost when atMost > 0: the use cases only ask whether an operation crosses the async
// threshold (decision 7).
func (s *SQL) CountTree(ctx context.Context, libraryID, spaceID string, path []string, atMost int64) (int64, error) {
	var n int64
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		top, err := lookupPath(ctx, t, libraryID, spaceID, path)
		if err != nil || !top.isDir() {
			return err
		}
		q := subtreeCTE + "SELECT COUNT(*) FROM sub"
		args := []any{libraryID, spaceID, top.Inode, libraryID, spaceID}
		if atMost > 0 {
			q = subtreeCTE + "SELECT COUNT(*) FROM (SELECT 1 FROM sub LIMIT ?) AS bounded"
			args = append(args, atMost)
		}
		return wrap("count tree", t.QueryRow(ctx, q, args...).Scan(&n))
	})
	return n, err
}

// TreeStats sums the live entries below path in one query: bytes of files, files (symlinks
// included, as the counters count them) and directories.
func (s *SQL) TreeStats(ctx context.Context, libraryID, spaceID string, path []string) (app.SpaceCounts, error) {
	var c app.SpaceCounts
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		top, err := lookupPath(ctx, t, libraryID, spaceID, path)
		if err != nil {
			return err
		}
		if !top.isDir() {
			return app.ErrNotDirectory
		}
		return wrap("tree stats", t.QueryRow(ctx, subtreeCTE+`SELECT
			COALESCE(SUM(CASE WHEN is_dir = 1 THEN 0 ELSE size END), 0),
			COALESCE(SUM(1 - is_dir), 0), COALESCE(SUM(is_dir), 0) FROM sub`,
			libraryID, spaceID, top.Inode, libraryID, spaceID).Scan(&c.Size, &c.FileNum, &c.DirNum))
	})
	return c, err
}

// UpdateAttrs replaces the labels and/or metadata of the entry at path (nil keeps) and sets its
// modification time (4.9 ?update), by userID.
func (s *SQL) UpdateAttrs(ctx context.Context, libraryID, spaceID string, path []string, labels []string,
	meta map[string]string, userID string, now time.Time,
) error {
	var change func(map[string]string) (map[string]string, error)
	if meta != nil {
		change = func(map[string]string) (map[string]string, error) { return meta, nil }
	}
	return s.updateAttrs(ctx, libraryID, spaceID, path, labels, change, userID, now)
}

// MergeMeta sets the pairs of set and removes the keys of del in the entry's metadata, keeping
// the others (3.16 metaDataDirective merge: a JSON merge patch, null deletes), and replaces its
// labels unless nil. check judges the result before it is written.
func (s *SQL) MergeMeta(ctx context.Context, libraryID, spaceID string, path []string, labels []string,
	set map[string]string, del []string, check func(map[string]string) error, userID string, now time.Time,
) error {
	// The merge is app.MetaUpdate.Merged, the code FuzzMetaDataUpdate drives; check bounds the
	// merged result inside the write transaction (fileattr's 2 KB).
	return s.updateAttrs(ctx, libraryID, spaceID, path, labels, func(old map[string]string) (map[string]string, error) {
		merged := app.MetaUpdate{Set: set, Delete: del}.Merged(old)
		if check != nil {
			if err := check(merged); err != nil {
				return nil, err
			}
		}
		return merged, nil
	}, userID, now)
}

// updateAttrs sets labels (unless nil) and the metadata change makes of the stored one (unless
// change is nil) in one transaction, so concurrent merges never lose each other's keys. An error
// of change aborts the transaction and is answered as it is. The change feed gets a FILE.MODIFY
// whose sizes and etag say the content stayed (docs/changefeed.md): the new modification time
// shows in the event, and a client refetches the attributes the feed does not carry.
func (s *SQL) updateAttrs(ctx context.Context, libraryID, spaceID string, path []string, labels []string,
	metaChange func(map[string]string) (map[string]string, error), userID string, now time.Time,
) error {
	if len(path) == 0 {
		return errRootNotEntry
	}
	return s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		n, err := lookupPath(ctx, t, libraryID, spaceID, path)
		if err != nil {
			return err
		}
		q, args := "UPDATE nodes SET modified_at = ?", []any{millis(now)}
		if labels != nil {
			q += ", labels = ?"
			args = append(args, encodeLabels(labels))
		}
		if metaChange != nil {
			meta, err := metaChange(n.MetaData)
			if err != nil {
				return err
			}
			q += ", metadata = ?"
			args = append(args, encodeMeta(meta))
		}
		if _, err := t.Exec(ctx, q+" WHERE inode = ?", append(args, n.Inode)...); err != nil {
			return wrap("update attributes", err)
		}
		return recordChange(ctx, t, libraryID, spaceID, now, change{kind: app.EventFileModify, inode: n.Inode,
			userID: userID, extra: map[string]any{"oldSize": n.Size, "newSize": n.Size, "oldEtag": n.ETag}})
	})
}

// PathOf answers the path of a live inode by walking its parents; the root (0) is the empty
// path. ErrNodeNotFound when the inode, or any ancestor, is gone.
func (s *SQL) PathOf(ctx context.Context, libraryID, spaceID string, inode int64) ([]string, error) {
	var path []string
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		if _, err := rootNode(ctx, t, libraryID, spaceID); err != nil {
			return err
		}
		var err error
		path, err = pathOf(ctx, t, libraryID, spaceID, inode)
		return err
	})
	if err != nil {
		return nil, err
	}
	return path, nil
}

// PruneCommits forgets upload commits recorded before before (see CommitUpload): the object
// service answers a repeated confirm from its own session until the session expires, long
// before this.
func (s *SQL) PruneCommits(ctx context.Context, before time.Time, limit int) (int64, error) {
	var n int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		res, err := t.Exec(ctx, `DELETE FROM committed_uploads WHERE upload_id IN (SELECT upload_id FROM committed_uploads
			WHERE committed_at < ? LIMIT ?)`, millis(before), clampPurge(limit))
		if err != nil {
			return wrap("prune commits", err)
		}
		n, err = res.RowsAffected()
		return wrap("prune commits", err)
	})
	return n, err
}

func clampPurge(limit int) int {
	if limit <= 0 {
		return 10000
	}
	return limit
}
