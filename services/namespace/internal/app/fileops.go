package app

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/fileattr"
)

// Issue 12 fileops (docs/fileops.md): virtual files (3.17), the flat contents view (2.10), the
// space's download traffic limit (2.10) and directory stats by type with their calibration (4.9).

var (
	// ErrVirtualFile: the operation moves content, and a virtual file has none (3.17, decision
	// 25): download, preview, an upload into it, a symlink to it.
	ErrVirtualFile = errors.New("the operation is not supported on a virtual file")
	// ErrNotVirtual: contentType and size of ?update change only virtual files (3.16).
	ErrNotVirtual = errors.New("only a virtual file's contentType and size can be changed")
	// ErrCalibrateRateLimited: the directory's stats of this type were calibrated less than
	// calibrateEvery ago (4.9: rate-limited).
	ErrCalibrateRateLimited = errors.New("calibration rate limit exceeded")
)

// OrderUploadTime is the contents view's uploadTime order: the creation time, since a file's
// entry is created by the upload that confirms it (docs/fileops.md).
const OrderUploadTime OrderBy = "uploadTime"

// Directory stats types (4.9 stats_type).
const (
	StatsNormal  = "normal"
	StatsRecycle = "recycle"
	StatsHistory = "history"
)

// TaskCalibrateDirectoryStats is the kind of a calibration task (4.9, 7.3); stored, never rename.
const TaskCalibrateDirectoryStats = "calibrateDirectoryStats"

// calibrateEvery is the calibration rate limit: once a minute per directory and stats type.
const calibrateEvery = time.Minute

// Traffic limit bounds (2.10 setSpaceTrafficLimit), bytes per second; -1 removes the limit.
const (
	MinTrafficLimit = 100 << 10
	MaxTrafficLimit = 100 << 20
)

// ContentsViewOptions select a page of the flat contents view (2.10).
type ContentsViewOptions struct {
	// OnlyDirs lists directories; otherwise files (symlinks and virtual files included).
	OnlyDirs bool
	OrderBy  OrderBy
	Desc     bool
	Marker   string
	Limit    int
	// Category, when set, keeps the entries of exactly that category.
	Category string
	WithPath bool
}

// ContentsPage is one page of the contents view; Paths[i] is Entries[i]'s path with WithPath.
type ContentsPage struct {
	Entries    []Node
	Paths      [][]string
	NextMarker string
}

// FileOpsStore is the store side of the fileops use cases.
type FileOpsStore interface {
	// ContentsView answers a page of the space's live entries of one kind in one order,
	// ignoring hierarchy; ErrMarkerNotFound for a marker this view did not make.
	ContentsView(ctx context.Context, libraryID, spaceID string, opts ContentsViewOptions) (ContentsPage, error)
	// UpdateVirtual sets a virtual file's content type and/or size (nil keeps), moving the
	// counters by the size difference under the quota; ErrNotVirtual for any other entry.
	UpdateVirtual(ctx context.Context, libraryID, spaceID string, path []string, contentType *string, size *int64, rules WriteRules, now time.Time) error
	// TreeHistoryStats sums the versions of the live files below path: bytes and number.
	TreeHistoryStats(ctx context.Context, libraryID, spaceID string, path []string) (size, count int64, err error)
	// ClaimCalibration records a calibration of key now, or ErrCalibrateRateLimited when the
	// last one started less than every ago.
	ClaimCalibration(ctx context.Context, libraryID, spaceID, key string, every time.Duration, now time.Time) error
	// CalibrateStats recomputes the stored totals of statsType from the rows (see the store).
	CalibrateStats(ctx context.Context, libraryID, spaceID string, path []string, statsType string, recycledID int64) error
}

// VirtualFile is the body of createVirtualFile (3.17).
type VirtualFile struct {
	ContentType           string
	MetaData              map[string]string
	Labels                []string
	Category              string
	Size                  int64
	LocalCreationTime     string
	LocalModificationTime string
}

// CreateVirtualFile creates a metadata-only file (3.17 createVirtualFile): admin, space_admin,
// upload_file, upload_file_force or create_virtual. Default strategy rename; overwrite replaces a
// file and needs upload_file_force (decision 3). Its size counts against the quota.
func (n *Namespace) CreateVirtualFile(ctx context.Context, libraryID, spaceID, rawPath, strategy string, v VirtualFile) (Placed, error) {
	t, err := n.openFile(ctx, libraryID, spaceID, rawPath, false,
		authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce, authz.CreateVirtual)
	if err != nil {
		return Placed{}, err
	}
	c, err := parseFileStrategy(strategy)
	if err != nil {
		return Placed{}, err
	}
	if v.Size < 0 {
		return Placed{}, invalid("size must not be negative")
	}
	if err := fileattr.Check(v.MetaData, v.Labels, v.Category); err != nil {
		return Placed{}, err
	}
	if err := fileRule(t.r.lib, t.space, t.path); err != nil {
		return Placed{}, err
	}
	force := t.p.Has(authz.UploadFileForce)
	f := Node{
		Type: TypeVirtual, UserID: userOf(t.p), Size: v.Size, ContentType: v.ContentType,
		MetaData: v.MetaData, Labels: v.Labels, Category: v.Category,
		LocalCreationTime: v.LocalCreationTime, LocalModificationTime: v.LocalModificationTime,
	}
	placed, err := n.store.CreateFile(ctx, libraryID, spaceID, t.path, f, forceStrategy(c, force), t.rules(), n.clock.Now())
	if errors.Is(err, ErrNameTaken) && c == ConflictOverwrite && !force {
		return Placed{}, n.overwriteRefused(ctx, libraryID, spaceID, t.path)
	}
	return placed, err
}

