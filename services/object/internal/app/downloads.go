package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"time"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/services/object/internal/blob"
	"github.com/opensmh/opensmh/services/object/internal/media"
)

// Download URL lifetimes (3.9 period: 60-7200 s, default 7200).
const (
	minURLPeriod     = 60
	maxURLPeriod     = 7200
	defaultURLPeriod = 7200
)

// FileRequest names a file to read (3.8-3.11).
type FileRequest struct {
	LibraryID, SpaceID, Path string
	HistoryID                string
	Attachment               bool
	// TrafficLimit is the request's own traffic_limit in bytes per second (0 = none); the
	// space's limit applies too, and the lower wins (docs/fileops.md).
	TrafficLimit int64
}

// ErrVirtualFile: a virtual file has no content to download or preview (3.17, decision 25).
var ErrVirtualFile = errors.New("the operation is not supported on a virtual file")

// IsVirtual reports whether f is a virtual file (3.17): metadata only, no blob.
func IsVirtual(f *namespacev1.StoredFile) bool { return f.GetFile().GetType() == "virtual" }

// pace answers the traffic limit of a download: the lower of the request's and the space's,
// each 0 when unset.
func pace(request, space int64) int64 {
	switch {
	case request <= 0:
		return max(space, 0)
	case space <= 0:
		return request
	}
	return min(request, space)
}

// Located is a file to read and a signed URL of its bytes (or of a derivative).
type Located struct {
	File *namespacev1.StoredFile
	// URL is absolute: https://{domain}{path}?{signed query}.
	URL string
}

func (o *Object) resolve(ctx context.Context, req FileRequest) (*namespacev1.StoredFile, error) {
	f, err := o.ns.ResolveFile(ctx, &namespacev1.ResolveFileRequest{
		LibraryId: req.LibraryID, SpaceId: req.SpaceID, FilePath: req.Path, HistoryId: req.HistoryID,
	})
	if err != nil {
		return nil, peer(err)
	}
	o.describe(f.GetFile())
	return f, nil
}

func (o *Object) urlOf(req FileRequest, f *namespacev1.StoredFile, key, contentType string, period time.Duration) string {
	d := Download{
		LibraryID: req.LibraryID, SpaceID: req.SpaceID, Key: key, Name: f.GetFile().GetName(),
		ContentType: contentType, Attachment: req.Attachment, BlobID: f.GetBlobId(),
		Traffic: pace(req.TrafficLimit, f.GetDownloadTrafficLimit()),
	}
	return "https://" + o.domain + o.signer.DownloadPath(d, o.clock.Now().Add(period))
}

// Locate resolves a file for download (3.8), HEAD (3.10) and info (3.9). period is the URL's
// lifetime in seconds; nil takes the default.
func (o *Object) Locate(ctx context.Context, req FileRequest, period *int32) (Located, error) {
	secs := int32(defaultURLPeriod)
	if period != nil {
		if *period < minURLPeriod || *period > maxURLPeriod {
			return Located{}, &InputError{Err: ErrParamInvalid, Reason: "period must be 60-7200 seconds"}
		}
		secs = *period
	}
	f, err := o.resolve(ctx, req)
	if err != nil {
		return Located{}, err
	}
	if IsVirtual(f) {
		return Located{File: f}, nil // metadata only: no URL (decision 25)
	}
	url := o.urlOf(req, f, blobKey(f.GetBlobId()), f.GetFile().GetContentType(), time.Duration(secs)*time.Second)
	return Located{File: f, URL: url}, nil
}

// RecycledRequest names a file in a space's recycle bin (5.7, 5.8).
type RecycledRequest struct {
	LibraryID, SpaceID string
	// ItemID is the recycledItemId as the path carries it; the namespace parses it.
	ItemID string
}

// resolveRecycled asks the namespace for the file a bin item holds, with the caller's
// credentials: it judges the caller as for the bin's list (read access to the space).
func (o *Object) resolveRecycled(ctx context.Context, req RecycledRequest) (*namespacev1.StoredFile, error) {
	f, err := o.ns.ResolveRecycledFile(ctx, &namespacev1.ResolveRecycledFileRequest{
		LibraryId: req.LibraryID, SpaceId: req.SpaceID, RecycledItemId: req.ItemID,
	})
	if err != nil {
		return nil, peer(err)
	}
	o.describe(f.GetFile())
	return f, nil
}

// LocateRecycled answers a recycled file and a signed URL of its bytes for its info (5.7), and
// when the URL expires. A bin item keeps its blob referenced until it is purged, so the URL
// works while the item stays; once it is purged the blob may be collected.
func (o *Object) LocateRecycled(ctx context.Context, req RecycledRequest) (Located, time.Time, error) {
	f, err := o.resolveRecycled(ctx, req)
	if err != nil {
		return Located{}, time.Time{}, err
	}
	if IsVirtual(f) {
		return Located{}, time.Time{}, ErrVirtualFile
	}
	period := defaultURLPeriod * time.Second
	fr := FileRequest{LibraryID: req.LibraryID, SpaceID: req.SpaceID}
	return Located{File: f, URL: o.urlOf(fr, f, blobKey(f.GetBlobId()), f.GetFile().GetContentType(), period)}, o.clock.Now().Add(period), nil
}

// PreviewRecycled answers the URL of a recycled file's thumbnail, or of the file itself, as 3.11
// does for a live file (5.8).
func (o *Object) PreviewRecycled(ctx context.Context, req RecycledRequest, opts media.ThumbOptions) (Located, error) {
	f, err := o.resolveRecycled(ctx, req)
	if err != nil {
		return Located{}, err
	}
	return o.previewOf(ctx, FileRequest{LibraryID: req.LibraryID, SpaceID: req.SpaceID}, f, opts)
}

