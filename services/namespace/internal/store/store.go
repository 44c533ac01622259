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
//   - Deletion marks one row whatever the entry holds (docs/lifecycle.md): the entry's own,
//     with deleted_at and deleted_root = itself; its descendants stay below it, unreachable.
//     Every directory carries the totals of its subtree, kept along the parent chain by each
//     write, so counters move without counting. The entry becomes a recycle-bin item or is
//     queued for purging; DrainPurges removes queued subtrees later, deepest rows first.
//   - Structural changes of a space are serialised: SQLite has one writer connection, and
//     PostgreSQL takes a transaction-scoped advisory lock per space, exclusively for moves,
//     copies, deletes and overwrites (so concurrent moves can never create a cycle) and shared
//     for creates, which run side by side and meet at the unique name index (see inCreate).
package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// SQL is the store on one engine.
type SQL struct {
	// db holds the engine's connections (sqldb: one writer on SQLite, a capped pool on
	// PostgreSQL) and runs the transactions.
	db *sqldb.DB

	// Planner statistics on PostgreSQL (see analyzeAsTablesGrow).
	writes      atomic.Int64
	nextAnalyze atomic.Int64
	analyzing   atomic.Bool
	background  sync.WaitGroup

	// visits keeps share visits while nothing they read has changed (visitcache.go).
	visits visitCache
}

var _ app.Store = (*SQL)(nil)

// treeTxTimeout bounds the transactions that copy or delete a whole tree, space or library at
// once (sqldb.WithTxTimeout): their work grows with the data, so the default bound of a request's
// transaction would fail them on a healthy database. The caller's own deadline still applies.
const treeTxTimeout = 10 * time.Minute

// postgresMaxConns is each replica's connection budget.
const postgresMaxConns = 20

// Open opens the store named by dsn and applies the embedded migrations. A DSN starting with
// postgres:// or postgresql:// selects PostgreSQL; anything else is SQLite: a file path, the
// same prefixed with sqlite://, or a file: URI. txTimeout bounds each transaction (0 =
// sqldb.DefaultTxTimeout).
func Open(ctx context.Context, dsn string, txTimeout time.Duration) (*SQL, error) {
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{
		Migrations:       migrations,
		MigrationLockKey: migrationLockKey,
		VersionTable:     versionTable,
		PostgresMaxConns: postgresMaxConns,
		TxTimeout:        txTimeout,
		// Deleted entries, versions and change-feed events give their room back after the purge
		// (docs/smallfiles.md "Space comes back").
		ReturnFreePages: true,
		SQLiteBatchEnd:  indexPendingNames,
	})
	if err != nil {
		return nil, err
	}
	return &SQL{db: db, visits: newVisitCache()}, nil
}

// ReturnFreeSpace gives the room that deleted rows freed back to the file system (SQLite; a
// no-op on PostgreSQL, whose autovacuum makes it reusable).
func (s *SQL) ReturnFreeSpace(ctx context.Context) error { return s.db.ReturnFreePages(ctx) }

// Close waits for a running ANALYZE and releases the engine's connections.
func (s *SQL) Close() error {
	s.background.Wait()
	s.visits.cache.Close()
	return s.db.Close()
}

// Ping answers nil while the database answers (the readiness probe).
func (s *SQL) Ping(ctx context.Context) error { return s.db.Ping(ctx) }

// Engine names the engine: "sqlite" or "postgres".
func (s *SQL) Engine() string { return s.db.Engine() }

// spaceLockClass is the first key of the per-space advisory locks ("SMH" in ASCII); the
// migration lock uses the single-bigint key space, which PostgreSQL keeps apart from this one.
const spaceLockClass = 0x534d48

// inWrite runs fn in a write transaction. When space is non-empty the transaction first takes
// that space's structural lock on PostgreSQL (SQLite already has a single writer).
func (s *SQL) inWrite(ctx context.Context, libraryID, spaceID string, fn func(*sqldb.Tx) error) error {
	return s.inWriteLocked(ctx, libraryID, spaceID, "pg_advisory_xact_lock", fn)
}

// inCreate runs fn, which only adds entries (or changes attributes) and never moves, deletes or
// replaces one, in a write transaction holding the space's structural lock in shared mode on
// PostgreSQL: creates run side by side, and wait only for moves, copies and deletes, which take
// it exclusively, so a create can never land under a directory being deleted or moved.
// Concurrent creates of one name meet at the unique (parent, name) index; the loser runs fn
// again from the start, and then sees the winner's entry (ask: a conflict; rename: the next
// free name). Counters are row updates (x = x + 1), safe side by side.
func (s *SQL) inCreate(ctx context.Context, libraryID, spaceID string, fn func(*sqldb.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inWriteLocked(ctx, libraryID, spaceID, "pg_advisory_xact_lock_shared", fn)
		if err == nil || attempt == maxCreateAttempts || !retryable(err) {
			return err
		}
		// Every lost race follows a create that won, so all make progress; a short random pause
		// after a few losses spreads a crowd of same-name creates out.
		if attempt >= 4 {
			clock.Sleep(ctx, time.Duration(rand.Int64N(int64(attempt)*int64(time.Millisecond))))
		}
	}
}

// maxCreateAttempts bounds inCreate's retries: a create loses at most once to each concurrent
// create of the same name, so this is the crowd it rides out.
const maxCreateAttempts = 64

// retryable reports a failure that running a create again resolves: the unique name index hit
// by a concurrent create, or a deadlock PostgreSQL broke by aborting this transaction.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return sqldb.IsUniqueViolation(err) || (errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001"))
}

func (s *SQL) inWriteLocked(ctx context.Context, libraryID, spaceID, lockFunc string, fn func(*sqldb.Tx) error) error {
	err := s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		if t.Postgres() && spaceID != "" {
			if _, err := t.Exec(ctx, "SELECT "+lockFunc+"(?, hashtext(?))",
				spaceLockClass, libraryID+"/"+spaceID); err != nil {
				return fmt.Errorf("store: lock space: %w", err)
			}
		}
		return fn(t)
	})
	if err != nil {
		return err
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
	if !s.db.Postgres() {
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
		_ = s.db.InWrite(ctx, func(t *sqldb.Tx) error {
			_, err := t.Exec(ctx, "ANALYZE nodes, spaces")
			return err
		})
	}()
}

// inRead runs fn in a read-only transaction: one consistent snapshot on both engines (a WAL
// read transaction on SQLite, REPEATABLE READ on PostgreSQL).
func (s *SQL) inRead(ctx context.Context, fn func(*sqldb.Tx) error) error {
	return s.db.InRead(ctx, fn)
}

// wrap gives a driver error the store's prefix. The driver text stays in the chain for logs;
// the transport answers InternalError for anything that is not an app sentinel.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
