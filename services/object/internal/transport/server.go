// Package transport serves smh.object.v1 over gRPC: each handler converts its request, calls one
// use case and converts the error through the service's one error map. The data endpoint, which
// carries the bytes, is HTTP and lives in package dataplane.
package transport

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/object/internal/app"
	"github.com/opensmh/opensmh/services/object/internal/media"
)

// ErrorMap is the object service's one error table (SMH API 12.6). SMH errors of the
// namespace and of authorization pass through. The data endpoint answers the same errors as
// COS-style XML.
func ErrorMap() smherr.Map {
	return smherr.Map{
		{Err: app.ErrParamInvalid, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "parameter invalid")},
		{Err: fileattr.ErrInvalid, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "invalid metadata, labels or category")},
		{Err: app.ErrInvalidStrategy, SMH: smherr.New(http.StatusBadRequest, "InvalidConflictResolutionStrategy", "invalid conflict resolution strategy")},
		{Err: app.ErrUploadNotFound, SMH: smherr.New(http.StatusNotFound, "UploadNotFound", "no upload with this confirm key")},
		{Err: app.ErrUploadNotOpen, SMH: smherr.New(http.StatusNotFound, "UploadNotFound", "the upload is no longer open")},
		{Err: app.ErrUploadNotBelongYou, SMH: smherr.New(http.StatusForbidden, "UploadNotBelongYou", "the upload belongs to another user")},
		{Err: app.ErrUploadIncomplete, SMH: smherr.New(http.StatusNotFound, "UploadIncomplete", "the file's bytes have not been uploaded")},
		{Err: app.ErrMultipartIncomplete, SMH: smherr.New(http.StatusBadRequest, "MultipartUploadIncomplete", "parts are missing")},
		{Err: app.ErrBadCRC64, SMH: smherr.New(http.StatusBadRequest, "BadCrc64", "crc64 does not match the uploaded bytes")},
		{Err: app.ErrExtnameNotAllowed, SMH: smherr.New(http.StatusBadRequest, "ExtnameNotAllowed", "this file type is not allowed here")},
		{Err: app.ErrWrongUploadKind, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "the operation does not apply to this upload")},
		{Err: app.ErrBadPartNumber, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "bad part number")},
		{Err: app.ErrPartTooLarge, SMH: smherr.New(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "too large")},
		{Err: app.ErrSizeMismatch, SMH: smherr.New(http.StatusBadRequest, "IncompleteBody", "the body is shorter or longer than its Content-Length")},
		// A transient refusal: the user confirms or aborts uploads, or waits for them to
		// expire, and retries; clients already back off on 429.
		{Err: app.ErrTooManyOpenUploads, SMH: smherr.New(http.StatusTooManyRequests, "RateLimitExceeded", "too many unconfirmed uploads: confirm or abort some first")},
		{Err: app.ErrBlobNotFound, SMH: smherr.New(http.StatusNotFound, "FileNotFound", "file not found")},
		{Err: media.ErrBadThumbOptions, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "bad preview size parameters")},
		// issue 12 fileops (docs/fileops.md).
		{Err: app.ErrVirtualFile, SMH: smherr.New(http.StatusBadRequest, "UnsupportedFileType", "the operation is not supported on a virtual file")},
		// archives (issue 12 item 6): 3.17 and decision 26.
		{Err: app.ErrUncompressNotAllowed, SMH: smherr.New(http.StatusBadRequest, "FileUncompressNotAllowed", "the file is not an archive that can be previewed or uncompressed")},
		{Err: app.ErrFunctionNotEnabled, SMH: smherr.New(http.StatusBadRequest, "FunctionNotEnabled", "file uncompress is not enabled for this library")},
		{Err: app.ErrMultipleDirectories, SMH: smherr.New(http.StatusBadRequest, "FileUncompressMultipleDirectoriesNotSupported", "select at most one directory")},
		{Err: app.ErrTooManyItems, SMH: smherr.New(http.StatusBadRequest, "TooManyItems", "select at most 1000 files")},
		// issue 13 fetch: a share visitor's bytes (docs/shares.md "Visitor bytes").
		{Err: app.ErrNotViewable, SMH: smherr.New(http.StatusForbidden, "CannotPreview", "this file cannot be previewed in place; download it")},
		{Err: app.ErrBadInodeChain, SMH: smherr.New(http.StatusBadRequest, "InvalidParameter", "bad inode chain")},
		{Err: app.ErrVisitorRateLimited, SMH: smherr.New(http.StatusTooManyRequests, "RateLimitExceeded", "too many requests for this share; slow down")},
		{Err: app.ErrZipTooManyEntries, SMH: smherr.New(http.StatusBadRequest, "TooManyItems", "the folder holds too many entries to download as one zip")},
		{Err: app.ErrZipTooLarge, SMH: smherr.New(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the folder is too large to download as one zip")},
		{Err: app.ErrSharesUnavailable, SMH: smherr.New(http.StatusServiceUnavailable, "ServiceUnavailable", "share links are not served here")},
		{Err: context.Canceled, SMH: smherr.New(499, "ClientDisconnected", "client disconnected")},
		{Err: context.DeadlineExceeded, SMH: smherr.New(http.StatusGatewayTimeout, "RequestTimeout", "request timed out")},
	}
}

