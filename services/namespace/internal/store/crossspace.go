package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Cross-space copies and moves (batch items with copyFromSpaceId or fromSpaceId, SMH API 10.2
// and 10.3, docs/batch.md). A space's tree lives in its own rows, so an entry crosses spaces as
// new rows in the target space: a copy inserts them, a move inserts them and deletes the source
// for good in the same transaction. A symlink becomes a copy of the file it points at (a link
// never points into another space), so the copy's sizes are counted as they land.

// TransferAcross copies (or, with move, moves) the entry at from in fromSpace to to in toSpace
// of the same library; see app.CrossSpaceStore.
func (s *SQL) TransferAcross(ctx context.Context, libraryID, fromSpace string, from []string, toSpace string, to []string,
	strategy app.Conflict, move bool, rules app.WriteRules, now time.Time,
) (app.Placed, error) {
	if len(from) == 0 || len(to) == 0 || fromSpace == toSpace {
		return app.Placed{}, fmt.Errorf("store: transfer across spaces: %w", app.ErrNodeNotFound)
	}
	ctx = sqldb.WithTxTimeout(ctx, treeTxTimeout)
	var out app.Placed
	err := s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		if err := lockSpaces(ctx, t, libraryID, fromSpace, toSpace); err != nil {
			return err
		}
		src, err := lookupPath(ctx, t, libraryID, fromSpace, from)
		if errors.Is(err, app.ErrNodeNotFound) || errors.Is(err, app.ErrNotDirectory) {
			return app.ErrSourceMissing
		}
		if err != nil {
			return err
		}
		last := len(to) - 1
		var (
			parent nodeRow
			p      placement
		)
		if src.isDir() {
			if parent, err = ensureDirs(ctx, t, libraryID, toSpace, to[:last], src.UserID, now); err != nil {
				return err
			}
			p, err = place(ctx, t, libraryID, toSpace, parent.Inode, to[last], true, strategy)
		} else {
			parent, p, err = placeFile(ctx, t, libraryID, toSpace, to, strategy)
		}
		if err != nil {
			return err
		}
		landed := acrossChange{move: move, userID: rules.UserID}
		added, row, err := copyAcross(ctx, t, src, toSpace, parent.Inode, p, landed, rules, now)
		if err != nil {
			return err
		}
		out = app.Placed{Node: row.Node, Path: p.pathIn(to), Overwritten: p.replace != nil}
		if move {
			bin := rules
			bin.Recycle = false // the entry lives on in the target space
			if _, err := deleteEntry(ctx, t, src, bin, now); err != nil {
				return err
			}
		}
		return checkQuota(ctx, t, libraryID, toSpace, added, rules)
	})
	if err != nil {
		return app.Placed{}, err
	}
	s.analyzeAsTablesGrow()
	return out, nil
}

// lockSpaces takes the structural locks of both spaces on PostgreSQL, in one order whatever
// the direction, so two transfers between the same spaces cannot deadlock.
func lockSpaces(ctx context.Context, t *sqldb.Tx, libraryID string, spaces ...string) error {
	if !t.Postgres() {
		return nil
	}
	spaces = slices.Clone(spaces)
	slices.Sort(spaces)
	for _, sp := range slices.Compact(spaces) {
		if _, err := t.Exec(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(?))", spaceLockClass, libraryID+"/"+sp); err != nil {
			return fmt.Errorf("store: lock space: %w", err)
		}
	}
	return nil
}

// fileAcross answers the content a file or symlink src carries into another space: a symlink's
// target's content.
func fileAcross(ctx context.Context, t *sqldb.Tx, src nodeRow) (app.Node, error) {
	if !src.IsSymlink() {
		return fileContent(src.Node), nil
	}
	target, err := nodeByInode(ctx, t, src.LibraryID, src.SpaceID, src.LinkTarget)
	if err != nil {
		return app.Node{}, err
	}
	f := fileContent(target.Node)
	f.UserID, f.MetaData, f.Labels = src.UserID, src.MetaData, src.Labels
	return f, nil
}

// copyAcross places a copy of src in toSpace under parent as p says and answers the live bytes
// it added. A file lands as a new entry or over the file p replaces; a directory lands with its
// whole subtree.
func copyAcross(ctx context.Context, t *sqldb.Tx, src nodeRow, toSpace string, parent int64, p placement,
	landed acrossChange, rules app.WriteRules, now time.Time,
) (int64, nodeRow, error) {
	lib := src.LibraryID
	if !src.isDir() {
		f, err := fileAcross(ctx, t, src)
		if err != nil {
			return 0, nodeRow{}, err
		}
		var row nodeRow
		if p.replace != nil {
			row, err = replaceInPlace(ctx, t, *p.replace, f, rules, now)
		} else {
			row, err = insertFile(ctx, t, lib, toSpace, parent, p.name, f, now)
		}
		if err != nil {
			return 0, nodeRow{}, err
		}
		return f.Size, row, recordChange(ctx, t, lib, toSpace, now, landed.of(src, row, p.replace))
	}
	top, totals, err := copyDirAcross(ctx, t, src, toSpace, parent, p.name, landed, now)
	if err != nil {
		return 0, nodeRow{}, err
	}
	if err := touchDir(ctx, t, lib, toSpace, parent, 1, 0, now); err != nil {
		return 0, nodeRow{}, err
	}
	return totals.Size, top, growTree(ctx, t, lib, toSpace, parent, totals)
}

