package store

import (
	"fmt"
	"os"
	"testing"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

func TestVisitPlanCache(t *testing.T) {
	if os.Getenv("VISIT_TIMING") == "" {
		t.Skip()
	}
	eachEngine(t, func(t *testing.T, s *SQL) {
		if !s.db.Postgres() {
			return
		}
		f := newFixture(t, s)
		f.mkdir("d")
		f.file("d/shared.bin", 4096)
		sh := f.newShare("v", "alice", "visit", app.ShareConfig{IsPermanent: true, CanDownload: true}, "d/shared.bin")
		in := f.lookup("d/shared.bin").Inode
		for range 30 {
			if _, err := s.VisitShare(f.ctx, sh.Code, nil, 100); err != nil {
				t.Fatal(err)
			}
			if _, err := s.VisitShare(f.ctx, sh.Code, []int64{in}, 0); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.db.InStatements(f.ctx, func(tx *sqldb.Tx) error {
			rows, err := tx.Query(f.ctx, "SELECT generic_plans, custom_plans, left(regexp_replace(statement, '\\s+', ' ', 'g'), 90) FROM pg_prepared_statements WHERE statement LIKE '%sh AS%'")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var g, c int
				var st string
				rows.Scan(&g, &c, &st)
				fmt.Println(g, c, st)
			}
			return rows.Close()
		})
	})
}
