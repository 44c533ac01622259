package app

import (
	"context"
	"errors"
	"time"
)

// Store errors. The SQL engines answer these; the use cases map them to SMH codes.
var (
	ErrSpaceExists       = errors.New("space exists")
	ErrSpaceNotFound     = errors.New("space not found")
	ErrSpaceNotEmpty     = errors.New("space not empty")
	ErrNodeNotFound      = errors.New("no such file or directory")
	ErrNotDirectory      = errors.New("a path component is a file")
	ErrNameTaken         = errors.New("name taken")
	ErrMarkerNotFound    = errors.New("marker not found")
	ErrDestinationInside = errors.New("destination inside the source")
	// ErrIsDirectory: a file operation named a directory (the file deleted, copied, moved,
	// linked to or resolved).
	ErrIsDirectory = errors.New("the entry is a directory")
	// ErrSourceMissing: the entry a copy, move or symlink reads from does not exist (or a
	// component of its path is a file), as opposed to a missing destination parent
	// (ErrNodeNotFound).
	ErrSourceMissing = errors.New("source not found")
	// ErrSymlinkOverwrite: an overwrite would replace a symlink's own target with the symlink
	// (or a copy of it), leaving a link to itself.
	ErrSymlinkOverwrite = errors.New("a symlink cannot overwrite its own target")
)

// Space is a tenant space (SMH API section 2). A single-tenant library has exactly one, "-",
// created with the library's first use.
type Space struct {
	LibraryID string
	ID        string
	// UserID created the space (the token's user id); list-spaces filters on it for non-admins.
	UserID    string
	CreatedAt time.Time
	Ext       SpaceExtension
}

// SpaceExtension is the space's settings (2.1, 2.5, 2.6). IsMultiAlbum is fixed at creation.
type SpaceExtension struct {
	IsPublicRead              bool
	IsMultiAlbum              bool
	AllowPhoto                bool
	AllowVideo                bool
	AllowPhotoExtname         []string
	AllowVideoExtname         []string
	AllowFileExtname          []string
	RecognizeSensitiveContent bool
	SpaceTag                  string
	// RecycleRetentionDays is the space's own bin retention (5.9 ?lifecycle, 1-10000); 0 = the
	// library's autoRemoveRecycledDays. Not part of 2.5's answer.
	RecycleRetentionDays int
	// DownloadTrafficLimit is the space's download pace in bytes per second (2.10
	// setSpaceTrafficLimit, docs/fileops.md); 0 = none. Not part of 2.5's answer.
	DownloadTrafficLimit int64
}

// SpaceCounts are a space's per-space counters, kept in the same transactions as the tree
// changes that move them (so they are exact, not recomputed).
type SpaceCounts struct {
	Size            int64 // bytes of live files
	RecycledSize    int64 // bytes of files in the recycle bin
	HistorySize     int64 // bytes of history versions
	FileNum         int64
	DirNum          int64
	RecycledFileNum int64
	RecycledDirNum  int64
	HistoryFileNum  int64
}

// Usage is what counts against a quota: live bytes, bytes in the bin and bytes of versions
// (docs/lifecycle.md "Quota", decision 16).
func (c SpaceCounts) Usage() int64 { return c.Size + c.RecycledSize + c.HistorySize }

// LibraryUsage is a library's live counters summed over its spaces: the usage figures of the
// admin API's library object (docs/architecture.md, "The admin API").
type LibraryUsage struct {
	LibraryID string
	Size      int64 // bytes used: live files, the bins and history versions (SpaceCounts.Usage)
	DirNum    int64
	FileNum   int64
}

// SpaceListOptions selects a page of spaces (2.3, 2.4). Ordered listing is by space id.
type SpaceListOptions struct {
	// UserID, when set, keeps only the spaces that user created.
	UserID string
	// After is the exclusive lower bound (a marker or start_name); Prefix filters ids.
	After  string
	Prefix string
	Limit  int
}

// NodeType is what a tree entry is.
type NodeType string

