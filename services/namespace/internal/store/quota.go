package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Quotas (SMH API section 6, decision 16, docs/lifecycle.md "Quota"). A space's usage is
// its counters size + recycled_size + history_size, kept exact by the writes themselves, so a
// quota's usage is a sum over its few spaces' rows: no tree is counted at check time.

// usageExpr is a space row's usage: live bytes, bytes in the bin, bytes of versions.
const usageExpr = "(s.size + s.recycled_size + s.history_size)"

// libraryLockClass keys the PostgreSQL advisory lock that serialises the writes checked against
// a library's own cap (libraryQuota): a quota has a row to lock, the library's cap has none here.
const libraryLockClass = 0x534d4851 // "SMHQ"

// checkQuota runs at the end of every write transaction that adds live bytes (liveAdded > 0),
// after the counters moved: when the space's quota, or the library's (rules.LibraryQuota), is
// now below its usage (live + versions + bin), it answers app.ErrQuotaLimitReached and the
// transaction rolls back, so the refused write changed nothing. Concurrent writers to one quota
// are serialised on it, so usage never passes the capacity.
//
// On PostgreSQL (READ COMMITTED) the quota's row is locked first (FOR UPDATE) and the usage read
// by the next statement, so it sees every write that held the lock before: two writers to two
// spaces of one quota cannot both pass on stale sums. The library's cap is serialised the same
// way on an advisory lock, always taken after the quota's, so the two never deadlock. SQLite has
// one writer: every transaction already sees all earlier ones.
func checkQuota(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string, liveAdded int64, rules app.WriteRules) error {
	if liveAdded <= 0 {
		return nil
	}
	id, ok, err := quotaIDOfSpace(ctx, t, libraryID, spaceID)
	if err != nil {
		return err
	}
	if ok {
		capacity, usage, err := lockedUsage(ctx, t, id)
		if err != nil {
			return err
		}
		if usage > capacity {
			return app.ErrQuotaLimitReached
		}
	}
	if rules.LibraryQuota > 0 {
		if t.Postgres() {
			if _, err := t.Exec(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(?))", libraryLockClass, libraryID); err != nil {
				return wrap("lock library quota", err)
			}
		}
		usage, err := libraryUsage(ctx, t, libraryID)
		if err != nil {
			return err
		}
		if usage > rules.LibraryQuota {
			return app.ErrQuotaLimitReached
		}
	}
	return nil
}

// quotaIDOfSpace answers the id of the quota covering a space; ok false when none does.
func quotaIDOfSpace(ctx context.Context, t *sqldb.Tx, libraryID, spaceID string) (id int32, ok bool, err error) {
	err = t.QueryRow(ctx, "SELECT quota_id FROM quota_spaces WHERE library_id = ? AND space_id = ?", libraryID, spaceID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, wrap("quota of space", err)
	}
	return id, true, nil
}

// lockQuota answers a quota's capacity, holding its row until the transaction ends on
// PostgreSQL. app.ErrQuotaNotFound when there is no such quota.
func lockQuota(ctx context.Context, t *sqldb.Tx, id int32) (int64, error) {
	q := "SELECT capacity FROM quotas WHERE id = ?"
	if t.Postgres() {
		q += " FOR UPDATE"
	}
	var capacity int64
	err := t.QueryRow(ctx, q, id).Scan(&capacity)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, app.ErrQuotaNotFound
	}
	return capacity, wrap("lock quota", err)
}

// lockedUsage locks a quota's row (lockQuota) and then reads its usage, which therefore counts
// every write that held the row before: the capacity and the usage to judge.
func lockedUsage(ctx context.Context, t *sqldb.Tx, id int32) (capacity, usage int64, err error) {
	if capacity, err = lockQuota(ctx, t, id); err != nil {
		return 0, 0, err
	}
	usage, err = quotaUsage(ctx, t, id)
	return capacity, usage, err
}

// quotaUsage sums the usage of a quota's spaces.
func quotaUsage(ctx context.Context, t *sqldb.Tx, id int32) (int64, error) {
	var usage int64
	err := t.QueryRow(ctx, `SELECT `+sumBigint(usageExpr)+` FROM quota_spaces q
		JOIN spaces s ON s.library_id = q.library_id AND s.space_id = q.space_id WHERE q.quota_id = ?`, id).Scan(&usage)
	return usage, wrap("quota usage", err)
}

// libraryUsage sums the usage of every space of a library.
func libraryUsage(ctx context.Context, t *sqldb.Tx, libraryID string) (int64, error) {
	var usage int64
	err := t.QueryRow(ctx, "SELECT "+sumBigint(usageExpr)+" FROM spaces s WHERE s.library_id = ?", libraryID).Scan(&usage)
	return usage, wrap("library usage", err)
}

