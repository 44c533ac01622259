package app

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
)

// The token cache serves validation from memory (docs/architecture.md, "Authorization"): a hash, a
// map lookup under a shard's read lock and an atomic last-use update; no etcd I/O on a hit.
//
// Revocation safety. Entries are loaded lazily on a miss with one etcd Get, which races with the
// watch: the Get may read a token that is deleted before the loaded entry is inserted, and the
// delete event may already have been applied to a cache that did not hold the token yet. So
// every delete leaves a tombstone carrying its revision, and an insert is refused when a tombstone
// at or above the loaded record's mod revision exists. Tombstones only need to outlive in-flight
// loads; they are pruned after tombstoneTTL. A watch re-sync (after compaction, when deletions
// may have been missed) moves the epoch, and loads that began in an older epoch do not insert.

const (
	shardCount   = 64
	tombstoneTTL = 2 * time.Minute
)

type entry struct {
	hash      [32]byte
	hashHex   string
	libraryID string
	period    int64 // nanoseconds
	// rec is the record as loaded; only LastRenewedAt may be stale (recorded holds the truth).
	rec       Record
	principal *authz.Principal // shared, read-only
	// slides is false for share access tokens: a use neither extends their life nor gets
	// written as a renewal (13.9: valid 10 minutes from the mint).
	slides bool

	recorded atomic.Int64 // unix ns of the recorded renewal
	lastUse  atomic.Int64 // unix ns of this instance's last use
	modRev   atomic.Int64
	// confirmedExpired is the recorded renewal that the store confirmed as expired, so repeated
	// uses of an expired token are refused from memory.
	confirmedExpired atomic.Int64
}

func newEntry(hash [32]byte, hashHex string, rec Record, modRev int64) *entry {
	p := &authz.Principal{
		LibraryID: rec.LibraryID,
		SpaceIDs:  rec.SpaceIDs,
		AllSpaces: rec.AllSpaces,
		UserID:    rec.UserID,
		ClientID:  rec.ClientID,
		SessionID: rec.SessionID,
		ShareID:   rec.ShareID,
	}
	for _, g := range rec.Grants {
		if b, ok := authz.GrantBit(g); ok {
			p.Grants |= b
		}
	}
	e := &entry{
		hash:      hash,
		hashHex:   hashHex,
		libraryID: rec.LibraryID,
		period:    rec.PeriodSeconds * int64(time.Second),
		rec:       rec,
		principal: p,
		slides:    rec.ShareID == "",
	}
	renewed := rec.LastRenewedAt.UnixNano()
	e.recorded.Store(renewed)
	e.lastUse.Store(renewed)
	e.modRev.Store(modRev)
	return e
}

// lastActivity is the later of the recorded renewal and this instance's last use.
func (e *entry) lastActivity() int64 { return max(e.recorded.Load(), e.lastUse.Load()) }

// expiresAt is when the token lapses unless used again (section 1.1: now + period on each use).
func (e *entry) expiresAt() int64 { return e.lastActivity() + e.period }

func (e *entry) expired(now int64) bool { return now >= e.expiresAt() }

// touch records a use. Writes to the shared cache line are limited to one per second per token,
// which is far finer than any period (≥ 1200 s). A use of a token that does not slide is not
// recorded at all, so its expiry stays where the mint put it.
func (e *entry) touch(now int64) {
	if e.slides && now-e.lastUse.Load() >= int64(time.Second) {
		e.lastUse.Store(now)
	}
}