// Node types as SMH names them (4.2 "type").
const (
	TypeDir     NodeType = "dir"
	TypeFile    NodeType = "file"
	TypeImage   NodeType = "image"
	TypeVideo   NodeType = "video"
	TypeSymlink NodeType = "symlink"
	// TypeVirtual is a metadata-only file (3.17 createVirtualFile): no blob, a declared size.
	TypeVirtual NodeType = "virtual"
)

// Node is one entry of a space's tree. Inode is a stable id: it survives renames and moves, so
// favorites, history and recycle-bin records can point at it (issue 3: "stable inode ids").
type Node struct {
	Inode       int64
	LibraryID   string
	SpaceID     string
	ParentInode int64 // 0 for entries of the root
	Name        string
	Type        NodeType
	UserID      string
	CreatedAt   time.Time
	ModifiedAt  time.Time
	// LocalCreationTime and LocalModificationTime are the client's own times, stored as sent.
	LocalCreationTime     string
	LocalModificationTime string
	Size                  int64
	ContentType           string
	ETag                  string
	CRC64                 string
	MetaData              map[string]string
	Labels                []string
	// BlobID names the object service's blob holding a file's bytes; "" for directories and
	// symlinks. Copies share it.
	BlobID string
	// LinkTarget is a symlink's target inode: always a live file, never another symlink.
	LinkTarget int64
	// Category is the client's category of a file (3.1 body).
	Category string
	// Version numbers a file's current content (1 = its first; each overwrite kept as a history
	// version adds one); CreationWay says how that content came (HistoryCreated, HistoryUpdated,
	// HistoryRestored); LatestAt when it became the latest (zero = at creation). See 9.4.
	Version     int64
	CreationWay int
	LatestAt    time.Time
}

// How a file's content came to be (9.4 creationWay).
const (
	HistoryCreated  = 0
	HistoryUpdated  = 1
	HistoryRestored = 2
)

// IsDir reports whether the node holds children.
func (n Node) IsDir() bool { return n.Type == TypeDir }

// IsSymlink reports whether the node is a symbolic link (3.15).
func (n Node) IsSymlink() bool { return n.Type == TypeSymlink }

// Placed is where a file operation put an entry: the entry, its final path (after a rename
// strategy picked "name (1).ext") and whether it replaced an existing file in place.
type Placed struct {
	Node Node
	Path []string
	// Overwritten: strategy overwrite replaced a file that held the name (3.4 isOverwritten).
	Overwritten bool
}

// Resolved is a file found for reading: a symlink is followed to its target.
type Resolved struct {
	// Node is the file (a symlink's target when the path named a symlink).
	Node Node
	// Path is Node's own path.
	Path []string
	// LinkPath is the symlink's path when the path named one; nil otherwise.
	LinkPath []string
	// TrafficLimit is the space's download traffic limit, bytes per second (0 = none), for
	// ResolveFile's readers (issue 12 fileops).
	TrafficLimit int64
}

// SpaceFile is a space and the file a path of it names, read together (ResolveFileInSpace).
type SpaceFile struct {
	Space Space
	File  Resolved
	// FileErr is ResolveFile's error for the path (ErrNodeNotFound, ErrIsDirectory, ...); File
	// is zero then.
	FileErr error
}

// SpaceDestination is a space and what an upload to a path of it finds there, read together
// (DestinationInSpace): Lookup's answers for the path and, when nothing is there, for its parent.
type SpaceDestination struct {
	Space Space
	// Existing is the live entry at the path; ExistingErr is Lookup's error for the path when
	// there is none (ErrNodeNotFound: the name is free; ErrNotDirectory: a file on the way).
	Existing    Node
	ExistingErr error
	// ParentErr says, when the name is free, why its parent cannot hold it: Lookup's error for
	// the parent, or ErrNotDirectory when the parent is a file. Nil: it can.
	ParentErr error
}

// OrderBy is a listing order (4.2 order_by).
type OrderBy string

// Listing orders.
const (
	OrderDefault               OrderBy = ""
	OrderName                  OrderBy = "name"
	OrderModificationTime      OrderBy = "modificationTime"
	OrderSize                  OrderBy = "size"
	OrderCreationTime          OrderBy = "creationTime"
	OrderLocalCreationTime     OrderBy = "localCreationTime"
	OrderLocalModificationTime OrderBy = "localModificationTime"
)

