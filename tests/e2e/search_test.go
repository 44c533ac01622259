package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Search over real HTTPS (SMH API section 8, decisions 20, 22, 30; docs/search.md): the
// legacy search id, search-fs with its filters and markers, search-fs-stats, search-ai; renames
// and deletes reflected at once, scope, the token's spaces and the library switch.

func TestSearch(t *testing.T) {
	onEveryEngine(t, testSearch)
}

// searchAPI addresses one space's search routes.
type searchAPI struct {
	s          *system
	lib, space string
	token      string
}

func (a searchAPI) do(method, tail string, query url.Values, body any) response {
	a.s.t.Helper()
	if query == nil {
		query = url.Values{}
	}
	if query.Get("access_token") == "" && a.token != "" {
		query.Set("access_token", a.token)
	}
	return a.s.call(method, "/api/v1/search/"+a.lib+"/"+a.space+"/"+tail, query, body, nil)
}

// paths answers the joined paths of a page's contents.
func searchPaths(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, it := range contents(t, r) {
		out = append(out, strings.Join(pathOf(it["path"]), "/"))
	}
	return out
}

// fsAll follows search-fs' nextMarker to the end and answers every path.
func (a searchAPI) fsAll(t *testing.T, body map[string]any, limit string) []string {
	t.Helper()
	var out []string
	marker := ""
	for page := 0; page < 100; page++ {
		query := q("", "limit", limit)
		if marker != "" {
			query.Set("marker", marker)
		}
		r := a.do("POST", "search-fs", query, body)
		out = append(out, searchPaths(t, r)...)
		next, _ := r.JSON(t)["nextMarker"].(string)
		if next == "" {
			return out
		}
		marker = next
	}
	t.Fatal("search-fs does not end")
	return nil
}

