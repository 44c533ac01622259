package app

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/pkg/filetype"
)

// File use cases (SMH API section 3): the namespace side of files. The object service owns
// the bytes and calls CheckUpload when an upload begins, CommitFile when it is confirmed, and
// ResolveFile / ResolveAlbumCover to serve reads; the business calls on entries (delete, copy,
// move, symlink, inode info) come through the gateway.

// File use-case errors (SMH API 12.6); the transport maps each to its SMH code.
var (
	ErrFileNotFound       = errors.New("file not found")
	ErrSourceFileNotFound = errors.New("source file not found")
	ErrInvalidSourceFile  = errors.New("invalid source file")
	ErrEmptyFileName      = errors.New("empty file name")
	ErrFileNameTooLong    = errors.New("file name too long")
	ErrExtnameNotAllowed  = errors.New("extension not allowed")
	ErrUploadToRoot       = errors.New("files must be inside an album")
	ErrFileTypeNotMatched = errors.New("the new name changes the media type")
	ErrSymlinkToDirectory = errors.New("a symlink cannot point at a directory")
	ErrCoverInFileLibrary = errors.New("album covers are for media libraries")
	ErrCoverInRoot        = errors.New("a multi-album library has no cover for its root")
)

// maxReferencedBlobs bounds one ReferencedBlobs call.
const maxReferencedBlobs = 1000

// SplitFilePath parses a file path as the dispatcher hands it over (12.3, decision 6): like
// SplitPath, but the last segment is a file name, so the path is never the root. An empty path
// or an empty last segment ("a/") is EmptyFileName; a last segment longer than maxLen is
// FileNameLengthExceed (the directories on the way keep DirectoryNameLengthExceed).
func SplitFilePath(raw string, maxLen int) ([]string, error) {
	raw = strings.TrimPrefix(raw, "/")
	if raw == "" || strings.HasSuffix(raw, "/") {
		return nil, ErrEmptyFileName
	}
	parts := strings.Split(raw, "/")
	last := len(parts) - 1
	for i, name := range parts {
		err := checkName(name, maxLen)
		if i == last && errors.Is(err, ErrNameTooLong) {
			return nil, ErrFileNameTooLong
		}
		if err != nil {
			return nil, err
		}
	}
	return parts, nil
}

// parseFileStrategy reads conflict_resolution_strategy for a file: rename is the default
// (pitfall 4); overwrite replaces a file and needs a *_force grant when it does (decision 3).
func parseFileStrategy(s string) (Conflict, error) {
	switch Conflict(s) {
	case "", ConflictRename:
		return ConflictRename, nil
	case ConflictAsk, ConflictOverwrite:
		return Conflict(s), nil
	}
	return "", &InputError{Err: ErrInvalidStrategy, Reason: "conflict_resolution_strategy must be ask, rename or overwrite"}
}

// isMultiAlbum is a media library's multi-album mode (2.11): the space's setting in a
// multi-tenant library, the library's otherwise.
func isMultiAlbum(lib Library, sp Space) bool {
	if lib.IsMultiSpace {
		return sp.Ext.IsMultiAlbum
	}
	return lib.IsMultiAlbum
}

// fileExtnames is a file library's extension whitelist: the space's when it has one (a tenant
// space's setting of 2.6, or the single-tenant space "-"'s), else the library's (section S).
// Empty allows every extension.
func fileExtnames(lib Library, sp Space) []string {
	if len(sp.Ext.AllowFileExtname) > 0 {
		return sp.Ext.AllowFileExtname
	}
	return lib.AllowFileExtname
}

// fileRule applies 2.11 and the file libraries' whitelist to a file about to exist at path. A
// multi-album media library keeps files in its albums (UploadToRootDirectoryNotAllowed at the
// root, and there is no deeper level); a media library without albums has no directories, so
// files live at the root. A file library's non-empty allowFileExtname admits only those
// extensions. What the bytes may be in a media library is the object service's check.
func fileRule(lib Library, sp Space, path []string) error {
	if lib.IsFileLibrary {
		name := path[len(path)-1]
		if list := fileExtnames(lib, sp); len(list) > 0 && !filetype.InList(name, list) {
			return &InputError{Err: ErrExtnameNotAllowed, Reason: "the extension of " + strconv.Quote(name) + " is not in allowFileExtname"}
		}
		return nil
	}
	if isMultiAlbum(lib, sp) {
		switch {
		case len(path) == 1:
			return ErrUploadToRoot
		case len(path) > 2:
			return ErrDirectoryLevelExceed
		}
		return nil
	}
	if len(path) > 1 {
		return ErrDirectoryNotAllowed
	}
	return nil
}