// Preview answers the URL of a file's thumbnail (3.11), made and cached on first use, or of the
// file itself when it has none (documents, undecodable images, videos without ffmpeg).
func (o *Object) Preview(ctx context.Context, req FileRequest, opts media.ThumbOptions) (Located, error) {
	f, err := o.resolve(ctx, req)
	if err != nil {
		return Located{}, err
	}
	return o.previewOf(ctx, req, f, opts)
}

// AlbumCover answers the URL of an album's cover (4.8): the thumbnail of its first image or video.
func (o *Object) AlbumCover(ctx context.Context, libraryID, spaceID, album string, opts media.ThumbOptions) (Located, error) {
	f, err := o.ns.ResolveAlbumCover(ctx, &namespacev1.ResolveAlbumCoverRequest{LibraryId: libraryID, SpaceId: spaceID, AlbumName: album})
	if err != nil {
		return Located{}, peer(err)
	}
	o.describe(f.GetFile())
	return o.previewOf(ctx, FileRequest{LibraryID: libraryID, SpaceID: spaceID}, f, opts)
}

func (o *Object) previewOf(ctx context.Context, req FileRequest, f *namespacev1.StoredFile, opts media.ThumbOptions) (Located, error) {
	return o.previewFor(ctx, req, f, opts, defaultURLPeriod*time.Second)
}

// previewFor is previewOf with the signed URL's lifetime: a share visitor's is shorter
// (shares.go).
func (o *Object) previewFor(ctx context.Context, req FileRequest, f *namespacev1.StoredFile, opts media.ThumbOptions, period time.Duration) (Located, error) {
	if IsVirtual(f) {
		return Located{}, ErrVirtualFile
	}
	original := Located{File: f, URL: o.urlOf(req, f, blobKey(f.GetBlobId()), f.GetFile().GetContentType(), period)}
	b, err := o.store.BlobRecord(ctx, f.GetBlobId())
	if err != nil {
		if errors.Is(err, ErrBlobNotFound) {
			return original, nil
		}
		return Located{}, err
	}
	video := b.Kind == BlobVideo
	if b.Kind == BlobOther || (video && !o.ffmpeg.Available()) || (!video && opts.IsOriginal()) {
		return original, nil
	}
	variant := opts.Key()
	if video {
		variant = "cover-" + variant
	}
	key := thumbKey(b.ID, variant)
	ct, err := o.thumbnails.Do(ctx, key, func(ctx context.Context) (string, error) {
		return o.derivative(ctx, b, key, opts, video)
	})
	if err != nil {
		// A picture that cannot be drawn is still a file: 3.11 redirects to the original.
		return original, nil
	}
	return Located{File: f, URL: o.urlOf(req, f, key, ct, period)}, nil
}

// thumbnailTimeout bounds one thumbnail's drawing (a video's cover runs ffmpeg). The drawing is
// shared by every preview of the picture asked meanwhile (a gallery opened by many visitors at
// once draws each picture once), so it runs detached from the request that started it.
const thumbnailTimeout = 2 * time.Minute

// derivative makes (or finds) the thumbnail stored under key and answers its content type.
func (o *Object) derivative(ctx context.Context, b Blob, key string, opts media.ThumbOptions, video bool) (string, error) {
	if _, err := o.blobs.Stat(ctx, key); err == nil {
		return thumbContentType(ctx, o.blobs, key)
	} else if !errors.Is(err, blob.ErrNotFound) {
		return "", err
	}
	src, err := o.blobs.Open(ctx, blobKey(b.ID), 0, -1)
	if err != nil {
		return "", err
	}
	defer src.Close()
	var picture io.Reader = src
	if video {
		frame, err := o.coverFrame(ctx, src)
		if err != nil {
			return "", err
		}
		if opts.IsOriginal() {
			if _, err := o.blobs.Put(ctx, key, bytes.NewReader(frame), int64(len(frame))); err != nil {
				return "", err
			}
			return "image/jpeg", nil
		}
		picture = bytes.NewReader(frame)
	}
	var out bytes.Buffer
	ct, err := media.Thumbnail(picture, opts, &out)
	if err != nil {
		return "", err
	}
	if _, err := o.blobs.Put(ctx, key, bytes.NewReader(out.Bytes()), int64(out.Len())); err != nil {
		return "", err
	}
	return ct, nil
}

// coverFrame is a video's first frame as JPEG. ffmpeg reads from a temporary file rather than a
// pipe, because an MP4 whose index sits at the end cannot be read front to back.
func (o *Object) coverFrame(ctx context.Context, src io.Reader) ([]byte, error) {
	tmp, err := os.CreateTemp("", "opensmh-video-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, src); err != nil {
		return nil, err
	}
	var frame bytes.Buffer
	if err := o.ffmpeg.CoverFrameFile(ctx, tmp.Name(), &frame); err != nil {
		return nil, err
	}
	return frame.Bytes(), nil
}

// thumbContentType tells a stored thumbnail's type from its first bytes (JPEG or PNG).
func thumbContentType(ctx context.Context, blobs blob.Store, key string) (string, error) {
	rc, err := blobs.Open(ctx, key, 0, media.SniffLen)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	head, err := io.ReadAll(rc)
	if err != nil {
		return "", err
	}
	return media.Sniff(head).ContentType, nil
}
