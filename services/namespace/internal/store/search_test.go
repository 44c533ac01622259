package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// searchAll answers the paths of every hit of f, in order, reading pages of limit.
func (f *fixture) searchAll(filter app.SearchFilter, limit int) []string {
	f.t.Helper()
	var out []string
	after := int64(0)
	for page := 0; ; page++ {
		if page > 1000 {
			f.t.Fatal("search does not end")
		}
		var hits []app.SearchHit
		err := f.st.Search(f.ctx, f.lib, f.space, filter, after, func(h app.SearchHit) bool {
			hits = append(hits, h)
			return len(hits) < limit
		})
		if err != nil {
			f.t.Fatalf("Search(%+v): %v", filter, err)
		}
		for _, h := range hits {
			out = append(out, strings.Join(h.Path, "/"))
		}
		if len(hits) < limit {
			return out
		}
		after = hits[len(hits)-1].Position
	}
}

func (f *fixture) richFile(path string, n app.Node) app.Node {
	f.t.Helper()
	placed, err := f.st.CreateFile(f.ctx, f.lib, f.space, p(path), n, app.ConflictAsk, app.WriteRules{}, f.tick())
	if err != nil {
		f.t.Fatalf("CreateFile(%q): %v", path, err)
	}
	return placed.Node
}

func wantPaths(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func sorted(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

func TestSearchNamesSubstringCaseAndRank(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("Reports/2025")
		f.file("Reports/2025/Annual-Report.PDF", 10)
		f.file("Reports/budget.xlsx", 20)
		f.file("notes.txt", 30)
		f.file("report-budget.txt", 40)
		f.file("ab.md", 1)
		f.file("Ärger.txt", 1)

		wantPaths(t, "one keyword, any case", f.searchAll(app.SearchFilter{Keywords: []string{"report"}}, 10),
			"Reports", "Reports/2025/Annual-Report.PDF", "report-budget.txt")
		wantPaths(t, "a short keyword", sorted(f.searchAll(app.SearchFilter{Keywords: []string{"Ab"}}, 10)),
			"ab.md")
		wantPaths(t, "a non-ASCII keyword, folded", f.searchAll(app.SearchFilter{Keywords: []string{"ärger"}}, 10), "Ärger.txt")
		// Several keywords OR-ed; the entry holding both ranks first, then inode order.
		wantPaths(t, "ranked", f.searchAll(app.SearchFilter{Keywords: []string{"budget", "report"}}, 10),
			"report-budget.txt", "Reports", "Reports/2025/Annual-Report.PDF", "Reports/budget.xlsx")
		// Pages of one still give the same order.
		wantPaths(t, "ranked in pages of one", f.searchAll(app.SearchFilter{Keywords: []string{"budget", "report"}}, 1),
			"report-budget.txt", "Reports", "Reports/2025/Annual-Report.PDF", "Reports/budget.xlsx")
		wantPaths(t, "LIKE wildcards are literal", f.searchAll(app.SearchFilter{Keywords: []string{"%"}}, 10))
		wantPaths(t, "quotes are literal", f.searchAll(app.SearchFilter{Keywords: []string{`rep"ort`}}, 10))
		wantPaths(t, "no keyword: everything", sorted(f.searchAll(app.SearchFilter{}, 3)),
			"Reports", "Reports/2025", "Reports/2025/Annual-Report.PDF", "Reports/budget.xlsx", "ab.md", "notes.txt", "report-budget.txt", "Ärger.txt")
	})
}

