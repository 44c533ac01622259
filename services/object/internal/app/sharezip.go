package app

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/dataroute"
	"github.com/opensmh/opensmh/pkg/filetype"
)

// A share visitor's folder download (issue 13 item 4, docs/shares.md "Visitor bytes"): the
// API route judges the visitor and the whole tree, then answers 302 to a signed data-endpoint
// URL; the data endpoint streams the zip, file by file from the blob store. Nothing holds a
// whole file or the whole archive: archive/zip writes each entry with a data descriptor, so
// sizes need not be known before the bytes.
//
// The data endpoint has no visitor token. The signed URL names the share code and the chain
// and expires after zipURLPeriod; after checking its own signature the object service lists
// the tree again with the operator key alone (ListSharedTreeRequest.signed_by_object), and the
// namespace still checks the share's state and canDownload. While streaming it re-checks the
// share every ZipLimits.RecheckBytes; a share disabled, expired or deleted mid-way cuts the
// stream before the next file, so the archive lacks its central directory and no unzip tool
// takes it for complete.

// ZipLimits bound one folder download; zero fields take the defaults of docs/shares.md.
type ZipLimits struct {
	// MaxEntries caps files and directories in one zip (default 10,000).
	MaxEntries int
	// MaxBytes caps the sum of the files' sizes (default 10 GiB).
	MaxBytes int64
	// RecheckBytes is how many bytes stream between two checks of the share (default 64 MiB;
	// the first file never needs one, the listing just checked).
	RecheckBytes int64
}

// Defaults of ZipLimits.
const (
	DefaultZipMaxEntries   = 10000
	DefaultZipMaxBytes     = 10 << 30
	DefaultZipRecheckBytes = 64 << 20
)

// Defaults fills the zero fields.
func (l ZipLimits) Defaults() ZipLimits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultZipMaxEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultZipMaxBytes
	}
	if l.RecheckBytes <= 0 {
		l.RecheckBytes = DefaultZipRecheckBytes
	}
	return l
}

// Folder download errors.
var (
	ErrZipTooManyEntries = errors.New("the folder holds more entries than one zip may")
	ErrZipTooLarge       = errors.New("the folder is larger than one zip may be")
)

// zipURLPeriod is how long a signed zip URL may be followed. It only has to outlive the 302:
// the stream, once started, is bounded by the share's re-checks, not by this.
const zipURLPeriod = 5 * time.Minute

// treePage is how many entries one ListSharedTree call answers.
const treePage = 1000

// SharedTree is the listed content of a shared directory: every entry, in the namespace's
// depth-first order.
type SharedTree struct {
	LibraryID, SpaceID string
	// Name is the directory's name, or the share's at the root.
	Name    string
	Entries []*namespacev1.SharedTreeEntry
	// Bytes is the sum of the files' sizes.
	Bytes int64
}

// listSharedTree pages through the directory at the end of chain, bounding what it keeps by
// the zip limits. signed is the data endpoint's form: no visitor token, the operator key only.
func (o *Object) listSharedTree(ctx context.Context, code, chain string, signed bool) (SharedTree, error) {
	var (
		tree   SharedTree
		marker string
	)
	for {
		resp, err := o.shares.ListSharedTree(ctx, &namespacev1.ListSharedTreeRequest{
			ShareCode: code, Inodes: chain, Marker: marker, Limit: treePage, SignedByObject: signed,
		})
		if err != nil {
			return SharedTree{}, peer(err)
		}
		if marker == "" {
			tree.LibraryID, tree.SpaceID, tree.Name = resp.GetLibraryId(), resp.GetSpaceId(), resp.GetName()
		}
		for _, e := range resp.GetEntries() {
			if !e.GetIsDir() && IsVirtual(e.GetFile()) {
				continue // metadata only: nothing to put in an archive (decision 25)
			}
			if len(tree.Entries) == o.zipLimits.MaxEntries {
				return SharedTree{}, ErrZipTooManyEntries
			}
			tree.Entries = append(tree.Entries, e)
			if !e.GetIsDir() {
				tree.Bytes += e.GetFile().GetFile().GetSize()
				if tree.Bytes > o.zipLimits.MaxBytes {
					return SharedTree{}, ErrZipTooLarge
				}
			}
		}
		marker = resp.GetNextMarker()
		if marker == "" {
			return tree, nil
		}
	}
}

// ZipShared judges a visitor's folder download (canDownload, the chain, the zip limits) and
// answers the signed URL that streams it.
func (o *Object) ZipShared(ctx context.Context, req SharedFileRequest) (string, error) {
	chain, err := o.admitVisitor(req)
	if err != nil {
		return "", err
	}
	if _, err := o.listSharedTree(ctx, req.ShareCode, chain, false); err != nil {
		return "", err
	}
	return "https://" + o.domain + o.signer.ZipPath(req.ShareCode, chain, o.clock.Now().Add(zipURLPeriod)), nil
}

// SharedZip is a folder download ready to stream.
type SharedZip struct {
	o           *Object
	code, chain string
	tree        SharedTree
}

// OpenSharedZip checks a signed zip URL (the share code after /data/z/ and the query) and lists
// the tree again, as the operator, for the stream.
func (o *Object) OpenSharedZip(ctx context.Context, code string, q url.Values) (*SharedZip, error) {
	chain, err := o.signer.VerifyZip(code, q, o.clock.Now())
	if err != nil {
		return nil, err
	}
	if o.shares == nil {
		return nil, ErrSharesUnavailable
	}
	tree, err := o.listSharedTree(ctx, code, chain, true)
	if err != nil {
		return nil, err
	}
	return &SharedZip{o: o, code: code, chain: chain, tree: tree}, nil
}