const quotaColumns = "id, library_id, capacity, remove_when_exceed, remove_after_days, remove_newest, created_at"

// loadQuota reads a quota of a library with its spaces and usage; app.ErrQuotaNotFound when the
// library has none with id.
func loadQuota(ctx context.Context, t *sqldb.Tx, libraryID string, id int32) (app.Quota, error) {
	var (
		q       app.Quota
		created int64
	)
	err := t.QueryRow(ctx, "SELECT "+quotaColumns+" FROM quotas WHERE id = ? AND library_id = ?", id, libraryID).
		Scan(&q.ID, &q.LibraryID, &q.Capacity, &q.RemoveWhenExceed, &q.RemoveAfterDays, &q.RemoveNewest, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Quota{}, app.ErrQuotaNotFound
	}
	if err != nil {
		return app.Quota{}, wrap("get quota", err)
	}
	q.CreatedAt = fromMillis(created)
	if q.Spaces, err = quotaSpaces(ctx, t, id); err != nil {
		return app.Quota{}, err
	}
	q.Usage, err = quotaUsage(ctx, t, id)
	return q, err
}

// quotaSpaces answers the spaces a quota covers, in order.
func quotaSpaces(ctx context.Context, t *sqldb.Tx, id int32) ([]string, error) {
	rows, err := t.Query(ctx, "SELECT space_id FROM quota_spaces WHERE quota_id = ? ORDER BY space_id", id)
	if err != nil {
		return nil, wrap("quota spaces", err)
	}
	defer rows.Close()
	var spaces []string
	for rows.Next() {
		var sp string
		if err := rows.Scan(&sp); err != nil {
			return nil, wrap("quota spaces", err)
		}
		spaces = append(spaces, sp)
	}
	return spaces, wrap("quota spaces", rows.Err())
}

// claimSpaces makes spaces members of quota id: each must be a space of the library
// (app.ErrSpaceNotFound) without another quota (app.ErrDuplicateQuota). A concurrent claim of
// the same space meets this one at quota_spaces' primary key.
func claimSpaces(ctx context.Context, t *sqldb.Tx, libraryID string, id int32, spaceIDs []string) error {
	for _, sp := range spaceIDs {
		if _, err := getSpace(ctx, t, libraryID, sp, false); err != nil {
			return err
		}
		other, ok, err := quotaIDOfSpace(ctx, t, libraryID, sp)
		if err != nil {
			return err
		}
		if ok && other != id {
			return app.ErrDuplicateQuota
		}
		if ok {
			continue
		}
		_, err = t.Exec(ctx, "INSERT INTO quota_spaces (library_id, space_id, quota_id) VALUES (?, ?, ?)", libraryID, sp, id)
		if sqldb.IsUniqueViolation(err) {
			return app.ErrDuplicateQuota
		}
		if err != nil {
			return wrap("claim quota space", err)
		}
	}
	return nil
}