// ListOptions select a page of a directory's children (4.2).
type ListOptions struct {
	OrderBy OrderBy
	Desc    bool
	// Union mixes directories and files in one order; otherwise directories come first.
	Union bool
	// OnlyDirs / OnlyFiles filter (filter=onlyDir / onlyFile).
	OnlyDirs, OnlyFiles bool
	// Prefix and StartName (exclusive) apply with name order only.
	Prefix, StartName string
	// Marker continues a marker-mode listing (opaque, made by the store); Offset is page mode.
	Marker string
	Offset int
	Limit  int
}

// Page is one page of children with the directory's direct-child counts.
type Page struct {
	Entries     []Node
	NextMarker  string // "" on the last page
	FileCount   int64
	SubDirCount int64
}

// Conflict is the conflict resolution strategy for a name that is taken.
type Conflict string

// Strategies (SMH API pitfall 4).
const (
	ConflictAsk       Conflict = "ask"
	ConflictRename    Conflict = "rename"
	ConflictOverwrite Conflict = "overwrite"
)

// DirAttrs are the optional attributes of a created directory (4.1 body).
type DirAttrs struct {
	UserID                string
	MetaData              map[string]string
	Labels                []string
	LocalCreationTime     string
	LocalModificationTime string
}

// TaskRecord is a stored asynchronous task (decision 7, 7.1; see tasks.go).
type TaskRecord struct {
	ID        int32
	LibraryID string
	SpaceID   string
	// Kind is the task's type (TaskCopyDirectory, TaskBatchRestoreRecycle; "" before kinds).
	Kind string
	// Status is TaskRunning, TaskDone, TaskEmpty, TaskPartial, TaskAllFailed or TaskFailed as
	// recorded; a running task whose owner stopped beating is still TaskRunning here (the use
	// case reads it as interrupted).
	Status int
	// Result is a finished task's result as JSON, read by its kind; "" = none.
	Result string
	// Failure names why a failed task failed: a key of taskFailures, "" for an unexpected error.
	Failure string
	// Owner is the instance running the task; HeartbeatAt its last sign of life.
	Owner       string
	CreatedAt   time.Time
	HeartbeatAt time.Time
	// FinishedAt is zero while the task runs.
	FinishedAt time.Time
}

