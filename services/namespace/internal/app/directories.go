package app

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/fileattr"
)

// Directory use-case errors (SMH API 12.6); the transport maps each to its SMH code.
var (
	ErrEmptyPath            = errors.New("path missing")
	ErrIllegalName          = errors.New("illegal file name")
	ErrNameTooLong          = errors.New("directory name too long")
	ErrDirectoryNotAllowed  = errors.New("directories are not allowed in this library or space")
	ErrDirectoryLevelExceed = errors.New("only one level of albums")
	ErrInvalidStrategy      = errors.New("invalid conflict resolution strategy")
	ErrSourceNotFound       = errors.New("source directory not found")
	ErrInvalidSource        = errors.New("invalid source directory")
	ErrInvalidStatsType     = errors.New("invalid directory stats type")
)

// Listing limits (decision 1).
const (
	defaultListLimit = 20
	maxListLimit     = 1000
	maxPageWindow    = 10000
)

// SplitPath parses a directory path as the dispatcher hands it over, percent-decoded once
// (12.3): segments separated by "/", one leading or trailing "/" tolerated, "" is the root.
// Every segment must be a legal name of at most maxLen characters (decision 6).
func SplitPath(raw string, maxLen int) ([]string, error) {
	raw = strings.TrimPrefix(raw, "/")
	raw = strings.TrimSuffix(raw, "/")
	if raw == "" {
		return nil, nil
	}
	parts := strings.Split(raw, "/")
	for _, name := range parts {
		if err := checkName(name, maxLen); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

// checkName applies decision 6: no empty, ".", "..", "/", "\", control characters, bidirectional
// formatting characters or invalid UTF-8 (IllegalFileName); at most maxLen characters, counted as
// runes (DirectoryNameLengthExceed). Names are otherwise kept exactly as given: no normalisation.
// "/" cannot reach here from a split path; the validator refuses it anyway, so a name taken whole
// is held to the same rule.
func checkName(name string, maxLen int) error {
	if name == "" || name == "." || name == ".." || !utf8.ValidString(name) || strings.ContainsAny(name, "/\\") {
		return &InputError{Err: ErrIllegalName, Reason: "names may not be empty, \".\", \"..\", contain \"/\", \"\\\" or control characters, or be invalid UTF-8"}
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return &InputError{Err: ErrIllegalName, Reason: "names may not contain control characters"}
		}
		if isBidiFormatting(r) {
			return &InputError{Err: ErrIllegalName, Reason: "names may not contain bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069)"}
		}
	}
	if maxLen <= 0 || maxLen > 255 {
		maxLen = 255
	}
	if utf8.RuneCountInString(name) > maxLen {
		return ErrNameTooLong
	}
	return nil
}

// isBidiFormatting reports the invisible characters that change the display order of text: the
// embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the direction marks
// (U+200E, U+200F, U+061C). In a name they make "invoice\u202Egpj.exe" show as "invoiceexe.jpg":
// a file can pose as another type or another file in a listing (docs/security.md).
func isBidiFormatting(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	}
	return false
}

// parseStrategy reads conflict_resolution_strategy for directory create, copy and move: ask
// (the default for directories, pitfall 4) or rename. overwrite has no meaning for a directory.
func parseStrategy(s string) (Conflict, error) {
	switch Conflict(s) {
	case "", ConflictAsk:
		return ConflictAsk, nil
	case ConflictRename:
		return ConflictRename, nil
	}
	return "", &InputError{Err: ErrInvalidStrategy, Reason: "conflict_resolution_strategy must be ask or rename"}
}

// albumRule applies 2.11 to a directory about to exist at path: a media library (not a file
// library) allows directories only in multi-album mode, and then one level of them ("albums").
// Multi-album mode is the space's setting in a multi-tenant library, the library's otherwise.
func albumRule(lib Library, sp Space, path []string) error {
	if lib.IsFileLibrary {
		return nil
	}
	if !isMultiAlbum(lib, sp) {
		return ErrDirectoryNotAllowed
	}
	if len(path) > 1 {
		return ErrDirectoryLevelExceed
	}
	return nil
}

// readable turns "a component is a file" into "not found" for reads: 4.2 answers
// DirectoryNotFound for a path through or at a file.
func readable(err error) error {
	if errors.Is(err, ErrNotDirectory) {
		return ErrNodeNotFound
	}
	return err
}

