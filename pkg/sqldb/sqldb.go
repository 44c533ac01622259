// Package sqldb is the SQL engine plumbing the stores of several services share: one DSN opens
// either SQLite (modernc.org/sqlite, the embedded default) or PostgreSQL (pgx), the service's
// embedded migrations are applied on Open, and transactions run queries written with "?"
// placeholders on both engines (rebound to $1, $2... for PostgreSQL).
//
// On SQLite a DB holds one writer connection (BEGIN IMMEDIATE, WAL), so writers never fail with
// SQLITE_BUSY against each other, and a read-only pool that reads WAL snapshots beside the
// writer. On PostgreSQL both are one capped pool. What a store serialises beyond that (its own
// advisory locks, statistics upkeep) stays in the store.
//
// SQLite writes are group-committed. With a single writer, concurrent transactions would each
// wait for their own fsync of the WAL in turn. Instead the InWrite calls waiting at the same
// time share one transaction: each function runs, one after another, inside its own SAVEPOINT
// (a failing one rolls back to it, so only its own changes go), and one COMMIT ends the batch.
// The COMMIT does not wait for the disk; an fsync of the WAL after it does, beside the writer's
// next batch (walsync.go). A caller hears nil only after its batch's COMMIT, and for InWrite
// only after an fsync that followed it; every caller of the batch hears only after it ended
// (what a function saw of its batch-mates' work is true only then). PostgreSQL keeps one
// transaction per call: the server group-commits concurrent transactions itself.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Options configures Open.
type Options struct {
	// Migrations holds the schema steps: a sqlite/ and a postgres/ directory of files named
	// NNNN_what.sql (a positive version, '_', anything). Nil applies none.
	Migrations fs.FS
	// MigrationLockKey is the PostgreSQL advisory lock (single-bigint key space) that serialises
	// the migrations of replicas opening together; required with Migrations, and distinct per
	// service when services share a database.
	MigrationLockKey int64
	// VersionTable records the applied migrations (version, name, applied_at); required with
	// Migrations. Each service has its own, so services can share a database.
	VersionTable string
	// PostgresMaxConns caps each process's PostgreSQL connections (0 = 20): max_connections is
	// shared by every replica, and an unbounded pool turns a burst into "too many clients" for
	// all of them.
	PostgresMaxConns int
	// TxTimeout bounds each InRead and InWrite call, so that a database that stopped answering
	// fails the request (503 ServiceUnavailable) instead of holding it for ever (0 =
	// DefaultTxTimeout). A caller's earlier deadline still wins.
	TxTimeout time.Duration
	// ReturnFreePages keeps an SQLite file's free pages returnable to the file system
	// (auto_vacuum=INCREMENTAL, set up on Open, with a one-time VACUUM for a file made without
	// it): ReturnFreePages then shrinks the file by what deleted rows freed. For stores whose
	// rows carry bulk (the object store's inline blobs). No effect on PostgreSQL.
	ReturnFreePages bool
	// SQLiteBatchEnd, when set, runs once in every SQLite write transaction (a group-commit
	// batch) after its calls and before its COMMIT: upkeep that costs much less done once for
	// the batch than once for each of its calls (the namespace's search index,
	// docs/smallfiles.md "Search names, once a batch"). Readers never see a batch without it.
	// Its error rolls the whole batch back. Not run on PostgreSQL, where every write is a
	// transaction of its own.
	SQLiteBatchEnd func(ctx context.Context, t *Tx) error
}

// DefaultTxTimeout is TxTimeout when Options leaves it unset: far above any transaction a
// healthy database runs for a request, well below what a client waits before giving up.
const DefaultTxTimeout = 10 * time.Second

// DB is an open database on one engine.
type DB struct {
	postgres bool
	// write runs every write transaction. On SQLite it holds exactly one connection; on
	// PostgreSQL write and read are the same pool.
	write *sql.DB
	// read runs read-only transactions; on SQLite its connections read WAL snapshots while the
	// writer works.
	read *sql.DB
	// group batches InWrite's transactions on SQLite; nil on PostgreSQL.
	group *groupCommit
	// readStmts keeps SQLite's read statements prepared (stmtcache.go); nil on PostgreSQL,
	// whose driver keeps its own statement cache per connection.
	readStmts *stmtCache
	// metrics times InWrite and InRead.
	metrics txMetrics
	// txTimeout bounds every InWrite and InRead.
	txTimeout time.Duration
}

