package store

import (
	"embed"
	"io/fs"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrations is the tree sqldb applies on Open: sqlite/ and postgres/, each of NNNN_what.sql.
var migrations = func() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // a constant, valid path
	}
	return sub
}()

// migrationLockKey is the PostgreSQL advisory lock (single bigint key space) that serialises
// migrations of concurrently starting replicas.
const migrationLockKey = 0x534d48_6d696772 // "SMH" "migr"

// versionTable records the applied migrations. The name predates pkg/sqldb: existing databases
// keep working.
const versionTable = "schema_migrations"
