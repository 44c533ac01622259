package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
)

// Batch copy, move and delete over real HTTPS (SMH API section 10, 7.1-7.3, decisions 7 and
// 17, docs/batch.md): 200 when every item succeeded, 207 with per-item results in request
// order, 202 with a task over the threshold and every task query form; each item answers what
// its single call answers; bad bodies change nothing.

func TestBatch(t *testing.T) {
	onEveryEngine(t, testBatch)
}

// batchAPI addresses one space's batch endpoint.
type batchAPI struct {
	s          *system
	lib, space string
	token      string
}

func (b batchAPI) do(op string, token string, body any) response {
	b.s.t.Helper()
	if token == "" {
		token = b.token
	}
	return b.s.call("POST", "/api/v1/batch/"+b.lib+"/"+b.space, q(token, op, ""), body, nil)
}

// results answers a 200 or 207 body's result items, failing on another status.
func results(t *testing.T, r response, status int) []map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("batch: %d %s, want %d", r.Status, r.Body, status)
	}
	items, ok := r.JSON(t)["result"].([]any)
	if !ok {
		t.Fatalf("no result: %s", r.Body)
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
	}
	return out
}

// wantItem checks one item result's status and, for a failure, its code.
func wantItem(t *testing.T, item map[string]any, status int, code string) {
	t.Helper()
	if item["status"] != float64(status) || (code != "" && item["code"] != code) || (code == "" && item["code"] != nil) {
		t.Fatalf("item %v, want status %d code %q", item, status, code)
	}
	if code != "" && item["message"] == "" {
		t.Fatalf("failed item without a message: %v", item)
	}
}

