package app

import (
	"context"
	"errors"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/filetype"
)

// Favorites and recently used files (SMH API section 11, decision 8, docs/favorites.md).
// Both lists belong to the acting user: the token's user id, or the one user_id names on an
// admin token minted without one (decision 21, in authz.Authenticate). A principal without a
// user id has no favorites: 403 NoPermission (11: "a token issued without user_id gets no
// permission").

// Favorite use-case errors; the transport maps each to its SMH code.
var (
	// ErrPathNotFound: the path or inode a favorite names is not a live entry of the space.
	ErrPathNotFound = errors.New("no such file or directory")
)

// Favorite and recent-file limits (docs/favorites.md).
const (
	defaultFavoriteLimit = 20
	maxFavoriteLimit     = 100
	// RecentFilesKept is how many recent-file rows (file × action) a user keeps per space; the
	// oldest go first.
	RecentFilesKept = 1000
)

// favoriteUser opens a request on a space for one user's own lists: any principal of the space
// with a user id (reads of the space are enough: 11.4 "read access to the space is enough").
func (n *Namespace) favoriteUser(ctx context.Context, libraryID, spaceID string) (target, string, error) {
	t, err := n.open(ctx, libraryID, spaceID, "", false)
	if err != nil {
		return target{}, "", err
	}
	user := userOf(t.p)
	if user == "" {
		return target{}, "", authz.ErrNoPermission
	}
	return t, user, nil
}

// FavoriteTarget is the body of 11.1 and 11.2 as received: Inode is what JSON decoding gave
// (nil, a float64 or a string).
type FavoriteTarget struct {
	Path  string
	Inode any
}

// favoriteTarget reads a body: the inode when given (it wins, 11.1), else the path. Neither
// (or the root) is ParamInvalid.
func favoriteTarget(b FavoriteTarget, maxLen int) (path []string, inode int64, err error) {
	switch v := b.Inode.(type) {
	case nil:
	case string:
		if v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return nil, 0, invalid("inode must be a positive decimal number")
			}
			return nil, id, nil
		}
	case float64:
		if v != math.Trunc(v) || v < 1 || v > maxJSONID {
			return nil, 0, invalid("inode must be a positive integer")
		}
		return nil, int64(v), nil
	default:
		return nil, 0, invalid("inode must be a string or a number")
	}
	if path, err = SplitPath(b.Path, maxLen); err != nil {
		return nil, 0, err
	}
	if len(path) == 0 {
		return nil, 0, invalid("name a path (not the root) or an inode")
	}
	return path, 0, nil
}

// AddFavorite makes an entry, file or directory, a favorite of the acting user (11.1) and
// answers its inode. Already a favorite: ErrFavoriteExists (409, decision 8).
func (n *Namespace) AddFavorite(ctx context.Context, libraryID, spaceID string, b FavoriteTarget) (int64, error) {
	t, user, err := n.favoriteUser(ctx, libraryID, spaceID)
	if err != nil {
		return 0, err
	}
	path, inode, err := favoriteTarget(b, t.r.lib.MaxNameLength)
	if err != nil {
		return 0, err
	}
	if inode == 0 {
		node, err := n.store.Lookup(ctx, libraryID, spaceID, path)
		if err != nil {
			return 0, notFile(err, ErrPathNotFound)
		}
		inode = node.Inode
	}
	if err := n.store.AddFavorite(ctx, libraryID, spaceID, user, inode, n.clock.Now()); err != nil {
		return 0, notFile(err, ErrPathNotFound)
	}
	return inode, nil
}

// CancelFavorite forgets a favorite of the acting user (11.2). By inode it works for a deleted
// target too (the list shows its inode); a path names the live entry there. Not a favorite:
// ErrFavoriteNotFound (404, decision 8).
func (n *Namespace) CancelFavorite(ctx context.Context, libraryID, spaceID string, b FavoriteTarget) error {
	t, user, err := n.favoriteUser(ctx, libraryID, spaceID)
	if err != nil {
		return err
	}
	path, inode, err := favoriteTarget(b, t.r.lib.MaxNameLength)
	if err != nil {
		return err
	}
	if inode == 0 {
		node, err := n.store.Lookup(ctx, libraryID, spaceID, path)
		if err != nil {
			return notFile(err, ErrFavoriteNotFound)
		}
		inode = node.Inode
	}
	return n.store.RemoveFavorite(ctx, libraryID, spaceID, user, inode)
}

