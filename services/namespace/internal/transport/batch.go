package transport

import (
	"context"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Batch handlers (SMH API section 10) and the task queries' table of task kinds (7.1, 7.3):
// the BatchService, served beside NamespaceService by the same process (docs/batch.md).

// BatchServer implements namespacev1.BatchServiceServer.
type BatchServer struct {
	namespacev1.UnsafeBatchServiceServer
	s *Server
}

var _ namespacev1.BatchServiceServer = (*BatchServer)(nil)

func (b *BatchServer) BatchCopy(ctx context.Context, req *namespacev1.BatchCopyRequest) (*namespacev1.BatchCopyResponse, error) {
	result, taskID, err := b.run(ctx, req.GetLibraryId(), req.GetSpaceId(), app.BatchCopy, req.GetItems())
	if err != nil {
		return nil, err
	}
	return &namespacev1.BatchCopyResponse{Result: result, TaskId: taskID}, nil
}

func (b *BatchServer) BatchMove(ctx context.Context, req *namespacev1.BatchMoveRequest) (*namespacev1.BatchMoveResponse, error) {
	result, taskID, err := b.run(ctx, req.GetLibraryId(), req.GetSpaceId(), app.BatchMove, req.GetItems())
	if err != nil {
		return nil, err
	}
	return &namespacev1.BatchMoveResponse{Result: result, TaskId: taskID}, nil
}

func (b *BatchServer) BatchDelete(ctx context.Context, req *namespacev1.BatchDeleteRequest) (*namespacev1.BatchDeleteResponse, error) {
	result, taskID, err := b.run(ctx, req.GetLibraryId(), req.GetSpaceId(), app.BatchDelete, req.GetItems())
	if err != nil {
		return nil, err
	}
	return &namespacev1.BatchDeleteResponse{Result: result, TaskId: taskID}, nil
}

// run runs a batch and answers its body: 200 every item succeeded, 207 some failed (the result
// list either way), 202 and the task id over the threshold (10).
func (b *BatchServer) run(ctx context.Context, libraryID, spaceID string, op app.BatchOp, items *structpb.Value) (*structpb.ListValue, *int32, error) {
	batch, err := b.s.ns.RunBatch(ctx, libraryID, spaceID, op, jsonBody(items))
	if err != nil {
		return nil, nil, toStatus(err)
	}
	if batch.TaskID != 0 {
		_ = reqmeta.SetHTTPStatus(ctx, http.StatusAccepted)
		return nil, &batch.TaskID, nil
	}
	if batchItemsStatus(batch.Results) != http.StatusOK {
		_ = reqmeta.SetHTTPStatus(ctx, http.StatusMultiStatus)
	}
	return batchResultsList(op, batch.Results), nil, nil
}

func batchItemsStatus(results []app.BatchResult) int {
	for _, r := range results {
		if r.Err != nil {
			return http.StatusMultiStatus
		}
	}
	return http.StatusOK
}

// batchResultsList answers a batch's results as 10.1-10.3 and 7.3 show them, in request order.
func batchResultsList(op app.BatchOp, results []app.BatchResult) *structpb.ListValue {
	l := &structpb.ListValue{Values: make([]*structpb.Value, 0, len(results))}
	for _, r := range results {
		l.Values = append(l.Values, structpb.NewStructValue(batchItem(op, r)))
	}
	return l
}

// batchItem answers one item's result: status, the echoed request paths as arrays, path (the
// final path under rename; the deleted path), recycledItemId (binned), code and message
// (failed).
func batchItem(op app.BatchOp, r app.BatchResult) *structpb.Struct {
	f := map[string]*structpb.Value{}
	switch op {
	case app.BatchDelete:
		f["path"] = pathValue(app.EchoPath(r.Item.Path))
		if r.RecycledID > 0 {
			f["recycledItemId"] = structpb.NewNumberValue(idNumber(r.RecycledID))
		}
	case app.BatchCopy:
		f["copyFrom"], f["to"] = pathValue(app.EchoPath(r.Item.From)), pathValue(app.EchoPath(r.Item.To))
		if r.Item.FromSpaceID != "" {
			f["copyFromSpaceId"] = structpb.NewStringValue(r.Item.FromSpaceID)
		}
		if r.Item.FromLibraryID != "" {
			f["copyFromLibraryId"] = structpb.NewStringValue(r.Item.FromLibraryID)
		}
	case app.BatchMove:
		f["from"], f["to"] = pathValue(app.EchoPath(r.Item.From)), pathValue(app.EchoPath(r.Item.To))
		if r.Item.FromSpaceID != "" {
			f["fromSpaceId"] = structpb.NewStringValue(r.Item.FromSpaceID)
		}
		if r.Item.MoveAuthority != nil {
			f["moveAuthority"] = structpb.NewBoolValue(*r.Item.MoveAuthority)
		}
	}
	if op != app.BatchDelete && r.Status == http.StatusOK {
		f["path"] = pathValue(r.Path)
	}
	status := r.Status
	if r.Err != nil {
		e := smherr.As(toStatus(r.Err))
		status = e.Status
		f["code"], f["message"] = structpb.NewStringValue(e.Code), structpb.NewStringValue(e.Message)
	}
	f["status"] = structpb.NewNumberValue(float64(status))
	return &structpb.Struct{Fields: f}
}

// taskKind is one row of the task queries' table: how a finished task of that kind answers.
type taskKind struct {
	// field names the result in 7.3's answer ("<taskType>Result" or, for the batch kinds,
	// "<taskType>Results").
	field string
	// result answers the task's result (7.1's "result", 7.3's field): the shape of the
	// synchronous answer of the call that started it. Asked only for a task that finished with a
	// result (200, 207, 400).
	result func(t app.Task) *structpb.Value
	// alsoFailed: a failed task (500) answers its result too, and the result's "code" and
	// "err", when set, are the failure's code and message (fileUncompress, 7.3).
	alsoFailed bool
}

// taskKinds is the table of task kinds: one row per kind with a result, the extension point
// of new kinds (docs/batch.md "Task kinds"; the use case's row is app.taskResultDecoders). A
// kind without a row answers its status, and code and message when failed, but no result.
var taskKinds = map[string]taskKind{
	app.TaskCopyDirectory: {field: "copyDirectoryResult", result: func(t app.Task) *structpb.Value {
		return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"path": pathValue(t.Path)}})
	}},
	app.TaskBatchRestoreRecycle: {field: "batchRestoreRecycleResults", result: func(t app.Task) *structpb.Value {
		l, err := listOf(restoreResults(t.Restores))
		if err != nil {
			return nil
		}
		return structpb.NewListValue(l)
	}},
	app.TaskBatchCopy:   {field: "batchCopyResults", result: batchTaskResult(app.BatchCopy)},
	app.TaskBatchMove:   {field: "batchMoveResults", result: batchTaskResult(app.BatchMove)},
	app.TaskBatchDelete: {field: "batchDeleteResults", result: batchTaskResult(app.BatchDelete)},
	// archives (issue 12 item 6): fileUncompress (3.17), as archive.go stores it.
	app.TaskFileUncompress: {field: "fileUncompressResult", alsoFailed: true, result: func(t app.Task) *structpb.Value {
		s, err := uncompressResult(t)
		if err != nil || s == nil {
			return nil
		}
		return structpb.NewStructValue(s)
	}},
	// issue 12 fileops: calibrateDirectoryStats (4.9): {"status"}.
	app.TaskCalibrateDirectoryStats: {field: "calibrateDirectoryStatsResult", result: func(t app.Task) *structpb.Value {
		if t.Calibrate == nil {
			return nil
		}
		return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"status": structpb.NewNumberValue(float64(t.Calibrate.Status))}})
	}},
}