// observe merges what the store says (a read or a watched put): both values only move forward.
func (e *entry) observe(modRev, renewed int64) {
	storeMax(&e.modRev, modRev)
	storeMax(&e.recorded, renewed)
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

type tombstone struct {
	rev int64
	at  time.Time // wall time: it bounds in-flight network loads, not token lifetimes
}

// maxMissingPerShard bounds the tombstones of tokens looked up and not found, so that a flood
// of made-up tokens cannot grow memory without limit; deletion tombstones are never refused.
const maxMissingPerShard = 4096

type shard struct {
	mu      sync.RWMutex
	entries map[[32]byte]*entry
	tombs   map[[32]byte]tombstone
	_       [64]byte // keep shards' locks on separate cache lines
}

type cache struct {
	shards [shardCount]shard
	epoch  atomic.Uint64
}

func newCache() *cache {
	c := &cache{}
	for i := range c.shards {
		c.shards[i].entries = make(map[[32]byte]*entry)
		c.shards[i].tombs = make(map[[32]byte]tombstone)
	}
	return c
}

func (c *cache) shard(h *[32]byte) *shard { return &c.shards[h[0]%shardCount] }

func (c *cache) get(h *[32]byte) *entry {
	s := c.shard(h)
	s.mu.RLock()
	e := s.entries[*h]
	s.mu.RUnlock()
	return e
}

// gone reports a token known to be dead: deleted (seen here or through the watch) or looked up
// and not found within the tombstone TTL. Clients that retry a revoked or made-up token in a
// loop are then refused from memory instead of costing an etcd read each time.
func (c *cache) gone(h *[32]byte) bool {
	s := c.shard(h)
	s.mu.RLock()
	_, ok := s.tombs[*h]
	s.mu.RUnlock()
	return ok
}

// rememberMissing records a token the store does not hold. Revision 0 never blocks an insert:
// a token can only be presented after it was created, so a later record is a different story
// (and impossible with 256 random bits).
func (c *cache) rememberMissing(h [32]byte) {
	s := c.shard(&h)
	s.mu.Lock()
	if _, ok := s.tombs[h]; !ok && len(s.tombs) < maxMissingPerShard {
		s.tombs[h] = tombstone{at: time.Now()}
	}
	s.mu.Unlock()
}

type insertResult int

const (
	inserted insertResult = iota
	insertDeleted
	insertStaleEpoch
)

// insert adds e unless the token was deleted meanwhile or the cache was re-synced since epoch.
// When an entry is already there, it absorbs e's store state and stays (its last use matters).
func (c *cache) insert(e *entry, epoch uint64) (*entry, insertResult) {
	s := c.shard(&e.hash)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.epoch.Load() != epoch {
		return nil, insertStaleEpoch
	}
	if t, ok := s.tombs[e.hash]; ok && t.rev >= e.modRev.Load() {
		return nil, insertDeleted
	}
	if old := s.entries[e.hash]; old != nil {
		old.observe(e.modRev.Load(), e.recorded.Load())
		return old, inserted
	}
	s.entries[e.hash] = e
	return e, inserted
}

// remove drops a deleted token and remembers the deletion's revision.
func (c *cache) remove(h [32]byte, rev int64) {
	s := c.shard(&h)
	s.mu.Lock()
	delete(s.entries, h)
	if t, ok := s.tombs[h]; !ok || t.rev < rev {
		s.tombs[h] = tombstone{rev: rev, at: time.Now()}
	}
	s.mu.Unlock()
}

// evict drops an entry that is still live in the store (idle); a later use reloads it.
func (c *cache) evict(e *entry) {
	s := c.shard(&e.hash)
	s.mu.Lock()
	if s.entries[e.hash] == e {
		delete(s.entries, e.hash)
	}
	s.mu.Unlock()
}

// reset empties the cache after the watch lost events; loads begun before it will not insert.
func (c *cache) reset() {
	c.epoch.Add(1)
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.entries)
		clear(s.tombs)
		s.mu.Unlock()
	}
}

func (c *cache) pruneTombstones(before time.Time) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for h, t := range s.tombs {
			if t.at.Before(before) {
				delete(s.tombs, h)
			}
		}
		s.mu.Unlock()
	}
}

// snapshot lists the entries, for the flusher.
func (c *cache) snapshot() []*entry {
	var out []*entry
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		for _, e := range s.entries {
			out = append(out, e)
		}
		s.mu.RUnlock()
	}
	return out
}
