package app

import (
	"context"
	"errors"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/dataroute"
	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/pkg/filetype"
	"github.com/opensmh/opensmh/services/object/internal/media"
)

// Conflict strategies (pitfall 4); files default to rename.
const (
	strategyAsk       = "ask"
	strategyRename    = "rename"
	strategyOverwrite = "overwrite"
)

func checkStrategy(s string) error {
	switch s {
	case "", strategyAsk, strategyRename, strategyOverwrite:
		return nil
	}
	return &InputError{Err: ErrInvalidStrategy, Reason: "conflict_resolution_strategy must be ask, rename or overwrite"}
}

// Grants of the upload calls (3.1-3.7); the namespace checks those of begin (CheckUpload).
var (
	confirmGrants = []string{authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce, authz.ConfirmUpload}
	sessionGrants = []string{authz.Admin, authz.SpaceAdmin, authz.UploadFile, authz.UploadFileForce,
		authz.BeginUpload, authz.BeginUploadForce, authz.ConfirmUpload}
)

// BeginRequest is a begin-upload call (3.1-3.3).
type BeginRequest struct {
	LibraryID, SpaceID, Path string
	Kind                     UploadKind
	Strategy                 string
	FileSize                 *int64
	// Instant upload (3.1, decision 2).
	BeginningHash, FullHash string
	Size                    *int64
	Attrs                   FileAttrs
}

// BeginAnswer is one of the three answers of a begin call: a ticket (201), the instant-upload
// probe (202) or the file (200, instant upload done).
type BeginAnswer struct {
	Ticket *Ticket
	Probe  bool
	File   *namespacev1.FileObject
}

// Ticket tells the client where to send the bytes (3.1-3.3, 3.5).
type Ticket struct {
	Upload     Upload
	Domain     string
	Path       string
	Headers    map[string]string // simple and multipart
	Form       map[string]string // form
	Expiration time.Time
}

// Begin starts an upload: the namespace checks the target and the caller, an instant upload
// completes at once when the library holds the content, otherwise a session and its ticket.
func (o *Object) Begin(ctx context.Context, req BeginRequest) (BeginAnswer, error) {
	if err := checkStrategy(req.Strategy); err != nil {
		return BeginAnswer{}, err
	}
	if err := checkAttrs(req.Attrs); err != nil {
		return BeginAnswer{}, err
	}
	check, err := o.ns.CheckUpload(ctx, &namespacev1.CheckUploadRequest{
		LibraryId: req.LibraryID, SpaceId: req.SpaceID, FilePath: req.Path,
		ConflictResolutionStrategy: req.Strategy, FileSize: req.FileSize,
	})
	if err != nil {
		return BeginAnswer{}, peer(err)
	}
	rules := rulesOf(check.GetRules())
	name := check.GetPath()[len(check.GetPath())-1]
	if rules.MediaLibrary {
		// The name must promise a media type the space takes; the bytes are judged at confirm.
		if err := media.Allowed(filetype.KindOf(name), name, rules.AllowPhoto, rules.AllowVideo,
			rules.AllowPhotoExtname, rules.AllowVideoExtname); err != nil {
			return BeginAnswer{}, &InputError{Err: ErrExtnameNotAllowed, Reason: "the file name's extension is not an allowed image or video type"}
		}
	}
	now := o.clock.Now()
	u := Upload{
		ID: newID(), LibraryID: req.LibraryID, SpaceID: req.SpaceID, Path: check.GetPath(),
		UserID: check.GetUserId(), Kind: req.Kind, Strategy: check.GetConflictResolutionStrategy(),
		Force: check.GetForce(), Rules: rules, Attrs: req.Attrs, CreatedAt: now, State: StateOpen,
	}
	if req.BeginningHash != "" && req.Size != nil {
		answer, done, err := o.instant(ctx, u, req.BeginningHash, req.FullHash, *req.Size)
		if err != nil || done {
			return answer, err
		}
	}
	exp := now.Add(o.ticketTTL)
	u.ExpiresAt = exp.Add(o.sessionTTL)
	if err := o.store.CreateUpload(ctx, u, o.maxOpenUploads); err != nil {
		return BeginAnswer{}, err
	}
	return BeginAnswer{Ticket: o.ticket(u, exp)}, nil
}