var errorMap = ErrorMap()

func toStatus(err error) error { return errorMap.Convert(err) }

// Server implements objectv1.ObjectServiceServer.
type Server struct {
	objectv1.UnsafeObjectServiceServer
	obj *app.Object
}

var _ objectv1.ObjectServiceServer = (*Server)(nil)

// New serves obj.
func New(obj *app.Object) *Server { return &Server{obj: obj} }

// Register adds the service to r.
func (s *Server) Register(r grpc.ServiceRegistrar) {
	objectv1.RegisterObjectServiceServer(r, s)
	objectv1.RegisterArchiveServiceServer(r, &ArchiveServer{obj: s.obj})       // archives (3.17)
	objectv1.RegisterSharedFileServiceServer(r, &SharedFileServer{obj: s.obj}) // issue 13 fetch (13.11)
}

// iso formats times as SMH does (12.4).
func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// beginRequest gathers what the three begin calls share.
type beginRequest interface {
	GetLibraryId() string
	GetSpaceId() string
	GetFilePath() string
	GetConflictResolutionStrategy() string
	GetFilesize() int64
	GetBody() *objectv1.UploadBody
}

func (s *Server) begin(ctx context.Context, kind app.UploadKind, req beginRequest, hasFilesize bool) (*objectv1.BeginUploadAnswer, error) {
	body := req.GetBody()
	if body == nil {
		// Optional fields are read as pointers below; a gRPC caller may send no body at all.
		body = &objectv1.UploadBody{}
	}
	r := app.BeginRequest{
		LibraryID: req.GetLibraryId(), SpaceID: req.GetSpaceId(), Path: req.GetFilePath(), Kind: kind,
		Strategy: req.GetConflictResolutionStrategy(), BeginningHash: body.GetBeginningHash(), FullHash: body.GetFullHash(),
		Size: body.Size,
		Attrs: app.FileAttrs{
			Labels: body.GetLabels(), Category: body.Category, LocalCreationTime: body.GetLocalCreationTime(),
			LocalModificationTime: body.GetLocalModificationTime(),
		},
	}
	if hasFilesize {
		r.FileSize = proto.Int64(req.GetFilesize())
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		meta, err := fileattr.FromHeaders(md)
		if err != nil {
			return nil, toStatus(err)
		}
		r.Attrs.MetaData = meta
	}
	a, err := s.obj.Begin(ctx, r)
	if err != nil {
		return nil, toStatus(err)
	}
	switch {
	case a.File != nil:
		return &objectv1.BeginUploadAnswer{Body: &objectv1.BeginUploadAnswer_File{File: a.File}}, nil
	case a.Probe:
		_ = reqmeta.SetHTTPStatus(ctx, http.StatusAccepted)
		return &objectv1.BeginUploadAnswer{Body: &objectv1.BeginUploadAnswer_Probe{Probe: &objectv1.InstantUploadProbe{}}}, nil
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusCreated)
	if kind == app.KindForm {
		return &objectv1.BeginUploadAnswer{Body: &objectv1.BeginUploadAnswer_FormTicket{FormTicket: formTicket(a.Ticket)}}, nil
	}
	return &objectv1.BeginUploadAnswer{Body: &objectv1.BeginUploadAnswer_Ticket{Ticket: ticket(a.Ticket)}}, nil
}

