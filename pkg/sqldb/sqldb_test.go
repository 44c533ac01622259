package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/opensmh/opensmh/pkg/sqldb/sqldbtest"
)

//go:embed testdata/migrations
var testdataFiles embed.FS

func testMigrations(t testing.TB) fs.FS {
	t.Helper()
	sub, err := fs.Sub(testdataFiles, "testdata/migrations")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

const (
	testVersionTable = "sqldbtest_schema_version"
	testLockKey      = 0x534d48_74657374 // "SMH" "test"
)

func testOptions(t testing.TB) Options {
	return Options{Migrations: testMigrations(t), MigrationLockKey: testLockKey, VersionTable: testVersionTable}
}

func TestMain(m *testing.M) {
	sqldbtest.Report(os.Stderr, "sqldb tests")
	os.Exit(m.Run())
}

// engines lists both engines; the PostgreSQL subtests skip, saying why, without a server.
func engines() []sqldbtest.Engine {
	return []sqldbtest.Engine{
		{Name: "sqlite", DSN: func(t testing.TB) string { return filepath.Join(t.TempDir(), "test.db") }},
		{Name: "postgres", DSN: sqldbtest.PostgresDSN},
	}
}

// eachEngine runs fn as one subtest per engine, each on a fresh, migrated database.
func eachEngine(t *testing.T, fn func(t *testing.T, dsn string, db *DB)) {
	t.Helper()
	for _, e := range engines() {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			db := openDB(t, dsn)
			if db.Engine() != e.Name {
				t.Fatalf("Engine() = %q, want %q", db.Engine(), e.Name)
			}
			fn(t, dsn, db)
		})
	}
}

func openDB(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, testOptions(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func queryInt(t testing.TB, db *DB, q string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	err := db.InRead(context.Background(), func(tx *Tx) error {
		return tx.QueryRow(context.Background(), q, args...).Scan(&n)
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

func TestMigrationsAppliedOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string, db *DB) {
		if n := queryInt(t, db, "SELECT COUNT(*) FROM "+testVersionTable); n != 2 {
			t.Fatalf("%d migrations recorded, want 2", n)
		}
		if n := queryInt(t, db, "SELECT MAX(version) FROM "+testVersionTable); n != 2 {
			t.Fatalf("latest version %d, want 2", n)
		}
		if n := queryInt(t, db, "SELECT COUNT(*) FROM items WHERE name = ?", "seed"); n != 1 {
			t.Fatalf("%d seed rows, want 1", n)
		}
		// Reopening, also several at once (replicas restarting), applies nothing again: the
		// seed step would fail on its UNIQUE name.
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				db2, err := Open(context.Background(), dsn, testOptions(t))
				if err == nil {
					err = db2.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("reopen: %v", err)
			}
		}
		if n := queryInt(t, db, "SELECT COUNT(*) FROM "+testVersionTable); n != 2 {
			t.Fatalf("%d migrations recorded after reopening, want 2", n)
		}
		if n := queryInt(t, db, "SELECT COUNT(*) FROM items"); n != 1 {
			t.Fatalf("%d rows after reopening, want 1", n)
		}
	})
}

func TestConcurrentFirstOpen(t *testing.T) {
	// Replicas starting together on an empty database: exactly one applies each migration.
	for _, e := range engines() {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			const n = 4
			errs := make(chan error, n)
			for range n {
				go func() {
					db, err := Open(context.Background(), dsn, testOptions(t))
					if err == nil {
						err = db.Close()
					}
					errs <- err
				}()
			}
			for range n {
				if err := <-errs; err != nil {
					t.Fatalf("concurrent Open: %v", err)
				}
			}
			db := openDB(t, dsn)
			if got := queryInt(t, db, "SELECT COUNT(*) FROM "+testVersionTable); got != 2 {
				t.Fatalf("%d migrations recorded, want 2", got)
			}
		})
	}
}