// instant answers decision 2: 202 when the space holds content with this beginning hash and
// size but no full hash was given, 200 (the file, committed now) when the full hash matches
// too. done is false when the client has to send the bytes.
func (o *Object) instant(ctx context.Context, u Upload, beginning, full string, size int64) (BeginAnswer, bool, error) {
	b, err := o.store.TakeBlobByHash(ctx, u.LibraryID, u.SpaceID, beginning, full, size, o.clock.Now())
	if errors.Is(err, ErrBlobNotFound) {
		return BeginAnswer{}, false, nil
	}
	if err != nil {
		return BeginAnswer{}, false, err
	}
	if full == "" {
		return BeginAnswer{Probe: true}, true, nil
	}
	if err := checkContent(u, b); err != nil {
		return BeginAnswer{}, false, err
	}
	stored, err := o.commit(ctx, u, b, u.Strategy, u.Attrs, true)
	if err != nil {
		return BeginAnswer{}, false, err
	}
	return BeginAnswer{File: stored.GetFile()}, true, nil
}

func (o *Object) ticket(u Upload, exp time.Time) *Ticket {
	t := &Ticket{Upload: u, Domain: o.domain, Expiration: exp}
	auth := o.signer.UploadAuthorization(u, exp)
	if u.Kind == KindForm {
		// The form goes to https://{domain}/ (3.3); the key names the session and policy carries
		// the signature, as a COS form's fields do.
		t.Path = "/"
		t.Form = map[string]string{"key": FormKeyPrefix + u.ID, "policy": auth}
		return t
	}
	t.Path = UploadPathPrefix + u.ID
	t.Headers = map[string]string{"Authorization": auth}
	return t
}

// Where the data endpoint takes uploads (decision 11).
const (
	UploadPathPrefix = dataroute.UploadPrefix
	FormKeyPrefix    = "u/"
)

func rulesOf(r *namespacev1.UploadRules) Rules {
	return Rules{
		MediaLibrary: r.GetMediaLibrary(), AllowPhoto: r.GetAllowPhoto(), AllowVideo: r.GetAllowVideo(),
		AllowPhotoExtname: r.GetAllowPhotoExtname(), AllowVideoExtname: r.GetAllowVideoExtname(),
	}
}

// checkAttrs applies the rules every entry's metadata, labels and category follow (fileattr),
// at begin and again at confirm, whose body may replace labels and category.
func checkAttrs(a FileAttrs) error {
	category := ""
	if a.Category != nil {
		category = *a.Category
	}
	return fileattr.Check(a.MetaData, a.Labels, category)
}

// checkContent applies 2.11 to the bytes: a media library takes only images and videos, judged
// by content, within the space's whitelists.
func checkContent(u Upload, b Blob) error {
	if !u.Rules.MediaLibrary {
		return nil
	}
	kind := media.KindOther
	switch b.Kind {
	case BlobImage:
		kind = media.KindImage
	case BlobVideo:
		kind = media.KindVideo
	}
	name := u.Path[len(u.Path)-1]
	err := media.Allowed(kind, name, u.Rules.AllowPhoto, u.Rules.AllowVideo, u.Rules.AllowPhotoExtname, u.Rules.AllowVideoExtname)
	switch {
	case errors.Is(err, media.ErrNotMedia):
		return &InputError{Err: ErrExtnameNotAllowed, Reason: "media libraries take only images and videos, judged by their content"}
	case err != nil:
		return &InputError{Err: ErrExtnameNotAllowed, Reason: "the content does not match an allowed image or video type for this name"}
	}
	return nil
}