// UpdateVirtual changes a virtual file's content type and/or size (3.16 ?update on the directory
// route, 3.17): admin or space_admin, as the rest of ?update. Other entries: ErrNotVirtual.
func (n *Namespace) UpdateVirtual(ctx context.Context, libraryID, spaceID, rawPath string, contentType *string, size *int64) error {
	t, err := n.open(ctx, libraryID, spaceID, rawPath, false, authz.Admin, authz.SpaceAdmin)
	if err != nil {
		return err
	}
	if len(t.path) == 0 {
		return ErrEmptyPath
	}
	if size != nil && *size < 0 {
		return invalid("size must not be negative")
	}
	return readable(n.store.UpdateVirtual(ctx, libraryID, spaceID, t.path, contentType, size, t.rules(), n.clock.Now()))
}

// ContentsQuery is the contents view's query as the client sent it (2.10).
type ContentsQuery struct {
	Filter, OrderBy, OrderByType, WithPath string
	Marker, Category                       *string
	Limit                                  *int32
}

// contentsOrders are the contents view's order_by values.
var contentsOrders = []OrderBy{OrderName, OrderModificationTime, OrderSize, OrderCreationTime, OrderUploadTime,
	OrderLocalCreationTime, OrderLocalModificationTime}

// ParseContentsQuery checks a contents-view query: filter is required (onlyDir | onlyFile),
// limit 1-1000 (default 20), order_by one of contentsOrders (default name), order_by_type asc |
// desc, with_path true | false | 1 | 0. Anything else is ParamInvalid.
func ParseContentsQuery(q ContentsQuery) (ContentsViewOptions, error) {
	var o ContentsViewOptions
	switch q.Filter {
	case "onlyDir":
		o.OnlyDirs = true
	case "onlyFile":
	default:
		return o, invalid("filter is required: onlyDir or onlyFile")
	}
	o.Limit = 20
	if q.Limit != nil {
		if *q.Limit < 1 || *q.Limit > 1000 {
			return o, invalid("limit must be 1-1000")
		}
		o.Limit = int(*q.Limit)
	}
	o.OrderBy = OrderName
	if q.OrderBy != "" {
		ok := false
		for _, v := range contentsOrders {
			if OrderBy(q.OrderBy) == v {
				ok = true
			}
		}
		if !ok {
			return o, invalid("order_by must be name, modificationTime, size, creationTime, uploadTime, localCreationTime or localModificationTime")
		}
		o.OrderBy = OrderBy(q.OrderBy)
	}
	switch q.OrderByType {
	case "", "asc":
	case "desc":
		o.Desc = true
	default:
		return o, invalid("order_by_type must be asc or desc")
	}
	switch q.WithPath {
	case "", "false", "0":
	case "true", "1":
		o.WithPath = true
	default:
		return o, invalid("with_path must be true or false")
	}
	if q.Marker != nil {
		o.Marker = *q.Marker
	}
	if q.Category != nil {
		o.Category = *q.Category
	}
	return o, nil
}

// ContentsView answers a page of the space's entries of one kind, ignoring hierarchy (2.10
// getContentsView): any principal of the space (read_only, space_admin, admin).
func (n *Namespace) ContentsView(ctx context.Context, libraryID, spaceID string, q ContentsQuery) (ContentsPage, error) {
	t, err := n.open(ctx, libraryID, spaceID, "", false)
	if err != nil {
		return ContentsPage{}, err
	}
	opts, err := ParseContentsQuery(q)
	if err != nil {
		return ContentsPage{}, err
	}
	return n.store.ContentsView(ctx, libraryID, t.space.ID, opts)
}

// SetTrafficLimit stores the space's download traffic limit (2.10 setSpaceTrafficLimit): admin
// or space_admin; the body's value (read by body, after the caller is let in) is
// 102400-104857600 bytes per second, or -1 to remove the limit. The data endpoint paces each
// download of the space's files to it (docs/fileops.md).
func (n *Namespace) SetTrafficLimit(ctx context.Context, libraryID, spaceID string, body func() (int64, error)) error {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return err
	}
	if _, err := r.require(authz.Admin, authz.SpaceAdmin); err != nil {
		return err
	}
	if _, err := n.space(ctx, r, spaceID); err != nil {
		return err
	}
	bytesPerSecond, err := body()
	if err != nil {
		return err
	}
	if bytesPerSecond != -1 && (bytesPerSecond < MinTrafficLimit || bytesPerSecond > MaxTrafficLimit) {
		return invalid("downloadTrafficLimit must be 102400-104857600 or -1")
	}
	return n.store.UpdateSpaceExtension(ctx, libraryID, spaceID, func(cur SpaceExtension) (SpaceExtension, error) {
		cur.DownloadTrafficLimit = max(bytesPerSecond, 0)
		return cur, nil
	})
}

