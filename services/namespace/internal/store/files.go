package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// File entries (SMH API section 3).
//
// A file row carries its blob id (the object service's bytes; copies share it). A symlink is a
// row of type symlink with link_target set to its target's inode, size 0 and no blob of its own;
// it counts as a file in the counters. The invariant every write keeps: a live symlink points at
// a live file, never at a directory or another symlink. So
//   - a link to a link points at the final target (CreateSymlink follows);
//   - deleting a file (or a directory holding it) deletes the live links pointing at it, in the
//     same deletion (deleted_root), so the recycle bin will restore them together;
//   - overwriting a file in place keeps its inode, so its links follow the new content; when a
//     move replaces a file, the replaced file's links are pointed at the moved file;
//   - turning a file into a symlink in place (an overwrite by CreateSymlink or by a copied link)
//     points the file's own links at the new target; a symlink overwriting its own target is
//     refused (ErrSymlinkOverwrite);
//   - a copied directory's symlinks keep pointing at their original targets, inside the copied
//     tree or not: a copy never changes what an existing link means, and a link's target is
//     always a live file (the original is, the copy of a link target is just another file).

// linkArg binds a link target: NULL for "no target".
func linkArg(inode int64) any {
	if inode == 0 {
		return nil
	}
	return inode
}

// fileContent answers the part of n that a copy or an overwrite carries over: everything but
// identity (inode, space, parent, name) and times.
func fileContent(n app.Node) app.Node {
	return app.Node{
		Type: n.Type, UserID: n.UserID, Size: n.Size, ContentType: n.ContentType, ETag: n.ETag, CRC64: n.CRC64,
		MetaData: n.MetaData, Labels: n.Labels, BlobID: n.BlobID, LinkTarget: n.LinkTarget, Category: n.Category,
		LocalCreationTime: n.LocalCreationTime, LocalModificationTime: n.LocalModificationTime,
	}
}

// finalTarget answers the file a link to n points at: n itself, or n's target when n is a link.
func finalTarget(n nodeRow) int64 {
	if n.IsSymlink() {
		return n.LinkTarget
	}
	return n.Inode
}

// fileParent resolves the parent of a file path: it must exist (files never create parents,
// pitfall 4) and be a directory (ErrNotDirectory: "a file in the middle", 409).
func fileParent(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, path []string) (nodeRow, error) {
	parent, err := lookupPath(ctx, t, libraryID, spaceID, path[:len(path)-1])
	if err != nil {
		return nodeRow{}, err
	}
	if !parent.isDir() {
		return nodeRow{}, app.ErrNotDirectory
	}
	return parent, nil
}

// placeFile finds where a file entry at path lands: its parent (see fileParent) and the
// placement of its name under strategy.
func placeFile(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, path []string, strategy app.Conflict) (nodeRow, placement, error) {
	parent, err := fileParent(ctx, t, libraryID, spaceID, path)
	if err != nil {
		return nodeRow{}, placement{}, err
	}
	p, err := place(ctx, t, libraryID, spaceID, parent.Inode, path[len(path)-1], false, strategy)
	return parent, p, err
}

// writeFile puts f where p says under parent: over the file p replaces, keeping its inode, or
// as a new entry.
// The change feed gets FILE.CREATE, or FILE.CREATE_OVERWRITE naming the replaced content.
func writeFile(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, parent nodeRow, p placement, f app.Node, rules app.WriteRules, now time.Time) (nodeRow, error) {
	var (
		row nodeRow
		err error
	)
	c := change{kind: app.EventFileCreate, userID: orUser(rules.UserID, f.UserID), extra: map[string]any{"isRapidUpload": rules.RapidUpload}}
	if f.Type == app.TypeSymlink {
		c.extra["targetInode"] = strconv.FormatInt(f.LinkTarget, 10)
	}
	if p.replace != nil {
		row, err = replaceInPlace(ctx, t, *p.replace, f, rules, now)
		c.kind, c.extra = app.EventFileCreateOverwrite, overwritten(*p.replace, c.extra)
	} else {
		row, err = insertFile(ctx, t, libraryID, spaceID, parent.Inode, p.name, f, now)
	}
	if err != nil {
		return nodeRow{}, err
	}
	c.inode = row.Inode
	return row, recordChange(ctx, t, libraryID, spaceID, now, c)
}

