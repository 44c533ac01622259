package sqldb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/pkg/sqldb/sqldbtest"
)

// The group commit is SQLite's: these tests run on SQLite files only. None measures time; a
// test that needs calls to share a batch holds the writer with one call while the others queue
// (holdWriter, waitQueued), so the batches are the same on any machine.

func openSQLiteDB(t *testing.T) *DB {
	t.Helper()
	return openDB(t, filepath.Join(t.TempDir(), "test.db"))
}

// holdWriter runs a write call that blocks inside its function until release is called, so
// that the calls made meanwhile queue for the next batch. release waits for the call to end.
func holdWriter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	unblock, done := startHolding(db)
	return func() {
		t.Helper()
		unblock()
		if err := <-done; err != nil {
			t.Errorf("holding call: %v", err)
		}
	}
}

// startHolding starts a write call that blocks inside its function until unblock is called,
// and returns once the function runs; done answers the call's result.
func startHolding(db *DB) (unblock func(), done <-chan error) {
	running, release, result := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		result <- db.InWrite(context.Background(), func(*Tx) error {
			close(running)
			<-release
			return nil
		})
	}()
	<-running
	return func() { close(release) }, result
}

// waitQueued waits until n calls wait in the queue. It polls a condition, with no deadline but
// the test's own.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	for db.group.queued() < n {
		time.Sleep(time.Millisecond)
	}
}

func insertItem(ctx context.Context, tx *Tx, id int) error {
	_, err := tx.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", id, fmt.Sprintf("item %d", id))
	return err
}

func itemExists(t *testing.T, db *DB, id int) bool {
	t.Helper()
	return queryInt(t, db, "SELECT COUNT(*) FROM items WHERE id = ?", id) == 1
}

func TestGroupCommitConcurrentWrites(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	const writers, each = 64, 50
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				errs <- db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 1000+w*each+i) })
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Every write landed once (the id is the primary key): the seed row and writers*each more.
	if n := queryInt(t, db, "SELECT COUNT(*) FROM items WHERE id >= 1000"); n != writers*each {
		t.Fatalf("%d rows, want %d", n, writers*each)
	}
	if n := queryInt(t, db, "SELECT COUNT(DISTINCT id) FROM items WHERE id BETWEEN 1000 AND ?", 1000+writers*each-1); n != writers*each {
		t.Fatalf("%d distinct ids, want %d", n, writers*each)
	}
	t.Logf("%d calls in %d transactions", writers*each, db.group.batches.Load())
}

func TestGroupCommitBatches(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	release := holdWriter(t, db)
	const calls = 150 // more than two batches' worth
	type seen struct {
		batch int64
		err   error
	}
	results := make(chan seen, calls)
	for i := range calls {
		go func() {
			var batch int64
			err := db.InWrite(ctx, func(tx *Tx) error {
				batch = db.group.batches.Load()
				return insertItem(ctx, tx, 100+i)
			})
			results <- seen{batch, err}
		}()
	}
	waitQueued(t, db, calls)
	release()
	perBatch := map[int64]int{}
	for range calls {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		perBatch[r.batch]++
	}
	// The queued calls share transactions (the holding call had one of its own, or shared it
	// with the first of them), and none holds more than maxBatchCalls.
	if n := db.group.batches.Load(); n >= calls+1 {
		t.Fatalf("%d transactions for %d calls: no batching", n, calls+1)
	}
	for batch, n := range perBatch {
		if n > maxBatchCalls {
			t.Errorf("batch %d ran %d calls, more than %d", batch, n, maxBatchCalls)
		}
	}
	if len(perBatch) > calls/maxBatchCalls+2 {
		t.Errorf("%d calls in %d batches: %v", calls, len(perBatch), perBatch)
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM items WHERE id >= 100"); n != calls {
		t.Fatalf("%d rows, want %d", n, calls)
	}
}