// target is a checked request on a path of a space.
type target struct {
	r     request
	p     *authz.Principal // nil for an anonymous public read
	space Space
	path  []string
}

// open authenticates, checks grants (none = any principal, or anonymous public read when
// publicRead), loads the space and parses the path as a directory path.
func (n *Namespace) open(ctx context.Context, libraryID, spaceID, rawPath string, publicRead bool, grants ...string) (target, error) {
	return n.openWith(ctx, libraryID, spaceID, rawPath, SplitPath, publicRead, grants...)
}

// openWith is open with the path parser of the operation (SplitPath, SplitFilePath).
func (n *Namespace) openWith(ctx context.Context, libraryID, spaceID, rawPath string,
	parse func(raw string, maxLen int) ([]string, error), publicRead bool, grants ...string,
) (target, error) {
	r, p, err := n.authorize(ctx, libraryID, publicRead, grants...)
	if err != nil {
		return target{}, err
	}
	sp, err := n.space(ctx, r, spaceID)
	if err != nil {
		return target{}, err
	}
	path, err := parse(rawPath, r.lib.MaxNameLength)
	if err != nil {
		return target{}, err
	}
	return target{r: r, p: p, space: sp, path: path}, nil
}

// authorize is open's first step: the library, the caller, and the grants it needs (none = any
// principal, or anonymous when publicRead). The principal is nil for an anonymous public read.
func (n *Namespace) authorize(ctx context.Context, libraryID string, publicRead bool, grants ...string) (request, *authz.Principal, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return request{}, nil, err
	}
	if publicRead && r.p == nil && len(grants) == 0 {
		return r, nil, nil
	}
	p, err := r.require(grants...)
	if err != nil {
		return request{}, nil, err
	}
	return r, p, nil
}

func userOf(p *authz.Principal) string {
	if p == nil {
		return ""
	}
	return p.UserID
}

// CreateDirectory creates a directory or album and its missing parents (4.1): admin,
// space_admin or create_directory. The strategy applies to the last segment; a file on the way
// is a conflict whatever the strategy.
func (n *Namespace) CreateDirectory(ctx context.Context, libraryID, spaceID, rawPath, strategy string, attrs DirAttrs) (Node, []string, error) {
	t, err := n.open(ctx, libraryID, spaceID, rawPath, false, authz.Admin, authz.SpaceAdmin, authz.CreateDirectory)
	if err != nil {
		return Node{}, nil, err
	}
	if len(t.path) == 0 {
		return Node{}, nil, ErrEmptyPath
	}
	if err := albumRule(t.r.lib, t.space, t.path); err != nil {
		return Node{}, nil, err
	}
	c, err := parseStrategy(strategy)
	if err != nil {
		return Node{}, nil, err
	}
	if err := fileattr.Check(attrs.MetaData, attrs.Labels, ""); err != nil {
		return Node{}, nil, err
	}
	attrs.UserID = userOf(t.p)
	return n.store.MakeDirectories(ctx, libraryID, spaceID, t.path, c, attrs, n.clock.Now())
}

// ListQuery is the query of a directory listing (4.2) as received; pointers are "present".
type ListQuery struct {
	// Mode is what the dispatcher saw of the hyphenated flags: "auto" or "", "marker", "page", "both".
	Mode                  string
	Marker                *string
	Limit, Page, PageSize *int
	Offset                *int
	OrderBy, OrderByType  string
	Filter, Prefix        string
	StartName, SortType   string
}

// Listing is a page of a directory's children.
type Listing struct {
	Path []string
	Page Page
	// PageMode: the caller asked for page (or offset) mode, so no nextMarker is answered.
	PageMode bool
}

