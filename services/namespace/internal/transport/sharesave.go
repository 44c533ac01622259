package transport

import (
	"context"
	"net/http"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// ShareSaveServer implements namespacev1.ShareSaveServiceServer: 13.12, save from a share
// (decision 14, docs/shares.md).
type ShareSaveServer struct {
	namespacev1.UnsafeShareSaveServiceServer
	s *Server
}

var _ namespacev1.ShareSaveServiceServer = (*ShareSaveServer)(nil)

// SaveShareFiles answers as batch copy does (10.2): 200, 207 with one result per inode in
// request order, or 202 {taskId}.
func (h *ShareSaveServer) SaveShareFiles(ctx context.Context, req *namespacev1.SaveShareFilesRequest) (*namespacev1.SaveShareFilesResponse, error) {
	batch, err := h.s.ns.SaveFromShare(ctx, req.GetShareCode(), reqmeta.Incoming(ctx, reqmeta.ShareAccessToken), jsonBody(req.GetBody()))
	if err != nil {
		return nil, toStatus(err)
	}
	if batch.TaskID != 0 {
		_ = reqmeta.SetHTTPStatus(ctx, http.StatusAccepted)
		return &namespacev1.SaveShareFilesResponse{TaskId: &batch.TaskID}, nil
	}
	if batchItemsStatus(batch.Results) != http.StatusOK {
		_ = reqmeta.SetHTTPStatus(ctx, http.StatusMultiStatus)
	}
	return &namespacev1.SaveShareFilesResponse{Result: batchResultsList(app.BatchCopy, batch.Results)}, nil
}
