package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// PostgreSQL gets statistics as the tables grow, even on a server that never analyses by itself,
// so that name lookups keep using the (parent, name) index (see analyzeAsTablesGrow).
// SQLite's planner needs no statistics for these lookups, so this runs on PostgreSQL only.
func TestPostgresTablesGetAnalysed(t *testing.T) {
	for _, e := range storetest.Engines() {
		if e.Name != "postgres" {
			continue
		}
		t.Run(e.Name, func(t *testing.T) { testAnalysed(t, openStore(t, e.DSN(t))) })
	}
}

func testAnalysed(t *testing.T, s *SQL) {
	ctx := context.Background()
	if err := s.CreateSpace(ctx, app.Space{LibraryID: "smhlib0000000001", ID: "-", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for i := range firstAnalyze + 10 {
		if _, _, err := s.MakeDirectories(ctx, "smhlib0000000001", "-", []string{fmt.Sprintf("d%04d", i)}, app.ConflictAsk, app.DirAttrs{}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// The ANALYZE runs in the background from the firstAnalyze-th write on (the table may hold
	// a row or two fewer by then); a never-analysed table has reltuples -1 (PostgreSQL 14+).
	deadline := time.Now().Add(60 * time.Second)
	for rawQueryInt(t, s, "SELECT reltuples::bigint FROM pg_class WHERE relname = 'nodes'") <= 0 {
		if time.Now().After(deadline) {
			t.Fatal("nodes was never analysed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The lookup every create makes now uses the (parent, name) index, and so does each level of
	// a download's space-and-file statement.
	explain := func(q string, args ...any) string {
		var plan strings.Builder
		err := s.inRead(ctx, func(tx *sqldb.Tx) error {
			rows, err := tx.Query(ctx, "EXPLAIN "+q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					return err
				}
				plan.WriteString(line + "\n")
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return plan.String()
	}
	plan := explain(`SELECT inode FROM nodes WHERE library_id = 'smhlib0000000001'
		AND space_id = '-' AND parent_inode = 0 AND name = 'd0100' AND deleted_at IS NULL`)
	if !strings.Contains(plan, "nodes_live_name") {
		t.Fatalf("lookup plan does not use nodes_live_name:\n%s", plan)
	}
	q, _ := spaceFileQuery(2)
	plan = explain(q, "smhlib0000000001", "-", "f.txt", "smhlib0000000001", "-", "d0100", "smhlib0000000001", "-")
	if strings.Count(plan, "nodes_live_name") != 2 {
		t.Fatalf("space-and-file plan does not find both levels by nodes_live_name:\n%s", plan)
	}
}
