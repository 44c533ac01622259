package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb/sqldbtest"
	"github.com/opensmh/opensmh/services/object/internal/app"
)

func TestMain(m *testing.M) {
	sqldbtest.Report(os.Stderr, "object store tests")
	os.Exit(m.Run())
}

// onEveryEngine runs fn on a fresh store per engine (SQLite always, PostgreSQL when configured).
func onEveryEngine(t *testing.T, fn func(t *testing.T, s *SQL)) {
	for _, e := range sqldbtest.Engines("object.db") {
		t.Run(e.Name, func(t *testing.T) {
			s, err := Open(context.Background(), e.DSN(t), 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			fn(t, s)
		})
	}
}

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func upload(id string, kind app.UploadKind) app.Upload {
	cat := "c"
	return app.Upload{
		ID: id, LibraryID: "smhlib", SpaceID: "-", Path: []string{"dir", "名字.jpg"}, UserID: "alice", Kind: kind,
		Strategy: "rename", Force: true, Rules: app.Rules{MediaLibrary: true, AllowPhoto: true, AllowPhotoExtname: []string{"jpg"}},
		Attrs:     app.FileAttrs{Labels: []string{"x"}, Category: &cat, MetaData: map[string]string{"x-smh-meta-a": "b"}},
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), State: app.StateOpen,
	}
}

func blobRec(id string, used time.Time) app.Blob {
	return app.Blob{ID: id, LibraryID: "smhlib", SpaceID: "-", Size: 10, CRC64: "1", ETag: "m", BeginningHash: "bh", FullHash: "fh",
		ContentType: "image/jpeg", Kind: app.BlobImage, CreatedAt: used, UsedAt: used}
}

func TestUploadLifecycle(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		u := upload("u1", app.KindSimple)
		if err := s.CreateUpload(ctx, u, 0); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetUpload(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Path, u.Path) || got.Rules.AllowPhotoExtname[0] != "jpg" || *got.Attrs.Category != "c" ||
			got.Attrs.MetaData["x-smh-meta-a"] != "b" || !got.ExpiresAt.Equal(u.ExpiresAt) || got.State != app.StateOpen || !got.Force {
			t.Fatalf("round trip: %+v", got)
		}
		if _, err := s.GetUpload(ctx, "nope"); !errors.Is(err, app.ErrUploadNotFound) {
			t.Fatalf("unknown upload: %v", err)
		}
		// Bytes sent twice: the second blob replaces the first, which becomes idle.
		if err := s.AttachBlob(ctx, "u1", blobRec("b1", t0)); err != nil {
			t.Fatal(err)
		}
		if err := s.AttachBlob(ctx, "u1", blobRec("b2", t0)); err != nil {
			t.Fatal(err)
		}
		idle, err := s.IdleBlobs(ctx, t0.Add(time.Minute), 10)
		if err != nil || len(idle) != 1 || idle[0].ID != "b1" {
			t.Fatalf("idle after re-send: %v %v", idle, err)
		}
		if err := s.Confirm(ctx, "u1", []byte(`{"name":"x"}`)); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetUpload(ctx, "u1")
		if got.State != app.StateConfirmed || got.BlobID != "b2" || string(got.Answer) != `{"name":"x"}` {
			t.Fatalf("confirmed: %+v", got)
		}
		if err := s.AttachBlob(ctx, "u1", blobRec("b3", t0)); !errors.Is(err, app.ErrUploadNotOpen) {
			t.Fatalf("bytes after confirm: %v", err)
		}
		if err := s.AbortUpload(ctx, "u1"); !errors.Is(err, app.ErrUploadNotOpen) {
			t.Fatalf("abort after confirm: %v", err)
		}
	})
}