// listOptions turns a listing query into store options (decision 1): marker mode unless page
// mode is asked for; both at once is ParamInvalid.
func listOptions(q ListQuery) (ListOptions, bool, error) {
	var opts ListOptions
	pageMode := q.Mode == "page" || q.Page != nil || q.PageSize != nil || q.Offset != nil
	markerMode := q.Mode == "marker" || q.Marker != nil || (q.Limit != nil && q.Offset == nil)
	if q.Mode == "both" || (pageMode && markerMode) {
		return opts, false, invalid("marker mode (by-marker, marker, limit) and page mode (by-page, page, page_size) are exclusive")
	}
	size := func(v *int, name string) (int, error) {
		if v == nil {
			return defaultListLimit, nil
		}
		if *v < 1 || *v > maxListLimit {
			return 0, invalid("%s must be 1-%d", name, maxListLimit)
		}
		return *v, nil
	}
	var err error
	switch {
	case q.Offset != nil: // Android's offset + limit
		if opts.Limit, err = size(q.Limit, "limit"); err != nil {
			return opts, false, err
		}
		if *q.Offset < 0 || *q.Offset+opts.Limit > maxPageWindow {
			return opts, false, invalid("offset + limit must be at most %d", maxPageWindow)
		}
		opts.Offset = *q.Offset
	case pageMode:
		if opts.Limit, err = size(q.PageSize, "page_size"); err != nil {
			return opts, false, err
		}
		page := 1
		if q.Page != nil {
			page = *q.Page
		}
		if page < 1 || page*opts.Limit > maxPageWindow {
			return opts, false, invalid("page must be at least 1 and page x page_size at most %d", maxPageWindow)
		}
		opts.Offset = (page - 1) * opts.Limit
	default:
		if opts.Limit, err = size(q.Limit, "limit"); err != nil {
			return opts, false, err
		}
		if q.Marker != nil {
			opts.Marker = *q.Marker
		}
	}
	switch OrderBy(q.OrderBy) {
	case OrderDefault, OrderName, OrderModificationTime, OrderSize, OrderCreationTime, OrderLocalCreationTime, OrderLocalModificationTime:
		opts.OrderBy = OrderBy(q.OrderBy)
	default:
		return opts, false, invalid("order_by must be name, modificationTime, size, creationTime, localCreationTime or localModificationTime")
	}
	switch strings.ToLower(q.OrderByType) {
	case "", "asc":
	case "desc":
		opts.Desc = true
	default:
		return opts, false, invalid("order_by_type must be asc or desc")
	}
	switch q.Filter {
	case "":
	case "onlyDir":
		opts.OnlyDirs = true
	case "onlyFile":
		opts.OnlyFiles = true
	default:
		return opts, false, invalid("filter must be onlyDir or onlyFile")
	}
	opts.Union = q.SortType == "union"
	opts.Prefix, opts.StartName = q.Prefix, q.StartName
	return opts, pageMode, nil
}

// ListDirectory answers a page of a directory's children (4.2); public-read spaces and libraries
// answer without a token (12.7).
func (n *Namespace) ListDirectory(ctx context.Context, libraryID, spaceID, rawPath string, q ListQuery) (Listing, error) {
	t, err := n.open(ctx, libraryID, spaceID, rawPath, true)
	if err != nil {
		return Listing{}, err
	}
	opts, pageMode, err := listOptions(q)
	if err != nil {
		return Listing{}, err
	}
	// A media library's default order is albums by name, then media by upload time (4.2). Its
	// directories only ever hold one of the two (2.11: albums in the multi-album root, media
	// everywhere else), so one order per directory gives exactly that and keeps markers stable.
	if opts.OrderBy == OrderDefault && !t.r.lib.IsFileLibrary && len(t.path) > 0 {
		opts.OrderBy = OrderCreationTime
	}
	dir, err := n.store.Lookup(ctx, libraryID, spaceID, t.path)
	if err != nil {
		return Listing{}, readable(err)
	}
	if !dir.IsDir() {
		return Listing{}, ErrNodeNotFound
	}
	page, err := n.store.List(ctx, libraryID, spaceID, dir.Inode, opts)
	if err != nil {
		return Listing{}, readable(err)
	}
	if pageMode {
		page.NextMarker = ""
	}
	return Listing{Path: t.path, Page: page, PageMode: pageMode}, nil
}

// EntryInfo answers the entry at a path, file or directory (4.3, 4.4), and its path.
func (n *Namespace) EntryInfo(ctx context.Context, libraryID, spaceID, rawPath string) (Node, []string, error) {
	t, err := n.open(ctx, libraryID, spaceID, rawPath, true)
	if err != nil {
		return Node{}, nil, err
	}
	node, err := n.store.Lookup(ctx, libraryID, spaceID, t.path)
	if err != nil {
		return Node{}, nil, readable(err)
	}
	if len(t.path) == 0 && node.UserID == "" {
		node.UserID = t.space.UserID
	}
	return node, t.path, nil
}