// Store is the namespace service's SQL store: spaces, the tree and its counters. Every method is
// one transaction. Paths are slices of names relative to the space root; nil is the root.
type Store interface {
	CreateSpace(ctx context.Context, s Space) error
	GetSpace(ctx context.Context, libraryID, spaceID string) (Space, error)
	ListSpaces(ctx context.Context, libraryID string, opts SpaceListOptions) (spaces []Space, more bool, err error)
	CountSpaces(ctx context.Context, libraryID string) (int64, error)
	// UpdateSpaceExtension applies change to the stored extension in one transaction.
	UpdateSpaceExtension(ctx context.Context, libraryID, spaceID string, change func(SpaceExtension) (SpaceExtension, error)) error
	// DeleteSpace removes a space and its tree; without force a space with entries answers
	// ErrSpaceNotEmpty.
	DeleteSpace(ctx context.Context, libraryID, spaceID string, force bool) error
	SpaceCounts(ctx context.Context, libraryID, spaceID string) (SpaceCounts, error)
	// LibraryCounts sums the counters of every space of a library.
	LibraryCounts(ctx context.Context, libraryID string) (SpaceCounts, error)
	// LibrariesUsage sums the counters of each library's spaces in one query (Size is the usage:
	// live + bin + versions). It answers one entry per id, in the order given, zeros for a
	// library without spaces.
	LibrariesUsage(ctx context.Context, libraryIDs []string) ([]LibraryUsage, error)
	// DeleteLibrary removes every space and entry of a library.
	DeleteLibrary(ctx context.Context, libraryID string) error

	// Lookup resolves a path: ErrNodeNotFound when a component is missing, ErrNotDirectory when a
	// component before the last is a file. The root (empty path) is a directory node with Inode 0.
	Lookup(ctx context.Context, libraryID, spaceID string, path []string) (Node, error)
	// MakeDirectories creates path and its missing parents. The strategy applies to the last
	// component only: ask → ErrNameTaken when it exists; rename → "name (1)", "name (2)" ...
	// Answers the created directory (with its final name) and its path.
	MakeDirectories(ctx context.Context, libraryID, spaceID string, path []string, strategy Conflict, attrs DirAttrs, now time.Time) (Node, []string, error)
	// CreateFile creates the file at path; its parent must exist (ErrNodeNotFound; a file on the
	// way is ErrNotDirectory). f supplies type (file, image or video; "" = file), size, content,
	// blob, category and client attributes. ask refuses a taken name (ErrNameTaken), rename
	// gives "name (1).ext", overwrite replaces a file or symlink in place: same inode (so
	// symlinks, favorites and history follow it), new content, the size counter moved by the
	// difference, Placed.Overwritten set. Overwriting a directory is ErrNameTaken.
	CreateFile(ctx context.Context, libraryID, spaceID string, path []string, f Node, strategy Conflict, rules WriteRules, now time.Time) (Placed, error)
	// CommitUpload is CreateFile keyed by the upload it commits: with a non-empty uploadID, a
	// repeat answers the entry the first commit made instead of placing another.
	CommitUpload(ctx context.Context, libraryID, spaceID string, path []string, f Node, strategy Conflict, uploadID string, rules WriteRules, now time.Time) (Placed, error)
	// List answers a page of a directory's children. OrderDefault lists directories first, each
	// group by name; media libraries ask for OrderCreationTime for their files themselves.
	List(ctx context.Context, libraryID, spaceID string, dir int64, opts ListOptions) (Page, error)
	// Move renames or moves the entry at from to to (creating to's missing parents), in O(1)
	// whatever the size of the subtree. ErrDestinationInside when to lies under from.
	Move(ctx context.Context, libraryID, spaceID string, from, to []string, strategy Conflict, rules WriteRules, now time.Time) ([]string, error)
	// CopyTree copies the subtree at from to to (creating missing parents). It answers the final path.
	CopyTree(ctx context.Context, libraryID, spaceID string, from, to []string, strategy Conflict, rules WriteRules, now time.Time) ([]string, error)
	// DeleteTree removes the entry at path and everything under it in O(depth) whatever the
	// subtree's size, adjusting the counters: into the bin (answering the item) when
	// rules.Recycle, otherwise for good (the rows are queued for purging).
	DeleteTree(ctx context.Context, libraryID, spaceID string, path []string, rules WriteRules, now time.Time) (Deleted, error)
	// TreeStats sums the live entries below path (not the entry itself): Size, FileNum and
	// DirNum of the result. ErrNotDirectory when path is a file.
	TreeStats(ctx context.Context, libraryID, spaceID string, path []string) (SpaceCounts, error)
	// CountTree counts the entries under path, not the entry itself, stopping at atMost (for the
	// async threshold of decision 7).
	CountTree(ctx context.Context, libraryID, spaceID string, path []string, atMost int64) (int64, error)
	// UpdateAttrs replaces a node's labels and/or metadata (nil = keep), by userID (the change
	// feed's actor).
	UpdateAttrs(ctx context.Context, libraryID, spaceID string, path []string, labels []string, meta map[string]string,
		userID string, now time.Time) error
	// MergeMeta sets the pairs of set and removes the keys of del in the stored metadata, keeping
	// the others, and replaces labels unless nil (3.16 metaDataDirective merge). check judges the
	// merged metadata inside the same transaction; its error aborts the update and is answered.
	MergeMeta(ctx context.Context, libraryID, spaceID string, path []string, labels []string, set map[string]string, del []string,
		check func(merged map[string]string) error, userID string, now time.Time) error
	// PathOf answers the path of an inode ("" components never occur); ErrNodeNotFound if gone.
	PathOf(ctx context.Context, libraryID, spaceID string, inode int64) ([]string, error)

	// File entries (section 3). Files never get missing parents created: a missing destination
	// parent is ErrNodeNotFound, a file on the way ErrNotDirectory. A symlink counts as a file
	// of size 0 and references no blob of its own.

	// DeleteFile deletes the file or symlink at path together with every symlink pointing at it
	// (3.12), adjusting the counters, as DeleteTree does. ErrIsDirectory for a directory.
	DeleteFile(ctx context.Context, libraryID, spaceID string, path []string, rules WriteRules, now time.Time) (Deleted, error)
	// CopyFile copies the file or symlink at from to to (3.13): a new entry sharing the blob (a
	// copied symlink points at the same target). Overwrite replaces the destination file in
	// place. ErrSourceMissing / ErrIsDirectory for the source.
	CopyFile(ctx context.Context, libraryID, spaceID string, from, to []string, strategy Conflict, rules WriteRules, now time.Time) (Placed, error)
	// MoveFile renames or moves the file or symlink at from to to (3.14), keeping its inode, so
	// symlinks to it follow. Overwrite removes the replaced file and points its symlinks at the
	// moved file. Moving onto its own path changes nothing.
	MoveFile(ctx context.Context, libraryID, spaceID string, from, to []string, strategy Conflict, rules WriteRules, now time.Time) (Placed, error)
	// CreateSymlink makes a symlink at path to the file at target (3.15); a symlink target is
	// followed to its final file. ErrSourceMissing when target is missing, ErrIsDirectory when it
	// is a directory. Overwrite turns the existing file into the symlink in place.
	CreateSymlink(ctx context.Context, libraryID, spaceID string, path, target []string, strategy Conflict, userID string, rules WriteRules, now time.Time) (Placed, error)
	// ResolveFile answers the file at path for reading, a symlink followed to its target.
	// ErrIsDirectory for a directory.
	ResolveFile(ctx context.Context, libraryID, spaceID string, path []string) (Resolved, error)
	// ResolveFileInSpace is GetSpace and ResolveFile in one read (a download needs both):
	// ErrSpaceNotFound when there is no space; else the space and ResolveFile's answer for path,
	// its error in FileErr.
	ResolveFileInSpace(ctx context.Context, libraryID, spaceID string, path []string) (SpaceFile, error)
	// DestinationInSpace is GetSpace and the Lookups an upload's check makes (the path, then its
	// parent) in one read: a begin needs them all. Errors are GetSpace's; what the path and its
	// parent hold is in the answer.
	DestinationInSpace(ctx context.Context, libraryID, spaceID string, path []string) (SpaceDestination, error)
	// NodeByInode answers a live entry by inode and its path; ErrNodeNotFound when there is
	// none (or it is deleted).
	NodeByInode(ctx context.Context, libraryID, spaceID string, inode int64) (Node, []string, error)
	// FirstMedia answers dir's first live image or video by creation time, then inode (the
	// album cover of 4.8); ErrNodeNotFound when it holds none.
	FirstMedia(ctx context.Context, libraryID, spaceID string, dir int64) (Node, error)
	// ReferencedBlobs answers the subset of blobIDs that some row, live or soft-deleted, still
	// names (the object service's garbage collection).
	ReferencedBlobs(ctx context.Context, blobIDs []string) ([]string, error)

	RecycleStore
	HistoryStore
	QuotaStore
	BatchStore   // issue 12, batch: chunked deletes and cross-space items (app/batch.go)
	FileOpsStore // issue 12 fileops
	SearchStore
	DeltaStore
	FavoriteStore // favorites (issue 12 item 4)
	// ---- issue 13 shares
	ShareStore // share links (section 13, docs/shares.md)
	// ---- end issue 13 shares

	// Asynchronous tasks (decision 7, 7.1): their state, shared by every replica.

	// CreateTask records a running task of owner (heartbeat now) and answers its id: a positive
	// int32, unique across replicas and restarts. ErrSpaceNotFound when the space is gone.
	CreateTask(ctx context.Context, libraryID, spaceID, kind, owner string, now time.Time) (int32, error)
	// FinishTask records a running task's outcome: its status, its result as JSON ("" = none)
	// and, for TaskFailed, the failure's name.
	// A task no longer running (or gone with its space) is left as it is.
	FinishTask(ctx context.Context, id int32, status int, result, failure string, now time.Time) error
	// HeartbeatTasks sets the heartbeat of owner's running tasks to now.
	HeartbeatTasks(ctx context.Context, owner string, now time.Time) error
	// GetTasks answers the space's tasks among ids, by id; ids it does not hold are left out.
	GetTasks(ctx context.Context, libraryID, spaceID string, ids []int32) ([]TaskRecord, error)
	// PurgeTasks deletes up to limit tasks that finished before before, or that still read as
	// running with a last heartbeat before before (their process died), and answers how many.
	PurgeTasks(ctx context.Context, before time.Time, limit int) (int64, error)
}

