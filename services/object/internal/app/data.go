package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/opensmh/opensmh/services/object/internal/blob"
	"github.com/opensmh/opensmh/services/object/internal/hashing"
	"github.com/opensmh/opensmh/services/object/internal/media"
)

// The data endpoint's side of uploads (decision 11): bytes stream from the request body through
// the digest (size, crc64, the instant-upload hashes that also make the ETag) into the blob store, never held whole in
// memory.

// maxPartNumber is COS's part number bound.
const maxPartNumber = 10000

// uploadFor loads an upload and checks the signature presented for it.
func (o *Object) uploadFor(ctx context.Context, id, authorization string) (Upload, error) {
	u, err := o.store.GetUpload(ctx, id)
	if err != nil {
		return Upload{}, err
	}
	if err := o.signer.VerifyUpload(u, authorization, o.clock.Now()); err != nil {
		return Upload{}, err
	}
	if u.State != StateOpen && !(u.State == StateReceived && u.Kind != KindMultipart) {
		return Upload{}, ErrUploadNotOpen
	}
	return u, nil
}

// ReceiveSimple stores the body of a simple upload's PUT and answers its ETag. size is the
// Content-Length, -1 when unknown (chunked).
func (o *Object) ReceiveSimple(ctx context.Context, uploadID, authorization, contentType string, body io.Reader, size int64) (string, error) {
	u, err := o.uploadFor(ctx, uploadID, authorization)
	if err != nil {
		return "", err
	}
	if u.Kind != KindSimple {
		return "", &InputError{Err: ErrWrongUploadKind, Reason: "this upload takes parts (partNumber and uploadId)"}
	}
	return o.receiveWhole(ctx, u, contentType, body, size)
}

// FormUpload is a form POST's fields (3.3), read before the file field.
type FormUpload struct {
	Key, Policy string
	ContentType string
}

// ReceiveForm stores the file of a form upload. The caller reads fields until the file field and
// passes the file's part as body.
func (o *Object) ReceiveForm(ctx context.Context, f FormUpload, body io.Reader) (string, error) {
	id, ok := strings.CutPrefix(f.Key, FormKeyPrefix)
	if !ok || id == "" {
		return "", ErrSignatureInvalid
	}
	u, err := o.uploadFor(ctx, id, f.Policy)
	if err != nil {
		return "", err
	}
	if u.Kind != KindForm {
		return "", &InputError{Err: ErrWrongUploadKind, Reason: "this upload does not take a form"}
	}
	return o.receiveWhole(ctx, u, f.ContentType, body, -1)
}

func (o *Object) receiveWhole(ctx context.Context, u Upload, contentType string, body io.Reader, size int64) (string, error) {
	if size > o.maxSimple {
		return "", ErrPartTooLarge
	}
	b, err := o.putBlob(ctx, u, contentType, io.LimitReader(body, o.maxSimple+1), size, o.maxSimple)
	if err != nil {
		return "", err
	}
	if err := o.store.AttachBlob(ctx, u.ID, b); err != nil {
		// The bytes are an orphan now; the orphan sweep removes them.
		return "", err
	}
	return b.QuotedETag(), nil
}

