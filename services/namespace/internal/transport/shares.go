package transport

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Share links (SMH API section 13, docs/shares.md): ShareService (owner and visitor routes)
// and ShareResolverService (the object service's questions), served beside NamespaceService.

// ShareServer implements namespacev1.ShareServiceServer.
type ShareServer struct {
	namespacev1.UnsafeShareServiceServer
	s *Server
}

var _ namespacev1.ShareServiceServer = (*ShareServer)(nil)

// isoOrEmpty formats a time, "" for the zero time (a permanent share's expireTime).
func isoOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return iso(t)
}

// counter answers a stored counter as a JSON number (int32; limits are at most 1e9).
func counter(v int64) int32 { return int32(min(max(v, 0), math.MaxInt32)) }

func shareLink(l app.ShareLinkInfo) *namespacev1.ShareLink {
	sh := l.Share
	return &namespacev1.ShareLink{
		Id: sh.ShareID, Code: sh.Code, Endpoint: l.Endpoint, CreateTime: iso(sh.CreatedAt),
		ExpireTime: isoOrEmpty(sh.Config.ExpireAt), IsPermanent: sh.Config.IsPermanent,
		Domain: &namespacev1.ShareDomain{ShareDomain: l.Domains},
	}
}

func typeOf(n app.Node) string {
	if n.IsDir() {
		return "dir"
	}
	return "file"
}

func sizeOf(n app.Node) string {
	if n.IsDir() {
		return ""
	}
	return strconv.FormatInt(n.Size, 10)
}

func (h *ShareServer) CreateShare(ctx context.Context, req *namespacev1.CreateShareRequest) (*namespacev1.CreateShareResponse, error) {
	l, err := h.s.ns.CreateShare(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetBody().AsMap())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.CreateShareResponse{Link: shareLink(l)}, nil
}

func (h *ShareServer) DeleteShare(ctx context.Context, req *namespacev1.DeleteShareRequest) (*namespacev1.DeleteShareResponse, error) {
	if err := h.s.ns.DeleteShare(ctx, req.GetLibraryId(), req.GetShareId()); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.DeleteShareResponse{}, nil
}

func flagOn(v string) bool { return v == "1" || v == "true" }

func (h *ShareServer) GetShareDetail(ctx context.Context, req *namespacev1.GetShareDetailRequest) (*namespacev1.GetShareDetailResponse, error) {
	d, err := h.s.ns.GetShare(ctx, req.GetLibraryId(), req.GetShareId(), flagOn(req.GetWithFileInfo()))
	if err != nil {
		return nil, toStatus(err)
	}
	sh, c := d.Share, d.Share.Config
	out := &namespacev1.ShareDetail{
		Id: sh.ShareID, LibraryId: sh.LibraryID, Name: sh.Name, Code: sh.Code, CreatorId: sh.CreatorID,
		ExpireTime: isoOrEmpty(c.ExpireAt), IsPermanent: c.IsPermanent, CreationTime: iso(sh.CreatedAt),
		ExtractionCode: c.ExtractionCode, IsExpired: d.Expired, OwnerEnabled: sh.OwnerEnabled, AdminEnabled: sh.AdminEnabled,
		Status: int32(sh.Status), CanSaveToNetdisk: c.CanSave, CanPreview: c.CanPreview, CanDownload: c.CanDownload,
		ForbidAnonymousUser: c.ForbidAnonymous, DownloadLimit: counter(c.DownloadLimit), DownloadUsed: counter(sh.DownloadUsed),
		ToUsers: sh.ToUsers, UserLimitUsed: counter(sh.Visitors),
	}
	if out.ToUsers == nil {
		out.ToUsers = []string{}
	}
	if c.CanPreview {
		out.PreviewLimit = proto.Int32(counter(c.PreviewLimit))
	}
	if c.PreviewLimit > 0 {
		out.PreviewUsed = proto.Int32(counter(sh.PreviewUsed))
	}
	if len(sh.ToUsers) == 0 {
		out.UserLimit = proto.Int32(counter(c.UserLimit))
	}
	if d.File != nil {
		out.FileInfo = &namespacev1.ShareFileInfo{FileName: d.File.Name, FileType: typeOf(*d.File), Size: sizeOf(*d.File)}
	}
	return &namespacev1.GetShareDetailResponse{Detail: out}, nil
}