// sourceFile resolves the file or symlink a copy, move or link reads from: ErrSourceMissing
// when there is none, ErrIsDirectory for a directory.
func sourceFile(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, path []string) (nodeRow, error) {
	if len(path) == 0 {
		return nodeRow{}, app.ErrIsDirectory
	}
	n, err := lookupPath(ctx, t, libraryID, spaceID, path)
	if errors.Is(err, app.ErrNodeNotFound) || errors.Is(err, app.ErrNotDirectory) {
		return nodeRow{}, app.ErrSourceMissing
	}
	if err != nil {
		return nodeRow{}, err
	}
	if n.isDir() {
		return nodeRow{}, app.ErrIsDirectory
	}
	return n, nil
}

// insertFile adds the file or symlink f named name under parent and counts it.
func insertFile(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, parent int64, name string, f app.Node, now time.Time) (nodeRow, error) {
	f.LibraryID, f.SpaceID, f.ParentInode, f.Name = libraryID, spaceID, parent, name
	f.CreatedAt, f.ModifiedAt = now, now
	row, err := insertNode(ctx, t, f, 0, 0, app.TreeTotals{})
	if err != nil {
		return nodeRow{}, err
	}
	if err := touchDir(ctx, t, libraryID, spaceID, parent, 0, 1, now); err != nil {
		return nodeRow{}, err
	}
	return row, growTree(ctx, t, libraryID, spaceID, parent, app.TreeTotals{Size: f.Size, Files: 1})
}

// replaceInPlace gives the live file or symlink old the content of f (an overwrite, pitfall 4):
// the inode, name and creation time stay, so favorites, history and the symlinks pointing at
// old follow it; the modification time is now; the size counter moves by the difference. With
// history on, old's content is kept as a version first (keepVersion). When f is a symlink, old's
// own links are pointed at f's target (links never point at links).
func replaceInPlace(ctx context.Context, t *sqldb.Tx, old nodeRow, f app.Node, rules app.WriteRules, now time.Time) (nodeRow, error) {
	if f.Type == app.TypeSymlink && f.LinkTarget == old.Inode {
		return nodeRow{}, app.ErrSymlinkOverwrite
	}
	if err := keepVersion(ctx, t, old, old.Inode, rules, now); err != nil {
		return nodeRow{}, err
	}
	_, err := t.Exec(ctx, `UPDATE nodes SET type = ?, user_id = ?, modified_at = ?,
		local_created = ?, local_modified = ?, size = ?, content_type = ?, etag = ?, crc64 = ?,
		metadata = ?, labels = ?, blob_id = ?, link_target = ?, category = ? WHERE inode = ?`,
		string(f.Type), f.UserID, millis(now), f.LocalCreationTime, f.LocalModificationTime, f.Size,
		f.ContentType, f.ETag, f.CRC64, encodeMeta(f.MetaData), encodeLabels(f.Labels), f.BlobID,
		linkArg(f.LinkTarget), f.Category, old.Inode)
	if err != nil {
		return nodeRow{}, wrap("overwrite file", err)
	}
	if f.Type == app.TypeSymlink {
		if err := repointLinks(ctx, t, old.LibraryID, old.SpaceID, old.Inode, f.LinkTarget, rules.UserID, now); err != nil {
			return nodeRow{}, err
		}
	}
	if err := touchDir(ctx, t, old.LibraryID, old.SpaceID, old.ParentInode, 0, 0, now); err != nil {
		return nodeRow{}, err
	}
	// The returned row, read once the writes above are done, must show the version keepVersion
	// gave the node.
	out, err := nodeByInode(ctx, t, old.LibraryID, old.SpaceID, old.Inode)
	if err != nil {
		return nodeRow{}, err
	}
	return out, growTree(ctx, t, old.LibraryID, old.SpaceID, old.ParentInode, app.TreeTotals{Size: f.Size - old.Size})
}