// defaultPostgresMaxConns is each process's connection budget when Options leaves it unset.
const defaultPostgresMaxConns = 20

// walSizeLimit is the size an SQLite WAL file is cut back to after a checkpoint (bytes); a
// variable so that a test can lower it.
var walSizeLimit int64 = 64 << 20

// sqliteBusyTimeoutMS bounds how long a connection waits for another process's lock on the file
// (a process never contends with itself: it has one writer).
const sqliteBusyTimeoutMS = 10000

// Open opens the database named by dsn and applies opts.Migrations. A DSN starting with
// postgres:// or postgresql:// selects PostgreSQL; anything else is SQLite: a file path, the
// same prefixed with sqlite://, or a file: URI. Errors never quote the DSN (it may hold a
// password).
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.Migrations != nil {
		if !identifier.MatchString(opts.VersionTable) {
			return nil, fmt.Errorf("sqldb: version table %q is not a plain lower-case identifier", opts.VersionTable)
		}
		if opts.MigrationLockKey == 0 {
			return nil, errors.New("sqldb: a migration lock key is required with migrations")
		}
	}
	var (
		db  *DB
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(dsn, opts.PostgresMaxConns)
	} else {
		db, err = openSQLite(dsn, opts.SQLiteBatchEnd)
	}
	if err != nil {
		return nil, err
	}
	db.metrics = newTxMetrics(db.Engine())
	db.txTimeout = opts.TxTimeout
	if db.txTimeout <= 0 {
		db.txTimeout = DefaultTxTimeout
	}
	if opts.ReturnFreePages && !db.postgres {
		if err := db.incrementalVacuum(ctx); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	if opts.Migrations != nil {
		if err := db.migrate(ctx, opts); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return db, nil
}

// identifier is what VersionTable may be: it is spliced into SQL.
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func openPostgres(dsn string, maxConns int) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN, password included: keep it out of the message.
		return nil, errors.New("sqldb: invalid PostgreSQL DSN")
	}
	if maxConns <= 0 {
		maxConns = defaultPostgresMaxConns
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	// Every open connection may stay idle: a pool that keeps fewer than it opens closes one each
	// time a burst ends and opens one (a PostgreSQL backend process, forked and authenticated:
	// milliseconds) at the next, so under steady load above the idle limit most queries waited
	// for a new connection. Idle ones still close after ConnMaxIdleTime.
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{postgres: true, write: db, read: db}, nil
}

