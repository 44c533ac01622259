package app

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/filetype"
)

// Saving from a share (SMH API 13.12, decision 14, docs/shares.md "Share access tokens,
// addresses and limits; saving"). The saver authenticates with their own library token, which
// must let them upload into the target space; a share with an extraction code also wants its
// share access token (unless the saver created the share or is admin). Each chosen entry lands
// as a cross-space copy does (BatchStore.TransferAcross): new inodes over the same blobs, so no
// byte is copied, under the target's quota, conflict and album rules. Results and the async
// threshold are batch copy's (10.2, decision 7), so a large save is a batchCopy task.

// Errors of a save.
var (
	// ErrCannotSaveToNetDisk: the share does not allow saving (canSaveToNetdisk false).
	ErrCannotSaveToNetDisk = errors.New("the share does not allow saving")
)

// maxSaveChain bounds sourceInodesPath as 13.10 bounds {Inodes}.
const maxSaveChain = 64

// ShareSave is 13.12's body, checked.
type ShareSave struct {
	TargetSpaceID string
	// TargetPath is the raw target directory ("" = the space root).
	TargetPath string
	// SourceChain is sourceInodesPath: the inodes from the share root down to the directory
	// holding the items; empty = the share root.
	SourceChain []int64
	Inodes      []int64
	// Strategy is conflictResolutionStrategy as sent ("" = each kind's default).
	Strategy string
}

// ParseShareSave reads 13.12's body as encoding/json or structpb decode it. Every wrong type,
// missing field, malformed inode or strategy is a 400 before anything runs.
func ParseShareSave(body any) (ShareSave, error) {
	obj, ok := body.(map[string]any)
	if !ok {
		return ShareSave{}, invalid("the body must be a JSON object")
	}
	str := func(key string, required bool) (string, error) {
		v, present := obj[key]
		if !present || v == nil {
			if required {
				return "", invalid("%s is required", key)
			}
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", invalid("%s must be a string", key)
		}
		return s, nil
	}
	var (
		s   ShareSave
		err error
	)
	if s.TargetSpaceID, err = str("targetSpaceId", true); err != nil {
		return ShareSave{}, err
	}
	if s.TargetSpaceID == "" {
		return ShareSave{}, invalid("targetSpaceId is required")
	}
	if s.TargetPath, err = str("targetPath", false); err != nil {
		return ShareSave{}, err
	}
	chain, err := str("sourceInodesPath", true)
	if err != nil {
		return ShareSave{}, err
	}
	if s.SourceChain, err = parseSaveChain(chain); err != nil {
		return ShareSave{}, err
	}
	if s.Strategy, err = str("conflictResolutionStrategy", false); err != nil {
		return ShareSave{}, err
	}
	switch Conflict(s.Strategy) {
	case "", ConflictAsk, ConflictRename, ConflictOverwrite:
	default:
		return ShareSave{}, &InputError{Err: ErrInvalidStrategy, Reason: "conflictResolutionStrategy must be ask, rename or overwrite"}
	}
	raw, ok := obj["inodes"].([]any)
	switch {
	case !ok:
		return ShareSave{}, invalid("inodes must be an array of inode strings")
	case len(raw) == 0:
		return ShareSave{}, &InputError{Err: ErrNoItemsProvided, Reason: "inodes names no entry"}
	case len(raw) > MaxBatchItems:
		return ShareSave{}, &InputError{Err: ErrTooManyItems, Reason: "name at most " + strconv.Itoa(MaxBatchItems) + " inodes"}
	}
	seen := make(map[int64]bool, len(raw))
	for i, v := range raw {
		in, ok := saveInode(v)
		if !ok {
			return ShareSave{}, invalid("inodes[%d] must be a positive decimal inode", i)
		}
		if seen[in] {
			return ShareSave{}, invalid("inodes[%d] repeats an inode", i)
		}
		seen[in] = true
		s.Inodes = append(s.Inodes, in)
	}
	return s, nil
}

// saveInode reads one inode: a canonical positive decimal string (as 13.10 lists them), or a
// whole JSON number for clients that send numbers.
func saveInode(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		in, err := strconv.ParseInt(x, 10, 64)
		return in, err == nil && in > 0 && strconv.FormatInt(in, 10) == x
	case float64:
		in := int64(x)
		return in, in > 0 && float64(in) == x && x < 1<<53
	}
	return 0, false
}

// parseSaveChain reads sourceInodesPath like 13.10's {Inodes}: "" is the share root, else up to
// maxSaveChain positive decimal inodes joined by "/" (one trailing "/" tolerated).
func parseSaveChain(s string) ([]int64, error) {
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) > maxSaveChain {
		return nil, invalid("sourceInodesPath is deeper than %d levels", maxSaveChain)
	}
	chain := make([]int64, 0, len(parts))
	for _, p := range parts {
		in, ok := saveInode(p)
		if !ok {
			return nil, invalid("sourceInodesPath must be inodes joined by /")
		}
		chain = append(chain, in)
	}
	return chain, nil
}