// repointLinks points the symlinks at from to to; the change feed gets a FILE.MODIFY for each
// live one (its linkTo changed).
func repointLinks(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, from, to int64, userID string, now time.Time) error {
	links, err := queryInodes(ctx, t, `UPDATE nodes SET link_target = ?
		WHERE link_target = ? AND library_id = ? AND space_id = ? AND deleted_at IS NULL RETURNING inode`, to, from, libraryID, spaceID)
	if err != nil {
		return wrap("repoint symlinks", err)
	}
	for _, l := range links {
		// A link inside a deleted directory is not in the live tree: its directory's restore
		// will announce it as it is then.
		if _, err := pathOf(ctx, t, libraryID, spaceID, l); errors.Is(err, app.ErrNodeNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := recordChange(ctx, t, libraryID, spaceID, now, change{kind: app.EventFileModify, inode: l, userID: userID,
			extra: map[string]any{"oldSize": 0, "newSize": 0, "oldEtag": ""}}); err != nil {
			return err
		}
	}
	return nil
}

// deleteLinksTo deletes the live symlinks pointing at n or, when n is a directory, at a file
// under it (3.12, 3.15: deleting a target deletes its links), and answers how many. They join
// n's deletion (deleted_root = n), so they go to the bin and come back with it; their
// directories and the counters record the removal. n's own row is already marked deleted.
//
// For a directory the candidates are the space's live links (nodes_links_by_space; links are
// few) whose target's parent chain reaches n, so the cost does not grow with n's subtree. A
// candidate that is not itself reachable (it lies inside n, or inside another deleted entry)
// is left alone: it is not live, and it goes or comes back with the entry holding it.
//
// Each link deleted gets an event like c, n's own.
func deleteLinksTo(ctx context.Context, t *sqldb.Tx, n nodeRow, c change, now time.Time) (int64, error) {
	lib, space := n.LibraryID, n.SpaceID
	q, args := `SELECT inode, parent_inode FROM nodes WHERE link_target = ? AND link_target IS NOT NULL
		AND library_id = ? AND space_id = ? AND deleted_at IS NULL`, []any{n.Inode, lib, space}
	if n.isDir() {
		q = `WITH RECURSIVE up(link, parent, cur) AS (
				SELECT inode, parent_inode, link_target FROM nodes
				WHERE library_id = ? AND space_id = ? AND link_target IS NOT NULL AND deleted_at IS NULL
			UNION ALL
				SELECT up.link, up.parent, d.parent_inode FROM up CROSS JOIN nodes d
				WHERE d.inode = up.cur AND up.cur <> ? AND d.parent_inode <> 0
			) SELECT link, parent FROM up WHERE cur = ?`
		args = []any{lib, space, n.Inode, n.Inode}
	}
	type link struct{ inode, parent int64 }
	var cands []link
	rows, err := t.Query(ctx, q, args...)
	if err != nil {
		return 0, wrap("delete symlinks", err)
	}
	for rows.Next() {
		var l link
		if err := rows.Scan(&l.inode, &l.parent); err != nil {
			rows.Close()
			return 0, wrap("delete symlinks", err)
		}
		cands = append(cands, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, wrap("delete symlinks", err)
	}
	live := map[int64]bool{}
	perParent := map[int64]int64{}
	var total int64
	for _, l := range cands {
		ok, seen := live[l.parent]
		if !seen {
			_, err := pathOf(ctx, t, lib, space, l.parent)
			if err != nil && !errors.Is(err, app.ErrNodeNotFound) {
				return 0, err
			}
			ok = err == nil
			live[l.parent] = ok
		}
		if !ok {
			continue
		}
		if _, err := t.Exec(ctx, "UPDATE nodes SET deleted_at = ?, deleted_root = ? WHERE inode = ?",
			millis(now), n.Inode, l.inode); err != nil {
			return 0, wrap("delete symlinks", err)
		}
		c.inode = l.inode
		if err := recordChange(ctx, t, lib, space, now, c); err != nil {
			return 0, err
		}
		perParent[l.parent]++
		total++
	}
	for parent, k := range perParent {
		if err := touchDir(ctx, t, lib, space, parent, 0, -k, now); err != nil {
			return 0, err
		}
		if err := growTree(ctx, t, lib, space, parent, app.TreeTotals{Files: -k}); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// CreateFile makes a file entry at path (3.4 confirm, through the use case CommitFile); see
// app.Store. f supplies type (file, image or video; "" = file), size, content, blob, category and
// client attributes.
func (s *SQL) CreateFile(ctx context.Context, libraryID, spaceID string, path []string, f app.Node,
	strategy app.Conflict, rules app.WriteRules, now time.Time,
) (app.Placed, error) {
	return s.CommitUpload(ctx, libraryID, spaceID, path, f, strategy, "", rules, now)
}

// CommitUpload is CreateFile keyed by the upload it commits: with a non-empty uploadID, a repeat
// answers the entry the first commit made (at its path now) instead of placing another.
func (s *SQL) CommitUpload(ctx context.Context, libraryID, spaceID string, path []string, f app.Node,
	strategy app.Conflict, uploadID string, rules app.WriteRules, now time.Time,
) (app.Placed, error) {
	if len(path) == 0 {
		return app.Placed{}, app.ErrNameTaken
	}
	switch f.Type {
	case "":
		f.Type = app.TypeFile
	case app.TypeDir, app.TypeSymlink:
		return app.Placed{}, errors.New("store: CreateFile makes files, not directories or symlinks")
	}
	f.LinkTarget = 0
	var out app.Placed
	err := s.writeFor(strategy)(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		if uploadID != "" {
			var (
				inode       int64
				overwritten int
			)
			err := t.QueryRow(ctx, `SELECT inode, overwritten FROM committed_uploads
				WHERE upload_id = ? AND library_id = ? AND space_id = ?`, uploadID, libraryID, spaceID).Scan(&inode, &overwritten)
			switch {
			case err == nil:
				n, err := nodeByInode(ctx, t, libraryID, spaceID, inode)
				if err != nil {
					return err
				}
				p, err := pathOf(ctx, t, libraryID, spaceID, inode)
				out = app.Placed{Node: n.Node, Path: p, Overwritten: overwritten != 0}
				return err
			case !errors.Is(err, sql.ErrNoRows):
				return wrap("commit lookup", err)
			}
		}
		parent, p, err := placeFile(ctx, t, libraryID, spaceID, path, strategy)
		if err != nil {
			return err
		}
		if p.replace != nil && p.replace.Type == app.TypeVirtual && f.Type != app.TypeVirtual {
			return app.ErrVirtualFile // an upload into a virtual file (3.17)
		}
		row, err := writeFile(ctx, t, libraryID, spaceID, parent, p, f, rules, now)
		if err != nil {
			return err
		}
		out = app.Placed{Node: row.Node, Path: p.pathIn(path), Overwritten: p.replace != nil}
		if err := checkQuota(ctx, t, libraryID, spaceID, f.Size, rules); err != nil {
			return err
		}
		if uploadID == "" {
			return nil
		}
		_, err = t.Exec(ctx, `INSERT INTO committed_uploads (upload_id, library_id, space_id, inode, overwritten, committed_at)
			VALUES (?, ?, ?, ?, ?, ?)`, uploadID, libraryID, spaceID, row.Inode, overwrittenFlag(out.Overwritten), millis(now))
		return wrap("record commit", err)
	})
	if err != nil {
		return app.Placed{}, err
	}
	return out, nil
}

// DeleteFile deletes the file or symlink at path and the symlinks pointing at it (3.12), as
// DeleteTree deletes an entry; a directory is ErrIsDirectory.
func (s *SQL) DeleteFile(ctx context.Context, libraryID, spaceID string, path []string, rules app.WriteRules, now time.Time) (app.Deleted, error) {
	return s.deleteAt(ctx, libraryID, spaceID, path, true, rules, now)
}

// copyFileTo places a copy of the file or symlink src under parent as p says: a new row
// sharing src's blob (or, for a link, its target), or src's content over the file p replaces.
// Copying a file onto itself changes nothing.
// The change feed gets FILE.COPY, or FILE.COPY_OVERWRITE naming the replaced content.
func copyFileTo(ctx context.Context, t *sqldb.Tx, src nodeRow, parent int64, p placement, rules app.WriteRules, now time.Time) (nodeRow, error) {
	content := fileContent(src.Node)
	var (
		row nodeRow
		err error
	)
	c := change{kind: app.EventFileCopy, userID: rules.UserID, extra: map[string]any{"sourceInode": strconv.FormatInt(src.Inode, 10)}}
	switch {
	case p.replace == nil:
		row, err = insertFile(ctx, t, src.LibraryID, src.SpaceID, parent, p.name, content, now)
	case p.replace.Inode == src.Inode:
		return src, nil
	default:
		row, err = replaceInPlace(ctx, t, *p.replace, content, rules, now)
		c.kind, c.extra = app.EventFileCopyOverwrite, overwritten(*p.replace, c.extra)
	}
	if err != nil {
		return nodeRow{}, err
	}
	c.inode = row.Inode
	return row, recordChange(ctx, t, src.LibraryID, src.SpaceID, now, c)
}

// CopyFile copies a file or symlink (3.13); see app.Store.
func (s *SQL) CopyFile(ctx context.Context, libraryID, spaceID string, from, to []string,
	strategy app.Conflict, rules app.WriteRules, now time.Time,
) (app.Placed, error) {
	if len(to) == 0 {
		return app.Placed{}, app.ErrNameTaken
	}
	var out app.Placed
	err := s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		src, err := sourceFile(ctx, t, libraryID, spaceID, from)
		if err != nil {
			return err
		}
		parent, p, err := placeFile(ctx, t, libraryID, spaceID, to, strategy)
		if err != nil {
			return err
		}
		row, err := copyFileTo(ctx, t, src, parent.Inode, p, rules, now)
		if err != nil {
			return err
		}
		out = app.Placed{Node: row.Node, Path: p.pathIn(to), Overwritten: p.replace != nil && p.replace.Inode != src.Inode}
		return checkQuota(ctx, t, libraryID, spaceID, src.Size, rules)
	})
	if err != nil {
		return app.Placed{}, err
	}
	return out, nil
}

// replaceByMove removes the file old that a moved entry src replaces (overwrite): old's links
// follow to src's final target first, so they survive old's deletion.
func replaceByMove(ctx context.Context, t *sqldb.Tx, old, src nodeRow, rules app.WriteRules, now time.Time) error {
	if src.IsSymlink() && src.LinkTarget == old.Inode {
		return app.ErrSymlinkOverwrite
	}
	if err := repointLinks(ctx, t, old.LibraryID, old.SpaceID, old.Inode, finalTarget(src), rules.UserID, now); err != nil {
		return err
	}
	if rules.KeepVersions > 0 && !src.IsSymlink() && !old.IsSymlink() {
		// With history on the replaced content is not deleted: it becomes the moved file's
		// newest version (docs/lifecycle.md), and old's row goes for good with nothing to keep.
		if err := keepVersion(ctx, t, old, src.Inode, rules, now); err != nil {
			return err
		}
		rules.Recycle = false
	}
	_, err := deleteEntry(ctx, t, old, rules, now)
	return err
}

// MoveFile renames or moves a file or symlink (3.14); see app.Store.
func (s *SQL) MoveFile(ctx context.Context, libraryID, spaceID string, from, to []string,
	strategy app.Conflict, rules app.WriteRules, now time.Time,
) (app.Placed, error) {
	if len(to) == 0 {
		return app.Placed{}, app.ErrNameTaken
	}
	var out app.Placed
	err := s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		src, err := sourceFile(ctx, t, libraryID, spaceID, from)
		if err != nil {
			return err
		}
		if slices.Equal(from, to) {
			out = app.Placed{Node: src.Node, Path: slices.Clone(from)}
			return nil
		}
		parent, p, err := placeFile(ctx, t, libraryID, spaceID, to, strategy)
		if err != nil {
			return err
		}
		if p.replace != nil {
			if err := replaceByMove(ctx, t, *p.replace, src, rules, now); err != nil {
				return err
			}
		}
		row, err := scanNode(t.QueryRow(ctx, "UPDATE nodes SET parent_inode = ?, name = ? WHERE inode = ? RETURNING "+nodeColumns,
			parent.Inode, p.name, src.Inode))
		if sqldb.IsUniqueViolation(err) {
			return app.ErrNameTaken
		}
		if err != nil {
			return wrap("move file", err)
		}
		out = app.Placed{Node: row.Node, Path: p.pathIn(to), Overwritten: p.replace != nil}
		if err := relocate(ctx, t, src, parent.Inode, now); err != nil {
			return err
		}
		return recordMove(ctx, t, src, parent.Inode, p.replace, rules.UserID, now)
	})
	if err != nil {
		return app.Placed{}, err
	}
	return out, nil
}

