package app

import (
	"testing"
	"time"
)

// A load that read the token before its deletion must not bring it back, whichever of the load's
// insert and the watch's delete event comes first (cache.go, "Revocation safety").
func TestCacheRefusesLoadsOvertakenByDeletion(t *testing.T) {
	rec := Record{LibraryID: "lib", PeriodSeconds: 1200, LastRenewedAt: time.Unix(1000, 0)}
	h := [32]byte{1, 2, 3}

	tests := []struct {
		name    string
		prepare func(c *cache) uint64 // answers the epoch the load began in
		loadRev int64
		want    insertResult
	}{
		{name: "no deletion", prepare: func(c *cache) uint64 { return c.epoch.Load() }, loadRev: 5, want: inserted},
		{name: "deleted after the read", prepare: func(c *cache) uint64 {
			c.remove(h, 9)
			return c.epoch.Load()
		}, loadRev: 5, want: insertDeleted},
		{name: "re-synced during the read", prepare: func(c *cache) uint64 {
			e := c.epoch.Load()
			c.reset()
			return e
		}, loadRev: 5, want: insertStaleEpoch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache()
			epoch := tt.prepare(c)
			_, got := c.insert(newEntry(h, hexHash(h), rec, tt.loadRev), epoch)
			if got != tt.want {
				t.Fatalf("insert = %v, want %v", got, tt.want)
			}
			if cached := c.get(&h) != nil; cached != (tt.want == inserted) {
				t.Fatalf("cached = %v", cached)
			}
		})
	}

	t.Run("delete after insert", func(t *testing.T) {
		c := newCache()
		c.insert(newEntry(h, hexHash(h), rec, 5), c.epoch.Load())
		c.remove(h, 9)
		if c.get(&h) != nil {
			t.Fatal("entry survived its deletion")
		}
	})
	t.Run("tombstones are pruned", func(t *testing.T) {
		c := newCache()
		c.remove(h, 9)
		c.pruneTombstones(time.Now().Add(time.Minute))
		if _, got := c.insert(newEntry(h, hexHash(h), rec, 5), c.epoch.Load()); got != inserted {
			t.Fatalf("insert after prune = %v", got)
		}
	})
}

func TestEntryExpiryAndObserve(t *testing.T) {
	rec := Record{LibraryID: "lib", PeriodSeconds: 1200, LastRenewedAt: time.Unix(1000, 0)}
	e := newEntry([32]byte{}, "", rec, 3)
	start := time.Unix(1000, 0).UnixNano()
	if e.expired(start + 1199e9) {
		t.Error("expired early")
	}
	if !e.expired(start + 1200e9) {
		t.Error("not expired at the period")
	}
	e.touch(start + 1000e9)
	if e.expired(start + 2199e9) {
		t.Error("use did not slide the expiry")
	}
	e.observe(2, start) // older store state never moves values back
	if e.modRev.Load() != 3 || e.recorded.Load() != start {
		t.Error("observe moved backwards")
	}
}
