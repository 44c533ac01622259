package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/object/internal/app"
)

// TestOpenUploadCap: a user's unconfirmed, unexpired uploads are capped; confirm, abort and
// expiry free a slot; users and libraries are counted apart; a refused begin creates nothing.
func TestOpenUploadCap(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		const maxOpen = 3
		owned := func(id, lib, user string, created time.Time) app.Upload {
			u := upload(id, app.KindSimple)
			u.LibraryID, u.UserID, u.CreatedAt, u.ExpiresAt = lib, user, created, created.Add(time.Hour)
			return u
		}
		for i := range maxOpen {
			if err := s.CreateUpload(ctx, owned(fmt.Sprint("a", i), "smhlib", "alice", t0), maxOpen); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateUpload(ctx, owned("a-over", "smhlib", "alice", t0), maxOpen); !errors.Is(err, app.ErrTooManyOpenUploads) {
			t.Fatalf("begin beyond the cap: %v", err)
		}
		if _, err := s.GetUpload(ctx, "a-over"); !errors.Is(err, app.ErrUploadNotFound) {
			t.Fatalf("the refused begin left an upload: %v", err)
		}
		// Another user, the library's empty user and another library have their own counts.
		for _, u := range []app.Upload{owned("b0", "smhlib", "bob", t0), owned("e0", "smhlib", "", t0), owned("o0", "smhother", "alice", t0)} {
			if err := s.CreateUpload(ctx, u, maxOpen); err != nil {
				t.Fatalf("%s/%q: %v", u.LibraryID, u.UserID, err)
			}
		}
		// A received upload still counts: only its confirm is missing.
		if err := s.AttachBlob(ctx, "a0", blobRec("blob-a0", t0)); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUpload(ctx, owned("a-received", "smhlib", "alice", t0), maxOpen); !errors.Is(err, app.ErrTooManyOpenUploads) {
			t.Fatalf("a received upload was not counted: %v", err)
		}
		if err := s.Confirm(ctx, "a0", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUpload(ctx, owned("a3", "smhlib", "alice", t0), maxOpen); err != nil {
			t.Fatalf("a confirm did not free a slot: %v", err)
		}
		if err := s.AbortUpload(ctx, "a1"); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUpload(ctx, owned("a4", "smhlib", "alice", t0), maxOpen); err != nil {
			t.Fatalf("an abort did not free a slot: %v", err)
		}
		// Every open session expires an hour after t0: past that, none counts.
		later := t0.Add(2 * time.Hour)
		for i := range maxOpen {
			if err := s.CreateUpload(ctx, owned(fmt.Sprint("late", i), "smhlib", "alice", later), maxOpen); err != nil {
				t.Fatalf("expired uploads still counted: %v", err)
			}
		}
	})
}

// TestOpenUploadCapUnderConcurrency: begins racing at the cap never exceed it.
func TestOpenUploadCapUnderConcurrency(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		const maxOpen, tries = 5, 40
		var created atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, tries)
		for i := range tries {
			wg.Go(func() {
				u := upload(fmt.Sprint("race", i), app.KindSimple)
				switch err := s.CreateUpload(ctx, u, maxOpen); {
				case err == nil:
					created.Add(1)
				case !errors.Is(err, app.ErrTooManyOpenUploads):
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := created.Load(); n != maxOpen {
			t.Fatalf("%d of %d racing begins succeeded, cap %d", n, tries, maxOpen)
		}
	})
}
