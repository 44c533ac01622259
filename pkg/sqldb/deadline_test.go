package sqldb

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// slowQuery runs for a minute or more on each engine: far longer than the transaction bound the
// test sets, so it ends early only if the bound stops it.
var slowQuery = map[string]string{
	"postgres": "SELECT pg_sleep(60)",
	"sqlite":   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT count(*) FROM c",
}

// TestTxTimeoutBoundsStatements runs a statement given a context without any deadline (as the
// stores pass their caller's) inside a transaction bounded by TxTimeout: the statement ends with
// the transaction, and the error is marked as a dependency failure (503 at the edge). On SQLite
// the write path is not tested: a shared batch's statements are never interrupted (see Tx).
func TestTxTimeoutBoundsStatements(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.Name, func(t *testing.T) {
			opts := testOptions(t)
			opts.TxTimeout = 100 * time.Millisecond
			db, err := Open(context.Background(), e.DSN(t), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			slow := func(tx *Tx) error {
				var n any
				return tx.QueryRow(context.Background(), slowQuery[e.Name]).Scan(&n)
			}
			calls := map[string]func() error{"read": func() error { return db.InRead(context.Background(), slow) }}
			if db.Postgres() {
				calls["write"] = func() error { return db.InWrite(context.Background(), slow) }
			}
			for name, call := range calls {
				err := call()
				if !errors.Is(err, smherr.ErrUnavailable) {
					t.Fatalf("%s: %v, want a failure marked unavailable", name, err)
				}
			}
			// The database serves again at once: the bound ended the statement, not the pool.
			if err := db.Ping(context.Background()); err != nil {
				t.Fatalf("ping after the bounded statements: %v", err)
			}
		})
	}
}

// TestWithTxTimeout checks the bound a store can widen for one call of whole-tree work, and that
// the caller's cancellation is never marked as the database's failure.
func TestWithTxTimeout(t *testing.T) {
	db := &DB{txTimeout: time.Second}
	if d := db.txTimeoutFor(context.Background()); d != time.Second {
		t.Fatalf("default bound %v", d)
	}
	if d := db.txTimeoutFor(WithTxTimeout(context.Background(), time.Hour)); d != time.Hour {
		t.Fatalf("widened bound %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := markUnavailable(ctx, context.Canceled); errors.Is(err, smherr.ErrUnavailable) {
		t.Fatal("a cancelled caller was marked as a database failure")
	}
}