// saveGrants let a saver in: upload rights in the target space (decision 14). Overwriting a file
// needs upload_file_force (decision 3), as an upload would.
var (
	saveGrants = []string{authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce}
	fileSave   = fileTransfer{grants: saveGrants, force: []string{authz.UploadFileForce}}
)

// saveItem is one chosen entry: where it lives in the share's space and what the result echoes.
type saveItem struct {
	node Node
	// from is the entry's path in the share's space (never shown to the saver).
	from []string
	// echo is the entry's path from the share root, names only: what the result's copyFrom shows
	// (the sharer's directories above the share stay private).
	echo string
}

// SaveFromShare saves entries of the share code names into the saver's space (13.12). Checks, in
// order: the body (400), the share (404 ShareNotFound), the saver's token and upload rights in
// the target space of the share's library (401/403, the share access token alone never gets
// past here), the share's state and canSaveToNetdisk (403), the share access token when the share
// has an extraction code (403 InvalidAccessToken), named users, then every inode must be a live
// direct child of sourceInodesPath inside the share (404 FileNotInShare). Nothing is saved before
// all of these pass.
func (n *Namespace) SaveFromShare(ctx context.Context, code, shareToken string, body any) (Batch, error) {
	in, err := ParseShareSave(body)
	if err != nil {
		return Batch{}, err
	}
	sh, err := n.store.GetShareByCode(ctx, code)
	if err != nil {
		return Batch{}, err
	}
	t, err := n.open(ctx, sh.LibraryID, in.TargetSpaceID, "", false, saveGrants...)
	if err != nil {
		return Batch{}, err
	}
	if err := n.saveAllowed(ctx, t.r.lib, sh, t.p, shareToken); err != nil {
		return Batch{}, err
	}
	items, err := n.saveItems(ctx, sh, in)
	if err != nil {
		return Batch{}, err
	}
	targetDir, err := SplitPath(in.TargetPath, t.r.lib.MaxNameLength)
	if err != nil {
		return Batch{}, err
	}
	if err := n.saveFitsQuota(ctx, t, sh, items); err != nil {
		return Batch{}, err
	}
	run := func(ctx context.Context) ([]BatchResult, error) {
		out := make([]BatchResult, 0, len(items))
		for _, it := range items {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			out = append(out, n.saveOne(ctx, t, sh, targetDir, in.Strategy, it))
		}
		return out, nil
	}
	if n.saveDefers(ctx, sh, items) {
		id, err := n.tasks.start(ctx, t.r.lib.ID, t.space.ID, TaskBatchCopy, func(ctx context.Context) (taskOutcome, error) {
			results, err := run(ctx)
			if err != nil {
				return taskOutcome{}, err
			}
			return taskOutcome{status: batchItemsStatus(results), result: storeBatchResults(results)}, nil
		})
		if err != nil {
			return Batch{}, err
		}
		return Batch{Op: BatchCopy, TaskID: id}, nil
	}
	results, err := run(ctx)
	if err != nil {
		return Batch{}, err
	}
	return Batch{Op: BatchCopy, Results: results}, nil
}

// saveAllowed applies the share's side of decision 14 to the authenticated saver p (lib is the
// share's library, which the saver's token is of).
func (n *Namespace) saveAllowed(ctx context.Context, lib Library, sh Share, p *authz.Principal, shareToken string) error {
	// A save is refused as a visit is: disabled → ShareDisabled, expired → ShareExpired.
	if err := n.visitable(sh); err != nil {
		return err
	}
	if !sh.Config.CanSave {
		return ErrCannotSaveToNetDisk
	}
	// Whoever manages the share (and so may read its code in the detail) needs no share token:
	// an admin of every space, an admin or space_admin whose token reaches the share's space;
	// nor does its creator, whichever space their token names (they chose the code). An admin
	// of other spaces only shows the code like anyone (docs/shares.md, "Saving").
	if managesShare(lib, p, sh) || (p.UserID != "" && p.UserID == sh.CreatorID) {
		return nil
	}
	if sh.Config.ExtractionCode != "" {
		if shareToken == "" {
			// Decision 14: the saver has not shown they passed the code.
			return authz.ErrInvalidAccessToken
		}
		if _, err := n.auth.ValidateShareToken(ctx, sh.LibraryID, sh.ShareID, shareToken); err != nil {
			return authz.ErrInvalidAccessToken
		}
	}
	// A share for named users saves for those users only.
	if len(sh.ToUsers) > 0 && !slices.Contains(sh.ToUsers, p.UserID) {
		return authz.ErrNoPermission
	}
	return nil
}