// putBlob stores r as a new blob and answers its record (not yet saved). A body of at most
// o.inlineMax bytes becomes an inline blob: its bytes ride in the record, which the caller saves
// in one transaction with the upload it belongs to, so the blob store is not touched and one
// commit makes it durable (docs/smallfiles.md). Larger bodies stream into the blob store.
func (o *Object) putBlob(ctx context.Context, u Upload, contentType string, r io.Reader, size, limit int64) (Blob, error) {
	if o.inlineMax > 0 && size <= o.inlineMax {
		data, rest, err := readSmall(r, size, o.inlineMax)
		if err != nil {
			return Blob{}, err
		}
		if rest == nil {
			if int64(len(data)) > limit {
				return Blob{}, ErrPartTooLarge
			}
			d := hashing.New()
			_, _ = d.Write(data)
			b := o.blobRecord(newID(), u, contentType, d.Sum(), data[:min(len(data), media.SniffLen)])
			b.Data = data
			return b, nil
		}
		// A body of unknown length that turned out larger: what was read goes first.
		r = rest
	}
	id := newID()
	// The digest hashes beside the store's writing (measured: hashing on the receiving goroutine
	// held a 1 GiB upload to under half the speed of a plain HTTPS server).
	d := hashing.NewAsync()
	defer d.Stop()
	head := &headBuffer{}
	n, err := o.blobs.Put(ctx, blobKey(id), io.TeeReader(r, io.MultiWriter(d, head)), size)
	if err != nil {
		if errors.Is(err, blob.ErrSizeMismatch) {
			return Blob{}, ErrSizeMismatch
		}
		return Blob{}, err
	}
	if n > limit {
		_ = o.blobs.Delete(context.WithoutCancel(ctx), blobKey(id))
		return Blob{}, ErrPartTooLarge
	}
	return o.blobRecord(id, u, contentType, d.Sum(), head.b), nil
}

// readSmall reads a body expected to be small: size bytes exactly when size >= 0 (more or fewer
// is ErrSizeMismatch, as the blob store answers), or, when the size is unknown (-1), up to max.
// When an unknown-size body holds more than max bytes, it answers no data and rest, a reader of
// the whole body (what was read, then the remainder).
func readSmall(r io.Reader, size, max int64) (data []byte, rest io.Reader, err error) {
	want := size
	if size < 0 {
		want = max
	}
	// One byte more than expected tells a longer body from an exact one.
	buf := make([]byte, want+1)
	n, err := io.ReadFull(r, buf)
	switch {
	case err == nil && size < 0:
		return nil, io.MultiReader(bytes.NewReader(buf), r), nil
	case err == nil:
		return nil, nil, ErrSizeMismatch
	case !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		return nil, nil, err
	case size >= 0 && int64(n) != size:
		return nil, nil, ErrSizeMismatch
	}
	return buf[:n:n], nil, nil
}

// blobRecord is the record of new content with these digests under id, head its first bytes
// (for sniffing); the caller sets its inline bytes, if any.
func (o *Object) blobRecord(id string, u Upload, contentType string, sums hashing.Sums, head []byte) Blob {
	sniffed := media.Sniff(head)
	now := o.clock.Now()
	return Blob{
		ID: id, LibraryID: u.LibraryID, SpaceID: u.SpaceID, Size: sums.Size, CRC64: sums.CRC64String(),
		ETag: sums.ETagValue(), BeginningHash: sums.BeginningHash, FullHash: sums.FullHash,
		ContentType: contentTypeOf(u.Path[len(u.Path)-1], contentType, sniffed), Kind: kindOf(sniffed),
		CreatedAt: now, UsedAt: now,
	}
}

// contentTypeOf picks a file's content type: the sniffed one for images and videos (media
// libraries judge by content), else the client's, else the name's, else the sniffed guess.
func contentTypeOf(name, declared string, s media.Sniffed) string {
	if s.Kind != media.KindOther {
		return s.ContentType
	}
	if declared != "" && declared != "application/octet-stream" {
		if mt, params, err := mime.ParseMediaType(declared); err == nil {
			return mime.FormatMediaType(mt, params)
		}
	}
	if byName := mime.TypeByExtension(path.Ext(name)); byName != "" {
		return byName
	}
	return s.ContentType
}

func kindOf(s media.Sniffed) BlobKind {
	switch s.Kind {
	case media.KindImage:
		return BlobImage
	case media.KindVideo:
		return BlobVideo
	}
	return BlobOther
}

