package app

import (
	"context"
	"errors"
	"time"
)

// History versions (smh-api.md section 9, decisions 19 and 24, docs/lifecycle.md).

// History errors.
var (
	// ErrHistoryEnabled: purging every version of a library (9.3) needs history off first.
	ErrHistoryEnabled = errors.New("file history is enabled")
	// ErrRateLimited: the library's versions were purged less than a minute ago (9.3).
	ErrRateLimited = errors.New("rate limit exceeded")
	// Invalid settings of 9.2, each with its own SMH code.
	ErrInvalidFileHistoryCount         = errors.New("invalid fileHistoryCount")
	ErrInvalidFileHistoryExpireDay     = errors.New("invalid fileHistoryExpireDay")
	ErrInvalidFileHistoryMergeInterval = errors.New("invalid mergeInterval")
)

// Version is one kept content of a file: what the file held before an overwrite (or a version
// restore) replaced it. BlobID shares the blob of that content.
type Version struct {
	ID        int64
	LibraryID string
	SpaceID   string
	// Inode is the file the version belongs to.
	Inode int64
	// Version numbers the content among the file's contents (9.4 "version").
	Version     int64
	Type        NodeType
	Size        int64
	ContentType string
	ETag        string
	CRC64       string
	BlobID      string
	MetaData    map[string]string
	// CreatedBy made the content; CreationWay says how (HistoryCreated, HistoryUpdated,
	// HistoryRestored).
	CreatedBy   string
	CreationWay int
	// CreatedAt is when the content was made, SetLatestAt when it became the latest,
	// ArchivedAt when it became a version; ExpiresAt when the cleanup job drops it (zero = never).
	CreatedAt   time.Time
	SetLatestAt time.Time
	ArchivedAt  time.Time
	ExpiresAt   time.Time
}

// VersionOrder is a version listing order (9.4 order_by).
type VersionOrder string

// Version listing orders.
const (
	VersionsByID           VersionOrder = "id"
	VersionsByCreationTime VersionOrder = "creationTime"
)

// VersionListOptions select a page of a file's versions. Marker continues a marker-mode listing
// (opaque, made by the store); Offset is page mode. Count asks for Total.
type VersionListOptions struct {
	OrderBy VersionOrder // "" = id
	Desc    bool
	Marker  string
	Offset  int
	Limit   int
	Count   bool
}

// VersionPage is one page of a file's versions. NextMarker continues after the page's last
// version when More; Total counts every version of the file (with Count).
type VersionPage struct {
	Versions   []Version
	More       bool
	NextMarker string
	Total      int64
}

// Library task types (7.4) and their outcome.
const LibraryTaskClearHistory = "clearLibraryHistory"

// LibraryTask is a task of a whole library (7.2, 7.4): the purge of every history version.
type LibraryTask struct {
	ID        int32
	LibraryID string
	Type      string
	// Status is TaskRunning or TaskDone (or TaskFailed).
	Status int
	// DeleteCount is how many versions the purge removed; Code names a failure.
	DeleteCount int64
	Code        string
	CreatedAt   time.Time
	FinishedAt  time.Time
}

// HistoryStore is the history versions in the SQL store. Versions are made inside the tree's
// overwrites (WriteRules.KeepVersions); these are the calls of section 9 and the cleanup job.
type HistoryStore interface {
	// ListVersions answers a page of the versions of the file inode (the current content is the
	// node itself, not a version).
	ListVersions(ctx context.Context, libraryID, spaceID string, inode int64, opts VersionListOptions) (VersionPage, error)
	// Version answers one version of the space; ErrHistoryNotFound when there is none with id.
	Version(ctx context.Context, libraryID, spaceID string, id int64) (Version, error)
	// DeleteVersions removes versions of the space, all or none: an id the space does not hold
	// answers ErrHistoryNotFound and nothing is removed.
	DeleteVersions(ctx context.Context, libraryID, spaceID string, ids []int64) error
	// RestoreVersion makes version id the file's current content (9.6): the current content
	// becomes a version, the file takes the version's content (creationWay HistoryRestored), the
	// chosen version stays. The restore adds the version's bytes to the space's usage, so it is
	// refused over quota (ErrQuotaLimitReached) and then changes nothing. ErrHistoryNotFound
	// when the version is unknown; ErrNodeNotFound when its file is not live.
	RestoreVersion(ctx context.Context, libraryID, spaceID string, id int64, rules WriteRules, now time.Time) (Node, []string, error)
	// ClearLibraryHistory removes every version of the library and records it as a finished
	// library task (9.3). ErrRateLimited when the last one started less than every ago.
	ClearLibraryHistory(ctx context.Context, libraryID string, every time.Duration, now time.Time) (LibraryTask, error)
	// LibraryTasks answers the library's tasks among ids, by id; unknown ids are left out.
	LibraryTasks(ctx context.Context, libraryID string, ids []int32) ([]LibraryTask, error)
	// ExpireVersions removes up to limit versions whose expiry is before now; answers how many.
	ExpireVersions(ctx context.Context, now time.Time, limit int) (int64, error)
	// PurgeLibraryTasks removes up to limit library tasks that finished before before.
	PurgeLibraryTasks(ctx context.Context, before time.Time, limit int) (int64, error)
}