// --- favorites (issue 12 item 4): SMH API section 11, docs/favorites.md ---

// FavoriteStore keeps each user's favorites and recently used files of a space. Entries are
// named by inode; an entry that is deleted (its row, or an ancestor's, marked deleted) or purged
// (its row gone) keeps its favorite, which then lists as deleted, and drops out of the recent
// files. Both go with their space (ON DELETE CASCADE).
type FavoriteStore interface {
	// AddFavorite records inode as userID's favorite at now: ErrNodeNotFound when inode is not
	// a live entry of the space, ErrFavoriteExists when it is a favorite already.
	AddFavorite(ctx context.Context, libraryID, spaceID, userID string, inode int64, now time.Time) error
	// RemoveFavorite forgets a favorite, live target or not: ErrFavoriteNotFound when there is
	// none.
	RemoveFavorite(ctx context.Context, libraryID, spaceID, userID string, inode int64) error
	// ListFavorites answers a page of userID's favorites in favoriteTime order.
	ListFavorites(ctx context.Context, libraryID, spaceID, userID string, opts FavoriteListOptions) (FavoritePage, error)
	// FavoritedAmong answers which of inodes userID has favorited, in one query.
	FavoritedAmong(ctx context.Context, libraryID, spaceID, userID string, inodes []int64) (map[int64]bool, error)
	// RecordRecent notes userID's action on the file inode at now (one row per file and action,
	// refreshed on repeat) and keeps only the user's keep newest rows of the space.
	RecordRecent(ctx context.Context, libraryID, spaceID, userID string, inode int64, action RecentAction, now time.Time, keep int) error
	// ListRecent answers a page of userID's recently used live files, newest first.
	ListRecent(ctx context.Context, libraryID, spaceID, userID string, opts RecentListOptions) (RecentPage, error)
}

