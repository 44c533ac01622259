package sqldb

import (
	"context"
	"fmt"
)

// autoVacuumIncremental is PRAGMA auto_vacuum's value for INCREMENTAL.
const autoVacuumIncremental = 2

// incrementalVacuum makes the SQLite file keep the bookkeeping that lets ReturnFreePages give
// freed pages back. A new file takes the setting at once; a file made without it needs one
// VACUUM, which rewrites it (once, on the first Open that asks). It runs before anything else
// uses the writer.
func (db *DB) incrementalVacuum(ctx context.Context) error {
	var mode int
	if err := db.write.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return fmt.Errorf("sqldb: read auto_vacuum: %w", err)
	}
	if mode == autoVacuumIncremental {
		return nil
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		return fmt.Errorf("sqldb: set auto_vacuum: %w", err)
	}
	if _, err := db.write.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("sqldb: vacuum: %w", err)
	}
	return nil
}

// ReturnFreePages gives the pages that deleted rows freed back to the file system, so the file
// shrinks (SQLite opened with Options.ReturnFreePages); elsewhere it does nothing: SQLite without
// the option reuses free pages for later rows, and PostgreSQL's autovacuum makes dead rows' space
// reusable.
func (db *DB) ReturnFreePages(ctx context.Context) error {
	if db.postgres {
		return nil
	}
	return db.InWrite(ctx, func(t *Tx) error {
		var mode int
		if err := t.QueryRow(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != autoVacuumIncremental {
			return err
		}
		_, err := t.Exec(ctx, `PRAGMA incremental_vacuum`)
		return err
	})
}
