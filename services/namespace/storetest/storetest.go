// Package storetest gives tests fresh, isolated namespace stores on every engine this machine
// offers: SQLite always, PostgreSQL when SMH_TEST_POSTGRES_DSN names a server. It is
// pkg/sqldb/sqldbtest with the namespace store's file name.
package storetest

import (
	"io"
	"testing"

	"github.com/opensmh/opensmh/pkg/sqldb/sqldbtest"
)

// PostgresDSNEnv names the maintenance DSN of a PostgreSQL server tests may use; each test
// creates (and drops) its own database there.
const PostgresDSNEnv = sqldbtest.PostgresDSNEnv

// Engine makes DSNs of new empty stores of one kind.
type Engine = sqldbtest.Engine

// Engines lists SQLite, and PostgreSQL when its DSN is set.
func Engines() []Engine { return sqldbtest.Engines("namespace.db") }

// Report says plainly, once per test binary, whether PostgreSQL runs: a missing engine must not
// look like a pass (its subtests are then not registered at all).
func Report(w io.Writer, suite string) { sqldbtest.Report(w, suite) }

// NewPostgresDatabase creates a database named smh_test_<random> next to the maintenance DSN's
// and answers its DSN; the database is dropped (with any leftover connection) at cleanup.
func NewPostgresDatabase(t testing.TB, adminDSN string) string {
	t.Helper()
	return sqldbtest.NewPostgresDatabase(t, adminDSN)
}
