// Package app holds the object service's use cases: upload sessions and their confirm, the data
// endpoint's receiving and serving of bytes, downloads, previews and garbage collection
// (SMH API section 3, decision 11). The namespace service owns file entries; this package
// reaches it through the Namespace interface and never writes its tables.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/cache"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/object/internal/archive"
	"github.com/opensmh/opensmh/services/object/internal/blob"
	"github.com/opensmh/opensmh/services/object/internal/media"
)

// Use-case errors; the transport maps each to one SMH code (and the data endpoint to COS XML).
var (
	ErrParamInvalid        = errors.New("parameter invalid")
	ErrInvalidStrategy     = errors.New("invalid conflict resolution strategy")
	ErrUploadNotBelongYou  = errors.New("upload belongs to another user")
	ErrUploadIncomplete    = errors.New("upload incomplete")
	ErrMultipartIncomplete = errors.New("multipart upload incomplete")
	ErrBadCRC64            = errors.New("crc64 mismatch")
	ErrExtnameNotAllowed   = errors.New("extension not allowed")
	ErrWrongUploadKind     = errors.New("operation does not apply to this kind of upload")
	ErrBadPartNumber       = errors.New("bad part number")
	ErrPartTooLarge        = errors.New("part too large")
	ErrSizeMismatch        = errors.New("body size differs from Content-Length")
)

// InputError is rejected input with a caller-facing reason (shared with the other services).
type InputError = smherr.Invalid

type blobInfo = blob.Info

// Namespace is what the object service asks of the namespace service. CheckUpload and the
// Resolve calls act with the end user's credentials (the implementation forwards them);
// CommitFile and ReferencedBlobs with the operator key. Errors are the namespace's SMH errors.
type Namespace interface {
	CheckUpload(ctx context.Context, in *namespacev1.CheckUploadRequest) (*namespacev1.CheckUploadResponse, error)
	CommitFile(ctx context.Context, in *namespacev1.CommitFileRequest) (*namespacev1.StoredFile, error)
	ResolveFile(ctx context.Context, in *namespacev1.ResolveFileRequest) (*namespacev1.StoredFile, error)
	ResolveAlbumCover(ctx context.Context, in *namespacev1.ResolveAlbumCoverRequest) (*namespacev1.StoredFile, error)
	ReferencedBlobs(ctx context.Context, ids []string) (map[string]bool, error)
	// ResolveRecycledFile answers the file a recycle-bin item holds (5.7, 5.8), its original
	// path as its path; RecycledItemNotFound for a directory item or an unknown id.
	ResolveRecycledFile(ctx context.Context, in *namespacev1.ResolveRecycledFileRequest) (*namespacev1.StoredFile, error)
	// RecordRecentFile notes the caller's preview of a file (11.4); FavoriteStatus answers which
	// of the inodes the caller has favorited (3.9 with_favorite_status). Favorites, issue 12
	// item 4 (recent.go).
	RecordRecentFile(ctx context.Context, in *namespacev1.RecordRecentFileRequest) error
	FavoriteStatus(ctx context.Context, in *namespacev1.GetFavoriteStatusRequest) (map[int64]bool, error)
}

// Config wires the use cases.
type Config struct {
	Store     Store
	Blobs     blob.Store
	Namespace Namespace
	Auth      *authz.Authorizer
	Signer    *Signer
	Clock     clock.Clock
	// Domain is the host[:port] that tickets and download URLs name (decision 11).
	Domain string
	// TicketTTL is how long a ticket's signature holds (default 1 h); a session may be confirmed
	// for SessionTTL after its last ticket (default 24 h).
	TicketTTL  time.Duration
	SessionTTL time.Duration
	// MaxPartSize bounds one part (default 5 GiB, as COS) and MaxSimpleSize one simple or form
	// upload (default 5 GiB).
	MaxPartSize   int64
	MaxSimpleSize int64
	// GCGrace is how long garbage collection leaves an unreferenced blob alone after its last
	// use (default 1 h): a blob between upload and commit is never collected.
	GCGrace time.Duration
	// FFmpeg makes video covers; zero = not installed (previews redirect to the original).
	FFmpeg media.FFmpeg
	// MaxOpenUploads caps the unconfirmed, unexpired upload sessions of one user of a library
	// (default 1,000; negative: no cap). Tokens with an empty user id and the library secret
	// count as one user of their library.
	MaxOpenUploads int
	// InlineBlobMax is the largest upload whose bytes are kept in its blob's record instead of
	// the blob store (docs/smallfiles.md); 0 = DefaultInlineBlobMax, negative = none.
	InlineBlobMax int64
	// Archives is the namespace's side of zip preview and uncompress (3.17); nil answers
	// FunctionNotEnabled. ArchiveLimits bound what one archive may expand to (zero: defaults).
	Archives      ArchiveTasks
	ArchiveLimits archive.Limits
	// Shares is the namespace's judgement of share visitors (13.11, shares.go); nil answers
	// share routes with Unavailable. Visitors bounds each (share, client address) and each share; nil:
	// no bound. ZipLimits bound a folder download (zero fields: the defaults of docs/shares.md).
	Shares    ShareResolver
	Visitors  Limiter
	ZipLimits ZipLimits
}

