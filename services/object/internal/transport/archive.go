package transport

import (
	"context"
	"net/http"

	"google.golang.org/protobuf/types/known/structpb"

	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/object/internal/app"
)

// ArchiveServer serves zip preview and uncompress (3.17, docs/archives.md).
type ArchiveServer struct {
	objectv1.UnsafeArchiveServiceServer
	obj *app.Object
}

var _ objectv1.ArchiveServiceServer = (*ArchiveServer)(nil)

// PreviewZipFile lists an archive: flat or tree, at most 1,000 entries.
func (a *ArchiveServer) PreviewZipFile(ctx context.Context, req *objectv1.PreviewZipFileRequest) (*objectv1.PreviewZipFileResponse, error) {
	p, err := a.obj.PreviewArchive(ctx, app.PreviewRequest{
		LibraryID: req.GetLibraryId(), SpaceID: req.GetSpaceId(), Path: req.GetFilePath(), Format: req.GetFormat(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	var contents *structpb.Value
	if p.Tree {
		contents = structpb.NewStructValue(&structpb.Struct{Fields: treeFields(p.PreviewTree())})
	} else {
		l := &structpb.ListValue{Values: make([]*structpb.Value, 0, len(p.Entries))}
		for _, e := range p.Entries {
			l.Values = append(l.Values, structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
				"key":              structpb.NewStringValue(e.Key),
				"lastModified":     structpb.NewStringValue(iso(e.Modified)),
				"uncompressedSize": structpb.NewNumberValue(float64(e.Size)),
			}}))
		}
		contents = structpb.NewListValue(l)
	}
	return &objectv1.PreviewZipFileResponse{FileNumber: int32(min(p.Total, 1<<31-1)), IsTruncated: p.Truncated, Contents: contents}, nil
}

// treeFields answers one node of the tree form; a directory's key, time and size are null.
func treeFields(n *app.TreeNode) map[string]*structpb.Value {
	null := structpb.NewNullValue()
	f := map[string]*structpb.Value{
		"level": structpb.NewNumberValue(float64(n.Level)), "isDir": structpb.NewBoolValue(n.IsDir),
		"filename": structpb.NewStringValue(n.Filename), "prename": structpb.NewStringValue(n.Prename),
		"prefix": structpb.NewStringValue(n.Prefix), "key": null, "lastModified": null, "uncompressedSize": null,
		"children": null,
	}
	if n.Key != nil {
		f["key"] = structpb.NewStringValue(*n.Key)
		f["lastModified"] = structpb.NewStringValue(iso(*n.Modified))
		f["uncompressedSize"] = structpb.NewNumberValue(float64(*n.Size))
	}
	if n.IsDir {
		l := &structpb.ListValue{Values: make([]*structpb.Value, 0, len(n.Children))}
		for _, c := range n.Children {
			l.Values = append(l.Values, structpb.NewStructValue(&structpb.Struct{Fields: treeFields(c)}))
		}
		f["children"] = structpb.NewListValue(l)
	}
	return f
}

// UncompressFile starts an uncompress task: 202 {"taskId"}.
func (a *ArchiveServer) UncompressFile(ctx context.Context, req *objectv1.UncompressFileRequest) (*objectv1.UncompressFileResponse, error) {
	b := req.GetBody()
	id, err := a.obj.Uncompress(ctx, app.UncompressRequest{
		LibraryID: req.GetLibraryId(), SpaceID: req.GetSpaceId(), Path: req.GetFilePath(),
		Strategy: req.GetConflictResolutionStrategy(), TargetPath: b.GetTargetPath(), TargetSpaceID: b.GetTargetSpaceId(),
		Selected: b.GetSelectedFilePaths(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusAccepted)
	return &objectv1.UncompressFileResponse{TaskId: id}, nil
}
