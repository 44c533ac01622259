package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// batchScene builds the same space in a fresh store: directories, files of several sizes and
// symlinks pointing into what the deletions remove.
func batchScene(t *testing.T, s *SQL) *fixture {
	t.Helper()
	f := newFixture(t, s)
	for _, d := range []string{"a", "a/b", "a/b/c", "d", "e"} {
		f.mkdir(d)
	}
	for i, p := range []string{"a/f1", "a/f2", "a/f3", "a/b/g1", "a/b/g2", "a/b/c/h1", "d/k1", "d/k2", "r1", "r2", "e/m1"} {
		f.file(p, int64(10*(i+1)))
	}
	f.link("l1", "a/f1")       // a file's link, elsewhere
	f.link("d/l2", "a/b/g1")   // a link into a directory deleted later
	f.link("a/l3", "d/k1")     // a link inside a deleted directory to a deleted file
	f.link("e/l4", "a/b/c/h1") // a link into a deleted subtree
	f.link("d/l5", "r2")
	return f
}

// batchItems are the deletions, in order: files and directories, bin on and off by item, an
// entry deleted earlier with its target, missing entries and a directory whose entries went
// before it in the same chunk.
func batchItems() []app.DeleteRequest {
	bin := app.WriteRules{Recycle: true, RecycleDays: 30, UserID: "u2"}
	gone := app.WriteRules{UserID: "u3"}
	var out []app.DeleteRequest
	for i, p := range []string{"a/f1", "a/b/g1", "a/b/c", "d/k1", "r2", "nope", "d/l2", "l1", "a/f2", "a/b", "d/k2",
		"e/m1", "a/nope/x", "a", "r1", "d/l5", "e"} {
		rules := bin
		if i%3 == 2 {
			rules = gone
		}
		out = append(out, app.DeleteRequest{Path: strings.Split(p, "/"), FileRules: rules, DirRules: rules})
	}
	return out
}

// dumpTables answers every row of the tables a delete writes, in a stable order.
func dumpTables(t *testing.T, s *SQL) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT * FROM spaces ORDER BY library_id, space_id`,
		`SELECT * FROM nodes ORDER BY inode`,
		`SELECT * FROM recycled_items ORDER BY id`,
		`SELECT * FROM purge_queue ORDER BY inode`,
		`SELECT * FROM delta_events ORDER BY library_id, space_id, seq`,
	} {
		err := s.inRead(context.Background(), func(tx *sqldb.Tx) error {
			rows, err := tx.Query(context.Background(), q)
			if err != nil {
				return err
			}
			defer rows.Close()
			cols, err := rows.Columns()
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%s\n", q)
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					return err
				}
				for i, v := range vals {
					if bs, ok := v.([]byte); ok {
						v = string(bs)
					}
					fmt.Fprintf(&b, "%s=%v ", cols[i], v)
				}
				b.WriteString("\n")
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return b.String()
}

// TestDeleteEntriesEqualsSingleDeletes deletes the same entries one single delete at a time in
// one store and as one batch (DeleteEntries, whose chunk defers the parents' updates) in an
// identical store: every row written (counters, subtree totals, bin items, purge queue, change
// feed events in order) must come out the same, and the answers too.
func TestDeleteEntriesEqualsSingleDeletes(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			one, many := openStore(t, e.DSN(t)), openStore(t, e.DSN(t))
			fo, fm := batchScene(t, one), batchScene(t, many)
			now := fo.tick()
			if fm.tick() != now {
				t.Fatal("the two scenes' clocks differ")
			}
			reqs := batchItems()
			var want []app.DeleteOutcome
			for _, r := range reqs {
				n, err := one.Lookup(fo.ctx, fo.lib, fo.space, r.Path)
				if errors.Is(err, app.ErrNodeNotFound) || errors.Is(err, app.ErrNotDirectory) {
					want = append(want, app.DeleteOutcome{Err: err})
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				rules := r.FileRules
				if n.IsDir() {
					rules = r.DirRules
				}
				d, err := one.DeleteTree(fo.ctx, fo.lib, fo.space, r.Path, rules, now)
				if err != nil {
					t.Fatalf("DeleteTree(%v): %v", r.Path, err)
				}
				want = append(want, app.DeleteOutcome{Deleted: d, IsDir: n.IsDir()})
			}
			got := many.DeleteEntries(fm.ctx, fm.lib, fm.space, reqs, now)
			if len(got) != len(want) {
				t.Fatalf("%d outcomes, want %d", len(got), len(want))
			}
			deleted := 0
			for i := range want {
				if fmt.Sprint(got[i].Err) != fmt.Sprint(want[i].Err) || got[i].IsDir != want[i].IsDir ||
					got[i].Node.Inode != want[i].Node.Inode || got[i].RecycledID != want[i].RecycledID {
					t.Errorf("item %v: batch %+v, single %+v", reqs[i].Path, got[i], want[i])
				}
				if want[i].Err == nil {
					deleted++
				}
			}
			if deleted < 10 {
				t.Fatalf("only %d items deleted: the scene does not test much", deleted)
			}
			a, b := dumpTables(t, one), dumpTables(t, many)
			if a != b {
				al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
				for i := range min(len(al), len(bl)) {
					if al[i] != bl[i] {
						t.Fatalf("rows differ at line %d:\nsingle: %s\nbatch:  %s", i, al[i], bl[i])
					}
				}
				t.Fatalf("rows differ in number: %d vs %d lines", len(al), len(bl))
			}
			if !strings.Contains(a, "FILE.TRASH") && !strings.Contains(a, app.EventFileTrash) {
				t.Fatal("no bin event recorded")
			}
			checkInvariants(t, one, fo.lib, fo.space)
			checkInvariants(t, many, fm.lib, fm.space)
		})
	}
}
