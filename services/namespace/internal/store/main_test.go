package store

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

func TestMain(m *testing.M) {
	storetest.Report(os.Stderr, "store tests")
	m.Run()
}

// eachEngine runs fn as one subtest per engine, each on a fresh store.
func eachEngine(t *testing.T, fn func(t *testing.T, s *SQL)) {
	t.Helper()
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			fn(t, openStore(t, e.DSN(t)))
		})
	}
}

func openStore(t *testing.T, dsn string) *SQL {
	t.Helper()
	s, err := Open(context.Background(), dsn, 0)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawQueryInt answers one integer from a query run on the store's own engine (for checks that
// look past the app.Store contract: orphans, soft-deleted rows, the migration table).
func rawQueryInt(t *testing.T, s *SQL, q string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	// The checks scan whole spaces (checkInvariants' full-text check is a lookup per entry): on a
	// loaded machine they outlast a request's transaction bound, which is not what they test.
	ctx := sqldb.WithTxTimeout(context.Background(), 5*time.Minute)
	err := s.inRead(ctx, func(tx *sqldb.Tx) error {
		return tx.QueryRow(ctx, q, args...).Scan(&n)
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}