// TestGroupCommitFailingCall runs a call that fails in the middle of a batch: its own rows
// vanish, its batch-mates' stay, and its caller gets the failure as it is.
func TestGroupCommitFailingCall(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		// fail runs after the call inserted its row; check judges what its caller saw.
		fail  func(ctx context.Context, tx *Tx) error
		check func(t *testing.T, err error, panicked any)
	}{
		{
			name: "returns an error",
			fail: func(context.Context, *Tx) error { return boom },
			check: func(t *testing.T, err error, _ any) {
				if err != boom {
					t.Fatalf("InWrite = %v, want fn's error unchanged", err)
				}
			},
		},
		{
			name: "a statement fails",
			fail: func(ctx context.Context, tx *Tx) error { return insertItem(ctx, tx, 1) }, // the seed's id
			check: func(t *testing.T, err error, _ any) {
				if !IsUniqueViolation(err) {
					t.Fatalf("InWrite = %v, want the unique violation", err)
				}
			},
		},
		{
			name: "panics",
			fail: func(context.Context, *Tx) error { panic(boom) },
			check: func(t *testing.T, err error, panicked any) {
				if panicked != boom {
					t.Fatalf("caller recovered %v (InWrite = %v), want fn's panic", panicked, err)
				}
			},
		},
		{
			name: "exits its goroutine",
			fail: func(context.Context, *Tx) error { runtime.Goexit(); return nil },
			check: func(t *testing.T, err error, panicked any) {
				if err != nil || panicked != nil {
					t.Fatalf("InWrite = %v, recovered %v: the caller's goroutine went on", err, panicked)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openSQLiteDB(t)
			ctx := context.Background()
			type seen struct {
				batch    int64
				err      error
				panicked any
			}
			call := func(id int, fail func(context.Context, *Tx) error) <-chan seen {
				out := make(chan seen, 1)
				go func() {
					var s seen
					defer func() {
						s.panicked = recover()
						out <- s
					}()
					s.err = db.InWrite(ctx, func(tx *Tx) error {
						s.batch = db.group.batches.Load()
						if err := insertItem(ctx, tx, id); err != nil {
							return err
						}
						if fail != nil {
							return fail(ctx, tx)
						}
						return nil
					})
				}()
				return out
			}
			release := holdWriter(t, db)
			before := call(21, nil)
			waitQueued(t, db, 1)
			failing := call(22, tt.fail)
			waitQueued(t, db, 2)
			after := call(23, nil)
			waitQueued(t, db, 3)
			release()
			b, f, a := <-before, <-failing, <-after
			if b.err != nil || b.panicked != nil || a.err != nil || a.panicked != nil {
				t.Fatalf("batch-mates: %v %v, %v %v", b.err, b.panicked, a.err, a.panicked)
			}
			tt.check(t, f.err, f.panicked)
			if b.batch != f.batch || f.batch != a.batch {
				t.Fatalf("batches %d, %d, %d: the calls did not share one", b.batch, f.batch, a.batch)
			}
			if !itemExists(t, db, 21) || !itemExists(t, db, 23) {
				t.Fatal("a batch-mate's row is missing")
			}
			if itemExists(t, db, 22) {
				t.Fatal("the failed call's row was committed")
			}
			// The writer goes on.
			if err := db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 24) }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGroupCommitFailureAnsweredAfterCommit runs a call that fails on a batch-mate's
// uncommitted row (the pattern of "create it unless it exists, then read it"): its caller hears
// the failure only once the batch has committed, so its next read finds the row.
func TestGroupCommitFailureAnsweredAfterCommit(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	create := func(id int) <-chan error {
		out := make(chan error, 1)
		go func() {
			out <- db.InWrite(ctx, func(tx *Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, 'once')", id)
				return err
			})
		}()
		return out
	}
	unblockHolder, holder := startHolding(db)
	first := create(71)
	waitQueued(t, db, 1)
	second := create(72)
	waitQueued(t, db, 2)
	// A third call, last in the batch, blocks: the batch cannot commit before it ends.
	blocking, unblock, third := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var unblockOnce sync.Once
	letGo := func() { unblockOnce.Do(func() { close(unblock) }) }
	defer letGo() // a failing test still lets the batch end, so Close does not wait for ever
	go func() {
		third <- db.InWrite(ctx, func(*Tx) error {
			close(blocking)
			<-unblock
			return nil
		})
	}()
	waitQueued(t, db, 3)
	unblockHolder() // its batch, or the next, takes the three
	<-blocking
	select {
	case err := <-second:
		t.Fatalf("the failed call answered (%v) before its batch committed", err)
	default:
	}
	letGo()
	if err := <-second; !IsUniqueViolation(err) {
		t.Fatalf("second create: %v, want the unique violation", err)
	}
	if !itemExists(t, db, 71) {
		t.Fatal("the second caller heard of the row before it was committed")
	}
	if err := errors.Join(<-holder, <-first, <-third); err != nil {
		t.Fatal(err)
	}
}

func TestGroupCommitCancelledBeforeStart(t *testing.T) {
	db := openSQLiteDB(t)
	ran := func(*Tx) error { t.Error("fn ran for a cancelled caller"); return nil }

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.InWrite(ctx, ran); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before the call: %v", err)
	}

	// Cancelled while queued behind a running batch: the caller is answered at once.
	release := holdWriter(t, db)
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.InWrite(ctx, ran) }()
	waitQueued(t, db, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while queued: %v", err)
	}
	release()

	// Cancelled while taken into a batch but before its turn: the call ahead of it in the batch
	// blocks.
	unblockFirst, first := startHolding(db)
	unblockAhead, blocked := make(chan struct{}), make(chan struct{})
	ahead := make(chan error, 1)
	go func() {
		ahead <- db.InWrite(context.Background(), func(*Tx) error {
			close(blocked)
			<-unblockAhead
			return nil
		})
	}()
	waitQueued(t, db, 1)
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- db.InWrite(ctx, ran) }()
	waitQueued(t, db, 2)
	unblockFirst() // the next batch (or this one) takes both queued calls
	<-blocked
	if n := db.group.queued(); n != 0 {
		t.Fatalf("%d calls still queued, want both taken", n)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before its turn: %v", err)
	}
	close(unblockAhead)
	if err := errors.Join(<-first, <-ahead); err != nil {
		t.Fatal(err)
	}
}

