package app

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
)

// History versions (SMH API section 9, decisions 19 and 24, docs/lifecycle.md).

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
	// answers ErrHistoryNotFound and nothing is removed. userID is the change feed's actor.
	DeleteVersions(ctx context.Context, libraryID, spaceID string, ids []int64, userID string, now time.Time) error
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

// HistorySettings are a library's history switches (9.1). MergeInterval is always 0: merging
// overwrites within a window is not supported (docs/lifecycle.md), so only 0 is accepted.
type HistorySettings struct {
	Enabled       bool
	Count         int
	ExpireDay     int
	MergeInterval int
}

// HistoryPatch is a 9.2 body: nil fields keep their value.
type HistoryPatch struct {
	Enabled       *bool
	Count         *int64
	ExpireDay     *int64
	MergeInterval *int64
}

// LibrarySettings changes a library's settings in the library service (which owns them).
type LibrarySettings interface {
	// SetFileHistory patches the history switches; nil keeps a value.
	SetFileHistory(ctx context.Context, libraryID string, enabled *bool, count, expireDay *uint32) error
}

// Ranges of 9.2 (the library service checks them too).
const (
	maxFileHistoryCount     = 999
	maxFileHistoryExpireDay = 999
	// clearHistoryEvery is 9.3's rate limit: one purge of a library's versions a minute.
	clearHistoryEvery = time.Minute
	// maxHistoryIDs bounds a 9.5 body.
	maxHistoryIDs = 100
)

// libraryAdmin authenticates an admin of the whole library: the history settings and their
// purge cover every tenant, so a token minted for some spaces is refused whatever its grants
// (as for library usage, docs/security.md).
func (n *Namespace) libraryAdmin(ctx context.Context, libraryID string) (request, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return request{}, err
	}
	p, err := r.require(authz.Admin)
	if err != nil {
		return request{}, err
	}
	if r.lib.IsMultiSpace && len(p.SpaceIDs) > 0 && !p.AllSpaces {
		return request{}, authz.ErrNoPermission
	}
	return r, nil
}

// HistorySettings answers the library's history switches (9.1): library-wide admin.
func (n *Namespace) HistorySettings(ctx context.Context, libraryID string) (HistorySettings, error) {
	// Read afresh, not from this replica's cache: a client that just changed the switches
	// through another replica reads what it wrote (settings reads are rare). Forgotten first,
	// so the request's one read of the library is the fresh one.
	n.libraries.forget(libraryID)
	r, err := n.libraryAdmin(ctx, libraryID)
	if err != nil {
		return HistorySettings{}, err
	}
	return HistorySettings{Enabled: r.lib.EnableFileHistory, Count: r.lib.FileHistoryCount, ExpireDay: r.lib.FileHistoryExpireDay}, nil
}

// SetHistorySettings changes the library's history switches (9.2): library-wide admin, partial, ranges
// checked before anything changes. The library service stores them; this instance forgets its
// cached facts of the library at once. Other replicas answer the settings (9.1) and judge a purge
// (9.3) afresh; their uploads follow the new switches within their cache's age (LibraryTTL, 2 s).
func (n *Namespace) SetHistorySettings(ctx context.Context, libraryID string, patch HistoryPatch) error {
	if _, err := n.libraryAdmin(ctx, libraryID); err != nil {
		return err
	}
	count, expire, err := CheckHistoryPatch(patch)
	if err != nil {
		return err
	}
	if patch.Enabled == nil && count == nil && expire == nil {
		return nil
	}
	if n.settings == nil {
		return errors.New("namespace: no library settings writer configured")
	}
	defer n.libraries.forget(libraryID)
	return n.settings.SetFileHistory(ctx, libraryID, patch.Enabled, count, expire)
}