// CreateSymlink makes a symlink (3.15); see app.Store.
func (s *SQL) CreateSymlink(ctx context.Context, libraryID, spaceID string, path, target []string,
	strategy app.Conflict, userID string, rules app.WriteRules, now time.Time,
) (app.Placed, error) {
	if len(path) == 0 {
		return app.Placed{}, app.ErrNameTaken
	}
	var out app.Placed
	err := s.writeFor(strategy)(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
		tgt, err := sourceFile(ctx, t, libraryID, spaceID, target)
		if err != nil {
			return err
		}
		if tgt.IsSymlink() {
			if tgt, err = nodeByInode(ctx, t, libraryID, spaceID, tgt.LinkTarget); err != nil {
				return app.ErrSourceMissing // a dangling link; the invariant says there is none
			}
		}
		if tgt.Type == app.TypeVirtual {
			return app.ErrVirtualFile // a symlink may not point at a virtual file (3.17)
		}
		parent, p, err := placeFile(ctx, t, libraryID, spaceID, path, strategy)
		if err != nil {
			return err
		}
		link := app.Node{Type: app.TypeSymlink, UserID: userID, LinkTarget: tgt.Inode}
		row, err := writeFile(ctx, t, libraryID, spaceID, parent, p, link, rules, now)
		out = app.Placed{Node: row.Node, Path: p.pathIn(path), Overwritten: p.replace != nil}
		return err
	})
	if err != nil {
		return app.Placed{}, err
	}
	return out, nil
}

