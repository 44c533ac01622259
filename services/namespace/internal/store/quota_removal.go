package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// The removal of quota.removeWhenExceed (6.1, docs/lifecycle.md "Quota removal"): the cleanup job
// notes when a quota's usage first goes above its capacity (over_since); removeAfterDays later
// it removes, for good, first the bin's items (oldest removal first), then files (oldest creation
// first, newest with removeNewest) with their versions, until the usage fits again.

// removalCandidates is how many files one look at the quota's spaces considers.
const removalCandidates = 50

// EnforceQuotaRemovals is one round of the removal over every quota with removeWhenExceed; it
// removes at most limit entries and answers how many it removed.
func (s *SQL) EnforceQuotaRemovals(ctx context.Context, now time.Time, limit int) (int64, error) {
	limit = clampPurge(limit)
	var ids []int32
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		rows, err := t.Query(ctx, "SELECT id FROM quotas WHERE remove_when_exceed = ? ORDER BY id", true)
		if err != nil {
			return wrap("quota removal", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int32
			if err := rows.Scan(&id); err != nil {
				return wrap("quota removal", err)
			}
			ids = append(ids, id)
		}
		return wrap("quota removal", rows.Err())
	})
	if err != nil {
		return 0, err
	}
	var total int64
	for _, id := range ids {
		if total >= int64(limit) {
			break
		}
		n, err := s.enforceRemoval(ctx, id, now, limit-int(total))
		if err != nil && !errors.Is(err, app.ErrQuotaNotFound) {
			return total, err
		}
		total += n
	}
	return total, nil
}

// enforceRemoval runs the removal of one quota in one transaction. Locks come in the order the
// writes take them (a space's structural lock, then the quota's row in checkQuota), so the job
// and a write never wait for each other in a cycle: a round that only notes or clears over_since
// locks the quota's row alone; a round that removes takes, on PostgreSQL, its spaces' structural
// locks (in space order, as a delete holds its space's) before the row.
func (s *SQL) enforceRemoval(ctx context.Context, id int32, now time.Time, limit int) (int64, error) {
	var removed int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		removed = 0
		var (
			lib       string
			capacity  int64
			afterDays int64
			newest    bool
			overSince sql.NullInt64
		)
		err := t.QueryRow(ctx, `SELECT library_id, capacity, remove_after_days, remove_newest, over_since FROM quotas WHERE id = ?`, id).
			Scan(&lib, &capacity, &afterDays, &newest, &overSince)
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrQuotaNotFound
		}
		if err != nil {
			return wrap("quota removal", err)
		}
		usage, err := quotaUsage(ctx, t, id)
		if err != nil {
			return err
		}
		due := usage > capacity && overSince.Valid && !now.Before(fromMillis(overSince.Int64).Add(time.Duration(afterDays)*day))
		if !due {
			return noteOverQuota(ctx, t, id, overSince.Valid, now)
		}
		spaces, err := quotaSpaces(ctx, t, id)
		if err != nil {
			return err
		}
		if t.Postgres() {
			for _, sp := range spaces {
				if _, err := t.Exec(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(?))", spaceLockClass, lib+"/"+sp); err != nil {
					return wrap("quota removal", err)
				}
			}
		}
		if capacity, usage, err = lockedUsage(ctx, t, id); err != nil {
			return err
		}
		for usage > capacity && removed < int64(limit) {
			ok, err := removeOldestItem(ctx, t, lib, spaces, now)
			if err == nil && !ok {
				ok, err = removeFile(ctx, t, lib, spaces, newest, now)
			}
			if err != nil {
				return err
			}
			if !ok {
				break // nothing left to remove: only directories hold the usage
			}
			removed++
			if usage, err = quotaUsage(ctx, t, id); err != nil {
				return err
			}
		}
		if usage <= capacity {
			_, err := t.Exec(ctx, "UPDATE quotas SET over_since = NULL WHERE id = ?", id)
			return wrap("quota removal", err)
		}
		return nil
	})
	return removed, err
}

