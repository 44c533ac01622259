package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/filetype"
)

// Batch copy, move and delete (SMH API section 10, decisions 7 and 17, docs/batch.md). Every
// item runs the single call's own checks and use case on the batch's opened space
// (fileDelete and directoryDelete, then the store's chunked DeleteEntries; transferFileAt,
// copyDirectoryAt, moveDirectoryAt), so it answers exactly what that call would: the same
// grants, conflict defaults, recycle bin, versions and quota.
// Items are independent; results keep request order. A batch of more than the async threshold
// runs as a task of kind batchCopy, batchMove or batchDelete.

// BatchOp is one of the three batch operations, the flag of the request (10).
type BatchOp string

const (
	BatchCopy   BatchOp = "copy"
	BatchMove   BatchOp = "move"
	BatchDelete BatchOp = "delete"
)

// Task kinds of the batch operations (7.3's taskType). The names are stored; never rename one.
const (
	TaskBatchCopy   = "batchCopy"
	TaskBatchMove   = "batchMove"
	TaskBatchDelete = "batchDelete"
)

// MaxBatchItems is the most items one batch body may name (TooManyItems beyond it,
// docs/batch.md).
const MaxBatchItems = 1000

// batchKinds maps each operation to its task kind.
var batchKinds = map[BatchOp]string{BatchCopy: TaskBatchCopy, BatchMove: TaskBatchMove, BatchDelete: TaskBatchDelete}

// batchGrants are the grants that let a caller into a batch at all: any grant one of its items
// could use. Each item then needs the grants of its own kind, as the single call does.
var batchGrants = map[BatchOp][]string{
	BatchCopy:   {authz.Admin, authz.SpaceAdmin, authz.CopyFile, authz.CopyFileForce, authz.CopyDirectory},
	BatchMove:   {authz.Admin, authz.SpaceAdmin, authz.MoveFile, authz.MoveFileForce, authz.MoveDirectory},
	BatchDelete: {authz.Admin, authz.SpaceAdmin, authz.DeleteFile, authz.DeleteFilePermanent, authz.DeleteDirectory, authz.DeleteDirectoryPermanent},
}

