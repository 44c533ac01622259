package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/object/internal/app"
)

// onlyBytes hides a reader's other methods, so nothing can learn the body's size from it.
type onlyBytes struct{ io.Reader }

// TestInlineUploads: uploads up to the inline limit keep their bytes in the record and write
// nothing to the blob store; larger ones go to the blob store, also when the size is unknown
// until the body ends. Either way the confirmed file's download serves the exact bytes, in any
// range, and a body that disagrees with its Content-Length is refused.
func TestInlineUploads(t *testing.T) {
	ctx := context.Background()
	db, blobs := openStores(t)
	const limit = 1 << 10
	ns := &fakeNamespace{committed: map[string]string{}}
	clk := clock.NewFake(time.Now())
	signer := app.NewSigner("operator-key")
	o := app.New(app.Config{
		Store: db, Blobs: blobs, Namespace: ns, Auth: authz.New(adminTokens{}, nil),
		Signer: signer, Clock: clk, Domain: "example.test", InlineBlobMax: limit,
	})
	user := metadata.NewIncomingContext(ctx, metadata.Pairs(reqmeta.AccessToken, "token"))

	cases := []struct {
		size       int
		knownSize  bool
		wantInline bool
	}{
		{0, true, true}, {1, true, true}, {limit, true, true}, {limit + 1, true, false},
		{0, false, true}, {limit, false, true}, {limit + 1, false, false}, {3 * limit, false, false},
	}
	for i, c := range cases {
		name := fmt.Sprintf("f%d-%d-%v.bin", i, c.size, c.knownSize)
		data := bytes.Repeat([]byte{byte(i), 0xff, 'x'}, c.size/3+1)[:c.size]
		begun, err := o.Begin(user, app.BeginRequest{LibraryID: "lib", SpaceID: "-", Path: name, Kind: app.KindSimple})
		if err != nil {
			t.Fatal(err)
		}
		tk := begun.Ticket
		size := int64(-1)
		if c.knownSize {
			size = int64(len(data))
		}
		if _, err := o.ReceiveSimple(ctx, tk.Upload.ID, tk.Headers["Authorization"], "", onlyBytes{bytes.NewReader(data)}, size); err != nil {
			t.Fatalf("%s: PUT: %v", name, err)
		}
		if _, err := o.Confirm(user, app.ConfirmRequest{LibraryID: "lib", SpaceID: "-", ConfirmKey: tk.Upload.ID}); err != nil {
			t.Fatalf("%s: confirm: %v", name, err)
		}
		blobID := ns.blobOf(tk.Upload.ID)
		key := "blobs/" + blobID[:2] + "/" + blobID
		_, statErr := blobs.Stat(ctx, key)
		if stored := statErr == nil; stored == c.wantInline {
			t.Fatalf("%s: in the blob store %v (%v), want inline %v", name, stored, statErr, c.wantInline)
		}
		// The download URL serves the bytes, whole and in ranges.
		u, err := url.Parse(signer.DownloadPath(app.Download{LibraryID: "lib", SpaceID: "-", Key: key, Name: name, BlobID: blobID}, clk.Now().Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		served, err := o.OpenDownload(ctx, strings.TrimPrefix(u.Path, "/data/o/"), u.Query())
		if err != nil {
			t.Fatalf("%s: open download: %v", name, err)
		}
		if served.Size != int64(len(data)) || served.ETag == "" {
			t.Fatalf("%s: served size %d etag %q", name, served.Size, served.ETag)
		}
		for _, r := range [][2]int64{{0, -1}, {0, 1}, {int64(len(data)) / 2, -1}, {int64(len(data)), -1}} {
			if r[0]+max(r[1], 0) > int64(len(data)) {
				continue
			}
			rc, err := served.Open(r[0], r[1])
			if err != nil {
				t.Fatalf("%s: open %v: %v", name, r, err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			want := data[r[0]:]
			if r[1] >= 0 {
				want = want[:r[1]]
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: range %v read %d bytes (%v), want %d", name, r, len(got), err, len(want))
			}
		}
	}

	// A body longer or shorter than its Content-Length stores nothing and is refused.
	for _, c := range []struct{ declared, sent int }{{100, 50}, {100, 150}, {limit, limit + 1}} {
		begun, err := o.Begin(user, app.BeginRequest{LibraryID: "lib", SpaceID: "-", Path: "bad.bin", Kind: app.KindSimple})
		if err != nil {
			t.Fatal(err)
		}
		tk := begun.Ticket
		_, err = o.ReceiveSimple(ctx, tk.Upload.ID, tk.Headers["Authorization"], "", bytes.NewReader(make([]byte, c.sent)), int64(c.declared))
		if !errors.Is(err, app.ErrSizeMismatch) {
			t.Fatalf("declared %d, sent %d: %v, want ErrSizeMismatch", c.declared, c.sent, err)
		}
	}
}
