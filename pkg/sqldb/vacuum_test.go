package sqldb

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// fileSize answers the size of the database file and its WAL after a checkpoint that truncates
// the WAL, so that what is measured is the file's own pages.
func fileSize(t *testing.T, db *DB, path string) int64 {
	t.Helper()
	if err := db.InWrite(context.Background(), func(*Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestReturnFreePages: with Options.ReturnFreePages, the pages that deleted rows freed go back
// to the file system; a file made without the option is converted on its first such Open.
func TestReturnFreePages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulk.db")
	// A file made without the option, holding a row already.
	plain, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Exec(`CREATE TABLE bulk (id INTEGER PRIMARY KEY, data BLOB NOT NULL); INSERT INTO bulk VALUES (0, x'00')`); err != nil {
		t.Fatal(err)
	}
	plain.Close()

	db, err := Open(ctx, path, Options{ReturnFreePages: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := queryInt(t, db, "PRAGMA auto_vacuum"); n != autoVacuumIncremental {
		t.Fatalf("auto_vacuum %d after Open, want %d (incremental)", n, autoVacuumIncremental)
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM bulk"); n != 1 {
		t.Fatalf("the conversion lost rows: %d", n)
	}
	empty := fileSize(t, db, path)
	value := strings.Repeat("x", 60<<10)
	const rows = 400 // about 24 MiB: more than one write of ReturnFreePages (returnPagesPerWrite)
	for i := 1; i <= rows; i++ {
		if err := db.InWrite(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO bulk (id, data) VALUES (?, ?)`, i, []byte(value))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	full := fileSize(t, db, path)
	if full < empty+rows*60<<10 {
		t.Fatalf("file %d bytes with %d rows of 60 KiB (empty: %d)", full, rows, empty)
	}
	if err := db.InWrite(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM bulk WHERE id > 0`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := fileSize(t, db, path); got < full {
		t.Fatalf("the file shrank to %d before ReturnFreePages (from %d)", got, full)
	}
	if err := db.ReturnFreePages(ctx); err != nil {
		t.Fatal(err)
	}
	after := fileSize(t, db, path)
	// What is left is the empty file's pages and a few of the free-list's bookkeeping.
	if after > empty+64<<10 {
		t.Fatalf("after ReturnFreePages the file holds %d bytes; empty it held %d, full %d", after, empty, full)
	}
	t.Logf("file: empty %d, full %d, after deleting and returning %d bytes", empty, full, after)
}
