package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresDSNEnv names the maintenance DSN of a PostgreSQL server the contract suite may use;
// each test creates (and drops) its own database there.
const postgresDSNEnv = "SMH_TEST_POSTGRES_DSN"

func TestMain(m *testing.M) {
	// Say plainly when half of the suite does not run, rather than let skipped subtests look
	// like passes (the PostgreSQL subtests are then not registered at all).
	if os.Getenv(postgresDSNEnv) == "" {
		fmt.Fprintln(os.Stderr, "store tests: PostgreSQL NOT RUN (set "+postgresDSNEnv+")")
	} else {
		fmt.Fprintln(os.Stderr, "store tests: PostgreSQL enabled ("+postgresDSNEnv+" is set)")
	}
	m.Run()
}

// engine opens fresh, isolated stores of one kind.
type engine struct {
	name string
	// dsn answers the DSN of a new empty database, removed when the test ends.
	dsn func(t *testing.T) string
}

func engines() []engine {
	out := []engine{{name: "sqlite", dsn: func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "namespace.db")
	}}}
	if admin := os.Getenv(postgresDSNEnv); admin != "" {
		out = append(out, engine{name: "postgres", dsn: func(t *testing.T) string { return newPostgresDatabase(t, admin) }})
	}
	return out
}

// eachEngine runs fn as one subtest per engine, each on a fresh store.
func eachEngine(t *testing.T, fn func(t *testing.T, s *SQL)) {
	t.Helper()
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			fn(t, openStore(t, e.dsn(t)))
		})
	}
}

func openStore(t *testing.T, dsn string) *SQL {
	t.Helper()
	s, err := Open(context.Background(), dsn)
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

// newPostgresDatabase creates a database named smh_test_<random> next to the maintenance DSN's
// and answers its DSN; the database is dropped (with any leftover connection) at cleanup.
func newPostgresDatabase(t *testing.T, adminDSN string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(adminDSN)
	if err != nil {
		t.Fatalf("%s: %v", postgresDSNEnv, err)
	}
	admin := stdlib.OpenDB(*cfg)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "smh_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminDSN)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("%s must be a postgres:// URL", postgresDSNEnv)
	}
	u.Path = "/" + name
	return u.String()
}

// rawQueryInt answers one integer from a query run on the store's own engine (for checks that
// look past the app.Store contract: orphans, soft-deleted rows, the migration table).
func rawQueryInt(t *testing.T, s *SQL, q string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	err := s.inRead(context.Background(), func(tx *tx) error {
		return tx.queryRow(context.Background(), q, args...).Scan(&n)
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}