// shareItem converts a listed share (13.4): limits and used counters read 0 when the matching
// capability is off.
func shareItem(sh app.Share, f *app.Node) *namespacev1.ShareItem {
	c := sh.Config
	it := &namespacev1.ShareItem{
		Id: sh.ShareID, Name: sh.Name, CreateTime: iso(sh.CreatedAt), ExpireTime: isoOrEmpty(c.ExpireAt),
		AdminEnabled: sh.AdminEnabled, OwnerEnabled: sh.OwnerEnabled, IsPermanent: c.IsPermanent,
		CanPreview: c.CanPreview, CanDownload: c.CanDownload, CanSaveToNetdisk: c.CanSave, Status: int32(sh.Status),
		UserLimit: counter(c.UserLimit), UserLimitUsed: counter(sh.Visitors), Code: sh.Code, CreatorId: sh.CreatorID,
	}
	if c.CanPreview {
		it.PreviewLimit, it.PreviewUsed = counter(c.PreviewLimit), counter(sh.PreviewUsed)
	}
	if c.CanDownload {
		it.DownloadLimit, it.DownloadUsed = counter(c.DownloadLimit), counter(sh.DownloadUsed)
	}
	if f != nil {
		it.FileInfo = &namespacev1.ShareListFileInfo{Name: f.Name, SpaceId: sh.SpaceID, Type: typeOf(*f), Size: sizeOf(*f), UpdateTime: iso(f.ModifiedAt)}
	}
	return it
}

func shareItems(l app.ShareListing) []*namespacev1.ShareItem {
	out := make([]*namespacev1.ShareItem, 0, len(l.Shares))
	for i, sh := range l.Shares {
		var f *app.Node
		if i < len(l.Files) {
			f = l.Files[i]
		}
		out = append(out, shareItem(sh, f))
	}
	return out
}