// ResolveFile answers the file at path, a symlink followed to its target (3.8-3.11).
func (s *SQL) ResolveFile(ctx context.Context, libraryID, spaceID string, path []string) (app.Resolved, error) {
	var out app.Resolved
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		out, err = resolveFile(ctx, t, libraryID, spaceID, path)
		return err
	})
	if err != nil {
		return app.Resolved{}, err
	}
	return out, nil
}

func resolveFile(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, path []string) (app.Resolved, error) {
	n, err := lookupPath(ctx, t, libraryID, spaceID, path)
	if err != nil {
		return app.Resolved{}, err
	}
	if n.isDir() {
		return app.Resolved{}, app.ErrIsDirectory
	}
	if !n.IsSymlink() {
		return app.Resolved{Node: n.Node, Path: slices.Clone(path)}, nil
	}
	tgt, err := nodeByInode(ctx, t, libraryID, spaceID, n.LinkTarget)
	if err != nil {
		return app.Resolved{}, err
	}
	tp, err := pathOf(ctx, t, libraryID, spaceID, tgt.Inode)
	if err != nil {
		return app.Resolved{}, err
	}
	return app.Resolved{Node: tgt.Node, Path: tp, LinkPath: slices.Clone(path)}, nil
}

// ResolveFileInSpace reads the space and the file at path; see app.Store. A download is the
// common case: a space that exists and a path that names a file, not a symlink, a few levels
// deep. That is one statement (spaceFileQuery), without a transaction's setup. Anything else
// (no row, a symlink to follow, a deeper path) is read step by step in one read transaction,
// which answers which part is missing as GetSpace and ResolveFile do.
func (s *SQL) ResolveFileInSpace(ctx context.Context, libraryID, spaceID string, path []string) (app.SpaceFile, error) {
	var out app.SpaceFile
	if q, ok := spaceFileQuery(len(path)); ok {
		args := chainArgs(libraryID, spaceID, path, libraryID, spaceID)
		var found bool
		err := s.db.InStatements(ctx, func(t *sqldb.Tx) error {
			var sp spaceFields
			n, err := scanNode(leading{sc: t.QueryRow(ctx, q, args...), first: sp.dests()})
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return wrap("resolve in space", err)
			}
			if out.Space, err = sp.space(); err != nil {
				return wrap("resolve in space", err)
			}
			found = true
			switch {
			case n.isDir():
				out.FileErr = app.ErrIsDirectory
			case n.IsSymlink():
				found = false // its target and the target's path: the read below
			default:
				out.File = app.Resolved{Node: n.Node, Path: slices.Clone(path)}
			}
			return nil
		})
		if err != nil || found {
			return out, err
		}
	}
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		sp, err := getSpace(ctx, t, libraryID, spaceID, false)
		if err != nil {
			return err
		}
		out = app.SpaceFile{Space: sp}
		out.File, out.FileErr = resolveFile(ctx, t, libraryID, spaceID, path)
		if out.FileErr != nil && !isFileAnswer(out.FileErr) {
			return out.FileErr // a failed read, not an answer about the path
		}
		return nil
	})
	if err != nil {
		return app.SpaceFile{}, err
	}
	return out, nil
}