// FavoriteQuery is a favorites listing's query (11.3) as received; pointers are "present".
type FavoriteQuery struct {
	Marker                *string
	Limit, Page, PageSize *int
	OrderBy, OrderByType  string
	// WithPath as sent: nil (absent), "" (the bare key), true/false, 1/0.
	WithPath *string
}

// FavoriteListing is a page of favorites; PageMode: totalNum is answered, nextMarker is not.
type FavoriteListing struct {
	Page     FavoritePage
	PageMode bool
}

// favoriteListOptions checks a listing's query: marker mode unless page or page_size is given,
// both at once ParamInvalid (as decision 1); favoriteTime order, newest first by default.
func favoriteListOptions(q FavoriteQuery) (FavoriteListOptions, bool, error) {
	opts := FavoriteListOptions{Desc: true}
	pageMode := q.Page != nil || q.PageSize != nil
	if pageMode && (q.Marker != nil || q.Limit != nil) {
		return opts, false, invalid("marker mode (marker, limit) and page mode (page, page_size) are exclusive")
	}
	var err error
	if opts.Limit, opts.Offset, opts.Marker, err = pageWindow(q.Marker, q.Limit, q.Page, q.PageSize, pageMode,
		defaultFavoriteLimit, maxFavoriteLimit); err != nil {
		return opts, false, err
	}
	opts.Count = pageMode
	if q.OrderBy != "" && q.OrderBy != "favoriteTime" {
		return opts, false, invalid("order_by must be favoriteTime")
	}
	switch strings.ToLower(q.OrderByType) {
	case "", "desc":
	case "asc":
		opts.Desc = false
	default:
		return opts, false, invalid("order_by_type must be asc or desc")
	}
	if opts.WithPath, err = flagValue(q.WithPath, "with_path"); err != nil {
		return opts, false, err
	}
	return opts, pageMode, nil
}

// flagValue reads a boolean query value: absent is false, the bare key true (a flag's presence
// is the switch, docs/api-sections.md section 0); otherwise true/false, 1/0.
func flagValue(v *string, name string) (bool, error) {
	switch {
	case v == nil:
		return false, nil
	case *v == "":
		return true, nil
	}
	b, err := strconv.ParseBool(*v)
	if err != nil {
		return false, invalid("%s must be true or false", name)
	}
	return b, nil
}

// ListFavorites answers a page of the acting user's favorites (11.3). Deleted targets stay
// listed (Favorite.Deleted), with their inode and favoriteTime only.
func (n *Namespace) ListFavorites(ctx context.Context, libraryID, spaceID string, q FavoriteQuery) (FavoriteListing, error) {
	_, user, err := n.favoriteUser(ctx, libraryID, spaceID)
	if err != nil {
		return FavoriteListing{}, err
	}
	opts, pageMode, err := favoriteListOptions(q)
	if err != nil {
		return FavoriteListing{}, err
	}
	page, err := n.store.ListFavorites(ctx, libraryID, spaceID, user, opts)
	if err != nil {
		return FavoriteListing{}, err
	}
	return FavoriteListing{Page: page, PageMode: pageMode}, nil
}

// FavoriteStatus answers which of inodes the acting user has favorited (with_favorite_status on
// listings and info). Public read applies, as for the reads it decorates; a caller without a
// user id has favorited nothing.
func (n *Namespace) FavoriteStatus(ctx context.Context, libraryID, spaceID string, inodes []int64) (map[int64]bool, error) {
	t, err := n.open(ctx, libraryID, spaceID, "", true)
	if err != nil {
		return nil, err
	}
	return n.store.FavoritedAmong(ctx, libraryID, spaceID, userOf(t.p), inodes)
}

// RecentQuery is the body of 11.4 as received; Type is what JSON decoding gave (nil, a string or
// a list).
type RecentQuery struct {
	Marker         *string
	Limit          *int
	FilterActionBy string
	Type           any
	WithPath       bool
}

