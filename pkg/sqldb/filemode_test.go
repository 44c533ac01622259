//go:build unix

package sqldb

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSQLiteFilesArePrivate: under a permissive umask, the database file and the journals SQLite
// creates beside it are 0600, and an existing world-readable database is tightened on open.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.db")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "new.db"), loose} {
		db, err := Open(context.Background(), path, testOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		// A write makes SQLite create the -wal and -shm files.
		if err := db.InWrite(context.Background(), func(tx *Tx) error {
			_, err := tx.Exec(context.Background(), "INSERT INTO items (id, name) VALUES (?, ?)", 100, "hundred")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(p), err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %o, want 600", filepath.Base(p), fi.Mode().Perm())
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSQLiteFile(t *testing.T) {
	tests := []struct{ name, want string }{
		{"/d/a.db", "/d/a.db"},
		{"/d/a.db?_pragma=x", "/d/a.db"},
		{"file:/d/a%20b.db?cache=shared", "/d/a b.db"},
		{"file:///d/a.db", "/d/a.db"},
		{"file://localhost/d/a.db", "/d/a.db"},
		{"file://elsewhere/d/a.db", ""},
		{"file:a.db?mode=memory", ""},
		{":memory:", ""},
		{"file::memory:", ""},
	}
	for _, tt := range tests {
		if got := sqliteFile(tt.name); got != tt.want {
			t.Errorf("sqliteFile(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