func TestSearchSeesRenamesDeletesAndScope(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("a/deep/er")
		f.mkdir("b")
		f.file("a/deep/er/target-1.txt", 1)
		f.file("b/target-2.txt", 1)
		kw := app.SearchFilter{Keywords: []string{"target"}}
		wantPaths(t, "before", f.searchAll(kw, 10), "a/deep/er/target-1.txt", "b/target-2.txt")

		// Scope: a directory path; only entries under it.
		scoped := kw
		scoped.ScopePath = p("a/deep")
		wantPaths(t, "scope", f.searchAll(scoped, 10), "a/deep/er/target-1.txt")
		scoped.ScopePath = p("missing")
		wantPaths(t, "a missing scope", f.searchAll(scoped, 10))
		scoped.ScopePath = p("b/target-2.txt")
		wantPaths(t, "a file as scope", f.searchAll(scoped, 10))

		// A rename of an ancestor changes the path at once; the old name no longer matches.
		if _, err := f.st.Move(f.ctx, f.lib, f.space, p("a/deep"), p("a/shallow"), app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		wantPaths(t, "after the rename", f.searchAll(kw, 10), "a/shallow/er/target-1.txt", "b/target-2.txt")
		wantPaths(t, "the old name", f.searchAll(app.SearchFilter{Keywords: []string{"deep"}}, 10))
		if _, err := f.st.MoveFile(f.ctx, f.lib, f.space, p("b/target-2.txt"), p("b/renamed.txt"), app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		wantPaths(t, "after a file rename", f.searchAll(kw, 10), "a/shallow/er/target-1.txt")
		wantPaths(t, "the new name", f.searchAll(app.SearchFilter{Keywords: []string{"renamed"}}, 10), "b/renamed.txt")

		// Deleting a directory hides everything below it, although only its own row is marked.
		d, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("a/shallow"), binRules, f.tick())
		if err != nil {
			t.Fatal(err)
		}
		wantPaths(t, "after the delete", f.searchAll(kw, 10))
		wantPaths(t, "the deleted directory itself", f.searchAll(app.SearchFilter{Keywords: []string{"shallow"}}, 10))
		f.restore(d.RecycledID, app.RestoreOptions{Strategy: app.ConflictAsk})
		wantPaths(t, "after the restore", f.searchAll(kw, 10), "a/shallow/er/target-1.txt")

		// Other spaces are apart.
		if err := f.st.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: "other", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.CreateFile(f.ctx, f.lib, "other", p("target-3.txt"), app.Node{}, app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		wantPaths(t, "this space only", f.searchAll(kw, 10), "a/shallow/er/target-1.txt")
	})
}

func TestSearchFilters(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("docs.pdf") // a directory with a file-like name
		f.richFile("docs.pdf/a.PDF", app.Node{Size: 100, ContentType: "application/pdf", Labels: []string{"work"}, Category: "c1"})
		f.richFile("b.docx", app.Node{Size: 200, ContentType: "application/msword", Labels: []string{"home", "x\"y"}})
		f.richFile("c.jpg", app.Node{Size: 300, ContentType: "image/jpeg", Type: app.TypeImage, Category: "c2"})
		f.richFile("d.mp3", app.Node{Size: 400, ContentType: "audio/mpeg"})
		f.link("e-link", "b.docx")
		mid := f.tick()
		f.richFile("late.txt", app.Node{Size: 500, ContentType: "text/plain"})

		all := func(filter app.SearchFilter) []string { return sorted(f.searchAll(filter, 2)) }
		wantPaths(t, "dirs", all(app.SearchFilter{Include: []app.Kind{{Class: app.KindDir}}}), "docs.pdf")
		wantPaths(t, "symlinks", all(app.SearchFilter{Include: []app.Kind{{Class: app.KindSymlink}}}), "e-link")
		wantPaths(t, "files", all(app.SearchFilter{Include: []app.Kind{{Class: app.KindFile}}}),
			"b.docx", "c.jpg", "d.mp3", "docs.pdf/a.PDF", "late.txt")
		wantPaths(t, "not files", all(app.SearchFilter{Exclude: []app.Kind{{Class: app.KindFile}}}), "docs.pdf", "e-link")
		wantPaths(t, "pdf family", all(app.SearchFilter{Include: []app.Kind{{Class: app.KindExt, Exts: []string{"pdf"}}}}), "docs.pdf/a.PDF")
		wantPaths(t, "image and audio", all(app.SearchFilter{Include: []app.Kind{{Class: app.KindMedia, Media: "image"}, {Class: app.KindMedia, Media: "audio"}}}),
			"c.jpg", "d.mp3")
		wantPaths(t, "unknown type", all(app.SearchFilter{Include: []app.Kind{{Class: app.KindNone}}}))
		wantPaths(t, "inExtnames", all(app.SearchFilter{InExts: []string{"docx", "txt"}}), "b.docx", "late.txt")
		wantPaths(t, "unknown extension", all(app.SearchFilter{InExts: []string{"zzz"}}))
		wantPaths(t, "excludeExtnames", all(app.SearchFilter{ExcludeExts: []string{"docx", "jpg", "pdf", "mp3"}}), "docs.pdf", "e-link", "late.txt")
		lo, hi := int64(200), int64(400)
		wantPaths(t, "size range", all(app.SearchFilter{MinSize: &lo, MaxSize: &hi}), "b.docx", "c.jpg", "d.mp3")
		wantPaths(t, "modified from", all(app.SearchFilter{ModifiedFrom: &mid}), "late.txt")
		before := mid.Add(-time.Millisecond)
		wantPaths(t, "modified to", all(app.SearchFilter{ModifiedTo: &before, Include: []app.Kind{{Class: app.KindFile}}}),
			"b.docx", "c.jpg", "d.mp3", "docs.pdf/a.PDF")
		wantPaths(t, "labels", all(app.SearchFilter{Labels: []string{"work", "x\"y"}}), "b.docx", "docs.pdf/a.PDF")
		wantPaths(t, "a label is exact", all(app.SearchFilter{Labels: []string{"Work"}}))
		wantPaths(t, "categories", all(app.SearchFilter{Categories: []string{"c2", "nope"}}), "c.jpg")
	})
}