// isFileAnswer tells whether err, from resolveFile, says what the path holds (nothing, a
// directory, a file on the way) rather than that the read failed.
func isFileAnswer(err error) bool {
	return errors.Is(err, app.ErrNodeNotFound) || errors.Is(err, app.ErrIsDirectory) || errors.Is(err, app.ErrNotDirectory)
}

// maxSpaceFileDepth is the deepest path spaceFileQuery resolves in one statement. Each level is
// a nested scalar subquery, and SQLite bounds an expression's depth (1,000, about 30 levels of
// these); a deeper path is walked level by level instead.
const maxSpaceFileDepth = 16

// spaceFileQueries holds spaceFileQuery's statement of each depth, so a download builds no string.
var spaceFileQueries = func() []string {
	qs := make([]string, maxSpaceFileDepth+1)
	for depth := 1; depth <= maxSpaceFileDepth; depth++ {
		qs[depth] = buildSpaceFileQuery(depth)
	}
	return qs
}()

// spaceFileQuery answers the one statement that reads a space (spaceColumns) and the live entry
// at a path of depth names (nodeColumns); its arguments are library id, space id and name for
// each level from the deepest up to the root, then library id and space id. No row: no space, or nothing live at
// the path. ok is false for an empty path or one deeper than maxSpaceFileDepth.
func spaceFileQuery(depth int) (q string, ok bool) {
	if depth < 1 || depth > maxSpaceFileDepth {
		return "", false
	}
	return spaceFileQueries[depth], true
}

// liveChain is the expression of the inode at the end of a path depth names long below the inode
// root: each level the live child by name, a scalar subquery taking library id, space id and
// name, the deepest level's arguments first.
func liveChain(depth int, root string) string {
	inode := root
	for range depth {
		inode = `(SELECT inode FROM nodes WHERE library_id = ? AND space_id = ? AND name = ? AND deleted_at IS NULL
			AND parent_inode = ` + inode + `)`
	}
	return inode
}