// saveFitsQuota refuses the whole save with ErrQuotaLimitReached before anything changes when
// its entries' bytes together exceed what the target space (its quota, the library's cap) may
// still take (decision 16: a write over quota changes nothing; docs/shares.md). The count is
// conservative: a file that will overwrite another counts whole. Each entry's transfer checks
// the quota again in its own transaction, so a concurrent writer cannot slip past this check.
func (n *Namespace) saveFitsQuota(ctx context.Context, t target, sh Share, items []saveItem) error {
	rules := rulesFor(t.r.lib, t.p)
	remaining, limited, err := n.store.RemainingSpace(ctx, t.r.lib.ID, t.space.ID, rules.LibraryQuota)
	if err != nil || !limited {
		return err
	}
	var total int64
	for _, it := range items {
		if !it.node.IsDir() {
			total += it.node.Size
			continue
		}
		st, err := n.store.TreeStats(ctx, sh.LibraryID, sh.SpaceID, it.from)
		if err != nil {
			return err
		}
		total += st.Size
	}
	if total > remaining {
		return ErrQuotaLimitReached
	}
	return nil
}

// saveItems finds every chosen inode as a live direct child of the source directory inside the
// share (ErrNotInShare otherwise), with its path in the share's space and its echo.
func (n *Namespace) saveItems(ctx context.Context, sh Share, in ShareSave) ([]saveItem, error) {
	var echo []string
	for i := range in.SourceChain {
		dir, err := n.store.ShareChainEnd(ctx, sh, in.SourceChain[:i+1])
		if err != nil {
			return nil, err
		}
		if !dir.IsDir() {
			return nil, ErrNotInShare
		}
		echo = append(echo, dir.Name)
	}
	items := make([]saveItem, 0, len(in.Inodes))
	for _, inode := range in.Inodes {
		chain := append(slices.Clip(in.SourceChain), inode)
		node, err := n.store.ShareChainEnd(ctx, sh, chain)
		if err != nil {
			return nil, err
		}
		_, from, err := n.store.NodeByInode(ctx, sh.LibraryID, sh.SpaceID, node.Inode)
		if errors.Is(err, ErrNodeNotFound) {
			return nil, ErrNotInShare
		}
		if err != nil {
			return nil, err
		}
		items = append(items, saveItem{node: node, from: from, echo: strings.Join(append(slices.Clip(echo), node.Name), "/")})
	}
	return items, nil
}

// saveDefers tells whether a save runs as a task: more items than the batch threshold, or
// directories holding more entries than the tree threshold in all (decision 7).
func (n *Namespace) saveDefers(ctx context.Context, sh Share, items []saveItem) bool {
	if len(items) > n.asyncBatchThreshold {
		return true
	}
	var total int64
	for _, it := range items {
		if !it.node.IsDir() {
			continue
		}
		count, err := n.store.CountTree(ctx, sh.LibraryID, sh.SpaceID, it.from, n.asyncTreeThreshold)
		if err != nil {
			continue // answered by the item
		}
		if total += count + 1; total > n.asyncTreeThreshold {
			return true
		}
	}
	return false
}

// saveOne lands one entry at targetDir/<its name> in the saver's space t, checked as a copy into
// that space is checked (album, whitelist, media type, strategy defaults: ask for a directory,
// which may not be overwritten, rename for a file), then TransferAcross shares its blobs.
func (n *Namespace) saveOne(ctx context.Context, t target, sh Share, targetDir []string, strategy string, it saveItem) BatchResult {
	to := append(slices.Clip(targetDir), it.node.Name)
	res := BatchResult{Item: BatchItem{From: it.echo, To: strings.Join(to, "/"), Strategy: strategy}}
	var (
		c     Conflict
		force bool
		dest  target
		err   error
	)
	if it.node.IsDir() {
		if dest, err = t.at(res.Item.To, SplitPath, saveGrants...); err == nil {
			c, err = checkDirectoryDestination(dest, strategy)
		}
	} else {
		if dest, err = t.at(res.Item.To, SplitFilePath, fileSave.grants...); err == nil {
			c, force, err = fileSave.check(dest, strategy)
		}
		if err == nil && !t.r.lib.IsFileLibrary && !filetype.SameMediaType(it.node.Name, dest.path[len(dest.path)-1]) {
			err = ErrFileTypeNotMatched
		}
	}
	if err != nil {
		res.Err = err
		return res
	}
	placed, err := n.store.TransferAcross(ctx, t.r.lib.ID, sh.SpaceID, it.from, t.space.ID, dest.path, forceStrategy(c, force), false, dest.rules(), n.clock.Now())
	switch {
	case errors.Is(err, ErrSourceMissing):
		err = ErrNotInShare
	case errors.Is(err, ErrNameTaken) && c == ConflictOverwrite && !force:
		err = n.overwriteRefused(ctx, t.r.lib.ID, t.space.ID, dest.path)
	}
	return transferResult(res, c, placed.Path, err)
}