// copyDirAcross inserts a copy of the directory src named name under parent in toSpace and
// copies its children depth first, then records what the copy holds on its row. It answers the
// new row and its totals, itself included; the caller counts them for parent's chain and the
// space.
func copyDirAcross(ctx context.Context, t *sqldb.Tx, src nodeRow, toSpace string, parent int64, name string,
	landed acrossChange, now time.Time,
) (nodeRow, app.TreeTotals, error) {
	top := src.Node
	top.SpaceID, top.ParentInode, top.Name, top.CreatedAt, top.ModifiedAt = toSpace, parent, name, now, now
	dir, err := insertNode(ctx, t, top, src.childDirs, src.childFiles, app.TreeTotals{})
	if err != nil {
		return nodeRow{}, app.TreeTotals{}, err
	}
	if err := recordChange(ctx, t, src.LibraryID, toSpace, now, landed.of(src, dir, nil)); err != nil {
		return nodeRow{}, app.TreeTotals{}, err
	}
	children, err := liveChildren(ctx, t, src)
	if err != nil {
		return nodeRow{}, app.TreeTotals{}, err
	}
	var below app.TreeTotals
	for _, c := range children {
		if c.isDir() {
			_, sub, err := copyDirAcross(ctx, t, c, toSpace, dir.Inode, c.Name, landed, now)
			if err != nil {
				return nodeRow{}, app.TreeTotals{}, err
			}
			below.Size, below.Files, below.Dirs = below.Size+sub.Size, below.Files+sub.Files, below.Dirs+sub.Dirs
			continue
		}
		f, err := fileAcross(ctx, t, c)
		if err != nil {
			return nodeRow{}, app.TreeTotals{}, err
		}
		f.LibraryID, f.SpaceID, f.ParentInode, f.Name, f.CreatedAt, f.ModifiedAt = c.LibraryID, toSpace, dir.Inode, c.Name, now, now
		row, err := insertNode(ctx, t, f, 0, 0, app.TreeTotals{})
		if err != nil {
			return nodeRow{}, app.TreeTotals{}, err
		}
		if err := recordChange(ctx, t, c.LibraryID, toSpace, now, landed.of(c, row, nil)); err != nil {
			return nodeRow{}, app.TreeTotals{}, err
		}
		below.Size, below.Files = below.Size+f.Size, below.Files+1
	}
	if _, err := t.Exec(ctx, "UPDATE nodes SET tree_size = ?, tree_files = ?, tree_dirs = ? WHERE inode = ?",
		below.Size, below.Files, below.Dirs, dir.Inode); err != nil {
		return nodeRow{}, app.TreeTotals{}, wrap("copy across spaces", err)
	}
	dir.tree = below
	return dir, app.TreeTotals{Size: below.Size, Files: below.Files, Dirs: below.Dirs + 1}, nil
}

// acrossChange is what the target space's change feed records for each entry a cross-space
// transfer lands, parents before children (docs/changefeed.md "Cross-space writes"): the landed
// rows are new inodes of the target space, so every one of them is announced. A copy records
// FILE.COPY naming its original; a move records FILE.MOVE naming the space and parent it came
// from (3.18), and the source space records the removal through deleteEntry. A file that replaced
// another in place records the _OVERWRITE form with the replaced content.
type acrossChange struct {
	move   bool
	userID string
}

// of answers the event for row, landed as the copy of orig; replaced is the file it overwrote.
func (a acrossChange) of(orig, row nodeRow, replaced *nodeRow) change {
	extra := map[string]any{"fromLibraryId": orig.LibraryID, "fromSpaceId": orig.SpaceID}
	kind := app.EventFileCopy
	extra["sourceInode"] = strconv.FormatInt(orig.Inode, 10)
	if a.move {
		kind = app.EventFileMove
		extra["fromParentInode"] = strconv.FormatInt(orig.ParentInode, 10)
		extra["toParentInode"] = strconv.FormatInt(row.ParentInode, 10)
	}
	if replaced != nil {
		kind = map[string]string{app.EventFileCopy: app.EventFileCopyOverwrite, app.EventFileMove: app.EventFileMoveOverwrite}[kind]
		extra = overwritten(*replaced, extra)
	}
	return change{kind: kind, inode: row.Inode, userID: a.userID, extra: extra}
}

// liveChildren answers the live children of the directory dir, read completely before the
// caller writes (as childDirs).
func liveChildren(ctx context.Context, t *sqldb.Tx, dir nodeRow) ([]nodeRow, error) {
	return readNodes(ctx, t, "copy across spaces", "SELECT "+nodeColumns+` FROM nodes
		WHERE library_id = ? AND space_id = ? AND parent_inode = ? AND deleted_at IS NULL ORDER BY name`,
		dir.LibraryID, dir.SpaceID, dir.Inode)
}

// readNodes answers every row query selects (nodeColumns), read completely before the caller
// writes: SQLite's single connection cannot interleave an open cursor with writes safely. op
// names the operation in errors.
func readNodes(ctx context.Context, t *sqldb.Tx, op, query string, args ...any) ([]nodeRow, error) {
	rows, err := t.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []nodeRow
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, n)
	}
	return out, wrap(op, rows.Err())
}
