package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Issue 12 fileops over real HTTPS (docs/fileops.md): virtual files (3.17, decisions 18 and 25),
// the contents view (2.10), directory stats by type and calibration (4.9, 7.3), and the space's
// download traffic limit, enforced on the data endpoint (2.10, 3.8).

func TestFileOpsExtra(t *testing.T) {
	onEveryEngine(t, testFileOpsExtra)
}

func testFileOpsExtra(t *testing.T, s *system) {
	lib := s.createLibrary("fileops", map[string]any{"isFileLibrary": true, "useRecycleBin": true})
	admin := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"ann"}})
	f := fileAPI{s: s, lib: lib.ID, space: "-", token: admin, library: lib}
	d := f.dir()
	d.mkdirs(t, admin, []string{"docs/deep", "media"})

	t.Run("virtual files", func(t *testing.T) {
		body := map[string]any{"contentType": "text/x-note", "size": "1234", "labels": []string{"v"},
			"metaData": map[string]string{"x-smh-meta-k": "v"}, "category": "notes"}
		r := f.do("PUT", "docs/note.txt", q("", "virtual_file", ""), body)
		if m := r.JSON(t); r.Status != http.StatusOK || m["type"] != "virtual" || !slices.Equal(pathOf(m["path"]), []string{"docs", "note.txt"}) || m["size"] != "1234" {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		// Default strategy rename; ask refuses a taken name.
		r = f.do("PUT", "docs/note.txt", q("", "virtual_file", ""), nil)
		if m := r.JSON(t); r.Status != http.StatusOK || !slices.Equal(pathOf(m["path"]), []string{"docs", "note (1).txt"}) || m["size"] != "0" {
			t.Fatalf("rename: %d %s", r.Status, r.Body)
		}
		expectError(t, f.do("PUT", "docs/note.txt", q("", "virtual_file", "", "conflict_resolution_strategy", "ask"), nil), http.StatusConflict, "SameNameDirectoryOrFileExists")
		// Bad input: 400, nothing created.
		expectError(t, f.do("PUT", "docs/bad.txt", q("", "virtual_file", ""), map[string]any{"size": "-1"}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, f.do("PUT", "docs/bad.txt", q("", "virtual_file", ""), map[string]any{"size": true}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, f.do("PUT", "docs/bad.txt", q("", "virtual_file", ""), map[string]any{"category": strings.Repeat("c", 17)}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, f.do("PUT", "nowhere/x.txt", q("", "virtual_file", ""), nil), http.StatusNotFound, "DirectoryNotFound")
		if f.status("HEAD", "docs/bad.txt") != http.StatusNotFound {
			t.Fatal("a refused create left a file")
		}
		// Grants: create_virtual may, read_only may not.
		cv := s.mustMint(lib, url.Values{"grant": {"create_virtual"}})
		if r := f.as(cv).do("PUT", "docs/cv.txt", q("", "virtual_file", ""), nil); r.Status != http.StatusOK {
			t.Fatalf("create_virtual: %d %s", r.Status, r.Body)
		}
		ro := s.mustMint(lib, url.Values{"grant": {"read_only"}})
		expectError(t, f.as(ro).do("PUT", "docs/ro.txt", q("", "virtual_file", ""), nil), http.StatusForbidden, "NoPermission")

		// Metadata answers (decision 25): info without a URL, HEAD, directory info, listing.
		r = f.do("GET", "docs/note.txt", q("", "info", ""), nil)
		if m := r.JSON(t); r.Status != http.StatusOK || m["type"] != "virtual" || m["size"] != "1234" || m["cosUrl"] != nil || m["contentType"] != "text/x-note" {
			t.Fatalf("info: %d %s", r.Status, r.Body)
		}
		if r := f.do("HEAD", "docs/note.txt", nil, nil); r.Status != http.StatusOK || r.Header.Get("x-smh-type") != "virtual" || r.Header.Get("x-smh-size") != "1234" {
			t.Fatalf("HEAD: %d %v", r.Status, r.Header)
		}
		if r := d.do("GET", "docs/note.txt", q(admin, "info", ""), nil); r.Status != http.StatusOK || r.JSON(t)["type"] != "virtual" {
			t.Fatalf("directory info: %d %s", r.Status, r.Body)
		}
		if _, types := f.list("docs"); types["note.txt"] != "virtual" {
			t.Fatalf("listing types %v", types)
		}
		// Content transfer is refused: download, preview, upload into it, a symlink to it.
		expectError(t, f.do("GET", "docs/note.txt", nil, nil), http.StatusBadRequest, "UnsupportedFileType")
		expectError(t, f.do("GET", "docs/note.txt", q("", "preview", ""), nil), http.StatusBadRequest, "UnsupportedFileType")
		expectError(t, f.do("PUT", "docs/note.txt", q("", "conflict_resolution_strategy", "overwrite"), nil), http.StatusBadRequest, "UnsupportedFileType")
		expectError(t, f.do("PUT", "docs/link.txt", nil, map[string]any{"linkTo": "docs/note.txt"}), http.StatusBadRequest, "UnsupportedFileType")
		// Copy, move, delete treat it as a file; the size counts.
		before := spaceSize(t, s, lib.ID, admin)
		if r := f.do("PUT", "media/copy.txt", nil, map[string]any{"copyFrom": "docs/note.txt"}); r.Status != http.StatusOK {
			t.Fatalf("copy: %d %s", r.Status, r.Body)
		}
		if after := spaceSize(t, s, lib.ID, admin); after != before+1234 {
			t.Fatalf("space size %d after copying a virtual file of 1234 onto %d", after, before)
		}
		if r := f.do("PUT", "media/moved.txt", nil, map[string]any{"from": "media/copy.txt"}); r.Status != http.StatusOK {
			t.Fatalf("move: %d %s", r.Status, r.Body)
		}
		if r := f.do("DELETE", "media/moved.txt", nil, nil); r.Status != http.StatusOK {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		// ?update changes its size and content type; any other entry refuses them.
		if r := d.do("POST", "docs/note.txt", q(admin, "update", ""), map[string]any{"size": 10, "contentType": "text/plain"}); r.Status != http.StatusNoContent {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		if m := f.do("GET", "docs/note.txt", q("", "info", ""), nil).JSON(t); m["size"] != "10" || m["contentType"] != "text/plain" {
			t.Fatalf("after update: %v", m)
		}
		// The deleted copy's 1234 bytes stay in the bin, which the size counts.
		if after := spaceSize(t, s, lib.ID, admin); after != before+10 {
			t.Fatalf("space size %d after shrinking 1234 → 10 (was %d)", after, before)
		}
		expectError(t, d.do("POST", "docs", q(admin, "update", ""), map[string]any{"size": "1"}), http.StatusBadRequest, "UnsupportedFileType")
		expectError(t, d.do("POST", "docs/note.txt", q(admin, "update", ""), map[string]any{"size": "x"}), http.StatusBadRequest, "ParamInvalid")
	})

	t.Run("contents view", func(t *testing.T) {
		d.mkdirs(t, admin, []string{"gone/sub"})
		f.upload("docs/deep/a.txt", []byte("aaa"), nil)
		f.upload("b.txt", []byte("b"), nil)
		f.upload("gone/sub/hidden.txt", []byte("h"), nil)
		if r := d.do("DELETE", "gone", q(admin), nil); r.Status != http.StatusOK {
			t.Fatalf("delete gone: %d %s", r.Status, r.Body)
		}
		view := func(kv ...string) response {
			return s.call("GET", "/api/v1/space/"+lib.ID+"/-/contents-view", q(admin, kv...), nil, nil)
		}
		// Every live file, whatever its directory; nothing under a deleted directory.
		var all []string
		marker := ""
		for page := 0; page < 10; page++ {
			kv := []string{"filter", "onlyFile", "limit", "2"}
			if marker != "" {
				kv = append(kv, "marker", marker)
			}
			r := view(kv...)
			all = append(all, names(t, r.JSON(t))...)
			marker, _ = r.JSON(t)["nextMarker"].(string)
			if marker == "" {
				break
			}
		}
		want := []string{"a.txt", "b.txt", "cv.txt", "note (1).txt", "note.txt"}
		if !slices.Equal(all, want) {
			t.Fatalf("files by name, two a page: %v, want %v", all, want)
		}
		r := view("filter", "onlyDir", "with_path", "true", "order_by", "name", "order_by_type", "desc")
		items := contents(t, r)
		var dirs []string
		for _, it := range items {
			dirs = append(dirs, strings.Join(pathOf(it["path"]), "/"))
		}
		if !slices.Equal(dirs, []string{"media", "docs", "docs/deep"}) {
			t.Fatalf("directories by name desc with paths: %v", dirs)
		}
		items = contents(t, view("filter", "onlyFile", "category", "notes"))
		if len(items) != 1 || items[0]["name"] != "note.txt" || items[0]["type"] != "virtual" || len(pathOf(items[0]["path"])) != 0 {
			t.Fatalf("category filter: %v", items)
		}
		items = contents(t, view("filter", "onlyFile", "order_by", "size", "order_by_type", "desc", "limit", "1"))
		if items[0]["name"] != "note.txt" || items[0]["size"] != "10" {
			t.Fatalf("largest file: %v", items)
		}
		for _, bad := range [][]string{{}, {"filter", "all"}, {"filter", "onlyFile", "limit", "1001"}, {"filter", "onlyFile", "limit", "0"},
			{"filter", "onlyFile", "order_by", "colour"}, {"filter", "onlyFile", "order_by_type", "up"}, {"filter", "onlyFile", "with_path", "yes"}} {
			expectError(t, view(bad...), http.StatusBadRequest, "ParamInvalid")
		}
		expectError(t, view("filter", "onlyFile", "marker", "nonsense"), http.StatusNotFound, "MarkerNotFound")
		// A marker of another order is refused rather than skipping entries.
		m, _ := view("filter", "onlyFile", "limit", "1").JSON(t)["nextMarker"].(string)
		expectError(t, view("filter", "onlyFile", "marker", m, "order_by", "size"), http.StatusNotFound, "MarkerNotFound")
		// Any token of the space reads it (read_only included).
		ro := s.mustMint(lib, url.Values{"grant": {"read_only"}})
		if r := s.call("GET", "/api/v1/space/"+lib.ID+"/-/contents-view", q(ro, "filter", "onlyDir"), nil, nil); r.Status != http.StatusOK {
			t.Fatalf("read_only: %d %s", r.Status, r.Body)
		}
	})

	t.Run("stats and calibrate", func(t *testing.T) {
		stats := func(path string, kv ...string) map[string]any {
			r := d.do("GET", path, q(admin, append([]string{"stats", "1"}, kv...)...), nil)
			if r.Status != http.StatusOK {
				t.Fatalf("stats %s %v: %d %s", path, kv, r.Status, r.Body)
			}
			return r.JSON(t)
		}
		if m := stats("", "stats_type", "recycle"); m["fileCount"] != float64(2) || m["dirCount"] != float64(2) || m["statsType"] != "recycle" {
			t.Fatalf("bin stats (gone/sub/hidden.txt and media/moved.txt): %v", m)
		}
		if m := stats("", "stats_type", "history"); m["fileCount"] != float64(0) || m["dirCount"] != float64(0) {
			t.Fatalf("history stats: %v", m)
		}
		expectError(t, d.do("GET", "docs", q(admin, "stats", "1", "stats_type", "recycle"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, d.do("GET", "docs", q(admin, "stats", "1", "stats_type", "bogus"), nil), http.StatusBadRequest, "InvalidDirectoryStatsType")

		r := d.do("PUT", "docs", q(admin, "calibrate", "", "stats_type", "normal"), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("calibrate: %d %s", r.Status, r.Body)
		}
		id, ok := r.JSON(t)["taskId"].(float64)
		if !ok || id <= 0 {
			t.Fatalf("calibrate answer %s", r.Body)
		}
		var res map[string]any
		for deadline := time.Now().Add(30 * time.Second); ; {
			res = s.call("GET", fmt.Sprintf("/api/v1/task-result/%s/-/%d", lib.ID, int(id)), q(admin), nil, nil).JSON(t)
			if res["status"] != float64(202) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if res["taskType"] != "calibrateDirectoryStats" || res["status"] != float64(200) {
			t.Fatalf("task result %v", res)
		}
		if c, _ := res["calibrateDirectoryStatsResult"].(map[string]any); c["status"] != float64(200) {
			t.Fatalf("typed result %v", res)
		}
		// V1 query answers the same task.
		if r := s.call("GET", fmt.Sprintf("/api/v1/task/%s/-/%d", lib.ID, int(id)), q(admin), nil, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":200`) {
			t.Fatalf("V1 task: %d %s", r.Status, r.Body)
		}
		// Rate-limited per directory and type; another directory or type is free.
		expectError(t, d.do("PUT", "docs", q(admin, "calibrate", "", "stats_type", "normal"), nil), http.StatusTooManyRequests, "RateLimitExceeded")
		if r := d.do("PUT", "", q(admin, "calibrate", "", "stats_type", "recycle"), nil); r.Status != http.StatusOK {
			t.Fatalf("calibrate the bin: %d %s", r.Status, r.Body)
		}
		expectError(t, d.do("PUT", "docs", q(admin, "calibrate", "", "stats_type", "bogus"), nil), http.StatusBadRequest, "InvalidDirectoryStatsType")
		expectError(t, d.do("PUT", "docs", q(admin, "calibrate", ""), nil), http.StatusBadRequest, "InvalidDirectoryStatsType")
		expectError(t, d.do("PUT", "docs", q(admin, "calibrate", "", "stats_type", "recycle"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, d.do("PUT", "nowhere", q(admin, "calibrate", "", "stats_type", "history"), nil), http.StatusNotFound, "DirectoryNotFound")
		ro := s.mustMint(lib, url.Values{"grant": {"read_only"}})
		expectError(t, d.do("PUT", "media", q(ro, "calibrate", "", "stats_type", "normal"), nil), http.StatusForbidden, "NoPermission")
		// The calibrate flag never creates a directory.
		if r := d.do("HEAD", "nowhere", q(admin), nil); r.Status != http.StatusNotFound {
			t.Fatalf("calibrate created a directory: %d", r.Status)
		}
	})

	t.Run("traffic limit", func(t *testing.T) {
		limit := func(body any, token string) response {
			return s.call("POST", "/api/v1/space/"+lib.ID+"/-/traffic-limit", q(token), body, nil)
		}
		for _, bad := range []any{map[string]any{}, map[string]any{"downloadTrafficLimit": "102400"},
			map[string]any{"downloadTrafficLimit": 102399}, map[string]any{"downloadTrafficLimit": 104857601},
			map[string]any{"downloadTrafficLimit": 0}, map[string]any{"downloadTrafficLimit": 200000.5}, "[1]"} {
			expectError(t, limit(bad, admin), http.StatusBadRequest, "ParamInvalid")
		}
		ro := s.mustMint(lib, url.Values{"grant": {"read_only"}})
		expectError(t, limit(map[string]any{"downloadTrafficLimit": 102400}, ro), http.StatusForbidden, "NoPermission")

		data := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16) // 300 KiB
		f.upload("big.bin", data, nil)
		if r := limit(map[string]any{"downloadTrafficLimit": 102400}, admin); r.Status != http.StatusNoContent {
			t.Fatalf("set: %d %s", r.Status, r.Body)
		}
		loc := f.redirect("big.bin", nil)
		if u, _ := url.Parse(loc); u.Query().Get("traffic") != "102400" {
			t.Fatalf("the URL does not carry the limit: %s", loc)
		}
		// The limit is signed: a URL without it, or with another value, is refused.
		u, _ := url.Parse(loc)
		qs := u.Query()
		qs.Set("traffic", "104857600")
		u.RawQuery = qs.Encode()
		if r := s.raw("GET", u.String(), nil, nil); r.Status != http.StatusForbidden {
			t.Fatalf("altered limit: %d", r.Status)
		}
		qs.Del("traffic")
		u.RawQuery = qs.Encode()
		if r := s.raw("GET", u.String(), nil, nil); r.Status != http.StatusForbidden {
			t.Fatalf("removed limit: %d", r.Status)
		}
		// A lower bound, not a speed threshold: 300 KiB at 100 KiB/s cannot take less than ~3 s.
		start := time.Now()
		got := s.fetch(loc)
		elapsed := time.Since(start)
		if !bytes.Equal(got, data) {
			t.Fatal("paced download changed the bytes")
		}
		if min := time.Duration(float64(len(data))/102400*float64(time.Second)) - 200*time.Millisecond; elapsed < min {
			t.Fatalf("%d bytes at 102400 B/s in %v, want at least %v", len(data), elapsed, min)
		}
		// The request's traffic_limit (bits/s, as COS reads it) combines: the lower wins.
		if u, _ := url.Parse(f.redirect("big.bin", q("", "traffic_limit", "8388608"))); u.Query().Get("traffic") != "102400" {
			t.Fatalf("a higher request limit must not lift the space's: %s", u)
		}
		expectError(t, f.do("GET", "big.bin", q("", "traffic_limit", "100"), nil), http.StatusBadRequest, "ParamInvalid")
		if r := limit(map[string]any{"downloadTrafficLimit": -1}, admin); r.Status != http.StatusNoContent {
			t.Fatalf("remove: %d %s", r.Status, r.Body)
		}
		if u, _ := url.Parse(f.redirect("big.bin", nil)); u.Query().Has("traffic") {
			t.Fatalf("limit removed, URL still paced: %s", u)
		}
		if u, _ := url.Parse(f.redirect("big.bin", q("", "traffic_limit", "819200"))); u.Query().Get("traffic") != "102400" {
			t.Fatalf("request limit alone: %s", u)
		}
		info := f.do("GET", "big.bin", q("", "info", "", "traffic_limit", "1638400"), nil).JSON(t)
		if u, _ := url.Parse(fmt.Sprint(info["cosUrl"])); u.Query().Get("traffic") != "204800" {
			t.Fatalf("info URL: %v", info["cosUrl"])
		}
	})
}

// spaceSize answers GET /api/v1/space/{lib}/-/size as a number.
func spaceSize(t *testing.T, s *system, lib, token string) int64 {
	t.Helper()
	r := s.call("GET", "/api/v1/space/"+lib+"/-/size", q(token), nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("size: %d %s", r.Status, r.Body)
	}
	var n int64
	fmt.Sscan(fmt.Sprint(r.JSON(t)["size"]), &n)
	return n
}
