package sqldb

import (
	"context"
	"fmt"
	"strconv"
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

// returnPagesPerWrite bounds the pages one write gives back (16 MiB of 4 KiB pages), so that
// returning what a large purge freed never holds the writer for long: other writes interleave.
const returnPagesPerWrite = 4096

// ReturnFreePages gives the pages that deleted rows freed back to the file system, so the file
// shrinks (SQLite opened with Options.ReturnFreePages), a bounded number per write until none is
// left; elsewhere it does nothing: SQLite without the option keeps free pages for later rows
// (incremental_vacuum is a no-op there), and PostgreSQL's autovacuum makes dead rows' space
// reusable.
func (db *DB) ReturnFreePages(ctx context.Context) error {
	if db.postgres {
		return nil
	}
	for {
		var free int64
		err := db.InWrite(ctx, func(t *Tx) error {
			// The table-valued form reads the count when it runs; a PRAGMA statement that the
			// writer keeps prepared may answer the value of its preparation.
			if err := t.QueryRow(ctx, `SELECT freelist_count FROM pragma_freelist_count()`).Scan(&free); err != nil || free == 0 {
				return err
			}
			_, err := t.Exec(ctx, `PRAGMA incremental_vacuum(`+strconv.Itoa(returnPagesPerWrite)+`)`)
			return err
		})
		if err != nil || free <= returnPagesPerWrite {
			return err
		}
	}
}
