// Package transport serves smh.namespace.v1 over gRPC: each handler converts its request, calls
// one use case and converts the error through the service's one error map.
package transport

import (
	"context"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// errorMap is the namespace service's one error table (SMH API 12.6). Authorization errors
// are SMH errors already and pass through.
func errorMap() smherr.Map {
	return smherr.Map{
		{Err: app.ErrLibraryNotFound, SMH: smherr.New(http.StatusNotFound, "LibraryNotFound", "library not found")},
		{Err: app.ErrNotMultiSpace, SMH: smherr.New(http.StatusBadRequest, "NotMultiSpaceLibrary", "the library is not multi-tenant")},
		{Err: app.ErrSpaceNotFound, SMH: smherr.New(http.StatusNotFound, "SpaceNotFound", "space not found")},
		{Err: app.ErrSpaceExists, SMH: smherr.New(http.StatusConflict, "SpaceAlreadyExists", "a space with this id exists")},
		{Err: app.ErrSpaceNotEmpty, SMH: smherr.New(http.StatusConflict, "SpaceNotEmpty", "the space is not empty; delete with force=1")},
		{Err: app.ErrSpaceIDInvalid, SMH: smherr.New(http.StatusBadRequest, "SpaceIdInvalid", "space id invalid")},
		{Err: app.ErrParamInvalid, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "parameter invalid")},
		{Err: fileattr.ErrInvalid, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "invalid metadata, labels or category")},
		{Err: app.ErrMarkerNotFound, SMH: smherr.New(http.StatusNotFound, "MarkerNotFound", "marker not found")},
		{Err: app.ErrNodeNotFound, SMH: smherr.New(http.StatusNotFound, "DirectoryNotFound", "directory not found")},
		{Err: app.ErrNotDirectory, SMH: smherr.New(http.StatusConflict, "SameNameDirectoryOrFileExists", "a path component is a file")},
		{Err: app.ErrNameTaken, SMH: smherr.New(http.StatusConflict, "SameNameDirectoryOrFileExists", "a directory or file with this name exists")},
		// Section 4: directories and albums, 7.1 tasks.
		{Err: app.ErrEmptyPath, SMH: smherr.New(http.StatusBadRequest, "EmptyPath", "a path other than the root is required")},
		{Err: app.ErrIllegalName, SMH: smherr.New(http.StatusBadRequest, "IllegalFileName", "illegal file or directory name")},
		{Err: app.ErrNameTooLong, SMH: smherr.New(http.StatusBadRequest, "DirectoryNameLengthExceed", "a directory name is longer than the library allows")},
		{Err: app.ErrDirectoryNotAllowed, SMH: smherr.New(http.StatusBadRequest, "DirectoryNotAllowed", "directories need a file library or multi-album mode")},
		{Err: app.ErrDirectoryLevelExceed, SMH: smherr.New(http.StatusBadRequest, "DirectoryLevelExceed", "a media library has one level of albums")},
		{Err: app.ErrInvalidStrategy, SMH: smherr.New(http.StatusBadRequest, "InvalidConflictResolutionStrategy", "invalid conflict resolution strategy")},
		{Err: app.ErrSourceNotFound, SMH: smherr.New(http.StatusNotFound, "SourceDirectoryNotFound", "source directory not found")},
		{Err: app.ErrInvalidSource, SMH: smherr.New(http.StatusBadRequest, "InvalidSourceDirectory", "invalid source directory")},
		{Err: app.ErrDestinationInside, SMH: smherr.New(http.StatusBadRequest, "SourceDirectoryIsParentOfDestination", "the destination lies inside the source")},
		{Err: app.ErrInvalidStatsType, SMH: smherr.New(http.StatusBadRequest, "InvalidDirectoryStatsType", "invalid stats type")},
		{Err: app.ErrTaskNotFound, SMH: smherr.New(http.StatusNotFound, "TaskNotFound", "task not found")},
		// A full task pool is this instance's load, not the caller's fault: 503, try again later.
		{Err: app.ErrTooManyTasks, SMH: smherr.New(http.StatusServiceUnavailable, "ServiceUnavailable", "too many directory tasks are running; try again later")},
		{Err: app.ErrTaskInterrupted, SMH: smherr.New(http.StatusInternalServerError, "InternalError", "the task was interrupted: the service instance running it stopped")},
		// Section 3: file entries and album covers (4.8).
		{Err: app.ErrFileNotFound, SMH: smherr.New(http.StatusNotFound, "FileNotFound", "file not found")},
		{Err: app.ErrSourceFileNotFound, SMH: smherr.New(http.StatusNotFound, "SourceFileNotFound", "source file not found")},
		{Err: app.ErrInvalidSourceFile, SMH: smherr.New(http.StatusBadRequest, "InvalidSourceFile", "invalid source file")},
		{Err: app.ErrEmptyFileName, SMH: smherr.New(http.StatusBadRequest, "EmptyFileName", "the file name is empty")},
		{Err: app.ErrFileNameTooLong, SMH: smherr.New(http.StatusBadRequest, "FileNameLengthExceed", "the file name is longer than the library allows")},
		{Err: app.ErrExtnameNotAllowed, SMH: smherr.New(http.StatusBadRequest, "ExtnameNotAllowed", "the extension is not allowed in this library or space")},
		{Err: app.ErrUploadToRoot, SMH: smherr.New(http.StatusBadRequest, "UploadToRootDirectoryNotAllowed", "files of a multi-album library belong in an album")},
		{Err: app.ErrFileTypeNotMatched, SMH: smherr.New(http.StatusBadRequest, "FileTypeNotMatched", "the new name changes the media type")},
		{Err: app.ErrSymlinkToDirectory, SMH: smherr.New(http.StatusBadRequest, "SymlinkToDirectoryNotAllowed", "a symlink must point at a file")},
		{Err: app.ErrCoverInFileLibrary, SMH: smherr.New(http.StatusBadRequest, "CoverNotSupportedInFileLibrary", "album covers are for media libraries")},
		{Err: app.ErrCoverInRoot, SMH: smherr.New(http.StatusBadRequest, "CoverNotSupportedInRootDirectory", "name an album: a multi-album library has no root cover")},
		{Err: app.ErrSymlinkOverwrite, SMH: smherr.New(http.StatusBadRequest, "SymlinkOverwriteConflict", "a symlink cannot overwrite its own target")},
		// Store answers the file use cases translate; rows for safety should one pass through.
		{Err: app.ErrSourceMissing, SMH: smherr.New(http.StatusNotFound, "SourceFileNotFound", "source file not found")},
		{Err: app.ErrIsDirectory, SMH: smherr.New(http.StatusNotFound, "FileNotFound", "file not found")},
		// Section 9: history versions. An unknown version answers the documented FileNotFound:
		// the SDKs know no history-specific code (docs/lifecycle.md).
		{Err: app.ErrHistoryNotFound, SMH: smherr.New(http.StatusNotFound, "FileNotFound", "history version not found")},
		{Err: app.ErrHistoryEnabled, SMH: smherr.New(http.StatusBadRequest, "BadRequest", "disable file history before purging its versions")},
		{Err: app.ErrRateLimited, SMH: smherr.New(http.StatusTooManyRequests, "RateLimitExceeded", "the library's versions were purged less than a minute ago")},
		{Err: app.ErrInvalidFileHistoryCount, SMH: smherr.New(http.StatusBadRequest, "InvalidFileHistoryCount", "fileHistoryCount must be between 1 and 999")},
		{Err: app.ErrInvalidFileHistoryExpireDay, SMH: smherr.New(http.StatusBadRequest, "InvalidFileHistoryExpireDay", "fileHistoryExpireDay must be between 0 and 999")},
		{Err: app.ErrInvalidFileHistoryMergeInterval, SMH: smherr.New(http.StatusBadRequest, "InvalidFileHistoryMergeInterval", "mergeInterval must be 0")},
		// Section 6: quotas (6.7).
		{Err: app.ErrQuotaLimitReached, SMH: smherr.New(http.StatusBadRequest, "QuotaLimitReached", "the write would exceed the space's or the library's quota")},
		{Err: app.ErrQuotaSpacesInvalid, SMH: smherr.New(http.StatusBadRequest, "QuotaSpacesInvalid", "spaces must name spaces of the library")},
		{Err: app.ErrQuotaCapacityRequired, SMH: smherr.New(http.StatusBadRequest, "QuotaCapacityRequired", "capacity is required")},
		{Err: app.ErrQuotaLessThanUsage, SMH: smherr.New(http.StatusBadRequest, "QuotaCapacityLessThanSize", "the capacity is less than the spaces already use")},
		{Err: app.ErrDuplicateQuota, SMH: smherr.New(http.StatusConflict, "DuplicateQuota", "a space named already has a quota")},
		{Err: app.ErrNoQuota, SMH: smherr.New(http.StatusNotFound, "NoQuota", "the space has no quota")},
		{Err: app.ErrQuotaNotFound, SMH: smherr.New(http.StatusNotFound, "QuotaNotFound", "quota not found")},
		// --- search (issue 12): section 8, decision 20 (docs/search.md).
		{Err: app.ErrSearchNotEnabled, SMH: smherr.New(http.StatusBadRequest, "SearchNotEnabled", "search is not enabled for this library")},
		{Err: app.ErrSearchIDInvalid, SMH: smherr.New(http.StatusBadRequest, "SearchIdInvalid", "unknown or expired search id")},
		{Err: app.ErrSearchTooComplex, SMH: smherr.New(http.StatusBadRequest, "SearchTooComplex", "too many aggregations")},
		{Err: app.ErrFunctionNotEnabled, SMH: smherr.New(http.StatusBadRequest, "FunctionNotEnabled", "the function is not enabled")},
		// --- end search
		// Section 5: the recycle bin.
		{Err: app.ErrRecycleBinNotEnabled, SMH: smherr.New(http.StatusBadRequest, "RecycleBinNotEnabled", "the library's recycle bin is not enabled")},
		{Err: app.ErrRecycledItemNotFound, SMH: smherr.New(http.StatusNotFound, "RecycledItemNotFound", "no such item in the recycle bin")},
		// --- issue 12 change feed (3.18) ---
		{Err: app.ErrCursorExpired, SMH: smherr.New(http.StatusBadRequest, "CursorExpired", "the cursor has expired; list the space again and take a new cursor")},
		{Err: app.ErrCursorInvalid, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "the cursor is not a cursor of this space")},
		// --- end change feed ---
		{Err: app.ErrNoItemsProvided, SMH: smherr.New(http.StatusBadRequest, "NoItemsProvided", "the body names no item")},
		{Err: app.ErrTooManyItems, SMH: smherr.New(http.StatusBadRequest, "TooManyItems", "the body names too many items")},
		// issue 12 fileops (docs/fileops.md).
		{Err: app.ErrVirtualFile, SMH: smherr.New(http.StatusBadRequest, "UnsupportedFileType", "the operation is not supported on a virtual file")},
		{Err: app.ErrNotVirtual, SMH: smherr.New(http.StatusBadRequest, "UnsupportedFileType", "contentType and size can be changed only on a virtual file")},
		{Err: app.ErrCalibrateRateLimited, SMH: smherr.New(http.StatusTooManyRequests, "RateLimitExceeded", "the directory's stats were calibrated less than a minute ago")},
		// --- favorites (issue 12 item 4): section 11, decision 8 ---
		{Err: app.ErrFavoriteExists, SMH: smherr.New(http.StatusConflict, "DuplicateFavoriteRecord", "the entry is a favorite already")},
		{Err: app.ErrFavoriteNotFound, SMH: smherr.New(http.StatusNotFound, "FavoriteIdNotFound", "the entry is not a favorite")},
		{Err: app.ErrPathNotFound, SMH: smherr.New(http.StatusNotFound, "PathNotFound", "no such file or directory")},
		// --- end favorites ---
		// ---- issue 13 shares: section 13 (docs/shares.md; Share* codes of 12.6, UNCONFIRMED)
		{Err: app.ErrShareNotFound, SMH: smherr.New(http.StatusNotFound, "ShareNotFound", "share not found")},
		{Err: app.ErrNotInShare, SMH: smherr.New(http.StatusNotFound, "FileNotInShare", "the entry is not in the share")},
		{Err: app.ErrShareFileEmpty, SMH: smherr.New(http.StatusNotFound, "ShareFileEmpty", "nothing the share names is left")},
		{Err: app.ErrShareFileNotFound, SMH: smherr.New(http.StatusNotFound, "FileNotFound", "a shared path names no file or directory")},
		{Err: app.ErrShareUpdated, SMH: smherr.New(http.StatusConflict, "ShareHasBeenUpdated", "the share was updated meanwhile; read it and try again")},
		{Err: app.ErrShareDisabled, SMH: smherr.New(http.StatusForbidden, "ShareDisabled", "the share is disabled")},
		{Err: app.ErrShareExpired, SMH: smherr.New(http.StatusForbidden, "ShareExpired", "the share has expired")},
		{Err: app.ErrShareUserLimit, SMH: smherr.New(http.StatusForbidden, "ShareUserLimitExceeded", "the share has as many visitors as it allows")},
		{Err: app.ErrExtractionCodeInvalid, SMH: smherr.New(http.StatusForbidden, "ExtractionCodeInvalid", "wrong extraction code")},
		{Err: app.ErrCannotPreview, SMH: smherr.New(http.StatusForbidden, "CannotPreview", "the share does not allow this preview")},
		{Err: app.ErrCannotDownload, SMH: smherr.New(http.StatusForbidden, "CannotDownload", "the share does not allow this download")},
		{Err: app.ErrShareLimitReached, SMH: smherr.New(http.StatusForbidden, "CannotDownload", "the share's limit is reached")},
		{Err: app.ErrShareRateLimited, SMH: smherr.New(http.StatusTooManyRequests, "RateLimitExceeded", "too many attempts; try again later")},
		{Err: app.ErrInvalidParameter, SMH: smherr.New(http.StatusBadRequest, "InvalidParameter", "invalid parameter")},
		// ---- end issue 13 shares
		// ---- issue 13 tokens: save from a share (13.12, decision 14, docs/shares.md)
		{Err: app.ErrCannotSaveToNetDisk, SMH: smherr.New(http.StatusForbidden, "CannotSaveToNetDisk", "the share does not allow saving")},
		// ---- end issue 13 tokens
		{Err: context.Canceled, SMH: smherr.New(499, "ClientDisconnected", "client disconnected")},
		{Err: context.DeadlineExceeded, SMH: smherr.New(http.StatusGatewayTimeout, "RequestTimeout", "request timed out")},
	}
}

