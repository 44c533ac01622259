package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock (single bigint key space) that serialises
// migrations of concurrently starting replicas.
const migrationLockKey = 0x534d48_6d696772 // "SMH" "migr"

// migration is one embedded schema step, named NNNN_what.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func (s *SQL) migrations() ([]migration, error) {
	dir := "migrations/sqlite"
	if s.postgres {
		dir = "migrations/postgres"
	}
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %q: name must start with a positive version and '_'", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: migration %q: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("store: migrations %q and %q share a version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// migrate applies the migrations not yet recorded in schema_migrations, each in its own
// transaction together with its record, so a crash leaves either all of a step or none of it.
// Concurrent Opens on PostgreSQL wait on an advisory lock; on SQLite BEGIN IMMEDIATE does the
// same. Applying is idempotent: a restart finds every version recorded and does nothing.
func (s *SQL) migrate(ctx context.Context) error {
	steps, err := s.migrations()
	if err != nil {
		return err
	}
	for _, m := range steps {
		err := s.inWrite(ctx, "", "", func(t *tx) error {
			if s.postgres {
				if _, err := t.exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(migrationLockKey)); err != nil {
					return err
				}
			}
			if _, err := t.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version    BIGINT NOT NULL PRIMARY KEY,
				name       TEXT   NOT NULL,
				applied_at BIGINT NOT NULL)`); err != nil {
				return err
			}
			var n int
			if err := t.queryRow(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := t.exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := t.exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}
