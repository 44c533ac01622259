package transport

import (
	"context"
	"encoding/json"

	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// ArchiveTaskServer serves the internal calls of zip preview and uncompress (3.17,
// docs/archives.md) to the object service: every one needs the operator key.
type ArchiveTaskServer struct {
	namespacev1.UnsafeArchiveTaskServiceServer
	s *Server
}

var _ namespacev1.ArchiveTaskServiceServer = (*ArchiveTaskServer)(nil)

// OpenArchive judges the caller (forwarded credentials) and answers the archive's file.
func (a *ArchiveTaskServer) OpenArchive(ctx context.Context, req *namespacev1.OpenArchiveRequest) (*namespacev1.OpenArchiveResponse, error) {
	if err := a.s.admin.Check(ctx); err != nil {
		return nil, err
	}
	r, enabled, err := a.s.ns.OpenArchive(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(), req.GetOperation())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.OpenArchiveResponse{File: storedFile(r.Node, r.Path, r.LinkPath, false), Enabled: enabled}, nil
}

// BeginUncompressTask checks the target (forwarded credentials) and records the task.
func (a *ArchiveTaskServer) BeginUncompressTask(ctx context.Context, req *namespacev1.BeginUncompressTaskRequest) (*namespacev1.BeginUncompressTaskResponse, error) {
	if err := a.s.admin.Check(ctx); err != nil {
		return nil, err
	}
	t, err := a.s.ns.BeginUncompressTask(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetTargetSpaceId(), req.GetTargetPath(), req.GetRunner())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.BeginUncompressTaskResponse{
		TaskId: t.TaskID, TargetPath: t.Path, TargetSpaceId: t.SpaceID, UserId: t.UserID, Force: t.Force, HeartbeatMs: t.HeartbeatMS,
		Rules: uploadRulesProto(t.Rules),
	}, nil
}

// BeatUncompressTasks keeps a runner's tasks alive.
func (a *ArchiveTaskServer) BeatUncompressTasks(ctx context.Context, req *namespacev1.BeatUncompressTasksRequest) (*namespacev1.BeatUncompressTasksResponse, error) {
	if err := a.s.admin.Check(ctx); err != nil {
		return nil, err
	}
	if err := a.s.ns.BeatUncompressTasks(ctx, req.GetRunner()); err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.BeatUncompressTasksResponse{}, nil
}

// FinishUncompressTask records a task's outcome.
func (a *ArchiveTaskServer) FinishUncompressTask(ctx context.Context, req *namespacev1.FinishUncompressTaskRequest) (*namespacev1.FinishUncompressTaskResponse, error) {
	if err := a.s.admin.Check(ctx); err != nil {
		return nil, err
	}
	if err := a.s.ns.FinishUncompressTask(ctx, req.GetTaskId(), int(req.GetStatus()), req.GetResultJson()); err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.FinishUncompressTaskResponse{}, nil
}

// EnsureDirectory makes a directory of an extracted archive.
func (a *ArchiveTaskServer) EnsureDirectory(ctx context.Context, req *namespacev1.EnsureDirectoryRequest) (*namespacev1.EnsureDirectoryResponse, error) {
	if err := a.s.admin.Check(ctx); err != nil {
		return nil, err
	}
	if err := a.s.ns.EnsureDirectory(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetPath(), req.GetUserId()); err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.EnsureDirectoryResponse{}, nil
}

// uncompressResult answers a fileUncompress task's stored result object; nil when it has none.
func uncompressResult(t app.Task) (*structpb.Struct, error) {
	if len(t.Uncompress) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(t.Uncompress, &m); err != nil {
		return nil, err
	}
	return structpb.NewStruct(m)
}
