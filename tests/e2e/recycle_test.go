package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// The recycle bin over real HTTPS (SMH API section 5, 5.10, 7.1, 7.3; docs/lifecycle.md): the
// delete answers, all ten operations, restore strategies, batch answers 200/207/202 and the task
// queries, purge and empty, and the bin switched off.

func TestRecycleBin(t *testing.T) {
	onEveryEngine(t, testRecycleBin)
}

// binAPI addresses one space's bin.
type binAPI struct {
	s          *system
	lib, space string
	token      string
}

func (b binAPI) do(method, item string, query url.Values, body any) response {
	b.s.t.Helper()
	p := "/api/v1/recycled/" + b.lib + "/" + b.space
	if item != "" {
		p += "/" + item
	}
	if query.Get("access_token") == "" && b.token != "" {
		query.Set("access_token", b.token)
	}
	return b.s.call(method, p, query, body, nil)
}

// contents answers a listing's items, failing unless it is a 200 object with contents.
func contents(t *testing.T, r response) []map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	items, ok := r.JSON(t)["contents"].([]any)
	if !ok {
		t.Fatalf("no contents: %s", r.Body)
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
	}
	return out
}

// binned deletes a file or directory and answers the recycledItemId of its 200 answer.
func binned(t *testing.T, r response) float64 {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("delete into the bin: %d %s, want 200", r.Status, r.Body)
	}
	id, ok := r.JSON(t)["recycledItemId"].(float64) // a JSON number (section 5)
	if !ok || id <= 0 {
		t.Fatalf("delete answer %s", r.Body)
	}
	return id
}

func idStr(id float64) string { return fmt.Sprint(int64(id)) }