// CreateQuota records a quota over its spaces (6.1).
func (s *SQL) CreateQuota(ctx context.Context, q app.Quota, denyBelowUsage bool, now time.Time) (int32, error) {
	var id int32
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		err := t.QueryRow(ctx, `INSERT INTO quotas (library_id, capacity, remove_when_exceed, remove_after_days, remove_newest, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, q.LibraryID, q.Capacity, q.RemoveWhenExceed, q.RemoveAfterDays, q.RemoveNewest, millis(now)).Scan(&id)
		if err != nil {
			return wrap("create quota", err)
		}
		if err := claimSpaces(ctx, t, q.LibraryID, id, q.Spaces); err != nil {
			return err
		}
		return checkCapacity(ctx, t, id, q.Capacity, denyBelowUsage)
	})
	return id, err
}

// checkCapacity refuses, under the library's denyOnQuotaLessThanUsage, a capacity below the
// usage of the quota's spaces (6.3 QuotaCapacityLessThanSize).
func checkCapacity(ctx context.Context, t *sqldb.Tx, id int32, capacity int64, deny bool) error {
	if !deny {
		return nil
	}
	usage, err := quotaUsage(ctx, t, id)
	if err != nil {
		return err
	}
	if capacity < usage {
		return app.ErrQuotaLessThanUsage
	}
	return nil
}

// QuotaOfSpace answers the quota covering a space (6.2, 6.4).
func (s *SQL) QuotaOfSpace(ctx context.Context, libraryID, spaceID string) (app.Quota, error) {
	var q app.Quota
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		id, ok, err := quotaIDOfSpace(ctx, t, libraryID, spaceID)
		if err != nil {
			return err
		}
		if !ok {
			return app.ErrNoQuota
		}
		q, err = loadQuota(ctx, t, libraryID, id)
		return err
	})
	return q, err
}

// QuotaByID answers a quota of a library (6.5).
func (s *SQL) QuotaByID(ctx context.Context, libraryID string, id int32) (app.Quota, error) {
	var q app.Quota
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		var err error
		q, err = loadQuota(ctx, t, libraryID, id)
		return err
	})
	return q, err
}

// UpdateQuotaOfSpace changes the quota covering a space (6.3).
func (s *SQL) UpdateQuotaOfSpace(ctx context.Context, libraryID, spaceID string, patch app.QuotaPatch, denyBelowUsage bool) error {
	return s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		id, ok, err := quotaIDOfSpace(ctx, t, libraryID, spaceID)
		if err != nil {
			return err
		}
		if !ok {
			return app.ErrNoQuota
		}
		patch.Spaces = nil
		return updateQuota(ctx, t, libraryID, id, patch, denyBelowUsage)
	})
}

// UpdateQuotaByID changes a quota, its spaces included (6.6).
func (s *SQL) UpdateQuotaByID(ctx context.Context, libraryID string, id int32, patch app.QuotaPatch, denyBelowUsage bool) error {
	return s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		return updateQuota(ctx, t, libraryID, id, patch, denyBelowUsage)
	})
}

// updateQuota applies patch to quota id of the library under its row lock, so a write checked
// against it sees either the old quota or the new one whole.
func updateQuota(ctx context.Context, t *sqldb.Tx, libraryID string, id int32, patch app.QuotaPatch, deny bool) error {
	if _, err := lockQuota(ctx, t, id); err != nil {
		return err
	}
	q, err := loadQuota(ctx, t, libraryID, id)
	if err != nil {
		return err
	}
	if patch.Spaces != nil {
		if _, err := t.Exec(ctx, "DELETE FROM quota_spaces WHERE quota_id = ?", id); err != nil {
			return wrap("replace quota spaces", err)
		}
		if err := claimSpaces(ctx, t, libraryID, id, patch.Spaces); err != nil {
			return err
		}
	}
	if patch.Capacity != nil {
		q.Capacity = *patch.Capacity
	}
	if patch.RemoveWhenExceed != nil {
		q.RemoveWhenExceed = *patch.RemoveWhenExceed
	}
	if patch.RemoveAfterDays != nil {
		q.RemoveAfterDays = *patch.RemoveAfterDays
	}
	if patch.RemoveNewest != nil {
		q.RemoveNewest = *patch.RemoveNewest
	}
	_, err = t.Exec(ctx, "UPDATE quotas SET capacity = ?, remove_when_exceed = ?, remove_after_days = ?, remove_newest = ? WHERE id = ?",
		q.Capacity, q.RemoveWhenExceed, q.RemoveAfterDays, q.RemoveNewest, id)
	if err != nil {
		return wrap("update quota", err)
	}
	// A changed capacity or a new list of spaces is judged against the usage it now covers.
	if patch.Capacity != nil || patch.Spaces != nil {
		return checkCapacity(ctx, t, id, q.Capacity, deny)
	}
	return nil
}

// RemainingSpace answers what a space may still take under its quota and the library's cap
// (begin-upload's pre-check, 3.1-3.3).
func (s *SQL) RemainingSpace(ctx context.Context, libraryID, spaceID string, libraryQuota int64) (int64, bool, error) {
	var (
		remaining int64
		limited   bool
	)
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		id, ok, err := quotaIDOfSpace(ctx, t, libraryID, spaceID)
		if err != nil {
			return err
		}
		if ok {
			q, err := loadQuota(ctx, t, libraryID, id)
			if err != nil {
				return err
			}
			remaining, limited = q.Available(), true
		}
		if libraryQuota > 0 {
			usage, err := libraryUsage(ctx, t, libraryID)
			if err != nil {
				return err
			}
			left := max(libraryQuota-usage, 0)
			if !limited || left < remaining {
				remaining = left
			}
			limited = true
		}
		return nil
	})
	return remaining, limited, err
}

// AllocatedQuota sums the capacities of a library's quotas (2.8).
func (s *SQL) AllocatedQuota(ctx context.Context, libraryID string) (int64, error) {
	var total int64
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		return wrap("allocated quota", t.QueryRow(ctx, "SELECT "+sumBigint("capacity")+" FROM quotas WHERE library_id = ?", libraryID).Scan(&total))
	})
	return total, err
}

// dropQuotaIfEmpty deletes quota id when it covers no space any more (its last space was
// deleted): nothing could reach it by space, and by id it would cap nothing.
func dropQuotaIfEmpty(ctx context.Context, t *sqldb.Tx, id int32) error {
	_, err := t.Exec(ctx, `DELETE FROM quotas WHERE id = ? AND NOT EXISTS (SELECT 1 FROM quota_spaces WHERE quota_id = ?)`, id, id)
	if err != nil {
		return fmt.Errorf("store: drop empty quota: %w", err)
	}
	return nil
}