// cancelFromSQL lets a statement cancel its own context half-way: sqldb_test_cancel(key) calls
// the function stored under key.
var (
	cancelFromSQL     sync.Map // string -> context.CancelFunc
	registerCancelSQL sync.Once
)

// TestGroupCommitCancelledMidStatement cancels a caller's context while its INSERT runs. The
// SQLite driver would interrupt the statement, and an interrupted write rolls back the whole
// transaction, batch-mates included; in a batch the statement finishes instead, the caller's
// next statement fails, and only its savepoint rolls back.
func TestGroupCommitCancelledMidStatement(t *testing.T) {
	registerCancelSQL.Do(func() {
		sqlite.MustRegisterScalarFunction("sqldb_test_cancel", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			if cancel, ok := cancelFromSQL.Load(args[0]); ok {
				cancel.(context.CancelFunc)()
			}
			return "", nil
		})
	})
	db := openSQLiteDB(t)
	bg := context.Background()
	ctx, cancel := context.WithCancel(bg)
	cancelFromSQL.Store(t.Name(), cancel)
	t.Cleanup(func() { cancelFromSQL.Delete(t.Name()) })

	release := holdWriter(t, db)
	mate := func(id int) <-chan error {
		out := make(chan error, 1)
		go func() { out <- db.InWrite(bg, func(tx *Tx) error { return insertItem(bg, tx, id) }) }()
		return out
	}
	before := mate(31)
	waitQueued(t, db, 1)
	cancelled := make(chan error, 1)
	go func() {
		cancelled <- db.InWrite(ctx, func(tx *Tx) error {
			// Enough rows for the driver's cancellation check (every 1000 VM steps) to see the
			// cancel of the first row.
			if _, err := tx.Exec(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
				INSERT INTO items (id, name) SELECT 10000 + i, 'n' || i || sqldb_test_cancel(CASE i WHEN 1 THEN ? END) FROM n`,
				t.Name()); err != nil {
				return err
			}
			return insertItem(ctx, tx, 32)
		})
	}()
	waitQueued(t, db, 2)
	after := mate(33)
	waitQueued(t, db, 3)
	release()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	if err := errors.Join(<-before, <-after); err != nil {
		t.Fatalf("batch-mates: %v", err)
	}
	if !itemExists(t, db, 31) || !itemExists(t, db, 33) {
		t.Fatal("a batch-mate's row is missing")
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM items WHERE id >= 10000 OR id = 32"); n != 0 {
		t.Fatalf("%d rows of the cancelled call were committed", n)
	}
}

// TestGroupCommitLostTransaction ends the batch's transaction from inside a call (as SQLite
// does itself on a full disk or an I/O error): no caller whose work was in it hears nil, and
// the calls the batch had not started yet run in the next one.
func TestGroupCommitLostTransaction(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	write := func(id int, rollback bool) <-chan error {
		out := make(chan error, 1)
		go func() {
			out <- db.InWrite(ctx, func(tx *Tx) error {
				if err := insertItem(ctx, tx, id); err != nil || !rollback {
					return err
				}
				_, err := tx.Exec(ctx, "ROLLBACK")
				return err
			})
		}()
		return out
	}
	unblock, holding := startHolding(db)
	before := write(61, false)
	waitQueued(t, db, 1)
	culprit := write(62, true)
	waitQueued(t, db, 2)
	after := write(63, false)
	waitQueued(t, db, 3)
	unblock()
	for _, c := range []struct {
		id     int
		result <-chan error
		lands  bool
	}{{61, before, false}, {62, culprit, false}, {63, after, true}} {
		err := <-c.result
		if (err == nil) != c.lands || itemExists(t, db, c.id) != c.lands {
			t.Errorf("write %d: InWrite = %v, row committed %v; want it to land: %v", c.id, err, itemExists(t, db, c.id), c.lands)
		}
	}
	<-holding // nil or the loss, as it shared the batch or not
}

func TestTxUnusableAfterFn(t *testing.T) {
	ctx := context.Background()
	mustPanic := func(t *testing.T, what string, use func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s after fn returned did not panic", what)
			}
		}()
		use()
	}
	eachEngine(t, func(t *testing.T, _ string, db *DB) {
		for name, in := range map[string]func(context.Context, func(*Tx) error) error{"InWrite": db.InWrite, "InRead": db.InRead} {
			var kept *Tx
			if err := in(ctx, func(tx *Tx) error { kept = tx; return nil }); err != nil {
				t.Fatal(err)
			}
			mustPanic(t, name+" Exec", func() { _, _ = kept.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", 40, "forty") })
			mustPanic(t, name+" Query", func() { _, _ = kept.Query(ctx, "SELECT id FROM items") })
			mustPanic(t, name+" QueryRow", func() { _ = kept.QueryRow(ctx, "SELECT id FROM items") })
		}
		if itemExists(t, db, 40) {
			t.Fatal("a kept Tx wrote")
		}
	})
}

func TestGroupCommitClose(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	release := holdWriter(t, db)
	const waiting = 10
	errs := make(chan error, waiting)
	for i := range waiting {
		go func() { errs <- db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 50+i) }) }()
	}
	waitQueued(t, db, waiting)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	// Once Close has begun, a new call is refused at once, while the running batch still holds.
	for !closing(db) {
		time.Sleep(time.Millisecond)
	}
	if err := db.InWrite(ctx, func(*Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("InWrite while closing: %v", err)
	}
	release() // the running batch commits; Close waits for it
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range waiting {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("a call queued at Close: %v, want ErrClosed", err)
		}
	}
	<-db.group.stopped // the batch goroutine is gone
	if err := db.InWrite(ctx, func(*Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("InWrite after Close: %v", err)
	}
}

func closing(db *DB) bool {
	db.group.mu.Lock()
	defer db.group.mu.Unlock()
	return db.group.closed
}

// BenchmarkInWriteParallel measures small write transactions from many goroutines at once, the
// case group commit is for (go test -run - -bench InWriteParallel).
func BenchmarkInWriteParallel(b *testing.B) {
	db := openDB(b, filepath.Join(b.TempDir(), "bench.db"))
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(16) // 16 writers per GOMAXPROCS
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := 1000 + next.Add(1)
			if err := db.InWrite(ctx, func(tx *Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", id, fmt.Sprint("item ", id))
				return err
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestDurableAfterSync: a durable write is answered only after an fsync of the WAL that began
// after its COMMIT (its row is visible when the fsync begins, and the caller has not heard yet);
// a lazy write is answered at its COMMIT, with no fsync.
func TestDurableAfterSync(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	var answered atomic.Bool
	var checked atomic.Int64
	// The hook runs on walSync's goroutine, where t.Fatal must not be called: it reports with
	// t.Error only.
	db.group.durable.beforeSync = func(int) {
		var rows int64
		err := db.InRead(ctx, func(tx *Tx) error {
			return tx.QueryRow(ctx, "SELECT COUNT(*) FROM items WHERE id = 7000").Scan(&rows)
		})
		if err != nil || rows != 1 {
			t.Errorf("an fsync began before the COMMIT of the call it answers (%d rows, %v)", rows, err)
		}
		if answered.Load() {
			t.Error("the durable call was answered before its fsync")
		}
		checked.Add(1)
	}
	if err := db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 7000) }); err != nil {
		t.Fatal(err)
	}
	answered.Store(true)
	if checked.Load() != 1 {
		t.Fatalf("%d fsyncs ran for one durable write, want 1", checked.Load())
	}
	db.group.durable.beforeSync = nil

	syncs := db.group.durable.syncs.Load()
	if err := db.InLazyWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 7001) }); err != nil {
		t.Fatal(err)
	}
	if n := db.group.durable.syncs.Load() - syncs; n != 0 {
		t.Fatalf("a lazy write ran %d fsyncs, want none", n)
	}
	if !itemExists(t, db, 7001) {
		t.Fatal("the lazy write is not visible after it was answered")
	}
}

// TestGroupCommitMixedKinds: lazy and durable calls queued together share batches, and the
// durable ones of a batch share one fsync.
func TestGroupCommitMixedKinds(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	// Counted from before the holding call, whose batch and fsync count too.
	syncs, batches := db.group.durable.syncs.Load(), db.group.batches.Load()
	release := holdWriter(t, db)
	const writers, each = 16, 20
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		write := db.InWrite
		if w%2 == 0 {
			write = db.InLazyWrite
		}
		wg.Go(func() {
			for i := range each {
				errs <- write(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 5000+w*each+i) })
			}
		})
	}
	waitQueued(t, db, writers)
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM items WHERE id >= 5000"); n != writers*each {
		t.Fatalf("%d rows, want %d", n, writers*each)
	}
	// Each writer has one call queued at a time, so a batch holds at most one call per writer;
	// a batch with durable calls adds at most one fsync.
	s, b := db.group.durable.syncs.Load()-syncs, db.group.batches.Load()-batches
	if s == 0 || s > b {
		t.Fatalf("%d fsyncs for %d batches of %d durable calls, want between 1 and the batches", s, b, writers/2*each)
	}
}

// TestLazyWritePostgres: on PostgreSQL a lazy write is a transaction with synchronous_commit off,
// and a durable one keeps the server's setting.
func TestLazyWritePostgres(t *testing.T) {
	db := openDB(t, sqldbtest.PostgresDSN(t))
	ctx := context.Background()
	setting := func(write func(context.Context, func(*Tx) error) error) string {
		var v string
		if err := write(ctx, func(tx *Tx) error {
			return tx.QueryRow(ctx, "SELECT current_setting('synchronous_commit')").Scan(&v)
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := setting(db.InLazyWrite); v != "off" {
		t.Fatalf("lazy write: synchronous_commit %q, want off", v)
	}
	if v := setting(db.InWrite); v != "on" {
		t.Fatalf("durable write: synchronous_commit %q, want on", v)
	}
}

// TestBatchEnd: Options.SQLiteBatchEnd runs once in every batch, after its calls and before its
// COMMIT, so a reader never sees the calls' work without it; its failure rolls the whole batch
// back and fails every call of it, and the batches after it go on.
func TestBatchEnd(t *testing.T) {
	var (
		ends atomic.Int64
		fail atomic.Bool
	)
	opts := testOptions(t)
	opts.SQLiteBatchEnd = func(ctx context.Context, tx *Tx) error {
		ends.Add(1)
		if fail.Load() {
			return errors.New("upkeep failed")
		}
		// The upkeep: a tally of the rows, always equal to the count at a commit.
		_, err := tx.Exec(ctx, `UPDATE items SET note = (SELECT COUNT(*) FROM items) WHERE id = 1`)
		return err
	}
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	tallied := func() (tally, count int64) {
		t.Helper()
		err := db.InRead(ctx, func(tx *Tx) error {
			if err := tx.QueryRow(ctx, `SELECT CAST(note AS INTEGER) FROM items WHERE id = 1`).Scan(&tally); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM items`).Scan(&count)
		})
		if err != nil {
			t.Fatal(err)
		}
		return tally, count
	}

	// Calls queued behind a held writer share batches; the upkeep runs once in each.
	release := holdWriter(t, db)
	const calls = 40
	errs := make(chan error, calls)
	for i := range calls {
		go func() { errs <- db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 100+i) }) }()
	}
	waitQueued(t, db, calls)
	release()
	for range calls {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if tally, count := tallied(); tally != count {
			t.Fatalf("a reader saw %d rows with a tally of %d: the batch committed without its upkeep", count, tally)
		}
	}
	if e, b := ends.Load(), db.group.batches.Load(); e != b || b >= calls {
		t.Fatalf("the upkeep ran %d times in %d batches of %d calls", e, b, calls+1)
	}

	// A failing upkeep fails its batch whole.
	fail.Store(true)
	err = db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 500) })
	if err == nil || !strings.Contains(err.Error(), "upkeep failed") {
		t.Fatalf("a call whose batch's upkeep failed answered %v", err)
	}
	if itemExists(t, db, 500) {
		t.Fatal("the call's row stayed after its batch's upkeep failed")
	}
	fail.Store(false)
	if err := db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 501) }); err != nil {
		t.Fatal(err)
	}
	if tally, count := tallied(); tally != count || !itemExists(t, db, 501) {
		t.Fatalf("after a failed upkeep: tally %d of %d rows, row 501 there: %v", tally, count, itemExists(t, db, 501))
	}
}