func testBatch(t *testing.T, s *system) {
	lib := s.createLibrary("batch", map[string]any{"isFileLibrary": true, "useRecycleBin": true})
	admin := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"ann"}})
	f := fileAPI{s: s, lib: lib.ID, space: "-", token: admin, library: lib}
	d := f.dir()
	b := batchAPI{s: s, lib: lib.ID, space: "-", token: admin}

	t.Run("delete: 200 all binned or permanent, in order", func(t *testing.T) {
		d.mkdirs(t, admin, []string{"del/sub"})
		f.upload("del/sub/a.txt", []byte("a"), nil)
		f.upload("del/b.txt", []byte("b"), nil)
		f.upload("del/c.txt", []byte("c"), nil)
		res := results(t, b.do("delete", "", []any{
			map[string]any{"path": "del/sub"},
			map[string]any{"path": "del/b.txt"},
			map[string]any{"path": "del/c.txt", "permanent": true},
		}), http.StatusOK)
		wantItem(t, res[0], 200, "")
		wantItem(t, res[1], 200, "")
		wantItem(t, res[2], 204, "")
		if res[0]["recycledItemId"] == nil || res[1]["recycledItemId"] == nil || res[2]["recycledItemId"] != nil ||
			!slices.Equal(pathOf(res[0]["path"]), []string{"del", "sub"}) || !slices.Equal(pathOf(res[2]["path"]), []string{"del", "c.txt"}) {
			t.Fatalf("delete results %v", res)
		}
		if names, _ := f.list("del"); len(names) != 0 {
			t.Fatalf("left after the batch: %v", names)
		}
		// The bin holds the two binned items, as the single deletes would have put them there.
		bin := contents(t, binAPI{s: s, lib: lib.ID, space: "-", token: admin}.do("GET", "", url.Values{}, nil))
		if len(bin) != 2 {
			t.Fatalf("bin %v", bin)
		}
	})

	t.Run("delete: 207 with per-item failures in request order", func(t *testing.T) {
		f.upload("p1.txt", []byte("1"), nil)
		f.upload("p2.txt", []byte("2"), nil)
		res := results(t, b.do("delete", "", []any{
			map[string]any{"path": "p1.txt"},
			map[string]any{"path": "missing.txt"},
			map[string]any{"path": "p2.txt"},
			map[string]any{"path": ""},
		}), http.StatusMultiStatus)
		wantItem(t, res[0], 200, "")
		wantItem(t, res[1], 404, "FileNotFound")
		wantItem(t, res[2], 200, "")
		wantItem(t, res[3], 400, "EmptyPath")

		// Items inside one transaction see each other's deletes: a file under a directory deleted
		// before it is gone; a directory emptied first is still deleted.
		d.mkdirs(t, admin, []string{"chunk/x", "chunk/y"})
		f.upload("chunk/x/a.txt", []byte("a"), nil)
		f.upload("chunk/y/b.txt", []byte("b"), nil)
		res = results(t, b.do("delete", "", []any{
			map[string]any{"path": "chunk/x"},
			map[string]any{"path": "chunk/x/a.txt"},
			map[string]any{"path": "chunk/y/b.txt"},
			map[string]any{"path": "chunk/y"},
			map[string]any{"path": "chunk/y/b.txt/deeper"},
		}), http.StatusMultiStatus)
		wantItem(t, res[0], 200, "")
		wantItem(t, res[1], 404, "FileNotFound")
		wantItem(t, res[2], 200, "")
		wantItem(t, res[3], 200, "")
		wantItem(t, res[4], 404, "FileNotFound")
	})

	t.Run("delete: the grants of each item kind", func(t *testing.T) {
		d.mkdirs(t, admin, []string{"g/dir"})
		f.upload("g/file.txt", []byte("f"), nil)
		filesOnly := s.mustMint(lib, url.Values{"grant": {"delete_file"}})
		res := results(t, b.do("delete", filesOnly, []any{
			map[string]any{"path": "g/dir"},
			map[string]any{"path": "g/file.txt"},
			map[string]any{"path": "g/x.txt", "permanent": true},
		}), http.StatusMultiStatus)
		wantItem(t, res[0], 403, "NoPermission")
		wantItem(t, res[1], 200, "")
		// permanent needs delete_file_permanent while the bin is on (5.10), checked before the path.
		wantItem(t, res[2], 403, "NoPermission")
		if names, _ := f.list("g"); !slices.Equal(names, []string{"dir"}) {
			t.Fatalf("after the batch: %v", names)
		}
		// A token without any delete grant is refused as a whole.
		reader := s.mustMint(lib, url.Values{"grant": {"copy_file"}})
		expectError(t, b.do("delete", reader, []any{map[string]any{"path": "g/dir"}}), http.StatusForbidden, "NoPermission")
	})

	t.Run("copy: conflict defaults as the single calls (dirs ask, files rename)", func(t *testing.T) {
		d.mkdirs(t, admin, []string{"src/inner", "dst/inner"})
		f.upload("src/inner/x.txt", []byte("x"), nil)
		f.upload("src/f.txt", []byte("f"), nil)
		f.upload("dst/f.txt", []byte("old"), nil)
		res := results(t, b.do("copy", "", []any{
			map[string]any{"copyFrom": "src/inner", "to": "dst/inner"},
			map[string]any{"copyFrom": "src/f.txt", "to": "dst/f.txt"},
			map[string]any{"copyFrom": "src/inner", "to": "dst/inner", "conflictResolutionStrategy": "rename"},
			map[string]any{"copyFrom": "src/f.txt", "to": "dst/g.txt", "conflictResolutionStrategy": "ask"},
			map[string]any{"copyFrom": "src/nope.txt", "to": "dst/nope.txt"},
			map[string]any{"copyFrom": "src/f.txt", "to": "dst/f.txt", "conflictResolutionStrategy": "overwrite"},
			map[string]any{"copyFrom": "src/inner", "to": "dst/over", "conflictResolutionStrategy": "overwrite"},
		}), http.StatusMultiStatus)
		wantItem(t, res[0], 409, "SameNameDirectoryOrFileExists")
		wantItem(t, res[1], 200, "")
		if !slices.Equal(pathOf(res[1]["path"]), []string{"dst", "f (1).txt"}) ||
			!slices.Equal(pathOf(res[1]["copyFrom"]), []string{"src", "f.txt"}) || !slices.Equal(pathOf(res[1]["to"]), []string{"dst", "f.txt"}) {
			t.Fatalf("renamed file copy %v", res[1])
		}
		wantItem(t, res[2], 200, "")
		if !slices.Equal(pathOf(res[2]["path"]), []string{"dst", "inner (1)"}) {
			t.Fatalf("renamed directory copy %v", res[2])
		}
		wantItem(t, res[3], 204, "")
		if _, has := res[3]["path"]; has {
			t.Fatalf("ask answers no path: %v", res[3])
		}
		wantItem(t, res[4], 404, "SourceFileNotFound")
		wantItem(t, res[5], 204, "")
		// A directory copy takes ask or rename only, as PUT /directory does.
		wantItem(t, res[6], 400, "InvalidConflictResolutionStrategy")
		if got := string(f.download("dst/f.txt")); got != "f" {
			t.Fatalf("overwritten copy holds %q", got)
		}
		if names, _ := f.list("dst/inner (1)"); !slices.Equal(names, []string{"x.txt"}) {
			t.Fatalf("copied directory holds %v", names)
		}
	})

	t.Run("move: files and directories, grants per kind", func(t *testing.T) {
		d.mkdirs(t, admin, []string{"mv/d1", "mv/to"})
		f.upload("mv/a.txt", []byte("a"), nil)
		f.upload("mv/to/a.txt", []byte("taken"), nil)
		res := results(t, b.do("move", "", []any{
			map[string]any{"from": "mv/d1", "to": "mv/to/d1"},
			map[string]any{"from": "mv/a.txt", "to": "mv/to/a.txt", "moveAuthority": true},
		}), http.StatusOK)
		wantItem(t, res[0], 204, "")
		wantItem(t, res[1], 200, "")
		if !slices.Equal(pathOf(res[1]["path"]), []string{"mv", "to", "a (1).txt"}) || res[1]["moveAuthority"] != true ||
			!slices.Equal(pathOf(res[1]["from"]), []string{"mv", "a.txt"}) {
			t.Fatalf("moved file %v", res[1])
		}
		if names, _ := f.list("mv/to"); !slices.Equal(names, []string{"d1", "a (1).txt", "a.txt"}) {
			t.Fatalf("after moves: %v", names)
		}
		filesOnly := s.mustMint(lib, url.Values{"grant": {"move_file"}})
		f.upload("mv/b.txt", []byte("b"), nil)
		res = results(t, b.do("move", filesOnly, []any{
			map[string]any{"from": "mv/to/d1", "to": "mv/d1"},
			map[string]any{"from": "mv/b.txt", "to": "mv/c.txt"},
		}), http.StatusMultiStatus)
		wantItem(t, res[0], 403, "NoPermission")
		wantItem(t, res[1], 200, "")
	})

	t.Run("bad bodies: 400 and nothing changes", func(t *testing.T) {
		f.upload("keep.txt", []byte("k"), nil)
		for _, tt := range []struct {
			op   string
			body any
			code string
		}{
			{"delete", map[string]any{"path": "keep.txt"}, "ParamInvalid"},
			{"delete", []any{}, "NoItemsProvided"},
			{"delete", []any{map[string]any{"path": "keep.txt"}, "keep.txt"}, "ParamInvalid"},
			{"delete", []any{map[string]any{"path": "keep.txt"}, map[string]any{"permanent": true}}, "ParamInvalid"},
			{"delete", []any{map[string]any{"path": "keep.txt", "permanent": "yes"}}, "ParamInvalid"},
			{"delete", []any{map[string]any{"path": 7}}, "ParamInvalid"},
			{"copy", []any{map[string]any{"copyFrom": "keep.txt"}}, "ParamInvalid"},
			{"copy", []any{map[string]any{"copyFrom": "keep.txt", "to": "k2.txt", "conflictResolutionStrategy": "merge"}}, "InvalidConflictResolutionStrategy"},
			{"move", []any{map[string]any{"from": "keep.txt", "to": "k3.txt"}, map[string]any{"from": "keep.txt", "to": []any{"x"}}}, "ParamInvalid"},
		} {
			expectError(t, b.do(tt.op, "", tt.body), http.StatusBadRequest, tt.code)
		}
		many := make([]any, 1001)
		for i := range many {
			many[i] = map[string]any{"path": "keep.txt"}
		}
		expectError(t, b.do("delete", "", many), http.StatusBadRequest, "TooManyItems")
		if names, _ := f.list(""); !slices.Contains(names, "keep.txt") || slices.Contains(names, "k2.txt") || slices.Contains(names, "k3.txt") {
			t.Fatalf("a refused batch changed the tree: %v", names)
		}
		// No flag: no batch route.
		expectError(t, s.call("POST", "/api/v1/batch/"+lib.ID+"/-", q(admin), []any{}, nil), http.StatusNotFound, "RouteNotFound")
	})

	t.Run("202 over the threshold, answered by every task query", func(t *testing.T) {
		items := make([]any, 0, 102)
		for i := range 101 {
			name := fmt.Sprintf("big/f%03d.txt", i)
			if i == 0 {
				d.mkdirs(t, admin, []string{"big"})
			}
			f.upload(name, []byte("x"), nil)
			items = append(items, map[string]any{"path": name})
		}
		items = append(items, map[string]any{"path": "big/none.txt"})
		r := b.do("delete", "", items)
		if r.Status != http.StatusAccepted {
			t.Fatalf("large batch: %d %s", r.Status, r.Body)
		}
		accepted := r.JSON(t)
		taskID, _ := accepted["taskId"].(float64)
		if _, has := accepted["result"]; taskID <= 0 || has {
			t.Fatalf("202 answer %s", r.Body)
		}
		v1 := s.waitTask(t, fmt.Sprintf("/api/v1/task/%s/-/%d", lib.ID, int(taskID)), q(admin), 1)[0]
		list, _ := v1["result"].([]any)
		if v1["status"] != float64(207) || v1["id"] != taskID || v1["taskId"] != taskID || len(list) != 102 {
			t.Fatalf("7.1 of the batch: %v", v1)
		}
		wantItem(t, list[0].(map[string]any), 200, "")
		wantItem(t, list[101].(map[string]any), 404, "FileNotFound")
		// The SDK's encoded list form (%2C) answers the same.
		r = s.call("GET", fmt.Sprintf("/api/v1/task/%s/-/%d%%2C999999", lib.ID, int(taskID)), q(admin), nil, nil)
		var two []map[string]any
		if r.Status != http.StatusOK || jsonInto(t, r.Body, &two) != 2 || two[0]["status"] != float64(207) || two[1]["status"] != float64(404) {
			t.Fatalf("7.1 with two ids: %d %s", r.Status, r.Body)
		}
		r = s.call("GET", fmt.Sprintf("/api/v1/task-result/%s/-/%d", lib.ID, int(taskID)), q(admin), nil, nil)
		v2 := r.JSON(t)
		typed, _ := v2["batchDeleteResults"].([]any)
		if r.Status != http.StatusOK || v2["taskId"] != fmt.Sprint(int(taskID)) || v2["taskType"] != "batchDelete" ||
			v2["status"] != float64(207) || len(typed) != 102 {
			t.Fatalf("7.3 of the batch: %d %s", r.Status, r.Body)
		}
		first := typed[0].(map[string]any)
		if first["recycledItemId"] == nil || !slices.Equal(pathOf(first["path"]), []string{"big", "f000.txt"}) {
			t.Fatalf("7.3 first item %v", first)
		}
		if names, _ := f.list("big"); len(names) != 0 {
			t.Fatalf("left after the task: %v", names)
		}

		// Every item failing: task status 400 (7.3), with the results.
		fails := make([]any, 101)
		for i := range fails {
			fails[i] = map[string]any{"copyFrom": fmt.Sprintf("nope%d.txt", i), "to": fmt.Sprintf("x%d.txt", i)}
		}
		r = b.do("copy", "", fails)
		id, _ := r.JSON(t)["taskId"].(float64)
		if r.Status != http.StatusAccepted || id <= 0 {
			t.Fatalf("large copy: %d %s", r.Status, r.Body)
		}
		s.waitTask(t, fmt.Sprintf("/api/v1/task/%s/-/%d", lib.ID, int(id)), q(admin), 1)
		v2 = s.call("GET", fmt.Sprintf("/api/v1/task-result/%s/-/%d", lib.ID, int(id)), q(admin), nil, nil).JSON(t)
		typed, _ = v2["batchCopyResults"].([]any)
		if v2["taskType"] != "batchCopy" || v2["status"] != float64(400) || len(typed) != 101 {
			t.Fatalf("7.3 of a failed batch: %v", v2)
		}
		wantItem(t, typed[100].(map[string]any), 404, "SourceFileNotFound")

		// A batch move task answers batchMoveResults.
		moves := make([]any, 101)
		d.mkdirs(t, admin, []string{"mvbig"})
		for i := range moves {
			moves[i] = map[string]any{"from": fmt.Sprintf("mvbig/none%d", i), "to": fmt.Sprintf("mvbig/t%d", i)}
		}
		r = b.do("move", "", moves)
		id, _ = r.JSON(t)["taskId"].(float64)
		s.waitTask(t, fmt.Sprintf("/api/v1/task/%s/-/%d", lib.ID, int(id)), q(admin), 1)
		v2 = s.call("GET", fmt.Sprintf("/api/v1/task-result/%s/-/%d", lib.ID, int(id)), q(admin), nil, nil).JSON(t)
		if typed, _ = v2["batchMoveResults"].([]any); v2["taskType"] != "batchMove" || len(typed) != 101 {
			t.Fatalf("7.3 of a move batch: %v", v2)
		}
		// The library-level forms (7.2, 7.4) answer the library's own tasks: a space task's id is
		// not one of them.
		expectError(t, s.call("GET", fmt.Sprintf("/api/v1/task-result/%s/%d", lib.ID, int(taskID)+100000), q(admin), nil, nil),
			http.StatusNotFound, "TaskNotFound")
	})

	t.Run("recycle bin off: deletes answer 204, permanent is ignored", func(t *testing.T) {
		plain := s.createLibrary("batch-nobin", map[string]any{"isFileLibrary": true})
		tok := s.mustMint(plain, url.Values{"grant": {"delete_file,delete_directory"}})
		pf := fileAPI{s: s, lib: plain.ID, space: "-", token: s.mustMint(plain, url.Values{"grant": {"admin"}}), library: plain}
		pf.dir().mkdirs(t, pf.token, []string{"d"})
		pf.upload("f.txt", []byte("f"), nil)
		res := results(t, batchAPI{s: s, lib: plain.ID, space: "-", token: tok}.do("delete", "", []any{
			map[string]any{"path": "d"},
			map[string]any{"path": "f.txt", "permanent": true},
		}), http.StatusOK)
		wantItem(t, res[0], 204, "")
		wantItem(t, res[1], 204, "")
		if res[0]["recycledItemId"] != nil {
			t.Fatalf("no bin, no item: %v", res[0])
		}
	})

	t.Run("cross-space items: the token must reach both spaces", func(t *testing.T) {
		multi := s.createLibrary("batch-multi", map[string]any{"isFileLibrary": true, "isMultiSpace": true})
		root := s.mustMint(multi, url.Values{"grant": {"admin"}})
		for _, sp := range []string{"s1", "s2", "s3"} {
			if r := s.call("POST", "/api/v1/space/"+multi.ID, q(root, "space_id", sp), nil, nil); r.Status != http.StatusCreated {
				t.Fatalf("create space %s: %d %s", sp, r.Status, r.Body)
			}
		}
		f1 := fileAPI{s: s, lib: multi.ID, space: "s1", token: root, library: multi}
		f2 := fileAPI{s: s, lib: multi.ID, space: "s2", token: root, library: multi}
		f1.dir().mkdirs(t, root, []string{"tree/deep"})
		f1.upload("tree/deep/x.txt", []byte("xx"), nil)
		f1.upload("one.txt", []byte("one"), nil)
		f1.upload("two.txt", []byte("two"), nil)
		if r := f1.do("PUT", "tree/link.txt", nil, map[string]any{"linkTo": "one.txt"}); r.Status != http.StatusOK {
			t.Fatalf("symlink: %d %s", r.Status, r.Body)
		}
		// Into s2, reading s1: copy a file, copy a directory (with a symlink), move a file.
		into := batchAPI{s: s, lib: multi.ID, space: "s2", token: root}
		res := results(t, into.do("copy", "", []any{
			map[string]any{"copyFrom": "one.txt", "to": "one.txt", "copyFromSpaceId": "s1"},
			map[string]any{"copyFrom": "tree", "to": "copied/tree", "copyFromSpaceId": "s1"},
			map[string]any{"copyFrom": "nope.txt", "to": "nope.txt", "copyFromSpaceId": "s1"},
			map[string]any{"copyFrom": "one.txt", "to": "one.txt", "copyFromSpaceId": "s1"},
		}), http.StatusMultiStatus)
		wantItem(t, res[0], 200, "")
		if !slices.Equal(pathOf(res[0]["path"]), []string{"one.txt"}) || res[0]["copyFromSpaceId"] != "s1" {
			t.Fatalf("cross-space file copy %v", res[0])
		}
		wantItem(t, res[1], 204, "")
		wantItem(t, res[2], 404, "SourceFileNotFound")
		wantItem(t, res[3], 200, "")
		if !slices.Equal(pathOf(res[3]["path"]), []string{"one (1).txt"}) {
			t.Fatalf("renamed cross-space copy %v", res[3])
		}
		if got := string(f2.download("copied/tree/link.txt")); got != "one" {
			t.Fatalf("a symlink lands as its target's content: %q", got)
		}
		if got := string(f2.download("copied/tree/deep/x.txt")); got != "xx" {
			t.Fatalf("copied file holds %q", got)
		}
		// The copy counts in s2: the directory stats see what landed.
		if st := f2.dir().do("GET", "copied", q(root, "stats", "1"), nil).JSON(t); st["fileCount"] != float64(2) || st["dirCount"] != float64(2) {
			t.Fatalf("stats of the copy %v", st)
		}
		res = results(t, into.do("move", "", []any{
			map[string]any{"from": "two.txt", "to": "moved.txt", "fromSpaceId": "s1"},
		}), http.StatusOK)
		wantItem(t, res[0], 200, "")
		if f1.status("HEAD", "two.txt") != http.StatusNotFound || string(f2.download("moved.txt")) != "two" {
			t.Fatalf("a move across spaces leaves the source and lands in the target")
		}
		// A token of s2 alone cannot read s1; one of s2 and s3 cannot name s1 either.
		only2 := s.mustMint(multi, url.Values{"grant": {"copy_file,move_file"}, "space_id": {"s2,s3"}})
		res = results(t, batchAPI{s: s, lib: multi.ID, space: "s2", token: only2}.do("copy", "", []any{
			map[string]any{"copyFrom": "one.txt", "to": "again.txt", "copyFromSpaceId": "s1"},
			map[string]any{"copyFrom": "one.txt", "to": "three.txt", "copyFromSpaceId": "s3"},
			map[string]any{"copyFrom": "one.txt", "to": "lib.txt", "copyFromSpaceId": "s1", "copyFromLibraryId": "another"},
		}), http.StatusMultiStatus)
		wantItem(t, res[0], 403, "AccessTokenNotMatchSpace")
		wantItem(t, res[1], 404, "SourceFileNotFound")
		wantItem(t, res[2], 400, "ParamInvalid")
		// A space that does not exist answers as for any call.
		res = results(t, into.do("move", "", []any{map[string]any{"from": "a", "to": "b", "fromSpaceId": "s9"}}), http.StatusMultiStatus)
		wantItem(t, res[0], 404, "SpaceNotFound")
	})

	t.Run("concurrent batches on one directory: every file deleted once", func(t *testing.T) {
		d.mkdirs(t, admin, []string{"race"})
		var names []string
		for i := range 20 {
			name := fmt.Sprintf("race/r%02d.txt", i)
			f.upload(name, []byte("r"), nil)
			names = append(names, name)
		}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			deleted  int
			notFound int
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				items := make([]any, len(names))
				for i, n := range names {
					items[i] = map[string]any{"path": n, "permanent": true}
				}
				r := s.call("POST", "/api/v1/batch/"+lib.ID+"/-", q(admin, "delete", ""), items, nil)
				if r.Status != http.StatusOK && r.Status != http.StatusMultiStatus {
					t.Errorf("concurrent batch: %d %s", r.Status, r.Body)
					return
				}
				var body struct {
					Result []map[string]any `json:"result"`
				}
				if err := json.Unmarshal(r.Body, &body); err != nil {
					t.Errorf("concurrent batch body %s", r.Body)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, it := range body.Result {
					switch it["status"] {
					case float64(204):
						deleted++
					case float64(404):
						notFound++
					default:
						t.Errorf("concurrent item %v", it)
					}
				}
			}()
		}
		wg.Wait()
		if deleted != len(names) || notFound != 3*len(names) {
			t.Fatalf("deleted %d, not found %d; want %d and %d", deleted, notFound, len(names), 3*len(names))
		}
		if names, _ := f.list("race"); len(names) != 0 {
			t.Fatalf("left: %v", names)
		}
	})
}
