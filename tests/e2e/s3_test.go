package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/opensmh/opensmh/services/smh/server"
)

// TestS3BlobStore runs the upload and download flows of file_test.go, and the blob lifecycle of
// fileops_test.go, with the file bytes in an S3-compatible store (an in-process gofakes3 over
// TLS) instead of the data dir: the issue requires every flow on both blob stores. Each flow
// gets its own system, so that garbage collection counts only its own blobs.
func TestS3BlobStore(t *testing.T) {
	flows := []struct {
		name string
		run  func(t *testing.T, s *system)
		// keeps: the flow ends with files, whose bytes must be objects in the bucket. (The
		// lifecycle flows check the bucket themselves, and end with it empty.)
		keeps bool
	}{
		{"simple and ranges", testSimpleUploadRoundTrip, true},
		{"multipart", testMultipartUpload, true},
		{"form", testFormUpload, true},
		{"instant", testInstantUpload, true},
		{"large multipart", testLargeMultipart, true},
		{"blob lifecycle", testBlobLifecycle, false},
		{"expired and aborted uploads", testUploadLeftovers, false},
	}
	for _, fl := range flows {
		t.Run(fl.name, func(t *testing.T) {
			// Every upload's bytes go to the bucket: the small files these flows send would
			// otherwise stay in the object database (docs/smallfiles.md; TestS3SmallFilesInline).
			s := startSystemWith(t, systemOptions{S3: startFakeS3(t), Tune: func(o *server.Options) { o.InlineBlobMax = -1 }})
			if s.server().BlobDir() != "" {
				t.Fatalf("blobs in %s, not in S3", s.server().BlobDir())
			}
			fl.run(t, s)
			if fl.keeps && len(s.storedObjects("blobs/")) == 0 {
				t.Fatal("no blob reached the S3 bucket")
			}
		})
	}
}

// TestS3SmallFilesInline: with the bytes on S3, a small file's bytes stay in its blob's record
// and never reach the bucket (docs/smallfiles.md), a larger one's do, and both read back whole
// and in ranges.
func TestS3SmallFilesInline(t *testing.T) {
	s := startSystemWith(t, systemOptions{S3: startFakeS3(t)})
	f := fileLibrary(t, s, nil)
	small := randomBytes(t, 4<<10)
	f.upload("small.bin", small, nil)
	if got := s.storedObjects("blobs/"); len(got) != 0 {
		t.Fatalf("a 4 KiB file reached the bucket: %v", got)
	}
	if got := f.download("small.bin"); !bytes.Equal(got, small) {
		t.Fatalf("small file: downloaded %d bytes differ from the %d uploaded", len(got), len(small))
	}
	cos := f.do("GET", "small.bin", url.Values{"info": {""}}, nil).JSON(t)["cosUrl"].(string)
	got := s.raw("GET", cos, nil, http.Header{"Range": {"bytes=100-199"}})
	if got.Status != http.StatusPartialContent || !bytes.Equal(got.Body, small[100:200]) {
		t.Fatalf("range of the small file: %d, %d bytes", got.Status, len(got.Body))
	}
	large := randomBytes(t, 64<<10+1)
	f.upload("large.bin", large, nil)
	if got := s.storedObjects("blobs/"); len(got) != 1 {
		t.Fatalf("a file one byte over the inline limit: %d objects in the bucket, want 1", len(got))
	}
	if got := f.download("large.bin"); !bytes.Equal(got, large) {
		t.Fatalf("large file: downloaded %d bytes differ from the %d uploaded", len(got), len(large))
	}
}

// testLargeMultipart uploads a file larger than the S3 store's 16 MiB part size, so that the
// composed blob travels to S3 as a multipart upload of its own (minio-go), and reads it back
// whole and across the store's part boundary.
func testLargeMultipart(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	const partSize = 5 << 20
	data := randomBytes(t, 16<<20+3<<20+77)
	r := f.do("POST", "large.bin", url.Values{"multipart": {""}}, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("begin multipart: %d %s", r.Status, r.Body)
	}
	var tk ticket
	if err := json.Unmarshal(r.Body, &tk); err != nil || tk.UploadID == "" {
		t.Fatalf("ticket %s", r.Body)
	}
	for n, off := 1, 0; off < len(data); n, off = n+1, off+partSize {
		part := data[off:min(len(data), off+partSize)]
		if put := f.send(tk, fmt.Sprintf("?partNumber=%d&uploadId=%s", n, tk.UploadID), part); put.Status != http.StatusOK {
			t.Fatalf("part %d: %d %s", n, put.Status, put.Body)
		}
	}
	c := f.confirm(tk.ConfirmKey, nil, map[string]any{"crc64": crcOf(data)})
	if c.Status != http.StatusOK || c.JSON(t)["size"] != strconv.Itoa(len(data)) {
		t.Fatalf("confirm: %d %s", c.Status, c.Body)
	}
	if got := f.download("large.bin"); !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes differ from the %d uploaded", len(got), len(data))
	}
	cos := f.do("GET", "large.bin", url.Values{"info": {""}}, nil).JSON(t)["cosUrl"].(string)
	const boundary = 16 << 20
	got := s.raw("GET", cos, nil, http.Header{"Range": {fmt.Sprintf("bytes=%d-%d", boundary-10, boundary+9)}})
	if got.Status != http.StatusPartialContent || !bytes.Equal(got.Body, data[boundary-10:boundary+10]) {
		t.Fatalf("range across 16 MiB: %d, %d bytes", got.Status, len(got.Body))
	}
	// The parts are gone once they are composed.
	if parts := s.storedObjects("parts/" + tk.UploadID + "/"); len(parts) != 0 {
		t.Fatalf("%d parts left after confirm", len(parts))
	}
	if keys := s.keysHolding("blobs/", data); len(keys) != 1 {
		t.Fatalf("blobs holding the file: %v", keys)
	}
}
