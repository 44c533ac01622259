package sqldb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Migration is one schema step, read from a file named NNNN_what.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations answers the steps of one engine ("sqlite" or "postgres", as Engine names it) from
// a migrations tree as Options.Migrations holds it, in version order.
func Migrations(fsys fs.FS, engine string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, engine)
	if err != nil {
		return nil, fmt.Errorf("sqldb: migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqldb: migration %q: name must start with a positive version and '_'", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(engine, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqldb: migration %q: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("sqldb: migrations %q and %q share a version", out[i-1].Name, out[i].Name)
		}
	}
	return out, nil
}

// migrate applies the migrations not yet recorded in the version table, each in its own
// transaction together with its record, so a crash leaves either all of a step or none of it.
// Concurrent Opens on PostgreSQL wait on the advisory lock; on SQLite BEGIN IMMEDIATE does the
// same. Applying is idempotent: a restart finds every version recorded and does nothing.
func (db *DB) migrate(ctx context.Context, opts Options) error {
	steps, err := Migrations(opts.Migrations, db.Engine())
	if err != nil {
		return err
	}
	table := opts.VersionTable
	for _, m := range steps {
		err := db.retryBusy(ctx, func(t *Tx) error {
			if t.Postgres() {
				if _, err := t.Exec(ctx, "SELECT pg_advisory_xact_lock(?)", opts.MigrationLockKey); err != nil {
					return err
				}
			}
			if _, err := t.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
				version    BIGINT NOT NULL PRIMARY KEY,
				name       TEXT   NOT NULL,
				applied_at BIGINT NOT NULL)`); err != nil {
				return err
			}
			var n int
			if err := t.QueryRow(ctx, "SELECT COUNT(*) FROM "+table+" WHERE version = ?", m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := t.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := t.Exec(ctx, "INSERT INTO "+table+" (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("sqldb: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// retryBusy runs fn in a write transaction of its own (never a batch: a migration's SQL may be
// anything), again while SQLite answers SQLITE_BUSY without waiting: processes opening a new
// database together race to set up its WAL, and SQLite does not call the busy handler for that
// (seen: "database is locked" at BEGIN within milliseconds, despite busy_timeout). Bounded by
// the busy timeout; PostgreSQL never answers it.
func (db *DB) retryBusy(ctx context.Context, fn func(*Tx) error) error {
	deadline := time.Now().Add(sqliteBusyTimeoutMS * time.Millisecond)
	for {
		err := db.inOwnTransaction(ctx, fn)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	var liteErr *sqlite.Error
	return errors.As(err, &liteErr) && liteErr.Code()&0xff == sqlite3.SQLITE_BUSY
}
