package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// On SQLite, the recursive step of subtreeCTE finds each directory's children through the
// (library, space, parent) indexes, never by scanning the space's rows per found entry (which
// made counting a subtree quadratic). PostgreSQL chooses its plans from statistics.
func TestSubtreeQueryUsesTheParentIndex(t *testing.T) {
	for _, e := range storetest.Engines() {
		if e.Name != "sqlite" {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			s := openStore(t, e.DSN(t))
			ctx := context.Background()
			lib := "smhlib0000000001"
			if err := s.CreateSpace(ctx, app.Space{LibraryID: lib, ID: "-", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.MakeDirectories(ctx, lib, "-", []string{"a", "b", "c"}, app.ConflictAsk, app.DirAttrs{}, time.Now()); err != nil {
				t.Fatal(err)
			}
			var plan []string
			err := s.inRead(ctx, func(tx *sqldb.Tx) error {
				rows, err := tx.Query(ctx, "EXPLAIN QUERY PLAN "+subtreeCTE+"SELECT COUNT(*) FROM (SELECT 1 FROM sub LIMIT ?) AS bounded",
					lib, "-", int64(1), lib, "-", int64(1000))
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var id, parent, unused int
					var detail string
					if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
						return err
					}
					plan = append(plan, detail)
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			step := strings.Join(plan, "\n")
			if i := strings.Index(step, "RECURSIVE STEP"); i >= 0 {
				step = step[i:]
			}
			if !strings.Contains(step, "parent_inode=?") || strings.Contains(step, "nodes_by_space") {
				t.Fatalf("the recursive step does not look children up by parent:\n%s", strings.Join(plan, "\n"))
			}
		})
	}
}
