// Package sqldbtest gives tests fresh, isolated sqldb databases on every engine this machine
// offers: SQLite always, PostgreSQL when SMH_TEST_POSTGRES_DSN names a server.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresDSNEnv names the maintenance DSN of a PostgreSQL server tests may use; each test
// creates (and drops) its own database there.
const PostgresDSNEnv = "SMH_TEST_POSTGRES_DSN"

// Engine makes DSNs of new empty databases of one kind.
type Engine struct {
	Name string // "sqlite" or "postgres", as sqldb.DB.Engine names it
	// DSN answers the DSN of a new empty database, removed when the test ends.
	DSN func(t testing.TB) string
}

// Engines lists SQLite (a file named sqliteFile in a fresh temporary directory), and PostgreSQL
// when PostgresDSNEnv is set. A missing engine is left out, not skipped: say so with Report.
func Engines(sqliteFile string) []Engine {
	out := []Engine{{Name: "sqlite", DSN: func(t testing.TB) string {
		return filepath.Join(t.TempDir(), sqliteFile)
	}}}
	if admin := os.Getenv(PostgresDSNEnv); admin != "" {
		out = append(out, Engine{Name: "postgres", DSN: func(t testing.TB) string { return NewPostgresDatabase(t, admin) }})
	}
	return out
}

// Report says plainly, once per test binary, whether PostgreSQL runs: a missing engine must not
// look like a pass (Engines does not register its subtests at all).
func Report(w io.Writer, suite string) {
	if os.Getenv(PostgresDSNEnv) == "" {
		fmt.Fprintf(w, "%s: PostgreSQL NOT RUN (set %s)\n", suite, PostgresDSNEnv)
		return
	}
	fmt.Fprintf(w, "%s: PostgreSQL enabled (%s is set)\n", suite, PostgresDSNEnv)
}

// PostgresDSN answers the DSN of a new empty PostgreSQL database (see NewPostgresDatabase), or
// skips t when PostgresDSNEnv is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresDSNEnv)
	if admin == "" {
		t.Skipf("PostgreSQL NOT RUN: set %s to a maintenance DSN, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", PostgresDSNEnv)
	}
	return NewPostgresDatabase(t, admin)
}

// NewPostgresDatabase creates a database named smh_test_<random> next to the maintenance DSN's
// and answers its DSN; the database is dropped (with any leftover connection) at cleanup.
func NewPostgresDatabase(t testing.TB, adminDSN string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(adminDSN)
	if err != nil {
		t.Fatalf("%s: %v", PostgresDSNEnv, err)
	}
	u, err := url.Parse(adminDSN)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("%s must be a postgres:// URL", PostgresDSNEnv)
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
	u.Path = "/" + name
	return u.String()
}