// Object is the object service's use cases.
type Object struct {
	store Store
	// blobs reads inline blobs from their records and everything else from the blob store.
	blobs  inlineReads
	ns     Namespace
	auth   *authz.Authorizer
	signer *Signer
	clock  clock.Clock
	domain string

	ticketTTL, sessionTTL time.Duration
	maxPart, maxSimple    int64
	gcGrace               time.Duration
	ffmpeg                media.FFmpeg
	maxOpenUploads        int
	inlineMax             int64

	archives      ArchiveTasks
	archiveLimits archive.Limits
	run           *archiveRun

	shares    ShareResolver
	visitors  Limiter
	zipLimits ZipLimits

	// thumbnails collapses concurrent first previews of one picture into one rendering.
	thumbnails *cache.Group[string, string]
}

// New builds the use cases.
func New(cfg Config) *Object {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	o := &Object{
		store: cfg.Store, blobs: inlineReads{Store: cfg.Blobs, records: cfg.Store}, ns: cfg.Namespace, auth: cfg.Auth, signer: cfg.Signer,
		clock: cfg.Clock, domain: cfg.Domain, ticketTTL: cfg.TicketTTL, sessionTTL: cfg.SessionTTL,
		maxPart: cfg.MaxPartSize, maxSimple: cfg.MaxSimpleSize, gcGrace: cfg.GCGrace, ffmpeg: cfg.FFmpeg,
		maxOpenUploads: cfg.MaxOpenUploads, inlineMax: cfg.InlineBlobMax,
		archives: cfg.Archives, archiveLimits: cfg.ArchiveLimits.Defaults(), run: newArchiveRun(),
		shares: cfg.Shares, visitors: cfg.Visitors, zipLimits: cfg.ZipLimits.Defaults(),
		thumbnails: cache.NewGroup[string, string](thumbnailTimeout),
	}
	if o.maxOpenUploads == 0 {
		o.maxOpenUploads = DefaultMaxOpenUploads
	}
	if o.inlineMax == 0 {
		o.inlineMax = DefaultInlineBlobMax
	}
	if o.ticketTTL <= 0 {
		o.ticketTTL = time.Hour
	}
	if o.sessionTTL <= 0 {
		o.sessionTTL = 24 * time.Hour
	}
	if o.maxPart <= 0 {
		o.maxPart = 5 << 30
	}
	if o.maxSimple <= 0 {
		o.maxSimple = 5 << 30
	}
	if o.gcGrace <= 0 {
		o.gcGrace = time.Hour
	}
	return o
}

// DefaultMaxOpenUploads is the default cap on one user's unconfirmed uploads: far above what a
// client uploading in parallel holds open, far below what a script beginning uploads in a loop
// reaches (each session is a row and, until confirmed or expired, possibly stored bytes).
const DefaultMaxOpenUploads = 1000

// newID answers 128 random bits as hex: upload ids (confirm keys) and blob ids are unguessable,
// so knowing one grants nothing without a signature or a token.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Blob-store keys. Ids are hex, so keys are always valid blob keys.
func blobKey(id string) string            { return "blobs/" + id[:2] + "/" + id }
func partKey(upload string, n int) string { return partsPrefix(upload) + strconv.Itoa(n) }
func partsPrefix(upload string) string    { return "parts/" + upload + "/" } // every part of an upload
func thumbKey(blobID, variant string) string {
	return "thumbs/" + blobID[:2] + "/" + blobID + "/" + variant
}

// peer turns an error of the namespace into the SMH error it carries, so the transport passes
// it through unchanged (a 404 DirectoryNotFound stays one).
func peer(err error) error {
	if err == nil {
		return nil
	}
	if e := smherr.As(err); e != nil && e.Status < 500 {
		return e
	}
	return err
}
