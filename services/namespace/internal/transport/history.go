package transport

import (
	"context"
	"math"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/proto"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/filetype"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// History handlers (SMH API section 9) and the library-level task queries (7.2, 7.4).

func (s *Server) GetHistorySettings(ctx context.Context, req *namespacev1.GetHistorySettingsRequest) (*namespacev1.GetHistorySettingsResponse, error) {
	h, err := s.ns.HistorySettings(ctx, req.GetLibraryId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.GetHistorySettingsResponse{
		EnableFileHistory: h.Enabled, FileHistoryCount: int32(h.Count), FileHistoryExpireDay: int32(h.ExpireDay),
		MergeInterval: int32(h.MergeInterval),
	}, nil
}

func (s *Server) SetHistorySettings(ctx context.Context, req *namespacev1.SetHistorySettingsRequest) (*namespacev1.SetHistorySettingsResponse, error) {
	b := req.GetSettings()
	if b == nil {
		b = &namespacev1.HistorySettingsPatch{} // a gRPC caller may send none: nothing to change
	}
	patch := app.HistoryPatch{
		Enabled: b.EnableFileHistory, Count: b.FileHistoryCount, ExpireDay: b.FileHistoryExpireDay, MergeInterval: b.MergeInterval,
	}
	if err := s.ns.SetHistorySettings(ctx, req.GetLibraryId(), patch); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.SetHistorySettingsResponse{}, nil
}

func (s *Server) ClearLibraryHistory(ctx context.Context, req *namespacev1.ClearLibraryHistoryRequest) (*namespacev1.ClearLibraryHistoryResponse, error) {
	id, err := s.ns.ClearLibraryHistory(ctx, req.GetLibraryId())
	if err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusAccepted)
	return &namespacev1.ClearLibraryHistoryResponse{TaskId: id}, nil
}

func clearResult(t app.LibraryTask) *namespacev1.ClearLibraryHistoryResult {
	return &namespacev1.ClearLibraryHistoryResult{Status: int32(t.Status), Code: t.Code, DeleteCount: float64(t.DeleteCount)}
}

func (s *Server) GetLibraryTasks(ctx context.Context, req *namespacev1.GetLibraryTasksRequest) (*namespacev1.GetLibraryTasksResponse, error) {
	list, err := s.ns.LibraryTasks(ctx, req.GetLibraryId(), req.GetTaskIdList())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.GetLibraryTasksResponse{Tasks: make([]*namespacev1.LibraryTask, 0, len(list))}
	for _, st := range list {
		lt := &namespacev1.LibraryTask{Id: st.ID, TaskId: st.ID}
		if st.Err != nil {
			e := smherr.As(toStatus(st.Err))
			lt.Status, lt.Code, lt.Message = int32(e.Status), proto.String(e.Code), proto.String(e.Message)
		} else {
			lt.Status = int32(st.Task.Status)
			if st.Task.Status == app.TaskDone {
				lt.Result = clearResult(st.Task)
			}
		}
		resp.Tasks = append(resp.Tasks, lt)
	}
	return resp, nil
}

func (s *Server) GetLibraryTaskResult(ctx context.Context, req *namespacev1.GetLibraryTaskResultRequest) (*namespacev1.GetLibraryTaskResultResponse, error) {
	t, err := s.ns.LibraryTask(ctx, req.GetLibraryId(), req.GetTaskId())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.GetLibraryTaskResultResponse{
		TaskId: strconv.FormatInt(int64(t.ID), 10), TaskType: t.Type, Status: int32(t.Status),
	}
	if t.Status != app.TaskRunning {
		resp.ClearLibraryHistoryResult = clearResult(t)
	}
	return resp, nil
}

func (s *Server) ListHistory(ctx context.Context, req *namespacev1.ListHistoryRequest) (*namespacev1.ListHistoryResponse, error) {
	l, err := s.ns.ListHistory(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(), app.HistoryQuery{
		Marker: req.GetMarker(), Limit: req.Limit, Page: req.Page, PageSize: req.PageSize,
		OrderBy: req.GetOrderBy(), OrderByType: req.GetOrderByType(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.ListHistoryResponse{Contents: make([]*namespacev1.HistoryItem, 0, len(l.Entries)), HasMore: proto.Bool(l.More)}
	if l.PageMode {
		resp.TotalNum = proto.Int32(int32(min(l.Total, math.MaxInt32)))
	} else if l.More {
		resp.NextMarker = proto.String(l.NextMarker)
	}
	for _, e := range l.Entries {
		v := e.Version
		item := &namespacev1.HistoryItem{
			CreatedBy: v.CreatedBy, CreationWay: int32(v.CreationWay), Version: float64(v.Version),
			IsLatestVersion: e.Latest, Name: l.Name, Size: float64(v.Size), Crc64: v.CRC64,
			ContentType: nonEmpty(v.ContentType), CreationTime: iso(v.CreatedAt), SetLatestTime: iso(v.SetLatestAt),
		}
		if !e.Latest {
			item.Id = proto.Float64(float64(v.ID))
		}
		resp.Contents = append(resp.Contents, item)
	}
	return resp, nil
}

func (s *Server) DeleteHistory(ctx context.Context, req *namespacev1.DeleteHistoryRequest) (*namespacev1.DeleteHistoryResponse, error) {
	var body any
	if req.GetIds() != nil {
		body = req.GetIds().AsSlice()
	}
	if err := s.ns.DeleteHistory(ctx, req.GetLibraryId(), req.GetSpaceId(), body); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.DeleteHistoryResponse{}, nil
}

func (s *Server) SetLatestVersion(ctx context.Context, req *namespacev1.SetLatestVersionRequest) (*namespacev1.SetLatestVersionResponse, error) {
	n, path, err := s.ns.SetLatestVersion(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetHistoryId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.SetLatestVersionResponse{
		Name: n.Name, Type: string(n.Type), Path: path, CreationTime: iso(n.CreatedAt), ModificationTime: iso(n.ModifiedAt),
		SetLatestTime: iso(n.LatestAt), ContentType: n.ContentType, Size: float64(n.Size), ETag: n.ETag, Crc64: n.CRC64,
		FileType: fileTypeOf(n), VersionId: float64(n.Version),
	}, nil
}

// fileTypeOf names a file's kind as 3.4's fileType does for images and videos; the object
// service's finer kinds (doc, pdf ...) need the bytes' description, so others answer "other".
func fileTypeOf(n app.Node) string {
	switch filetype.KindOf(n.Name) {
	case filetype.Image:
		return "image"
	case filetype.Video:
		return "video"
	}
	return "other"
}

// versionID answers a node's versionId (9.7): the content's version for a file, absent for
// directories and symlinks.
func versionID(n app.Node) *int32 {
	if n.IsDir() || n.IsSymlink() || n.Version <= 0 {
		return nil
	}
	return proto.Int32(int32(min(n.Version, math.MaxInt32)))
}
