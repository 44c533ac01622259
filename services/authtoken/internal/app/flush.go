package app

import (
	"context"
	"errors"
	"time"
)

// expiredGrace is how long past its expiry a token is kept before the flusher (collect) or the
// sweep (SweepExpired) deletes it from etcd: longer than any renewal another instance may hold
// unwritten (RenewalWriteInterval plus one FlushEvery, about 70 s by default), so a token still
// in use elsewhere is never deleted. The margin also absorbs clock skew between instances.
const expiredGrace = 5 * time.Minute

func (t *Tokens) flushLoop(ctx context.Context) {
	tick := time.NewTicker(t.flushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fctx, cancel := context.WithTimeout(ctx, t.flushEvery)
			_ = t.FlushRenewals(fctx) // retried on the next tick; errors carry no token data
			cancel()
			t.cache.pruneTombstones(time.Now().Add(-tombstoneTTL))
		}
	}
}

// FlushRenewals writes the renewals that use has made due: a token used at least
// RenewalWriteInterval after its recorded renewal gets its last use recorded, so heavy use costs
// at most one etcd write per token per interval. It also collects expired tokens and drops idle
// entries. The flusher calls it every FlushEvery; tests call it to flush deterministically.
func (t *Tokens) FlushRenewals(ctx context.Context) error {
	return t.flush(ctx, false)
}

// flush with all=true writes every unwritten use, whatever its age (on Close).
func (t *Tokens) flush(ctx context.Context, all bool) error {
	now := t.clock.Now().UnixNano()
	var errs []error
	for _, e := range t.cache.snapshot() {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		last, recorded := e.lastUse.Load(), e.recorded.Load()
		switch {
		case now >= e.expiresAt()+int64(expiredGrace):
			t.collect(ctx, e)
		case last > recorded && (all || last-recorded >= int64(t.writeInterval)):
			if err := t.writeRenewal(ctx, e, last); err != nil && !errors.Is(err, ErrInvalidAccessToken) {
				errs = append(errs, err)
			}
		case last <= recorded && now-last >= int64(t.idleEviction):
			t.cache.evict(e)
		}
	}
	return errors.Join(errs...)
}

// collect deletes a long-expired token, unless its record changed (a renewal elsewhere).
func (t *Tokens) collect(ctx context.Context, e *entry) {
	rev, err := t.store.Delete(ctx, e.hashHex, e.rec, e.modRev.Load())
	switch {
	case err == nil:
		t.cache.remove(e.hash, rev)
	case errors.Is(err, ErrConflict):
		// Renewed or deleted elsewhere; the watch brings the news. Drop the entry so the next use
		// reads the truth.
		t.cache.evict(e)
	}
}