func TestPartsAndAbort(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		if err := s.CreateUpload(ctx, upload("m1", app.KindMultipart), 0); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{3, 1, 3} {
			if err := s.PutPart(ctx, app.Part{UploadID: "m1", Number: n, Size: int64(n * 10), ETag: `"e"`, ReceivedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		parts, err := s.Parts(ctx, "m1")
		if err != nil || len(parts) != 2 || parts[0].Number != 1 || parts[1].Number != 3 || parts[1].Size != 30 {
			t.Fatalf("parts %v %v", parts, err)
		}
		if err := s.RenewUpload(ctx, "m1", t0.Add(5*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.AbortUpload(ctx, "m1"); err != nil {
			t.Fatalf("abort: %v", err)
		}
		if err := s.PutPart(ctx, app.Part{UploadID: "m1", Number: 2, ReceivedAt: t0}); !errors.Is(err, app.ErrUploadNotOpen) {
			t.Fatalf("part after abort: %v", err)
		}
		if parts, _ := s.Parts(ctx, "m1"); len(parts) != 0 {
			t.Fatalf("parts survived the abort: %v", parts)
		}
	})
}

func TestInstantMatchAndCollection(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		if err := s.CreateUpload(ctx, upload("u1", app.KindSimple), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.AttachBlob(ctx, "u1", blobRec("b1", t0)); err != nil {
			t.Fatal(err)
		}
		// Held by a received upload: not idle.
		if idle, _ := s.IdleBlobs(ctx, t0.Add(time.Hour), 10); len(idle) != 0 {
			t.Fatalf("held blob listed idle: %v", idle)
		}
		if err := s.Confirm(ctx, "u1", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		// The probe matches without marking; the full match marks the blob used.
		if b, err := s.TakeBlobByHash(ctx, "smhlib", "-", "bh", "", 10, t0.Add(time.Hour)); err != nil || b.ID != "b1" || !b.UsedAt.Equal(t0) {
			t.Fatalf("probe: %+v %v", b, err)
		}
		if _, err := s.TakeBlobByHash(ctx, "other", "-", "bh", "fh", 10, t0); !errors.Is(err, app.ErrBlobNotFound) {
			t.Fatalf("another library matched: %v", err)
		}
		for _, probe := range []string{"", "fh"} {
			if _, err := s.TakeBlobByHash(ctx, "smhlib", "space-b", "bh", probe, 10, t0); !errors.Is(err, app.ErrBlobNotFound) {
				t.Fatalf("another space of the library matched (full hash %q): %v", probe, err)
			}
		}
		if _, err := s.TakeBlobByHash(ctx, "smhlib", "-", "bh", "fh", 11, t0); !errors.Is(err, app.ErrBlobNotFound) {
			t.Fatalf("another size matched: %v", err)
		}
		later := t0.Add(2 * time.Hour)
		if b, err := s.TakeBlobByHash(ctx, "smhlib", "-", "bh", "fh", 10, later); err != nil || !b.UsedAt.Equal(later) {
			t.Fatalf("take: %+v %v", b, err)
		}
		// Used at t0+2h: not idle before that, and dooming with an older cutoff fails.
		if ok, err := s.DoomBlob(ctx, "b1", t0.Add(time.Hour)); err != nil || ok {
			t.Fatalf("doomed a recently used blob: %v %v", ok, err)
		}
		if ok, err := s.DoomBlob(ctx, "b1", later.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("doom: %v %v", ok, err)
		}
		// A doomed blob is never taken, and is listed for a resumed collection.
		if _, err := s.TakeBlobByHash(ctx, "smhlib", "-", "bh", "fh", 10, later); !errors.Is(err, app.ErrBlobNotFound) {
			t.Fatalf("took a doomed blob: %v", err)
		}
		if d, _ := s.DoomedBlobs(ctx, 10); len(d) != 1 {
			t.Fatalf("doomed list %v", d)
		}
		known, err := s.KnownBlobs(ctx, []string{"b1", "zz"})
		if err != nil || !known["b1"] || known["zz"] {
			t.Fatalf("known %v %v", known, err)
		}
		if err := s.DeleteBlob(ctx, "b1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetBlob(ctx, "b1"); !errors.Is(err, app.ErrBlobNotFound) {
			t.Fatalf("deleted blob: %v", err)
		}
	})
}

// A confirm records the blob it composed from a multipart upload's parts before the namespace
// sees it: held by the open upload, it is not idle; a second composition releases the first.
func TestHoldComposedBlob(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		if err := s.CreateUpload(ctx, upload("m", app.KindMultipart), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.HoldBlob(ctx, "m", blobRec("c1", t0)); err != nil {
			t.Fatal(err)
		}
		if idle, err := s.IdleBlobs(ctx, t0.Add(time.Hour), 10); err != nil || len(idle) != 0 {
			t.Fatalf("held blob listed idle: %v %v", idle, err)
		}
		if u, err := s.GetUpload(ctx, "m"); err != nil || u.State != app.StateOpen || u.BlobID != "c1" {
			t.Fatalf("after hold: %+v %v", u, err)
		}
		// Parts still arrive (the upload stays open) and a retried confirm composes again.
		if err := s.PutPart(ctx, app.Part{UploadID: "m", Number: 1, Size: 1, ETag: `"e"`, ReceivedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.HoldBlob(ctx, "m", blobRec("c2", t0)); err != nil {
			t.Fatal(err)
		}
		if idle, err := s.IdleBlobs(ctx, t0.Add(time.Hour), 10); err != nil || len(idle) != 1 || idle[0].ID != "c1" {
			t.Fatalf("idle after the second hold: %v %v", idle, err)
		}
		if err := s.Confirm(ctx, "m", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.HoldBlob(ctx, "m", blobRec("c3", t0)); !errors.Is(err, app.ErrUploadNotOpen) {
			t.Fatalf("hold on a confirmed upload: %v", err)
		}
		if _, err := s.GetBlob(ctx, "c3"); !errors.Is(err, app.ErrBlobNotFound) {
			t.Fatalf("a refused hold recorded its blob: %v", err)
		}
	})
}

func TestExpiredUploads(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		for i, id := range []string{"a", "b", "c"} {
			u := upload(id, app.KindSimple)
			u.ExpiresAt = t0.Add(time.Duration(i) * time.Hour)
			if err := s.CreateUpload(ctx, u, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AttachBlob(ctx, "a", blobRec("ba", t0)); err != nil {
			t.Fatal(err)
		}
		if err := s.Confirm(ctx, "a", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		// a (confirmed) and b expired; c is live.
		exp, err := s.ExpiredUploads(ctx, t0.Add(90*time.Minute), 10)
		if err != nil || len(exp) != 2 || exp[0].ID != "a" || exp[1].ID != "b" {
			t.Fatalf("expired %v %v", exp, err)
		}
		if err := s.DeleteUpload(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		known, _ := s.KnownUploads(ctx, []string{"a", "b", "c"})
		if !known["a"] || known["b"] || !known["c"] {
			t.Fatalf("known uploads %v", known)
		}
	})
}

// TestConcurrentParts records parts of one upload from many goroutines: every part is kept.
func TestConcurrentParts(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		if err := s.CreateUpload(ctx, upload("m", app.KindMultipart), 0); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for n := 1; n <= 20; n++ {
			for range 2 {
				wg.Go(func() {
					errs <- s.PutPart(ctx, app.Part{UploadID: "m", Number: n, Size: 1, ETag: `"e"`, ReceivedAt: t0})
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if parts, _ := s.Parts(ctx, "m"); len(parts) != 20 {
			t.Fatalf("%d parts", len(parts))
		}
	})
}

// TestInlineBlobs: a small blob's bytes ride in its record. Attached with its upload, they come
// back from GetBlob exactly (an empty blob's as empty, not as "in the blob store"); a blob stored
// outside keeps Data nil; BlobRecord and listings never carry the bytes; deleting the record
// takes them along.
func TestInlineBlobs(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		content := []byte("small \x00 bytes \xff of a photo's thumbnail")
		cases := []struct {
			id   string
			data []byte
		}{{"inline", content}, {"empty", []byte{}}, {"outside", nil}}
		for _, c := range cases {
			u := upload("u-"+c.id, app.KindSimple)
			if err := s.CreateUpload(ctx, u, 0); err != nil {
				t.Fatal(err)
			}
			b := blobRec(c.id, t0)
			b.Size, b.Data = int64(len(c.data)), c.data
			if c.data == nil {
				b.Size = 1 << 20
			}
			if err := s.AttachBlob(ctx, u.ID, b); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetBlob(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if got.Inline() != (c.data != nil) || !bytes.Equal(got.Data, c.data) {
				t.Fatalf("%s: GetBlob answered inline=%v data %q, want %q", c.id, got.Inline(), got.Data, c.data)
			}
			// BlobRecord is the same record without the bytes.
			rec, err := s.BlobRecord(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			got.Data = nil
			if rec.Data != nil || !reflect.DeepEqual(rec, got) {
				t.Fatalf("%s: BlobRecord answered %+v, want %+v", c.id, rec, got)
			}
		}
		if _, err := s.BlobRecord(ctx, "missing"); !errors.Is(err, app.ErrBlobNotFound) {
			t.Fatalf("BlobRecord of a missing blob: %v", err)
		}
		// Listings (garbage collection's) leave the bytes out.
		listed, err := s.IdleBlobs(ctx, t0.Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range listed {
			if b.Data != nil {
				t.Fatalf("IdleBlobs carried the bytes of %s", b.ID)
			}
		}
		if err := s.AbortUpload(ctx, "u-inline"); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.DoomBlob(ctx, "inline", t0.Add(time.Hour)); err != nil || !ok {
			t.Fatalf("doom: %v %v", ok, err)
		}
		if err := s.DeleteBlob(ctx, "inline"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetBlob(ctx, "inline"); !errors.Is(err, app.ErrBlobNotFound) {
			t.Fatalf("GetBlob after delete: %v", err)
		}
		if err := s.ReturnFreeSpace(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
