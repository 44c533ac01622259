package transport

import (
	"context"
	"encoding/json"
	"strconv"

	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/filetype"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Change-feed handlers (SMH API 3.18, docs/changefeed.md): the DeltaService, served beside
// NamespaceService by the same process.

// DeltaServer implements namespacev1.DeltaServiceServer.
type DeltaServer struct {
	namespacev1.UnsafeDeltaServiceServer
	s *Server
}

var _ namespacev1.DeltaServiceServer = (*DeltaServer)(nil)

func (d *DeltaServer) GetDeltaCursor(ctx context.Context, req *namespacev1.GetDeltaCursorRequest) (*namespacev1.GetDeltaCursorResponse, error) {
	c, err := d.s.ns.DeltaCursor(ctx, req.GetLibraryId(), req.GetSpaceId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.GetDeltaCursorResponse{Cursor: c}, nil
}

func (d *DeltaServer) QueryDeltaLog(ctx context.Context, req *namespacev1.QueryDeltaLogRequest) (*namespacev1.QueryDeltaLogResponse, error) {
	l, err := d.s.ns.QueryDeltaLog(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetCursor(), intPtr(req.Limit))
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &namespacev1.QueryDeltaLogResponse{Cursor: l.Cursor, HasMore: l.More, Contents: make([]*namespacev1.DeltaEvent, 0, len(l.Events))}
	for _, e := range l.Events {
		resp.Contents = append(resp.Contents, deltaEventProto(e))
	}
	return resp, nil
}

// eventType answers 3.18's type of an entry: file, dir or symlink (images and videos are files;
// their fileType tells them apart).
func eventType(t app.NodeType) string {
	switch t {
	case app.TypeDir, app.TypeSymlink:
		return string(t)
	default:
		return "file"
	}
}

// deltaEventProto converts an event (3.18). Files and symlinks carry the content fields; a
// stored extraInfo that does not parse (it never should) answers null rather than failing the
// page.
func deltaEventProto(e app.DeltaEvent) *namespacev1.DeltaEvent {
	n := e.Node
	out := &namespacev1.DeltaEvent{
		EventType: e.Type, EventTime: iso(e.Time), Inode: strconv.FormatInt(n.Inode, 10),
		ParentInode: strconv.FormatInt(n.ParentInode, 10), Name: n.Name, Type: eventType(n.Type),
		CreationTime: iso(n.CreatedAt), ModificationTime: iso(n.ModifiedAt), UserId: e.UserID,
		Location: int32(e.Location), RemovedByQuota: e.RemovedByQuota, ExtraInfo: structpb.NewNullValue(),
	}
	if !n.IsDir() {
		version := float64(n.Version)
		out.Size, out.ETag, out.Crc64, out.ContentType = &n.Size, &n.ETag, &n.CRC64, &n.ContentType
		out.Category, out.VersionId = &n.Category, &version
		out.LocalCreationTime, out.LocalModificationTime = &n.LocalCreationTime, &n.LocalModificationTime
		ft := filetype.Describe(n.Name, n.ContentType).FileType
		out.FileType = &ft
	}
	if n.IsSymlink() {
		out.LinkTo = nonEmpty(strconv.FormatInt(n.LinkTarget, 10))
	}
	if e.ExtraInfo != "" {
		var m map[string]any
		if json.Unmarshal([]byte(e.ExtraInfo), &m) == nil {
			if v, err := structpb.NewValue(m); err == nil {
				out.ExtraInfo = v
			}
		}
	}
	return out
}

func (d *DeltaServer) CheckFileDeletion(ctx context.Context, req *namespacev1.CheckFileDeletionRequest) (*namespacev1.CheckFileDeletionResponse, error) {
	f, err := d.s.ns.CheckFileDeletion(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetInode())
	if err != nil {
		return nil, toStatus(err)
	}
	reason := "Unknown"
	if f.ByQuota {
		reason = "RemovedByQuota"
	}
	return &namespacev1.CheckFileDeletionResponse{Reason: reason, DeletedAt: iso(f.DeletedAt),
		QuotaCleanupRecordRetentionDays: int32(f.RetentionDays)}, nil
}
