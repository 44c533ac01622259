package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed answers an SQLite InWrite once Close has begun.
var ErrClosed = errors.New("sqldb: closed")

const (
	// maxBatchCalls bounds the calls one transaction takes, so that its first callers' commit
	// never waits behind an endless queue.
	maxBatchCalls = 64
	// maxBatchSpan is how long a batch keeps taking calls that arrive while it runs; past it the
	// batch runs what it has taken and commits.
	maxBatchSpan = 5 * time.Millisecond
	// savepoint frames each call of a batch; one exists at a time.
	savepoint = "sqldb_call"
)

// groupCommit owns SQLite's write transactions. SQLite has one writer, and a durable COMMIT
// waits for an fsync of the WAL, so committing every InWrite alone costs one fsync per write
// and concurrent writers queue for it. groupCommit takes the calls waiting at the same time,
// runs them one after another in one transaction, each in its own savepoint, and commits once.
// The COMMIT itself does not wait for the disk (synchronous=NORMAL): the batch's durable calls
// are answered by walSync after an fsync that began after it, while the writer runs the next
// batch, so the writer never waits for the disk and one fsync covers the batches committed
// while the one before it ran. A call's function runs on its caller's goroutine (its panic
// unwinds the caller, its captured variables stay its own); the batch goroutine only frames it.
type groupCommit struct {
	write *sql.DB
	// stmts keeps the writer's statements prepared across batches (stmtcache.go).
	stmts *stmtCache

	mu     sync.Mutex
	queue  []*writeCall
	closed bool

	// batchEnd runs after a batch's calls, before its COMMIT (Options.SQLiteBatchEnd); nil for
	// none.
	batchEnd func(context.Context, *Tx) error

	// durable answers durable calls after their batch's COMMIT reached the disk; nil for an
	// in-memory database, which has no disk to reach.
	durable *walSync

	// wake tells run that the queue grew or Close began; buffered, so a wake-up is never lost.
	wake chan struct{}
	// stopped is closed when run returns.
	stopped chan struct{}

	// batches counts the transactions begun (for tests: it shows that batching happens).
	batches atomic.Int64
}

