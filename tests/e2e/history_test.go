package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/opensmh/opensmh/pkg/authz"
)

// History versions over HTTPS (SMH API section 9, 7.2, 7.4, decisions 19 and 24).

// historyAPI addresses the history routes of one library's space.
type historyAPI struct {
	f fileAPI
}

func (h historyAPI) settingsPath() string {
	return "/api/v1/directory-history/" + h.f.lib + "/library-history"
}

func (h historyAPI) list(t *testing.T, path string, kv ...string) (map[string]any, []map[string]any) {
	t.Helper()
	r := h.f.s.call("GET", "/api/v1/directory-history/"+h.f.lib+"/"+h.f.space+"/history-list/"+path, q(h.f.token, kv...), nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("history list %s: %d %s", path, r.Status, r.Body)
	}
	var body struct {
		Contents []map[string]any `json:"contents"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("history list: %v: %s", err, r.Body)
	}
	return r.JSON(t), body.Contents
}

// id answers an entry's history id as the routes take it (a decimal string).
func historyID(t *testing.T, e map[string]any) string {
	t.Helper()
	n, ok := e["id"].(float64)
	if !ok {
		t.Fatalf("entry without a numeric id: %v", e)
	}
	return fmt.Sprint(int64(n))
}

func (h historyAPI) overwrite(path string, data []byte) {
	h.f.upload(path, data, url.Values{"conflict_resolution_strategy": {"overwrite"}})
}

// versionBytes downloads a version by history_id.
func (h historyAPI) versionBytes(t *testing.T, path, id string) []byte {
	t.Helper()
	r := h.f.do("GET", path, url.Values{"history_id": {id}}, nil)
	if r.Status != http.StatusFound {
		t.Fatalf("download %s history_id=%s: %d %s", path, id, r.Status, r.Body)
	}
	got := h.f.s.raw("GET", r.Header.Get("Location"), nil, nil)
	if got.Status != http.StatusOK {
		t.Fatalf("GET %s: %d", r.Header.Get("Location"), got.Status)
	}
	return got.Body
}

func TestHistoryVersions(t *testing.T) { onEveryEngine(t, testHistoryVersions) }

func testHistoryVersions(t *testing.T, s *system) {
	lib := s.createLibrary("history", map[string]any{"isFileLibrary": true})
	token := s.mustMint(lib, url.Values{"grant": {authz.Admin}, "user_id": {"hist-user"}})
	f := fileAPI{s: s, lib: lib.ID, space: "-", token: token, library: lib}
	h := historyAPI{f: f}

	// 9.1 / 9.2: the settings, validated, partial.
	get := func() map[string]any {
		t.Helper()
		r := s.call("GET", h.settingsPath(), q(token), nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("get settings: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)
	}
	if got := get(); got["enableFileHistory"] != false || got["mergeInterval"] != float64(0) {
		t.Fatalf("initial settings = %v", got)
	}
	for body, code := range map[string]string{
		`{"fileHistoryCount": 0}`:                                   "InvalidFileHistoryCount",
		`{"fileHistoryCount": 1000}`:                                "InvalidFileHistoryCount",
		`{"enableFileHistory": true, "fileHistoryExpireDay": 1000}`: "InvalidFileHistoryExpireDay",
		`{"fileHistoryExpireDay": -1}`:                              "InvalidFileHistoryExpireDay",
		`{"mergeInterval": 5}`:                                      "InvalidFileHistoryMergeInterval",
	} {
		expectError(t, s.call("POST", h.settingsPath(), q(token), body, nil), http.StatusBadRequest, code)
	}
	if got := get(); got["enableFileHistory"] != false {
		t.Fatalf("a refused update changed the settings: %v", got)
	}
	if r := s.call("POST", h.settingsPath(), q(token), `{"enableFileHistory": true, "fileHistoryCount": 3}`, nil); r.Status != http.StatusNoContent {
		t.Fatalf("set settings: %d %s", r.Status, r.Body)
	}
	if r := s.call("POST", h.settingsPath(), q(token), `{"fileHistoryExpireDay": 30}`, nil); r.Status != http.StatusNoContent {
		t.Fatalf("partial update: %d %s", r.Status, r.Body)
	}
	if got := get(); got["enableFileHistory"] != true || got["fileHistoryCount"] != float64(3) || got["fileHistoryExpireDay"] != float64(30) {
		t.Fatalf("settings after updates = %v", got)
	}

	// Three uploads with overwrite: the current content and two versions, latest first.
	contents := [][]byte{[]byte("first"), []byte("second!"), []byte("third, longest")}
	f.upload("doc.txt", contents[0], nil)
	h.overwrite("doc.txt", contents[1])
	h.overwrite("doc.txt", contents[2])
	_, entries := h.list(t, "doc.txt")
	if len(entries) != 3 {
		t.Fatalf("3 uploads list %d entries: %v", len(entries), entries)
	}
	if _, hasID := entries[0]["id"]; hasID || entries[0]["isLatestVersion"] != true || entries[0]["version"] != float64(3) ||
		entries[0]["size"] != float64(len(contents[2])) || entries[0]["name"] != "doc.txt" {
		t.Fatalf("first entry = %v, want the current content", entries[0])
	}
	for i, want := range []int{2, 1} {
		e := entries[i+1]
		if e["version"] != float64(want) || e["isLatestVersion"] != false || e["size"] != float64(len(contents[want-1])) ||
			e["createdBy"] != "hist-user" {
			t.Fatalf("entry %d = %v, want version %d", i+1, e, want)
		}
	}
	ids := map[int]string{2: historyID(t, entries[1]), 1: historyID(t, entries[2])}
	for v, id := range ids {
		if got := h.versionBytes(t, "doc.txt", id); !bytes.Equal(got, contents[v-1]) {
			t.Fatalf("version %d downloads %q", v, got)
		}
		info := f.do("GET", "doc.txt", url.Values{"info": {""}, "history_id": {id}}, nil)
		if info.Status != http.StatusOK {
			t.Fatalf("info of version %d: %d %s", v, info.Status, info.Body)
		}
		if m := info.JSON(t); m["size"] != fmt.Sprint(len(contents[v-1])) || m["versionId"] != float64(v) {
			t.Fatalf("info of version %d = %v", v, m)
		}
		if r := f.do("HEAD", "doc.txt", url.Values{"history_id": {id}}, nil); r.Status != http.StatusOK {
			t.Fatalf("HEAD of version %d: %d", v, r.Status)
		}
	}
	expectError(t, f.do("GET", "doc.txt", url.Values{"info": {""}, "history_id": {"999999999"}}, nil), http.StatusNotFound, "FileNotFound")
	if r := f.do("HEAD", "doc.txt", url.Values{"history_id": {"999999999"}}, nil); r.Status != http.StatusNotFound {
		t.Fatalf("HEAD of an unknown version: %d", r.Status)
	}
	if m := f.do("GET", "doc.txt", url.Values{"info": {""}}, nil).JSON(t); m["versionId"] != float64(3) {
		t.Fatalf("info of the current content = %v, want versionId 3", m)
	}
	if r := s.call("GET", "/api/v1/space/"+lib.ID+"/-/file-count", q(token), nil, nil); r.Status != http.StatusOK || r.JSON(t)["historyFileNum"] != "2" {
		t.Fatalf("file-count = %d %s, want historyFileNum 2", r.Status, r.Body)
	}

	// 9.6: version 1 becomes the latest; the replaced content becomes a version; the chosen one stays.
	r := s.call("POST", "/api/v1/directory-history/"+lib.ID+"/-/latest-version/"+ids[1], q(token), nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("set latest: %d %s", r.Status, r.Body)
	}
	if m := r.JSON(t); m["name"] != "doc.txt" || m["size"] != float64(len(contents[0])) || m["versionId"] != float64(4) {
		t.Fatalf("set latest answered %v", m)
	}
	if got := f.download("doc.txt"); !bytes.Equal(got, contents[0]) {
		t.Fatalf("after set latest the file holds %q", got)
	}
	_, entries = h.list(t, "doc.txt")
	if len(entries) != 4 || entries[0]["creationWay"] != float64(2) || entries[1]["size"] != float64(len(contents[2])) {
		t.Fatalf("list after set latest = %v", entries)
	}

	// 9.5: delete a version; an unknown id deletes nothing.
	expectError(t, s.call("POST", "/api/v1/directory-history/"+lib.ID+"/-/delete", q(token), []string{ids[2], "999999999"}, nil),
		http.StatusNotFound, "FileNotFound")
	expectError(t, s.call("POST", "/api/v1/directory-history/"+lib.ID+"/-/delete", q(token), `{"id": 1}`, nil),
		http.StatusBadRequest, "ParamInvalid")
	if r := s.call("POST", "/api/v1/directory-history/"+lib.ID+"/-/delete", q(token), []string{ids[2]}, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete version: %d %s", r.Status, r.Body)
	}
	_, entries = h.list(t, "doc.txt")
	if len(entries) != 3 {
		t.Fatalf("after delete %d entries: %v", len(entries), entries)
	}
	for _, e := range entries[1:] {
		if historyID(t, e) == ids[2] {
			t.Fatalf("the deleted version is still listed: %v", entries)
		}
	}

	// The count limit (3) drops the oldest.
	h.overwrite("doc.txt", []byte("fifth"))
	h.overwrite("doc.txt", []byte("sixth"))
	_, entries = h.list(t, "doc.txt")
	if len(entries) != 4 {
		t.Fatalf("count limit 3: %d entries: %v", len(entries), entries)
	}
	for _, e := range entries[1:] {
		if historyID(t, e) == ids[1] {
			t.Fatalf("the oldest version survived the count limit: %v", entries)
		}
	}
	// Marker pages of one entry walk the whole list.
	var walked int
	for marker, pages := "", 0; ; pages++ {
		kv := []string{"limit", "1"}
		if marker != "" {
			kv = append(kv, "marker", marker)
		}
		body, page := h.list(t, "doc.txt", kv...)
		walked += len(page)
		if body["hasMore"] != true || pages > 10 {
			break
		}
		marker, _ = body["nextMarker"].(string)
	}
	if walked != 4 {
		t.Fatalf("marker walk saw %d entries, want 4", walked)
	}
	if body, page := h.list(t, "doc.txt", "page", "2", "page_size", "3"); body["totalNum"] != float64(4) || len(page) != 1 {
		t.Fatalf("page 2 = %v", body)
	}

	// A move onto the file keeps the replaced content and its versions with the moved file.
	f.upload("other.txt", []byte("moved in"), nil)
	if r := f.do("PUT", "doc.txt", q("", "conflict_resolution_strategy", "overwrite"), map[string]any{"from": "other.txt"}); r.Status != http.StatusOK {
		t.Fatalf("move onto doc.txt: %d %s", r.Status, r.Body)
	}
	_, entries = h.list(t, "doc.txt")
	if len(entries) != 4 || entries[1]["size"] != float64(len("sixth")) {
		t.Fatalf("versions after move-overwrite = %v", entries)
	}
	if got := h.versionBytes(t, "doc.txt", historyID(t, entries[1])); string(got) != "sixth" {
		t.Fatalf("the replaced content downloads %q", got)
	}

	// 9.3: purge every version: refused while history is on, then 202 + a library task.
	purge := func() response { return s.call("DELETE", h.settingsPath(), q(token), nil, nil) }
	expectError(t, purge(), http.StatusBadRequest, "BadRequest")
	if r := s.call("POST", h.settingsPath(), q(token), `{"enableFileHistory": false}`, nil); r.Status != http.StatusNoContent {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	r = purge()
	if r.Status != http.StatusAccepted {
		t.Fatalf("purge: %d %s", r.Status, r.Body)
	}
	taskID, ok := r.JSON(t)["taskId"].(float64)
	if !ok || taskID <= 0 {
		t.Fatalf("purge answered %s", r.Body)
	}
	expectError(t, purge(), http.StatusTooManyRequests, "RateLimitExceeded")
	r = s.call("GET", fmt.Sprintf("/api/v1/task/%s/%d", lib.ID, int(taskID)), q(token), nil, nil)
	var tasks []map[string]any
	if r.Status != http.StatusOK || jsonInto(t, r.Body, &tasks) != 1 || tasks[0]["status"] != float64(200) ||
		tasks[0]["taskId"] != taskID || tasks[0]["result"].(map[string]any)["deleteCount"] != float64(3) {
		t.Fatalf("7.2 = %d %s", r.Status, r.Body)
	}
	r = s.call("GET", fmt.Sprintf("/api/v1/task-result/%s/%d", lib.ID, int(taskID)), q(token), nil, nil)
	if m := r.JSON(t); r.Status != http.StatusOK || m["taskType"] != "clearLibraryHistory" || m["taskId"] != fmt.Sprint(int(taskID)) ||
		m["clearLibraryHistoryResult"].(map[string]any)["deleteCount"] != float64(3) {
		t.Fatalf("7.4 = %d %s", r.Status, r.Body)
	}
	expectError(t, s.call("GET", "/api/v1/task-result/"+lib.ID+"/999999", q(token), nil, nil), http.StatusNotFound, "TaskNotFound")
	// Decision 24: with history off the list still answers the current content.
	if _, entries = h.list(t, "doc.txt"); len(entries) != 1 || entries[0]["isLatestVersion"] != true {
		t.Fatalf("list after the purge = %v", entries)
	}
	if r := s.call("GET", "/api/v1/space/"+lib.ID+"/-/file-count", q(token), nil, nil); r.JSON(t)["historyFileNum"] != "0" {
		t.Fatalf("file-count after the purge = %s", r.Body)
	}
}
