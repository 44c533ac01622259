// Package store is the namespace service's SQL store (app.Store) on two engines: SQLite in the
// data dir (the embedded default) and PostgreSQL (selected by a postgres:// DSN). Both run the
// same queries, written with "?" placeholders and rebound for PostgreSQL, against schemas that
// differ only in types (see migrations/).
//
// Decisions that shape every query:
//   - Times are integer Unix milliseconds (UTC): they sort correctly and compare cheaply on both
//     engines, and SMH answers milliseconds anyway (12.4).
//   - Names compare in byte order (SQLite BINARY, PostgreSQL COLLATE "C"), so a listing and a
//     listing marker mean the same on both engines and match Go's string comparison.
//   - Deletion is soft: rows get deleted_at (and deleted_root, the inode whose deletion took
//     them) and leave the live indexes; the recycle bin will restore or purge them later.
//     PurgeDeleted hard-deletes them meanwhile.
//   - Structural changes of a space are serialised: SQLite has one writer connection, and
//     PostgreSQL takes a transaction-scoped advisory lock per space, so concurrent moves can
//     never create a cycle and name checks cannot race.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// SQL is the store on one engine.
type SQL struct {
	postgres bool
	// write runs every write transaction. On SQLite it holds exactly one connection, so writers
	// queue in the pool (honouring their contexts) instead of failing with SQLITE_BUSY; on
	// PostgreSQL write and read are the same pool.
	write *sql.DB
	// read runs read-only transactions; on SQLite its connections read WAL snapshots while the
	// writer works.
	read *sql.DB

	// Planner statistics on PostgreSQL (see analyzeAsTablesGrow).
	writes      atomic.Int64
	nextAnalyze atomic.Int64
	analyzing   atomic.Bool
	background  sync.WaitGroup
}

var _ app.Store = (*SQL)(nil)

// sqliteBusyTimeoutMS bounds how long a connection waits for another process's lock on the file
// (this process never contends with itself: it has one writer).
const sqliteBusyTimeoutMS = 10000