// DeleteDirectory deletes a directory and its subtree (4.5): admin, space_admin or
// delete_directory; permanent=1 needs delete_directory_permanent while the bin is on (5.10,
// permanentGrant). With the library's recycle
// bin on and permanent unset the directory becomes one bin item, whose id it answers (5.10:
// 200); otherwise it is deleted for good and it answers 0 (204). Either way it is synchronous
// (docs/lifecycle.md). directoryOnly (2026) is accepted for an empty directory only: children
// are never left without a parent.
func (n *Namespace) DeleteDirectory(ctx context.Context, libraryID, spaceID, rawPath string, permanent, directoryOnly bool) (recycledID int64, err error) {
	t, err := n.open(ctx, libraryID, spaceID, rawPath, false, deleteDirectoryGrants...)
	if err != nil {
		return 0, err
	}
	return n.deleteDirectoryAt(ctx, t, permanent, directoryOnly)
}

// deleteDirectoryGrants may delete a directory (4.5).
var deleteDirectoryGrants = []string{authz.Admin, authz.SpaceAdmin, authz.DeleteDirectory, authz.DeleteDirectoryPermanent}

// deleteDirectoryAt is DeleteDirectory on an opened target.
func (n *Namespace) deleteDirectoryAt(ctx context.Context, t target, permanent, directoryOnly bool) (int64, error) {
	libraryID, spaceID := t.r.lib.ID, t.space.ID
	req, err := directoryDelete(t, permanent)
	if err != nil {
		return 0, err
	}
	node, err := n.store.Lookup(ctx, libraryID, spaceID, t.path)
	if err != nil {
		return 0, readable(err)
	}
	if !node.IsDir() {
		return 0, ErrNodeNotFound
	}
	if directoryOnly {
		count, err := n.store.CountTree(ctx, libraryID, spaceID, t.path, 1)
		if err != nil {
			return 0, readable(err)
		}
		if count > 0 {
			return 0, invalid("directory_only=1 deletes an empty directory only")
		}
	}
	// The delete changes the directory's own row (and its parents' totals) whatever it holds, so
	// it never needs a task (docs/lifecycle.md on decision 7).
	d, err := n.store.DeleteTree(ctx, libraryID, spaceID, req.Path, req.DirRules, n.clock.Now())
	return d.RecycledID, readable(err)
}

// directoryDelete checks a directory delete at t (permanentGrant, not the root) and answers what
// the store deletes; a batch delete's directory items run it too (docs/batch.md).
func directoryDelete(t target, permanent bool) (DeleteRequest, error) {
	if err := permanentGrant(t, permanent, authz.DeleteDirectoryPermanent); err != nil {
		return DeleteRequest{}, err
	}
	if len(t.path) == 0 {
		return DeleteRequest{}, ErrEmptyPath
	}
	rules := t.rules()
	rules.Recycle = rules.Recycle && !permanent
	return DeleteRequest{Path: t.path, DirRules: rules}, nil
}

// Transfer is the outcome of a directory copy or move: the final path, or the task that will
// produce it (async copy, decision 7).
type Transfer struct {
	Path   []string
	TaskID int32
	// Renamed: the strategy was rename, so the answer carries the path (200) rather than no
	// body (204), as 4.6 and 4.7 document.
	Renamed bool
}

// source parses and checks the source of a copy or move: a directory of the same space.
func (n *Namespace) source(ctx context.Context, t target, raw string) ([]string, error) {
	from, err := SplitPath(raw, t.r.lib.MaxNameLength)
	if errors.Is(err, ErrNameTooLong) || errors.Is(err, ErrIllegalName) {
		return nil, &InputError{Err: ErrInvalidSource, Reason: err.Error()}
	}
	if err != nil {
		return nil, err
	}
	if len(from) == 0 {
		return nil, &InputError{Err: ErrInvalidSource, Reason: "the root cannot be copied or moved"}
	}
	node, err := n.store.Lookup(ctx, t.r.lib.ID, t.space.ID, from)
	if errors.Is(err, ErrNodeNotFound) || errors.Is(err, ErrNotDirectory) {
		return nil, ErrSourceNotFound
	}
	if err != nil {
		return nil, err
	}
	if !node.IsDir() {
		return nil, &InputError{Err: ErrInvalidSource, Reason: "the source is a file"}
	}
	if len(t.path) > len(from) && slices.Equal(t.path[:len(from)], from) {
		return nil, ErrDestinationInside
	}
	return from, nil
}

// transferTarget opens the destination of a copy or move and checks it.
func (n *Namespace) transferTarget(ctx context.Context, libraryID, spaceID, rawDest, strategy string, grants ...string) (target, Conflict, error) {
	t, err := n.open(ctx, libraryID, spaceID, rawDest, false, grants...)
	if err != nil {
		return target{}, "", err
	}
	c, err := checkDirectoryDestination(t, strategy)
	return t, c, err
}

