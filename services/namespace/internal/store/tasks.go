package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// Asynchronous tasks (decision 7, 7.1): one row each in tasks (migration 0005). The work runs in
// the process that accepted it; these rows are its state, so any replica answers the task query
// and finished tasks outlive restarts.

// CreateTask records a running task of owner. The row is inserted only when the space exists.
func (s *SQL) CreateTask(ctx context.Context, libraryID, spaceID, kind, owner string, now time.Time) (int32, error) {
	var id int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		err := t.QueryRow(ctx, `INSERT INTO tasks (library_id, space_id, kind, status, owner_instance, created_at, heartbeat_at)
			SELECT library_id, space_id, ?, ?, ?, ?, ? FROM spaces WHERE library_id = ? AND space_id = ?
			RETURNING id`, kind, app.TaskRunning, owner, millis(now), millis(now), libraryID, spaceID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrSpaceNotFound
		}
		return wrap("create task", err)
	})
	if err != nil {
		return 0, err
	}
	// PostgreSQL's INTEGER identity cannot pass int32; SQLite's rowid could after 2^31 tasks.
	if id <= 0 || id > math.MaxInt32 {
		return 0, fmt.Errorf("store: create task: id %d out of the API's int32 range", id)
	}
	return int32(id), nil
}

// FinishTask records the outcome of a task still running.
func (s *SQL) FinishTask(ctx context.Context, id int32, status int, result, failure string, now time.Time) error {
	return s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		_, err := t.Exec(ctx, `UPDATE tasks SET status = ?, result = ?, error_code = ?, finished_at = ?
			WHERE id = ? AND status = ?`, status, result, failure, millis(now), id, app.TaskRunning)
		return wrap("finish task", err)
	})
}

// HeartbeatTasks refreshes the heartbeat of owner's running tasks.
func (s *SQL) HeartbeatTasks(ctx context.Context, owner string, now time.Time) error {
	return s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		_, err := t.Exec(ctx, "UPDATE tasks SET heartbeat_at = ? WHERE owner_instance = ? AND status = ?",
			millis(now), owner, app.TaskRunning)
		return wrap("heartbeat tasks", err)
	})
}

// GetTasks answers the space's tasks among ids, ordered by id.
func (s *SQL) GetTasks(ctx context.Context, libraryID, spaceID string, ids []int32) ([]app.TaskRecord, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{libraryID, spaceID}
	for _, id := range ids {
		args = append(args, id)
	}
	var out []app.TaskRecord
	err := s.inRead(ctx, func(t *sqldb.Tx) error {
		rows, err := t.Query(ctx, `SELECT id, library_id, space_id, kind, status, result, error_code, owner_instance,
			created_at, heartbeat_at, finished_at FROM tasks
			WHERE library_id = ? AND space_id = ? AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY id`, args...)
		if err != nil {
			return wrap("get tasks", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r                  app.TaskRecord
				created, heartbeat int64
				finished           sql.NullInt64
			)
			if err := rows.Scan(&r.ID, &r.LibraryID, &r.SpaceID, &r.Kind, &r.Status, &r.Result, &r.Failure, &r.Owner,
				&created, &heartbeat, &finished); err != nil {
				return wrap("get tasks", err)
			}
			r.CreatedAt, r.HeartbeatAt = fromMillis(created), fromMillis(heartbeat)
			if finished.Valid {
				r.FinishedAt = fromMillis(finished.Int64)
			}
			out = append(out, r)
		}
		return wrap("get tasks", rows.Err())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PurgeTasks deletes tasks finished before before, and running tasks whose heartbeat stopped
// before it: a process that died never finishes its rows, and their last heartbeat is when
// they ended.
func (s *SQL) PurgeTasks(ctx context.Context, before time.Time, limit int) (int64, error) {
	var n int64
	err := s.inWrite(ctx, "", "", func(t *sqldb.Tx) error {
		res, err := t.Exec(ctx, `DELETE FROM tasks WHERE id IN (SELECT id FROM tasks
			WHERE finished_at < ? OR (status = ? AND heartbeat_at < ?) LIMIT ?)`,
			millis(before), app.TaskRunning, millis(before), clampPurge(limit))
		if err != nil {
			return wrap("purge tasks", err)
		}
		n, err = res.RowsAffected()
		return wrap("purge tasks", err)
	})
	return n, err
}
