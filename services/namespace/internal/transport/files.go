package transport

// TEMPORARY (issue 4 in progress): the file-entry RPCs of smh.namespace.v1 are being written;
// until then they answer Unimplemented so the module builds. This file is replaced, not kept.

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
)

func notYet() error { return status.Error(codes.Unimplemented, "file entries are not implemented yet") }

func (s *Server) DeleteFile(context.Context, *namespacev1.DeleteFileRequest) (*namespacev1.DeleteFileResponse, error) {
	return nil, notYet()
}

func (s *Server) CopyFile(context.Context, *namespacev1.CopyFileRequest) (*namespacev1.CopyFileResponse, error) {
	return nil, notYet()
}

func (s *Server) MoveFile(context.Context, *namespacev1.MoveFileRequest) (*namespacev1.MoveFileResponse, error) {
	return nil, notYet()
}

func (s *Server) CreateSymlink(context.Context, *namespacev1.CreateSymlinkRequest) (*namespacev1.CreateSymlinkResponse, error) {
	return nil, notYet()
}

func (s *Server) GetInodeInfo(context.Context, *namespacev1.GetInodeInfoRequest) (*namespacev1.GetInodeInfoResponse, error) {
	return nil, notYet()
}

func (s *Server) CheckUpload(context.Context, *namespacev1.CheckUploadRequest) (*namespacev1.CheckUploadResponse, error) {
	return nil, notYet()
}

func (s *Server) CommitFile(context.Context, *namespacev1.CommitFileRequest) (*namespacev1.CommitFileResponse, error) {
	return nil, notYet()
}

func (s *Server) ResolveFile(context.Context, *namespacev1.ResolveFileRequest) (*namespacev1.ResolveFileResponse, error) {
	return nil, notYet()
}

func (s *Server) ResolveAlbumCover(context.Context, *namespacev1.ResolveAlbumCoverRequest) (*namespacev1.ResolveAlbumCoverResponse, error) {
	return nil, notYet()
}

func (s *Server) ReferencedBlobs(context.Context, *namespacev1.ReferencedBlobsRequest) (*namespacev1.ReferencedBlobsResponse, error) {
	return nil, notYet()
}