// newGroupCommit starts the batch goroutine on write, the single-connection writer pool of the
// database whose WAL is the file wal ("" in memory); close stops it.
func newGroupCommit(write *sql.DB, wal string, batchEnd func(context.Context, *Tx) error) *groupCommit {
	g := &groupCommit{write: write, stmts: newStmtCache(), batchEnd: batchEnd, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	if wal != "" {
		g.durable = newWALSync(wal)
	}
	go g.run()
	return g
}

// writeCall is one InWrite waiting for, or having, its turn in a batch.
type writeCall struct {
	// lazy calls are answered at their batch's COMMIT (InLazyWrite); durable ones after the
	// fsync that follows it.
	lazy bool
	// state moves from callWaiting to callStarted (the batch took it: its turn message comes)
	// or to callCancelled (its caller gave up first: the batch skips it).
	state atomic.Int32
	// start hands the caller its turn: the batch's transaction with the call's savepoint open,
	// or the reason it never runs.
	start chan turn
	// ran tells the batch whether fn succeeded (its savepoint is released) or not (rolled back).
	ran chan bool
	// result is the batch's end: nil once its COMMIT returned, or why nothing of it landed.
	result chan error
}

const (
	callWaiting int32 = iota
	callStarted
	callCancelled
)

type turn struct {
	tx *sql.Tx
	// batchStmts keeps the statements bound to tx for the whole batch (txStmts).
	batchStmts txStmts
	err        error
}

// shared answers the Tx through which one function works in the batch's transaction (a call's,
// or the batch end's).
func (t turn) shared(stmts *stmtCache) *Tx {
	return &Tx{tx: t.tx, shared: true, stmts: stmts, batchStmts: t.batchStmts}
}

// inWrite queues fn for a batch and runs it, on this goroutine, when its turn comes. Whether fn
// succeeds or fails, it answers only at the batch's end: what fn saw, and so its result or its
// error, may rest on the work of batch-mates before it (a row it found taken, a counter it
// read), which is true for others only once the batch has committed. If the batch does not
// commit, its error replaces fn's: what fn saw never happened.
func (g *groupCommit) inWrite(ctx context.Context, fn func(*Tx) error, lazy bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &writeCall{lazy: lazy, start: make(chan turn, 1), ran: make(chan bool, 1), result: make(chan error, 1)}
	if err := g.enqueue(c); err != nil {
		return err
	}
	var t turn
	select {
	case t = <-c.start:
	case <-ctx.Done():
		if c.state.CompareAndSwap(callWaiting, callCancelled) {
			return ctx.Err()
		}
		t = <-c.start // a batch took it first: its turn is coming
	}
	if t.err != nil {
		return t.err
	}
	if err := ctx.Err(); err != nil {
		c.ran <- false
		return err
	}
	err := c.runFn(t, g.stmts, fn)
	if batchErr := <-c.result; batchErr != nil {
		return batchErr
	}
	return err
}

// runFn runs fn in the batch's transaction and tells the batch whether its work stays. A panic
// (or runtime.Goexit, as t.Fatal does) counts as a failure and goes on up the caller's
// goroutine. The Tx dies with fn: the transaction is another caller's afterwards.
func (c *writeCall) runFn(t turn, stmts *stmtCache, fn func(*Tx) error) error {
	tx := t.shared(stmts)
	succeeded := false
	defer func() {
		tx.done.Store(true)
		c.ran <- succeeded
	}()
	err := fn(tx)
	succeeded = err == nil
	return err
}

// refuse answers a call that will not run with err, unless its caller gave up already.
func (c *writeCall) refuse(err error) {
	if c.state.CompareAndSwap(callWaiting, callStarted) {
		c.start <- turn{err: err}
	}
}

func (g *groupCommit) enqueue(c *writeCall) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	g.queue = append(g.queue, c)
	g.mu.Unlock()
	g.signal()
	return nil
}

func (g *groupCommit) signal() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// take removes up to n calls from the queue, in queue order. None once Close has begun.
func (g *groupCommit) take(n int) (calls []*writeCall, closed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, true
	}
	n = min(n, len(g.queue))
	calls = slices.Clone(g.queue[:n])
	clear(g.queue[:n])
	g.queue = g.queue[n:]
	return calls, false
}

// requeue puts calls a lost batch did not start back at the front of the queue.
func (g *groupCommit) requeue(calls []*writeCall) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		for _, c := range calls {
			c.refuse(ErrClosed)
		}
		return
	}
	g.queue = append(slices.Clone(calls), g.queue...)
}

// queued answers how many calls wait in the queue (cancelled ones included until a batch drops
// them).
func (g *groupCommit) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// close refuses new calls and those still queued, lets a running batch finish and waits for
// the batch goroutine to return.
func (g *groupCommit) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.signal()
	<-g.stopped
	if g.durable != nil {
		g.durable.close()
	}
	g.stmts.close()
}

func (g *groupCommit) run() {
	defer close(g.stopped)
	for range g.wake {
		for {
			calls, closed := g.take(maxBatchCalls)
			if closed {
				g.mu.Lock()
				left := g.queue
				g.queue = nil
				g.mu.Unlock()
				for _, c := range left {
					c.refuse(ErrClosed)
				}
				return
			}
			if len(calls) == 0 {
				break
			}
			g.batch(calls)
		}
	}
}