func ticket(t *app.Ticket) *objectv1.UploadTicket {
	out := &objectv1.UploadTicket{
		Domain: t.Domain, Path: t.Path, Headers: t.Headers, ConfirmKey: t.Upload.ID,
		Expiration: iso(t.Expiration), AvailableDomainNum: 1,
	}
	if t.Upload.Kind == app.KindMultipart {
		out.UploadId = proto.String(t.Upload.ID)
	}
	return out
}

func formTicket(t *app.Ticket) *objectv1.FormTicket {
	return &objectv1.FormTicket{
		Domain: t.Domain, Path: t.Path, Form: t.Form, ConfirmKey: t.Upload.ID,
		Expiration: iso(t.Expiration), AvailableDomainNum: 1,
	}
}

func (s *Server) BeginSimpleUpload(ctx context.Context, req *objectv1.BeginSimpleUploadRequest) (*objectv1.BeginSimpleUploadResponse, error) {
	a, err := s.begin(ctx, app.KindSimple, req, req.Filesize != nil)
	if err != nil {
		return nil, err
	}
	return &objectv1.BeginSimpleUploadResponse{Answer: a}, nil
}

func (s *Server) BeginMultipartUpload(ctx context.Context, req *objectv1.BeginMultipartUploadRequest) (*objectv1.BeginMultipartUploadResponse, error) {
	a, err := s.begin(ctx, app.KindMultipart, req, req.Filesize != nil)
	if err != nil {
		return nil, err
	}
	return &objectv1.BeginMultipartUploadResponse{Answer: a}, nil
}

func (s *Server) BeginFormUpload(ctx context.Context, req *objectv1.BeginFormUploadRequest) (*objectv1.BeginFormUploadResponse, error) {
	a, err := s.begin(ctx, app.KindForm, req, req.Filesize != nil)
	if err != nil {
		return nil, err
	}
	return &objectv1.BeginFormUploadResponse{Answer: a}, nil
}

// confirmRequest converts a confirm call (3.4) for the use case; with ConfirmRequest.Check it is
// all a confirm body goes through before a session is read.
func confirmRequest(req *objectv1.ConfirmUploadRequest) app.ConfirmRequest {
	b := req.GetBody()
	if b == nil {
		// Category is read as a pointer below; a gRPC caller may send no body at all (the
		// gateway always sends one).
		b = &objectv1.ConfirmBody{}
	}
	return app.ConfirmRequest{
		LibraryID: req.GetLibraryId(), SpaceID: req.GetSpaceId(), ConfirmKey: req.GetConfirmKey(),
		Strategy: req.GetConflictResolutionStrategy(), CRC64: b.GetCrc64(), Labels: b.GetLabels(), Category: b.Category,
		LocalCreationTime: b.GetLocalCreationTime(), LocalModificationTime: b.GetLocalModificationTime(),
	}
}

func (s *Server) ConfirmUpload(ctx context.Context, req *objectv1.ConfirmUploadRequest) (*objectv1.ConfirmUploadResponse, error) {
	f, err := s.obj.Confirm(ctx, confirmRequest(req))
	if err != nil {
		return nil, toStatus(err)
	}
	if !req.GetWithInode() {
		f = proto.CloneOf(f)
		f.Inode = nil
	}
	return &objectv1.ConfirmUploadResponse{File: f}, nil
}

