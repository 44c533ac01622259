package app

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/cache"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/services/object/internal/blob"
	"github.com/opensmh/opensmh/services/object/internal/media"
)

// oneImage is a Store holding the record of one image blob.
type oneImage struct {
	Store
	id string
}

func (s oneImage) BlobRecord(_ context.Context, id string) (Blob, error) {
	if id != s.id {
		return Blob{}, ErrBlobNotFound
	}
	return Blob{ID: id, Kind: BlobImage}, nil
}

// gatedBlobs holds reads of source blobs until gate closes and counts thumbnail writes.
type gatedBlobs struct {
	blob.Store
	gate   chan struct{}
	opens  atomic.Int32
	thumbs atomic.Int32
}

func (g *gatedBlobs) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if strings.HasPrefix(key, "blobs/") {
		g.opens.Add(1)
		<-g.gate
	}
	return g.Store.Open(ctx, key, offset, length)
}

func (g *gatedBlobs) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	if !strings.HasPrefix(key, "blobs/") {
		g.thumbs.Add(1)
	}
	return g.Store.Put(ctx, key, r, size)
}

// A gallery opened by many visitors at once asks for each picture's thumbnail many times before
// the first is stored: the picture is drawn and stored once.
func TestConcurrentPreviewsDrawOnce(t *testing.T) {
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var picture bytes.Buffer
	if err := png.Encode(&picture, image.NewRGBA(image.Rect(0, 0, 64, 48))); err != nil {
		t.Fatal(err)
	}
	const id = "ab0123456789"
	if _, err := local.Put(t.Context(), blobKey(id), bytes.NewReader(picture.Bytes()), int64(picture.Len())); err != nil {
		t.Fatal(err)
	}
	blobs := &gatedBlobs{Store: local, gate: make(chan struct{})}
	o := &Object{
		store: oneImage{id: id}, blobs: inlineReads{Store: blobs}, signer: NewSigner("test"),
		clock: clock.Real{}, domain: "data.example", run: newArchiveRun(),
		thumbnails: cache.NewGroup[string, string](thumbnailTimeout),
	}
	defer o.Close()
	f := &namespacev1.StoredFile{BlobId: id, File: &namespacev1.FileObject{Name: "p.png", ContentType: "image/png"}}

	const visitors = 8
	var wg sync.WaitGroup
	for range visitors {
		wg.Go(func() {
			loc, err := o.previewFor(context.Background(), FileRequest{LibraryID: "lib"}, f, media.ThumbOptions{Size: 16}, time.Minute)
			if err != nil || !strings.Contains(loc.URL, "thumbs") {
				t.Errorf("preview %q, %v; want the thumbnail's URL", loc.URL, err)
			}
		})
	}
	// Visitors that join the drawing wait with it at the gate; later ones find the thumbnail
	// stored. Either way it is drawn once.
	for blobs.opens.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(blobs.gate)
	wg.Wait()
	if n := blobs.thumbs.Load(); n != 1 {
		t.Fatalf("thumbnail stored %d times for %d concurrent previews, want 1", n, visitors)
	}
}
