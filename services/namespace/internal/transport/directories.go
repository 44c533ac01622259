package transport

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Directory handlers (SMH API section 4) and the task query (7.1).

// nonEmpty answers s as an optional field: absent when empty.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func inodeOf(n app.Node) *string {
	s := strconv.FormatInt(n.Inode, 10)
	return &s
}

// entryProto converts a tree entry (4.2 item, 4.3 info). Size, crc64, eTag and content type
// are file fields; directories leave them out.
func entryProto(n app.Node, withInode bool) *namespacev1.DirectoryEntry {
	e := &namespacev1.DirectoryEntry{
		Name: n.Name, Type: string(n.Type),
		CreationTime: iso(n.CreatedAt), ModificationTime: iso(n.ModifiedAt),
		MetaData: n.MetaData, Labels: n.Labels,
		LocalCreationTime: nonEmpty(n.LocalCreationTime), LocalModificationTime: nonEmpty(n.LocalModificationTime),
	}
	if e.MetaData == nil {
		e.MetaData = map[string]string{}
	}
	if e.Labels == nil {
		e.Labels = []string{}
	}
	if !n.IsDir() {
		size := n.Size
		e.Size, e.ContentType, e.ETag, e.Crc64 = &size, &n.ContentType, &n.ETag, &n.CRC64
		e.Category = nonEmpty(n.Category)
		e.VersionId = versionID(n)
	}
	if n.LinkTarget != 0 {
		e.LinkTo = proto.String(strconv.FormatInt(n.LinkTarget, 10))
	}
	if withInode {
		e.Inode = inodeOf(n)
	}
	return e
}

func pathValue(path []string) *structpb.Value {
	return listValue(path)
}

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

func (s *Server) CreateDirectory(ctx context.Context, req *namespacev1.CreateDirectoryRequest) (*namespacev1.CreateDirectoryResponse, error) {
	a := req.GetAttributes()
	meta := make(map[string]string, len(a.GetMetaData()))
	for raw, v := range a.GetMetaData() {
		key, err := storedKey(raw, meta)
		if err != nil {
			return nil, toStatus(err)
		}
		meta[key] = v
	}
	attrs := app.DirAttrs{
		MetaData: meta, Labels: a.GetLabels(),
		LocalCreationTime: a.GetLocalCreationTime(), LocalModificationTime: a.GetLocalModificationTime(),
	}
	node, path, err := s.ns.CreateDirectory(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath(), req.GetConflictResolutionStrategy(), attrs)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.CreateDirectoryResponse{
		Path: path, CreationTime: iso(node.CreatedAt), MetaData: node.MetaData, Labels: node.Labels,
		LocalCreationTime: nonEmpty(node.LocalCreationTime), LocalModificationTime: nonEmpty(node.LocalModificationTime),
	}
	if resp.Labels == nil {
		resp.Labels = []string{}
	}
	if req.GetWithInode() {
		resp.Inode = inodeOf(node)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusCreated)
	return resp, nil
}