// TestBatchStatementsSurviveAGivenUpCall: the calls of a batch share the statements bound to
// its transaction; a call whose caller gave up, the first of its batch to run the statement,
// fails it without spoiling it for the calls after it.
func TestBatchStatementsSurviveAGivenUpCall(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	// Run the statement once so that the cache prepares it for the batch below.
	if err := db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 10) }); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, db)
	results := make([]chan error, 3)
	for i := range results {
		results[i] = make(chan error, 1)
		go func() {
			callCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			results[i] <- db.InWrite(callCtx, func(tx *Tx) error {
				if i == 0 {
					cancel() // this caller gives up in the middle of its turn
				}
				return insertItem(callCtx, tx, 20+i)
			})
		}()
		waitQueued(t, db, i+1)
	}
	release()
	for i, r := range results {
		err := <-r
		if (i == 0) != (err != nil) {
			t.Fatalf("call %d answered %v", i, err)
		}
	}
	if itemExists(t, db, 20) || !itemExists(t, db, 21) || !itemExists(t, db, 22) {
		t.Fatalf("rows 20, 21, 22 there: %v %v %v; want false true true", itemExists(t, db, 20), itemExists(t, db, 21), itemExists(t, db, 22))
	}
}

// TestFailedSyncRefusesWrites: when an fsync of the WAL fails, the durable call it answers hears
// it, and from then on every write, durable or lazy, is refused as unavailable (503) without
// running, and Ping fails, even once the disk would sync again: after a failed fsync nothing
// written is known to be durable, and the kernel may report the next fsync as a success. Reads
// go on.
func TestFailedSyncRefusesWrites(t *testing.T) {
	db := openSQLiteDB(t)
	ctx := context.Background()
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	var fail atomic.Bool
	fail.Store(true)
	db.group.durable.syncFile = func(f *os.File) error {
		if fail.Load() {
			return syscall.EIO
		}
		return f.Sync()
	}
	err := db.InWrite(ctx, func(tx *Tx) error { return insertItem(ctx, tx, 8000) })
	if !errors.Is(err, syscall.EIO) || !errors.Is(err, smherr.ErrUnavailable) {
		t.Fatalf("the write whose fsync failed answered %v", err)
	}
	fail.Store(false)
	for _, write := range []func(context.Context, func(*Tx) error) error{db.InWrite, db.InLazyWrite} {
		ran := false
		err := write(ctx, func(tx *Tx) error { ran = true; return insertItem(ctx, tx, 8001) })
		if !errors.Is(err, smherr.ErrUnavailable) || !errors.Is(err, syscall.EIO) || ran {
			t.Fatalf("a write after the failed fsync answered %v (its function ran: %v)", err, ran)
		}
	}
	if err := db.Ping(ctx); !errors.Is(err, smherr.ErrUnavailable) {
		t.Fatalf("Ping after the failed fsync answered %v", err)
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM items"); n < 1 {
		t.Fatalf("reads after the failed fsync see %d rows", n)
	}
}