func toStatus(err error) error { return errorMap().Convert(err) }

// Server implements namespacev1.NamespaceServiceServer.
type Server struct {
	namespacev1.UnsafeNamespaceServiceServer
	ns    *app.Namespace
	admin *adminauth.Checker
}

var _ namespacev1.NamespaceServiceServer = (*Server)(nil)

// New serves ns; admin guards the internal RPCs.
func New(ns *app.Namespace, admin *adminauth.Checker) *Server { return &Server{ns: ns, admin: admin} }

// Register adds the services to r: NamespaceService and the RecycleService and
// FavoriteService beside it.
func (s *Server) Register(r grpc.ServiceRegistrar) {
	namespacev1.RegisterNamespaceServiceServer(r, s)
	namespacev1.RegisterRecycleServiceServer(r, &RecycleServer{s: s})
	// Issue 12, batch: batch operations and the typed task query (docs/batch.md).
	namespacev1.RegisterBatchServiceServer(r, &BatchServer{s: s})
	namespacev1.RegisterFileOpsServiceServer(r, &FileOpsServer{s: s}) // issue 12 fileops
	namespacev1.RegisterSearchServiceServer(r, &SearchServer{s: s})   // search (issue 12)
	// archives (issue 12 item 6): internal calls of the object service (3.17).
	namespacev1.RegisterArchiveTaskServiceServer(r, &ArchiveTaskServer{s: s})
	// issue 12 change feed (3.18)
	namespacev1.RegisterDeltaServiceServer(r, &DeltaServer{s: s})
	namespacev1.RegisterFavoriteServiceServer(r, &FavoriteServer{s: s}) // favorites (issue 12 item 4)
	// ---- issue 13 shares: share links and the object service's resolver (docs/shares.md)
	namespacev1.RegisterShareServiceServer(r, &ShareServer{s: s})
	namespacev1.RegisterShareResolverServiceServer(r, &ShareResolverServer{s: s})
	// ---- end issue 13 shares
	// ---- issue 13 tokens: save from a share (13.12)
	namespacev1.RegisterShareSaveServiceServer(r, &ShareSaveServer{s: s})
	// ---- end issue 13 tokens
}