func (s *Server) ListDirectory(ctx context.Context, req *namespacev1.ListDirectoryRequest) (*namespacev1.ListDirectoryResponse, error) {
	l, err := s.ns.ListDirectory(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath(), app.ListQuery{
		Mode: req.GetMode(), Marker: req.Marker,
		Limit: intPtr(req.Limit), Page: intPtr(req.Page), PageSize: intPtr(req.PageSize), Offset: intPtr(req.Offset),
		OrderBy: req.GetOrderBy(), OrderByType: req.GetOrderByType(), Filter: req.GetFilter(),
		Prefix: req.GetPrefix(), StartName: req.GetStartName(), SortType: req.GetSortType(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.ListDirectoryResponse{
		Path: l.Path, NextMarker: nonEmpty(l.Page.NextMarker),
		FileCount: int32(l.Page.FileCount), SubDirCount: int32(l.Page.SubDirCount),
		TotalNum: int32(l.Page.FileCount + l.Page.SubDirCount),
		Contents: make([]*namespacev1.DirectoryEntry, 0, len(l.Page.Entries)),
	}
	if resp.Path == nil {
		resp.Path = []string{}
	}
	for _, e := range l.Page.Entries {
		resp.Contents = append(resp.Contents, entryProto(e, req.GetWithInode()))
	}
	if req.GetWithFavoriteStatus() {
		if err := s.markFavorites(ctx, req.GetLibraryId(), req.GetSpaceId(), l.Page.Entries, resp.Contents); err != nil {
			return nil, toStatus(err)
		}
	}
	return resp, nil
}

func (s *Server) GetDirectoryInfo(ctx context.Context, req *namespacev1.GetDirectoryInfoRequest) (*namespacev1.GetDirectoryInfoResponse, error) {
	node, path, err := s.ns.EntryInfo(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath())
	if err != nil {
		return nil, toStatus(err)
	}
	e := entryProto(node, req.GetWithInode())
	e.Path, e.UserId = path, &node.UserID
	if e.Path == nil {
		e.Path = []string{}
	}
	if req.GetWithFavoriteStatus() {
		if err := s.markFavorites(ctx, req.GetLibraryId(), req.GetSpaceId(), []app.Node{node}, []*namespacev1.DirectoryEntry{e}); err != nil {
			return nil, toStatus(err)
		}
	}
	return &namespacev1.GetDirectoryInfoResponse{Entry: e}, nil
}

func (s *Server) HeadDirectory(ctx context.Context, req *namespacev1.HeadDirectoryRequest) (*namespacev1.HeadDirectoryResponse, error) {
	if _, _, err := s.ns.EntryInfo(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath()); err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.HeadDirectoryResponse{}, nil
}

func (s *Server) DeleteDirectory(ctx context.Context, req *namespacev1.DeleteDirectoryRequest) (*namespacev1.DeleteDirectoryResponse, error) {
	id, err := s.ns.DeleteDirectory(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath(), req.GetPermanent(), req.GetDirectoryOnly())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.DeleteDirectoryResponse{RecycledItemId: deleteAnswer(ctx, id)}, nil
}

// strategy picks the conflict strategy: the body's key wins over the query parameter.
func strategy(body *namespacev1.DirectoryTransfer, query string) string {
	if s := body.GetConflictResolutionStrategy(); s != "" {
		return s
	}
	return query
}

// transferStatus answers 4.6/4.7's status: 202 for a task, 200 with the path after rename, 204
// (no body) for ask.
func transferStatus(ctx context.Context, t app.Transfer) *structpb.ListValue {
	switch {
	case t.TaskID != 0:
		_ = reqmeta.SetHTTPStatus(ctx, http.StatusAccepted)
		return nil
	case t.Renamed:
		return pathValue(t.Path).GetListValue()
	default:
		_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
		return nil
	}
}

func (s *Server) CopyDirectory(ctx context.Context, req *namespacev1.CopyDirectoryRequest) (*namespacev1.CopyDirectoryResponse, error) {
	t, err := s.ns.CopyDirectory(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath(),
		req.GetTransfer().GetCopyFrom(), strategy(req.GetTransfer(), req.GetConflictResolutionStrategy()))
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.CopyDirectoryResponse{Path: transferStatus(ctx, t)}
	if t.TaskID != 0 {
		resp.TaskId = &t.TaskID
	}
	return resp, nil
}

func (s *Server) MoveDirectory(ctx context.Context, req *namespacev1.MoveDirectoryRequest) (*namespacev1.MoveDirectoryResponse, error) {
	t, err := s.ns.MoveDirectory(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath(),
		req.GetTransfer().GetFrom(), strategy(req.GetTransfer(), req.GetConflictResolutionStrategy()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.MoveDirectoryResponse{Path: transferStatus(ctx, t)}, nil
}

// stringMap reads metaData of ?update: an object of strings, keys as storedKey folds them; null
// clears.
func stringMap(v *structpb.Value) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue:
		return map[string]string{}, nil
	case *structpb.Value_StructValue:
		out := make(map[string]string, len(k.StructValue.GetFields()))
		for raw, f := range k.StructValue.GetFields() {
			s, ok := f.GetKind().(*structpb.Value_StringValue)
			if !ok {
				return nil, &app.InputError{Err: app.ErrParamInvalid, Reason: "metaData values must be strings"}
			}
			key, err := storedKey(raw, out)
			if err != nil {
				return nil, err
			}
			out[key] = s.StringValue
		}
		return out, nil
	}
	return nil, &app.InputError{Err: app.ErrParamInvalid, Reason: "metaData must be an object of strings or null"}
}

// storedKey folds a metaData key of a JSON body into the form it is stored and sent under
// (fileattr.MetaKey: x-smh-meta-<name>, lower case) and refuses a second spelling of a key
// already in seen, since which value was meant would be a guess.
func storedKey[V any](raw string, seen map[string]V) (string, error) {
	key, err := fileattr.MetaKey(raw)
	if err != nil {
		return "", err
	}
	if _, dup := seen[key]; dup {
		return "", &app.InputError{Err: app.ErrParamInvalid, Reason: "metaData names " + key + " twice"}
	}
	return key, nil
}

// metaUpdate reads the metaData of an ?update under its directive (3.16): replace (the default)
// takes an object of strings or null (clear); merge takes a JSON merge patch, whose null values
// delete their keys. Keys to set follow fileattr's key rule; a key to delete is taken as written
// and folded, so a key stored before the rule can still be removed.
func metaUpdate(v *structpb.Value, directive string) (app.MetaUpdate, error) {
	switch strings.ToLower(directive) {
	case "", "replace":
		set, err := stringMap(v)
		return app.MetaUpdate{Set: set}, err
	case "merge":
	default:
		return app.MetaUpdate{}, &app.InputError{Err: app.ErrParamInvalid, Reason: "metaDataDirective must be merge or replace"}
	}
	u := app.MetaUpdate{Merge: true, Set: map[string]string{}}
	if v == nil {
		return u, nil
	}
	obj, ok := v.GetKind().(*structpb.Value_StructValue)
	if !ok {
		return app.MetaUpdate{}, &app.InputError{Err: app.ErrParamInvalid, Reason: "a merge needs metaData as an object"}
	}
	deleted := map[string]bool{}
	for raw, f := range obj.StructValue.GetFields() {
		switch k := f.GetKind().(type) {
		case *structpb.Value_StringValue:
			key, err := storedKey(raw, u.Set)
			if err != nil {
				return app.MetaUpdate{}, err
			}
			u.Set[key] = k.StringValue
		case *structpb.Value_NullValue:
			u.Delete = append(u.Delete, raw)
			if folded := fileattr.FoldKey(raw); folded != raw {
				u.Delete = append(u.Delete, folded)
			}
			deleted[fileattr.FoldKey(raw)] = true
		default:
			return app.MetaUpdate{}, &app.InputError{Err: app.ErrParamInvalid, Reason: "metaData values must be strings, or null to delete"}
		}
	}
	for key := range u.Set {
		if deleted[key] {
			return app.MetaUpdate{}, &app.InputError{Err: app.ErrParamInvalid, Reason: "metaData both sets and deletes " + key}
		}
	}
	return u, nil
}

func (s *Server) UpdateDirectory(ctx context.Context, req *namespacev1.UpdateDirectoryRequest) (*namespacev1.UpdateDirectoryResponse, error) {
	u := req.GetUpdate()
	labels, err := stringList("labels", u.GetLabels())
	if err != nil {
		return nil, toStatus(err)
	}
	meta, err := metaUpdate(u.GetMetaData(), u.GetMetaDataDirective())
	if err != nil {
		return nil, toStatus(err)
	}
	var l []string
	if labels != nil {
		l = *labels
	}
	// issue 12 fileops: a virtual file's contentType and size, checked and written first.
	if u != nil && (u.ContentType != nil || u.Size != nil) {
		size, err := wholeBytes("size", u.GetSize())
		if err != nil {
			return nil, toStatus(err)
		}
		if err := s.ns.UpdateVirtual(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath(), u.ContentType, size); err != nil {
			return nil, toStatus(err)
		}
	}
	if err := s.ns.UpdateDirectory(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath(), l, meta); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.UpdateDirectoryResponse{}, nil
}

func (s *Server) GetDirectoryStats(ctx context.Context, req *namespacev1.GetDirectoryStatsRequest) (*namespacev1.GetDirectoryStatsResponse, error) {
	st, err := s.ns.DirectoryStats(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetDirPath(), req.GetStatsType(), req.GetRecycledId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.GetDirectoryStatsResponse{
		UserId: st.UserID, StatsType: st.StatsType, Storage: float64(st.Storage),
		FileCount: int32(st.FileCount), DirCount: int32(st.DirCount),
	}, nil
}

func (s *Server) GetTasks(ctx context.Context, req *namespacev1.GetTasksRequest) (*namespacev1.GetTasksResponse, error) {
	tasks, err := s.ns.Tasks(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetTaskIdList())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.GetTasksResponse{Tasks: make([]*namespacev1.Task, 0, len(tasks))}
	for _, ts := range tasks {
		out := &namespacev1.Task{Id: ts.ID, TaskId: ts.ID, Status: int32(ts.Task.Status)}
		fail := ts.Err
		switch ts.Task.Status {
		case app.TaskDone, app.TaskPartial, app.TaskAllFailed:
			out.Result = taskResultValue(ts.Task)
		case app.TaskFailed:
			fail = ts.Task.Err
		}
		if fail != nil {
			e := smherr.As(toStatus(fail))
			if ts.Err != nil {
				out.Status = int32(e.Status)
			}
			out.Code, out.Message = &e.Code, &e.Message
		}
		resp.Tasks = append(resp.Tasks, out)
	}
	return resp, nil
}