// BatchItem is one item of a batch body as the client sent it. Paths are raw (percent-decoded
// JSON strings, relative to the space root).
type BatchItem struct {
	// Path and Permanent: a delete item (10.1).
	Path      string `json:"path,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
	// From and To: a copy (copyFrom, to) or move (from, to) item (10.2, 10.3).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Strategy is conflictResolutionStrategy; "" takes the single call's default: ask for a
	// directory, rename for a file (decision 17).
	Strategy string `json:"strategy,omitempty"`
	// FromSpaceID is copyFromSpaceId or fromSpaceId: the source's space when not the batch's.
	FromSpaceID string `json:"fromSpaceId,omitempty"`
	// FromLibraryID is copyFromLibraryId: accepted when it names the batch's library.
	FromLibraryID string `json:"fromLibraryId,omitempty"`
	// MoveAuthority is accepted and echoed; OpenSMH has no ACL layer whose roles it would move
	// (12.8).
	MoveAuthority *bool `json:"moveAuthority,omitempty"`
}

// BatchResult is the outcome of one item.
type BatchResult struct {
	Item BatchItem
	// Status is the item's success status: 200 (binned; copied or moved under rename) or 204
	// (deleted for good; copied or moved under ask or overwrite). Unset when Err is set.
	Status int
	// Path is the final path of a copy or move under rename, and the deleted path of a delete.
	Path []string
	// RecycledID is the bin item of a binned delete.
	RecycledID int64
	Err        error
}

// Batch is a batch's answer: every item in request order, or the task that runs them.
type Batch struct {
	Op      BatchOp
	Results []BatchResult
	TaskID  int32
}

// ParseBatchItems reads a batch body as encoding/json or structpb decode it: a JSON array of 1 to
// MaxBatchItems objects whose keys op reads (others are ignored). A wrong type, a missing
// required path or an unknown strategy rejects the whole body, before any item runs
// (docs/batch.md).
func ParseBatchItems(op BatchOp, body any) ([]BatchItem, error) {
	list, ok := body.([]any)
	if !ok {
		return nil, invalid("the body must be a JSON array of %s items", op)
	}
	switch {
	case len(list) == 0:
		return nil, &InputError{Err: ErrNoItemsProvided, Reason: "the body names no item"}
	case len(list) > MaxBatchItems:
		return nil, &InputError{Err: ErrTooManyItems, Reason: "name at most " + strconv.Itoa(MaxBatchItems) + " items"}
	}
	items := make([]BatchItem, 0, len(list))
	for i, raw := range list {
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, invalid("item %d must be a JSON object", i)
		}
		f := itemFields{obj: obj, index: i}
		var it BatchItem
		switch op {
		case BatchDelete:
			it.Path = f.str("path", true)
			it.Permanent = f.boolean("permanent") != nil && *f.boolean("permanent")
		case BatchCopy:
			it.From, it.To = f.str("copyFrom", true), f.str("to", true)
			it.Strategy = f.str("conflictResolutionStrategy", false)
			it.FromSpaceID = f.str("copyFromSpaceId", false)
			it.FromLibraryID = f.str("copyFromLibraryId", false)
		case BatchMove:
			it.From, it.To = f.str("from", true), f.str("to", true)
			it.Strategy = f.str("conflictResolutionStrategy", false)
			it.FromSpaceID = f.str("fromSpaceId", false)
			it.MoveAuthority = f.boolean("moveAuthority")
		default:
			return nil, invalid("unknown batch operation")
		}
		if f.err != nil {
			return nil, f.err
		}
		switch Conflict(it.Strategy) {
		case "", ConflictAsk, ConflictRename, ConflictOverwrite:
		default:
			return nil, &InputError{Err: ErrInvalidStrategy, Reason: fmt.Sprintf("item %d: conflictResolutionStrategy must be ask, rename or overwrite", i)}
		}
		items = append(items, it)
	}
	return items, nil
}

// itemFields reads the keys of one body item, keeping the first error.
type itemFields struct {
	obj   map[string]any
	index int
	err   error
}

func (f *itemFields) str(key string, required bool) string {
	v, ok := f.obj[key]
	if !ok || v == nil {
		if required && f.err == nil {
			f.err = invalid("item %d: %s is required", f.index, key)
		}
		return ""
	}
	s, ok := v.(string)
	if !ok && f.err == nil {
		f.err = invalid("item %d: %s must be a string", f.index, key)
	}
	return s
}

func (f *itemFields) boolean(key string) *bool {
	v, ok := f.obj[key]
	if !ok || v == nil {
		return nil
	}
	b, ok := v.(bool)
	if !ok && f.err == nil {
		f.err = invalid("item %d: %s must be true or false", f.index, key)
	}
	return &b
}

// RunBatch runs a batch of op on a space (10): 200/207 with every item's result, or a task of
// more than the async threshold (decision 7). The caller needs one of the operation's grants to
// be let in (else the whole batch is NoPermission); each item then needs its own kind's grants.
func (n *Namespace) RunBatch(ctx context.Context, libraryID, spaceID string, op BatchOp, body any) (Batch, error) {
	grants, ok := batchGrants[op]
	if !ok {
		return Batch{}, invalid("unknown batch operation")
	}
	t, err := n.open(ctx, libraryID, spaceID, "", false, grants...)
	if err != nil {
		return Batch{}, err
	}
	items, err := ParseBatchItems(op, body)
	if err != nil {
		return Batch{}, err
	}
	deferred, err := n.batchDefers(ctx, t, op, items)
	if err != nil {
		return Batch{}, err
	}
	if deferred {
		id, err := n.tasks.start(ctx, libraryID, t.space.ID, batchKinds[op], func(ctx context.Context) (taskOutcome, error) {
			results, err := n.runItems(ctx, t, op, items)
			if err != nil {
				return taskOutcome{}, err
			}
			return taskOutcome{status: batchItemsStatus(results), result: storeBatchResults(results)}, nil
		})
		if err != nil {
			return Batch{}, err
		}
		return Batch{Op: op, TaskID: id}, nil
	}
	results, err := n.runItems(ctx, t, op, items)
	if err != nil {
		return Batch{}, err
	}
	return Batch{Op: op, Results: results}, nil
}

// batchDefers tells whether a batch runs as a task: more items than the batch threshold, or
// (copy) directories holding more entries than the tree threshold in all, which a single copy
// would also defer (decision 7, docs/batch.md).
func (n *Namespace) batchDefers(ctx context.Context, t target, op BatchOp, items []BatchItem) (bool, error) {
	if len(items) > n.asyncBatchThreshold {
		return true, nil
	}
	if op != BatchCopy {
		return false, nil
	}
	var total int64
	for _, it := range items {
		src, ok := n.sourceSpace(t, it)
		if !ok {
			continue // answered per item
		}
		from, isDir := n.directoryAt(ctx, src, it.From)
		if !isDir {
			continue
		}
		count, err := n.store.CountTree(ctx, src.r.lib.ID, src.space.ID, from, n.asyncTreeThreshold)
		if err != nil {
			continue // answered per item
		}
		if total += count + 1; total > n.asyncTreeThreshold {
			return true, nil
		}
	}
	return false, nil
}

// runItems runs every item in order. Only the end of ctx stops it (a task being stopped, a
// client gone); an item's own failure is its result.
func (n *Namespace) runItems(ctx context.Context, t target, op BatchOp, items []BatchItem) ([]BatchResult, error) {
	if op == BatchDelete {
		return n.deleteItems(ctx, t, items)
	}
	out := make([]BatchResult, 0, len(items))
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out = append(out, n.transferItem(ctx, t, op, it))
	}
	return out, nil
}

// DeleteRequest is one item of a batch delete as the store runs it: its path and its delete as
// a file and as a directory, each checked as that kind's single call checks it (grants, path,
// permanentGrant). The store picks the kind by what it finds at Path, in the transaction that
// deletes it; a kind whose check failed answers that error and deletes nothing.
type DeleteRequest struct {
	Path                []string
	FileRules, DirRules WriteRules
	FileErr, DirErr     error
}

// DeleteOutcome is what deleting one DeleteRequest did; IsDir tells which kind the store found.
type DeleteOutcome struct {
	Deleted
	IsDir bool
	Err   error
}

// deleteItems deletes every item as DELETE /file or /directory would (3.12, 4.5), by the kind
// of what its path holds: each item is checked as both single calls check it, then the store
// deletes them together (DeleteEntries, chunked transactions) and each answers as its kind's
// single call answers its store's errors.
func (n *Namespace) deleteItems(ctx context.Context, t target, items []BatchItem) ([]BatchResult, error) {
	out := make([]BatchResult, len(items))
	var (
		reqs  []DeleteRequest
		which []int // out's index of each request
	)
	for i, it := range items {
		out[i] = BatchResult{Item: it}
		req, err := deleteRequest(t, it)
		if err != nil {
			out[i].Err = err
			continue
		}
		reqs, which = append(reqs, req), append(which, i)
	}
	done := n.store.DeleteEntries(ctx, t.r.lib.ID, t.space.ID, reqs, n.clock.Now())
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for k, d := range done {
		res := &out[which[k]]
		res.Path = reqs[k].Path
		switch {
		case d.Err != nil && d.IsDir:
			res.Err = readable(d.Err)
		case d.Err != nil:
			res.Err = notFile(d.Err, ErrFileNotFound)
		case d.RecycledID > 0:
			res.Status, res.RecycledID = 200, d.RecycledID
		default:
			res.Status = 204
		}
	}
	return out, nil
}

// deleteRequest checks one delete item for both kinds. The root is a directory whose delete is
// refused (EmptyPath); a path that parses for neither kind answers the file call's error, as
// the file call is what a path holding no directory runs.
func deleteRequest(t target, it BatchItem) (DeleteRequest, error) {
	var req DeleteRequest
	dir, dirErr := t.at(it.Path, SplitPath, deleteDirectoryGrants...)
	if dirErr == nil {
		if len(dir.path) == 0 {
			// The root: its delete is refused whatever the grants allow (4.5).
			_, err := directoryDelete(dir, it.Permanent)
			return req, err
		}
		var d DeleteRequest
		d, req.DirErr = directoryDelete(dir, it.Permanent)
		req.Path, req.DirRules = dir.path, d.DirRules
	} else {
		req.DirErr = dirErr
	}
	file, fileErr := t.at(it.Path, SplitFilePath, deleteFileGrants...)
	if fileErr != nil {
		if req.Path == nil {
			return req, fileErr
		}
		req.FileErr = fileErr
		return req, nil
	}
	var f DeleteRequest
	f, req.FileErr = fileDelete(file, it.Permanent)
	req.Path, req.FileRules = file.path, f.FileRules
	return req, nil
}

// at answers the batch's opened space t on the item path raw, checked as open checks a single
// call: the grants of the item's kind, then the path.
func (t target) at(raw string, parse func(string, int) ([]string, error), grants ...string) (target, error) {
	if err := t.p.RequireAny(grants...); err != nil {
		return target{}, err
	}
	path, err := parse(raw, t.r.lib.MaxNameLength)
	if err != nil {
		return target{}, err
	}
	t.path = path
	return t, nil
}

// directoryAt answers raw's path and whether a directory lives there. Anything else (a file, no
// entry, a malformed path) is left to the file call, which answers it as 3.12-3.14 do.
func (n *Namespace) directoryAt(ctx context.Context, t target, raw string) ([]string, bool) {
	path, err := SplitPath(raw, t.r.lib.MaxNameLength)
	if err != nil {
		return nil, false
	}
	node, err := n.store.Lookup(ctx, t.r.lib.ID, t.space.ID, path)
	return path, err == nil && node.IsDir()
}

// transferItem copies or moves one item as PUT /file or /directory with copyFrom or from would
// (3.13, 3.14, 4.6, 4.7), by the kind of its source. A source in another space runs
// crossSpaceItem.
func (n *Namespace) transferItem(ctx context.Context, t target, op BatchOp, it BatchItem) BatchResult {
	res := BatchResult{Item: it}
	if it.FromLibraryID != "" && it.FromLibraryID != t.r.lib.ID {
		res.Err = invalid("copyFromLibraryId must name this library: copies across libraries are not supported")
		return res
	}
	if it.FromSpaceID != "" && it.FromSpaceID != t.space.ID {
		return n.crossSpaceItem(ctx, t, op, it)
	}
	var (
		c    Conflict
		path []string
		err  error
	)
	if _, isDir := n.directoryAt(ctx, t, it.From); isDir {
		grants := copyDirectoryGrants
		if op == BatchMove {
			grants = moveDirectoryGrants
		}
		var dest target
		if dest, err = t.at(it.To, SplitPath, grants...); err == nil {
			if c, err = checkDirectoryDestination(dest, it.Strategy); err == nil {
				var tr Transfer
				if op == BatchMove {
					tr, err = n.moveDirectoryAt(ctx, dest, c, it.From)
				} else {
					tr, err = n.copyDirectoryAt(ctx, dest, c, it.From, false)
				}
				path = tr.Path
			}
		}
	} else {
		ft := fileCopy
		if op == BatchMove {
			ft = fileMove
		}
		var (
			dest  target
			force bool
		)
		if dest, err = t.at(it.To, SplitFilePath, ft.grants...); err == nil {
			if c, force, err = ft.check(dest, it.Strategy); err == nil {
				path, err = n.transferFileAt(ctx, dest, c, force, it.From, op == BatchMove)
			}
		}
	}
	return transferResult(res, c, path, err)
}

// transferResult fills a copy or move item's outcome: 200 and the final path under rename, 204
// under ask or overwrite (10.2, 10.3).
func transferResult(res BatchResult, c Conflict, path []string, err error) BatchResult {
	switch {
	case err != nil:
		res.Err = err
	case c == ConflictRename:
		res.Status, res.Path = 200, path
	default:
		res.Status = 204
	}
	return res
}

// sourceSpace answers the space an item reads from: the batch's, or the one FromSpaceID names
// when the caller's token reaches it (checked again, with its errors, by crossSpaceItem).
func (n *Namespace) sourceSpace(t target, it BatchItem) (target, bool) {
	if it.FromSpaceID == "" || it.FromSpaceID == t.space.ID {
		return t, true
	}
	if t.p.RequireSpace(it.FromSpaceID) != nil {
		return target{}, false
	}
	src := t
	src.space = Space{LibraryID: t.r.lib.ID, ID: it.FromSpaceID}
	return src, true
}

// batchItemsStatus answers a finished batch task's status (7.3): 200 every item succeeded, 207
// some failed, 400 every one failed.
func batchItemsStatus(results []BatchResult) int {
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	return itemsStatus(failed, len(results))
}

// storedBatchResult is a BatchResult as a batch task stores it (tasks.result): the error by its
// name in taskFailures, so that every replica answers it as the one that ran it.
type storedBatchResult struct {
	Item       BatchItem `json:"item"`
	Status     int       `json:"status,omitempty"`
	Path       []string  `json:"path,omitempty"`
	RecycledID int64     `json:"recycledItemId,omitempty"`
	Failed     bool      `json:"failed,omitempty"`
	Failure    string    `json:"failure,omitempty"`
}

func storeBatchResults(results []BatchResult) []storedBatchResult {
	out := make([]storedBatchResult, len(results))
	for i, r := range results {
		out[i] = storedBatchResult{Item: r.Item, Status: r.Status, Path: r.Path, RecycledID: r.RecycledID}
		if r.Err != nil {
			out[i] = storedBatchResult{Item: r.Item, Path: r.Path, Failed: true, Failure: failureName(r.Err)}
		}
	}
	return out
}

// decodeBatchResults reads a batch task's stored result into t.Result ([]BatchResult).
func decodeBatchResults(t *Task, result []byte) error {
	var stored []storedBatchResult
	if err := json.Unmarshal(result, &stored); err != nil {
		return err
	}
	out := make([]BatchResult, len(stored))
	for i, s := range stored {
		out[i] = BatchResult{Item: s.Item, Status: s.Status, Path: s.Path, RecycledID: s.RecycledID}
		if s.Failed {
			out[i].Err = failureError(s.Failure)
		}
	}
	t.Result = out
	return nil
}

// EchoPath answers a request path as the array of segments a batch result echoes (10.2, 10.3:
// copyFrom, to, from), also when the path was refused: split on "/", empty segments dropped.
func EchoPath(raw string) []string {
	out := []string{}
	for _, s := range strings.Split(raw, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// BatchStore is what batches need beyond the single calls' store functions (docs/batch.md).
type BatchStore interface {
	// DeleteEntries deletes each request's entry exactly as DeleteFile or DeleteTree would, by
	// the kind it finds there (see DeleteRequest), answering one outcome per request in order,
	// but many requests per transaction. One request's failure never fails another.
	DeleteEntries(ctx context.Context, libraryID, spaceID string, reqs []DeleteRequest, now time.Time) []DeleteOutcome
	// TransferAcross copies the entry at from in fromSpace, file or directory with its subtree,
	// to to in toSpace (creating a directory's missing parents; a file's parent must exist), or
	// with move also deletes the source for good, in one transaction. New inodes; a symlink
	// lands as a copy of the file it points at. strategy and rules are the target's, as for
	// CopyTree and CopyFile. ErrSourceMissing when from holds nothing.
	TransferAcross(ctx context.Context, libraryID, fromSpace string, from []string, toSpace string, to []string,
		strategy Conflict, move bool, rules WriteRules, now time.Time) (Placed, error)
}

// crossSpaceItem copies or moves an item whose source lies in another space of the library
// (copyFromSpaceId, fromSpaceId): the caller's token must reach both spaces, and holds the
// grants of the item's kind as for a same-space item; the destination is checked as the single
// call checks it, the source as its source. The source's kind picks the rules.
func (n *Namespace) crossSpaceItem(ctx context.Context, t target, op BatchOp, it BatchItem) BatchResult {
	res := BatchResult{Item: it}
	src, err := n.otherSpace(ctx, t, it.FromSpaceID)
	if err != nil {
		res.Err = err
		return res
	}
	move := op == BatchMove
	var (
		c     Conflict
		force bool
		dest  target
		from  []string
	)
	if _, isDir := n.directoryAt(ctx, src, it.From); isDir {
		grants := copyDirectoryGrants
		if move {
			grants = moveDirectoryGrants
		}
		if dest, err = t.at(it.To, SplitPath, grants...); err == nil {
			if c, err = checkDirectoryDestination(dest, it.Strategy); err == nil {
				from, err = SplitPath(it.From, t.r.lib.MaxNameLength)
			}
		}
		if err == nil && len(from) == 0 {
			err = &InputError{Err: ErrInvalidSource, Reason: "the root cannot be copied or moved"}
		}
	} else {
		ft := fileCopy
		if move {
			ft = fileMove
		}
		if dest, err = t.at(it.To, SplitFilePath, ft.grants...); err == nil {
			if c, force, err = ft.check(dest, it.Strategy); err == nil {
				from, err = fileSource(src, it.From)
			}
		}
		// 3.14: in a media library a new name keeps the media type.
		if err == nil && !t.r.lib.IsFileLibrary && !filetype.SameMediaType(from[len(from)-1], dest.path[len(dest.path)-1]) {
			err = ErrFileTypeNotMatched
		}
	}
	if err != nil {
		res.Err = err
		return res
	}
	placed, err := n.store.TransferAcross(ctx, t.r.lib.ID, src.space.ID, from, t.space.ID, dest.path, forceStrategy(c, force), move, dest.rules(), n.clock.Now())
	switch {
	case errors.Is(err, ErrSourceMissing):
		err = ErrSourceFileNotFound
	case errors.Is(err, ErrNameTaken) && c == ConflictOverwrite && !force:
		err = n.overwriteRefused(ctx, t.r.lib.ID, t.space.ID, dest.path)
	}
	return transferResult(res, c, placed.Path, err)
}

// otherSpace answers the batch's opened space t moved to spaceID: the caller's token must
// reach it (AccessTokenNotMatchSpace) and it must exist (SpaceNotFound).
func (n *Namespace) otherSpace(ctx context.Context, t target, spaceID string) (target, error) {
	sp, err := n.space(ctx, t.r, spaceID)
	if err != nil {
		return target{}, err
	}
	t.space = sp
	return t, nil
}
