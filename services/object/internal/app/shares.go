package app

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/services/object/internal/media"
)

// A share visitor's bytes (SMH API 13.11, docs/shares.md "Visitor bytes: preview, download,
// zip"). The namespace judges the visitor (ShareResolverService): the share's state, its
// permissions and counters, and that the inode chain lies inside it. This package only turns
// its answer into a short-lived signed URL of the data endpoint, as 3.8 and 3.11 do for owners.

// ShareResolver is the namespace's ShareResolverService. The implementation forwards the
// visitor's share access token with the operator key; ListSharedTree with SignedByObject set
// travels with the operator key alone (the zip stream's re-check, sharezip.go).
type ShareResolver interface {
	ResolveSharedFile(ctx context.Context, in *namespacev1.ResolveSharedFileRequest) (*namespacev1.ResolveSharedFileResponse, error)
	ListSharedTree(ctx context.Context, in *namespacev1.ListSharedTreeRequest) (*namespacev1.ListSharedTreeResponse, error)
}

// Limiter bounds a share's visitor requests per (share, client address) and per share
// (pkg/ratelimit's ShareVisitors).
type Limiter interface {
	Allow(share, addr string) bool
}

// Share visitor errors.
var (
	// ErrVisitorRateLimited: one (share, client address) asked for bytes faster than the
	// visitor limit allows (429 RateLimitExceeded).
	ErrVisitorRateLimited = errors.New("too many share requests from this address")
	// ErrSharesUnavailable: the service was built without a share resolver.
	ErrSharesUnavailable = errors.New("share links are not served by this object service")
	// ErrNotViewable: a visitor's preview of a file that the data endpoint would not show in
	// place (a PDF, an archive, HTML): it would be a download, which canPreview does not grant
	// (403 CannotPreview; docs/shares.md).
	ErrNotViewable = errors.New("the file cannot be shown in place")
	// ErrBadInodeChain: the inode chain is not decimal inodes joined by "/" (400
	// InvalidParameter, as the visitor listing answers it; docs/shares.md).
	ErrBadInodeChain = errors.New("bad inode chain")
)

// shareURLPeriod is how long a visitor's signed URL holds: long enough to follow the 302 and
// to resume with Range for a while, short enough that a share disabled or deleted stops
// handing out bytes soon after (a transfer already running is not cut; docs/shares.md).
const shareURLPeriod = 10 * time.Minute

// maxInodeChain is the deepest chain 13.10 allows.
const maxInodeChain = 64

// ParseInodeChain reads an inode chain as the dispatcher hands it over (decoded once, 13.10):
// positive decimal inodes joined by "/", at most 64, "" for the share root. It answers the
// canonical form, so a signed zip URL names exactly what the namespace judged.
func ParseInodeChain(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) > maxInodeChain {
		return nil, &InputError{Err: ErrBadInodeChain, Reason: "the inode chain is deeper than 64 levels"}
	}
	chain := make([]int64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != p {
			return nil, &InputError{Err: ErrBadInodeChain, Reason: "the inode chain must be positive decimal inodes joined by /"}
		}
		chain[i] = n
	}
	return chain, nil
}

// formatInodeChain is ParseInodeChain's inverse.
func formatInodeChain(chain []int64) string {
	parts := make([]string, len(chain))
	for i, n := range chain {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(parts, "/")
}

// SharedFileRequest names what a visitor asks for: a share by its code, and the inode chain
// from the share root. ClientAddress is the visitor's address as the gateway saw it.
type SharedFileRequest struct {
	ShareCode     string
	Inodes        string
	ClientAddress string
}

// admitVisitor parses the chain and applies the visitor rate limits of (share, address) and of
// the share.
func (o *Object) admitVisitor(req SharedFileRequest) (string, error) {
	if o.shares == nil {
		return "", ErrSharesUnavailable
	}
	chain, err := ParseInodeChain(req.Inodes)
	if err != nil {
		return "", err
	}
	if o.visitors != nil && !o.visitors.Allow(req.ShareCode, req.ClientAddress) {
		return "", ErrVisitorRateLimited
	}
	return formatInodeChain(chain), nil
}

// resolveShared asks the namespace for the file at the end of the chain; a success has been
// counted against the share's previewLimit or downloadLimit.
func (o *Object) resolveShared(ctx context.Context, req SharedFileRequest, purpose string) (FileRequest, *namespacev1.StoredFile, error) {
	chain, err := o.admitVisitor(req)
	if err != nil {
		return FileRequest{}, nil, err
	}
	if chain == "" {
		return FileRequest{}, nil, &InputError{Err: ErrParamInvalid, Reason: "the inode chain must end with a file"}
	}
	resp, err := o.shares.ResolveSharedFile(ctx, &namespacev1.ResolveSharedFileRequest{ShareCode: req.ShareCode, Inodes: chain, Purpose: purpose})
	if err != nil {
		return FileRequest{}, nil, peer(err)
	}
	f := resp.GetFile()
	o.describe(f.GetFile())
	if IsVirtual(f) {
		return FileRequest{}, nil, ErrVirtualFile
	}
	return FileRequest{LibraryID: resp.GetLibraryId(), SpaceID: resp.GetSpaceId()}, f, nil
}

// DownloadShared answers a signed URL of a shared file's bytes as an attachment (13.11
// ?download). The space's download traffic limit applies as for its owner.
func (o *Object) DownloadShared(ctx context.Context, req SharedFileRequest) (Located, error) {
	fr, f, err := o.resolveShared(ctx, req, "download")
	if err != nil {
		return Located{}, err
	}
	fr.Attachment = true
	return Located{File: f, URL: o.urlOf(fr, f, blobKey(f.GetBlobId()), f.GetFile().GetContentType(), shareURLPeriod)}, nil
}

// PreviewShared answers a signed URL of a shared file's thumbnail, or of the file shown
// inline when it has none, as 3.11 does for its owner (13.11 ?preview).
func (o *Object) PreviewShared(ctx context.Context, req SharedFileRequest, opts media.ThumbOptions) (Located, error) {
	fr, f, err := o.resolveShared(ctx, req, "preview")
	if err != nil {
		return Located{}, err
	}
	if _, inline := media.Presentation(f.GetFile().GetContentType(), f.GetFile().GetName()); !inline {
		// The data endpoint would send it as an attachment: a preview would hand out the file
		// to a visitor who may only look. (The namespace has counted the preview already.)
		return Located{}, ErrNotViewable
	}
	return o.previewFor(ctx, fr, f, opts, shareURLPeriod)
}
