package app

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
)

// Recycle-bin use cases (SMH API section 5, docs/lifecycle.md). Deleting into the bin is
// DeleteFile / DeleteDirectory; these are the ten operations on the bin itself and the typed
// task query (7.3) its batch restores report through.

// Recycle-bin use-case errors; the transport maps each to its SMH code.
var (
	// ErrRecycleBinNotEnabled: the library's useRecycleBin is off. Every bin operation answers
	// it; items binned while the bin was on stay (and expire) and show again once it is back on.
	ErrRecycleBinNotEnabled = errors.New("the library's recycle bin is not enabled")
	// ErrNoItemsProvided / ErrTooManyItems: a batch body naming no item / more than
	// maxRecycleBatch (recycledIDs).
	ErrNoItemsProvided = errors.New("no items provided")
	ErrTooManyItems    = errors.New("too many items")
)

// Recycle-bin limits: 5.1 (marker limit and page size at most 100; at most 10,000 items
// reachable by page) and the largest batch body one request may name.
const (
	defaultRecycleLimit = 20
	maxRecycleLimit     = 100
	maxRecycleBatch     = 1000
)

// RemainingDays answers 5.1's remainingTime at now: the whole days left before the cleanup job
// purges the item (partial days dropped, 0 once due), or -1 for an item kept until purged by
// hand.
func (it RecycledItem) RemainingDays(now time.Time) int {
	if it.ExpiresAt.IsZero() {
		return -1
	}
	left := it.ExpiresAt.Sub(now)
	if left <= 0 {
		return 0
	}
	return int(left / (24 * time.Hour))
}

// openBin opens a request on a space's bin: authenticates, checks grants (none: any principal
// of the space, or anonymous on a public-read library or space when publicRead, 12.7) and
// refuses every operation while the library's bin is off. The switch is judged after the
// caller, so only a caller of the space learns it.
func (n *Namespace) openBin(ctx context.Context, libraryID, spaceID string, publicRead bool, grants ...string) (target, error) {
	t, err := n.open(ctx, libraryID, spaceID, "", publicRead, grants...)
	if err != nil {
		return target{}, err
	}
	if !t.r.lib.UseRecycleBin {
		return target{}, ErrRecycleBinNotEnabled
	}
	return t, nil
}

// Grants of the bin's writes (5.2-5.6).
var (
	purgeGrants   = []string{authz.Admin, authz.SpaceAdmin, authz.DeleteRecycled}
	restoreGrants = []string{authz.Admin, authz.SpaceAdmin, authz.RestoreRecycled}
)

// ParseRecycledID reads a recycledItemId of a path: a positive decimal integer.
func ParseRecycledID(raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("recycledItemId must be a positive integer")
	}
	return id, nil
}

// maxJSONID is the largest id a JSON number carries exactly (2^53).
const maxJSONID = 1 << 53

