package transport

import (
	"context"
	"net/http"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// File handlers (SMH API section 3) and the object service's internal calls.

// fileObject converts a file entry to SMH's file object (3.4, 3.9). The inode is always filled:
// CommitFile has no with_inode, and the object service decides what its callers see.
// file_type and preview_* are the object service's to fill.
func fileObject(n app.Node, path []string, overwritten bool) *namespacev1.FileObject {
	f := &namespacev1.FileObject{
		Path: path, Name: n.Name, Type: string(n.Type), Inode: inodeOf(n),
		CreationTime: iso(n.CreatedAt), ModificationTime: iso(n.ModifiedAt),
		ContentType: n.ContentType, Size: n.Size, ETag: n.ETag, Crc64: n.CRC64,
		MetaData: n.MetaData, IsOverwritten: overwritten, Labels: n.Labels,
		Category:          nonEmpty(n.Category),
		LocalCreationTime: nonEmpty(n.LocalCreationTime), LocalModificationTime: nonEmpty(n.LocalModificationTime),
		VersionId: versionID(n),
	}
	if f.Path == nil {
		f.Path = []string{}
	}
	if f.MetaData == nil {
		f.MetaData = map[string]string{}
	}
	if f.Labels == nil {
		f.Labels = []string{}
	}
	return f
}

// storedFile adds what only services see: inode, blob and creator, and for a resolved symlink
// the link's own path.
func storedFile(n app.Node, path, linkPath []string, overwritten bool) *namespacev1.StoredFile {
	return &namespacev1.StoredFile{
		File: fileObject(n, path, overwritten), Inode: n.Inode, BlobId: n.BlobID, UserId: n.UserID, LinkPath: linkPath,
	}
}

// fileStrategy picks the conflict strategy of a copy, move or symlink: the body's key wins over
// the query parameter.
func fileStrategy(body *namespacev1.FileTransfer, query string) string {
	if s := body.GetConflictResolutionStrategy(); s != "" {
		return s
	}
	return query
}

func (s *Server) DeleteFile(ctx context.Context, req *namespacev1.DeleteFileRequest) (*namespacev1.DeleteFileResponse, error) {
	id, err := s.ns.DeleteFile(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(), req.GetPermanent())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.DeleteFileResponse{RecycledItemId: deleteAnswer(ctx, id)}, nil
}

// deleteAnswer answers a delete as 5.10 does: 200 {"recycledItemId": <number>} when the entry
// went to the bin, 204 without a body when it was deleted for good (recycledID 0).
func deleteAnswer(ctx context.Context, recycledID int64) *float64 {
	if recycledID == 0 {
		_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
		return nil
	}
	id := idNumber(recycledID)
	return &id
}

func (s *Server) CopyFile(ctx context.Context, req *namespacev1.CopyFileRequest) (*namespacev1.CopyFileResponse, error) {
	path, err := s.ns.CopyFile(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(),
		req.GetTransfer().GetCopyFrom(), fileStrategy(req.GetTransfer(), req.GetConflictResolutionStrategy()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.CopyFileResponse{Path: path}, nil
}

func (s *Server) MoveFile(ctx context.Context, req *namespacev1.MoveFileRequest) (*namespacev1.MoveFileResponse, error) {
	path, err := s.ns.MoveFile(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(),
		req.GetTransfer().GetFrom(), fileStrategy(req.GetTransfer(), req.GetConflictResolutionStrategy()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.MoveFileResponse{Path: path}, nil
}

func (s *Server) CreateSymlink(ctx context.Context, req *namespacev1.CreateSymlinkRequest) (*namespacev1.CreateSymlinkResponse, error) {
	path, err := s.ns.CreateSymlink(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(),
		req.GetTransfer().GetLinkTo(), fileStrategy(req.GetTransfer(), req.GetConflictResolutionStrategy()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.CreateSymlinkResponse{Path: path}, nil
}

func (s *Server) GetInodeInfo(ctx context.Context, req *namespacev1.GetInodeInfoRequest) (*namespacev1.GetInodeInfoResponse, error) {
	node, path, err := s.ns.GetInodeInfo(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetInode())
	if err != nil {
		return nil, toStatus(err)
	}
	e := entryProto(node, true)
	e.Path, e.UserId = path, &node.UserID
	if req.GetWithFavoriteStatus() {
		if err := s.markFavorites(ctx, req.GetLibraryId(), req.GetSpaceId(), []app.Node{node}, []*namespacev1.DirectoryEntry{e}); err != nil {
			return nil, toStatus(err)
		}
	}
	return &namespacev1.GetInodeInfoResponse{Entry: e}, nil
}

func (s *Server) CheckUpload(ctx context.Context, req *namespacev1.CheckUploadRequest) (*namespacev1.CheckUploadResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	c, err := s.ns.CheckUpload(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(), req.GetConflictResolutionStrategy(), req.FileSize)
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.CheckUploadResponse{
		Path: c.Path, UserId: c.UserID, ConflictResolutionStrategy: string(c.Strategy), Force: c.Force,
		Rules: uploadRulesProto(c.Rules),
	}, nil
}

// uploadRulesProto answers what a space requires of uploaded bytes (2.11), for the object
// service: at begin (CheckUpload) and for extracted archives (BeginUncompressTask).
func uploadRulesProto(r app.UploadRules) *namespacev1.UploadRules {
	return &namespacev1.UploadRules{
		MediaLibrary: r.MediaLibrary, AllowPhoto: r.AllowPhoto, AllowVideo: r.AllowVideo,
		AllowPhotoExtname: r.AllowPhotoExtname, AllowVideoExtname: r.AllowVideoExtname,
		AllowFileExtname: r.AllowFileExtname,
	}
}

func (s *Server) CommitFile(ctx context.Context, req *namespacev1.CommitFileRequest) (*namespacev1.CommitFileResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	placed, err := s.ns.CommitFile(ctx, app.Commit{
		LibraryID: req.GetLibraryId(), SpaceID: req.GetSpaceId(), Path: req.GetPath(),
		Strategy: req.GetConflictResolutionStrategy(), Force: req.GetForce(), UserID: req.GetUserId(),
		BlobID: req.GetBlobId(), Size: req.GetSize(), ContentType: req.GetContentType(), ETag: req.GetETag(),
		CRC64: req.GetCrc64(), Type: app.NodeType(req.GetType()), MetaData: req.GetMetaData(), Labels: req.GetLabels(),
		Category: req.GetCategory(), LocalCreationTime: req.GetLocalCreationTime(), LocalModificationTime: req.GetLocalModificationTime(),
		UploadID: req.GetUploadId(), RapidUpload: req.GetRapidUpload(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.CommitFileResponse{File: storedFile(placed.Node, placed.Path, nil, placed.Overwritten)}, nil
}

func (s *Server) ResolveFile(ctx context.Context, req *namespacev1.ResolveFileRequest) (*namespacev1.ResolveFileResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	r, err := s.ns.ResolveFile(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(), req.GetHistoryId())
	if err != nil {
		return nil, toStatus(err)
	}
	out := storedFile(r.Node, r.Path, r.LinkPath, false)
	out.DownloadTrafficLimit = r.TrafficLimit // issue 12 fileops: signed into the download URL
	return &namespacev1.ResolveFileResponse{File: out}, nil
}

func (s *Server) ResolveAlbumCover(ctx context.Context, req *namespacev1.ResolveAlbumCoverRequest) (*namespacev1.ResolveAlbumCoverResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	r, err := s.ns.ResolveAlbumCover(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetAlbumName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.ResolveAlbumCoverResponse{File: storedFile(r.Node, r.Path, nil, false)}, nil
}

func (s *Server) ReferencedBlobs(ctx context.Context, req *namespacev1.ReferencedBlobsRequest) (*namespacev1.ReferencedBlobsResponse, error) {
	if err := s.admin.Check(ctx); err != nil {
		return nil, err
	}
	ids, err := s.ns.ReferencedBlobs(ctx, req.GetBlobIds())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.ReferencedBlobsResponse{Referenced: ids}, nil
}
