package app

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/services/object/internal/blob"
)

func TestUncompressResultStatusAndCap(t *testing.T) {
	tests := []struct {
		name           string
		ok, failed     int
		code           string
		want           int
		truncatedItems bool
	}{
		{name: "nothing failed", ok: 3, want: 200},
		{name: "empty selection", want: 200},
		{name: "some failed", ok: 1, failed: 2, want: 207},
		{name: "all failed", failed: 2, want: 400},
		{name: "task-level", ok: 5, code: codeNotAllowed, want: 500},
		{name: "capped", failed: failedItemsMax + 5, want: 400, truncatedItems: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &UncompressResult{SuccessCount: tt.ok, Code: tt.code}
			for i := range tt.failed {
				r.fail(fmt.Sprint(i), codeIllegalName, "x")
			}
			if got := r.status(); got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
			if r.FailedCount != tt.failed || len(r.FailedItems) != min(tt.failed, failedItemsMax) || r.FailedItemsTruncated != tt.truncatedItems {
				t.Fatalf("failed %d, items %d, truncated %v", r.FailedCount, len(r.FailedItems), r.FailedItemsTruncated)
			}
		})
	}
}

func TestSelects(t *testing.T) {
	sel := []string{"top/sub/", "readme.md"}
	for key, want := range map[string]bool{
		"top/sub/b.txt": true, "top/sub/": true, "readme.md": true, "top/a.txt": false, "top/subway.txt": false, "readme.md.bak": false,
	} {
		if got := selects(sel, key); got != want {
			t.Errorf("selects(%q) = %v, want %v", key, got, want)
		}
	}
	if !selects(nil, "anything") {
		t.Fatal("an empty selection takes everything")
	}
}

func TestPreviewTree(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	root := previewTree([]PreviewEntry{
		{Key: "z.txt", Modified: now, Size: 1},
		{Key: "a/b/c.txt", Modified: now, Size: 3}, // a/ and a/b/ are implied
		{Key: "a/", IsDir: true},
		{Key: "a/x.txt", Size: 2},
	})
	if !root.IsDir || root.Level != 0 || len(root.Children) != 2 {
		t.Fatalf("root %+v", root)
	}
	a, z := root.Children[0], root.Children[1]
	if a.Filename != "a" || !a.IsDir || a.Key != nil || z.Filename != "z.txt" || *z.Key != "z.txt" {
		t.Fatalf("directories first: %+v %+v", a, z)
	}
	if len(a.Children) != 2 || a.Children[0].Filename != "b" || a.Children[1].Filename != "x.txt" {
		t.Fatalf("a's children %+v", a.Children)
	}
	c := a.Children[0].Children[0]
	if c.Level != 3 || c.Prename != "b" || c.Prefix != "a/b/" || *c.Size != 3 {
		t.Fatalf("c %+v", c)
	}
}

// TestBlobReaderAt reads a blob at scattered offsets through the read-ahead window.
func TestBlobReaderAt(t *testing.T) {
	data := make([]byte, 3*readAhead+17)
	for i := range data {
		data[i] = byte(i * 7)
	}
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Put(t.Context(), "k", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	o := &Object{blobs: inlineReads{Store: local}}
	r := &blobReaderAt{ctx: t.Context(), o: o, key: "k", size: int64(len(data))}
	for _, c := range []struct{ off, n int }{{0, 10}, {readAhead - 5, 20}, {5, 2 * readAhead}, {len(data) - 3, 3}, {100, 1}} {
		p := make([]byte, c.n)
		n, err := r.ReadAt(p, int64(c.off))
		if err != nil || n != c.n || !bytes.Equal(p, data[c.off:c.off+c.n]) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", c.off, c.n, n, err)
		}
	}
	p := make([]byte, 10)
	if n, err := r.ReadAt(p, int64(len(data)-4)); n != 4 || err != io.EOF {
		t.Fatalf("short read at the end: %d %v", n, err)
	}
}

// stuckArchives is a namespace whose directories never get made: the task waits in
// EnsureDirectory until the runner stops it.
type stuckArchives struct {
	blobID   string
	entered  chan struct{}
	finished chan *namespacev1.FinishUncompressTaskRequest
}

func (s *stuckArchives) OpenArchive(context.Context, *namespacev1.OpenArchiveRequest) (*namespacev1.OpenArchiveResponse, error) {
	return &namespacev1.OpenArchiveResponse{File: &namespacev1.StoredFile{BlobId: s.blobID}, Enabled: true}, nil
}

func (s *stuckArchives) BeginUncompressTask(context.Context, *namespacev1.BeginUncompressTaskRequest) (*namespacev1.BeginUncompressTaskResponse, error) {
	return &namespacev1.BeginUncompressTaskResponse{TaskId: 7, TargetPath: []string{"out"}, TargetSpaceId: "-", HeartbeatMs: 5000}, nil
}

func (s *stuckArchives) BeatUncompressTasks(context.Context, string) error { return nil }

func (s *stuckArchives) FinishUncompressTask(_ context.Context, in *namespacev1.FinishUncompressTaskRequest) error {
	s.finished <- in
	return nil
}

func (s *stuckArchives) EnsureDirectory(ctx context.Context, _ *namespacev1.EnsureDirectoryRequest) error {
	close(s.entered)
	<-ctx.Done()
	return ctx.Err()
}

// TestCloseInterruptsUncompress: Close stops a running task, which records that it was
// interrupted (500, TaskInterrupted) with no item failed on the way, and waits for it.
func TestCloseInterruptsUncompress(t *testing.T) {
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("d/x.txt")
	_, _ = w.Write([]byte("x"))
	_ = zw.Close()
	id := newID()
	if _, err := local.Put(t.Context(), blobKey(id), bytes.NewReader(zb.Bytes()), int64(zb.Len())); err != nil {
		t.Fatal(err)
	}
	fake := &stuckArchives{blobID: id, entered: make(chan struct{}), finished: make(chan *namespacev1.FinishUncompressTaskRequest, 1)}
	o := New(Config{Blobs: local, Archives: fake})
	task, err := o.Uncompress(t.Context(), UncompressRequest{LibraryID: "l", SpaceID: "-", Path: "a.zip", TargetPath: "out"})
	if err != nil || task != 7 {
		t.Fatalf("uncompress: %d %v", task, err)
	}
	<-fake.entered
	o.Close()
	select {
	case fin := <-fake.finished:
		var res UncompressResult
		if err := json.Unmarshal([]byte(fin.GetResultJson()), &res); err != nil {
			t.Fatal(err)
		}
		if fin.GetStatus() != 500 || res.Code != codeInterrupted || res.FailedCount != 0 || res.OutputDir != "/out" {
			t.Fatalf("finished with %d %+v", fin.GetStatus(), &res)
		}
	default:
		t.Fatal("Close returned before the task recorded its end")
	}
}