// parseStatsType checks a stats_type (4.9): normal, recycle or history.
func parseStatsType(s string) (string, error) {
	switch s {
	case StatsNormal, StatsRecycle, StatsHistory:
		return s, nil
	}
	return "", &InputError{Err: ErrInvalidStatsType, Reason: "stats_type must be normal, recycle or history"}
}

// parseRecycledID reads recycled_id: "" is none, else a positive integer.
func parseRecycledID(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("recycled_id must be a positive integer")
	}
	return id, nil
}

// typedStats answers ?stats for stats_type recycle and history (4.9, docs/fileops.md): recycle
// at the root is the space's bin counters, with recycled_id what that bin item holds below
// itself; history at the root is the space's version counters, below it the versions of the
// live files under the directory (dirCount is always 0).
func (n *Namespace) typedStats(ctx context.Context, t target, statsType, recycledID string, out DirectoryStats) (DirectoryStats, error) {
	lib, space := t.r.lib.ID, t.space.ID
	id, err := parseRecycledID(recycledID)
	if err != nil {
		return DirectoryStats{}, err
	}
	switch {
	case statsType == StatsRecycle && id != 0:
		it, err := n.store.RecycledItem(ctx, lib, space, id)
		if err != nil {
			return DirectoryStats{}, err
		}
		out.Storage, out.FileCount, out.DirCount = it.Totals.Size, it.Totals.Files, it.Totals.Dirs
		if it.Node.IsDir() {
			out.DirCount-- // the item itself, as ?stats counts below the directory
		}
		return out, nil
	case statsType == StatsRecycle && len(t.path) > 0:
		return DirectoryStats{}, invalid("recycled_id is required for stats_type recycle except at the root")
	case len(t.path) == 0:
		c, err := n.store.SpaceCounts(ctx, lib, space)
		if err != nil {
			return DirectoryStats{}, err
		}
		if statsType == StatsRecycle {
			out.Storage, out.FileCount, out.DirCount = c.RecycledSize, c.RecycledFileNum, c.RecycledDirNum
		} else {
			out.Storage, out.FileCount = c.HistorySize, c.HistoryFileNum
		}
		return out, nil
	}
	size, count, err := n.store.TreeHistoryStats(ctx, lib, space, t.path)
	if err != nil {
		return DirectoryStats{}, readable(err)
	}
	out.Storage, out.FileCount = size, count
	return out, nil
}

// CalibrateResult is the typed result of a calibration task (7.3 calibrateDirectoryStatsResult).
type CalibrateResult struct {
	Status int    `json:"status"`
	Code   string `json:"code,omitempty"`
}

// CalibrateDirectoryStats starts a task that recomputes the stored totals of statsType for the
// directory at rawPath from the rows (4.9 calibrateDirectoryStats): admin or space_admin; at most
// once a minute per directory and stats type (ErrCalibrateRateLimited); recycle below the root
// needs recycled_id. Answers the task id.
func (n *Namespace) CalibrateDirectoryStats(ctx context.Context, libraryID, spaceID, rawPath, statsType, recycledID string) (int32, error) {
	t, err := n.open(ctx, libraryID, spaceID, rawPath, false, authz.Admin, authz.SpaceAdmin)
	if err != nil {
		return 0, err
	}
	if statsType, err = parseStatsType(statsType); err != nil {
		return 0, err
	}
	id, err := parseRecycledID(recycledID)
	if err != nil {
		return 0, err
	}
	lib, space := t.r.lib.ID, t.space.ID
	var key string
	switch {
	case statsType == StatsRecycle && id == 0 && len(t.path) > 0:
		return 0, invalid("recycled_id is required for stats_type recycle except at the root")
	case statsType == StatsRecycle && id != 0:
		if _, err := n.store.RecycledItem(ctx, lib, space, id); err != nil {
			return 0, err
		}
		key = StatsRecycle + ":item:" + strconv.FormatInt(id, 10)
	default:
		node, err := n.store.Lookup(ctx, lib, space, t.path)
		if err != nil {
			return 0, readable(err)
		}
		if !node.IsDir() {
			return 0, ErrNodeNotFound
		}
		key = statsType + ":" + strconv.FormatInt(node.Inode, 10)
	}
	if err := n.store.ClaimCalibration(ctx, lib, space, key, calibrateEvery, n.clock.Now()); err != nil {
		return 0, err
	}
	path := t.path
	return n.tasks.start(ctx, lib, space, TaskCalibrateDirectoryStats, func(ctx context.Context) (taskOutcome, error) {
		if err := n.store.CalibrateStats(ctx, lib, space, path, statsType, id); err != nil {
			return taskOutcome{}, readable(err)
		}
		return taskOutcome{status: TaskDone, result: CalibrateResult{Status: 200}}, nil
	})
}