// CheckHistoryPatch checks a 9.2 body's ranges before anything changes and answers the counts as
// the library service stores them (nil = keep): fileHistoryCount 1-999
// (ErrInvalidFileHistoryCount), fileHistoryExpireDay 0-999 (ErrInvalidFileHistoryExpireDay),
// mergeInterval 0 only (ErrInvalidFileHistoryMergeInterval: merging is not supported).
func CheckHistoryPatch(patch HistoryPatch) (count, expire *uint32, err error) {
	if patch.Count != nil {
		if *patch.Count < 1 || *patch.Count > maxFileHistoryCount {
			return nil, nil, &InputError{Err: ErrInvalidFileHistoryCount, Reason: "fileHistoryCount must be between 1 and 999"}
		}
		c := uint32(*patch.Count)
		count = &c
	}
	if patch.ExpireDay != nil {
		if *patch.ExpireDay < 0 || *patch.ExpireDay > maxFileHistoryExpireDay {
			return nil, nil, &InputError{Err: ErrInvalidFileHistoryExpireDay, Reason: "fileHistoryExpireDay must be between 0 and 999"}
		}
		e := uint32(*patch.ExpireDay)
		expire = &e
	}
	if patch.MergeInterval != nil && *patch.MergeInterval != 0 {
		return nil, nil, &InputError{Err: ErrInvalidFileHistoryMergeInterval, Reason: "mergeInterval must be 0: merging overwrites into one version is not supported"}
	}
	return count, expire, nil
}

// ClearLibraryHistory removes every history version of the library (9.3): library-wide admin, with
// history off (ErrHistoryEnabled), at most once a minute (ErrRateLimited). The purge runs in
// this request, in one transaction; the task it answers is already finished (docs/lifecycle.md).
func (n *Namespace) ClearLibraryHistory(ctx context.Context, libraryID string) (int32, error) {
	r, err := n.libraryAdmin(ctx, libraryID)
	if err != nil {
		return 0, err
	}
	if r.lib.EnableFileHistory {
		// The switch may have been turned off through another replica a moment ago (its cache
		// is up to LibraryTTL old): a refusal is judged on the library service's answer, so a
		// client that disabled history and then purges is never refused.
		lib, err := n.libraries.fresh(ctx, libraryID)
		if err != nil {
			return 0, err
		}
		if lib.EnableFileHistory {
			return 0, ErrHistoryEnabled
		}
	}
	task, err := n.store.ClearLibraryHistory(ctx, libraryID, clearHistoryEvery, n.clock.Now())
	if err != nil {
		return 0, err
	}
	return task.ID, nil
}

// LibraryTaskStatus is one answer of the library task query: the task, or Err for an id that
// names none.
type LibraryTaskStatus struct {
	ID   int32
	Task LibraryTask
	Err  error
}

// LibraryTasks answers the library's tasks (7.2): "10" or "10,12,13", at most 100 ids. Any
// principal of the library may ask.
func (n *Namespace) LibraryTasks(ctx context.Context, libraryID, idList string) ([]LibraryTaskStatus, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return nil, err
	}
	if _, err := r.require(); err != nil {
		return nil, err
	}
	ids, err := parseTaskIDs(idList)
	if err != nil {
		return nil, err
	}
	tasks, err := n.store.LibraryTasks(ctx, libraryID, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int32]LibraryTask, len(tasks))
	for _, t := range tasks {
		byID[t.ID] = t
	}
	out := make([]LibraryTaskStatus, 0, len(ids))
	for _, id := range ids {
		if t, ok := byID[id]; ok {
			out = append(out, LibraryTaskStatus{ID: id, Task: t})
		} else {
			out = append(out, LibraryTaskStatus{ID: id, Err: ErrTaskNotFound})
		}
	}
	return out, nil
}

// LibraryTask answers one library task (7.4); ErrTaskNotFound for an unknown id.
func (n *Namespace) LibraryTask(ctx context.Context, libraryID, rawID string) (LibraryTask, error) {
	st, err := n.LibraryTasks(ctx, libraryID, rawID)
	if err != nil {
		return LibraryTask{}, err
	}
	if len(st) != 1 {
		return LibraryTask{}, invalid("name one task id")
	}
	return st[0].Task, st[0].Err
}

// parseHistoryID reads a history id: a positive decimal number.
func parseHistoryID(raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("a history id is a positive decimal number")
	}
	return id, nil
}

// HistoryQuery is a 9.4 query. Page mode (page or page_size given) wins over marker mode.
type HistoryQuery struct {
	Marker   string
	Limit    *int32
	Page     *int32
	PageSize *int32
	// OrderBy id (default) or creationTime; OrderByType desc (default) or asc.
	OrderBy, OrderByType string
}