// commit makes blob b the file of upload u in the namespace; rapid says the bytes were not sent
// (an instant upload by hash).
func (o *Object) commit(ctx context.Context, u Upload, b Blob, strategy string, attrs FileAttrs, rapid bool) (*namespacev1.StoredFile, error) {
	if strategy == "" {
		strategy = strategyRename
	}
	if strategy == strategyOverwrite && !u.Force {
		return nil, authz.ErrNoPermission
	}
	typ := "file"
	if u.Rules.MediaLibrary {
		typ = string(b.Kind)
	}
	stored, err := o.ns.CommitFile(ctx, &namespacev1.CommitFileRequest{
		LibraryId: u.LibraryID, SpaceId: u.SpaceID, Path: u.Path, ConflictResolutionStrategy: strategy,
		Force: u.Force, UserId: u.UserID, BlobId: b.ID, Size: b.Size, ContentType: b.ContentType,
		ETag: b.QuotedETag(), Crc64: b.CRC64, Type: typ, MetaData: attrs.MetaData, Labels: attrs.Labels,
		Category: attrs.Category, LocalCreationTime: attrs.LocalCreationTime, LocalModificationTime: attrs.LocalModificationTime,
		UploadId: u.ID, RapidUpload: rapid,
	})
	if err != nil {
		return nil, peer(err)
	}
	o.describe(stored.GetFile())
	return stored, nil
}

// describe fills the fields of a file object that follow from its name and type (3.4).
func (o *Object) describe(f *namespacev1.FileObject) {
	if f == nil {
		return
	}
	d := filetype.Describe(f.GetName(), f.GetContentType())
	if d.FileType == filetype.FileTypeVideo && !o.ffmpeg.Available() {
		d.PreviewByCI, d.PreviewAsIcon = false, false
	}
	f.FileType, f.PreviewByCi, f.PreviewByDoc, f.PreviewAsIcon = d.FileType, d.PreviewByCI, d.PreviewByDoc, d.PreviewAsIcon
}

// session loads the upload named by a confirm key for its owner: unknown keys, keys of another
// library or space, and expired sessions are 404 UploadNotFound; another user's 403.
func (o *Object) session(ctx context.Context, libraryID, spaceID, key string, grants []string) (Upload, *authz.Principal, error) {
	p, err := o.auth.Authenticate(ctx, libraryID)
	if err != nil {
		return Upload{}, nil, err
	}
	if err := p.RequireSpace(spaceID); err != nil {
		return Upload{}, nil, err
	}
	if err := p.RequireAny(grants...); err != nil {
		return Upload{}, nil, err
	}
	u, err := o.store.GetUpload(ctx, key)
	if err != nil {
		return Upload{}, nil, err
	}
	if u.LibraryID != libraryID || u.SpaceID != spaceID || u.State == StateAborted {
		return Upload{}, nil, ErrUploadNotFound
	}
	if u.State != StateConfirmed && o.clock.Now().After(u.ExpiresAt) {
		return Upload{}, nil, ErrUploadNotFound
	}
	if u.UserID != p.UserID {
		return Upload{}, nil, ErrUploadNotBelongYou
	}
	return u, p, nil
}

// ConfirmRequest is a confirm call (3.4).
type ConfirmRequest struct {
	LibraryID, SpaceID, ConfirmKey string
	// Strategy overrides the one of begin when set.
	Strategy string
	CRC64    string
	// Attrs given at confirm replace those of begin field by field.
	Labels                                   []string
	Category                                 *string
	LocalCreationTime, LocalModificationTime string
}

// Check judges what a confirm call brings of its own (3.4), before any session is read: the
// strategy, and the labels and category that replace those of begin. It needs no store, so the
// confirm body can be tested and fuzzed through it alone.
func (r ConfirmRequest) Check() error {
	if err := checkStrategy(r.Strategy); err != nil {
		return err
	}
	if err := fileattr.CheckLabels(r.Labels); err != nil {
		return err
	}
	if r.Category != nil {
		return fileattr.CheckCategory(*r.Category)
	}
	return nil
}

