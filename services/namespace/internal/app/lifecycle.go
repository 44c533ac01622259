package app

import (
	"context"
	"errors"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
)

// The data lifecycle: recycle bin, history versions and quota (SMH API sections 5, 6, 9;
// docs/lifecycle.md is the design these types follow).

// Lifecycle store errors.
var (
	// ErrRecycledItemNotFound: no item with that id in the space's bin.
	ErrRecycledItemNotFound = errors.New("recycled item not found")
	// ErrQuotaLimitReached: the write would leave a quota (a space's or the library's) below
	// its usage. The transaction that found it changed nothing.
	ErrQuotaLimitReached = errors.New("quota limit reached")
	// ErrHistoryNotFound: no such version of the file.
	ErrHistoryNotFound = errors.New("history version not found")
	// ErrQuotaNotFound / ErrNoQuota: no quota with that id / on that space.
	ErrQuotaNotFound = errors.New("quota not found")
	ErrNoQuota       = errors.New("the space has no quota")
	// ErrDuplicateQuota: a space named by a quota already has one.
	ErrDuplicateQuota = errors.New("the space already has a quota")
	// ErrQuotaLessThanUsage: a capacity below the current usage, refused under the library's
	// denyOnQuotaLessThanUsage.
	ErrQuotaLessThanUsage = errors.New("quota capacity less than usage")
)

// WriteRules are the library's lifecycle switches that a tree write obeys. The use cases build
// them from the library's settings (and the space's retention) for every write; the store
// applies them inside the write's transaction.
type WriteRules struct {
	// Recycle: a delete moves the entry into the space's recycle bin; false removes it for good
	// (it is queued for purging).
	Recycle bool
	// RecycleDays is how long a binned item stays before the cleanup job purges it; 0 = until
	// purged by hand.
	RecycleDays int
	// KeepVersions is how many history versions an overwritten file keeps (fileHistoryCount);
	// 0 = history off: an overwrite replaces the content for good.
	KeepVersions int
	// VersionDays is how long a version lives (fileHistoryExpireDay); 0 = until dropped.
	VersionDays int
	// LibraryQuota is the library's own cap in bytes (enableQuota + libraryQuota); 0 = none.
	// A space's own quota is stored with the space (QuotaStore) and needs no rule.
	LibraryQuota int64
	// UserID is the acting user: who deleted an item, who made a version.
	UserID string
	// RapidUpload: the write commits an instant upload (content found by hash, no bytes sent);
	// the change feed reports it (3.18 isRapidUpload).
	RapidUpload bool
}

// TreeTotals are what an entry holds, itself included: bytes of files, files (symlinks
// included, as the counters count them) and directories.
type TreeTotals struct {
	Size  int64
	Files int64
	Dirs  int64
}

// Deleted is what a delete removed: the entry, and the bin item it became (RecycledID 0 when
// it was deleted for good).
type Deleted struct {
	Node       Node
	RecycledID int64
}

// RecycledItem is one entry of a space's recycle bin: a deleted file, symlink or directory
// (with its whole subtree), restorable until purged.
type RecycledItem struct {
	ID        int64
	LibraryID string
	SpaceID   string
	// Node is the deleted entry as it was; its Inode is kept while the item exists.
	Node Node
	// OriginalPath is the entry's path at deletion, its own name last.
	OriginalPath []string
	// Totals is what the item holds; for a file its own size and 1 file.
	Totals    TreeTotals
	RemovedAt time.Time
	// ExpiresAt is when the cleanup job purges the item; zero = kept until purged by hand.
	ExpiresAt time.Time
	// RemovedBy is the user who deleted it.
	RemovedBy string
}

// RecycleOrder is a recycle-bin listing order (5.1 order_by).
type RecycleOrder string

// Recycle-bin listing orders. remainingTime lists as removalTime does: items expire in the order
// they were removed (a retention change applies to new items only, docs/lifecycle.md).
const (
	RecycleByRemovalTime      RecycleOrder = "removalTime"
	RecycleByName             RecycleOrder = "name"
	RecycleByModificationTime RecycleOrder = "modificationTime"
	RecycleBySize             RecycleOrder = "size"
)