// HistoryEntry is one item of a version list: the current content (Latest, no ID) or a version.
type HistoryEntry struct {
	Latest  bool
	Version Version
}

// HistoryListing is a 9.4 answer. Total (page mode) counts the current content too.
type HistoryListing struct {
	Entries    []HistoryEntry
	Name       string
	PageMode   bool
	Total      int64
	More       bool
	NextMarker string
}

// latestMarker continues a marker-mode listing whose first page held only the current content.
const latestMarker = "latest"

// ListHistory lists the versions of the file at rawPath (9.4), the current content first
// (decision 24: whatever the history switch). Any principal of the space; a symlink lists its
// target's versions.
func (n *Namespace) ListHistory(ctx context.Context, libraryID, spaceID, rawPath string, q HistoryQuery) (HistoryListing, error) {
	t, err := n.openFile(ctx, libraryID, spaceID, rawPath, false)
	if err != nil {
		return HistoryListing{}, err
	}
	opts := VersionListOptions{Desc: true}
	switch q.OrderBy {
	case "", string(VersionsByID):
		opts.OrderBy = VersionsByID
	case string(VersionsByCreationTime):
		opts.OrderBy = VersionsByCreationTime
	default:
		return HistoryListing{}, invalid("order_by must be id or creationTime")
	}
	switch q.OrderByType {
	case "", "desc":
	case "asc":
		opts.Desc = false
	default:
		return HistoryListing{}, invalid("order_by_type must be asc or desc")
	}
	pageMode := q.Page != nil || q.PageSize != nil
	limit, err := pageLimit(q.Limit, "limit")
	if err != nil {
		return HistoryListing{}, err
	}
	// The listing is [current, versions...]: position 0 is the current content.
	start := 0
	if pageMode {
		if limit, err = pageLimit(q.PageSize, "page_size"); err != nil {
			return HistoryListing{}, err
		}
		page := 1
		if q.Page != nil {
			if page = int(*q.Page); page < 1 {
				return HistoryListing{}, invalid("page starts at 1")
			}
		}
		if page*limit > 10000 {
			return HistoryListing{}, invalid("page x page_size may not pass 10000")
		}
		start = (page - 1) * limit
		opts.Count = true
	} else if q.Marker != "" {
		start = 1
		if q.Marker != latestMarker {
			opts.Marker = q.Marker
		}
	}
	r, err := n.store.ResolveFile(ctx, libraryID, spaceID, t.path)
	if err != nil {
		return HistoryListing{}, notFile(err, ErrFileNotFound)
	}
	out := HistoryListing{Name: r.Node.Name, PageMode: pageMode}
	want := limit
	if start == 0 {
		out.Entries = append(out.Entries, HistoryEntry{Latest: true, Version: currentContent(r.Node)})
		want--
	}
	opts.Limit = max(want, 1)
	if pageMode {
		opts.Offset = max(start-1, 0)
	}
	vp, err := n.store.ListVersions(ctx, libraryID, spaceID, r.Node.Inode, opts)
	if err != nil {
		return HistoryListing{}, err
	}
	if want == 0 {
		// The page holds only the current content; anything after it is on the next page.
		out.More = len(vp.Versions) > 0
		if out.More && !pageMode {
			out.NextMarker = latestMarker
		}
	} else {
		for _, v := range vp.Versions {
			out.Entries = append(out.Entries, HistoryEntry{Version: v})
		}
		out.More, out.NextMarker = vp.More, vp.NextMarker
	}
	if pageMode {
		out.Total = vp.Total + 1
		out.More, out.NextMarker = int64(start+len(out.Entries)) < out.Total, ""
	}
	return out, nil
}

// pageLimit reads a limit or page size: 1-100, default 20.
func pageLimit(v *int32, name string) (int, error) {
	if v == nil {
		return 20, nil
	}
	if *v < 1 || *v > 100 {
		return 0, invalid("%s must be between 1 and 100", name)
	}
	return int(*v), nil
}