// buildSpaceFileQuery writes spaceFileQuery's statement. Each level is the inode of a live child
// by name, a scalar subquery on constants that both planners answer from the unique index
// nodes_live_name whatever their statistics; the entry itself is then a primary-key lookup. A
// file has no children, so a path through a file finds nothing, as a missing name does.
func buildSpaceFileQuery(depth int) string {
	return "SELECT " + spaceColumnsOf("sp") + ", " + nodeColumnsOf("n") + ` FROM spaces sp
		JOIN nodes n ON n.inode = ` + liveChain(depth, "0") + `
		WHERE sp.library_id = ? AND sp.space_id = ?`
}

// NodeByInode answers a live entry by inode and its path (3.16 inode info).
func (s *SQL) NodeByInode(ctx context.Context, libraryID, spaceID string, inode int64) (app.Node, []string, error) {
	if inode <= 0 {
		return app.Node{}, nil, app.ErrNodeNotFound // the root is not an entry
	}
	var (
		n    nodeRow
		path []string
	)
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		if n, err = nodeByInode(ctx, t, libraryID, spaceID, inode); err != nil {
			return err
		}
		path, err = pathOf(ctx, t, libraryID, spaceID, inode)
		return err
	})
	if err != nil {
		return app.Node{}, nil, err
	}
	return n.Node, path, nil
}

// FirstMedia answers dir's first image or video by creation time, then inode (4.8): an index
// range scan of nodes_list_ctime.
func (s *SQL) FirstMedia(ctx context.Context, libraryID, spaceID string, dir int64) (app.Node, error) {
	var n nodeRow
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		n, err = scanNode(t.QueryRow(ctx, "SELECT "+nodeColumns+` FROM nodes
			WHERE library_id = ? AND space_id = ? AND parent_inode = ? AND is_dir = 0 AND deleted_at IS NULL
			AND type IN ('image', 'video') ORDER BY created_at, inode LIMIT 1`, libraryID, spaceID, dir))
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrNodeNotFound
		}
		return wrap("first media", err)
	})
	if err != nil {
		return app.Node{}, err
	}
	return n.Node, nil
}

// referencedBatch bounds the placeholders of one ReferencedBlobs query.
const referencedBatch = 500

