package app_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// TestLibrariesUsage: the admin figures of several libraries in one call, each id once and in id
// order, zeros for a library the namespace holds nothing of, and a bound on the ids.
func TestLibrariesUsage(t *testing.T) {
	h := newHarness(t)
	h.mkdir("flib", "d")
	h.mkdir("flib", "d/e")
	h.put("flib", "d/a.txt", "b1", 10)
	h.put("flib", "d/e/b.txt", "b2", 32)
	h.put("mlib", "c.jpg", "b3", 7)
	ctx := context.Background()

	got, err := h.ns.LibrariesUsage(ctx, []string{"mlib", "flib", "", "unknown", "flib"})
	if err != nil {
		t.Fatal(err)
	}
	wantUsage := []app.LibraryUsage{
		{LibraryID: "flib", Size: 42, DirNum: 2, FileNum: 2},
		{LibraryID: "mlib", Size: 7, FileNum: 1},
		{LibraryID: "unknown"},
	}
	if !reflect.DeepEqual(got, wantUsage) {
		t.Fatalf("LibrariesUsage\n got %+v\nwant %+v", got, wantUsage)
	}

	if _, err := h.ns.DeleteFile(admin("flib"), "flib", "-", "d/a.txt", true); err != nil {
		t.Fatal(err)
	}
	got, err = h.ns.LibrariesUsage(ctx, []string{"flib"})
	if err != nil || !reflect.DeepEqual(got, []app.LibraryUsage{{LibraryID: "flib", Size: 32, DirNum: 2, FileNum: 1}}) {
		t.Fatalf("after a delete: %+v, %v", got, err)
	}

	if got, err := h.ns.LibrariesUsage(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %+v, %v", got, err)
	}
	if _, err := h.ns.LibrariesUsage(ctx, make([]string, 100)); err != nil {
		t.Fatalf("100 ids: %v", err)
	}
	_, err = h.ns.LibrariesUsage(ctx, make([]string, 101))
	want(t, "101 ids", err, app.ErrParamInvalid)
}