// RecycleListOptions select a page of a bin. Marker continues a marker-mode listing (opaque,
// made by the store); Offset is page mode.
type RecycleListOptions struct {
	OrderBy RecycleOrder // "" = removalTime, newest first (decision 23)
	Desc    bool
	Marker  string
	Offset  int
	Limit   int
	// Count asks for RecyclePage.Total (page mode): it counts the whole bin.
	Count bool
}

// RecyclePage is one page of a bin; Total counts every item of the bin.
type RecyclePage struct {
	Items      []RecycledItem
	NextMarker string
	Total      int64
}

// RestoreOptions say where a restored item goes.
type RestoreOptions struct {
	// Strategy applies when the original name is taken: ask (ErrNameTaken), rename, or overwrite
	// (a file over a file only; the replaced file is deleted under the same WriteRules).
	Strategy Conflict
	// FallbackToRoot puts the item in the space root when its original parent is gone; without
	// it the missing parents are created again (docs/lifecycle.md).
	FallbackToRoot bool
	// AlbumsOnly: the space keeps files out of its root (multi-album mode, 2.11), so a file's
	// missing parents are created again even with FallbackToRoot.
	AlbumsOnly bool
}

// RecycleStore is the recycle bin in the SQL store. Deleting into the bin is DeleteFile or
// DeleteTree with WriteRules.Recycle.
type RecycleStore interface {
	ListRecycled(ctx context.Context, libraryID, spaceID string, opts RecycleListOptions) (RecyclePage, error)
	// RecycledItem answers one item; ErrRecycledItemNotFound when the bin holds none with id.
	RecycledItem(ctx context.Context, libraryID, spaceID string, id int64) (RecycledItem, error)
	// RestoreRecycled puts an item back in the tree in O(1) whatever it holds and answers its
	// final path. Quota: the restore adds live bytes, so it is refused when the space is over
	// its quota (ErrQuotaLimitReached).
	RestoreRecycled(ctx context.Context, libraryID, spaceID string, id int64, opts RestoreOptions, rules WriteRules, now time.Time) ([]string, error)
	// PurgeRecycled removes items for good (their rows are queued for purging); ids the bin does
	// not hold answer ErrRecycledItemNotFound and nothing is purged.
	PurgeRecycled(ctx context.Context, libraryID, spaceID string, ids []int64, now time.Time) error
	// EmptyRecycled purges every item of the space's bin.
	EmptyRecycled(ctx context.Context, libraryID, spaceID string, now time.Time) error
	// SetRecycleRetention applies a longer retention to the items already in the bin (5.9:
	// lengthening applies to existing items; shortening only to new ones).
	SetRecycleRetention(ctx context.Context, libraryID, spaceID string, days int) error
	// ExpireRecycled purges up to limit items whose expiry is before now; answers how many.
	ExpireRecycled(ctx context.Context, now time.Time, limit int) (int64, error)
	// DrainPurges removes, for entries deleted for good before before, up to limit rows of
	// their subtrees; answers how many rows went (0 = nothing left to do).
	DrainPurges(ctx context.Context, before time.Time, limit int) (int64, error)
}

// spaceRules is rulesFor with the space's own bin retention (5.9), when it has one.
func spaceRules(lib Library, sp Space, p *authz.Principal) WriteRules {
	r := rulesFor(lib, p)
	if sp.Ext.RecycleRetentionDays > 0 {
		r.RecycleDays = sp.Ext.RecycleRetentionDays
	}
	return r
}

// rules answers the WriteRules of a write on t: its library's, its space's retention and its
// caller.
func (t target) rules() WriteRules { return spaceRules(t.r.lib, t.space, t.p) }

// rulesFor answers the WriteRules of a write in lib by p (nil for a service call, whose user id
// the caller sets). Deletes go to the bin when the library has one; a permanent delete clears
// Recycle itself.
func rulesFor(lib Library, p *authz.Principal) WriteRules {
	r := WriteRules{Recycle: lib.UseRecycleBin, RecycleDays: lib.AutoRemoveRecycledDays}
	if lib.EnableFileHistory {
		r.KeepVersions = max(lib.FileHistoryCount, 1)
		r.VersionDays = lib.FileHistoryExpireDay
	}
	if lib.EnableQuota {
		r.LibraryQuota = lib.LibraryQuota
	}
	if p != nil {
		r.UserID = p.UserID
	}
	return r
}