func TestNewMigrationAppliedOnReopen(t *testing.T) {
	// A later release adds a step: reopening applies just that one.
	eachEngine(t, func(t *testing.T, dsn string, db *DB) {
		more := fstest.MapFS{}
		for _, engine := range []string{"sqlite", "postgres"} {
			steps, err := Migrations(testMigrations(t), engine)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range steps {
				more[engine+"/"+m.Name] = &fstest.MapFile{Data: []byte(m.SQL)}
			}
			more[engine+"/0003_more.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO items (id, name) VALUES (3, 'three')")}
		}
		opts := testOptions(t)
		opts.Migrations = more
		db2, err := Open(context.Background(), dsn, opts)
		if err != nil {
			t.Fatal(err)
		}
		_ = db2.Close()
		if n := queryInt(t, db, "SELECT COUNT(*) FROM "+testVersionTable); n != 3 {
			t.Fatalf("%d migrations recorded, want 3", n)
		}
		if n := queryInt(t, db, "SELECT COUNT(*) FROM items"); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
}

func TestFailedMigrationLeavesNothing(t *testing.T) {
	// A step that fails half-way is rolled back with its record, and Open fails.
	for _, e := range engines() {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			bad := fstest.MapFS{
				e.Name + "/0001_ok.sql":  {Data: []byte("CREATE TABLE ok (id BIGINT NOT NULL PRIMARY KEY)")},
				e.Name + "/0002_bad.sql": {Data: []byte("CREATE TABLE half (id BIGINT); INSERT INTO nowhere VALUES (1)")},
			}
			opts := testOptions(t)
			opts.Migrations = bad
			if db, err := Open(context.Background(), dsn, opts); err == nil {
				_ = db.Close()
				t.Fatal("Open applied a failing migration")
			} else if !strings.Contains(err.Error(), "0002_bad.sql") {
				t.Fatalf("error does not name the step: %v", err)
			}
			db, err := Open(context.Background(), dsn, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if n := queryInt(t, db, "SELECT COUNT(*) FROM "+testVersionTable); n != 1 {
				t.Fatalf("%d migrations recorded, want 1", n)
			}
			err = db.InRead(context.Background(), func(tx *Tx) error {
				_, err := tx.Exec(context.Background(), "SELECT COUNT(*) FROM half")
				return err
			})
			if err == nil {
				t.Fatal("the failed step's table exists")
			}
		})
	}
}

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE a = ?", "SELECT a FROM t WHERE a = $1"},
		{"INSERT INTO t VALUES (?, ?, ?)", "INSERT INTO t VALUES ($1, $2, $3)"},
		{"?????????????", "$1$2$3$4$5$6$7$8$9$10$11$12$13"},
	} {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := (&Tx{}).rebind(c.in); got != c.in {
			t.Errorf("SQLite rebind(%q) = %q, want it unchanged", c.in, got)
		}
		if got := (&Tx{postgres: true}).rebind(c.in); got != c.want {
			t.Errorf("PostgreSQL rebind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// The same "?" query runs on both engines.
	eachEngine(t, func(t *testing.T, _ string, db *DB) {
		ctx := context.Background()
		err := db.InWrite(ctx, func(tx *Tx) error {
			if tx.Postgres() != db.Postgres() {
				t.Errorf("Tx.Postgres() = %v, DB.Postgres() = %v", tx.Postgres(), db.Postgres())
			}
			_, err := tx.Exec(ctx, "INSERT INTO items (id, name, note) VALUES (?, ?, ?)", 7, "seven", "n")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var name, note string
		err = db.InRead(ctx, func(tx *Tx) error {
			return tx.QueryRow(ctx, "SELECT name, note FROM items WHERE id = ? AND note = ?", 7, "n").Scan(&name, &note)
		})
		if err != nil || name != "seven" || note != "n" {
			t.Fatalf("read back %q %q, %v", name, note, err)
		}
		var names []string
		err = db.InRead(ctx, func(tx *Tx) error {
			rows, err := tx.Query(ctx, "SELECT name FROM items WHERE id IN (?, ?) ORDER BY id", 1, 7)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					return err
				}
				names = append(names, n)
			}
			return rows.Err()
		})
		if err != nil || strings.Join(names, ",") != "seed,seven" {
			t.Fatalf("Query = %v, %v", names, err)
		}
	})
}

func TestIsUniqueViolation(t *testing.T) {
	if IsUniqueViolation(nil) || IsUniqueViolation(errors.New("UNIQUE constraint failed")) {
		t.Fatal("a non-driver error is a unique violation")
	}
	eachEngine(t, func(t *testing.T, _ string, db *DB) {
		ctx := context.Background()
		insert := func(id int, name string) error {
			return db.InWrite(ctx, func(tx *Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", id, name)
				return err
			})
		}
		if err := insert(2, "two"); err != nil {
			t.Fatal(err)
		}
		if err := insert(3, "two"); !IsUniqueViolation(err) {
			t.Fatalf("duplicate name: %v is not a unique violation", err)
		}
		if err := insert(2, "other"); !IsUniqueViolation(err) {
			t.Fatalf("duplicate primary key: %v is not a unique violation", err)
		}
		err := db.InWrite(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, NULL)", 4)
			return err
		})
		if err == nil || IsUniqueViolation(err) {
			t.Fatalf("NOT NULL failure: %v", err)
		}
		if n := queryInt(t, db, "SELECT COUNT(*) FROM items"); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
}

func TestTransactions(t *testing.T) {
	eachEngine(t, func(t *testing.T, _ string, db *DB) {
		ctx := context.Background()
		count := func(tx *Tx) int64 {
			var n int64
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// A failing fn rolls back, and its error comes back as it is.
		boom := errors.New("boom")
		err := db.InWrite(ctx, func(tx *Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", 10, "ten"); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("InWrite = %v, want fn's error", err)
		}
		// So does a panicking one, and the writer is free again afterwards.
		func() {
			defer func() { _ = recover() }()
			_ = db.InWrite(ctx, func(tx *Tx) error {
				if _, err := tx.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", 11, "eleven"); err != nil {
					return err
				}
				panic("fn panics")
			})
		}()
		if n := queryInt(t, db, "SELECT COUNT(*) FROM items"); n != 1 {
			t.Fatalf("%d rows after rolled-back writes, want 1", n)
		}
		// A committed write is visible to the next read.
		err = db.InWrite(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", 12, "twelve")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// A read transaction is one snapshot: a write committed while it runs stays unseen.
		err = db.InRead(ctx, func(tx *Tx) error {
			before := count(tx)
			if before != 2 {
				t.Errorf("read sees %d rows, want 2", before)
			}
			if err := db.InWrite(ctx, func(w *Tx) error {
				_, err := w.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", 13, "thirteen")
				return err
			}); err != nil {
				return err
			}
			if after := count(tx); after != before {
				t.Errorf("snapshot moved from %d to %d rows", before, after)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := queryInt(t, db, "SELECT COUNT(*) FROM items"); n != 3 {
			t.Fatalf("%d rows, want 3", n)
		}
		// Read transactions cannot write.
		err = db.InRead(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", 14, "fourteen")
			return err
		})
		if err == nil {
			t.Fatal("a read transaction wrote")
		}
	})
}

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{dir + "/plain.db", "sqlite://" + dir + "/prefixed.db", "file:" + dir + "/uri.db"} {
		db, err := Open(context.Background(), dsn, testOptions(t))
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		if db.Engine() != "sqlite" || db.Postgres() {
			t.Fatalf("Open(%q) chose %s", dsn, db.Engine())
		}
		var mode string
		if err := db.write.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v", mode, err)
		}
		for _, c := range []struct {
			db     *sql.DB
			pragma string
			want   int
		}{{db.write, "foreign_keys", 1}, {db.read, "foreign_keys", 1}, {db.write, "query_only", 0}, {db.read, "query_only", 1},
			{db.write, "busy_timeout", sqliteBusyTimeoutMS}} {
			var got int
			if err := c.db.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil || got != c.want {
				t.Fatalf("%s = %d, %v; want %d", c.pragma, got, err, c.want)
			}
		}
		if n := db.write.Stats().MaxOpenConnections; n != 1 {
			t.Fatalf("%d writer connections, want 1", n)
		}
		_ = db.Close()
	}
}

func TestOpenPostgres(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	db, err := Open(context.Background(), strings.Replace(dsn, "postgres://", "postgresql://", 1), Options{PostgresMaxConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Engine() != "postgres" || !db.Postgres() || db.read != db.write {
		t.Fatalf("Open chose %s", db.Engine())
	}
	if n := db.write.Stats().MaxOpenConnections; n != 3 {
		t.Fatalf("pool capped at %d, want 3", n)
	}
	var iso string
	err = db.InRead(context.Background(), func(tx *Tx) error {
		return tx.QueryRow(context.Background(), "SHOW transaction_isolation").Scan(&iso)
	})
	if err != nil || iso != "repeatable read" {
		t.Fatalf("read isolation %q, %v", iso, err)
	}
}

// A PostgreSQL connection is a forked backend: bursts of load must find the pool's connections
// kept, not closed when each burst ends and opened again at the next (the pool kept half its
// connections idle once, and most queries of a loaded server waited for a new backend).
func TestPostgresPoolKeepsItsConnections(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	const conns = 6
	db, err := Open(context.Background(), dsn, Options{PostgresMaxConns: conns})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for burst := range 5 {
		var wg sync.WaitGroup
		for range 4 * conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.InStatements(ctx, func(tx *Tx) error {
					var x int
					return tx.QueryRow(ctx, "SELECT 1 FROM pg_sleep(0.01)").Scan(&x)
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if st := db.read.Stats(); st.MaxIdleClosed != 0 || st.OpenConnections != conns {
			t.Fatalf("after burst %d: %d connections open, %d closed for the idle limit; want %d open, none closed",
				burst, st.OpenConnections, st.MaxIdleClosed, conns)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "postgres://user:s3cret@%zz/db", Options{}); err == nil ||
		strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "%zz") {
		t.Fatalf("a bad PostgreSQL DSN: %v", err)
	}
	if _, err := Open(ctx, "sqlite://", Options{}); err == nil {
		t.Fatal("an empty SQLite path opened")
	}
	dsn := filepath.Join(t.TempDir(), "x.db")
	for name, opts := range map[string]Options{
		"no version table":  {Migrations: testMigrations(t), MigrationLockKey: testLockKey},
		"bad version table": {Migrations: testMigrations(t), MigrationLockKey: testLockKey, VersionTable: "v; DROP TABLE items"},
		"no lock key":       {Migrations: testMigrations(t), VersionTable: testVersionTable},
		"bad step name": {Migrations: fstest.MapFS{"sqlite/init.sql": {Data: []byte("SELECT 1")}},
			MigrationLockKey: testLockKey, VersionTable: testVersionTable},
		"shared version": {Migrations: fstest.MapFS{"sqlite/0001_a.sql": {Data: []byte("SELECT 1")}, "sqlite/01_b.sql": {Data: []byte("SELECT 1")}},
			MigrationLockKey: testLockKey, VersionTable: testVersionTable},
		"no engine dir": {Migrations: fstest.MapFS{"postgres/0001_a.sql": {Data: []byte("SELECT 1")}},
			MigrationLockKey: testLockKey, VersionTable: testVersionTable},
	} {
		db, err := Open(ctx, dsn, opts)
		t.Logf("%s: %v", name, err)
		if err == nil {
			_ = db.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// InStatements runs each statement on its own snapshot: a write committed between two of its
// statements is seen by the second, which is what makes it cheaper than InRead and what its
// callers accept. Its Tx dies with fn, as a transaction's does.
func TestInStatements(t *testing.T) {
	eachEngine(t, func(t *testing.T, _ string, db *DB) {
		ctx := context.Background()
		base := queryInt(t, db, "SELECT COUNT(*) FROM items")
		var kept *Tx
		err := db.InStatements(ctx, func(tx *Tx) error {
			kept = tx
			var before, after int64
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM items").Scan(&before); err != nil {
				return err
			}
			if err := db.InWrite(ctx, func(w *Tx) error { return insertItem(ctx, w, 3001) }); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM items").Scan(&after); err != nil {
				return err
			}
			if before != base || after != base+1 {
				t.Errorf("statements counted %d then %d rows, want %d then %d", before, after, base, base+1)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if recover() == nil {
				t.Error("a statement through InStatements' Tx after fn returned did not panic")
			}
		}()
		_, _ = kept.Query(ctx, "SELECT 1")
	})
}

// TestWALCutBack: after a transaction far larger than the WAL limit, the WAL file is cut back to
// the limit at a later write, once a checkpoint has copied its frames into the database, instead
// of keeping the large transaction's size while the database is open.
func TestWALCutBack(t *testing.T) {
	const limit = 1 << 20
	defer func(old int64) { walSizeLimit = old }(walSizeLimit)
	walSizeLimit = limit
	path := filepath.Join(t.TempDir(), "test.db")
	db := openDB(t, path)
	ctx := context.Background()
	big := strings.Repeat("x", 4000)
	if err := db.InWrite(ctx, func(tx *Tx) error {
		for i := range 2000 { // about 8 MiB of pages
			if _, err := tx.Exec(ctx, "INSERT INTO items (id, name, note) VALUES (?, ?, ?)", 10_000+i, "big "+strconv.Itoa(i), big); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	walSize := func() int64 {
		t.Helper()
		st, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	if n := walSize(); n <= 4*limit {
		t.Fatalf("the large transaction left a WAL of %d bytes, expected several MiB", n)
	}
	for i := range 3 {
		if err := db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 20_000+i) }); err != nil {
			t.Fatal(err)
		}
	}
	if n := walSize(); n > limit {
		t.Fatalf("the WAL keeps %d bytes after later writes, limit %d", n, limit)
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM items WHERE id >= 10000"); n != 2003 {
		t.Fatalf("%d rows after the cut, want 2003", n)
	}
}