// currentContent describes a file's current content as a list entry.
func currentContent(n Node) Version {
	setLatest := n.LatestAt
	if setLatest.IsZero() {
		setLatest = n.ModifiedAt
	}
	return Version{
		LibraryID: n.LibraryID, SpaceID: n.SpaceID, Inode: n.Inode, Version: n.Version, Type: n.Type, Size: n.Size,
		ContentType: n.ContentType, ETag: n.ETag, CRC64: n.CRC64, BlobID: n.BlobID, MetaData: n.MetaData,
		CreatedBy: n.UserID, CreationWay: n.CreationWay, CreatedAt: setLatest, SetLatestAt: setLatest,
	}
}

// DeleteHistory deletes versions of the space (9.5): admin, space_admin or delete_history; 1 to
// 100 ids, all or none (an unknown id answers ErrHistoryNotFound and deletes nothing).
// body is the decoded JSON body (nil when absent), checked after authorization.
func (n *Namespace) DeleteHistory(ctx context.Context, libraryID, spaceID string, body any) error {
	t, err := n.open(ctx, libraryID, spaceID, "", false, authz.Admin, authz.SpaceAdmin, authz.DeleteHistory)
	if err != nil {
		return err
	}
	ids, err := HistoryIDs(body)
	if err != nil {
		return err
	}
	return n.store.DeleteVersions(ctx, libraryID, spaceID, ids, userOf(t.p), n.clock.Now())
}

// HistoryIDs reads a 9.5 body: a JSON array (decoded: []any) of 1 to 100 history ids, each a
// string of a positive decimal number or, leniently, such a number itself.
func HistoryIDs(body any) ([]int64, error) {
	list, ok := body.([]any)
	if !ok {
		return nil, invalid("the body must be a JSON array of history ids")
	}
	if len(list) == 0 || len(list) > maxHistoryIDs {
		return nil, invalid("name 1 to 100 history ids")
	}
	ids := make([]int64, 0, len(list))
	for _, item := range list {
		var raw string
		switch v := item.(type) {
		case string:
			raw = v
		case float64:
			if v != math.Trunc(v) || v < 1 || v > 1<<53 {
				return nil, invalid("a history id is a positive integer")
			}
			raw = strconv.FormatInt(int64(v), 10)
		default:
			return nil, invalid("history ids are strings")
		}
		id, err := parseHistoryID(raw)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// SetLatestVersion makes a version the file's current content (9.6): admin, space_admin or
// set_history_latest. The current content becomes a version; over quota the restore is refused
// (ErrQuotaLimitReached) and changes nothing. Answers the file and its path.
func (n *Namespace) SetLatestVersion(ctx context.Context, libraryID, spaceID, rawID string) (Node, []string, error) {
	t, err := n.open(ctx, libraryID, spaceID, "", false, authz.Admin, authz.SpaceAdmin, authz.SetHistoryLatest)
	if err != nil {
		return Node{}, nil, err
	}
	id, err := parseHistoryID(rawID)
	if err != nil {
		return Node{}, nil, err
	}
	node, path, err := n.store.RestoreVersion(ctx, libraryID, spaceID, id, rulesFor(t.r.lib, t.p), n.clock.Now())
	if errors.Is(err, ErrNodeNotFound) {
		return Node{}, nil, ErrFileNotFound // the file is in the recycle bin
	}
	return node, path, err
}

// withVersion answers r with a version's content in place of the current one (3.8-3.11
// history_id): ErrHistoryNotFound unless the version belongs to the file r names.
func (n *Namespace) withVersion(ctx context.Context, r Resolved, rawID string) (Resolved, error) {
	id, err := parseHistoryID(rawID)
	if err != nil {
		return Resolved{}, err
	}
	v, err := n.store.Version(ctx, r.Node.LibraryID, r.Node.SpaceID, id)
	if err != nil {
		return Resolved{}, err
	}
	if v.Inode != r.Node.Inode {
		return Resolved{}, ErrHistoryNotFound
	}
	f := r.Node
	f.Type, f.Size, f.ContentType, f.ETag, f.CRC64, f.BlobID = v.Type, v.Size, v.ContentType, v.ETag, v.CRC64, v.BlobID
	f.MetaData, f.UserID, f.ModifiedAt = v.MetaData, v.CreatedBy, v.CreatedAt
	f.Version, f.CreationWay, f.LatestAt = v.Version, v.CreationWay, v.SetLatestAt
	r.Node = f
	return r, nil
}