// recentListOptions checks a recent-files body.
func recentListOptions(q RecentQuery) (RecentListOptions, error) {
	opts := RecentListOptions{Limit: defaultFavoriteLimit, WithPath: q.WithPath}
	if q.Limit != nil {
		if *q.Limit < 1 || *q.Limit > maxFavoriteLimit {
			return opts, invalid("limit must be 1-%d", maxFavoriteLimit)
		}
		opts.Limit = *q.Limit
	}
	if q.Marker != nil {
		opts.Marker = *q.Marker
	}
	switch a := RecentAction(q.FilterActionBy); a {
	case "", RecentPreview, RecentModify:
		opts.Action = a
	default:
		return opts, invalid("filterActionBy must be preview or modify")
	}
	var types []string
	switch v := q.Type.(type) {
	case nil:
	case string:
		types = []string{v}
	case []any:
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return opts, invalid("type must be a string or a list of strings")
			}
			types = append(types, s)
		}
	default:
		return opts, invalid("type must be a string or a list of strings")
	}
	opts.Match = recentTypeFilter(types)
	return opts, nil
}

// recentFamilies are the type names of 11.4 and the file types (pkg/filetype) each takes.
var recentFamilies = map[string][]string{
	"pdf":        {filetype.FileTypePDF},
	"powerpoint": {filetype.FileTypePowerPoint},
	"excel":      {filetype.FileTypeExcel},
	"word":       {filetype.FileTypeWord},
	"text":       {filetype.FileTypeText},
	"document":   {filetype.FileTypePDF, filetype.FileTypePowerPoint, filetype.FileTypeExcel, filetype.FileTypeWord, filetype.FileTypeText},
}

// recentTypeFilter answers the Match of a type filter: nil (everything) for none or "all";
// otherwise a file matches when its file type is in a named family or its extension is one of
// those named (".pdf", case-insensitive). An unknown name matches nothing (decision 30).
func recentTypeFilter(types []string) func(Node) bool {
	fileTypes, exts := map[string]bool{}, map[string]bool{}
	for _, t := range types {
		t = strings.ToLower(strings.TrimSpace(t))
		switch {
		case t == "all" || t == "":
			return nil
		case strings.HasPrefix(t, "."):
			exts[t] = true
		default:
			for _, ft := range recentFamilies[t] {
				fileTypes[ft] = true
			}
		}
	}
	if len(types) == 0 {
		return nil
	}
	return func(node Node) bool {
		if exts[strings.ToLower(path.Ext(node.Name))] {
			return true
		}
		return fileTypes[filetype.Describe(node.Name, node.ContentType).FileType]
	}
}

// ListRecentFiles answers a page of the acting user's recently used files of the space (11.4),
// newest action first. Files deleted since are left out.
func (n *Namespace) ListRecentFiles(ctx context.Context, libraryID, spaceID string, q RecentQuery) (RecentPage, error) {
	_, user, err := n.favoriteUser(ctx, libraryID, spaceID)
	if err != nil {
		return RecentPage{}, err
	}
	opts, err := recentListOptions(q)
	if err != nil {
		return RecentPage{}, err
	}
	return n.store.ListRecent(ctx, libraryID, spaceID, user, opts)
}

// RecordRecentFile notes that the caller previewed the file inode (3.8, 3.9 with
// purpose=preview; the object service calls it after resolving the file for the same caller).
// A caller without a user id (anonymous public read, an admin token without user id) has no
// list: nothing is recorded and nothing fails.
func (n *Namespace) RecordRecentFile(ctx context.Context, libraryID, spaceID string, inode int64, action string) error {
	t, err := n.open(ctx, libraryID, spaceID, "", true)
	if err != nil {
		return err
	}
	if RecentAction(action) != RecentPreview {
		return invalid("action must be preview")
	}
	if inode <= 0 {
		return invalid("inode must be positive")
	}
	user := userOf(t.p)
	if user == "" {
		return nil
	}
	return n.store.RecordRecent(ctx, libraryID, spaceID, user, inode, RecentPreview, n.clock.Now(), RecentFilesKept)
}

// noteModified records an overwrite upload by its user as a "modify" of the file (11.4,
// docs/favorites.md). The upload is committed whatever happens here, so a failure to record
// is not the upload's failure: it is dropped, and the list misses one entry.
func (n *Namespace) noteModified(ctx context.Context, c Commit, placed Placed) {
	if !placed.Overwritten || c.UserID == "" {
		return
	}
	_ = n.store.RecordRecent(ctx, c.LibraryID, c.SpaceID, c.UserID, placed.Node.Inode, RecentModify, n.clock.Now(), RecentFilesKept)
}