func (h *ShareServer) ListShares(ctx context.Context, req *namespacev1.ListSharesRequest) (*namespacev1.ListSharesResponse, error) {
	l, err := h.s.ns.ListShares(ctx, req.GetLibraryId(), app.ShareListQuery{
		Limit: req.Limit, Marker: req.GetMarker(), OrderBy: req.GetOrderBy(), OrderByType: req.GetOrderByType(),
		CreatorID: req.GetCreatorId(), WithFileInfo: flagOn(req.GetWithFileInfo()),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.ListSharesResponse{Contents: shareItems(l), Marker: l.NextMarker, HasMore: l.NextMarker != ""}, nil
}

func (h *ShareServer) SearchShares(ctx context.Context, req *namespacev1.SearchSharesRequest) (*namespacev1.SearchSharesResponse, error) {
	b := req.GetBody().AsMap()
	q := app.ShareListQuery{Limit: req.Limit, Marker: req.GetMarker(),
		ExpireTimeStart: b["expireTimeStart"], ExpireTimeEnd: b["expireTimeEnd"],
		CreateTimeStart: b["createTimeStart"], CreateTimeEnd: b["createTimeEnd"]}
	for key, dst := range map[string]*string{"name": &q.Name, "creatorId": &q.CreatorID, "orderBy": &q.OrderBy, "orderByType": &q.OrderByType} {
		switch v := b[key].(type) {
		case nil:
		case string:
			*dst = v
		default:
			return nil, toStatus(&app.InputError{Err: app.ErrParamInvalid, Reason: key + " must be a string"})
		}
	}
	l, err := h.s.ns.SearchShares(ctx, req.GetLibraryId(), q)
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.SearchSharesResponse{Contents: shareItems(l), Marker: l.NextMarker, HasMore: l.NextMarker != ""}, nil
}

func (h *ShareServer) SetShareEnabled(ctx context.Context, req *namespacev1.SetShareEnabledRequest) (*namespacev1.SetShareEnabledResponse, error) {
	b := req.GetBody()
	if err := h.s.ns.SetShareEnabled(ctx, req.GetLibraryId(), req.GetShareId(), b.AdminEnabled, b.OwnerEnabled); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &namespacev1.SetShareEnabledResponse{}, nil
}

func (h *ShareServer) UpdateShare(ctx context.Context, req *namespacev1.UpdateShareRequest) (*namespacev1.UpdateShareResponse, error) {
	l, err := h.s.ns.UpdateShare(ctx, req.GetLibraryId(), req.GetShareId(), req.GetBody().AsMap())
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.UpdateShareResponse{Link: shareLink(l)}, nil
}

func (h *ShareServer) GetShareUrlDetail(ctx context.Context, req *namespacev1.GetShareUrlDetailRequest) (*namespacev1.GetShareUrlDetailResponse, error) {
	d, err := h.s.ns.ShareURLDetail(ctx, req.GetShareToken())
	if err != nil {
		return nil, toStatus(err)
	}
	sh, c := d.Share, d.Share.Config
	return &namespacev1.GetShareUrlDetailResponse{Detail: &namespacev1.ShareUrlDetail{
		Name: sh.Name, Enabled: sh.AdminEnabled && sh.OwnerEnabled, IsExpired: d.Expired,
		NeedExtractionCode: c.ExtractionCode != "", AllowAnonymousUser: !c.ForbidAnonymous, CanSaveToNetDisc: c.CanSave,
		CanPreview: c.CanPreview, CanDownload: c.CanDownload, Status: int32(sh.Status), UserId: sh.CreatorID,
		ShareWatermarkType: "UserCustom", FileName: d.FileName, Domain: &namespacev1.ShareDomain{ShareDomain: d.Domains},
	}}, nil
}

func (h *ShareServer) VerifyExtractionCode(ctx context.Context, req *namespacev1.VerifyExtractionCodeRequest) (*namespacev1.VerifyExtractionCodeResponse, error) {
	b := req.GetBody()
	token, expires, err := h.s.ns.VerifyExtractionCode(ctx, req.GetShareCode(), app.ShareVerify{
		ExtractionCode: b.ExtractionCode, LibraryID: b.GetLibraryId(), AccessToken: b.GetAccessToken(), DeviceID: b.GetDeviceId(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.VerifyExtractionCodeResponse{AccessToken: token, ExpireTime: iso(expires)}, nil
}

func (h *ShareServer) ListShareFiles(ctx context.Context, req *namespacev1.ListShareFilesRequest) (*namespacev1.ListShareFilesResponse, error) {
	page, err := h.s.ns.ListShareFiles(ctx, req.GetShareCode(), app.ShareFilesQuery{
		Inodes: req.GetInodes(), Limit: req.Limit, Marker: req.GetMarker(), OrderBy: req.GetOrderBy(), OrderByType: req.GetOrderByType(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	c := page.Share.Config
	out := &namespacev1.ListShareFilesResponse{Contents: make([]*namespacev1.ShareFileEntry, 0, len(page.Entries)), Marker: page.NextMarker, HasMore: page.NextMarker != ""}
	for _, n := range page.Entries {
		e := &namespacev1.ShareFileEntry{
			Name: n.Name, SpaceId: page.Share.SpaceID, Type: typeOf(n), UpdateTime: iso(n.ModifiedAt),
			CanPreview: c.CanPreview, CanDownload: c.CanDownload, CanSaveToNetdisk: c.CanSave, Inode: strconv.FormatInt(n.Inode, 10),
		}
		if !n.IsDir() {
			e.Size = proto.String(strconv.FormatInt(n.Size, 10))
		}
		out.Contents = append(out.Contents, e)
	}
	return out, nil
}

// ShareResolverServer implements namespacev1.ShareResolverServiceServer: the object service
// asks with the operator key and forwards the visitor's share access token.
type ShareResolverServer struct {
	namespacev1.UnsafeShareResolverServiceServer
	s *Server
}

var _ namespacev1.ShareResolverServiceServer = (*ShareResolverServer)(nil)

func (h *ShareResolverServer) ResolveSharedFile(ctx context.Context, req *namespacev1.ResolveSharedFileRequest) (*namespacev1.ResolveSharedFileResponse, error) {
	if err := h.s.admin.Check(ctx); err != nil {
		return nil, err
	}
	sh, res, err := h.s.ns.ResolveSharedFile(ctx, req.GetShareCode(), req.GetInodes(), app.SharePurpose(req.GetPurpose()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &namespacev1.ResolveSharedFileResponse{
		LibraryId: sh.LibraryID, SpaceId: sh.SpaceID, File: storedFile(res.Node, res.Path, res.LinkPath, false),
	}, nil
}

func (h *ShareResolverServer) ListSharedTree(ctx context.Context, req *namespacev1.ListSharedTreeRequest) (*namespacev1.ListSharedTreeResponse, error) {
	if err := h.s.admin.Check(ctx); err != nil {
		return nil, err
	}
	tree, err := h.s.ns.ListSharedTree(ctx, req.GetShareCode(), req.GetInodes(), req.GetMarker(), int(req.GetLimit()), sharedTreeTrusted(req))
	if err != nil {
		return nil, toStatus(err)
	}
	out := &namespacev1.ListSharedTreeResponse{LibraryId: tree.Share.LibraryID, SpaceId: tree.Share.SpaceID, Name: tree.Name, NextMarker: tree.NextMarker}
	for _, e := range tree.Entries {
		te := &namespacev1.SharedTreeEntry{Path: e.Path, IsDir: e.Node.IsDir()}
		if !e.Node.IsDir() {
			te.File = storedFile(e.Node, nil, nil, false)
		}
		out.Entries = append(out.Entries, te)
	}
	return out, nil
}

// sharedTreeTrusted: the object service verified its own signed zip URL (signed_by_object), so
// no visitor token travels; the operator key was checked already.
func sharedTreeTrusted(req *namespacev1.ListSharedTreeRequest) bool { return req.GetSignedByObject() }