func openSQLite(dsn string, batchEnd func(context.Context, *Tx) error) (*DB, error) {
	name := strings.TrimPrefix(dsn, "sqlite://")
	if name == "" {
		return nil, errors.New("sqldb: empty SQLite path")
	}
	path := sqliteFile(name)
	if err := privateSQLiteFile(path); err != nil {
		return nil, err
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
	// NORMAL: a COMMIT returns once its frames are in the WAL, not on disk; the group commit
	// answers a durable call after an fsync of the WAL that followed its COMMIT (walsync.go).
	wv.Add("_pragma", "synchronous(NORMAL)")
	// Each call of a group-committed batch runs in a savepoint, so every page a call changes
	// first is copied to the sub-journal, a temporary file by default: one write(2) per page,
	// measured at a third of a file commit's CPU. In memory it is a copy.
	wv.Add("_pragma", "temp_store(MEMORY)")
	// A WAL keeps the size of its largest transaction for as long as the database is open (a
	// large batch delete's, say) unless a limit tells SQLite to cut it back once a checkpoint has
	// made its frames useless (at the next write).
	wv.Add("_pragma", "journal_size_limit("+strconv.FormatInt(walSizeLimit, 10)+")")
	wv.Set("_txlock", "immediate")
	write, err := sql.Open("sqlite", name+sep+wv.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqldb: open sqlite: %w", err)
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
		return nil, fmt.Errorf("sqldb: open sqlite: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	wal := ""
	if path != "" {
		wal = path + "-wal"
	}
	return &DB{write: write, read: read, group: newGroupCommit(write, wal, batchEnd), readStmts: newStmtCache()}, nil
}

// Close releases the engine's connections. On SQLite it lets a running batch of writes commit,
// answers the InWrite calls still waiting with ErrClosed, and stops the batch goroutine first.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.close()
	}
	if db.readStmts != nil {
		db.readStmts.close()
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// txTimeoutKey carries a transaction bound set by WithTxTimeout.
type txTimeoutKey struct{}

// WithTxTimeout answers ctx with d as the bound of the transactions run under it, in place of
// the DB's TxTimeout: for the few transactions whose work grows with the data (a whole tree
// copied or deleted in one transaction), which a healthy database may take minutes over.
func WithTxTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, txTimeoutKey{}, d)
}

func (db *DB) txTimeoutFor(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(txTimeoutKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return db.txTimeout
}

// Ping checks that the database answers (a connection, and a round trip on it), and on SQLite
// that its writes are not refused after a failed fsync of the WAL: the readiness probe of the
// services that own a store. Its error is marked as InRead's is. It asks a reader:
// SQLite's one writer may be busy with a long transaction (a large directory copy) for longer
// than a probe waits, and the store answers meanwhile.
func (db *DB) Ping(ctx context.Context) error {
	if db.group != nil {
		if err := db.group.lost(); err != nil {
			return err // the writes are refused: not ready (walSync.sync)
		}
	}
	return markUnavailable(ctx, db.read.PingContext(ctx))
}

// Postgres reports whether the engine is PostgreSQL.
func (db *DB) Postgres() bool { return db.postgres }

// Engine names the engine: "sqlite" or "postgres".
func (db *DB) Engine() string {
	if db.postgres {
		return "postgres"
	}
	return "sqlite"
}

// InWrite runs fn in a write transaction and commits its work when fn returns nil; otherwise
// (or when fn panics) fn's work rolls back and fn's error is returned as it is (a panic goes on
// up the caller's goroutine). InWrite answers once the transaction has ended: nil means the
// COMMIT holding fn's work has returned. A ctx done before fn starts answers ctx.Err() and fn
// never runs.
//
// On SQLite write functions run one at a time, and those waiting together share a transaction
// (see the package comment): fn sees the work of the functions before it in the batch, as it
// would have seen it committed, so its error too is answered only when the batch has committed
// (a row fn found taken is then there for everyone); if the batch fails, its error replaces
// fn's. fn must leave transaction control alone (no BEGIN, COMMIT, ROLLBACK, RELEASE or
// PRAGMA), must not call InWrite, and must not wait for a lock or a signal that another caller
// holds across its own InWrite: that call may be in fn's batch, waiting for fn to end so that
// the batch commits, for ever. A cancellation of ctx does not interrupt a statement already
// running (see Tx); fn's next statement fails with ctx.Err(). On PostgreSQL each call is a
// transaction at the default isolation (READ COMMITTED), so a store that must serialise more
// takes its own lock first thing in fn.
//
// On SQLite fn's work is visible to readers from its batch's COMMIT, a moment before the fsync
// that InWrite waits for: a reader may see work that a machine crash in that moment undoes (never
// a process crash), though no writer can build on it durably without covering it, as a later
// commit's fsync covers every earlier frame of the WAL (docs/smallfiles.md).
//
// The call runs under the DB's TxTimeout; a failure to reach the database, or that deadline,
// answers an error marked smherr.ErrUnavailable (see markUnavailable).
func (db *DB) InWrite(ctx context.Context, fn func(*Tx) error) error {
	return db.inWrite(ctx, fn, false)
}

// InLazyWrite is InWrite for writes that a machine's crash may undo harmlessly: its COMMIT
// returns without waiting for the disk. The work is committed and visible to every reader when
// it answers, and survives the process being killed (the OS holds it), but reaches the disk only
// with the next InWrite's fsync, a checkpoint, or, on PostgreSQL, the WAL writer within
// moments (synchronous_commit off for this transaction). Never for anything a client is told
// is stored: an upload session's opening is lazy (a lost one answers 404 and the client begins
// again), the bytes it receives are not.
func (db *DB) InLazyWrite(ctx context.Context, fn func(*Tx) error) error {
	return db.inWrite(ctx, fn, true)
}

// inWrite is InWrite and InLazyWrite: metrics, the transaction bound, and the group commit on
// SQLite or a transaction of its own on PostgreSQL (there, a lazy one turns synchronous_commit
// off for itself).
func (db *DB) inWrite(ctx context.Context, fn func(*Tx) error, lazy bool) (err error) {
	defer db.metrics.observe(ctx, kindWrite, time.Now(), &err)
	err = errUnfinished // what the metrics see if fn panics: a return replaces it
	ctx, cancel := context.WithTimeout(ctx, db.txTimeoutFor(ctx))
	defer cancel()
	if db.group != nil {
		return markUnavailable(ctx, db.group.inWrite(ctx, fn, lazy))
	}
	if lazy {
		work := fn
		fn = func(t *Tx) error {
			if _, err := t.Exec(ctx, `SET LOCAL synchronous_commit TO OFF`); err != nil {
				return err
			}
			return work(t)
		}
	}
	return markUnavailable(ctx, db.inOwnTransaction(ctx, fn))
}

// inOwnTransaction runs fn in a write transaction of its own: InWrite on PostgreSQL, and the
// migrations on both engines (they run before any traffic, and their SQL may be anything).
func (db *DB) inOwnTransaction(ctx context.Context, fn func(*Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqldb: begin: %w", err)
	}
	// After a successful Commit this does nothing.
	defer func() { _ = sqlTx.Rollback() }()
	tx := &Tx{tx: sqlTx, postgres: db.postgres, bound: ctx}
	defer tx.end()
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqldb: commit: %w", err)
	}
	return nil
}

// InRead runs fn in a read-only transaction: one consistent snapshot on both engines (a WAL
// read transaction on SQLite, REPEATABLE READ on PostgreSQL). fn's error is returned as it is,
// marked smherr.ErrUnavailable as InWrite's is; the call runs under the DB's TxTimeout.
func (db *DB) InRead(ctx context.Context, fn func(*Tx) error) (err error) {
	defer db.metrics.observe(ctx, kindRead, time.Now(), &err)
	err = errUnfinished
	ctx, cancel := context.WithTimeout(ctx, db.txTimeoutFor(ctx))
	defer cancel()
	return markUnavailable(ctx, db.inReadTransaction(ctx, fn))
}

// InStatements runs fn's statements on the readers without a transaction: each statement reads
// its own snapshot. A read that is one statement, or whose statements need no common snapshot,
// saves BEGIN and COMMIT: two round trips on PostgreSQL, and on SQLite a read transaction's
// setup, which costs as much as a short query. Errors, timeout and metrics are InRead's.
func (db *DB) InStatements(ctx context.Context, fn func(*Tx) error) (err error) {
	defer db.metrics.observe(ctx, kindRead, time.Now(), &err)
	err = errUnfinished
	ctx, cancel := context.WithTimeout(ctx, db.txTimeoutFor(ctx))
	defer cancel()
	tx := &Tx{pool: db.read, postgres: db.postgres, bound: ctx, stmts: db.readStmts}
	func() {
		defer tx.end()
		err = fn(tx)
	}()
	if db.readStmts != nil {
		db.readStmts.preparePending(ctx, db.read)
	}
	return markUnavailable(ctx, err)
}

func (db *DB) inReadTransaction(ctx context.Context, fn func(*Tx) error) error {
	err := db.inReadOnce(ctx, fn)
	if db.readStmts != nil {
		// The transaction's connection is back in the pool: prepare what it ran unprepared.
		db.readStmts.preparePending(ctx, db.read)
	}
	return err
}

func (db *DB) inReadOnce(ctx context.Context, fn func(*Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	sqlTx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("sqldb: begin: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	tx := &Tx{tx: sqlTx, postgres: db.postgres, bound: ctx, stmts: db.readStmts}
	defer tx.end()
	return fn(tx)
}

// Tx is one transaction (or, from InStatements, statements each on their own snapshot) with the
// engine's placeholder style: queries are written with "?" and hold no "?" inside literals or
// identifiers. A Tx is valid only while the function it was given to runs; a statement through
// it afterwards panics (on SQLite the transaction belongs to other callers by then).
type Tx struct {
	tx *sql.Tx
	// pool runs the statements instead of tx when there is no transaction (InStatements).
	pool     *sql.DB
	postgres bool
	// shared marks a transaction that other callers' functions share (an SQLite batch).
	shared bool
	// done is set when the function the Tx was given to returns.
	done atomic.Bool
	// bound is the context the transaction began with (TxTimeout included); its deadline bounds
	// every statement too, whatever context the statement is given. Nil in a shared transaction.
	bound context.Context
	// given and bounded remember the last statement context made for the bound: stores pass the
	// same context to every statement of a transaction, so one is made per transaction.
	given, bounded context.Context
	// releases free the statement contexts made for the bound, when the function returns.
	releases []context.CancelFunc
	// stmts keeps SQLite's statements prepared (stmtcache.go), the writer's or the readers';
	// nil on PostgreSQL.
	stmts *stmtCache
	// batchStmts keeps the statements bound to tx for all the calls of an SQLite batch; nil
	// elsewhere.
	batchStmts txStmts
}

// end marks the Tx dead once its function returned and frees its statement contexts.
func (t *Tx) end() {
	t.done.Store(true)
	for _, release := range t.releases {
		release()
	}
}

// Postgres reports whether the transaction runs on PostgreSQL (for the few clauses that differ,
// such as FOR UPDATE).
func (t *Tx) Postgres() bool { return t.postgres }

// Exec runs a statement.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.statementContext(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	if t.tx == nil {
		return t.pool.ExecContext(ctx, t.rebind(query), args...)
	}
	return t.tx.ExecContext(ctx, t.rebind(query), args...)
}

// Query runs a query answering rows.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.statementContext(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	if t.tx == nil {
		return t.pool.QueryContext(ctx, t.rebind(query), args...)
	}
	return t.tx.QueryContext(ctx, t.rebind(query), args...)
}