// ReferencedBlobs answers which of blobIDs any row, live or soft-deleted, names (nodes_by_blob).
// Rows leave only when purged, so a blob stays referenced while a deleted entry could still be
// restored.
func (s *SQL) ReferencedBlobs(ctx context.Context, blobIDs []string) ([]string, error) {
	var out []string
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		for start := 0; start < len(blobIDs); start += referencedBatch {
			batch := blobIDs[start:min(start+referencedBatch, len(blobIDs))]
			args := make([]any, len(batch))
			for i, id := range batch {
				args[i] = id
			}
			// "blob_id <> ''" repeats the partial index's condition so both planners use it.
			rows, err := t.Query(ctx, `SELECT DISTINCT blob_id FROM nodes WHERE blob_id <> '' AND blob_id IN (?`+
				strings.Repeat(", ?", len(batch)-1)+`)`, args...)
			if err != nil {
				return wrap("referenced blobs", err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return wrap("referenced blobs", err)
				}
				out = append(out, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return wrap("referenced blobs", err)
			}
			kept, err := versionBlobs(ctx, t, args)
			if err != nil {
				return err
			}
			out = append(out, kept...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// pathOf answers the path of a live inode by walking its parents; the root (0) is the empty
// path. ErrNodeNotFound when the inode, or any ancestor, is gone.
func pathOf(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, inode int64) ([]string, error) {
	var path []string
	for cur, depth := inode, 0; cur != 0; depth++ {
		if depth > maxDepth {
			return nil, errTooDeep
		}
		var (
			parent int64
			name   string
		)
		err := t.QueryRow(ctx, `SELECT parent_inode, name FROM nodes
			WHERE inode = ? AND library_id = ? AND space_id = ? AND deleted_at IS NULL`,
			cur, libraryID, spaceID).Scan(&parent, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, app.ErrNodeNotFound
		}
		if err != nil {
			return nil, wrap("path", err)
		}
		path = append(path, name)
		cur = parent
	}
	slices.Reverse(path)
	return path, nil
}

// overwrittenFlag stores a commit's overwrite as 0/1, the same on both engines.
func overwrittenFlag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeFor picks the transaction of an entry-adding call: a create runs beside other creates
// (inCreate); an overwrite replaces an entry, whose old size moves the counters, and so holds
// the space exclusively (inWrite).
func (s *SQL) writeFor(strategy app.Conflict) func(context.Context, string, string, func(*sqldb.Tx) error) error {
	if strategy == app.ConflictOverwrite {
		return s.inWrite
	}
	return s.inCreate
}

// DestinationInSpace reads the space and what an upload to path finds; see app.Store. A begin is
// the common case: a space that exists, a parent directory a few levels deep, a free name. That
// is one statement (destinationQuery) without a transaction's setup. Anything else (no space, a
// parent missing, a file or deeper, a taken name whose entry the caller needs whole) is read step
// by step in one read transaction, as GetSpace and Lookup read it.
func (s *SQL) DestinationInSpace(ctx context.Context, libraryID, spaceID string, path []string) (app.SpaceDestination, error) {
	var out app.SpaceDestination
	if q, ok := destinationQuery(len(path)); ok {
		args := chainArgs(libraryID, spaceID, path[:len(path)-1], libraryID, spaceID, path[len(path)-1], libraryID, spaceID)
		found := false
		err := s.db.InStatements(ctx, func(t *sqldb.Tx) error {
			var (
				sp         spaceFields
				parent     sql.NullInt64
				parentType sql.NullString
				existing   sql.NullInt64
			)
			err := t.QueryRow(ctx, q, args...).Scan(append(sp.dests(), &parent, &parentType, &existing)...)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return nil
			case err != nil:
				return wrap("upload destination", err)
			case !parent.Valid || existing.Valid || (parent.Int64 != 0 && parentType.String != string(app.TypeDir)):
				return nil // a name missing or a file on the way, or a taken name: the reads below
			}
			if out.Space, err = sp.space(); err != nil {
				return wrap("upload destination", err)
			}
			found = true
			out.ExistingErr = app.ErrNodeNotFound
			return nil
		})
		if err != nil || found {
			return out, err
		}
	}
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		sp, err := getSpace(ctx, t, libraryID, spaceID, false)
		if err != nil {
			return err
		}
		out = app.SpaceDestination{Space: sp}
		n, err := lookupPath(ctx, t, libraryID, spaceID, path)
		out.Existing, out.ExistingErr = n.Node, err
		if !errors.Is(err, app.ErrNodeNotFound) {
			return answerOrFailure(err)
		}
		parent, err := lookupPath(ctx, t, libraryID, spaceID, path[:len(path)-1])
		switch {
		case err != nil:
			out.ParentErr = err
			return answerOrFailure(err)
		case !parent.isDir():
			out.ParentErr = app.ErrNotDirectory
		}
		return nil
	})
	if err != nil {
		return app.SpaceDestination{}, err
	}
	return out, nil
}

// answerOrFailure passes a read's failure and swallows lookupPath's answers about a path (see
// isFileAnswer), which DestinationInSpace hands to its caller in the answer.
func answerOrFailure(err error) error {
	if err == nil || isFileAnswer(err) {
		return nil
	}
	return err
}

// destinationQueries holds destinationQuery's statement for each path length.
var destinationQueries = func() []string {
	qs := make([]string, maxSpaceFileDepth+2)
	for n := 1; n <= maxSpaceFileDepth+1; n++ {
		qs[n] = buildDestinationQuery(n - 1)
	}
	return qs
}()

// destinationQuery answers the statement that reads a space (spaceColumns), the inode and type of
// the parent of a path of n names (NULL when a name on the way is missing; 0 for the root) and the
// inode of the live entry at the path (NULL when the name is free). Its arguments are library id,
// space id and name for each level of the parent from the deepest up, then library id, space id
// and the last name, then library id and space id. ok is false for an empty path or a parent
// deeper than maxSpaceFileDepth.
func destinationQuery(n int) (q string, ok bool) {
	if n < 1 || n > maxSpaceFileDepth+1 {
		return "", false
	}
	return destinationQueries[n], true
}

// buildDestinationQuery writes destinationQuery's statement for a parent depth levels deep: the
// parent is spaceFileQuery's chain of live children by name (index nodes_live_name), the entry one
// more lookup in the same index.
func buildDestinationQuery(depth int) string {
	return `WITH par (inode) AS (SELECT ` + liveChain(depth, "CAST(0 AS BIGINT)") + `)
		SELECT ` + spaceColumnsOf("sp") + `, par.inode, pn.type,
			(SELECT e.inode FROM nodes e WHERE e.library_id = ? AND e.space_id = ? AND e.name = ? AND e.deleted_at IS NULL
				AND e.parent_inode = par.inode)
		FROM spaces sp CROSS JOIN par LEFT JOIN nodes pn ON pn.inode = par.inode
		WHERE sp.library_id = ? AND sp.space_id = ?`
}
