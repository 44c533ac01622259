package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the statements the SQLite writer keeps prepared. Stores build a
// few queries with a variable number of placeholders (IN lists); once the cache is full, new
// queries simply run unprepared, as every query did before the cache.
const maxCachedStatements = 512

// stmtCache keeps SQLite's statements prepared across transactions, one cache for the writer
// and one for the readers. Preparing
// (parsing and planning) costs about as much as running a short statement, and a write
// transaction runs the same few dozen statements over and over (a batch delete of 1,000 files
// runs each of its statements 1,000 times). Every write runs on the one writer connection, so
// a statement prepared once serves every later transaction.
//
// A statement cannot be prepared while a transaction holds the writer's only connection
// (database/sql's Prepare would wait for a free one), so a transaction that misses the cache
// runs its statement unprepared and notes it; the batch goroutine prepares the noted
// statements between transactions, when the connection is free.
type stmtCache struct {
	mu      sync.Mutex
	ready   map[string]*sql.Stmt
	pending map[string]struct{}
}

func newStmtCache() *stmtCache {
	return &stmtCache{ready: map[string]*sql.Stmt{}, pending: map[string]struct{}{}}
}

// lookup answers the prepared statement of query, or nil after noting it for preparePending.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.ready[query]; ok {
		return st
	}
	if len(c.ready)+len(c.pending) < maxCachedStatements {
		c.pending[query] = struct{}{}
	}
	return nil
}

// preparePending prepares the noted statements on db, with a connection of db's pool; the
// caller holds none (the writer's batch goroutine between batches, a reader after its
// transaction). database/sql then prepares each on the other connections of the pool the first
// time a transaction there runs it, and keeps it. A statement that fails to prepare (it may
// rely on a table made later in its transaction) is dropped; it keeps running unprepared.
func (c *stmtCache) preparePending(ctx context.Context, db *sql.DB) {
	c.mu.Lock()
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.ready[q]; ok {
			_ = st.Close()
		} else {
			c.ready[q] = st
		}
		c.mu.Unlock()
	}
}

// close releases every prepared statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.ready {
		_ = st.Close()
		delete(c.ready, q)
	}
}

// stmt answers t's statement for query: the cache's prepared one, bound to t's transaction if
// t has one, when t has a cache and it holds query; else nil (the caller runs query unprepared).
func (t *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	st := t.stmts.lookup(query)
	if st == nil || t.tx == nil {
		return st // without a transaction the pool's statement serves as it is
	}
	if t.batchStmts == nil || ctx.Err() != nil {
		// A done context binds a statement that fails at every use: never one to keep.
		return t.tx.StmtContext(ctx, st)
	}
	b, ok := t.batchStmts[st]
	if !ok {
		b = t.tx.StmtContext(ctx, st)
		t.batchStmts[st] = b
	}
	return b
}

// txStmts keeps the prepared statements bound to one SQLite batch's transaction. database/sql
// makes a new transaction statement at each Tx.StmtContext, and the calls of a batch run the
// same statements (five file commits run each of theirs five times): bound once, each serves
// the whole batch, and database/sql closes it with the transaction. The calls of a batch run
// one after another (groupCommit hands the transaction from one to the next), so the map needs
// no lock.
type txStmts map[*sql.Stmt]*sql.Stmt