// UploadRules is what the object service enforces on the bytes of an upload into a space.
type UploadRules struct {
	MediaLibrary                         bool
	AllowPhoto, AllowVideo               bool
	AllowPhotoExtname, AllowVideoExtname []string
	// AllowFileExtname is a file library's whitelist; empty admits any extension.
	AllowFileExtname []string
}

// uploadRules answers a space's effective upload rules. A single-tenant library's are the
// library's (section S, where allowPhoto and allowVideo default to true). A tenant space's are
// its own (2.1), except that a space that enables neither photos nor videos (a space created
// without those settings, whose stored defaults are false) takes the library's: a media space
// that accepts nothing at all is never what its creator meant. Extension whitelists are the
// space's when set, else the library's.
func uploadRules(lib Library, sp Space) UploadRules {
	if lib.IsFileLibrary {
		return UploadRules{AllowFileExtname: slices.Clone(fileExtnames(lib, sp))}
	}
	r := UploadRules{MediaLibrary: true, AllowPhoto: lib.AllowPhoto, AllowVideo: lib.AllowVideo}
	if lib.IsMultiSpace && (sp.Ext.AllowPhoto || sp.Ext.AllowVideo) {
		r.AllowPhoto, r.AllowVideo = sp.Ext.AllowPhoto, sp.Ext.AllowVideo
	}
	r.AllowPhotoExtname = slices.Clone(orElse(sp.Ext.AllowPhotoExtname, lib.AllowPhotoExtname))
	r.AllowVideoExtname = slices.Clone(orElse(sp.Ext.AllowVideoExtname, lib.AllowVideoExtname))
	return r
}

