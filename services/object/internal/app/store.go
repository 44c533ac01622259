package app

import (
	"context"
	"errors"
	"time"
)

// Store errors; the use cases map them to SMH codes.
var (
	ErrUploadNotFound = errors.New("upload not found")
	// ErrUploadNotOpen: the upload no longer takes bytes (confirmed, aborted or expired).
	ErrUploadNotOpen = errors.New("upload not open")
	ErrBlobNotFound  = errors.New("blob not found")
	// ErrTooManyOpenUploads: the user has as many unconfirmed uploads as the cap allows.
	ErrTooManyOpenUploads = errors.New("too many unconfirmed uploads")
)

// UploadKind is how the client sends the bytes (3.1-3.3).
type UploadKind string

// Upload kinds.
const (
	KindSimple    UploadKind = "simple"
	KindMultipart UploadKind = "multipart"
	KindForm      UploadKind = "form"
)

// UploadState is where an upload session stands.
type UploadState string

// Upload states. A session is open until its bytes arrive (simple, form) or until confirm
// (multipart); received means the blob is stored and only confirm is missing.
const (
	StateOpen      UploadState = "open"
	StateReceived  UploadState = "received"
	StateConfirmed UploadState = "confirmed"
	StateAborted   UploadState = "aborted"
)

// Rules is what the namespace requires of the bytes (2.11), recorded at begin.
type Rules struct {
	MediaLibrary      bool     `json:"media,omitempty"`
	AllowPhoto        bool     `json:"photo,omitempty"`
	AllowVideo        bool     `json:"video,omitempty"`
	AllowPhotoExtname []string `json:"photoExt,omitempty"`
	AllowVideoExtname []string `json:"videoExt,omitempty"`
}

// FileAttrs are the attributes a file gets at confirm, given at begin and overridable there.
type FileAttrs struct {
	Labels                []string          `json:"labels,omitempty"`
	Category              *string           `json:"category,omitempty"`
	LocalCreationTime     string            `json:"localCtime,omitempty"`
	LocalModificationTime string            `json:"localMtime,omitempty"`
	MetaData              map[string]string `json:"meta,omitempty"`
}

// Upload is one upload session (a confirm key).
type Upload struct {
	ID        string
	LibraryID string
	SpaceID   string
	Path      []string
	UserID    string
	Kind      UploadKind
	// Strategy is the conflict strategy given at begin; confirm may override it (3.4).
	Strategy  string
	Force     bool
	Rules     Rules
	Attrs     FileAttrs
	CreatedAt time.Time
	ExpiresAt time.Time
	State     UploadState
	BlobID    string
	// Answer is the JSON file object of a confirmed upload.
	Answer []byte
}

// Part is one received part of a multipart upload.
type Part struct {
	UploadID   string
	Number     int
	Size       int64
	ETag       string // with quotes
	ReceivedAt time.Time
}

// BlobKind is what the bytes are, judged by content.
type BlobKind string

// Blob kinds.
const (
	BlobImage BlobKind = "image"
	BlobVideo BlobKind = "video"
	BlobOther BlobKind = "other"
)

// Blob is the record of stored, immutable bytes. Files of the namespace reference blobs by id;
// copies share one.
type Blob struct {
	ID        string
	LibraryID string
	// SpaceID is the space whose upload made the blob; instant upload matches content within
	// that space only (docs/security.md, section 2).
	SpaceID       string
	Size          int64
	CRC64         string
	ETag          string // hashing.Sums.ETagValue: 32 hex digits, without quotes
	BeginningHash string
	FullHash      string
	ContentType   string
	Kind          BlobKind
	CreatedAt     time.Time
	UsedAt        time.Time
	// Data is the whole content of a small blob, kept in its record instead of the blob store
	// (docs/smallfiles.md); nil when the bytes are in the blob store under blobKey(ID). Only
	// GetBlob reads it back.
	Data []byte
}

// Inline reports whether the blob's bytes are in its record rather than in the blob store.
func (b Blob) Inline() bool { return b.Data != nil }

// QuotedETag is the ETag as HTTP and SMH write it, between double quotes.
func (b Blob) QuotedETag() string { return `"` + b.ETag + `"` }