// iso formats times as SMH does (12.4).
func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s *Server) CreateSpace(ctx context.Context, req *namespacev1.CreateSpaceRequest) (*namespacev1.CreateSpaceResponse, error) {
	patch, err := extensionPatch(req.GetExtension())
	if err != nil {
		return nil, toStatus(err)
	}
	id, err := s.ns.CreateSpace(ctx, req.GetLibraryId(), req.GetSpaceId(), patch)
	if err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusCreated)
	return &namespacev1.CreateSpaceResponse{SpaceId: id}, nil
}

func (s *Server) DeleteSpace(ctx context.Context, req *namespacev1.DeleteSpaceRequest) (*namespacev1.DeleteSpaceResponse, error) {
	if err := s.ns.DeleteSpace(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetForce()); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.DeleteSpaceResponse{}, nil
}

func summaries(spaces []app.Space) []*namespacev1.SpaceSummary {
	out := make([]*namespacev1.SpaceSummary, 0, len(spaces))
	for _, sp := range spaces {
		out = append(out, &namespacev1.SpaceSummary{SpaceId: sp.ID, UserId: sp.UserID, CreationTime: iso(sp.CreatedAt)})
	}
	return out
}

// ListSpacesLegacy answers every space in one array (2.3), walking the pages.
func (s *Server) ListSpacesLegacy(ctx context.Context, req *namespacev1.ListSpacesLegacyRequest) (*namespacev1.ListSpacesLegacyResponse, error) {
	var all []app.Space
	marker := ""
	for {
		page, err := s.ns.ListSpaces(ctx, req.GetLibraryId(), marker, "", "", 1000)
		if err != nil {
			return nil, toStatus(err)
		}
		all = append(all, page.Spaces...)
		if page.Marker == "" {
			return &namespacev1.ListSpacesLegacyResponse{Spaces: summaries(all)}, nil
		}
		marker = page.Marker
	}
}