func batchTaskResult(op app.BatchOp) func(app.Task) *structpb.Value {
	return func(t app.Task) *structpb.Value {
		results, _ := t.Result.([]app.BatchResult)
		return structpb.NewListValue(batchResultsList(op, results))
	}
}

// finishedWithResult tells whether a task's status carries a result (7.1, 7.3).
func finishedWithResult(t app.Task) bool {
	return t.Status == app.TaskDone || t.Status == app.TaskPartial || t.Status == app.TaskAllFailed
}

// taskResultValue answers a finished task's result for the task query (7.1), nil for a kind
// without one.
func taskResultValue(t app.Task) *structpb.Value {
	kind, ok := taskKinds[t.Kind]
	if !ok || !finishedWithResult(t) {
		return nil
	}
	return kind.result(t)
}

// QueryTaskResult answers one task with its typed result (7.3): taskId as a string, taskType,
// status, the kind's result field once finished with one, code and message when failed.
func (b *BatchServer) QueryTaskResult(ctx context.Context, req *namespacev1.QueryTaskResultRequest) (*namespacev1.QueryTaskResultResponse, error) {
	t, err := b.s.ns.TaskResult(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetTaskId())
	if err != nil {
		return nil, toStatus(err)
	}
	f := map[string]*structpb.Value{
		"taskId":   structpb.NewStringValue(strconv.Itoa(int(t.ID))),
		"taskType": structpb.NewStringValue(t.Kind),
		"status":   structpb.NewNumberValue(float64(t.Status)),
	}
	if t.Status == app.TaskFailed {
		e := smherr.As(toStatus(t.Err))
		f["code"], f["message"] = structpb.NewStringValue(e.Code), structpb.NewStringValue(e.Message)
	}
	if kind, ok := taskKinds[t.Kind]; ok && (finishedWithResult(t) || kind.alsoFailed && t.Status == app.TaskFailed) {
		if v := kind.result(t); v != nil {
			f[kind.field] = v
			if fields := v.GetStructValue().GetFields(); t.Status == app.TaskFailed && fields["code"].GetStringValue() != "" {
				f["code"], f["message"] = fields["code"], structpb.NewStringValue(fields["err"].GetStringValue())
			}
		}
	}
	return &namespacev1.QueryTaskResultResponse{Task: &structpb.Struct{Fields: f}}, nil
}
