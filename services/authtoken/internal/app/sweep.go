package app

import (
	"context"
	"errors"
	"time"
)

// DefaultSweepBatch is the page size of SweepExpired when none is given: a few hundred KB per etcd
// range response, well under its request limits.
const DefaultSweepBatch = 500

// SweepExpired deletes from etcd every token that has been expired for longer than expiredGrace,
// reading the records in hash order, batch at a time. The flusher only collects tokens some
// instance still caches; a token minted and never used again would otherwise stay in etcd forever.
//
// Expiry is judged from the record (its recorded renewal + period), which may lag a use another
// instance has not written yet by at most about a minute; the grace covers that. Each deletion is
// a compare-and-swap on the mod revision read, so a renewal written meanwhile wins and the token
// is judged again at the next sweep. The sweep keeps no cursor: a crash or a new leader starts
// from the first hash, and what was deleted stays deleted, so re-running is safe and cheap.
//
// It answers how many tokens it deleted, also when it stops on an error.
func (t *Tokens) SweepExpired(ctx context.Context, batch int) (deleted int, err error) {
	if batch <= 0 {
		batch = DefaultSweepBatch
	}
	// One instant for the whole sweep: a later one would only delete more, and the next sweep
	// catches those.
	now := t.clock.Now().UnixNano()
	after := ""
	for {
		page, next, err := t.store.Scan(ctx, after, batch)
		if err != nil {
			return deleted, err
		}
		for _, st := range page {
			if !t.sweepable(st, now) {
				continue
			}
			rev, err := t.store.Delete(ctx, st.Hash, st.Record, st.ModRevision)
			switch {
			case err == nil:
				deleted++
				// Refuse here at once; other instances follow through the watch.
				if h, ok := decodeHash(st.Hash); ok {
					t.cache.remove(h, rev)
				}
			case errors.Is(err, ErrConflict):
				// Renewed, revoked or collected since the page was read.
			default:
				return deleted, err
			}
		}
		if next == "" {
			return deleted, nil
		}
		after = next
	}
}

// sweepable tells whether a stored token is past its expiry by more than expiredGrace. A use this
// instance has seen but not yet written counts too: it costs a map lookup and spares the token
// when this instance's flusher has fallen behind.
func (t *Tokens) sweepable(st StoredToken, now int64) bool {
	last := st.Record.LastRenewedAt.UnixNano()
	if h, ok := decodeHash(st.Hash); ok {
		if e := t.cache.get(&h); e != nil {
			last = max(last, e.lastActivity())
		}
	}
	return now >= last+st.Record.PeriodSeconds*int64(time.Second)+int64(expiredGrace)
}