func TestSearchMarkersStableUnderInserts(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		for i := range 30 {
			f.file("hit-"+strings.Repeat("x", i%3)+"-"+string(rune('a'+i%26))+time.Duration(i).String(), 1)
		}
		for _, kws := range [][]string{{"hit"}, {"hit", "xx"}} {
			filter := app.SearchFilter{Keywords: kws}
			first := f.searchAll(filter, 1000)
			// Read the first page, insert entries that match, then read on from the marker.
			var page []app.SearchHit
			if err := f.st.Search(f.ctx, f.lib, f.space, filter, 0, func(h app.SearchHit) bool {
				page = append(page, h)
				return len(page) < 10
			}); err != nil {
				t.Fatal(err)
			}
			added := []string{"hit-new-" + kws[len(kws)-1], "xx-hit-new-" + kws[len(kws)-1]}
			for _, name := range added {
				f.file(name, 1)
			}
			var rest []string
			after := page[len(page)-1].Position
			if err := f.st.Search(f.ctx, f.lib, f.space, filter, after, func(h app.SearchHit) bool {
				rest = append(rest, strings.Join(h.Path, "/"))
				return true
			}); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range page {
				got = append(got, strings.Join(h.Path, "/"))
			}
			got = append(got, rest...)
			// Every entry of the first reading appears once, in its order; the new ones too.
			var old []string
			for _, g := range got {
				if !slices.Contains(added, g) {
					old = append(old, g)
				}
			}
			wantPaths(t, "the entries that were there", old, first...)
			for _, name := range added {
				if n := len(slices.DeleteFunc(slices.Clone(got), func(g string) bool { return g != name })); n != 1 {
					t.Fatalf("%s appears %d times in %q", name, n, got)
				}
			}
		}
	})
}

func TestSavedSearches(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		rec := app.SavedSearch{ID: "0123456789abcdef0123456789abcdef", LibraryID: f.lib, SpaceID: f.space,
			Request: `{"keyword":"x"}`, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := f.st.CreateSearch(f.ctx, rec); err != nil {
			t.Fatal(err)
		}
		got, err := f.st.SavedSearch(f.ctx, f.lib, f.space, rec.ID, t0.Add(time.Minute))
		if err != nil || got.Request != rec.Request || !got.ExpiresAt.Equal(rec.ExpiresAt) {
			t.Fatalf("SavedSearch = %+v, %v", got, err)
		}
		if _, err := f.st.SavedSearch(f.ctx, f.lib, "other", rec.ID, t0); !errors.Is(err, app.ErrSearchIDInvalid) {
			t.Fatalf("another space's search id: %v", err)
		}
		if _, err := f.st.SavedSearch(f.ctx, f.lib, f.space, rec.ID, t0.Add(time.Hour)); !errors.Is(err, app.ErrSearchIDInvalid) {
			t.Fatalf("an expired search id: %v", err)
		}
		if n, err := f.st.PurgeSearches(f.ctx, t0.Add(time.Minute), 10); err != nil || n != 0 {
			t.Fatalf("PurgeSearches before expiry = %d, %v", n, err)
		}
		if err := f.st.DeleteSearch(f.ctx, f.lib, f.space, rec.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.st.DeleteSearch(f.ctx, f.lib, f.space, rec.ID); !errors.Is(err, app.ErrSearchIDInvalid) {
			t.Fatalf("deleting twice: %v", err)
		}
		rec.ID = "fedcba9876543210fedcba9876543210"
		if err := f.st.CreateSearch(f.ctx, rec); err != nil {
			t.Fatal(err)
		}
		if n, err := f.st.PurgeSearches(f.ctx, t0.Add(2*time.Hour), 10); err != nil || n != 1 {
			t.Fatalf("PurgeSearches after expiry = %d, %v", n, err)
		}
	})
}
