package transport

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/object/internal/app"
)

// SharedFileServer serves a share visitor's bytes (13.11, docs/shares.md "Visitor bytes").
type SharedFileServer struct {
	objectv1.UnsafeSharedFileServiceServer
	obj *app.Object
}

var _ objectv1.SharedFileServiceServer = (*SharedFileServer)(nil)

// clientAddressKey is the metadata key the gateway sets from the connection's address for
// every proxied request, overwriting whatever the client sent (reqmeta.ClientAddress).
const clientAddressKey = reqmeta.ClientAddress

// sharedFileRequest gathers a visitor's request: the share, the chain and where it came from.
func sharedFileRequest(ctx context.Context, code, inodes string) app.SharedFileRequest {
	var addr string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(clientAddressKey); len(v) > 0 {
			addr = v[0]
		}
	}
	return app.SharedFileRequest{ShareCode: code, Inodes: inodes, ClientAddress: addr}
}

func (s *SharedFileServer) PreviewSharedFile(ctx context.Context, req *objectv1.PreviewSharedFileRequest) (*objectv1.PreviewSharedFileResponse, error) {
	opts, err := thumbOptions(req.Size, req.Scale, req.WidthSize, req.HeightSize)
	if err != nil {
		return nil, toStatus(err)
	}
	loc, err := s.obj.PreviewShared(ctx, sharedFileRequest(ctx, req.GetShareCode(), req.GetInodes()), opts)
	if err != nil {
		return nil, toStatus(err)
	}
	redirect(ctx, loc.URL)
	return &objectv1.PreviewSharedFileResponse{}, nil
}

func (s *SharedFileServer) DownloadSharedFile(ctx context.Context, req *objectv1.DownloadSharedFileRequest) (*objectv1.DownloadSharedFileResponse, error) {
	loc, err := s.obj.DownloadShared(ctx, sharedFileRequest(ctx, req.GetShareCode(), req.GetInodes()))
	if err != nil {
		return nil, toStatus(err)
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(fileFacts(loc.File.GetFile())...))
	redirect(ctx, loc.URL)
	return &objectv1.DownloadSharedFileResponse{}, nil
}

func (s *SharedFileServer) ZipSharedDirectory(ctx context.Context, req *objectv1.ZipSharedDirectoryRequest) (*objectv1.ZipSharedDirectoryResponse, error) {
	url, err := s.obj.ZipShared(ctx, sharedFileRequest(ctx, req.GetShareCode(), req.GetInodes()))
	if err != nil {
		return nil, toStatus(err)
	}
	redirect(ctx, url)
	return &objectv1.ZipSharedDirectoryResponse{}, nil
}