// QueryRow runs a query answering at most one row.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.statementContext(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	if t.tx == nil {
		return t.pool.QueryRowContext(ctx, t.rebind(query), args...)
	}
	return t.tx.QueryRowContext(ctx, t.rebind(query), args...)
}

// statementContext answers the context a statement of t runs with. In a shared transaction it
// keeps ctx's values but not its cancellation: the SQLite driver interrupts a running statement
// when its context is cancelled, and an interrupted INSERT, UPDATE or DELETE rolls back the
// whole transaction, the batch-mates' work included. A ctx already done still fails the
// statement (database/sql checks it before reaching the driver), so a caller that gives up fails
// at its next statement and only its savepoint rolls back; a statement already running finishes.
func (t *Tx) statementContext(ctx context.Context) context.Context {
	if t.done.Load() {
		panic("sqldb: Tx used after the function it was given to returned")
	}
	if t.shared {
		if ctx.Err() != nil {
			return ctx
		}
		return context.WithoutCancel(ctx)
	}
	// The statement's context may lack the transaction's deadline (stores pass their caller's):
	// a statement on a database that stopped answering must end with the transaction.
	if ctx == t.given {
		return t.bounded
	}
	d, ok := t.bound.Deadline()
	if sd, has := ctx.Deadline(); !ok || (has && !d.Before(sd)) {
		return ctx
	}
	bounded, release := context.WithDeadline(ctx, d)
	t.releases = append(t.releases, release)
	t.given, t.bounded = ctx, bounded
	return bounded
}

func (t *Tx) rebind(query string) string {
	if !t.postgres {
		return query
	}
	return rebind(query)
}

// rebind turns "?" placeholders into PostgreSQL's "$1", "$2"...
func rebind(query string) string {
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

// IsUniqueViolation reports whether err is a unique or primary-key constraint failure on
// either engine.
func IsUniqueViolation(err error) bool {
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