// Confirm makes an upload's bytes a visible file. It is idempotent: a confirmed key answers
// the same file again.
func (o *Object) Confirm(ctx context.Context, req ConfirmRequest) (*namespacev1.FileObject, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	u, _, err := o.session(ctx, req.LibraryID, req.SpaceID, req.ConfirmKey, confirmGrants)
	if err != nil {
		return nil, err
	}
	if u.State == StateConfirmed {
		return answerOf(u)
	}
	attrs := u.Attrs
	if req.Labels != nil {
		attrs.Labels = req.Labels
	}
	if req.Category != nil {
		attrs.Category = req.Category
	}
	if req.LocalCreationTime != "" {
		attrs.LocalCreationTime = req.LocalCreationTime
	}
	if req.LocalModificationTime != "" {
		attrs.LocalModificationTime = req.LocalModificationTime
	}
	// Again on the merged attributes: a session begun before the rules may hold metadata they
	// refuse.
	if err := checkAttrs(attrs); err != nil {
		return nil, err
	}
	strategy := u.Strategy
	if req.Strategy != "" {
		strategy = req.Strategy
	}
	b, composed, err := o.bytesOf(ctx, u)
	if err != nil {
		return nil, err
	}
	// discard drops a composed multipart blob that the namespace never saw; its parts stay for a
	// retry. A simple upload's blob stays attached to the session until it expires.
	discard := func() {
		if composed != nil {
			_ = o.blobs.Delete(context.WithoutCancel(ctx), blobKey(composed.ID))
		}
	}
	if req.CRC64 != "" && req.CRC64 != b.CRC64 {
		discard()
		return nil, ErrBadCRC64
	}
	if err := checkContent(u, b); err != nil {
		discard()
		// The content can never become a file here: the session ends and its bytes go to
		// garbage collection, so a refused upload leaves nothing behind.
		_ = o.store.AbortUpload(context.WithoutCancel(ctx), u.ID)
		o.dropParts(context.WithoutCancel(ctx), u.ID)
		return nil, err
	}
	if composed != nil {
		// The composed blob is recorded, held by the upload, before the namespace can reference
		// it. Recorded only at the end, a crash (or a failed write) between the commit and the
		// end would leave a file whose bytes no record names: the orphan sweep would delete them,
		// and a retried confirm answers the file of the first commit, not its own blob.
		if err := o.store.HoldBlob(ctx, u.ID, *composed); err != nil {
			discard()
			if errors.Is(err, ErrUploadNotOpen) {
				// A concurrent confirm of the same key finished first.
				if done, gerr := o.store.GetUpload(ctx, u.ID); gerr == nil && done.State == StateConfirmed {
					return answerOf(done)
				}
			}
			return nil, err
		}
	}
	stored, err := o.commit(ctx, u, b, strategy, attrs, false)
	if err != nil {
		// The namespace may have committed the file although the call failed, so a held blob is
		// left to garbage collection, which asks the namespace before removing it.
		return nil, err
	}
	answer, err := protojson.Marshal(stored.GetFile())
	if err != nil {
		return nil, err
	}
	if err := o.store.Confirm(ctx, u.ID, answer); err != nil {
		return nil, err
	}
	if composed != nil {
		o.dropParts(context.WithoutCancel(ctx), u.ID)
	}
	return stored.GetFile(), nil
}

