package sqldb

import (
	"context"
	"fmt"
	"testing"
)

// TestWriterKeepsStatementsPrepared: a statement a write transaction ran unprepared is
// prepared between batches and then serves later transactions; statements keep their results
// either way, and the cache stops growing at its bound without failing a statement.
func TestWriterKeepsStatementsPrepared(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	const insert = "INSERT INTO items (id, name) VALUES (?, ?)"
	const count = "SELECT COUNT(*) FROM items WHERE id >= ?"
	prepared := func(q string) bool {
		db.group.stmts.mu.Lock()
		defer db.group.stmts.mu.Unlock()
		_, ok := db.group.stmts.ready[q]
		return ok
	}
	for i := range 3 {
		var n int
		var wasPrepared bool
		err := db.InWrite(ctx, func(tx *Tx) error {
			// The batch goroutine prepares between batches: by the time this one runs, what
			// the previous round ran is ready.
			wasPrepared = prepared(insert) && prepared(count)
			if _, err := tx.Exec(ctx, insert, 1001+i, fmt.Sprint("item ", i)); err != nil {
				return err
			}
			return tx.QueryRow(ctx, count, 1001).Scan(&n)
		})
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if n != i+1 {
			t.Fatalf("round %d counted %d rows, want %d", i, n, i+1)
		}
		if i > 0 && !wasPrepared {
			t.Fatalf("round %d: the previous round's statements were not kept prepared", i)
		}
	}
	// A failing statement answers its error, prepared or not, and nothing is cached for it.
	for range 2 {
		err := db.InWrite(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO no_such_table (x) VALUES (?)", 1)
			return err
		})
		if err == nil {
			t.Fatal("insert into a missing table succeeded")
		}
	}
	if prepared("INSERT INTO no_such_table (x) VALUES (?)") {
		t.Fatal("a statement that cannot prepare was cached")
	}
	// Past the bound, statements run unprepared.
	for i := range maxCachedStatements + 10 {
		q := fmt.Sprintf("SELECT COUNT(*) + %d FROM items WHERE id > 1000", i)
		err := db.InWrite(ctx, func(tx *Tx) error {
			var n int
			if err := tx.QueryRow(ctx, q).Scan(&n); err != nil {
				return err
			}
			if n != 3+i {
				return fmt.Errorf("%s = %d", q, n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	db.group.stmts.mu.Lock()
	size := len(db.group.stmts.ready) + len(db.group.stmts.pending)
	db.group.stmts.mu.Unlock()
	if size > maxCachedStatements {
		t.Fatalf("%d statements cached, bound %d", size, maxCachedStatements)
	}
}

// TestReadersKeepStatementsPrepared: a read statement is prepared once its first transaction
// ended, and serves later read transactions with the same answers.
func TestReadersKeepStatementsPrepared(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	const q = "SELECT COUNT(*) FROM items WHERE id > ?"
	for i := range 3 {
		if err := db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 2001+i) }); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.InRead(ctx, func(tx *Tx) error { return tx.QueryRow(ctx, q, 2000).Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		if n != i+1 {
			t.Fatalf("round %d counted %d, want %d", i, n, i+1)
		}
		db.readStmts.mu.Lock()
		_, ok := db.readStmts.ready[q]
		db.readStmts.mu.Unlock()
		if !ok {
			t.Fatalf("round %d: the read statement is not kept prepared", i)
		}
	}
}

func TestStatementsWithoutTransactionKeptPrepared(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	const q = "SELECT COUNT(*) FROM items WHERE id > ?"
	for i := range 3 {
		var n int
		if err := db.InStatements(ctx, func(tx *Tx) error { return tx.QueryRow(ctx, q, 0).Scan(&n) }); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		db.readStmts.mu.Lock()
		_, ok := db.readStmts.ready[q]
		db.readStmts.mu.Unlock()
		if !ok {
			t.Fatalf("round %d: the statement is not kept prepared", i)
		}
	}
}