// checkDirectoryDestination applies transferTarget's checks to an opened destination.
func checkDirectoryDestination(t target, strategy string) (Conflict, error) {
	if len(t.path) == 0 {
		return "", ErrEmptyPath
	}
	if err := albumRule(t.r.lib, t.space, t.path); err != nil {
		return "", err
	}
	return parseStrategy(strategy)
}

// sourceGone maps "not found" after the source was checked: it vanished meanwhile.
func sourceGone(err error) error {
	if errors.Is(err, ErrNodeNotFound) {
		return ErrSourceNotFound
	}
	return err
}

// CopyDirectory copies a directory with its subtree to rawDest, creating missing parents
// (4.6): admin, space_admin or copy_directory. A subtree larger than the async threshold is
// copied by a background task (decision 7).
func (n *Namespace) CopyDirectory(ctx context.Context, libraryID, spaceID, rawDest, rawFrom, strategy string) (Transfer, error) {
	t, c, err := n.transferTarget(ctx, libraryID, spaceID, rawDest, strategy, copyDirectoryGrants...)
	if err != nil {
		return Transfer{}, err
	}
	return n.copyDirectoryAt(ctx, t, c, rawFrom, true)
}

// The grants of a directory copy (4.6) and move (4.7).
var (
	copyDirectoryGrants = []string{authz.Admin, authz.SpaceAdmin, authz.CopyDirectory}
	moveDirectoryGrants = []string{authz.Admin, authz.SpaceAdmin, authz.MoveDirectory}
)

// copyDirectoryAt is CopyDirectory on an opened and checked destination. A batch's directory
// items run it with mayDefer false: the batch is the task, if any (docs/batch.md).
func (n *Namespace) copyDirectoryAt(ctx context.Context, t target, c Conflict, rawFrom string, mayDefer bool) (Transfer, error) {
	libraryID, spaceID := t.r.lib.ID, t.space.ID
	from, err := n.source(ctx, t, rawFrom)
	if err != nil {
		return Transfer{}, err
	}
	renamed := c == ConflictRename
	if !mayDefer {
		path, err := n.store.CopyTree(ctx, libraryID, spaceID, from, t.path, c, t.rules(), n.clock.Now())
		return Transfer{Path: path, Renamed: renamed}, sourceGone(err)
	}
	// The copy touches the source and its descendants.
	count, err := n.store.CountTree(ctx, libraryID, spaceID, from, n.asyncTreeThreshold)
	if err != nil {
		return Transfer{}, sourceGone(err)
	}
	if count+1 > n.asyncTreeThreshold {
		id, err := n.tasks.start(ctx, libraryID, spaceID, TaskCopyDirectory, func(ctx context.Context) (taskOutcome, error) {
			path, err := n.store.CopyTree(ctx, libraryID, spaceID, from, t.path, c, t.rules(), n.clock.Now())
			return taskOutcome{status: TaskDone, result: path}, sourceGone(err)
		})
		if err != nil {
			return Transfer{}, err
		}
		return Transfer{TaskID: id, Renamed: renamed}, nil
	}
	path, err := n.store.CopyTree(ctx, libraryID, spaceID, from, t.path, c, t.rules(), n.clock.Now())
	if err != nil {
		return Transfer{}, sourceGone(err)
	}
	return Transfer{Path: path, Renamed: renamed}, nil
}

// MoveDirectory renames or moves a directory to rawDest, creating missing parents (4.7):
// admin, space_admin or move_directory. The store moves one row, so there is no async variant.
func (n *Namespace) MoveDirectory(ctx context.Context, libraryID, spaceID, rawDest, rawFrom, strategy string) (Transfer, error) {
	t, c, err := n.transferTarget(ctx, libraryID, spaceID, rawDest, strategy, moveDirectoryGrants...)
	if err != nil {
		return Transfer{}, err
	}
	return n.moveDirectoryAt(ctx, t, c, rawFrom)
}

