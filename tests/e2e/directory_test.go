package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// dirAPI addresses the directory endpoints (SMH API section 4) of one library and space.
type dirAPI struct {
	s          *system
	lib, space string
}

// url answers the public path of dir: segments escaped one by one (literal "/"), or, with
// encodeSlash, the whole path escaped as the JS SDK does (encodeURIComponent: "/" is "%2F").
func (d dirAPI) url(dir string, encodeSlash bool) string {
	base := "/api/v1/directory/" + d.lib + "/" + d.space + "/"
	if encodeSlash {
		return base + url.PathEscape(dir)
	}
	segs := strings.Split(dir, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return base + strings.Join(segs, "/")
}

func (d dirAPI) do(method, dir string, q url.Values, body any) response {
	d.s.t.Helper()
	return d.s.call(method, d.url(dir, false), q, body, nil)
}

// q builds a query: the token, then key/value pairs ("" values make bare flags).
func q(token string, kv ...string) url.Values {
	out := url.Values{}
	if token != "" {
		out.Set("access_token", token)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Add(kv[i], kv[i+1])
	}
	return out
}

func names(t *testing.T, listing map[string]any) []string {
	t.Helper()
	items, ok := listing["contents"].([]any)
	if !ok {
		t.Fatalf("no contents: %v", listing)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.(map[string]any)["name"].(string))
	}
	return out
}

func pathOf(v any) []string {
	items, _ := v.([]any)
	out := []string{}
	for _, it := range items {
		out = append(out, it.(string))
	}
	return out
}

// mkdirs creates dirs in parallel (each with its parents).
func (d dirAPI) mkdirs(t *testing.T, token string, dirs []string) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
	)
	work := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for dir := range work {
				r := d.s.call("PUT", d.url(dir, false), q(token), nil, nil)
				if r.Status != http.StatusCreated {
					mu.Lock()
					errs = append(errs, fmt.Sprintf("%s: %d %s", dir, r.Status, r.Body))
					mu.Unlock()
				}
			}
		}()
	}
	for _, dir := range dirs {
		work <- dir
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("mkdir: %v", errs[:min(3, len(errs))])
	}
}

// Directories and albums (section 4) and the task query (7.1) over HTTPS.
func TestDirectories(t *testing.T) { onEveryEngine(t, testDirectories) }