// batch runs calls, and those that arrive meanwhile within the bounds, in one transaction, and
// commits it once.
func (g *groupCommit) batch(calls []*writeCall) {
	tx, err := g.begin()
	if err != nil {
		for _, c := range calls {
			c.refuse(err)
		}
		return
	}
	g.batches.Add(1)
	bound := txStmts{}
	began := time.Now()
	var (
		ran  []*writeCall // calls that had their turn, waiting for the batch's end
		lost error        // tx is gone: SQLite rolled it back
	)
	for i := 0; lost == nil; i++ {
		if i == len(calls) {
			if len(calls) >= maxBatchCalls || time.Since(began) >= maxBatchSpan {
				break
			}
			more, _ := g.take(maxBatchCalls - len(calls))
			if len(more) == 0 {
				break
			}
			calls = append(calls, more...)
		}
		var hadTurn bool
		hadTurn, lost = g.runCall(tx, bound, calls[i])
		if hadTurn {
			ran = append(ran, calls[i])
		}
		if lost != nil {
			g.requeue(calls[i+1:])
		}
	}
	if lost == nil && len(ran) > 0 && g.batchEnd != nil {
		lost = g.endBatch(tx, bound)
	}
	if lost != nil {
		_ = tx.Rollback()
		err = fmt.Errorf("sqldb: batch rolled back: %w", lost)
	} else if err = tx.Commit(); err != nil {
		err = fmt.Errorf("sqldb: commit: %w", err)
	}
	// A caller whose fn panicked or did not run reads no result; the channel holds it.
	var durable []*writeCall
	for _, c := range ran {
		if err == nil && !c.lazy && g.durable != nil {
			durable = append(durable, c)
			continue
		}
		c.result <- err
	}
	if g.durable != nil {
		g.durable.answerAfterSync(durable)
	}
	// The connection is free until the next batch begins, on this goroutine.
	g.stmts.preparePending(context.Background(), g.write)
}

// begin starts a batch's transaction, unless the database refuses writes (lost). The transaction
// lives beyond any caller's context: a caller that gives up must not roll back the others' work.
func (g *groupCommit) begin() (*sql.Tx, error) {
	if err := g.lost(); err != nil {
		return nil, err
	}
	tx, err := g.write.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, fmt.Errorf("sqldb: begin: %w", err)
	}
	return tx, nil
}

// lost answers the WAL fsync failure after which the database refuses every write
// (walSync.sync; marked unavailable); nil while the WAL syncs, and always in memory.
func (g *groupCommit) lost() error {
	if g.durable == nil {
		return nil
	}
	return g.durable.lost()
}

// endBatch runs batchEnd in tx, after every call of the batch had its turn.
func (g *groupCommit) endBatch(sqlTx *sql.Tx, bound txStmts) error {
	tx := turn{tx: sqlTx, batchStmts: bound}.shared(g.stmts)
	defer tx.done.Store(true)
	if err := g.batchEnd(context.Background(), tx); err != nil {
		return fmt.Errorf("batch end: %w", err)
	}
	return nil
}

// runCall gives c its turn in tx inside a savepoint, and releases or rolls back the savepoint
// by fn's outcome. hadTurn reports that c had its turn and waits for the batch's end; lost, that
// tx itself is gone (a savepoint statement failed, as it does after SQLite rolled the whole
// transaction back on I/O failure or a full disk), so nothing of the batch can commit.
func (g *groupCommit) runCall(tx *sql.Tx, bound txStmts, c *writeCall) (hadTurn bool, lost error) {
	if !c.state.CompareAndSwap(callWaiting, callStarted) {
		return false, nil // its caller gave up before its turn
	}
	if _, err := tx.Exec("SAVEPOINT " + savepoint); err != nil {
		err = fmt.Errorf("savepoint: %w", err)
		c.start <- turn{err: fmt.Errorf("sqldb: %w", err)}
		return false, err
	}
	c.start <- turn{tx: tx, batchStmts: bound}
	if <-c.ran {
		if _, err := tx.Exec("RELEASE " + savepoint); err != nil {
			return true, fmt.Errorf("release savepoint: %w", err)
		}
		return true, nil
	}
	// fn failed, panicked or did not run: only its own changes go.
	if _, err := tx.Exec("ROLLBACK TO " + savepoint); err != nil {
		return true, fmt.Errorf("rollback to savepoint: %w", err)
	}
	if _, err := tx.Exec("RELEASE " + savepoint); err != nil {
		return true, fmt.Errorf("release savepoint: %w", err)
	}
	return true, nil
}