func testRecycleBin(t *testing.T, s *system) {
	lib := s.createLibrary("recycle", map[string]any{"isFileLibrary": true, "useRecycleBin": true, "autoRemoveRecycledDays": 30})
	admin := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"ann"}})
	f := fileAPI{s: s, lib: lib.ID, space: "-", token: admin, library: lib}
	d := dirAPI{s: s, lib: lib.ID, space: "-"}
	b := binAPI{s: s, lib: lib.ID, space: "-", token: admin}
	content := []byte("the bytes of a binned file")

	t.Run("deletes answer 200 with the item, 204 when permanent", func(t *testing.T) {
		d.mkdirs(t, admin, []string{"docs/deep"})
		f.upload("docs/deep/a.txt", content, nil)
		f.upload("b.txt", []byte("b"), nil)
		f.upload("gone.txt", []byte("gone"), nil)
		fileID := binned(t, f.do("DELETE", "b.txt", nil, nil))
		dirID := binned(t, d.do("DELETE", "docs", q(admin), nil))
		if fileID == dirID {
			t.Fatalf("two items, one id %v", fileID)
		}
		// permanent=1: 204, and delete_file alone may not skip the bin (5.10).
		plain := s.mustMint(lib, url.Values{"grant": {"delete_file"}})
		expectError(t, f.do("DELETE", "gone.txt", q(plain, "permanent", "1"), nil), http.StatusForbidden, "NoPermission")
		if r := f.do("DELETE", "gone.txt", q("", "permanent", "1"), nil); r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("permanent delete: %d %s", r.Status, r.Body)
		}

		items := contents(t, b.do("GET", "", url.Values{}, nil))
		if len(items) != 2 || items[0]["name"] != "docs" || items[1]["name"] != "b.txt" {
			t.Fatalf("bin, newest first (decision 23): %v", items)
		}
		dir, file := items[0], items[1]
		if dir["recycledItemId"] != dirID || dir["type"] != "dir" || dir["size"] != fmt.Sprint(len(content)) ||
			!slices.Equal(pathOf(dir["originalPath"]), []string{"docs"}) || dir["spaceId"] != "-" || dir["remainingTime"] != float64(30) {
			t.Fatalf("directory item %v", dir)
		}
		if file["recycledItemId"] != fileID || file["type"] != "file" || file["size"] != "1" || file["fileType"] != "text" ||
			file["removalTime"] == "" || file["modificationTime"] == "" || file["previewByCI"] != false {
			t.Fatalf("file item %v", file)
		}
		// Page mode counts the bin and answers no marker; marker mode pages.
		r := b.do("GET", "", q("", "by-page", "", "page_size", "1", "page", "2"), nil)
		if m := r.JSON(t); m["totalNum"] != float64(2) || m["nextMarker"] != nil || len(contents(t, r)) != 1 {
			t.Fatalf("page mode %s", r.Body)
		}
		r = b.do("GET", "", q("", "by-marker", "", "limit", "1", "order_by", "name"), nil)
		marker, _ := r.JSON(t)["nextMarker"].(string)
		if items := contents(t, r); marker == "" || items[0]["name"] != "b.txt" {
			t.Fatalf("first marker page %s", r.Body)
		}
		if items := contents(t, b.do("GET", "", q("", "marker", marker, "limit", "1", "order_by", "name"), nil)); len(items) != 1 || items[0]["name"] != "docs" {
			t.Fatalf("second marker page %v", items)
		}
		expectError(t, b.do("GET", "", q("", "by-page", "", "by-marker", ""), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, b.do("GET", "", q("", "limit", "101"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, b.do("GET", "", q("", "order_by", "inode"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, b.do("GET", "", q("", "marker", "junk"), nil), http.StatusNotFound, "MarkerNotFound")
		// An item as the list shows it.
		if it := b.do("GET", idStr(fileID), url.Values{}, nil).JSON(t); it["name"] != "b.txt" || it["recycledItemId"] != fileID {
			t.Fatalf("item %v", it)
		}
	})

	t.Run("info and preview of a recycled file", func(t *testing.T) {
		d.mkdirs(t, admin, []string{"keep"})
		f.upload("keep/r.txt", content, nil)
		id := binned(t, f.do("DELETE", "keep/r.txt", nil, nil))
		r := b.do("GET", idStr(id), q("", "info", ""), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("info: %d %s", r.Status, r.Body)
		}
		info := r.JSON(t)
		if info["size"] != fmt.Sprint(len(content)) || info["type"] != "file" || info["fileType"] != "text" || info["cosUrlExpiration"] == nil {
			t.Fatalf("info %s", r.Body)
		}
		if got := s.fetch(info["cosUrl"].(string)); !bytes.Equal(got, content) {
			t.Fatalf("cosUrl serves %q", got)
		}
		r = b.do("GET", idStr(id), q("", "preview", ""), nil)
		if r.Status != http.StatusFound || !bytes.Equal(s.fetch(r.Header.Get("Location")), content) {
			t.Fatalf("preview: %d %s", r.Status, r.Body)
		}
		// A directory holds no bytes of its own; an unknown id is unknown.
		dirID := binned(t, d.do("DELETE", "keep", q(admin), nil))
		expectError(t, b.do("GET", idStr(dirID), q("", "info", ""), nil), http.StatusNotFound, "RecycledItemNotFound")
		expectError(t, b.do("GET", "987654", q("", "preview", ""), nil), http.StatusNotFound, "RecycledItemNotFound")
		expectError(t, b.do("GET", "x1", q("", "info", ""), nil), http.StatusBadRequest, "ParamInvalid")
	})

	t.Run("restore one", func(t *testing.T) {
		d.mkdirs(t, admin, []string{"p/q"})
		f.upload("p/q/x.txt", []byte("x1"), nil)
		x1 := binned(t, f.do("DELETE", "p/q/x.txt", nil, nil))
		f.upload("p/q/x.txt", []byte("x2"), nil)
		// ask (the default) refuses the taken name and changes nothing.
		expectError(t, b.do("POST", idStr(x1), q("", "restore", ""), nil), http.StatusConflict, "SameNameDirectoryOrFileExists")
		expectError(t, b.do("POST", idStr(x1), q("", "restore", "", "conflict_resolution_strategy", "merge"), nil), http.StatusBadRequest, "InvalidConflictResolutionStrategy")
		expectError(t, b.do("POST", "424242", q("", "restore", ""), nil), http.StatusNotFound, "RecycledItemNotFound")
		r := b.do("POST", idStr(x1), q("", "restore", "", "conflict_resolution_strategy", "rename"), nil)
		if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"p", "q", "x (1).txt"}) {
			t.Fatalf("rename: %d %s", r.Status, r.Body)
		}
		if got := f.download("p/q/x (1).txt"); !bytes.Equal(got, []byte("x1")) {
			t.Fatalf("restored bytes %q", got)
		}
		x2 := binned(t, f.do("DELETE", "p/q/x.txt", nil, nil))
		f.upload("p/q/x.txt", []byte("x3"), nil)
		if r := b.do("POST", idStr(x2), q("", "restore", "", "conflict_resolution_strategy", "overwrite"), nil); r.Status != http.StatusOK {
			t.Fatalf("overwrite: %d %s", r.Status, r.Body)
		}
		if got := f.download("p/q/x.txt"); !bytes.Equal(got, []byte("x2")) {
			t.Fatalf("after overwrite %q", got)
		}
		// Missing parents are made again; fallbackToRoot puts the item at the root instead.
		f.upload("p/q/y.txt", []byte("y"), nil)
		f.upload("p/q/z.txt", []byte("z"), nil)
		y := binned(t, f.do("DELETE", "p/q/y.txt", nil, nil))
		z := binned(t, f.do("DELETE", "p/q/z.txt", nil, nil))
		binned(t, d.do("DELETE", "p", q(admin), nil))
		r = b.do("POST", idStr(y), q("", "restore", ""), nil)
		if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"p", "q", "y.txt"}) {
			t.Fatalf("recreated parents: %d %s", r.Status, r.Body)
		}
		binned(t, d.do("DELETE", "p", q(admin), nil))
		r = b.do("POST", idStr(z), q("", "restore", "", "restore_path_strategy", "fallbackToRoot"), nil)
		if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"z.txt"}) {
			t.Fatalf("fallbackToRoot: %d %s", r.Status, r.Body)
		}
		// restore_recycled is the grant; delete_recycled is not.
		other := s.mustMint(lib, url.Values{"grant": {"delete_recycled"}})
		expectError(t, b.do("POST", idStr(y), q(other, "restore", ""), nil), http.StatusForbidden, "NoPermission")
	})

	t.Run("restore several: 200, 207 and 202 with a task", func(t *testing.T) {
		f.upload("m1.txt", []byte("1"), nil)
		f.upload("m2.txt", []byte("2"), nil)
		m1 := binned(t, f.do("DELETE", "m1.txt", nil, nil))
		m2 := binned(t, f.do("DELETE", "m2.txt", nil, nil))
		f.upload("m1.txt", []byte("1 again"), nil)
		r := b.do("POST", "", q("", "restore", ""), []any{m1, 999999, m2})
		if r.Status != http.StatusMultiStatus {
			t.Fatalf("batch with a failure: %d %s", r.Status, r.Body)
		}
		res, _ := r.JSON(t)["result"].([]any)
		if len(res) != 3 {
			t.Fatalf("results %s", r.Body)
		}
		first, second, third := res[0].(map[string]any), res[1].(map[string]any), res[2].(map[string]any)
		if first["status"] != float64(200) || first["recycledItemId"] != m1 || !slices.Equal(pathOf(first["path"]), []string{"m1 (1).txt"}) {
			t.Fatalf("renamed (the batch default) %v", first)
		}
		if second["status"] != float64(404) || second["code"] != "RecycledItemNotFound" || second["recycledItemId"] != float64(999999) || second["message"] == "" {
			t.Fatalf("unknown item %v", second)
		}
		if third["status"] != float64(200) || !slices.Equal(pathOf(third["path"]), []string{"m2.txt"}) {
			t.Fatalf("third %v", third)
		}
		f.upload("m3.txt", []byte("3"), nil)
		m3 := binned(t, f.do("DELETE", "m3.txt", nil, nil))
		if r := b.do("POST", "", q("", "restore", ""), []any{m3}); r.Status != http.StatusOK {
			t.Fatalf("batch all restored: %d %s", r.Status, r.Body)
		}
		expectError(t, b.do("POST", "", q("", "restore", ""), []any{}), http.StatusBadRequest, "NoItemsProvided")
		expectError(t, b.do("POST", "", q("", "restore", ""), []any{1.5}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, b.do("POST", "", q("", "restore", ""), map[string]any{"ids": []int{1}}), http.StatusBadRequest, "ParamInvalid")

		// Over decision 7's 100 items: 202 and a task (7.1 and 7.3 answer it).
		var dirs []string
		for i := range 101 {
			dirs = append(dirs, fmt.Sprintf("many/d%03d", i))
		}
		d.mkdirs(t, admin, dirs)
		ids := make([]any, 0, 102)
		for _, dir := range dirs {
			ids = append(ids, binned(t, d.do("DELETE", dir, q(admin), nil)))
		}
		ids = append(ids, 888888)
		r = b.do("POST", "", q("", "restore", ""), ids)
		if r.Status != http.StatusAccepted {
			t.Fatalf("large batch: %d %s", r.Status, r.Body)
		}
		accepted := r.JSON(t)
		taskID, _ := accepted["taskId"].(float64)
		if _, has := accepted["result"]; taskID <= 0 || has {
			t.Fatalf("202 answer %s", r.Body)
		}
		v1 := s.waitTask(t, fmt.Sprintf("/api/v1/task/%s/-/%d", lib.ID, int(taskID)), q(admin), 1)[0]
		items, _ := v1["result"].([]any)
		if v1["status"] != float64(207) || len(items) != 102 || items[101].(map[string]any)["code"] != "RecycledItemNotFound" ||
			!slices.Equal(pathOf(items[0].(map[string]any)["path"]), []string{"many", "d000"}) {
			t.Fatalf("7.1 of the batch: %v", v1)
		}
		r = s.call("GET", fmt.Sprintf("/api/v1/task-result/%s/-/%d", lib.ID, int(taskID)), q(admin), nil, nil)
		v2 := r.JSON(t)
		typed, _ := v2["batchRestoreRecycleResults"].([]any)
		if r.Status != http.StatusOK || v2["taskId"] != fmt.Sprint(int(taskID)) || v2["taskType"] != "batchRestoreRecycle" ||
			v2["status"] != float64(207) || len(typed) != 102 || typed[5].(map[string]any)["status"] != float64(200) {
			t.Fatalf("7.3 of the batch: %d %s", r.Status, r.Body)
		}
		if st := d.do("GET", "many", q(admin, "stats", "1"), nil).JSON(t); st["dirCount"] != float64(101) {
			t.Fatalf("restored directories %v", st)
		}
		expectError(t, s.call("GET", "/api/v1/task-result/"+lib.ID+"/-/999999", q(admin), nil, nil), http.StatusNotFound, "TaskNotFound")
		expectError(t, s.call("GET", "/api/v1/task-result/"+lib.ID+"/-/1,2", q(admin), nil, nil), http.StatusBadRequest, "ParamInvalid")
	})

	t.Run("purge, purge several, empty", func(t *testing.T) {
		var ids []float64
		for _, name := range []string{"e1.txt", "e2.txt", "e3.txt", "e4.txt"} {
			f.upload(name, []byte(name), nil)
			ids = append(ids, binned(t, f.do("DELETE", name, nil, nil)))
		}
		reader := s.mustMint(lib, url.Values{"grant": {"restore_recycled"}})
		expectError(t, b.do("DELETE", idStr(ids[0]), q(reader), nil), http.StatusForbidden, "NoPermission")
		if r := b.do("DELETE", idStr(ids[0]), url.Values{}, nil); r.Status != http.StatusNoContent {
			t.Fatalf("purge: %d %s", r.Status, r.Body)
		}
		expectError(t, b.do("DELETE", idStr(ids[0]), url.Values{}, nil), http.StatusNotFound, "RecycledItemNotFound")
		expectError(t, b.do("GET", idStr(ids[0]), q("", "info", ""), nil), http.StatusNotFound, "RecycledItemNotFound")
		// Several: all or nothing.
		expectError(t, b.do("POST", "", q("", "delete", ""), []any{ids[1], 123456789}), http.StatusNotFound, "RecycledItemNotFound")
		if r := b.do("POST", "", q("", "delete", ""), []any{ids[1], ids[2]}); r.Status != http.StatusNoContent {
			t.Fatalf("purge several: %d %s", r.Status, r.Body)
		}
		expectError(t, b.do("POST", idStr(ids[1]), q("", "restore", ""), nil), http.StatusNotFound, "RecycledItemNotFound")
		if r := b.do("DELETE", "", url.Values{}, nil); r.Status != http.StatusNoContent {
			t.Fatalf("empty: %d %s", r.Status, r.Body)
		}
		if items := contents(t, b.do("GET", "", url.Values{}, nil)); len(items) != 0 {
			t.Fatalf("bin after empty: %v", items)
		}
		expectError(t, b.do("GET", idStr(ids[3]), q("", "info", ""), nil), http.StatusNotFound, "RecycledItemNotFound")
	})

	t.Run("lifecycle", func(t *testing.T) {
		for _, body := range []any{map[string]any{}, map[string]any{"retentionDays": 0}, map[string]any{"retentionDays": 10001}, map[string]any{"retentionDays": "x"}} {
			if r := b.do("POST", "", q("", "lifecycle", ""), body); r.Status != http.StatusBadRequest {
				t.Fatalf("retention %v: %d %s", body, r.Status, r.Body)
			}
		}
		if r := b.do("POST", "", q("", "lifecycle", ""), map[string]any{"retentionDays": 365}); r.Status != http.StatusNoContent {
			t.Fatalf("lifecycle: %d %s", r.Status, r.Body)
		}
		f.upload("later.txt", []byte("l"), nil)
		binned(t, f.do("DELETE", "later.txt", nil, nil))
		if items := contents(t, b.do("GET", "", url.Values{}, nil)); items[0]["remainingTime"] != float64(365) {
			t.Fatalf("an item deleted after the change: %v", items[0])
		}
	})

	t.Run("the bin switched off", func(t *testing.T) {
		off := s.createLibrary("no-bin", map[string]any{"isFileLibrary": true})
		offAdmin := s.mustMint(off, url.Values{"grant": {"admin"}})
		of := fileAPI{s: s, lib: off.ID, space: "-", token: offAdmin, library: off}
		of.upload("o.txt", []byte("o"), nil)
		if r := of.do("DELETE", "o.txt", nil, nil); r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("delete with the bin off: %d %s", r.Status, r.Body)
		}
		ob := binAPI{s: s, lib: off.ID, space: "-", token: offAdmin}
		for _, c := range []struct {
			method, item string
			flag         string
			body         any
		}{
			{"GET", "", "", nil}, {"GET", "", "by-page", nil}, {"GET", "1", "info", nil}, {"GET", "1", "preview", nil},
			{"POST", "1", "restore", nil}, {"POST", "", "restore", []any{1}}, {"DELETE", "1", "", nil},
			{"POST", "", "delete", []any{1}}, {"DELETE", "", "", nil}, {"POST", "", "lifecycle", map[string]any{"retentionDays": 3}},
		} {
			query := url.Values{}
			if c.flag != "" {
				query.Set(c.flag, "")
			}
			expectError(t, ob.do(c.method, c.item, query, c.body), http.StatusBadRequest, "RecycleBinNotEnabled")
		}
		// Items binned while the bin was on stay, and show again once it is back on.
		r := s.admin("PATCH", "/admin/v1/libraries/"+lib.ID, map[string]any{"libraryExtension": map[string]any{"useRecycleBin": false}})
		if r.Status != http.StatusOK {
			t.Fatalf("switch the bin off: %d %s", r.Status, r.Body)
		}
		// The namespace sees a changed switch within its library cache's lifetime: wait for it.
		for b.do("GET", "", url.Values{}, nil).Status == http.StatusOK {
			time.Sleep(100 * time.Millisecond)
		}
		expectError(t, b.do("GET", "", url.Values{}, nil), http.StatusBadRequest, "RecycleBinNotEnabled")
		if r := s.admin("PATCH", "/admin/v1/libraries/"+lib.ID, map[string]any{"libraryExtension": map[string]any{"useRecycleBin": true}}); r.Status != http.StatusOK {
			t.Fatalf("switch the bin on: %d %s", r.Status, r.Body)
		}
		for b.do("GET", "", url.Values{}, nil).Status != http.StatusOK {
			time.Sleep(100 * time.Millisecond)
		}
		if items := contents(t, b.do("GET", "", url.Values{}, nil)); len(items) != 1 || items[0]["name"] != "later.txt" {
			t.Fatalf("bin after switching back on: %v", items)
		}
	})
}