// noteOverQuota records, under the quota's row, whether its usage is above its capacity now:
// the time it first was (over_since), or nothing once it fits.
func noteOverQuota(ctx context.Context, t *sqldb.Tx, id int32, noted bool, now time.Time) error {
	capacity, usage, err := lockedUsage(ctx, t, id)
	if err != nil {
		return err
	}
	switch {
	case usage <= capacity && noted:
		_, err = t.Exec(ctx, "UPDATE quotas SET over_since = NULL WHERE id = ?", id)
	case usage > capacity && !noted:
		_, err = t.Exec(ctx, "UPDATE quotas SET over_since = ? WHERE id = ?", millis(now), id)
	}
	return wrap("quota removal", err)
}

// spaceArgs answers "IN (?, ...)" and its arguments for spaces.
func spaceArgs(spaces []string) (string, []any) {
	in, args := "(", make([]any, 0, len(spaces))
	for i, sp := range spaces {
		if i > 0 {
			in += ", "
		}
		in += "?"
		args = append(args, sp)
	}
	return in + ")", args
}

// removeOldestItem purges the bin item removed first among spaces; false when the bins are empty.
func removeOldestItem(ctx context.Context, t *sqldb.Tx, lib string, spaces []string, now time.Time) (bool, error) {
	in, args := spaceArgs(spaces)
	item, err := scanItem(t.QueryRow(ctx, "SELECT "+itemColumns+` FROM recycled_items r JOIN nodes n ON n.inode = r.inode
		WHERE r.library_id = ? AND r.space_id IN `+in+` ORDER BY r.removed_at, r.id LIMIT 1`, append([]any{lib}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("quota removal", err)
	}
	// The item's versions go now, so that its bytes leave the usage at once.
	if err := dropVersionsOf(ctx, t, item.LibraryID, item.SpaceID, []int64{item.node.Inode}); err != nil {
		return false, err
	}
	return true, purgeItemBy(ctx, t, item, deletion{byQuota: true}, now)
}

// removeFile deletes for good the live file created first (last with newest) among spaces, with
// its versions; false when there is none. Rows below a deleted entry (binned, or queued for
// purging) are not live and are passed over.
func removeFile(ctx context.Context, t *sqldb.Tx, lib string, spaces []string, newest bool, now time.Time) (bool, error) {
	in, args := spaceArgs(spaces)
	dir, op := "ASC", ">"
	if newest {
		dir, op = "DESC", "<"
	}
	var after *nodeRow
	for {
		q := "SELECT " + nodeColumns + ` FROM nodes WHERE library_id = ? AND space_id IN ` + in + `
			AND is_dir = 0 AND type <> 'symlink' AND deleted_at IS NULL`
		qargs := append([]any{lib}, args...)
		if after != nil {
			q += " AND (created_at, inode) " + op + " (?, ?)"
			qargs = append(qargs, millis(after.CreatedAt), after.Inode)
		}
		rows, err := t.Query(ctx, q+" ORDER BY created_at "+dir+", inode "+dir+" LIMIT ?", append(qargs, removalCandidates)...)
		if err != nil {
			return false, wrap("quota removal", err)
		}
		var cands []nodeRow
		for rows.Next() {
			n, err := scanNode(rows)
			if err != nil {
				rows.Close()
				return false, wrap("quota removal", err)
			}
			cands = append(cands, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, wrap("quota removal", err)
		}
		for _, n := range cands {
			if _, err := pathOf(ctx, t, n.LibraryID, n.SpaceID, n.Inode); errors.Is(err, app.ErrNodeNotFound) {
				continue
			} else if err != nil {
				return false, err
			}
			if err := dropVersionsOf(ctx, t, n.LibraryID, n.SpaceID, []int64{n.Inode}); err != nil {
				return false, err
			}
			_, err := deleteEntryBy(ctx, t, n, app.WriteRules{}, deletion{byQuota: true}, now)
			return err == nil, err
		}
		if len(cands) < removalCandidates {
			return false, nil
		}
		after = &cands[len(cands)-1]
	}
}
