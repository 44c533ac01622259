package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Batch delete (SMH API 10.1, docs/batch.md): the items of a batch are deleted in chunks of
// deleteChunk per transaction instead of one transaction each, which is what makes a 1,000-item
// batch several times faster than 1,000 single deletes (a commit, and on SQLite its fsync, per
// chunk, and the item's kind read in the same transaction). Each item is still deleted exactly
// as DeleteFile or DeleteTree deletes it (deleteEntry) and answers its own outcome.

// deleteChunk is how many items one transaction deletes: large enough to share a commit, small
// enough that other writers of the space wait for a short transaction only.
const deleteChunk = 100

// DeleteEntries deletes each request's entry as DeleteFile or DeleteTree does, by the kind it
// finds; see app.BatchStore.
func (s *SQL) DeleteEntries(ctx context.Context, libraryID, spaceID string, reqs []app.DeleteRequest, now time.Time) []app.DeleteOutcome {
	out := make([]app.DeleteOutcome, len(reqs))
	for start := 0; start < len(reqs); start += deleteChunk {
		chunk := reqs[start:min(len(reqs), start+deleteChunk)]
		res := out[start : start+len(chunk)]
		err := s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
			clear(res)
			paths := chunkPaths{dirs: map[string]nodeRow{}}
			var acc deleteAcc
			for i, r := range chunk {
				var err error
				if res[i], err = deleteRequested(ctx, t, &paths, &acc, libraryID, spaceID, r, now); err != nil {
					return err // the chunk rolls back and its items run one by one below
				}
			}
			return acc.flush(ctx, t, libraryID, spaceID, now)
		})
		if err == nil {
			continue
		}
		// One item's failure must not fail its neighbours: each runs alone, as its single call
		// would.
		for i, r := range chunk {
			err := s.inWrite(ctx, libraryID, spaceID, func(t *sqldb.Tx) error {
				var acc deleteAcc
				var err error
				res[i], err = deleteRequested(ctx, t, &chunkPaths{dirs: map[string]nodeRow{}}, &acc, libraryID, spaceID, r, now)
				if err != nil {
					return err
				}
				return acc.flush(ctx, t, libraryID, spaceID, now)
			})
			if err != nil {
				res[i] = app.DeleteOutcome{IsDir: res[i].IsDir, Err: err}
			}
		}
	}
	return out
}

// deleteRequested deletes one request's entry in t, leaving what it owes its parents in acc
// (deleteEntryAcc; acc is flushed here first when the entry is a directory, whose own row the
// pending changes may concern): an outcome for what the item answers (its
// entry missing, its kind's check failed, or deleted), an error for a failure of the
// transaction itself.
func deleteRequested(ctx context.Context, t *sqldb.Tx, paths *chunkPaths, acc *deleteAcc, libraryID, spaceID string, r app.DeleteRequest, now time.Time) (app.DeleteOutcome, error) {
	if len(r.Path) == 0 {
		return app.DeleteOutcome{IsDir: true, Err: errRootNotEntry}, nil
	}
	n, err := paths.lookup(ctx, t, libraryID, spaceID, r.Path)
	if errors.Is(err, app.ErrNodeNotFound) || errors.Is(err, app.ErrNotDirectory) {
		// Nothing there: the file call's checks come before its lookup, so they answer first.
		if r.FileErr != nil {
			err = r.FileErr
		}
		return app.DeleteOutcome{Err: err}, nil
	}
	if err != nil {
		return app.DeleteOutcome{}, err
	}
	rules, kindErr := r.FileRules, r.FileErr
	if n.isDir() {
		rules, kindErr = r.DirRules, r.DirErr
	}
	if kindErr != nil {
		return app.DeleteOutcome{IsDir: n.isDir(), Err: kindErr}, nil
	}
	if n.isDir() {
		paths.forget() // the directories under it are no longer reachable
		acc.forgetPaths()
		if acc.pending() {
			// n was read before the pending changes reached its row (its child counts, its
			// subtree totals): apply them and read it again.
			if err := acc.flush(ctx, t, libraryID, spaceID, now); err != nil {
				return app.DeleteOutcome{}, err
			}
			if n, err = nodeByInode(ctx, t, libraryID, spaceID, n.Inode); err != nil {
				return app.DeleteOutcome{}, err
			}
		}
	}
	id, err := deleteEntryAcc(ctx, t, n, rules, deletion{}, acc, now)
	if err != nil {
		return app.DeleteOutcome{}, err
	}
	return app.DeleteOutcome{Deleted: app.Deleted{Node: n.Node, RecycledID: id}, IsDir: n.isDir()}, nil
}

// chunkPaths resolves the paths of one chunk's items inside its transaction as lookupPath does,
// keeping the parent directories it found: a batch's items mostly share parents, and nothing
// but this transaction changes the space meanwhile (SQLite's single writer; the space's lock on
// PostgreSQL). Only an item's Inode and kind are read from a kept directory.
type chunkPaths struct {
	dirs map[string]nodeRow
}

func (c *chunkPaths) lookup(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, path []string) (nodeRow, error) {
	parentPath := path[:len(path)-1]
	key := strings.Join(parentPath, "/") // names never hold "/" (decision 6)
	parent, ok := c.dirs[key]
	if !ok {
		var err error
		if parent, err = lookupPath(ctx, t, libraryID, spaceID, parentPath); err != nil {
			return nodeRow{}, err
		}
		if parent.isDir() {
			c.dirs[key] = parent
		}
	}
	if !parent.isDir() {
		return nodeRow{}, app.ErrNotDirectory
	}
	return childByName(ctx, t, libraryID, spaceID, parent.Inode, path[len(path)-1])
}

// forget drops every kept directory: a directory of the space was deleted.
func (c *chunkPaths) forget() { clear(c.dirs) }