func (s *Server) RenewUpload(ctx context.Context, req *objectv1.RenewUploadRequest) (*objectv1.RenewUploadResponse, error) {
	t, err := s.obj.Renew(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetConfirmKey())
	if err != nil {
		return nil, toStatus(err)
	}
	return &objectv1.RenewUploadResponse{Ticket: ticket(t)}, nil
}

func (s *Server) GetUploadStatus(ctx context.Context, req *objectv1.GetUploadStatusRequest) (*objectv1.GetUploadStatusResponse, error) {
	st, err := s.obj.Status(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetConfirmKey(), !req.GetNoUploadPartInfo())
	if err != nil {
		return nil, toStatus(err)
	}
	u := st.Upload
	resp := &objectv1.GetUploadStatusResponse{
		Confirmed: u.State == app.StateConfirmed, Path: structpb.NewNullValue(), Type: string(u.Kind),
		CreationTime: iso(u.CreatedAt), ConflictResolutionStrategy: u.Strategy, Force: u.Force, AvailableDomainNum: 1,
	}
	if st.File != nil {
		resp.Path = stringList(st.File.GetPath())
	}
	if u.Kind == app.KindMultipart {
		resp.UploadId = proto.String(u.ID)
		for _, p := range st.Parts {
			resp.Parts = append(resp.Parts, &objectv1.UploadedPart{
				PartNumber: int32(p.Number), LastModified: iso(p.ReceivedAt), ETag: p.ETag, Size: float64(p.Size),
			})
		}
		if t := st.Ticket; t != nil {
			resp.UploadPartInfo = &objectv1.UploadPartInfo{
				Domain: t.Domain, Path: t.Path, UploadId: u.ID, Headers: t.Headers, Expiration: iso(t.Expiration),
			}
		}
	}
	return resp, nil
}

func stringList(items []string) *structpb.Value {
	vals := make([]*structpb.Value, len(items))
	for i, s := range items {
		vals[i] = structpb.NewStringValue(s)
	}
	return structpb.NewListValue(&structpb.ListValue{Values: vals})
}