func (s *Server) ListSpaces(ctx context.Context, req *namespacev1.ListSpacesRequest) (*namespacev1.ListSpacesResponse, error) {
	page, err := s.ns.ListSpaces(ctx, req.GetLibraryId(), req.GetMarker(), req.GetPrefix(), req.GetStartName(), int(req.GetLimit()))
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.ListSpacesResponse{List: summaries(page.Spaces)}
	if page.Marker != "" {
		resp.Marker = proto.String(page.Marker)
	}
	return resp, nil
}

func (s *Server) CountSpaces(ctx context.Context, req *namespacev1.CountSpacesRequest) (*namespacev1.CountSpacesResponse, error) {
	n, err := s.ns.CountSpaces(ctx, req.GetLibraryId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.CountSpacesResponse{Total: int32(n)}, nil
}

func (s *Server) GetSpaceExtension(ctx context.Context, req *namespacev1.GetSpaceExtensionRequest) (*namespacev1.GetSpaceExtensionResponse, error) {
	ext, err := s.ns.SpaceExtension(ctx, req.GetLibraryId(), req.GetSpaceId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.GetSpaceExtensionResponse{Extension: extensionProto(ext)}, nil
}

func (s *Server) UpdateSpaceExtension(ctx context.Context, req *namespacev1.UpdateSpaceExtensionRequest) (*namespacev1.UpdateSpaceExtensionResponse, error) {
	patch, err := extensionPatch(req.GetExtension())
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.ns.UpdateSpaceExtension(ctx, req.GetLibraryId(), req.GetSpaceId(), patch); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.UpdateSpaceExtensionResponse{}, nil
}

func (s *Server) GetSpaceSize(ctx context.Context, req *namespacev1.GetSpaceSizeRequest) (*namespacev1.GetSpaceSizeResponse, error) {
	c, err := s.ns.SpaceCounts(ctx, req.GetLibraryId(), req.GetSpaceId(), false)
	if err != nil {
		return nil, toStatus(err)
	}
	// Bytes used: live files, the bin and versions (2.7, decision 16).
	return &namespacev1.GetSpaceSizeResponse{Size: c.Usage()}, nil
}

func (s *Server) GetSpaceFileCount(ctx context.Context, req *namespacev1.GetSpaceFileCountRequest) (*namespacev1.GetSpaceFileCountResponse, error) {
	c, err := s.ns.SpaceCounts(ctx, req.GetLibraryId(), req.GetSpaceId(), true)
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.GetSpaceFileCountResponse{
		FileNum: c.FileNum, DirNum: c.DirNum, RecycledFileNum: c.RecycledFileNum,
		RecycledDirNum: c.RecycledDirNum, HistoryFileNum: c.HistoryFileNum,
	}, nil
}

func (s *Server) GetLibraryUsage(ctx context.Context, req *namespacev1.GetLibraryUsageRequest) (*namespacev1.GetLibraryUsageResponse, error) {
	u, err := s.ns.LibraryUsage(ctx, req.GetLibraryId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.GetLibraryUsageResponse{
		Capacity: bytesValue(u.Capacity), AvailableSpace: bytesValue(u.Available()),
		TotalAllocatedSpaceQuota: u.Allocated, TotalFileSize: u.Counts.Usage(),
	}, nil
}

func (s *Server) GetSpacesUsage(ctx context.Context, req *namespacev1.GetSpacesUsageRequest) (*namespacev1.GetSpacesUsageResponse, error) {
	var ids []string
	for _, id := range strings.Split(req.GetSpaceIds(), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	usage, err := s.ns.SpacesUsage(ctx, req.GetLibraryId(), ids)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.GetSpacesUsageResponse{}
	for _, u := range usage {
		su := &namespacev1.SpaceUsage{
			SpaceId: u.SpaceID, Capacity: structpb.NewNullValue(), AvailableSpace: structpb.NewNullValue(), Size: u.Usage, FileSize: u.Usage,
		}
		if u.Quota != nil {
			available := u.Quota.Available()
			su.Capacity, su.AvailableSpace = bytesValue(&u.Quota.Capacity), bytesValue(&available)
		}
		resp.Usage = append(resp.Usage, su)
	}
	return resp, nil
}

func (s *Server) PurgeLibrary(ctx context.Context, req *namespacev1.PurgeLibraryRequest) (*namespacev1.PurgeLibraryResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	if err := s.ns.PurgeLibrary(ctx, req.GetLibraryId()); err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.PurgeLibraryResponse{}, nil
}

// GetLibrariesUsage answers the usage figures of the admin API's library object (operator key).
func (s *Server) GetLibrariesUsage(ctx context.Context, req *namespacev1.GetLibrariesUsageRequest) (*namespacev1.GetLibrariesUsageResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	usage, err := s.ns.LibrariesUsage(ctx, req.GetLibraryIds())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.GetLibrariesUsageResponse{Usages: make([]*namespacev1.LibraryUsage, len(usage))}
	for i, u := range usage {
		resp.Usages[i] = &namespacev1.LibraryUsage{LibraryId: u.LibraryID, Size: u.Size, DirNum: u.DirNum, FileNum: u.FileNum}
	}
	return resp, nil
}
