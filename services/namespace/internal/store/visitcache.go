package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/opensmh/opensmh/pkg/cache"
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

// maxCachedVisits bounds the visits kept (past it the oldest go); a visit of more than
// maxCachedVisitItems items (a share's root with many entries) is not kept, so the cache holds at
// most about 400,000 entries' rows. visitTTL only frees memory: an entry is checked against what
// it read on every use, and one outdated by a write is never answered again.
const (
	maxCachedVisits     = 4096
	maxCachedVisitItems = 100
	visitTTL            = 10 * time.Minute
)

// visitKey names one answer of readVisit: what was visited and the state it was read in, so an
// entry is only found by a visit that read the same state. Concurrent visits of one state
// share one read (pkg/cache).
type visitKey struct {
	path               string // code, item limit and chain
	pk, version, stamp int64
}

type visitCache struct {
	cache *cache.Cache[visitKey, cachedVisit]
	// hits counts the visits answered without a read of their own.
	hits atomic.Int64
}

type cachedVisit struct {
	visit app.ShareVisit
	keep  bool
}

func newVisitCache() visitCache {
	return visitCache{cache: cache.New[visitKey](visitTTL, maxCachedVisits,
		cache.WithExpiry(func(v cachedVisit) time.Time {
			if !v.keep {
				return time.Time{}
			}
			return time.Now().Add(visitTTL)
		}))}
}

func visitPath(code string, chain []int64, itemLimit int) string {
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

// VisitShare answers readVisit's answer, from the cache while what it read is unchanged.
func (s *SQL) VisitShare(ctx context.Context, code string, chain []int64, itemLimit int) (app.ShareVisit, error) {
	now, err := s.shareState(ctx, code)
	if err != nil {
		return app.ShareVisit{}, err
	}
	key := visitKey{path: visitPath(code, chain, itemLimit), pk: now.pk, version: now.version, stamp: now.sequence}
	var read atomic.Bool
	e, err := s.visits.cache.Get(ctx, key, func(ctx context.Context) (cachedVisit, error) {
		read.Store(true)
		v, err := s.readVisit(ctx, code, chain, itemLimit)
		// The state was read first: a write since then moved it, and this entry is never found
		// again. A visit of another share under the same code, or of another version, is not kept.
		keep := err == nil && v.Share.PK == now.pk && v.Share.Version == now.version && len(v.Items) <= maxCachedVisitItems
		return cachedVisit{visit: v, keep: keep}, err
	})
	if err != nil {
		return app.ShareVisit{}, err
	}
	v := e.visit
	v.Items = slices.Clone(v.Items) // the caller's own: callers sort them
	if !read.Load() {
		s.visits.hits.Add(1)
		now.apply(&v.Share) // switches and counters as this visit read them
	}
	return v, nil
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