func testDirectories(t *testing.T, s *system) {
	lib := s.createLibrary("files", map[string]any{"isFileLibrary": true})
	admin := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"boss"}})
	d := dirAPI{s: s, lib: lib.ID, space: "-"}

	t.Run("create", func(t *testing.T) {
		r := d.do("PUT", "a/b/c", q(admin, "with_inode", "1"), nil)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		if !slices.Equal(pathOf(m["path"]), []string{"a", "b", "c"}) || m["inode"] == nil || m["creationTime"] != "2026-11-26T12:00:00.000Z" {
			t.Fatalf("created %v", m)
		}
		expectError(t, d.do("PUT", "a/b/c", q(admin), nil), http.StatusConflict, "SameNameDirectoryOrFileExists")
		expectError(t, d.do("PUT", "a/b/c", q(admin, "conflict_resolution_strategy", "ask"), nil), http.StatusConflict, "SameNameDirectoryOrFileExists")
		r = d.do("PUT", "a/b/c", q(admin, "conflict_resolution_strategy", "rename"), nil)
		if r.Status != http.StatusCreated || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"a", "b", "c (1)"}) {
			t.Fatalf("rename: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("PUT", "a/x", q(admin, "conflict_resolution_strategy", "overwrite"), nil), http.StatusBadRequest, "InvalidConflictResolutionStrategy")
		r = d.do("PUT", "attrs", q(admin), map[string]any{"metaData": map[string]string{"x-smh-meta-k": "v"}, "labels": []string{"l1"}, "localCreationTime": "2020-01-01T00:00:00.000Z"})
		if m := r.JSON(t); r.Status != http.StatusCreated || m["labels"].([]any)[0] != "l1" || m["metaData"].(map[string]any)["x-smh-meta-k"] != "v" || m["localCreationTime"] != "2020-01-01T00:00:00.000Z" {
			t.Fatalf("attributes: %d %s", r.Status, r.Body)
		}
		// Root, illegal names and lengths (decision 6).
		expectError(t, s.call("PUT", "/api/v1/directory/"+lib.ID+"/-/", q(admin), nil, nil), http.StatusBadRequest, "EmptyPath")
		for _, bad := range []string{`a\b`, "x\x01y", "tab\there", "x\x7f", "a//b"} {
			expectError(t, s.call("PUT", "/api/v1/directory/"+lib.ID+"/-/"+url.PathEscape(bad), q(admin), nil, nil), http.StatusBadRequest, "IllegalFileName")
		}
		expectError(t, s.call("PUT", "/api/v1/directory/"+lib.ID+"/-/%FF", q(admin), nil, nil), http.StatusBadRequest, "IllegalFileName")
		// "." and ".." segments, literal or encoded, are refused, not resolved (decision 6).
		for _, bad := range []string{"a/../b", "a/./b", "..", "a/%2E%2E/b", "%2E"} {
			expectError(t, s.call("PUT", "/api/v1/directory/"+lib.ID+"/-/"+bad, q(admin), nil, nil), http.StatusBadRequest, "IllegalFileName")
		}
		expectError(t, d.do("PUT", strings.Repeat("n", 256), q(admin), nil), http.StatusBadRequest, "DirectoryNameLengthExceed")
		if r := d.do("PUT", strings.Repeat("相", 255), q(admin), nil); r.Status != http.StatusCreated {
			t.Fatalf("255 characters: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("PUT", "z", nil, nil), http.StatusBadRequest, "EmptyAccessToken")
		expectError(t, s.call("PUT", "/api/v1/directory/"+lib.ID+"/other/z", q(admin), nil, nil), http.StatusNotFound, "SpaceNotFound")
	})

	t.Run("path encoding", func(t *testing.T) {
		// 12.3: "/" as %2F or literal, spaces, UTF-8, "+", "#", "?" and "%" round-trip.
		dir := "enc/sp ace/相册/a+b/h#sh/q?m/100%/x&y=z"
		r := s.call("PUT", d.url(dir, true), q(admin), nil, nil)
		if r.Status != http.StatusCreated || !slices.Equal(pathOf(r.JSON(t)["path"]), strings.Split(dir, "/")) {
			t.Fatalf("create with %%2F: %d %s", r.Status, r.Body)
		}
		for _, encodeSlash := range []bool{false, true} {
			r := s.call("GET", d.url(dir, encodeSlash), q(admin, "info", ""), nil, nil)
			if m := r.JSON(t); r.Status != http.StatusOK || !slices.Equal(pathOf(m["path"]), strings.Split(dir, "/")) || m["name"] != "x&y=z" || m["type"] != "dir" {
				t.Fatalf("info (encodeSlash %v): %d %s", encodeSlash, r.Status, r.Body)
			}
			if r := s.call("HEAD", d.url(dir, encodeSlash), q(admin), nil, nil); r.Status != http.StatusOK || len(r.Body) != 0 {
				t.Fatalf("head (encodeSlash %v): %d %q", encodeSlash, r.Status, r.Body)
			}
		}
		expectError(t, d.do("PUT", dir, q(admin), nil), http.StatusConflict, "SameNameDirectoryOrFileExists")
		got := names(t, d.do("GET", "enc/sp ace/相册", q(admin), nil).JSON(t))
		if !slices.Equal(got, []string{"a+b"}) {
			t.Fatalf("listing %v", got)
		}
	})

	t.Run("list", func(t *testing.T) {
		for _, p := range []string{"/api/v1/directory/" + lib.ID + "/-/", "/api/v1/directory/" + lib.ID + "/-"} {
			r := s.call("GET", p, q(admin, "with_inode", "1"), nil, nil)
			m := r.JSON(t)
			if r.Status != http.StatusOK || len(pathOf(m["path"])) != 0 || m["subDirCount"] != float64(4) || m["fileCount"] != float64(0) || m["totalNum"] != float64(4) || m["nextMarker"] != nil {
				t.Fatalf("root %s: %d %s", p, r.Status, r.Body)
			}
			first := m["contents"].([]any)[0].(map[string]any)
			if first["name"] != "a" || first["type"] != "dir" || first["inode"] == nil || first["creationTime"] == nil || first["modificationTime"] == nil {
				t.Fatalf("item %v", first)
			}
		}
		m := d.do("GET", "a/b", q(admin), nil).JSON(t)
		if !slices.Equal(pathOf(m["path"]), []string{"a", "b"}) || !slices.Equal(names(t, m), []string{"c", "c (1)"}) {
			t.Fatalf("a/b: %v", m)
		}
		expectError(t, d.do("GET", "nope", q(admin), nil), http.StatusNotFound, "DirectoryNotFound")
		expectError(t, d.do("GET", "a/nope/deeper", q(admin), nil), http.StatusNotFound, "DirectoryNotFound")
		expectError(t, d.do("GET", "a", q(admin, "marker", "garbage"), nil), http.StatusNotFound, "MarkerNotFound")
		expectError(t, d.do("GET", "a", q(admin, "by-marker", "1", "by-page", "1"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, d.do("GET", "a", q(admin, "marker", "", "page", "2"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, d.do("GET", "a", q(admin, "limit", "1001"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, d.do("GET", "a", q(admin, "by-page", "", "page_size", "1001"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, d.do("GET", "a", q(admin, "by-page", "", "page", "101", "page_size", "100"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, d.do("GET", "a", q(admin, "order_by", "colour"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, d.do("GET", "a", q(admin, "filter", "onlyCats"), nil), http.StatusBadRequest, "ParamInvalid")
	})

	t.Run("pagination walk", func(t *testing.T) {
		var want []string
		for i := range 300 {
			want = append(want, fmt.Sprintf("n%03d", i))
		}
		dirs := make([]string, len(want))
		for i, n := range want {
			dirs[i] = "many/" + n
		}
		d.mkdirs(t, admin, dirs)

		// Decision 1: no parameters → marker mode, 20, with the counts.
		m := d.do("GET", "many", q(admin), nil).JSON(t)
		if len(names(t, m)) != 20 || m["nextMarker"] == nil || m["totalNum"] != float64(300) || m["subDirCount"] != float64(300) {
			t.Fatalf("default page: %v", m["nextMarker"])
		}
		for _, desc := range []bool{false, true} {
			var got []string
			marker, pages := "", 0
			for {
				qq := q(admin, "by-marker", "1", "limit", "37")
				if desc {
					qq.Set("order_by_type", "desc")
				}
				if marker != "" {
					qq.Set("marker", marker)
				}
				r := d.do("GET", "many", qq, nil)
				if r.Status != http.StatusOK {
					t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
				}
				m := r.JSON(t)
				got = append(got, names(t, m)...)
				pages++
				next, _ := m["nextMarker"].(string)
				if next == "" {
					break
				}
				marker = next
			}
			expect := slices.Clone(want)
			if desc {
				slices.Reverse(expect)
			}
			if pages != 9 || !slices.Equal(got, expect) {
				t.Fatalf("marker walk (desc %v): %d pages, %d names", desc, pages, len(got))
			}
		}
		var got []string
		for page := 1; page <= 9; page++ {
			m := d.do("GET", "many", q(admin, "by-page", "1", "page", fmt.Sprint(page), "page_size", "37"), nil).JSON(t)
			if m["nextMarker"] != nil || m["totalNum"] != float64(300) {
				t.Fatalf("page mode body: %v", m["nextMarker"])
			}
			got = append(got, names(t, m)...)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("page walk: %d names", len(got))
		}
		// Android's offset + limit; prefix; start_name.
		if got := names(t, d.do("GET", "many", q(admin, "offset", "10", "limit", "2"), nil).JSON(t)); !slices.Equal(got, []string{"n010", "n011"}) {
			t.Fatalf("offset: %v", got)
		}
		if got := names(t, d.do("GET", "many", q(admin, "prefix", "n29"), nil).JSON(t)); len(got) != 10 || got[0] != "n290" {
			t.Fatalf("prefix: %v", got)
		}
		if got := names(t, d.do("GET", "many", q(admin, "start_name", "n297"), nil).JSON(t)); !slices.Equal(got, []string{"n298", "n299"}) {
			t.Fatalf("start_name: %v", got)
		}
		if got := names(t, d.do("GET", "many", q(admin, "filter", "onlyFile"), nil).JSON(t)); len(got) != 0 {
			t.Fatalf("onlyFile: %v", got)
		}
	})

	t.Run("order", func(t *testing.T) {
		// Created one second apart, with local times in the reverse order.
		created := []string{"o2", "o0", "o1"}
		for i, n := range created {
			s.fakeClock().Advance(time.Second)
			lt := fmt.Sprintf("2020-01-0%dT00:00:00.000Z", 3-i)
			if r := d.do("PUT", "ord/"+n, q(admin), map[string]any{"localCreationTime": lt, "localModificationTime": lt}); r.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
		}
		reverse := slices.Clone(created)
		slices.Reverse(reverse)
		tests := []struct {
			orderBy string
			want    []string // ascending
		}{
			{"name", []string{"o0", "o1", "o2"}},
			{"creationTime", created},
			{"modificationTime", created},
			{"size", created}, // equal sizes: creation (inode) order
			{"localCreationTime", reverse},
			{"localModificationTime", reverse},
		}
		for _, tt := range tests {
			for _, dir := range []string{"asc", "desc"} {
				want := slices.Clone(tt.want)
				if dir == "desc" {
					slices.Reverse(want)
				}
				for _, spelling := range [][2]string{{"order_by", "order_by_type"}, {"orderBy", "orderByType"}} {
					got := names(t, d.do("GET", "ord", q(admin, spelling[0], tt.orderBy, spelling[1], dir), nil).JSON(t))
					if !slices.Equal(got, want) {
						t.Errorf("%s %s (%s): %v, want %v", tt.orderBy, dir, spelling[0], got, want)
					}
				}
			}
		}
		if got := names(t, d.do("GET", "ord", q(admin, "sort_type", "union", "order_by", "name", "order_by_type", "desc"), nil).JSON(t)); !slices.Equal(got, []string{"o2", "o1", "o0"}) {
			t.Fatalf("union: %v", got)
		}
	})

	t.Run("info and head", func(t *testing.T) {
		m := d.do("GET", "a/b", q(admin, "info", "1", "with_inode", "1"), nil).JSON(t)
		if m["name"] != "b" || m["type"] != "dir" || m["userId"] != "boss" || m["inode"] == nil || !slices.Equal(pathOf(m["path"]), []string{"a", "b"}) {
			t.Fatalf("info %v", m)
		}
		expectError(t, d.do("GET", "a/none", q(admin, "info", ""), nil), http.StatusNotFound, "DirectoryNotFound")
		if r := d.do("HEAD", "a/none", q(admin), nil); r.Status != http.StatusNotFound || len(r.Body) != 0 {
			t.Fatalf("head missing: %d %q", r.Status, r.Body)
		}
	})

	t.Run("move and copy", func(t *testing.T) {
		d.mkdirs(t, admin, []string{"src/x/y", "src/z"})
		if r := d.do("PUT", "dst/copied", q(admin), map[string]any{"copyFrom": "src"}); r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("copy: %d %s", r.Status, r.Body)
		}
		if got := names(t, d.do("GET", "dst/copied", q(admin), nil).JSON(t)); !slices.Equal(got, []string{"x", "z"}) {
			t.Fatalf("copied: %v", got)
		}
		expectError(t, d.do("PUT", "dst/copied", q(admin), map[string]any{"copyFrom": "src"}), http.StatusConflict, "SameNameDirectoryOrFileExists")
		r := d.do("PUT", "dst/copied", q(admin), map[string]any{"copyFrom": "src", "conflictResolutionStrategy": "rename"})
		if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"dst", "copied (1)"}) {
			t.Fatalf("copy rename: %d %s", r.Status, r.Body)
		}
		r = d.do("PUT", "dst/copied", q(admin, "conflict_resolution_strategy", "rename"), map[string]any{"copyFrom": "src"})
		if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"dst", "copied (2)"}) {
			t.Fatalf("copy rename by query: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("PUT", "src/x/inside", q(admin), map[string]any{"copyFrom": "src"}), http.StatusBadRequest, "SourceDirectoryIsParentOfDestination")
		expectError(t, d.do("PUT", "dst/q", q(admin), map[string]any{"copyFrom": "missing"}), http.StatusNotFound, "SourceDirectoryNotFound")

		if r := d.do("PUT", "moved/here", q(admin), map[string]any{"from": "dst/copied (1)"}); r.Status != http.StatusNoContent {
			t.Fatalf("move: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("GET", "dst/copied (1)", q(admin), nil), http.StatusNotFound, "DirectoryNotFound")
		if got := names(t, d.do("GET", "moved/here", q(admin), nil).JSON(t)); !slices.Equal(got, []string{"x", "z"}) {
			t.Fatalf("moved: %v", got)
		}
		r = d.do("PUT", "moved/here", q(admin), map[string]any{"from": "dst/copied (2)", "conflictResolutionStrategy": "rename"})
		if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"moved", "here (1)"}) {
			t.Fatalf("move rename: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("PUT", "moved/here", q(admin), map[string]any{"from": "dst/copied"}), http.StatusConflict, "SameNameDirectoryOrFileExists")
		expectError(t, d.do("PUT", "moved/here/x/deeper", q(admin), map[string]any{"from": "moved/here"}), http.StatusBadRequest, "SourceDirectoryIsParentOfDestination")
		expectError(t, d.do("PUT", "moved/again", q(admin), map[string]any{"from": "gone"}), http.StatusNotFound, "SourceDirectoryNotFound")
		expectError(t, d.do("PUT", "moved/again", q(admin), map[string]any{"from": ""}), http.StatusBadRequest, "InvalidSourceDirectory")
	})

	t.Run("update and stats", func(t *testing.T) {
		if r := d.do("POST", "moved/here", q(admin, "update", ""), map[string]any{"labels": []string{"x", "y"}, "metaData": map[string]string{"x-smh-meta-a": "b"}}); r.Status != http.StatusNoContent {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		m := d.do("GET", "moved/here", q(admin, "info", ""), nil).JSON(t)
		if fmt.Sprint(m["labels"]) != "[x y]" || m["metaData"].(map[string]any)["x-smh-meta-a"] != "b" {
			t.Fatalf("after update: %v", m)
		}
		expectError(t, d.do("POST", "moved/nope", q(admin, "update", ""), map[string]any{"labels": []string{}}), http.StatusNotFound, "DirectoryNotFound")
		st := d.do("GET", "moved", q(admin, "stats", "1"), nil).JSON(t)
		// moved/here{x{y}, z} and moved/here (1){x{y}, z}.
		if st["statsType"] != "normal" || st["dirCount"] != float64(8) || st["fileCount"] != float64(0) || st["storage"] != float64(0) || st["userId"] != "boss" {
			t.Fatalf("stats %v", st)
		}
		root := d.do("GET", "", q(admin, "stats", ""), nil).JSON(t)
		if n, _ := root["dirCount"].(float64); n < 300 {
			t.Fatalf("root stats %v", root)
		}
		expectError(t, d.do("GET", "moved", q(admin, "stats", "1", "stats_type", "odd"), nil), http.StatusBadRequest, "InvalidDirectoryStatsType")
	})

	t.Run("delete", func(t *testing.T) {
		if r := d.do("DELETE", "moved", q(admin), nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("GET", "moved/here", q(admin), nil), http.StatusNotFound, "DirectoryNotFound")
		expectError(t, d.do("DELETE", "moved", q(admin), nil), http.StatusNotFound, "DirectoryNotFound")
		expectError(t, s.call("DELETE", "/api/v1/directory/"+lib.ID+"/-/", q(admin), nil, nil), http.StatusBadRequest, "EmptyPath")
		if r := d.do("DELETE", "a/b/c (1)", q(admin, "permanent", "1"), nil); r.Status != http.StatusNoContent {
			t.Fatalf("permanent delete: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("DELETE", "a", q(admin, "directory_only", "1"), nil), http.StatusBadRequest, "ParamInvalid")
	})

	t.Run("grants", func(t *testing.T) {
		reader := s.mustMint(lib, url.Values{"user_id": {"rita"}})
		deleter := s.mustMint(lib, url.Values{"grant": {"delete_directory"}, "user_id": {"dan"}})
		creator := s.mustMint(lib, url.Values{"grant": {"create_directory"}, "user_id": {"cid"}})
		if r := d.do("GET", "a", q(reader), nil); r.Status != http.StatusOK {
			t.Fatalf("reader lists: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("PUT", "g/1", q(reader), nil), http.StatusForbidden, "NoPermission")
		if r := d.do("PUT", "g/1", q(creator), nil); r.Status != http.StatusCreated {
			t.Fatalf("creator: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("DELETE", "g/1", q(creator), nil), http.StatusForbidden, "NoPermission")
		// The library's bin is off: permanent=1 is ignored and delete_directory suffices (5.10;
		// with the bin on it needs delete_directory_permanent, recycle_test.go).
		if r := d.do("DELETE", "g/1", q(deleter, "permanent", "1"), nil); r.Status != http.StatusNoContent {
			t.Fatalf("deleter: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("PUT", "g/2", q(creator), map[string]any{"copyFrom": "g"}), http.StatusForbidden, "NoPermission")
		expectError(t, d.do("PUT", "g/2", q(creator), map[string]any{"from": "g"}), http.StatusForbidden, "NoPermission")
		expectError(t, d.do("POST", "g", q(creator, "update", ""), map[string]any{}), http.StatusForbidden, "NoPermission")
		expectError(t, d.do("GET", "a", nil, nil), http.StatusBadRequest, "EmptyAccessToken")
	})

	t.Run("async copy and tasks", func(t *testing.T) {
		// 21 chains of 50 directories under big: 1,051 entries, over decision 7's 1,000.
		var dirs []string
		for i := range 21 {
			chain := make([]string, 49)
			for j := range chain {
				chain[j] = fmt.Sprintf("y%d", j)
			}
			dirs = append(dirs, fmt.Sprintf("big/x%02d/", i)+strings.Join(chain, "/"))
		}
		d.mkdirs(t, admin, dirs)
		r := d.do("PUT", "big copy", q(admin), map[string]any{"copyFrom": "big"})
		if r.Status != http.StatusAccepted {
			t.Fatalf("async copy: %d %s", r.Status, r.Body)
		}
		accepted := r.JSON(t)
		id, _ := accepted["taskId"].(float64)
		if _, hasPath := accepted["path"]; id <= 0 || hasPath {
			t.Fatalf("task id in %s", r.Body)
		}
		taskURL := fmt.Sprintf("/api/v1/task/%s/-/%d,999", lib.ID, int(id))
		tasks := s.waitTask(t, taskURL, q(admin), 2)
		if tasks[1]["status"] != float64(404) || tasks[1]["code"] != "TaskNotFound" {
			t.Fatalf("unknown task: %v", tasks[1])
		}
		task := tasks[0]
		if task["id"] != id || task["taskId"] != id || task["status"] != float64(200) {
			t.Fatalf("task %v", task)
		}
		res, _ := task["result"].(map[string]any)
		if !slices.Equal(pathOf(res["path"]), []string{"big copy"}) {
			t.Fatalf("result %v", task)
		}
		st := d.do("GET", "big copy", q(admin, "stats", "1"), nil).JSON(t)
		if st["dirCount"] != float64(21*50) {
			t.Fatalf("copied stats %v", st)
		}

		// Deleting the copy changes its own row whatever it holds (docs/lifecycle.md): no task,
		// and with the library's bin off it is gone for good (204).
		r = d.do("DELETE", "big copy", q(admin), nil)
		if r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("delete of a large copy: %d %s, want 204 without a body", r.Status, r.Body)
		}
		expectError(t, d.do("GET", "big copy", q(admin, "info", ""), nil), http.StatusNotFound, "DirectoryNotFound")
		if st := d.do("GET", "big", q(admin, "stats", "1"), nil).JSON(t); st["dirCount"] != float64(21*50) {
			t.Fatalf("the source after deleting the copy: %v", st)
		}
		expectError(t, s.call("GET", "/api/v1/task/"+lib.ID+"/-/x", q(admin), nil, nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, s.call("GET", taskURL, nil, nil, nil), http.StatusBadRequest, "EmptyAccessToken")
	})
}

// Media libraries (2.11), spaces and public read (12.7) for directories.
func TestDirectoriesMediaSpacesPublicRead(t *testing.T) {
	onEveryEngine(t, testDirectoriesMediaSpacesPublicRead)
}

func testDirectoriesMediaSpacesPublicRead(t *testing.T, s *system) {

	t.Run("single-album media library", func(t *testing.T) {
		lib := s.createLibrary("photos", map[string]any{"isFileLibrary": false})
		tok := s.mustMint(lib, url.Values{"grant": {"admin"}})
		d := dirAPI{s: s, lib: lib.ID, space: "-"}
		expectError(t, d.do("PUT", "album", q(tok), nil), http.StatusBadRequest, "DirectoryNotAllowed")
	})

	t.Run("multi-album media library", func(t *testing.T) {
		lib := s.createLibrary("albums", map[string]any{"isFileLibrary": false, "isMultiAlbum": true})
		tok := s.mustMint(lib, url.Values{"grant": {"admin"}})
		d := dirAPI{s: s, lib: lib.ID, space: "-"}
		for _, n := range []string{"zeta", "alpha"} {
			s.fakeClock().Advance(time.Second)
			if r := d.do("PUT", n, q(tok), nil); r.Status != http.StatusCreated {
				t.Fatalf("album: %d %s", r.Status, r.Body)
			}
		}
		expectError(t, d.do("PUT", "alpha/deeper", q(tok), nil), http.StatusBadRequest, "DirectoryLevelExceed")
		expectError(t, d.do("PUT", "beta/deeper", q(tok), nil), http.StatusBadRequest, "DirectoryLevelExceed")
		expectError(t, d.do("PUT", "x/alpha", q(tok), map[string]any{"from": "alpha"}), http.StatusBadRequest, "DirectoryLevelExceed")
		if r := d.do("PUT", "omega", q(tok), map[string]any{"from": "zeta"}); r.Status != http.StatusNoContent {
			t.Fatalf("rename album: %d %s", r.Status, r.Body)
		}
		// The root lists albums by name (4.2 media default).
		if got := names(t, d.do("GET", "", q(tok), nil).JSON(t)); !slices.Equal(got, []string{"alpha", "omega"}) {
			t.Fatalf("albums %v", got)
		}
	})

	t.Run("multi-tenant media library: the space decides", func(t *testing.T) {
		lib := s.createLibrary("tenants", map[string]any{"isFileLibrary": false, "isMultiSpace": true})
		tok := s.mustMint(lib, url.Values{"grant": {"admin"}})
		for id, multi := range map[string]bool{"multi": true, "single": false} {
			r := s.call("POST", "/api/v1/space/"+lib.ID, q(tok, "space_id", id), map[string]any{"isMultiAlbum": multi}, nil)
			if r.Status != http.StatusCreated {
				t.Fatalf("space: %d %s", r.Status, r.Body)
			}
		}
		if r := (dirAPI{s, lib.ID, "multi"}).do("PUT", "album", q(tok), nil); r.Status != http.StatusCreated {
			t.Fatalf("album in multi-album space: %d %s", r.Status, r.Body)
		}
		expectError(t, dirAPI{s, lib.ID, "single"}.do("PUT", "album", q(tok), nil), http.StatusBadRequest, "DirectoryNotAllowed")
	})

	t.Run("spaces and public read", func(t *testing.T) {
		lib := s.createLibrary("disk", map[string]any{"isFileLibrary": true, "isMultiSpace": true})
		tok := s.mustMint(lib, url.Values{"grant": {"admin"}})
		for id, public := range map[string]bool{"open": true, "closed": false} {
			r := s.call("POST", "/api/v1/space/"+lib.ID, q(tok, "space_id", id), map[string]any{"isPublicRead": public}, nil)
			if r.Status != http.StatusCreated {
				t.Fatalf("space: %d %s", r.Status, r.Body)
			}
			if r := (dirAPI{s, lib.ID, id}).do("PUT", "docs/sub", q(tok), nil); r.Status != http.StatusCreated {
				t.Fatalf("mkdir: %d %s", r.Status, r.Body)
			}
		}
		open, closed := dirAPI{s, lib.ID, "open"}, dirAPI{s, lib.ID, "closed"}
		if got := names(t, open.do("GET", "docs", nil, nil).JSON(t)); !slices.Equal(got, []string{"sub"}) {
			t.Fatalf("public list: %v", got)
		}
		if r := open.do("GET", "docs", q("", "info", ""), nil); r.Status != http.StatusOK {
			t.Fatalf("public info: %d %s", r.Status, r.Body)
		}
		if r := open.do("HEAD", "docs", nil, nil); r.Status != http.StatusOK {
			t.Fatalf("public head: %d", r.Status)
		}
		expectError(t, open.do("PUT", "docs/new", nil, nil), http.StatusBadRequest, "EmptyAccessToken")
		expectError(t, open.do("GET", "docs", q("", "stats", "1"), nil), http.StatusBadRequest, "EmptyAccessToken")
		expectError(t, closed.do("GET", "docs", nil, nil), http.StatusBadRequest, "EmptyAccessToken")

		openOnly := s.mustMint(lib, url.Values{"space_id": {"open"}, "grant": {"create_directory"}})
		expectError(t, closed.do("GET", "docs", q(openOnly), nil), http.StatusForbidden, "AccessTokenNotMatchSpace")
		expectError(t, closed.do("PUT", "docs/x", q(openOnly), nil), http.StatusForbidden, "AccessTokenNotMatchSpace")
		if r := open.do("PUT", "docs/x", q(openOnly), nil); r.Status != http.StatusCreated {
			t.Fatalf("own space: %d %s", r.Status, r.Body)
		}
	})
}

// waitTask polls the task query until its first task has left 202 (running), checking that the
// answer holds n entries, and answers them. It waits as long as the test may run: how fast a
// task ends is not what these tests judge, only that it ends and how.
func (s *system) waitTask(t *testing.T, taskURL string, query url.Values, n int) []map[string]any {
	t.Helper()
	for {
		var tasks []map[string]any
		r := s.call("GET", taskURL, query, nil, nil)
		if r.Status != http.StatusOK || jsonInto(t, r.Body, &tasks) != n {
			t.Fatalf("tasks: %d %s", r.Status, r.Body)
		}
		if tasks[0]["status"] != float64(202) {
			return tasks
		}
		time.Sleep(50 * time.Millisecond)
	}
}
