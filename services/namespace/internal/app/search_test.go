package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/internal/store"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// Use-case tests of section 8 (docs/search.md): request parsing, the library switch and the
// token, favorites through the optional dependency, aggregations and the group cap.

var searchLibraries = fakeLibraries{
	"fsearch": {IsFileLibrary: true, EnableSearch: true},
	"foff":    {IsFileLibrary: true},
}

func newSearchHarness(t *testing.T, dsn string, groups int, fav app.Favorited) *harness {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, 0)
	if err != nil {
		t.Fatal(err)
	}
	ns := app.New(app.Config{Store: st, Libraries: searchLibraries, Auth: authz.New(fakeTokens{}, nil),
		LibraryTTL: time.Nanosecond, SearchGroups: groups, Favorited: fav})
	t.Cleanup(func() {
		ns.Close()
		_ = st.Close()
	})
	return &harness{t: t, ns: ns, st: st}
}

func searchBody(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func TestParseSearchRequest(t *testing.T) {
	tests := []struct {
		name, body string
		legacy     bool
		want       error
	}{
		{"empty", `{}`, false, nil},
		{"every 8.2 field", `{"type":"filename","keywords":["a","b"],"scope":"/x/y","inExtnames":[".PDF"],"excludeExtnames":["tmp"],
			"fileTypes":["file","!dir","what"],"minFileSize":"1","maxFileSize":2,"modificationTimeStart":"2025-01-01T00:00:00Z",
			"modificationTimeEnd":"2025-02-01T00:00:00.5+08:00","labels":["l"],"categories":["c"],"orderBy":"name","marker":"12"}`, false, nil},
		{"every 8.1 field", `{"keyword":"a b","scope":"","type":["doc","!image"],"extname":["pdf"],"tags":[],"searchMode":"fast"}`, true, nil},
		{"not an object", `[1]`, false, app.ErrParamInvalid},
		{"keywords of numbers", `{"keywords":[1]}`, false, app.ErrParamInvalid},
		{"type unknown", `{"type":"semantic"}`, false, app.ErrParamInvalid},
		{"size negative", `{"minFileSize":-1}`, false, app.ErrParamInvalid},
		{"size fraction", `{"maxFileSize":1.5}`, false, app.ErrParamInvalid},
		{"size min above max", `{"minFileSize":5,"maxFileSize":4}`, false, app.ErrParamInvalid},
		{"bad time", `{"modificationTimeStart":"yesterday"}`, false, app.ErrParamInvalid},
		{"start after end", `{"modificationTimeStart":"2025-02-01T00:00:00Z","modificationTimeEnd":"2025-01-01T00:00:00Z"}`, false, app.ErrParamInvalid},
		{"long extension", `{"inExtnames":["abcdefghijk"]}`, false, app.ErrParamInvalid},
		{"too many labels", `{"labels":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19","20","21"]}`, false, app.ErrParamInvalid},
		{"bad scope", `{"scope":"a/../b"}`, false, app.ErrParamInvalid},
		{"bad marker", `{"marker":-3}`, false, app.ErrParamInvalid},
		{"tags not objects", `{"tags":[1]}`, true, app.ErrParamInvalid},
		{"aggregation pair not allowed", `{"aggregations":[{"field":"name","operation":"sum"}]}`, false, app.ErrParamInvalid},
		{"sub-aggregation on count", `{"aggregations":[{"field":"size","operation":"count","subAggregations":[{"field":"size","operation":"sum"}]}]}`, false, app.ErrParamInvalid},
		{"sub-aggregation groups", `{"aggregations":[{"field":"extName","operation":"group","subAggregations":[{"field":"userId","operation":"group"}]}]}`, false, app.ErrParamInvalid},
		{"six aggregations", `{"aggregations":[{"field":"size","operation":"sum"},{"field":"size","operation":"sum"},{"field":"size","operation":"sum"},
			{"field":"size","operation":"sum"},{"field":"size","operation":"sum"},{"field":"size","operation":"sum"}]}`, false, app.ErrSearchTooComplex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := app.ParseSearchRequest(searchBody(t, tt.body), tt.legacy, 0)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
	// Unknown type values match nothing; "all" everything; negations exclude.
	req, err := app.ParseSearchRequest(searchBody(t, `{"keyword":" a  b a ","type":["all","!dir"]}`), true, 0)
	if err != nil || !slices.Equal(req.Filter.Keywords, []string{"a", "b"}) || req.Filter.Include != nil ||
		len(req.Filter.Exclude) != 1 || req.Filter.Exclude[0].Class != app.KindDir {
		t.Fatalf("legacy filter %+v, %v", req.Filter, err)
	}
	req, _ = app.ParseSearchRequest(searchBody(t, `{"fileTypes":["nope"]}`), false, 0)
	if len(req.Filter.Include) != 1 || req.Filter.Include[0].Class != app.KindNone {
		t.Fatalf("unknown fileType %+v", req.Filter.Include)
	}
}

func TestSearchUseCases(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			var asked []int64
			fav := func(_ context.Context, lib, space, user string, inodes []int64) (map[int64]bool, error) {
				asked = inodes
				if lib != "fsearch" || space != "-" || user != "u-admin" {
					t.Errorf("Favorited(%s, %s, %s)", lib, space, user)
				}
				return map[int64]bool{inodes[0]: true}, nil
			}
			h := newSearchHarness(t, e.DSN(t), 2, fav)
			h.mkdir("fsearch", "docs")
			h.put("fsearch", "docs/alpha.pdf", "b1", 100)
			h.put("fsearch", "docs/beta.pdf", "b2", 300)
			h.put("fsearch", "alpha.txt", "b3", 50)
			h.put("fsearch", "gamma.doc", "b4", 10)
			ctx := admin("fsearch")

			// The switch, then the token: decision 20, and read access to the space.
			if _, err := h.ns.SearchFs(admin("foff"), "foff", "-", nil, app.SearchOptions{}); !errors.Is(err, app.ErrSearchNotEnabled) {
				t.Fatalf("search with the switch off: %v", err)
			}
			if _, err := h.ns.SearchFs(as(""), "fsearch", "-", nil, app.SearchOptions{}); !errors.Is(err, authz.ErrEmptyAccessToken) {
				t.Fatalf("anonymous search: %v", err)
			}
			if _, err := h.ns.SearchFs(as("fsearch:admin@other"), "fsearch", "-", nil, app.SearchOptions{}); err == nil {
				t.Fatal("a token without the space searched it")
			}
			if _, err := h.ns.SearchFs(ctx, "fsearch", "-", searchBody(t, `{"type":"filecontent","keywords":["x"]}`), app.SearchOptions{}); !errors.Is(err, app.ErrFunctionNotEnabled) {
				t.Fatalf("filecontent: %v", err)
			}
			if err := h.ns.SearchAI(ctx, "fsearch", "-"); !errors.Is(err, app.ErrFunctionNotEnabled) {
				t.Fatalf("search-ai: %v", err)
			}
			bad := 0
			if _, err := h.ns.SearchFs(ctx, "fsearch", "-", nil, app.SearchOptions{Limit: &bad}); !errors.Is(err, app.ErrParamInvalid) {
				t.Fatalf("limit 0: %v", err)
			}

			// Favorites through the optional dependency, asked for the page's inodes only.
			one := 1
			res, err := h.ns.SearchFs(ctx, "fsearch", "-", searchBody(t, `{"keywords":["alpha"]}`), app.SearchOptions{Limit: &one, WithFavoriteStatus: true})
			if err != nil || len(res.Hits) != 1 || res.NextMarker == 0 || !res.Favorites[res.Hits[0].Node.Inode] || len(asked) != 1 {
				t.Fatalf("first page %+v, %v (asked %v)", res, err, asked)
			}
			next, err := h.ns.SearchFs(ctx, "fsearch", "-", searchBody(t, `{"keywords":["alpha"]}`),
				app.SearchOptions{Limit: &one, Marker: "1", WithFavoriteStatus: false})
			if err != nil || next.Favorites != nil {
				t.Fatalf("without the flag: %+v, %v", next, err)
			}

			// The legacy search: an id, pages by marker, delete.
			l, err := h.ns.CreateLegacySearch(ctx, "fsearch", "-", searchBody(t, `{"keyword":"pdf alpha","type":"file"}`), false)
			if err != nil || len(l.ID) != 32 || len(l.Hits) != 3 || strings.Join(l.Hits[0].Path, "/") != "docs/alpha.pdf" {
				t.Fatalf("legacy search %+v, %v", l, err)
			}
			again, err := h.ns.ContinueLegacySearch(ctx, "fsearch", "-", l.ID, "", false)
			if err != nil || len(again.Hits) != 3 {
				t.Fatalf("continue %+v, %v", again, err)
			}
			if _, err := h.ns.ContinueLegacySearch(ctx, "fsearch", "-", "nope", "", false); !errors.Is(err, app.ErrSearchIDInvalid) {
				t.Fatalf("unknown id: %v", err)
			}
			if err := h.ns.DeleteLegacySearch(ctx, "fsearch", "-", l.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := h.ns.ContinueLegacySearch(ctx, "fsearch", "-", l.ID, "", false); !errors.Is(err, app.ErrSearchIDInvalid) {
				t.Fatalf("deleted id: %v", err)
			}

			// Aggregations, with the group cap lowered to 2.
			st, err := h.ns.SearchFsStats(ctx, "fsearch", "-", searchBody(t, `{"aggregations":[
				{"field":"size","operation":"sum"},{"field":"size","operation":"min"},{"field":"size","operation":"max"},
				{"field":"size","operation":"average"},
				{"field":"extName","operation":"group","subAggregations":[{"field":"size","operation":"sum"},{"field":"name","operation":"count"}]}]}`))
			if err != nil {
				t.Fatal(err)
			}
			vals := []float64{st.Results[0].Value, st.Results[1].Value, st.Results[2].Value, st.Results[3].Value}
			if !slices.Equal(vals, []float64{460, 10, 300, 115}) {
				t.Fatalf("sum, min, max, average = %v", vals)
			}
			g := st.Results[4]
			if !st.IsTruncated || len(g.Groups) != 2 || g.Groups[0].Value != ".pdf" || g.Groups[0].Count != 2 ||
				g.Groups[0].Sub[0].Value != 400 || g.Groups[0].Sub[1].Value != 2 || g.Groups[1].Value != ".doc" {
				t.Fatalf("groups %+v truncated %v", g, st.IsTruncated)
			}
			st, err = h.ns.SearchFsStats(ctx, "fsearch", "-", searchBody(t, `{"keywords":["a"],"scope":"docs","aggregations":[
				{"field":"name","operation":"count"},{"field":"extName","operation":"distinct"},{"field":"fileType","operation":"group"}]}`))
			if err != nil || st.IsTruncated || st.Results[0].Value != 2 || st.Results[1].Value != 1 ||
				len(st.Results[2].Groups) != 1 || st.Results[2].Groups[0].Value != "portable" {
				t.Fatalf("scoped stats %+v, %v", st, err)
			}
			if _, err := h.ns.SearchFsStats(ctx, "fsearch", "-", searchBody(t, `{}`)); !errors.Is(err, app.ErrParamInvalid) {
				t.Fatalf("stats without aggregations: %v", err)
			}
		})
	}
}