// orElse answers a when it is non-empty, else b.
func orElse(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

// openFile authenticates, checks grants, loads the space and parses a file path.
func (n *Namespace) openFile(ctx context.Context, libraryID, spaceID, rawPath string, publicRead bool, grants ...string) (target, error) {
	return n.openWith(ctx, libraryID, spaceID, rawPath, SplitFilePath, publicRead, grants...)
}

// spaceAndPath is openFile's space and path steps for a request already authorized, with a store
// read that answers the space given the parsed path, so that a use case reads what it needs at the
// path with the space's row (ResolveFileInSpace, DestinationInSpace). A malformed path answers
// after the space is checked, as in openFile.
func (n *Namespace) spaceAndPath(ctx context.Context, r request, spaceID, rawPath string, read func(path []string) (Space, error)) (Space, []string, error) {
	path, pathErr := SplitFilePath(rawPath, r.lib.MaxNameLength)
	readSpace := n.getSpace(ctx, r.lib.ID, spaceID)
	if pathErr == nil {
		readSpace = func() (Space, error) { return read(path) }
	}
	sp, err := n.spaceBy(ctx, r, spaceID, readSpace)
	if err != nil {
		return Space{}, nil, err
	}
	if pathErr != nil {
		return Space{}, nil, pathErr
	}
	return sp, path, nil
}

// notFile maps what the store answers for a path that holds no file: missing, a directory, or a
// file on the way. Other errors pass.
func notFile(err error, notFound error) error {
	if errors.Is(err, ErrNodeNotFound) || errors.Is(err, ErrNotDirectory) || errors.Is(err, ErrIsDirectory) ||
		errors.Is(err, ErrSourceMissing) {
		return notFound
	}
	return err
}

// forceStrategy is the strategy the store runs: overwrite without a force grant runs as ask, so
// that a taken name is refused in the same transaction that sees it (decision 3 then decides
// between NoPermission and a conflict, see overwriteRefused).
func forceStrategy(c Conflict, force bool) Conflict {
	if c == ConflictOverwrite && !force {
		return ConflictAsk
	}
	return c
}

// overwriteRefused answers why an overwrite without a force grant failed on a taken name: a
// file there needs the grant (decision 3, 403 NoPermission); a directory can never be
// overwritten (409).
func (n *Namespace) overwriteRefused(ctx context.Context, libraryID, spaceID string, path []string) error {
	node, err := n.store.Lookup(ctx, libraryID, spaceID, path)
	if err == nil && !node.IsDir() {
		return authz.ErrNoPermission
	}
	return ErrNameTaken
}

// UploadCheck is what an upload may do, as CheckUpload found it.
type UploadCheck struct {
	Path []string
	// UserID is the acting user: the token's, or the impersonated one (12.2, decision 4).
	UserID string
	// Strategy is the conflict strategy resolved to its default (rename).
	Strategy Conflict
	// Force: the caller holds upload_file_force or begin_upload_force (or admin, space_admin),
	// so overwrite may replace a file.
	Force bool
	Rules UploadRules
}

// CheckUpload checks that the caller may upload to rawPath now (3.1-3.3): admin, space_admin,
// upload_file(_force) or begin_upload(_force); the space; the name (decision 6); the album rules
// of media libraries and the extension whitelist of file libraries (2.11); the parent, which
// must exist; the ask conflict; and the force grant for overwriting a file (decision 3). It
// answers the space's rules for the bytes. The object service calls it with the end user's
// credentials, so it is authorized like any business call.
func (n *Namespace) CheckUpload(ctx context.Context, libraryID, spaceID, rawPath, strategy string, fileSize *int64) (UploadCheck, error) {
	// openFile's steps in its order, with the space and the destination read together
	// (DestinationInSpace: one statement for a begin into an existing directory).
	r, p, err := n.authorize(ctx, libraryID, false,
		authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce, authz.BeginUpload, authz.BeginUploadForce)
	if err != nil {
		return UploadCheck{}, err
	}
	var dest SpaceDestination
	sp, path, err := n.spaceAndPath(ctx, r, spaceID, rawPath, func(path []string) (Space, error) {
		var err error
		dest, err = n.store.DestinationInSpace(ctx, libraryID, spaceID, path)
		return dest.Space, err
	})
	if err != nil {
		return UploadCheck{}, err
	}
	t := target{r: r, p: p, space: sp, path: path}
	c, err := parseFileStrategy(strategy)
	if err != nil {
		return UploadCheck{}, err
	}
	if fileSize != nil && *fileSize < 0 {
		return UploadCheck{}, invalid("filesize must not be negative")
	}
	if err := fileRule(t.r.lib, t.space, t.path); err != nil {
		return UploadCheck{}, err
	}
	force := t.p.Has(authz.UploadFileForce) || t.p.Has(authz.BeginUploadForce)
	if err := checkDestination(dest, c, force); err != nil {
		return UploadCheck{}, err
	}
	if err := n.checkDeclaredSize(ctx, t, dest, c, fileSize); err != nil {
		return UploadCheck{}, err
	}
	return UploadCheck{Path: t.path, UserID: userOf(t.p), Strategy: c, Force: force, Rules: uploadRules(t.r.lib, t.space)}, nil
}

// checkDestination looks at the destination of an upload before any byte moves: the parent must
// be a directory (404 DirectoryNotFound when missing, 409 when a file is on the way); ask refuses
// a taken name; overwrite refuses a directory (409) and, without force, a file (403).
func checkDestination(dest SpaceDestination, c Conflict, force bool) error {
	if errors.Is(dest.ExistingErr, ErrNodeNotFound) {
		return dest.ParentErr
	}
	if dest.ExistingErr != nil {
		return dest.ExistingErr
	}
	existing := dest.Existing
	switch c {
	case ConflictAsk:
		return ErrNameTaken
	case ConflictOverwrite:
		if existing.IsDir() {
			return ErrNameTaken
		}
		if existing.Type == TypeVirtual {
			return ErrVirtualFile // no content to upload into (3.17)
		}
		if !force {
			return authz.ErrNoPermission
		}
	}
	return nil
}

// Commit is a confirmed upload as the object service hands it over (CommitFile).
type Commit struct {
	LibraryID, SpaceID string
	// Path is the path CheckUpload answered.
	Path []string
	// Strategy as the client gave it ("" = rename); Force as CheckUpload found it.
	Strategy string
	Force    bool
	UserID   string
	BlobID   string
	Size     int64
	// ContentType, ETag and CRC64 describe the bytes; Type is file, image or video ("" = file).
	ContentType, ETag, CRC64 string
	Type                     NodeType
	MetaData                 map[string]string
	Labels                   []string
	Category                 string
	LocalCreationTime        string
	LocalModificationTime    string
	// UploadID makes the commit idempotent: a repeat answers the entry the first one made.
	UploadID string
	// RapidUpload: an instant upload by hash, no bytes sent (the change feed's isRapidUpload).
	RapidUpload bool
}

// CommitFile makes a confirmed upload visible (3.4): the entry, its blob reference and the space
// counters in one store transaction (docs/architecture.md, failure rules). The object service calls
// it with the operator key (checked by the transport) after the user's grants were checked by
// CheckUpload; the name, album and whitelist rules and the destination are checked again, since
// the tree may have changed meanwhile.
func (n *Namespace) CommitFile(ctx context.Context, c Commit) (Placed, error) {
	lib, err := n.libraries.Library(ctx, c.LibraryID)
	if err != nil {
		return Placed{}, err
	}
	path, err := SplitFilePath(strings.Join(c.Path, "/"), lib.MaxNameLength)
	if err != nil {
		return Placed{}, err
	}
	if len(path) != len(c.Path) {
		return Placed{}, invalid("path segments may not contain \"/\"")
	}
	// One read of the space; the single-tenant space "-" is made if it is missing.
	sp, err := n.lookupSpace(ctx, lib, c.SpaceID)
	if err != nil {
		return Placed{}, err
	}
	if err := fileRule(lib, sp, path); err != nil {
		return Placed{}, err
	}
	strategy, err := parseFileStrategy(c.Strategy)
	if err != nil {
		return Placed{}, err
	}
	switch c.Type {
	case "":
		c.Type = TypeFile
	case TypeFile, TypeImage, TypeVideo:
	default:
		return Placed{}, invalid("type must be file, image or video")
	}
	if c.Size < 0 {
		return Placed{}, invalid("size must not be negative")
	}
	// The object service checked these at begin and confirm; checked again because this is
	// where they are stored.
	if err := fileattr.Check(c.MetaData, c.Labels, c.Category); err != nil {
		return Placed{}, err
	}
	f := Node{
		Type: c.Type, UserID: c.UserID, Size: c.Size, ContentType: c.ContentType, ETag: c.ETag, CRC64: c.CRC64,
		MetaData: c.MetaData, Labels: c.Labels, BlobID: c.BlobID, Category: c.Category,
		LocalCreationTime: c.LocalCreationTime, LocalModificationTime: c.LocalModificationTime,
	}
	rules := spaceRules(lib, sp, nil)
	rules.UserID, rules.RapidUpload = c.UserID, c.RapidUpload
	placed, err := n.store.CommitUpload(ctx, c.LibraryID, c.SpaceID, path, f, forceStrategy(strategy, c.Force), c.UploadID, rules, n.clock.Now())
	if errors.Is(err, ErrNameTaken) && strategy == ConflictOverwrite && !c.Force {
		return Placed{}, n.overwriteRefused(ctx, c.LibraryID, c.SpaceID, path)
	}
	if err == nil {
		n.noteModified(ctx, c, placed) // recent files: an overwrite is a "modify" (favorites.go)
	}
	return placed, err
}

// ResolveFile answers the file at rawPath for reading (download, ?info, HEAD, preview: 3.8-3.11),
// a symlink followed to its target. Any principal of the space, or anonymous on a public-read
// library or space (12.7). A historyID answers that version's content (9.7): a version of
// another file is ErrHistoryNotFound.
//
// It is openFile and the store's ResolveFile, with the space and the file read together
// (ResolveFileInSpace: one statement for a download) and the same answers in the same order.
func (n *Namespace) ResolveFile(ctx context.Context, libraryID, spaceID, rawPath, historyID string) (Resolved, error) {
	req, _, err := n.authorize(ctx, libraryID, true)
	if err != nil {
		return Resolved{}, err
	}
	var file SpaceFile
	sp, _, err := n.spaceAndPath(ctx, req, spaceID, rawPath, func(path []string) (Space, error) {
		var err error
		file, err = n.store.ResolveFileInSpace(ctx, libraryID, spaceID, path)
		return file.Space, err
	})
	if err != nil {
		return Resolved{}, err
	}
	if file.FileErr != nil {
		return Resolved{}, notFile(file.FileErr, ErrFileNotFound)
	}
	r := file.File
	r.TrafficLimit = sp.Ext.DownloadTrafficLimit
	if historyID != "" {
		return n.withVersion(ctx, r, historyID)
	}
	return r, nil
}

// ResolveAlbumCover answers the cover of an album (4.8): its first image or video by upload time.
// A multi-album media library needs the album's name; a library without albums has one cover,
// of its root, and takes no name. Public read applies (12.7).
func (n *Namespace) ResolveAlbumCover(ctx context.Context, libraryID, spaceID, albumName string) (Resolved, error) {
	t, err := n.open(ctx, libraryID, spaceID, "", true)
	if err != nil {
		return Resolved{}, err
	}
	if t.r.lib.IsFileLibrary {
		return Resolved{}, ErrCoverInFileLibrary
	}
	album, err := SplitPath(albumName, t.r.lib.MaxNameLength)
	if err != nil {
		return Resolved{}, err
	}
	multi := isMultiAlbum(t.r.lib, t.space)
	switch {
	case multi && len(album) == 0:
		return Resolved{}, ErrCoverInRoot
	case !multi && len(album) > 0:
		return Resolved{}, invalid("a library without albums has one cover, of its root: name no album")
	case len(album) > 1:
		return Resolved{}, ErrNodeNotFound // albums are one level deep (2.11)
	}
	dir, err := n.store.Lookup(ctx, libraryID, spaceID, album)
	if err != nil {
		return Resolved{}, readable(err)
	}
	if !dir.IsDir() {
		return Resolved{}, ErrNodeNotFound
	}
	media, err := n.store.FirstMedia(ctx, libraryID, spaceID, dir.Inode)
	if err != nil {
		return Resolved{}, notFile(err, ErrFileNotFound)
	}
	return Resolved{Node: media, Path: append(slices.Clone(album), media.Name)}, nil
}

// GetInodeInfo answers a live entry by its inode, and its path (3.16 GET /api/v1/inode/...).
// Public read applies as for ?info. A malformed inode is ParamInvalid; an unknown or deleted one
// FileNotFound.
func (n *Namespace) GetInodeInfo(ctx context.Context, libraryID, spaceID, rawInode string) (Node, []string, error) {
	if _, err := n.open(ctx, libraryID, spaceID, "", true); err != nil {
		return Node{}, nil, err
	}
	inode, err := strconv.ParseInt(rawInode, 10, 64)
	if err != nil || inode <= 0 {
		return Node{}, nil, invalid("inode must be a positive decimal number")
	}
	node, path, err := n.store.NodeByInode(ctx, libraryID, spaceID, inode)
	if err != nil {
		return Node{}, nil, notFile(err, ErrFileNotFound)
	}
	return node, path, nil
}

// DeleteFile deletes a file or symlink (3.12) and the symlinks pointing at it: admin,
// space_admin, delete_file or delete_file_permanent; permanent=1 needs delete_file_permanent
// while the bin is on, as DeleteDirectory does (5.10). With the library's recycle bin on and permanent unset the file goes
// to the bin and its item id is answered (5.10: 200); otherwise 0 (204). A missing path, or a
// directory, is FileNotFound.
func (n *Namespace) DeleteFile(ctx context.Context, libraryID, spaceID, rawPath string, permanent bool) (recycledID int64, err error) {
	t, err := n.openFile(ctx, libraryID, spaceID, rawPath, false, deleteFileGrants...)
	if err != nil {
		return 0, err
	}
	return n.deleteFileAt(ctx, t, permanent)
}

// deleteFileGrants may delete a file (3.12).
var deleteFileGrants = []string{authz.Admin, authz.SpaceAdmin, authz.DeleteFile, authz.DeleteFilePermanent}

// deleteFileAt is DeleteFile on an opened target.
func (n *Namespace) deleteFileAt(ctx context.Context, t target, permanent bool) (int64, error) {
	req, err := fileDelete(t, permanent)
	if err != nil {
		return 0, err
	}
	d, err := n.store.DeleteFile(ctx, t.r.lib.ID, t.space.ID, req.Path, req.FileRules, n.clock.Now())
	return d.RecycledID, notFile(err, ErrFileNotFound)
}

// fileDelete checks a file delete at t (permanentGrant) and answers what the store deletes; a
// batch delete's file items run it too (docs/batch.md).
func fileDelete(t target, permanent bool) (DeleteRequest, error) {
	if err := permanentGrant(t, permanent, authz.DeleteFilePermanent); err != nil {
		return DeleteRequest{}, err
	}
	rules := t.rules()
	rules.Recycle = rules.Recycle && !permanent
	return DeleteRequest{Path: t.path, FileRules: rules}, nil
}

// permanentGrant applies 5.10 to a delete with permanent=1: while the library's bin is on it
// skips the bin and needs the *_permanent grant (or admin, space_admin); with the bin off every
// delete is permanent and permanent is ignored, so the plain grant suffices.
func permanentGrant(t target, permanent bool, grant string) error {
	if !permanent || !t.r.lib.UseRecycleBin {
		return nil
	}
	return t.p.RequireAny(authz.Admin, authz.SpaceAdmin, grant)
}

// fileTransfer is one of the PUT-with-a-body operations on a file: copy, move or symlink.
type fileTransfer struct {
	grants []string
	// force lists the grants that allow an overwrite (decision 3).
	force []string
}

// openTransfer opens the destination of a copy, move or symlink and applies the checks every
// one of them shares: the strategy, the album rules and the whitelist.
func (n *Namespace) openTransfer(ctx context.Context, libraryID, spaceID, rawDest, strategy string, op fileTransfer) (target, Conflict, bool, error) {
	t, err := n.openFile(ctx, libraryID, spaceID, rawDest, false, op.grants...)
	if err != nil {
		return target{}, "", false, err
	}
	c, force, err := op.check(t, strategy)
	return t, c, force, err
}

// check applies the checks of openTransfer to an opened destination t: the strategy, the album
// rules and the whitelist; force tells whether the caller may overwrite a file.
func (op fileTransfer) check(t target, strategy string) (c Conflict, force bool, err error) {
	if c, err = parseFileStrategy(strategy); err != nil {
		return "", false, err
	}
	if err := fileRule(t.r.lib, t.space, t.path); err != nil {
		return "", false, err
	}
	return c, slices.ContainsFunc(op.force, t.p.Has), nil
}

// fileSource parses the source of a file copy or move: a malformed path is InvalidSourceFile.
func fileSource(t target, raw string) ([]string, error) {
	from, err := SplitFilePath(raw, t.r.lib.MaxNameLength)
	if err != nil {
		reason := err.Error()
		if errors.Is(err, ErrEmptyFileName) {
			reason = "the source path is empty"
		}
		return nil, &InputError{Err: ErrInvalidSourceFile, Reason: reason}
	}
	return from, nil
}

// transferFile runs a file copy or move (3.13, 3.14) and maps its errors.
func (n *Namespace) transferFile(ctx context.Context, libraryID, spaceID, rawDest, rawFrom, strategy string, move bool) ([]string, error) {
	op := fileCopy
	if move {
		op = fileMove
	}
	t, c, force, err := n.openTransfer(ctx, libraryID, spaceID, rawDest, strategy, op)
	if err != nil {
		return nil, err
	}
	return n.transferFileAt(ctx, t, c, force, rawFrom, move)
}

// The grants of a file copy (3.13) and a file move (3.14).
var (
	fileCopy = fileTransfer{grants: []string{authz.Admin, authz.SpaceAdmin, authz.CopyFile, authz.CopyFileForce}, force: []string{authz.CopyFileForce}}
	fileMove = fileTransfer{grants: []string{authz.Admin, authz.SpaceAdmin, authz.MoveFile, authz.MoveFileForce}, force: []string{authz.MoveFileForce}}
)

// transferFileAt is transferFile on an opened and checked destination; a batch's file items run
// it too (docs/batch.md).
func (n *Namespace) transferFileAt(ctx context.Context, t target, c Conflict, force bool, rawFrom string, move bool) ([]string, error) {
	libraryID, spaceID := t.r.lib.ID, t.space.ID
	from, err := fileSource(t, rawFrom)
	if err != nil {
		return nil, err
	}
	// 3.14: in a media library a new name keeps the media type.
	if !t.r.lib.IsFileLibrary && !filetype.SameMediaType(from[len(from)-1], t.path[len(t.path)-1]) {
		return nil, ErrFileTypeNotMatched
	}
	var placed Placed
	if move {
		placed, err = n.store.MoveFile(ctx, libraryID, spaceID, from, t.path, forceStrategy(c, force), t.rules(), n.clock.Now())
	} else {
		placed, err = n.store.CopyFile(ctx, libraryID, spaceID, from, t.path, forceStrategy(c, force), t.rules(), n.clock.Now())
	}
	switch {
	case err == nil:
		return placed.Path, nil
	case errors.Is(err, ErrSourceMissing):
		return nil, ErrSourceFileNotFound
	case errors.Is(err, ErrIsDirectory):
		return nil, &InputError{Err: ErrInvalidSourceFile, Reason: "the source is a directory"}
	case errors.Is(err, ErrNameTaken) && c == ConflictOverwrite && !force:
		return nil, n.overwriteRefused(ctx, libraryID, spaceID, t.path)
	}
	return nil, err
}

// CopyFile copies a file to rawDest (3.13): admin, space_admin, copy_file or copy_file_force
// (overwrite of a file needs copy_file_force). The copy shares the source's blob. Parents must
// exist; the default strategy is rename.
func (n *Namespace) CopyFile(ctx context.Context, libraryID, spaceID, rawDest, rawFrom, strategy string) ([]string, error) {
	return n.transferFile(ctx, libraryID, spaceID, rawDest, rawFrom, strategy, false)
}

// MoveFile renames or moves a file to rawDest (3.14): admin, space_admin, move_file or
// move_file_force (overwrite needs move_file_force). The inode stays, so symlinks follow.
func (n *Namespace) MoveFile(ctx context.Context, libraryID, spaceID, rawDest, rawFrom, strategy string) ([]string, error) {
	return n.transferFile(ctx, libraryID, spaceID, rawDest, rawFrom, strategy, true)
}

// CreateSymlink makes a symlink at rawLink to the file at rawTarget (3.15): admin, space_admin,
// upload_file(_force) or create_symlink(_force). A directory target is
// SymlinkToDirectoryNotAllowed, a missing one FileNotFound; a symlink target is followed, so a
// link always points at a file.
func (n *Namespace) CreateSymlink(ctx context.Context, libraryID, spaceID, rawLink, rawTarget, strategy string) ([]string, error) {
	t, c, force, err := n.openTransfer(ctx, libraryID, spaceID, rawLink, strategy, fileTransfer{
		grants: []string{authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce, authz.CreateSymlink, authz.CreateSymlinkForce},
		force:  []string{authz.UploadFileForce, authz.CreateSymlinkForce},
	})
	if err != nil {
		return nil, err
	}
	to, err := SplitFilePath(rawTarget, t.r.lib.MaxNameLength)
	if err != nil {
		return nil, invalid("linkTo: %v", err)
	}
	placed, err := n.store.CreateSymlink(ctx, libraryID, spaceID, t.path, to, forceStrategy(c, force), userOf(t.p), t.rules(), n.clock.Now())
	switch {
	case err == nil:
		return placed.Path, nil
	case errors.Is(err, ErrSourceMissing):
		return nil, ErrFileNotFound
	case errors.Is(err, ErrIsDirectory):
		return nil, ErrSymlinkToDirectory
	case errors.Is(err, ErrNameTaken) && c == ConflictOverwrite && !force:
		return nil, n.overwriteRefused(ctx, libraryID, spaceID, t.path)
	}
	return nil, err
}

// ReferencedBlobs answers which of blobIDs an entry (live or deleted but not yet purged) still
// references, for the object service's garbage collection; the transport checks the operator
// key. Empty ids are ignored.
func (n *Namespace) ReferencedBlobs(ctx context.Context, blobIDs []string) ([]string, error) {
	ids, err := distinctIDs(blobIDs, maxReferencedBlobs, "blob")
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return n.store.ReferencedBlobs(ctx, ids)
}