func testSearch(t *testing.T, s *system) {
	lib := s.createLibrary("search", map[string]any{"isFileLibrary": true, "enableSearch": true, "useRecycleBin": true})
	admin := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"ann"}})
	f := fileAPI{s: s, lib: lib.ID, space: "-", token: admin, library: lib}
	d := f.dir()
	a := searchAPI{s: s, lib: lib.ID, space: "-", token: admin}
	d.mkdirs(t, admin, []string{"Projects/Alpha", "misc"})
	f.upload("Projects/Alpha/Plan-report.pdf", []byte("plan"), nil)
	f.upload("Projects/budget.xlsx", []byte("budget!"), nil)
	f.upload("misc/report-budget.txt", []byte("x"), nil)
	f.upload("misc/photo.jpg", pngBytes(t, 4, 4), nil)

	t.Run("search-fs finds names, ranked, with paths", func(t *testing.T) {
		r := a.do("POST", "search-fs", q("", "with_inode", "1"), map[string]any{"keywords": []string{"REPORT", "budget"}})
		if got := searchPaths(t, r); !slices.Equal(got, []string{"misc/report-budget.txt", "Projects/Alpha/Plan-report.pdf", "Projects/budget.xlsx"}) {
			t.Fatalf("ranked hits %q", got)
		}
		item := contents(t, r)[0]
		if item["name"] != "report-budget.txt" || item["type"] != "file" || item["size"] != "1" || item["userId"] != "ann" ||
			item["inode"] == nil || item["fileType"] != "text" || item["creationTime"] == "" {
			t.Fatalf("item %v", item)
		}
		if _, ok := r.JSON(t)["nextMarker"]; ok {
			t.Fatalf("a last page with a marker: %s", r.Body)
		}
		// Pages of one follow nextMarker to the same list.
		if got := a.fsAll(t, map[string]any{"keywords": []string{"report", "budget"}}, "1"); len(got) != 3 || got[0] != "misc/report-budget.txt" {
			t.Fatalf("paged %q", got)
		}
	})

	t.Run("filters and scope", func(t *testing.T) {
		if got := a.fsAll(t, map[string]any{"scope": "/Projects", "fileTypes": []string{"file"}}, "10"); !slices.Equal(got,
			[]string{"Projects/Alpha/Plan-report.pdf", "Projects/budget.xlsx"}) {
			t.Fatalf("scope %q", got)
		}
		// mkdirs creates in parallel, so inode order (the rank's tie-break) is not creation order here.
		if got := a.fsAll(t, map[string]any{"fileTypes": []string{"dir"}}, "10"); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"Projects", "Projects/Alpha", "misc"}) {
			t.Fatalf("dirs %q", got)
		}
		if got := a.fsAll(t, map[string]any{"inExtnames": []string{"PDF", ".txt"}, "minFileSize": 1, "maxFileSize": "4"}, "10"); !slices.Equal(got,
			[]string{"Projects/Alpha/Plan-report.pdf", "misc/report-budget.txt"}) {
			t.Fatalf("extensions and sizes %q", got)
		}
		// Decision 30: unknown values match nothing; malformed ones are 400 ParamInvalid.
		if got := a.fsAll(t, map[string]any{"fileTypes": []string{"hologram"}}, "10"); len(got) != 0 {
			t.Fatalf("an unknown type matched %q", got)
		}
		expectError(t, a.do("POST", "search-fs", nil, map[string]any{"modificationTimeStart": "soon"}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, a.do("POST", "search-fs", nil, map[string]any{"keywords": "x", "minFileSize": -2}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, a.do("POST", "search-fs", q("", "limit", "101"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, a.do("POST", "search-fs", nil, map[string]any{"type": "filecontent", "keywords": []string{"x"}}), http.StatusBadRequest, "FunctionNotEnabled")
		expectError(t, a.do("POST", "search-ai", nil, map[string]any{"type": "text", "keywords": "x"}), http.StatusBadRequest, "FunctionNotEnabled")
	})

	t.Run("a rename or delete is reflected at once", func(t *testing.T) {
		if r := d.do("PUT", "Projects/Beta", q(admin), map[string]any{"from": "Projects/Alpha"}); r.Status >= 300 {
			t.Fatalf("rename: %d %s", r.Status, r.Body)
		}
		if got := a.fsAll(t, map[string]any{"keywords": []string{"plan"}}, "10"); !slices.Equal(got, []string{"Projects/Beta/Plan-report.pdf"}) {
			t.Fatalf("after the rename %q", got)
		}
		if got := a.fsAll(t, map[string]any{"keywords": []string{"alpha"}}, "10"); len(got) != 0 {
			t.Fatalf("the old name still found %q", got)
		}
		if r := d.do("DELETE", "Projects", q(admin), nil); r.Status != http.StatusOK {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if got := a.fsAll(t, map[string]any{"keywords": []string{"plan", "budget"}}, "10"); !slices.Equal(got, []string{"misc/report-budget.txt"}) {
			t.Fatalf("after the delete %q", got)
		}
	})

	t.Run("legacy search: id, pages, delete", func(t *testing.T) {
		for i := range 25 {
			f.upload("misc/many-"+string(rune('a'+i))+".txt", []byte("m"), nil)
		}
		r := a.do("POST", "space-contents", nil, map[string]any{"keyword": "many", "scope": "misc", "type": "file"})
		m := r.JSON(t)
		id, _ := m["searchId"].(string)
		next, _ := m["nextMarker"].(float64) // a JSON number (8.1)
		if r.Status != http.StatusOK || id == "" || m["hasMore"] != true || next <= 0 || m["searchFinished"] != true || len(contents(t, r)) != 20 {
			t.Fatalf("first page: %d %s", r.Status, r.Body)
		}
		r = a.do("GET", id, q("", "marker", strconv.FormatInt(int64(next), 10)), nil)
		if got := searchPaths(t, r); len(got) != 5 || r.JSON(t)["hasMore"] != false || got[4] != "misc/many-y.txt" {
			t.Fatalf("second page: %s", r.Body)
		}
		if r := a.do("DELETE", id, nil, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		expectError(t, a.do("GET", id, nil, nil), http.StatusBadRequest, "SearchIdInvalid")
		expectError(t, a.do("DELETE", id, nil, nil), http.StatusBadRequest, "SearchIdInvalid")
	})

	t.Run("search-fs-stats", func(t *testing.T) {
		r := a.do("POST", "search-fs-stats", nil, map[string]any{"scope": "misc", "aggregations": []any{
			map[string]any{"field": "size", "operation": "count"},
			map[string]any{"field": "extName", "operation": "group", "subAggregations": []any{map[string]any{"field": "size", "operation": "sum"}}},
		}})
		if r.Status != http.StatusOK {
			t.Fatalf("stats: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		aggs := m["aggregations"].([]any)
		count := aggs[0].(map[string]any)
		groups := aggs[1].(map[string]any)["groups"].([]any)
		top := groups[0].(map[string]any)
		sub := top["subAggregations"].([]any)[0].(map[string]any)
		if m["isTruncated"] != false || count["value"] != float64(27) || top["value"] != ".txt" || top["count"] != float64(26) || sub["value"] != float64(26) {
			t.Fatalf("stats %s", r.Body)
		}
		expectError(t, a.do("POST", "search-fs-stats", nil, map[string]any{"aggregations": []any{map[string]any{"field": "name", "operation": "sum"}}}),
			http.StatusBadRequest, "ParamInvalid")
	})

	t.Run("the token's spaces and the library switch", func(t *testing.T) {
		multi := s.createLibrary("search-multi", map[string]any{"isFileLibrary": true, "isMultiSpace": true, "enableSearch": true})
		madmin := s.mustMint(multi, url.Values{"grant": {"admin"}})
		for _, sp := range []string{"sa", "sb"} {
			if r := s.call("POST", "/api/v1/space/"+multi.ID, q(madmin, "space_id", sp), nil, nil); r.Status != http.StatusCreated {
				t.Fatalf("create space: %d %s", r.Status, r.Body)
			}
		}
		onlyA := s.mustMint(multi, url.Values{"space_id": {"sa"}})
		expectError(t, searchAPI{s: s, lib: multi.ID, space: "sb", token: onlyA}.do("POST", "search-fs", nil, nil),
			http.StatusForbidden, "AccessTokenNotMatchSpace")
		if r := (searchAPI{s: s, lib: multi.ID, space: "sa", token: onlyA}).do("POST", "search-fs", nil, nil); r.Status != http.StatusOK {
			t.Fatalf("own space: %d %s", r.Status, r.Body)
		}
		expectError(t, s.call("POST", "/api/v1/search/"+lib.ID+"/-/search-fs", nil, nil, nil), http.StatusBadRequest, "EmptyAccessToken")

		off := s.createLibrary("search-off", map[string]any{"isFileLibrary": true})
		offTok := s.mustMint(off, url.Values{"grant": {"admin"}})
		o := searchAPI{s: s, lib: off.ID, space: "-", token: offTok}
		for _, tail := range []string{"search-fs", "search-fs-stats", "space-contents"} {
			expectError(t, o.do("POST", tail, nil, nil), http.StatusBadRequest, "SearchNotEnabled")
		}
	})
}