// recycledIDs reads a batch body (5.3, 5.5) as encoding/json or structpb decode it: a JSON array
// of positive integers, at least one and at most maxRecycleBatch. Strings of digits are taken
// too (12.4: inputs accept number or string). It is read after the caller was let in, so a
// refused caller learns nothing from the body.
func recycledIDs(body any) ([]int64, error) {
	list, ok := body.([]any)
	if !ok {
		return nil, invalid("the body must be a JSON array of recycledItemId numbers")
	}
	switch {
	case len(list) == 0:
		return nil, &InputError{Err: ErrNoItemsProvided, Reason: "the body names no recycledItemId"}
	case len(list) > maxRecycleBatch:
		return nil, &InputError{Err: ErrTooManyItems, Reason: "name at most " + strconv.Itoa(maxRecycleBatch) + " items"}
	}
	ids := make([]int64, 0, len(list))
	for _, item := range list {
		var id int64
		switch v := item.(type) {
		case float64:
			if v != math.Trunc(v) || v < 1 || v > maxJSONID {
				return nil, invalid("every recycledItemId must be a positive integer")
			}
			id = int64(v)
		case string:
			var err error
			if id, err = ParseRecycledID(v); err != nil {
				return nil, err
			}
		default:
			return nil, invalid("every recycledItemId must be a positive integer")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// RecycleQuery is a bin listing's query (5.1) as received; pointers are "present".
type RecycleQuery struct {
	// Mode is what the dispatcher saw of the hyphenated flags: "auto" or "", "marker", "page",
	// "both".
	Mode                  string
	Marker                *string
	Limit, Page, PageSize *int
	OrderBy, OrderByType  string
}

// RecycleListing is a page of a bin and the time its remainingTime values count from.
type RecycleListing struct {
	Page RecyclePage
	// PageMode: the caller asked for page mode: totalNum is answered, nextMarker is not.
	PageMode bool
	Now      time.Time
}

// recycleListOptions turns a bin listing's query into store options: marker mode unless page
// mode is asked for (decision 15), both at once ParamInvalid (as decision 1).
func recycleListOptions(q RecycleQuery) (RecycleListOptions, bool, error) {
	var opts RecycleListOptions
	pageMode := q.Mode == "page" || q.Page != nil || q.PageSize != nil
	markerMode := q.Mode == "marker" || q.Marker != nil || q.Limit != nil
	if q.Mode == "both" || (pageMode && markerMode) {
		return opts, false, invalid("marker mode (by-marker, marker, limit) and page mode (by-page, page, page_size) are exclusive")
	}
	var err error
	if opts.Limit, opts.Offset, opts.Marker, err = pageWindow(q.Marker, q.Limit, q.Page, q.PageSize, pageMode,
		defaultRecycleLimit, maxRecycleLimit); err != nil {
		return opts, false, err
	}
	opts.Count = pageMode
	switch q.OrderBy {
	case "":
		// Decision 23: newest removal first, unless the caller names a direction.
		opts.OrderBy, opts.Desc = RecycleByRemovalTime, true
	case string(RecycleByRemovalTime), "remainingTime":
		// Items expire in removal order (docs/lifecycle.md): the least time left is the oldest.
		opts.OrderBy = RecycleByRemovalTime
	case string(RecycleByName), string(RecycleByModificationTime), string(RecycleBySize):
		opts.OrderBy = RecycleOrder(q.OrderBy)
	default:
		return opts, false, invalid("order_by must be name, modificationTime, size, removalTime or remainingTime")
	}
	switch strings.ToLower(q.OrderByType) {
	case "":
	case "asc":
		opts.Desc = false
	case "desc":
		opts.Desc = true
	default:
		return opts, false, invalid("order_by_type must be asc or desc")
	}
	return opts, pageMode, nil
}

// ListRecycled answers a page of a space's bin (5.1): any principal of the space, or anonymous
// on a public-read library or space (12.7 lists the bin among the public reads).
func (n *Namespace) ListRecycled(ctx context.Context, libraryID, spaceID string, q RecycleQuery) (RecycleListing, error) {
	t, err := n.openBin(ctx, libraryID, spaceID, true)
	if err != nil {
		return RecycleListing{}, err
	}
	opts, pageMode, err := recycleListOptions(q)
	if err != nil {
		return RecycleListing{}, err
	}
	page, err := n.store.ListRecycled(ctx, libraryID, t.space.ID, opts)
	if err != nil {
		return RecycleListing{}, err
	}
	if pageMode {
		page.NextMarker = ""
	}
	return RecycleListing{Page: page, PageMode: pageMode, Now: n.clock.Now()}, nil
}

// RecycledItem answers one item of a space's bin (5.7's item part), read as the list is.
func (n *Namespace) RecycledItem(ctx context.Context, libraryID, spaceID, rawID string) (RecycledItem, time.Time, error) {
	if _, err := n.openBin(ctx, libraryID, spaceID, true); err != nil {
		return RecycledItem{}, time.Time{}, err
	}
	id, err := ParseRecycledID(rawID)
	if err != nil {
		return RecycledItem{}, time.Time{}, err
	}
	it, err := n.store.RecycledItem(ctx, libraryID, spaceID, id)
	return it, n.clock.Now(), err
}

// ResolveRecycledFile answers the file a bin item holds, for the object service's 5.7 info and
// 5.8 preview: read access as the list. A directory holds no bytes of its own, and a symlink
// none either (its target may be anywhere, or gone): both answer RecycledItemNotFound, as an
// unknown id does.
func (n *Namespace) ResolveRecycledFile(ctx context.Context, libraryID, spaceID, rawID string) (RecycledItem, error) {
	it, _, err := n.RecycledItem(ctx, libraryID, spaceID, rawID)
	if err != nil {
		return RecycledItem{}, err
	}
	if it.Node.IsDir() || it.Node.IsSymlink() || it.Node.BlobID == "" {
		return RecycledItem{}, ErrRecycledItemNotFound
	}
	return it, nil
}

// restoreOptions reads a restore's query: conflict_resolution_strategy ("" = def: ask for one
// item, rename for a batch, 5.4 and 5.5) and restore_path_strategy (originalPath, the
// default, or fallbackToRoot) for the space of t.
func restoreOptions(t target, strategy, pathStrategy string, def Conflict) (RestoreOptions, error) {
	opts := RestoreOptions{AlbumsOnly: isMultiAlbum(t.r.lib, t.space)}
	switch Conflict(strategy) {
	case "":
		opts.Strategy = def
	case ConflictAsk, ConflictRename, ConflictOverwrite:
		opts.Strategy = Conflict(strategy)
	default:
		return opts, &InputError{Err: ErrInvalidStrategy, Reason: "conflict_resolution_strategy must be ask, rename or overwrite"}
	}
	switch pathStrategy {
	case "", "originalPath":
	case "fallbackToRoot":
		opts.FallbackToRoot = true
	default:
		return opts, invalid("restore_path_strategy must be originalPath or fallbackToRoot")
	}
	return opts, nil
}

// RestoreRecycled puts one item back (5.4): admin, space_admin or restore_recycled. It answers
// the item's final path. Missing parents are created again, or with fallbackToRoot the item
// goes to the root (docs/lifecycle.md); a name clash follows the strategy, ask by default
// (409).
func (n *Namespace) RestoreRecycled(ctx context.Context, libraryID, spaceID, rawID, strategy, pathStrategy string) ([]string, error) {
	t, err := n.openBin(ctx, libraryID, spaceID, false, restoreGrants...)
	if err != nil {
		return nil, err
	}
	id, err := ParseRecycledID(rawID)
	if err != nil {
		return nil, err
	}
	opts, err := restoreOptions(t, strategy, pathStrategy, ConflictAsk)
	if err != nil {
		return nil, err
	}
	return n.store.RestoreRecycled(ctx, libraryID, spaceID, id, opts, t.rules(), n.clock.Now())
}

// RestoreResult is one item of a batch restore: its final path, or why it stayed in the bin.
type RestoreResult struct {
	ID   int64
	Path []string
	Err  error
}

// storedRestore is a RestoreResult as a batch-restore task stores it (tasks.result): the error
// by its name in taskFailures, so that every replica answers it as the one that ran it.
type storedRestore struct {
	ID      int64    `json:"id"`
	Path    []string `json:"path,omitempty"`
	Failed  bool     `json:"failed,omitempty"`
	Failure string   `json:"failure,omitempty"`
}

func (s storedRestore) result() RestoreResult {
	r := RestoreResult{ID: s.ID, Path: s.Path}
	if s.Failed {
		r.Err = failureError(s.Failure)
	}
	return r
}

func storeRestores(results []RestoreResult) []storedRestore {
	out := make([]storedRestore, len(results))
	for i, r := range results {
		out[i] = storedRestore{ID: r.ID, Path: r.Path}
		if r.Err != nil {
			out[i] = storedRestore{ID: r.ID, Failed: true, Failure: failureName(r.Err)}
		}
	}
	return out
}

// BatchRestore is the outcome of a batch restore: every item in request order, or the task
// that restores them (decision 7).
type BatchRestore struct {
	Results []RestoreResult
	TaskID  int32
}

// batchStatus answers a finished batch's status (7.3): 200 every item restored, 207 some
// failed, 400 every one failed.
func batchStatus(results []RestoreResult) int {
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	return itemsStatus(failed, len(results))
}

// itemsStatus answers the status of a finished batch task of total items of which failed
// failed (7.3): 200 none, 400 all, 207 some.
func itemsStatus(failed, total int) int {
	switch failed {
	case 0:
		return TaskDone
	case total:
		return TaskAllFailed
	}
	return TaskPartial
}

// RestoreRecycledBatch puts several items back (5.5): restore's grants, rename by default. body
// is the request's JSON body, decoded (recycledIDs)
// (decision 17: every item on its own, results in request order; an id named twice is restored
// once and the second answers RecycledItemNotFound). More than the batch threshold (decision 7,
// 100) runs as a task, whose result is the same list.
func (n *Namespace) RestoreRecycledBatch(ctx context.Context, libraryID, spaceID string, body any, strategy, pathStrategy string) (BatchRestore, error) {
	t, err := n.openBin(ctx, libraryID, spaceID, false, restoreGrants...)
	if err != nil {
		return BatchRestore{}, err
	}
	ids, err := recycledIDs(body)
	if err != nil {
		return BatchRestore{}, err
	}
	opts, err := restoreOptions(t, strategy, pathStrategy, ConflictRename)
	if err != nil {
		return BatchRestore{}, err
	}
	rules := t.rules()
	restore := func(ctx context.Context) ([]RestoreResult, error) {
		out := make([]RestoreResult, 0, len(ids))
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			path, err := n.store.RestoreRecycled(ctx, libraryID, spaceID, id, opts, rules, n.clock.Now())
			out = append(out, RestoreResult{ID: id, Path: path, Err: err})
		}
		return out, nil
	}
	if len(ids) > n.asyncBatchThreshold {
		id, err := n.tasks.start(ctx, libraryID, spaceID, TaskBatchRestoreRecycle, func(ctx context.Context) (taskOutcome, error) {
			results, err := restore(ctx)
			if err != nil {
				return taskOutcome{}, err
			}
			return taskOutcome{status: batchStatus(results), result: storeRestores(results)}, nil
		})
		if err != nil {
			return BatchRestore{}, err
		}
		return BatchRestore{TaskID: id}, nil
	}
	results, err := restore(ctx)
	if err != nil {
		return BatchRestore{}, err
	}
	return BatchRestore{Results: results}, nil
}

// PurgeRecycled removes one item for good (5.2): admin, space_admin or delete_recycled.
func (n *Namespace) PurgeRecycled(ctx context.Context, libraryID, spaceID, rawID string) error {
	if _, err := n.openBin(ctx, libraryID, spaceID, false, purgeGrants...); err != nil {
		return err
	}
	id, err := ParseRecycledID(rawID)
	if err != nil {
		return err
	}
	return n.store.PurgeRecycled(ctx, libraryID, spaceID, []int64{id}, n.clock.Now())
}

// PurgeRecycledBatch removes several items for good (5.3; body as RestoreRecycledBatch's), all
// or nothing: an id the bin does
// not hold answers RecycledItemNotFound and purges none (docs/lifecycle.md). An id named twice
// counts once.
func (n *Namespace) PurgeRecycledBatch(ctx context.Context, libraryID, spaceID string, body any) error {
	if _, err := n.openBin(ctx, libraryID, spaceID, false, purgeGrants...); err != nil {
		return err
	}
	ids, err := recycledIDs(body)
	if err != nil {
		return err
	}
	slices.Sort(ids)
	return n.store.PurgeRecycled(ctx, libraryID, spaceID, slices.Compact(ids), n.clock.Now())
}

// EmptyRecycled purges every item of a space's bin (5.6): purge's grants.
func (n *Namespace) EmptyRecycled(ctx context.Context, libraryID, spaceID string) error {
	if _, err := n.openBin(ctx, libraryID, spaceID, false, purgeGrants...); err != nil {
		return err
	}
	return n.store.EmptyRecycled(ctx, libraryID, spaceID, n.clock.Now())
}

// Retention bounds of 5.9.
const (
	minRetentionDays = 1
	maxRetentionDays = 10000
)

// SetRecycleLifecycle sets a space's own bin retention (5.9): admin or space_admin (the grant
// is not documented; changing how long every user's deletes stay is an administrator's call).
// The space keeps it in its extension, so deletes made from now on expire after it; items
// already in the bin take it when it is longer than what they have (lengthening applies to
// them, shortening only to new items).
func (n *Namespace) SetRecycleLifecycle(ctx context.Context, libraryID, spaceID string, days *int) error {
	if _, err := n.openBin(ctx, libraryID, spaceID, false, authz.Admin, authz.SpaceAdmin); err != nil {
		return err
	}
	if days == nil || *days < minRetentionDays || *days > maxRetentionDays {
		return invalid("retentionDays must be an integer %d-%d", minRetentionDays, maxRetentionDays)
	}
	err := n.store.UpdateSpaceExtension(ctx, libraryID, spaceID, func(ext SpaceExtension) (SpaceExtension, error) {
		ext.RecycleRetentionDays = *days
		return ext, nil
	})
	if err != nil {
		return err
	}
	return n.store.SetRecycleRetention(ctx, libraryID, spaceID, *days)
}

// TaskResult answers one task of a space with its typed result (7.3): the task query's access
// (any principal of the space). taskID is one decimal id.
func (n *Namespace) TaskResult(ctx context.Context, libraryID, spaceID, taskID string) (Task, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return Task{}, err
	}
	if _, err := r.require(); err != nil {
		return Task{}, err
	}
	if _, err := n.space(ctx, r, spaceID); err != nil {
		return Task{}, err
	}
	if strings.Contains(taskID, ",") {
		return Task{}, invalid("the typed task query takes one task id")
	}
	tasks, err := n.readTasks(ctx, libraryID, spaceID, taskID)
	if err != nil {
		return Task{}, err
	}
	if tasks[0].Err != nil {
		return Task{}, tasks[0].Err
	}
	return tasks[0].Task, nil
}
