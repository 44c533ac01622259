package transport

import (
	"context"
	"math"
	"net/http"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/filetype"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Recycle-bin handlers (SMH API section 5): the RecycleService, served beside
// NamespaceService by the same process. Its batch restores report through the task queries
// (batch.go's table of task kinds).

// RecycleServer implements namespacev1.RecycleServiceServer.
type RecycleServer struct {
	namespacev1.UnsafeRecycleServiceServer
	s *Server
}

var _ namespacev1.RecycleServiceServer = (*RecycleServer)(nil)

// idNumber answers an id as the JSON number SMH sends (section 5).
func idNumber(id int64) float64 { return float64(id) }

// jsonBody answers a request body as encoding/json would decode it (nil when absent), for the
// use case to read once the caller is let in.
func jsonBody(v *structpb.Value) any {
	if v == nil {
		return nil
	}
	return v.AsInterface()
}

// recycledItemProto converts a bin item (5.1). A file's fileType and preview flags are those of
// its live file object (filetype.Describe); a directory's are empty and false.
func recycledItemProto(it app.RecycledItem, now time.Time) *namespacev1.RecycledItem {
	out := &namespacev1.RecycledItem{
		RecycledItemId: idNumber(it.ID), Name: it.Node.Name, Type: string(it.Node.Type),
		OriginalPath: it.OriginalPath, SpaceId: it.SpaceID, Size: it.Totals.Size,
		CreationTime: iso(it.Node.CreatedAt), ModificationTime: iso(it.Node.ModifiedAt),
		RemovalTime: iso(it.RemovedAt), RemainingTime: int32(it.RemainingDays(now)),
	}
	if out.OriginalPath == nil {
		out.OriginalPath = []string{}
	}
	if !it.Node.IsDir() {
		d := filetype.Describe(it.Node.Name, it.Node.ContentType)
		out.FileType, out.PreviewByCi, out.PreviewByDoc, out.PreviewAsIcon = d.FileType, d.PreviewByCI, d.PreviewByDoc, d.PreviewAsIcon
	}
	return out
}

func (r *RecycleServer) ListRecycled(ctx context.Context, req *namespacev1.ListRecycledRequest) (*namespacev1.ListRecycledResponse, error) {
	l, err := r.s.ns.ListRecycled(ctx, req.GetLibraryId(), req.GetSpaceId(), app.RecycleQuery{
		Mode: req.GetMode(), Marker: req.Marker, Limit: intPtr(req.Limit), Page: intPtr(req.Page), PageSize: intPtr(req.PageSize),
		OrderBy: req.GetOrderBy(), OrderByType: req.GetOrderByType(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.ListRecycledResponse{Contents: make([]*namespacev1.RecycledItem, 0, len(l.Page.Items))}
	for _, it := range l.Page.Items {
		resp.Contents = append(resp.Contents, recycledItemProto(it, l.Now))
	}
	if l.PageMode {
		resp.TotalNum = proto.Int32(int32(min(l.Page.Total, math.MaxInt32)))
	} else {
		resp.NextMarker = nonEmpty(l.Page.NextMarker)
	}
	return resp, nil
}

func (r *RecycleServer) GetRecycledItem(ctx context.Context, req *namespacev1.GetRecycledItemRequest) (*namespacev1.GetRecycledItemResponse, error) {
	it, now, err := r.s.ns.RecycledItem(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetRecycledItemId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.GetRecycledItemResponse{Item: recycledItemProto(it, now)}, nil
}

func (r *RecycleServer) RestoreRecycled(ctx context.Context, req *namespacev1.RestoreRecycledRequest) (*namespacev1.RestoreRecycledResponse, error) {
	path, err := r.s.ns.RestoreRecycled(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetRecycledItemId(),
		req.GetConflictResolutionStrategy(), req.GetRestorePathStrategy())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.RestoreRecycledResponse{Path: path}, nil
}

// restoreResults converts a batch restore's items (5.5, 7.3): status 200 and the path for a
// restored item, the item's SMH error otherwise.
func restoreResults(results []app.RestoreResult) []*namespacev1.RestoreResult {
	out := make([]*namespacev1.RestoreResult, 0, len(results))
	for _, res := range results {
		item := &namespacev1.RestoreResult{Status: http.StatusOK, RecycledItemId: idNumber(res.ID), Path: res.Path}
		if res.Err != nil {
			e := smherr.As(toStatus(res.Err))
			item.Status, item.Path, item.Code, item.Message = int32(e.Status), nil, &e.Code, &e.Message
		}
		if item.Path == nil {
			item.Path = []string{}
		}
		out = append(out, item)
	}
	return out
}

// listOf answers messages as a JSON list value, each as its JSON object: the answers whose list
// must be absent rather than empty when there is none (a 202, another task type).
func listOf[M proto.Message](items []M) (*structpb.ListValue, error) {
	l := &structpb.ListValue{Values: make([]*structpb.Value, 0, len(items))}
	for _, m := range items {
		b, err := protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(m)
		if err != nil {
			return nil, err
		}
		v := &structpb.Value{}
		if err := protojson.Unmarshal(b, v); err != nil {
			return nil, err
		}
		l.Values = append(l.Values, v)
	}
	return l, nil
}

func (r *RecycleServer) RestoreRecycledBatch(ctx context.Context, req *namespacev1.RestoreRecycledBatchRequest) (*namespacev1.RestoreRecycledBatchResponse, error) {
	b, err := r.s.ns.RestoreRecycledBatch(ctx, req.GetLibraryId(), req.GetSpaceId(), jsonBody(req.GetIds()),
		req.GetConflictResolutionStrategy(), req.GetRestorePathStrategy())
	if err != nil {
		return nil, toStatus(err)
	}
	if b.TaskID != 0 {
		_ = reqmeta.SetHTTPStatus(ctx, http.StatusAccepted)
		return &namespacev1.RestoreRecycledBatchResponse{TaskId: &b.TaskID}, nil
	}
	result, err := listOf(restoreResults(b.Results))
	if err != nil {
		return nil, toStatus(err)
	}
	for _, res := range b.Results {
		if res.Err != nil {
			_ = reqmeta.SetHTTPStatus(ctx, http.StatusMultiStatus)
			break
		}
	}
	return &namespacev1.RestoreRecycledBatchResponse{Result: result}, nil
}

func (r *RecycleServer) PurgeRecycled(ctx context.Context, req *namespacev1.PurgeRecycledRequest) (*namespacev1.PurgeRecycledResponse, error) {
	if err := r.s.ns.PurgeRecycled(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetRecycledItemId()); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.PurgeRecycledResponse{}, nil
}

func (r *RecycleServer) PurgeRecycledBatch(ctx context.Context, req *namespacev1.PurgeRecycledBatchRequest) (*namespacev1.PurgeRecycledBatchResponse, error) {
	if err := r.s.ns.PurgeRecycledBatch(ctx, req.GetLibraryId(), req.GetSpaceId(), jsonBody(req.GetIds())); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.PurgeRecycledBatchResponse{}, nil
}

func (r *RecycleServer) EmptyRecycled(ctx context.Context, req *namespacev1.EmptyRecycledRequest) (*namespacev1.EmptyRecycledResponse, error) {
	if err := r.s.ns.EmptyRecycled(ctx, req.GetLibraryId(), req.GetSpaceId()); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.EmptyRecycledResponse{}, nil
}

func (r *RecycleServer) SetRecycleLifecycle(ctx context.Context, req *namespacev1.SetRecycleLifecycleRequest) (*namespacev1.SetRecycleLifecycleResponse, error) {
	var days *int
	if l := req.GetLifecycle(); l != nil && l.RetentionDays != nil {
		d := int(l.GetRetentionDays())
		days = &d
	}
	if err := r.s.ns.SetRecycleLifecycle(ctx, req.GetLibraryId(), req.GetSpaceId(), days); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.SetRecycleLifecycleResponse{}, nil
}

// ResolveRecycledFile answers the object service (operator key, caller's credentials
// forwarded) the file a bin item holds, its original path as the path.
func (r *RecycleServer) ResolveRecycledFile(ctx context.Context, req *namespacev1.ResolveRecycledFileRequest) (*namespacev1.ResolveRecycledFileResponse, error) {
	if err := r.s.admin.Check(ctx); err != nil {
		return nil, err
	}
	it, err := r.s.ns.ResolveRecycledFile(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetRecycledItemId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.ResolveRecycledFileResponse{File: storedFile(it.Node, it.OriginalPath, nil, false)}, nil
}