// Open opens the store named by dsn and applies the embedded migrations. A DSN starting with
// postgres:// or postgresql:// selects PostgreSQL; anything else is SQLite: a file path, the
// same prefixed with sqlite://, or a file: URI.
func Open(ctx context.Context, dsn string) (*SQL, error) {
	var (
		s   *SQL
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s, err = openPostgres(dsn)
	} else {
		s, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func openPostgres(dsn string) (*SQL, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN, password included: keep it out of the message.
		return nil, errors.New("store: invalid PostgreSQL DSN")
	}
	db := stdlib.OpenDB(*cfg)
	// Bound each replica's connections: PostgreSQL's max_connections is shared by every replica,
	// and an unbounded pool turns a burst into "too many clients" for all of them.
	db.SetMaxOpenConns(postgresMaxConns)
	db.SetMaxIdleConns(postgresMaxConns / 2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &SQL{postgres: true, write: db, read: db}, nil
}

// postgresMaxConns is each replica's connection budget.
const postgresMaxConns = 20

func openSQLite(dsn string) (*SQL, error) {
	name := strings.TrimPrefix(dsn, "sqlite://")
	if name == "" {
		return nil, errors.New("store: empty SQLite path")
	}
	sep := "?"
	if strings.Contains(name, "?") {
		sep = "&"
	}
	common := url.Values{}
	common.Add("_pragma", "busy_timeout("+strconv.Itoa(sqliteBusyTimeoutMS)+")")
	common.Add("_pragma", "foreign_keys(1)")

	wv := url.Values{}
	for k, v := range common {
		wv[k] = append([]string(nil), v...)
	}
	// WAL lets readers work beside the writer; BEGIN IMMEDIATE takes the write lock at the start
	// of a transaction, so a transaction never fails half-way on a lock upgrade when another
	// process writes to the same file.
	wv.Add("_pragma", "journal_mode(WAL)")
	wv.Set("_txlock", "immediate")
	write, err := sql.Open("sqlite", name+sep+wv.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	// Keep the writer's connection: reopening costs the schema parse every time.
	write.SetConnMaxIdleTime(0)
	write.SetMaxIdleConns(1)

	rv := common
	rv.Add("_pragma", "query_only(1)")
	read, err := sql.Open("sqlite", name+sep+rv.Encode())
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	return &SQL{write: write, read: read}, nil
}

// Close waits for a running ANALYZE and releases the engine's connections.
func (s *SQL) Close() error {
	s.background.Wait()
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Engine names the engine: "sqlite" or "postgres".
func (s *SQL) Engine() string {
	if s.postgres {
		return "postgres"
	}
	return "sqlite"
}

// tx is one transaction with the engine's placeholder style.
type tx struct {
	tx       *sql.Tx
	postgres bool
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.rebind(query), args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.rebind(query), args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.rebind(query), args...)
}

// rebind turns "?" placeholders into PostgreSQL's "$1", "$2"... The queries of this package hold
// no "?" inside literals.
func (t *tx) rebind(query string) string {
	if !t.postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// spaceLockClass is the first key of the per-space advisory locks ("SMH" in ASCII); the
// migration lock uses the single-bigint key space, which PostgreSQL keeps apart from this one.
const spaceLockClass = 0x534d48

// inWrite runs fn in a write transaction. When space is non-empty the transaction first takes
// that space's structural lock on PostgreSQL (SQLite already has a single writer).
func (s *SQL) inWrite(ctx context.Context, libraryID, spaceID string, fn func(*tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	t := &tx{tx: sqlTx, postgres: s.postgres}
	if s.postgres && spaceID != "" {
		if _, err := t.exec(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(?))",
			spaceLockClass, libraryID+"/"+spaceID); err != nil {
			_ = sqlTx.Rollback()
			return fmt.Errorf("store: lock space: %w", err)
		}
	}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	s.analyzeAsTablesGrow()
	return nil
}

// firstAnalyze is the number of writes after which PostgreSQL first gets fresh statistics.
const firstAnalyze = 256

// analyzeAsTablesGrow refreshes PostgreSQL's statistics after 256, 1k, 4k, 16k ... writes of
// this process. Without statistics (a server with autovacuum off, or before its first run) the
// planner cannot tell the (parent, name) index from the (library, space) one and looks names up
// by scanning the whole space, so creates slow down as a directory grows (measured: 240/s →
// 21/s at 60k entries). Once analysed with data in it, the right index stays chosen. The
// schedule is geometric, so a long-running process analyses only a handful of times; the
// ANALYZE runs in the background, one at a time, and Close waits for it.
func (s *SQL) analyzeAsTablesGrow() {
	if !s.postgres {
		return
	}
	n := s.writes.Add(1)
	next := s.nextAnalyze.Load()
	if next == 0 {
		next = firstAnalyze
	}
	if n < next || !s.analyzing.CompareAndSwap(false, true) {
		return
	}
	s.nextAnalyze.Store(n * 4)
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		defer s.analyzing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Failure only leaves the statistics as they were; the next threshold tries again.
		_, _ = s.write.ExecContext(ctx, "ANALYZE nodes, spaces")
	}()
}

// inRead runs fn in a read-only transaction: one consistent snapshot on both engines (a WAL
// read transaction on SQLite, REPEATABLE READ on PostgreSQL).
func (s *SQL) inRead(ctx context.Context, fn func(*tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	sqlTx, err := s.read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	return fn(&tx{tx: sqlTx, postgres: s.postgres})
}

// isUniqueViolation reports whether err is a unique or primary-key constraint failure.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		code := liteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// wrap gives a driver error the store's prefix. The driver text stays in the chain for logs;
// the transport answers InternalError for anything that is not an app sentinel.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
