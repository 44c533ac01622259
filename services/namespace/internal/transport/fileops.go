package transport

import (
	"context"
	"math"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/filetype"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// FileOpsServer serves smh.namespace.v1.FileOpsService (issue 12 fileops, docs/fileops.md):
// virtual files, the contents view, the traffic limit and stats calibration.
type FileOpsServer struct {
	namespacev1.UnsafeFileOpsServiceServer
	s *Server
}

var _ namespacev1.FileOpsServiceServer = (*FileOpsServer)(nil)

// virtualFile reads createVirtualFile's body (3.17); every field is optional, size "0" by default.
func virtualFile(b *namespacev1.VirtualFileBody) (app.VirtualFile, error) {
	size, err := wholeBytes("size", b.GetSize())
	if err != nil {
		return app.VirtualFile{}, err
	}
	v := app.VirtualFile{
		ContentType: b.GetContentType(), MetaData: b.GetMetaData(), Labels: b.GetLabels(), Category: b.GetCategory(),
		LocalCreationTime: b.GetLocalCreationTime(), LocalModificationTime: b.GetLocalModificationTime(),
	}
	if size != nil {
		v.Size = *size
	}
	return v, nil
}

func (f *FileOpsServer) CreateVirtualFile(ctx context.Context, req *namespacev1.CreateVirtualFileRequest) (*namespacev1.CreateVirtualFileResponse, error) {
	v, err := virtualFile(req.GetBody())
	if err != nil {
		return nil, toStatus(err)
	}
	placed, err := f.s.ns.CreateVirtualFile(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(), req.GetConflictResolutionStrategy(), v)
	if err != nil {
		return nil, toStatus(err)
	}
	// Decision 18: 200 with the file object, as a confirmed upload answers.
	return &namespacev1.CreateVirtualFileResponse{File: fileObject(placed.Node, placed.Path, placed.Overwritten)}, nil
}

func (f *FileOpsServer) GetContentsView(ctx context.Context, req *namespacev1.GetContentsViewRequest) (*namespacev1.GetContentsViewResponse, error) {
	page, err := f.s.ns.ContentsView(ctx, req.GetLibraryId(), req.GetSpaceId(), app.ContentsQuery{
		Filter: req.GetFilter(), OrderBy: req.GetOrderBy(), OrderByType: req.GetOrderByType(), WithPath: req.GetWithPath(),
		Marker: req.Marker, Category: req.Category, Limit: req.Limit,
	})
	if err != nil {
		return nil, toStatus(err)
	}
	out := &namespacev1.GetContentsViewResponse{Contents: make([]*namespacev1.ContentsViewEntry, 0, len(page.Entries))}
	if page.NextMarker != "" {
		out.NextMarker = &page.NextMarker
	}
	for i, n := range page.Entries {
		var path []string
		if page.Paths != nil {
			path = page.Paths[i]
		}
		out.Contents = append(out.Contents, contentsEntry(n, path))
	}
	return out, nil
}

// contentsEntry answers one entry of the contents view (2.10): directories carry the common
// fields only; files add their content facts and the preview flags of their type.
func contentsEntry(n app.Node, path []string) *namespacev1.ContentsViewEntry {
	e := &namespacev1.ContentsViewEntry{
		Name: n.Name, Path: path, Inode: strconv.FormatInt(n.Inode, 10), Type: string(n.Type),
		CreationTime: iso(n.CreatedAt), ModificationTime: iso(n.ModifiedAt), MetaData: n.MetaData, Labels: n.Labels,
		LocalCreationTime: nonEmpty(n.LocalCreationTime), LocalModificationTime: nonEmpty(n.LocalModificationTime),
	}
	if e.MetaData == nil {
		e.MetaData = map[string]string{}
	}
	if e.Labels == nil {
		e.Labels = []string{}
	}
	if n.IsDir() {
		return e
	}
	size := n.Size
	e.Size, e.ContentType, e.ETag, e.Crc64 = &size, &n.ContentType, &n.ETag, &n.CRC64
	e.Category = nonEmpty(n.Category)
	e.VersionId = versionID(n)
	d := filetype.Describe(n.Name, n.ContentType)
	e.FileType, e.PreviewByDoc, e.PreviewByCi, e.PreviewAsIcon = &d.FileType, &d.PreviewByDoc, &d.PreviewByCI, &d.PreviewAsIcon
	if n.Type == app.TypeVirtual || n.IsSymlink() {
		no := false
		e.PreviewByDoc, e.PreviewByCi = &no, &no // nothing to preview (decision 25)
	}
	return e
}

// trafficLimitValue reads downloadTrafficLimit: a required JSON number, a whole one.
func trafficLimitValue(v *structpb.Value) (int64, error) {
	bad := &app.InputError{Err: app.ErrParamInvalid, Reason: "downloadTrafficLimit must be a number: 102400-104857600 or -1"}
	k, ok := v.GetKind().(*structpb.Value_NumberValue)
	if !ok || k.NumberValue != math.Trunc(k.NumberValue) || math.Abs(k.NumberValue) > 1<<53 {
		return 0, bad
	}
	return int64(k.NumberValue), nil
}

func (f *FileOpsServer) SetSpaceTrafficLimit(ctx context.Context, req *namespacev1.SetSpaceTrafficLimitRequest) (*namespacev1.SetSpaceTrafficLimitResponse, error) {
	body := func() (int64, error) { return trafficLimitValue(req.GetBody().GetDownloadTrafficLimit()) }
	if err := f.s.ns.SetTrafficLimit(ctx, req.GetLibraryId(), req.GetSpaceId(), body); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.SetSpaceTrafficLimitResponse{}, nil
}

func (f *FileOpsServer) CalibrateDirectoryStats(ctx context.Context, req *namespacev1.CalibrateDirectoryStatsRequest) (*namespacev1.CalibrateDirectoryStatsResponse, error) {
	id, err := f.s.ns.CalibrateDirectoryStats(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath(), req.GetStatsType(), req.GetRecycledId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.CalibrateDirectoryStatsResponse{TaskId: float64(id)}, nil
}
