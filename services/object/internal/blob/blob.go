// Package blob stores immutable blobs (file bytes, multipart parts, derived thumbnails) under
// '/'-separated keys, in a local directory or in an S3-compatible bucket. Both stores satisfy one
// contract, checked by package blobtest.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

var (
	// ErrNotFound means no blob is stored under the key.
	ErrNotFound = errors.New("blob not found")
	// ErrInvalidKey means a key breaks the rules documented on Store.
	ErrInvalidKey = errors.New("invalid blob key")
	// ErrInvalidRange means Open was asked for a negative offset or length below -1, or for an offset
	// past the end of the blob.
	ErrInvalidRange = errors.New("invalid blob range")
	// ErrSizeMismatch means Put's reader yielded more or fewer bytes than the size it was given.
	ErrSizeMismatch = errors.New("blob size mismatch")
)

// MaxKeyLen is the longest key accepted, in bytes. It is half of S3's limit on object names, which
// leaves the other half for an S3 store's prefix, so every store accepts the same keys.
const MaxKeyLen = 512

// maxSegmentLen keeps every key segment a valid file name on common local file systems.
const maxSegmentLen = 255

// Info describes a stored blob.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store keeps immutable blobs.
//
// A key is one or more segments joined by '/'. A segment is 1 to 255 bytes of [A-Za-z0-9._-] and
// does not begin with '.' (which excludes "." and ".." and keeps a local store's hidden and
// temporary files out of the key space). A key is at most MaxKeyLen bytes. Methods given a key
// that breaks these rules fail with ErrInvalidKey. Callers build keys from ids they control; the
// check is defence in depth, chiefly for the local directory store.
type Store interface {
	// Put stores r under key atomically: readers see the whole blob or nothing, also after a crash
	// mid-way. size is the exact length when known, -1 when not. If r yields a different number of
	// bytes than a known size, Put fails with ErrSizeMismatch and stores nothing. Put answers the
	// number of bytes stored. An existing key is replaced.
	Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error)
	// Open reads length bytes from offset; length -1 reads to the end. A range reaching past the end
	// answers the bytes that exist; offset == size answers no bytes. A negative offset, a length
	// below -1 or an offset past the end fails with ErrInvalidRange, an absent key with ErrNotFound.
	// Open streams: it never loads a whole blob into memory. The caller closes the reader. A store
	// that reads over the network may fail reads with ctx's error once ctx is done, so ctx must
	// outlive the reading.
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Stat describes the blob under key, or fails with ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the blob under key. An absent key is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every blob whose key starts with prefix, in byte-wise key order. An error
	// from fn stops the listing and is returned as is.
	List(ctx context.Context, prefix string, fn func(Info) error) error
}

// ValidateKey reports whether key follows the rules documented on Store, wrapping ErrInvalidKey if
// not.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("%w: %q has an empty segment", ErrInvalidKey, key)
		case seg[0] == '.':
			return fmt.Errorf("%w: %q has a segment beginning with '.'", ErrInvalidKey, key)
		case len(seg) > maxSegmentLen:
			return fmt.Errorf("%w: %q has a segment longer than %d bytes", ErrInvalidKey, key, maxSegmentLen)
		}
		for i := 0; i < len(seg); i++ {
			if !isKeyByte(seg[i]) {
				return fmt.Errorf("%w: %q has byte %q at segment offset %d", ErrInvalidKey, key, seg[i], i)
			}
		}
	}
	return nil
}

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// resolveRange checks an Open request against a blob of size bytes and answers the number of bytes
// to read from offset.
func resolveRange(size, offset, length int64) (int64, error) {
	switch {
	case offset < 0:
		return 0, fmt.Errorf("%w: offset %d", ErrInvalidRange, offset)
	case length < -1:
		return 0, fmt.Errorf("%w: length %d", ErrInvalidRange, length)
	case offset > size:
		return 0, fmt.Errorf("%w: offset %d past the end of %d bytes", ErrInvalidRange, offset, size)
	}
	avail := size - offset
	if length == -1 || length > avail {
		return avail, nil
	}
	return length, nil
}

// sizedReader passes through exactly want bytes of r and fails with ErrSizeMismatch if r holds fewer
// or more. It checks for surplus bytes in the same Read that delivers the last expected ones, and
// then withholds them: a consumer that stops reading once it has want bytes (an HTTP body of known
// length, say) must still see the error rather than complete the upload.
type sizedReader struct {
	r    io.Reader
	left int64

	// mu guards err: an HTTP transport may still be reading the body on its own goroutine when the
	// request has already failed and the uploader asks mismatch() why.
	mu  sync.Mutex
	err error // sticky, so a consumer that reads again sees the failure again
}

func newSizedReader(r io.Reader, want int64) *sizedReader {
	return &sizedReader{r: r, left: want}
}

func (s *sizedReader) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	if s.left == 0 {
		s.err = s.checkDrained()
		return 0, s.err
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	switch {
	case s.left == 0:
		if err == nil || err == io.EOF {
			err = s.checkDrained()
		}
		if err != io.EOF {
			s.err = err
			return 0, err
		}
		s.err = io.EOF
		return n, nil
	case err == io.EOF:
		s.err = fmt.Errorf("%w: %d bytes short", ErrSizeMismatch, s.left)
		return n, s.err
	case err != nil:
		s.err = err
	}
	return n, err
}

// mismatch answers the ErrSizeMismatch the reader failed with, if it did.
func (s *sizedReader) mismatch() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(s.err, ErrSizeMismatch) {
		return s.err
	}
	return nil
}

// checkDrained answers io.EOF if r has nothing left, ErrSizeMismatch if it has more.
func (s *sizedReader) checkDrained() error {
	var b [1]byte
	n, err := io.ReadFull(s.r, b[:])
	switch {
	case n > 0:
		return fmt.Errorf("%w: more bytes than declared", ErrSizeMismatch)
	case err == io.EOF:
		return io.EOF
	default:
		return err
	}
}
