package blob_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/object/internal/blob"
	"github.com/opensmh/opensmh/services/object/internal/blob/blobtest"
)

func newLocal(t *testing.T) *blob.Local {
	t.Helper()
	l, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLocalContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newLocal(t) })
}

// TestLocalCleanTemp simulates a Put that crashed after writing its temporary file.
func TestLocalCleanTemp(t *testing.T) {
	l := newLocal(t)
	if _, err := l.Put(t.Context(), "kept", strings.NewReader("kept"), 4); err != nil {
		t.Fatal(err)
	}
	tmpDir := filepath.Join(l.Dir(), ".tmp")
	stale := filepath.Join(tmpDir, "put-crashed")
	fresh := filepath.Join(tmpDir, "put-in-progress")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}

	var keys []string
	if err := l.List(t.Context(), "", func(info blob.Info) error {
		keys = append(keys, info.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"kept"}; !slices.Equal(keys, want) {
		t.Fatalf("List = %q, want %q", keys, want)
	}

	n, err := l.CleanTemp(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("CleanTemp removed %d files, want 1", n)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temp file still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("recent temp file removed: %v", err)
	}
	if n, err := l.CleanTemp(0); err != nil || n != 1 {
		t.Fatalf("CleanTemp(0) = %d, %v; want 1, nil", n, err)
	}
	if _, err := l.Stat(t.Context(), "kept"); err != nil {
		t.Fatalf("CleanTemp touched a blob: %v", err)
	}
}

func TestLocalDeletePrunesEmptyDirectories(t *testing.T) {
	l := newLocal(t)
	for _, key := range []string{"a/b/c/one", "a/two"} {
		if _, err := l.Put(t.Context(), key, strings.NewReader(""), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Delete(t.Context(), "a/b/c/one"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(l.Dir(), "a", "b")); !os.IsNotExist(err) {
		t.Fatalf("a/b survived as an empty directory: %v", err)
	}
	if err := l.Delete(t.Context(), "a/two"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(l.Dir(), "a")); !os.IsNotExist(err) {
		t.Fatalf("a survived as an empty directory: %v", err)
	}
	if _, err := os.Stat(l.Dir()); err != nil {
		t.Fatalf("the store's own directory went: %v", err)
	}
}

// TestLocalKeyConflict documents the one way a directory store differs from S3.
func TestLocalKeyConflict(t *testing.T) {
	l := newLocal(t)
	if _, err := l.Put(t.Context(), "a", strings.NewReader(""), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Put(t.Context(), "a/b", strings.NewReader(""), 0); err == nil {
		t.Fatal(`Put("a/b") succeeded while blob "a" exists`)
	}
	if _, err := l.Put(t.Context(), "c/d", strings.NewReader(""), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Put(t.Context(), "c", strings.NewReader(""), 0); err == nil {
		t.Fatal(`Put("c") succeeded while blob "c/d" exists`)
	}
	if _, err := l.Stat(t.Context(), "c"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf(`Stat("c") error = %v, want ErrNotFound for a directory`, err)
	}
	if _, err := l.Stat(t.Context(), "a/b"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf(`Stat("a/b") error = %v, want ErrNotFound for a path through a file`, err)
	}
}
