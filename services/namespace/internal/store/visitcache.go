package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Share visits are the hot path of a popular link: every visitor's list, preview and download
// reads the share and walks from its items through the tree (readVisit). That answer changes
// only when the share or its space is written, so the store keeps it and checks, in one short
// statement by primary keys, what proves it still holds (docs/shares.md, "Visitor speed"):
//
//   - the space's change-feed sequence (spaces.delta_seq), which every write to the space's
//     entries moves in its transaction (the change feed records every write:
//     TestDeltaRecordsEveryWrite);
//   - the share's version, which every change of its name or configuration moves (UpdateShare);
//   - the share's switches and counters, which change without the version, read fresh each time.
//
// It holds across processes (PostgreSQL replicas, any writer of a SQLite file). A disabled or
// deleted share refuses at once (the switches are read on every visit, a deleted share has no
// row), and expiry is judged against the clock on every call.

// maxCachedVisits bounds the visits kept; a visit of more than maxCachedVisitItems items (a
// share's root with many entries) is not kept, so the cache holds at most about 400,000 entries'
// rows.
const (
	maxCachedVisits     = 4096
	maxCachedVisitItems = 100
)

type visitCache struct {
	mu      sync.Mutex
	entries map[string]cachedVisit
	// hits counts the visits answered from the cache.
	hits atomic.Int64
}

type cachedVisit struct {
	stamp int64
	visit app.ShareVisit
}

func visitKey(code string, chain []int64, itemLimit int) string {
	var b strings.Builder
	b.WriteString(code)
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(itemLimit))
	for _, in := range chain {
		b.WriteByte('/')
		b.WriteString(strconv.FormatInt(in, 10))
	}
	return b.String()
}

// get answers the visit kept under key with stamp. Its Items are the caller's own (callers sort
// them).
func (c *visitCache) get(key string, stamp int64) (app.ShareVisit, bool) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok || e.stamp != stamp {
		return app.ShareVisit{}, false
	}
	c.hits.Add(1)
	v := e.visit
	v.Items = slices.Clone(v.Items)
	return v, true
}

func (c *visitCache) put(key string, stamp int64, v app.ShareVisit) {
	if len(v.Items) > maxCachedVisitItems {
		return
	}
	v.Items = slices.Clone(v.Items)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]cachedVisit{}
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= maxCachedVisits {
		for k := range c.entries { // any one: a full cache of live shares is rare, and cheap to refill
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = cachedVisit{stamp: stamp, visit: v}
}

// VisitShare answers readVisit's answer, from the cache while what it read is unchanged.
func (s *SQL) VisitShare(ctx context.Context, code string, chain []int64, itemLimit int) (app.ShareVisit, error) {
	now, err := s.shareState(ctx, code)
	if err != nil {
		return app.ShareVisit{}, err
	}
	key := visitKey(code, chain, itemLimit)
	if v, ok := s.visits.get(key, now.sequence); ok && v.Share.PK == now.pk && v.Share.Version == now.version {
		now.apply(&v.Share)
		return v, nil
	}
	v, err := s.readVisit(ctx, code, chain, itemLimit)
	if err == nil && v.Share.PK == now.pk {
		// The sequence was read first: a write since then outdates the entry.
		s.visits.put(key, now.sequence, v)
	}
	return v, err
}

// visitState is what a visit reads of its share every time.
type visitState struct {
	pk, version               int64
	adminOn, ownerOn          int
	previewUsed, downloadUsed int64
	sequence                  int64 // the space's change-feed sequence
}

// apply sets what changes without the share's version.
func (st visitState) apply(sh *app.Share) {
	sh.AdminEnabled, sh.OwnerEnabled = st.adminOn != 0, st.ownerOn != 0
	sh.PreviewUsed, sh.DownloadUsed = st.previewUsed, st.downloadUsed
}

func (s *SQL) shareState(ctx context.Context, code string) (visitState, error) {
	var st visitState
	err := s.db.InStatements(ctx, func(t *sqldb.Tx) error {
		err := t.QueryRow(ctx, `SELECT s.id, s.version, s.admin_enabled, s.owner_enabled, s.preview_used, s.download_used,
			sp.delta_seq FROM shares s JOIN spaces sp ON sp.library_id = s.library_id AND sp.space_id = s.space_id
			WHERE s.code = ?`, code).Scan(&st.pk, &st.version, &st.adminOn, &st.ownerOn, &st.previewUsed, &st.downloadUsed, &st.sequence)
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrShareNotFound
		}
		return wrap("share", err)
	})
	return st, err
}