func (s *Server) AbortUpload(ctx context.Context, req *objectv1.AbortUploadRequest) (*objectv1.AbortUploadResponse, error) {
	if err := s.obj.Abort(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetConfirmKey()); err != nil {
		return nil, toStatus(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &objectv1.AbortUploadResponse{}, nil
}

func fileRequest(lib, space, path, history, disposition string) (app.FileRequest, error) {
	r := app.FileRequest{LibraryID: lib, SpaceID: space, Path: path, HistoryID: history}
	switch disposition {
	case "", "inline":
	case "attachment":
		r.Attachment = true
	default:
		return r, &app.InputError{Err: app.ErrParamInvalid, Reason: "content_disposition must be inline or attachment"}
	}
	return r, nil
}

// fileHeaders sets the x-smh-* headers of a file (3.8, 3.10). Custom metadata goes out only as
// x-smh-meta-* pairs that pass fileattr's rules, so a stored key can never add a Location,
// ETag or x-smh-* header of ours, whenever and however the row was written.
func fileHeaders(ctx context.Context, f *namespacev1.FileObject) {
	pairs := append(fileFacts(f), fileattr.HeaderPairs(f.GetMetaData())...)
	_ = grpc.SetHeader(ctx, metadata.Pairs(pairs...))
}

// fileFacts are the x-smh-* headers of a file's own facts, without its custom metadata: what a
// share visitor's download carries (the owner's x-smh-meta-* may be private; docs/shares.md).
func fileFacts(f *namespacev1.FileObject) []string {
	return []string{
		"x-smh-type", f.GetType(),
		"x-smh-creation-time", f.GetCreationTime(),
		"x-smh-content-type", f.GetContentType(),
		"x-smh-size", strconv.FormatInt(f.GetSize(), 10),
		"x-smh-etag", f.GetETag(),
		"x-smh-crc64", f.GetCrc64(),
	}
}

func redirect(ctx context.Context, url string) {
	_ = reqmeta.SetHeader(ctx, "location", url)
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusFound)
}

func (s *Server) DownloadFile(ctx context.Context, req *objectv1.DownloadFileRequest) (*objectv1.DownloadFileResponse, error) {
	r, err := fileRequest(req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(), req.GetHistoryId(), req.GetContentDisposition())
	if err != nil {
		return nil, toStatus(err)
	}
	if r.TrafficLimit, err = app.ParseTrafficLimit(req.GetTrafficLimit()); err != nil {
		return nil, toStatus(err)
	}
	loc, err := s.obj.Locate(ctx, r, nil)
	if err != nil {
		return nil, toStatus(err)
	}
	if app.IsVirtual(loc.File) {
		return nil, toStatus(app.ErrVirtualFile) // issue 12 fileops: nothing to download
	}
	s.obj.NotePreview(ctx, r, loc.File, req.GetPurpose()) // recent files (11.4)
	fileHeaders(ctx, loc.File.GetFile())
	redirect(ctx, loc.URL)
	return &objectv1.DownloadFileResponse{}, nil
}

func (s *Server) GetFileInfo(ctx context.Context, req *objectv1.GetFileInfoRequest) (*objectv1.GetFileInfoResponse, error) {
	r, err := fileRequest(req.GetLibraryId(), req.GetSpaceId(), req.GetFilePath(), req.GetHistoryId(), req.GetContentDisposition())
	if err != nil {
		return nil, toStatus(err)
	}
	if r.TrafficLimit, err = app.ParseTrafficLimit(req.GetTrafficLimit()); err != nil {
		return nil, toStatus(err)
	}
	loc, err := s.obj.Locate(ctx, r, req.Period)
	if err != nil {
		return nil, toStatus(err)
	}
	f := loc.File.GetFile()
	info := &objectv1.FileInfo{
		Type: f.GetType(), CreationTime: f.GetCreationTime(), ModificationTime: f.GetModificationTime(),
		ContentType: f.GetContentType(), Size: f.GetSize(), ETag: f.GetETag(), Crc64: f.GetCrc64(),
		FileType: f.GetFileType(), PreviewByDoc: f.GetPreviewByDoc(), PreviewByCi: f.GetPreviewByCi(),
		PreviewAsIcon: f.GetPreviewAsIcon(), MetaData: f.GetMetaData(), Labels: f.GetLabels(), Category: f.Category,
		LocalCreationTime: f.LocalCreationTime, LocalModificationTime: f.LocalModificationTime,
		VersionId: f.VersionId,
	}
	if !req.GetPreCheck() && loc.URL != "" { // a virtual file has no URL (decision 25)
		info.CosUrl = proto.String(loc.URL)
	}
	if req.GetWithInode() {
		info.Inode = proto.String(strconv.FormatInt(loc.File.GetInode(), 10))
	}
	// favorites (issue 12 item 4): isFavorite and the recent files' preview record.
	if req.GetWithFavoriteStatus() {
		fav, err := s.obj.IsFavorite(ctx, r, loc.File)
		if err != nil {
			return nil, toStatus(err)
		}
		info.IsFavorite = &fav
	}
	if !req.GetPreCheck() {
		s.obj.NotePreview(ctx, r, loc.File, req.GetPurpose())
	}
	return &objectv1.GetFileInfoResponse{Info: info}, nil
}

func (s *Server) HeadFile(ctx context.Context, req *objectv1.HeadFileRequest) (*objectv1.HeadFileResponse, error) {
	loc, err := s.obj.Locate(ctx, app.FileRequest{LibraryID: req.GetLibraryId(), SpaceID: req.GetSpaceId(), Path: req.GetFilePath(), HistoryID: req.GetHistoryId()}, nil)
	if err != nil {
		return nil, toStatus(err)
	}
	fileHeaders(ctx, loc.File.GetFile())
	return &objectv1.HeadFileResponse{}, nil
}

// thumbOptions checks the preview sizes as media.ParseThumbOptions does for a query.
func thumbOptions(size, scale, width, height *int32) (media.ThumbOptions, error) {
	q := map[string][]string{}
	for name, v := range map[string]*int32{"size": size, "scale": scale, "width_size": width, "height_size": height} {
		if v != nil {
			q[name] = []string{strconv.Itoa(int(*v))}
		}
	}
	return media.ParseThumbOptions(q)
}

func (s *Server) PreviewFile(ctx context.Context, req *objectv1.PreviewFileRequest) (*objectv1.PreviewFileResponse, error) {
	opts, err := thumbOptions(req.Size, req.Scale, req.WidthSize, req.HeightSize)
	if err != nil {
		return nil, toStatus(err)
	}
	loc, err := s.obj.Preview(ctx, app.FileRequest{LibraryID: req.GetLibraryId(), SpaceID: req.GetSpaceId(), Path: req.GetFilePath(), HistoryID: req.GetHistoryId()}, opts)
	if err != nil {
		return nil, toStatus(err)
	}
	redirect(ctx, loc.URL)
	return &objectv1.PreviewFileResponse{}, nil
}

// GetRecycledFileInfo answers a recycled file's details and a signed URL of its bytes (5.7).
func (s *Server) GetRecycledFileInfo(ctx context.Context, req *objectv1.GetRecycledFileInfoRequest) (*objectv1.GetRecycledFileInfoResponse, error) {
	loc, expires, err := s.obj.LocateRecycled(ctx, app.RecycledRequest{LibraryID: req.GetLibraryId(), SpaceID: req.GetSpaceId(), ItemID: req.GetRecycledItemId()})
	if err != nil {
		return nil, toStatus(err)
	}
	f := loc.File.GetFile()
	return &objectv1.GetRecycledFileInfoResponse{Info: &objectv1.FileInfo{
		Type: f.GetType(), CreationTime: f.GetCreationTime(), ModificationTime: f.GetModificationTime(),
		ContentType: f.GetContentType(), Size: f.GetSize(), ETag: f.GetETag(), Crc64: f.GetCrc64(),
		FileType: f.GetFileType(), PreviewByDoc: f.GetPreviewByDoc(), PreviewByCi: f.GetPreviewByCi(),
		PreviewAsIcon: f.GetPreviewAsIcon(), MetaData: f.GetMetaData(), Labels: f.GetLabels(), Category: f.Category,
		LocalCreationTime: f.LocalCreationTime, LocalModificationTime: f.LocalModificationTime,
		CosUrl: proto.String(loc.URL), CosUrlExpiration: proto.String(expires.UTC().Format("2006-01-02T15:04:05.000Z")),
	}}, nil
}

// PreviewRecycledFile redirects to a recycled file's thumbnail, or to the file (5.8).
func (s *Server) PreviewRecycledFile(ctx context.Context, req *objectv1.PreviewRecycledFileRequest) (*objectv1.PreviewRecycledFileResponse, error) {
	opts, err := thumbOptions(req.Size, req.Scale, req.WidthSize, req.HeightSize)
	if err != nil {
		return nil, toStatus(err)
	}
	loc, err := s.obj.PreviewRecycled(ctx, app.RecycledRequest{LibraryID: req.GetLibraryId(), SpaceID: req.GetSpaceId(), ItemID: req.GetRecycledItemId()}, opts)
	if err != nil {
		return nil, toStatus(err)
	}
	redirect(ctx, loc.URL)
	return &objectv1.PreviewRecycledFileResponse{}, nil
}

func (s *Server) GetAlbumCover(ctx context.Context, req *objectv1.GetAlbumCoverRequest) (*objectv1.GetAlbumCoverResponse, error) {
	opts, err := thumbOptions(req.Size, nil, nil, nil)
	if err != nil {
		return nil, toStatus(err)
	}
	loc, err := s.obj.AlbumCover(ctx, req.GetLibraryId(), req.GetSpaceId(), req.GetAlbumName(), opts)
	if err != nil {
		return nil, toStatus(err)
	}
	redirect(ctx, loc.URL)
	return &objectv1.GetAlbumCoverResponse{}, nil
}