// moveDirectoryAt is MoveDirectory on an opened and checked destination; a batch's directory
// items run it too (docs/batch.md).
func (n *Namespace) moveDirectoryAt(ctx context.Context, t target, c Conflict, rawFrom string) (Transfer, error) {
	from, err := n.source(ctx, t, rawFrom)
	if err != nil {
		return Transfer{}, err
	}
	path, err := n.store.Move(ctx, t.r.lib.ID, t.space.ID, from, t.path, c, t.rules(), n.clock.Now())
	if err != nil {
		return Transfer{}, sourceGone(err)
	}
	return Transfer{Path: path, Renamed: c == ConflictRename}, nil
}

// UpdateDirectory replaces a directory's labels and/or metadata (4.9 ?update): admin or
// space_admin. nil keeps the stored value.
func (n *Namespace) UpdateDirectory(ctx context.Context, libraryID, spaceID, rawPath string, labels []string, meta MetaUpdate) error {
	t, err := n.open(ctx, libraryID, spaceID, rawPath, false, authz.Admin, authz.SpaceAdmin)
	if err != nil {
		return err
	}
	if len(t.path) == 0 {
		return ErrEmptyPath
	}
	if err := fileattr.CheckLabels(labels); err != nil {
		return err
	}
	if meta.Merge {
		// The 2 KB budget is the merged result's, judged where it is written.
		return readable(n.store.MergeMeta(ctx, libraryID, spaceID, t.path, labels, meta.Set, meta.Delete, fileattr.CheckMeta, userOf(t.p), n.clock.Now()))
	}
	if err := fileattr.CheckMeta(meta.Set); err != nil {
		return err
	}
	return readable(n.store.UpdateAttrs(ctx, libraryID, spaceID, t.path, labels, meta.Set, userOf(t.p), n.clock.Now()))
}

// MetaUpdate is the metadata part of an ?update (3.16, 4.9): Set replaces the whole metadata
// (nil keeps it), or, with Merge, Set's pairs are added and Delete's keys removed.
type MetaUpdate struct {
	Set    map[string]string
	Delete []string
	Merge  bool
}

// Merged answers the metadata a merge makes of old (3.16 metaDataDirective merge: a JSON merge
// patch over an object of strings): Set's pairs added or replaced, Delete's keys removed, every
// other key kept. old is left as it was.
func (u MetaUpdate) Merged(old map[string]string) map[string]string {
	merged := make(map[string]string, len(old)+len(u.Set))
	maps.Copy(merged, old)
	maps.Copy(merged, u.Set)
	for _, k := range u.Delete {
		delete(merged, k)
	}
	return merged
}

// DirectoryStats is the answer of ?stats (4.9).
type DirectoryStats struct {
	UserID    string
	StatsType string
	Storage   int64
	FileCount int64
	DirCount  int64
}

// DirectoryStats counts a directory's subtree (4.9 ?stats=1): any principal of the space (stats
// are not among 12.7's public reads). The root answers the space's exact counters; another
// directory sums its subtree in one query. recycle and history: see typedStats.
func (n *Namespace) DirectoryStats(ctx context.Context, libraryID, spaceID, rawPath, statsType, recycledID string) (DirectoryStats, error) {
	t, err := n.open(ctx, libraryID, spaceID, rawPath, false)
	if err != nil {
		return DirectoryStats{}, err
	}
	if statsType == "" {
		statsType = "normal"
	}
	if statsType != "normal" && statsType != "recycle" && statsType != "history" {
		return DirectoryStats{}, &InputError{Err: ErrInvalidStatsType, Reason: "stats_type must be normal, recycle or history"}
	}
	node, err := n.store.Lookup(ctx, libraryID, spaceID, t.path)
	if err != nil && !(statsType == StatsRecycle && recycledID != "") {
		return DirectoryStats{}, readable(err)
	}
	if err == nil && !node.IsDir() {
		return DirectoryStats{}, ErrNodeNotFound
	}
	out := DirectoryStats{UserID: userOf(t.p), StatsType: statsType}
	if statsType != "normal" {
		return n.typedStats(ctx, t, statsType, recycledID, out) // issue 12 fileops
	}
	if len(t.path) == 0 {
		c, err := n.store.SpaceCounts(ctx, libraryID, spaceID)
		if err != nil {
			return DirectoryStats{}, err
		}
		out.Storage, out.FileCount, out.DirCount = c.Size, c.FileNum, c.DirNum
		return out, nil
	}
	c, err := n.store.TreeStats(ctx, libraryID, spaceID, t.path)
	if err != nil {
		return DirectoryStats{}, readable(err)
	}
	out.Storage, out.FileCount, out.DirCount = c.Size, c.FileNum, c.DirNum
	return out, nil
}