// FileName is the name the browser saves the archive as.
func (z *SharedZip) FileName() string {
	name := zipSegment(z.tree.Name)
	if name == "_" {
		name = "share"
	}
	return name + ".zip"
}

// WriteTo streams the archive to w. An error after the first byte leaves w holding a truncated
// archive; the caller must cut the response rather than end it cleanly.
func (z *SharedZip) WriteTo(ctx context.Context, w io.Writer) error {
	zw := zip.NewWriter(w)
	names := make(map[string]bool, len(z.tree.Entries))
	var sinceCheck int64
	for _, e := range z.tree.Entries {
		name := uniqueName(names, zipPath(e.GetPath()), e.GetIsDir())
		f := e.GetFile().GetFile()
		hdr := &zip.FileHeader{Name: name, Modified: modified(f.GetModificationTime())}
		if e.GetIsDir() {
			hdr.Name += "/"
			if _, err := zw.CreateHeader(hdr); err != nil {
				return err
			}
			continue
		}
		if sinceCheck >= z.o.zipLimits.RecheckBytes {
			if err := z.recheck(ctx); err != nil {
				return err
			}
			sinceCheck = 0
		}
		hdr.Method = compressionOf(f.GetContentType(), name)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		n, err := z.copyBlob(ctx, fw, e.GetFile().GetBlobId())
		if err != nil {
			return err
		}
		sinceCheck += n
	}
	return zw.Close()
}

// recheck asks the namespace whether the share still lets the tree be downloaded.
func (z *SharedZip) recheck(ctx context.Context) error {
	_, err := z.o.shares.ListSharedTree(ctx, &namespacev1.ListSharedTreeRequest{
		ShareCode: z.code, Inodes: z.chain, Limit: 1, SignedByObject: true,
	})
	if err != nil {
		return fmt.Errorf("share changed while its zip streamed: %w", peer(err))
	}
	return nil
}

func (z *SharedZip) copyBlob(ctx context.Context, w io.Writer, blobID string) (int64, error) {
	if blobID == "" {
		return 0, nil // an empty file has no blob to read
	}
	rc, err := z.o.blobs.Open(ctx, blobKey(blobID), 0, -1)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.Copy(w, rc)
}

// modified reads an SMH time (12.4); a missing one leaves the zip's own default.
func modified(iso string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, iso)
	if err != nil {
		return time.Time{}
	}
	return t
}

// compressionOf stores what is compressed already (pictures, video, audio, archives) and
// deflates the rest: deflating a JPEG costs CPU for nothing.
func compressionOf(contentType, name string) uint16 {
	for _, p := range []string{"image/", "video/", "audio/"} {
		if strings.HasPrefix(contentType, p) {
			return zip.Store
		}
	}
	ext := filetype.ExtOf(name)
	if filetype.KindByExt(ext) != filetype.Other {
		return zip.Store
	}
	switch ext {
	case "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "jar", "apk", "docx", "xlsx", "pptx", "mp3", "m4a", "aac", "ogg", "opus", "flac":
		return zip.Store
	}
	return zip.Deflate
}

// zipPath joins sanitized segments: never absolute, never "..", never a backslash or a drive
// letter, so no unzip tool can be led outside the folder it extracts into.
func zipPath(segments []string) string {
	clean := make([]string, len(segments))
	for i, s := range segments {
		clean[i] = zipSegment(s)
	}
	if len(clean) == 0 {
		return "_"
	}
	return strings.Join(clean, "/")
}

// zipSegment makes one path segment safe: separators, drive colons and control characters
// become "_", and "", "." and ".." become "_".
func zipSegment(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\' || r == ':' || unicode.IsControl(r) || r == unicode.ReplacementChar:
			return '_'
		}
		return r
	}, s)
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return s
}

// uniqueName keeps two entries that sanitize alike apart ("a:b" and "a_b"): the second gets
// " (2)" before its extension.
func uniqueName(seen map[string]bool, name string, dir bool) string {
	candidate := name
	for n := 2; seen[candidate]; n++ {
		if dir {
			candidate = name + " (" + strconv.Itoa(n) + ")"
			continue
		}
		ext := path.Ext(name)
		candidate = strings.TrimSuffix(name, ext) + " (" + strconv.Itoa(n) + ")" + ext
	}
	seen[candidate] = true
	return candidate
}

// Zip URL query keys.
const (
	qChain = "chain"
)

// ZipPath answers the path and signed query of a folder download of the share named by code,
// the directory at the end of chain, until exp.
func (s *Signer) ZipPath(code, chain string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	q := url.Values{}
	q.Set(qChain, chain)
	q.Set(qExpires, e)
	q.Set(qSignature, s.sign("share-zip", code, chain, e))
	return dataroute.ZipPrefix + url.PathEscape(code) + "?" + q.Encode()
}

// VerifyZip checks a zip URL's share code and query and answers the chain it grants.
func (s *Signer) VerifyZip(code string, q url.Values, now time.Time) (string, error) {
	chain := q.Get(qChain)
	if err := s.check(q.Get(qSignature), q.Get(qExpires), now, "share-zip", code, chain, q.Get(qExpires)); err != nil {
		return "", err
	}
	return chain, nil
}
