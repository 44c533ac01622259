package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/opensmh/opensmh/services/object/internal/blob"
)

// DefaultInlineBlobMax is the largest blob kept in its record by default (docs/smallfiles.md):
// photos' thumbnails, documents and chat attachments are mostly below it, and SQLite reads and
// writes values this size faster inside the database than as files of their own.
const DefaultInlineBlobMax = 64 << 10

// inlineReads is the blob store as the use cases read it: the bytes of a blob key whose record
// holds them inline come from the record, everything else from the store. Writing code decides
// where new bytes go (putBlob); reading code (downloads, previews, archives, zips) stays
// unaware of it.
type inlineReads struct {
	blob.Store
	records Store
}

// inlineBlob answers the record of the blob under key when its bytes are inline.
func (s inlineReads) inlineBlob(ctx context.Context, key string) (Blob, bool, error) {
	id, ok := blobIDOf(key)
	if !ok || s.records == nil { // no records: a use case built without a store (tests)
		return Blob{}, false, nil
	}
	b, err := s.records.GetBlob(ctx, id)
	if errors.Is(err, ErrBlobNotFound) {
		return Blob{}, false, nil // the store says whether the bytes exist
	}
	if err != nil || !b.Inline() {
		return Blob{}, false, err
	}
	return b, true, nil
}

// Open implements blob.Store.
func (s inlineReads) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	b, ok, err := s.inlineBlob(ctx, key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return s.Store.Open(ctx, key, offset, length)
	}
	return openBytes(b.Data, offset, length)
}

// Stat implements blob.Store.
func (s inlineReads) Stat(ctx context.Context, key string) (blob.Info, error) {
	b, ok, err := s.inlineBlob(ctx, key)
	if err != nil {
		return blob.Info{}, err
	}
	if !ok {
		return s.Store.Stat(ctx, key)
	}
	return blob.Info{Key: key, Size: int64(len(b.Data)), ModTime: b.CreatedAt}, nil
}

// openBytes reads data as blob.Store.Open reads a stored blob, with its range rules.
func openBytes(data []byte, offset, length int64) (io.ReadCloser, error) {
	size := int64(len(data))
	if offset < 0 || length < -1 || offset > size {
		return nil, blob.ErrInvalidRange
	}
	end := size
	if length >= 0 {
		end = min(size, offset+length)
	}
	return io.NopCloser(bytes.NewReader(data[offset:end])), nil
}

// blobIDOf answers the blob id of a key blobKey made.
func blobIDOf(key string) (string, bool) {
	id := key[strings.LastIndexByte(key, '/')+1:]
	return id, len(id) >= 2 && key == blobKey(id)
}