// headBuffer keeps the first media.SniffLen bytes written through it.
type headBuffer struct{ b []byte }

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := media.SniffLen - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// ReceivePart stores one part of a multipart upload and answers its ETag (decision 11). The
// path names the upload and so must the uploadId query.
func (o *Object) ReceivePart(ctx context.Context, uploadID, queryUploadID string, partNumber int, authorization string, body io.Reader, size int64) (string, error) {
	u, err := o.uploadFor(ctx, uploadID, authorization)
	if err != nil {
		return "", err
	}
	if u.Kind != KindMultipart || queryUploadID != uploadID {
		return "", &InputError{Err: ErrWrongUploadKind, Reason: "uploadId does not name this multipart upload"}
	}
	if partNumber < 1 || partNumber > maxPartNumber {
		return "", &InputError{Err: ErrBadPartNumber, Reason: "partNumber must be 1-10000"}
	}
	if size > o.maxPart {
		return "", ErrPartTooLarge
	}
	d := hashing.NewAsync()
	defer d.Stop()
	n, err := o.blobs.Put(ctx, partKey(u.ID, partNumber), io.TeeReader(io.LimitReader(body, o.maxPart+1), d), size)
	if err != nil {
		if errors.Is(err, blob.ErrSizeMismatch) {
			return "", ErrSizeMismatch
		}
		return "", err
	}
	if n > o.maxPart {
		_ = o.blobs.Delete(context.WithoutCancel(ctx), partKey(u.ID, partNumber))
		return "", ErrPartTooLarge
	}
	etag := d.Sum().ETag()
	if err := o.store.PutPart(ctx, Part{UploadID: u.ID, Number: partNumber, Size: n, ETag: etag, ReceivedAt: o.clock.Now()}); err != nil {
		return "", err
	}
	return etag, nil
}

// compose streams the parts, in order, into one new blob. It reads every byte once more, which
// also computes the whole file's hashes; S3's server-side compose would skip that read but
// needs parts of at least 5 MiB, and SMH clients send 1 MiB parts.
func (o *Object) compose(ctx context.Context, u Upload, parts []Part) (Blob, error) {
	var total int64
	for _, p := range parts {
		total += p.Size
	}
	pr, pw := io.Pipe()
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for _, p := range parts {
			rc, err := o.blobs.Open(ctx, partKey(u.ID, p.Number), 0, -1)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			_, err = io.Copy(pw, rc)
			rc.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	b, err := o.putBlob(ctx, u, "", pr, total, total)
	// Unblock the feeding goroutine if the put stopped early, and wait until it has closed its
	// part reader.
	pr.CloseWithError(io.ErrClosedPipe)
	<-fed
	return b, err
}

// Served is what the data endpoint streams for a signed download URL.
type Served struct {
	Download Download
	Size     int64
	ModTime  time.Time
	ETag     string
	// Open reads length bytes from offset.
	Open func(offset, length int64) (io.ReadCloser, error)
}

// OpenDownload checks a download URL (the key after /data/o/ and the query) and answers what
// to serve. ErrBlobNotFound when the bytes are gone (deleted since the URL was signed). A file's
// URL names its blob, whose record gives the ETag and, for a small blob, the bytes themselves:
// one statement serves it.
func (o *Object) OpenDownload(ctx context.Context, key string, q url.Values) (Served, error) {
	d, err := o.signer.VerifyDownload(key, q, o.clock.Now())
	if err != nil {
		return Served{}, err
	}
	s := Served{Download: d}
	if d.BlobID != "" && key == blobKey(d.BlobID) {
		b, err := o.store.GetBlob(ctx, d.BlobID)
		if err != nil {
			return Served{}, err // ErrBlobNotFound: collected since the URL was signed
		}
		s.ETag, s.ModTime, s.Size = b.QuotedETag(), b.CreatedAt, b.Size
		if b.Inline() {
			s.Open = func(offset, length int64) (io.ReadCloser, error) { return openBytes(b.Data, offset, length) }
			return s, nil
		}
	}
	info, err := o.blobs.Store.Stat(ctx, key)
	if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrInvalidKey) {
		return Served{}, ErrBlobNotFound
	}
	if err != nil {
		return Served{}, err
	}
	s.Size = info.Size
	if s.ModTime.IsZero() {
		s.ModTime = info.ModTime
	}
	s.Open = func(offset, length int64) (io.ReadCloser, error) { return o.blobs.Store.Open(ctx, key, offset, length) }
	return s, nil
}
