package store

import (
	"errors"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// TestQuotaRemoval: a quota with removeWhenExceed over its capacity is noted at the first round,
// left alone until removeAfterDays pass, then gives back its bin first and its oldest (or
// newest) files next, with their versions, until it fits; a quota without the option and one
// that fits are never touched.
func TestQuotaRemoval(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		base := quotaFixture(t, s)
		for _, newest := range []bool{false, true} {
			f := *base
			f.lib = map[bool]string{false: "lib-oldest", true: "lib-newest"}[newest]
			for _, sp := range []string{"sp1", "sp2", "sp3"} {
				if err := s.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: sp, CreatedAt: t0}); err != nil {
					t.Fatal(err)
				}
			}
			history := app.WriteRules{KeepVersions: 5}
			f.mkdir("d") // in sp1
			for _, name := range []string{"d/f1", "d/f2", "d/f3", "d/f4"} {
				f.putFileIn("sp1", name, 20)
			}
			// f1 gets a version: 20 live + 20 kept.
			if _, err := s.CreateFile(f.ctx, f.lib, "sp1", p("d/f1"), app.Node{Size: 20, BlobID: "blob-f1-2"}, app.ConflictOverwrite, history, f.tick()); err != nil {
				t.Fatal(err)
			}
			f.putFileIn("sp2", "g", 10)
			if _, err := s.DeleteFile(f.ctx, f.lib, "sp2", p("g"), app.WriteRules{Recycle: true}, f.tick()); err != nil {
				t.Fatal(err)
			}
			f.putFileIn("sp3", "h", 500) // sp3 has no quota: never touched
			// sp1 + sp2: 4*20 live, 20 version, 10 in the bin = 110 over a capacity of 55.
			id, err := s.CreateQuota(f.ctx, app.Quota{LibraryID: f.lib, Spaces: []string{"sp1", "sp2"}, Capacity: 55,
				RemoveWhenExceed: true, RemoveAfterDays: 2, RemoveNewest: newest}, false, t0)
			if err != nil {
				t.Fatal(err)
			}
			usage := func() int64 {
				t.Helper()
				q, err := s.QuotaByID(f.ctx, f.lib, id)
				if err != nil {
					t.Fatal(err)
				}
				return q.Usage
			}
			if u := usage(); u != 110 {
				t.Fatalf("usage %d, want 110", u)
			}
			start := f.tick()
			if n, err := s.EnforceQuotaRemovals(f.ctx, start, 0); err != nil || n != 0 {
				t.Fatalf("first round removed %d, %v", n, err)
			}
			if n, err := s.EnforceQuotaRemovals(f.ctx, start.Add(2*day-time.Millisecond), 0); err != nil || n != 0 || usage() != 110 {
				t.Fatalf("before removeAfterDays: removed %d, %v", n, err)
			}
			n, err := s.EnforceQuotaRemovals(f.ctx, start.Add(2*day), 0)
			if err != nil {
				t.Fatal(err)
			}
			// The bin's 10 bytes first (100); oldest first then f1 with its version (60) and f2
			// (40); newest first f4 (80), f3 (60) and f2 (40), f1 keeping its version.
			want := map[bool]int64{false: 3, true: 4}[newest]
			if u := usage(); n != want || u != 40 {
				t.Fatalf("newest=%v: removed %d, usage %d; want %d and 40", newest, n, u, want)
			}
			kept := map[bool][]string{false: {"d/f3", "d/f4"}, true: {"d/f1"}}[newest]
			gone := map[bool][]string{false: {"d/f1", "d/f2"}, true: {"d/f2", "d/f3", "d/f4"}}[newest]
			for _, name := range kept {
				if _, err := s.Lookup(f.ctx, f.lib, "sp1", p(name)); err != nil {
					t.Fatalf("%s (newest=%v) was removed: %v", name, newest, err)
				}
			}
			for _, name := range gone {
				if _, err := s.Lookup(f.ctx, f.lib, "sp1", p(name)); !errors.Is(err, app.ErrNodeNotFound) {
					t.Fatalf("%s (newest=%v) was kept: %v", name, newest, err)
				}
			}
			if _, err := s.Lookup(f.ctx, f.lib, "sp3", p("h")); err != nil {
				t.Fatalf("a space without the quota lost a file: %v", err)
			}
			// Fitting again, the quota is left alone.
			if n, err := s.EnforceQuotaRemovals(f.ctx, start.Add(10*day), 0); err != nil || n != 0 {
				t.Fatalf("a fitting quota: removed %d, %v", n, err)
			}
			for _, sp := range []string{"sp1", "sp2", "sp3"} {
				checkInvariants(t, s, f.lib, sp)
			}
		}
	})
}