// bytesOf answers the blob of an upload: the received one (simple, form) or the parts composed
// into a new blob (multipart), which the caller records at confirm.
func (o *Object) bytesOf(ctx context.Context, u Upload) (Blob, *Blob, error) {
	if u.Kind != KindMultipart {
		if u.State != StateReceived || u.BlobID == "" {
			return Blob{}, nil, ErrUploadIncomplete
		}
		b, err := o.store.BlobRecord(ctx, u.BlobID) // a confirm reads no bytes
		return b, nil, err
	}
	parts, err := o.store.Parts(ctx, u.ID)
	if err != nil {
		return Blob{}, nil, err
	}
	if len(parts) == 0 {
		return Blob{}, nil, ErrMultipartIncomplete
	}
	for i, p := range parts {
		if p.Number != i+1 {
			return Blob{}, nil, &InputError{Err: ErrMultipartIncomplete, Reason: "parts must be numbered contiguously from 1; part " + strconv.Itoa(i+1) + " is missing"}
		}
	}
	b, err := o.compose(ctx, u, parts)
	if err != nil {
		return Blob{}, nil, err
	}
	return b, &b, nil
}

// answerOf reads the file object a confirmed upload answered.
func answerOf(u Upload) (*namespacev1.FileObject, error) {
	f := &namespacev1.FileObject{}
	if err := protojson.Unmarshal(u.Answer, f); err != nil {
		return nil, err
	}
	return f, nil
}

// Renew answers a fresh ticket for an open multipart upload (3.5).
func (o *Object) Renew(ctx context.Context, libraryID, spaceID, key string) (*Ticket, error) {
	u, _, err := o.session(ctx, libraryID, spaceID, key, sessionGrants)
	if err != nil {
		return nil, err
	}
	if u.Kind != KindMultipart {
		return nil, &InputError{Err: ErrWrongUploadKind, Reason: "only multipart uploads are renewed"}
	}
	if u.State != StateOpen {
		return nil, ErrUploadNotOpen
	}
	exp := o.clock.Now().Add(o.ticketTTL)
	if err := o.store.RenewUpload(ctx, u.ID, exp.Add(o.sessionTTL)); err != nil {
		return nil, err
	}
	return o.ticket(u, exp), nil
}

// UploadStatus is the answer of 3.6.
type UploadStatus struct {
	Upload Upload
	Parts  []Part
	// Ticket is where the remaining parts go (multipart, unless left out).
	Ticket *Ticket
	File   *namespacev1.FileObject
}

// Status answers an upload's state, with its parts for multipart (3.6).
func (o *Object) Status(ctx context.Context, libraryID, spaceID, key string, withPartInfo bool) (UploadStatus, error) {
	u, _, err := o.session(ctx, libraryID, spaceID, key, sessionGrants)
	if err != nil {
		return UploadStatus{}, err
	}
	st := UploadStatus{Upload: u}
	if u.State == StateConfirmed {
		if st.File, err = answerOf(u); err != nil {
			return UploadStatus{}, err
		}
	}
	if u.Kind == KindMultipart && u.State == StateOpen {
		if st.Parts, err = o.store.Parts(ctx, u.ID); err != nil {
			return UploadStatus{}, err
		}
		if withPartInfo {
			st.Ticket = o.ticket(u, o.clock.Now().Add(o.ticketTTL))
		}
	}
	return st, nil
}

// Abort ends an unconfirmed upload and removes its parts (3.7).
func (o *Object) Abort(ctx context.Context, libraryID, spaceID, key string) error {
	u, _, err := o.session(ctx, libraryID, spaceID, key, sessionGrants)
	if err != nil {
		return err
	}
	if err := o.store.AbortUpload(ctx, u.ID); err != nil {
		return err
	}
	// As expiry and confirm do: every part stored under the upload, recorded or not (a part
	// whose record was never written still left bytes).
	o.dropParts(context.WithoutCancel(ctx), u.ID)
	return nil
}

// dropParts removes the bytes of an upload's parts; the sweep of orphaned parts catches any a
// failure leaves.
func (o *Object) dropParts(ctx context.Context, uploadID string) {
	_ = o.blobs.List(ctx, partsPrefix(uploadID), func(i blobInfo) error {
		return o.blobs.Delete(ctx, i.Key)
	})
}