// Favorite store errors.
var (
	ErrFavoriteExists   = errors.New("already a favorite")
	ErrFavoriteNotFound = errors.New("not a favorite")
)

// FavoriteListOptions select a page of favorites (11.3): marker mode (Marker, opaque, made by
// the store) or page mode (Offset, with Count asking for the total).
type FavoriteListOptions struct {
	Desc   bool
	Marker string
	Offset int
	Limit  int
	Count  bool
	// WithPath answers each live target's path.
	WithPath bool
}

// Favorite is one favorite as listed. Deleted: the target is gone (Node then holds only its
// inode); Path is set with WithPath for a live target.
type Favorite struct {
	Inode       int64
	UserID      string
	FavoritedAt time.Time
	Deleted     bool
	Node        Node
	Path        []string
}

// FavoritePage is one page of favorites; NextMarker is "" on the last page; Total is counted
// with Count.
type FavoritePage struct {
	Items      []Favorite
	NextMarker string
	Total      int64
}

// RecentAction is what a user did to a recently used file (11.4 actionType).
type RecentAction string

// Recorded actions: a preview (download or info with purpose=preview) and a modification (an
// overwrite upload, docs/favorites.md).
const (
	RecentPreview RecentAction = "preview"
	RecentModify  RecentAction = "modify"
)

// RecentListOptions select a page of recent files (11.4). Action "" takes both; Match, when
// set, keeps only the files it accepts (the type filter).
type RecentListOptions struct {
	Marker   string
	Limit    int
	Action   RecentAction
	Match    func(Node) bool
	WithPath bool
}

// RecentFile is one recently used file: the live file, the action and when it was last done.
type RecentFile struct {
	Node       Node
	Action     RecentAction
	OperatedAt time.Time
	Path       []string
}

// RecentPage is one page of recent files; NextMarker is "" on the last page.
type RecentPage struct {
	Items      []RecentFile
	NextMarker string
}

// --- end favorites ---