// Store is the object service's SQL store. Every method is one transaction.
type Store interface {
	// CreateUpload records a new open upload. maxOpen > 0 caps the unconfirmed (open or
	// received), unexpired uploads of u's owner (library and user id): at the cap it creates
	// nothing and answers ErrTooManyOpenUploads. The count and the insert are one transaction.
	CreateUpload(ctx context.Context, u Upload, maxOpen int) error
	// GetUpload answers ErrUploadNotFound for an unknown id.
	GetUpload(ctx context.Context, id string) (Upload, error)
	// AttachBlob records b and makes it the bytes of an open simple or form upload, which becomes
	// received. A blob attached before (the client sent the bytes twice) is released to garbage
	// collection. ErrUploadNotOpen when the upload no longer takes bytes.
	AttachBlob(ctx context.Context, uploadID string, b Blob) error
	// PutPart records a part of an open multipart upload, replacing one with the same number.
	PutPart(ctx context.Context, p Part) error
	// Parts lists an upload's parts by number.
	Parts(ctx context.Context, uploadID string) ([]Part, error)
	// HoldBlob records b, the blob a confirm composed from an open multipart upload's parts, and
	// makes the upload hold it (a blob held before is released), so garbage collection keeps it
	// while the namespace commits it. ErrUploadNotOpen when the upload is no longer open.
	HoldBlob(ctx context.Context, uploadID string, b Blob) error
	// RenewUpload moves an open upload's expiry.
	RenewUpload(ctx context.Context, id string, expires time.Time) error
	// Confirm records the confirm answer and makes the upload confirmed. ErrUploadNotOpen if it
	// is aborted.
	Confirm(ctx context.Context, id string, answer []byte) error
	// AbortUpload makes an unconfirmed upload aborted and forgets its parts (the caller removes
	// their bytes). ErrUploadNotOpen when it is confirmed.
	AbortUpload(ctx context.Context, id string) error
	// TakeBlobByHash finds a live blob of the library's space with this content and marks it used now,
	// so garbage collection leaves it alone while an instant upload commits it. ErrBlobNotFound
	// when none matches. fullHash "" matches on the beginning hash and size only (the 202 probe)
	// and marks nothing.
	TakeBlobByHash(ctx context.Context, libraryID, spaceID, beginningHash, fullHash string, size int64, now time.Time) (Blob, error)
	// GetBlob reads a blob's record with its bytes when they are inline (Data); BlobRecord reads
	// the record alone, for callers that never read the bytes. ErrBlobNotFound when none.
	GetBlob(ctx context.Context, id string) (Blob, error)
	BlobRecord(ctx context.Context, id string) (Blob, error)
	// RecordBlob records b, a blob an uncompress wrote (archives.go); its used time keeps it from
	// garbage collection while the namespace commits it.
	RecordBlob(ctx context.Context, b Blob) error

	// ExpiredUploads lists uploads that expired before t: unconfirmed ones, whose bytes are
	// garbage, and confirmed ones, which have answered repeated confirms long enough.
	ExpiredUploads(ctx context.Context, before time.Time, limit int) ([]Upload, error)
	// DeleteUpload removes an upload and its part records (not their bytes).
	DeleteUpload(ctx context.Context, id string) error
	// IdleBlobs lists live blobs used before t that no unconfirmed upload holds: the candidates
	// of garbage collection, which asks the namespace whether files reference them.
	IdleBlobs(ctx context.Context, usedBefore time.Time, limit int) ([]Blob, error)
	// DoomBlob marks a blob for removal if it is still idle (used before t). false when an
	// upload took it meanwhile.
	DoomBlob(ctx context.Context, id string, usedBefore time.Time) (bool, error)
	// DeleteBlob removes a doomed blob's record (after its bytes).
	DeleteBlob(ctx context.Context, id string) error
	// ReturnFreeSpace gives back to the file system the room that deleted records, inline
	// bytes above all, freed (a no-op where the database reuses it by itself).
	ReturnFreeSpace(ctx context.Context) error
	// DoomedBlobs lists blobs doomed but not yet deleted (a collection cut short by a crash).
	DoomedBlobs(ctx context.Context, limit int) ([]Blob, error)
	// KnownBlobs answers which of ids have a record (for orphaned bytes in the blob store).
	KnownBlobs(ctx context.Context, ids []string) (map[string]bool, error)
	// KnownUploads answers which of ids have a session (for orphaned parts).
	KnownUploads(ctx context.Context, ids []string) (map[string]bool, error)
}
