package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/smherr"
)

var libraryIDPattern = regexp.MustCompile(`^smh[0-9a-z]{13}$`)

// extensionFields are the libraryExtension fields of docs/architecture.md, "The admin API".
var extensionFields = []string{
	"isFileLibrary", "isMultiSpace", "isMultiAlbum", "isPublicRead", "allowPhoto", "allowVideo",
	"allowPhotoExtname", "allowVideoExtname", "allowFileExtname", "useRecycleBin", "autoRemoveRecycledDays",
	"enableSearch", "enableFileHistory", "fileHistoryCount", "fileHistoryExpireDay", "maxDirFileNameLength",
	"enableQuota", "libraryQuota", "denyOnQuotaLessThanUsage", "recognizeSensitiveContent", "corsAllowedOrigins",
	"enableFileUncompress", // 3.17 archives (docs/archives.md)
}

// expectSMHError checks the status and the SMH error body without naming a code.
func expectSMHError(t testing.TB, r response, status int) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	code, _ := r.JSON(t)["code"].(string)
	if code == "" {
		t.Fatalf("error without code: %s", r.Body)
	}
	expectError(t, r, status, code)
	return code
}

// totalCount answers the library count of the list.
func (s *system) totalCount(t testing.TB) float64 {
	t.Helper()
	r := s.admin("GET", "/admin/v1/libraries", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	n, ok := r.JSON(t)["totalCount"].(float64)
	if !ok {
		t.Fatalf("totalCount is not a JSON number: %s", r.Body)
	}
	return n
}

// getLibrary answers GET /admin/v1/libraries/{id} as an object, failing unless 200.
func (s *system) getLibrary(t testing.TB, id string) map[string]any {
	t.Helper()
	r := s.admin("GET", "/admin/v1/libraries/"+id, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("get %s: %d %s", id, r.Status, r.Body)
	}
	return r.JSON(t)
}

func TestAdminKey(t *testing.T) {
	s := startSystem(t)
	lib := s.createLibrary("guarded", nil)
	before := s.getLibrary(t, lib.ID)
	count := s.totalCount(t)

	routes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/admin/v1/libraries", map[string]any{"name": "intruder"}},
		{"GET", "/admin/v1/libraries", nil},
		{"GET", "/admin/v1/libraries/" + lib.ID, nil},
		{"PATCH", "/admin/v1/libraries/" + lib.ID, map[string]any{"name": "hijacked"}},
		{"DELETE", "/admin/v1/libraries/" + lib.ID, nil},
		{"GET", "/admin/v1/libraries/" + lib.ID + "/secret", nil},
		{"POST", "/admin/v1/libraries/" + lib.ID + "/secret:reset", nil},
	}
	keys := []struct {
		name   string
		header http.Header
	}{
		{"no key", nil},
		{"wrong key", http.Header{"Authorization": {"Bearer wrong-key"}}},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}},
		{"key with a suffix", http.Header{"Authorization": {"Bearer " + s.adminKey + "x"}}},
		{"key without Bearer", http.Header{"Authorization": {s.adminKey}}},
		{"Basic scheme", http.Header{"Authorization": {"Basic " + s.adminKey}}},
		{"key in a query-like header", http.Header{"X-Admin-Key": {s.adminKey}}},
	}
	for _, rt := range routes {
		for _, k := range keys {
			t.Run(rt.method+" "+strings.ReplaceAll(rt.path, lib.ID, "{id}")+"/"+k.name, func(t *testing.T) {
				expectError(t, s.call(rt.method, rt.path, nil, rt.body, k.header), http.StatusUnauthorized, "InvalidAdminKey")
			})
		}
	}

	t.Run("refused calls changed nothing", func(t *testing.T) {
		if got := s.totalCount(t); got != count {
			t.Fatalf("totalCount %v, was %v", got, count)
		}
		if after := s.getLibrary(t, lib.ID); !reflect.DeepEqual(after, before) {
			t.Fatalf("library changed:\n%v\n%v", before, after)
		}
		r := s.admin("GET", "/admin/v1/libraries/"+lib.ID+"/secret", nil)
		if r.Status != http.StatusOK || r.JSON(t)["librarySecret"] != lib.Secret {
			t.Fatalf("secret changed: %d %s", r.Status, r.Body)
		}
	})

	t.Run("the admin key does not reach the log", func(t *testing.T) {
		if strings.Contains(s.logText(), s.adminKey) {
			t.Fatal("the log holds the admin key")
		}
	})
}

func TestAdminLibraries(t *testing.T) {
	s := startSystem(t)

	var created library
	t.Run("create", func(t *testing.T) {
		r := s.admin("POST", "/admin/v1/libraries", map[string]any{"name": "photos", "remark": "holiday"})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		id, _ := m["libraryId"].(string)
		if !libraryIDPattern.MatchString(id) {
			t.Fatalf("libraryId %q", id)
		}
		secret, _ := m["librarySecret"].(string)
		if secret == "" {
			t.Fatalf("no librarySecret: %s", r.Body)
		}
		created = library{ID: id, Secret: secret, Body: m}
		if m["name"] != "photos" || m["remark"] != "holiday" {
			t.Fatalf("name/remark: %s", r.Body)
		}
		ct, _ := m["creationTime"].(string)
		when, err := time.Parse("2006-01-02T15:04:05.000Z", ct)
		if err != nil {
			t.Fatalf("creationTime %q: %v", ct, err)
		}
		if !when.Equal(s.fakeClock().Now().UTC().Truncate(time.Millisecond)) {
			t.Fatalf("creationTime %v, clock %v", when, s.fakeClock().Now())
		}
		u, _ := url.Parse(s.url)
		if m["accessDomain"] != u.Host {
			t.Fatalf("accessDomain %v, want %s", m["accessDomain"], u.Host)
		}
		for _, f := range []string{"size", "dirNum", "fileNum"} {
			if m[f] != "0" {
				t.Fatalf("%s = %#v, want the string \"0\"", f, m[f])
			}
		}
		ext, ok := m["libraryExtension"].(map[string]any)
		if !ok {
			t.Fatalf("no libraryExtension: %s", r.Body)
		}
		for _, f := range extensionFields {
			if _, ok := ext[f]; !ok {
				t.Errorf("libraryExtension.%s missing", f)
			}
		}
		want := map[string]any{
			"isFileLibrary": false, "isMultiSpace": false, "isMultiAlbum": false, "isPublicRead": false,
			"allowPhoto": true, "allowVideo": true, "maxDirFileNameLength": float64(255),
			"allowPhotoExtname": []any{}, "allowVideoExtname": []any{}, "allowFileExtname": []any{},
			"corsAllowedOrigins": []any{}, "useRecycleBin": false, "enableQuota": false,
		}
		for f, v := range want {
			if !reflect.DeepEqual(ext[f], v) {
				t.Errorf("libraryExtension.%s = %#v, want %#v", f, ext[f], v)
			}
		}
	})

	t.Run("create keeps given extension fields", func(t *testing.T) {
		ext := map[string]any{
			"isFileLibrary": true, "isMultiSpace": true, "useRecycleBin": true, "allowFileExtname": []string{"txt", "mp4"},
			"corsAllowedOrigins": []string{"https://a.example"}, "maxDirFileNameLength": 100,
		}
		l := s.createLibrary("files", ext)
		got := s.getLibrary(t, l.ID)["libraryExtension"].(map[string]any)
		for f, v := range map[string]any{
			"isFileLibrary": true, "isMultiSpace": true, "useRecycleBin": true,
			"allowFileExtname": []any{"txt", "mp4"}, "corsAllowedOrigins": []any{"https://a.example"},
			"maxDirFileNameLength": float64(100),
		} {
			if !reflect.DeepEqual(got[f], v) {
				t.Errorf("libraryExtension.%s = %#v, want %#v", f, got[f], v)
			}
		}
	})

	t.Run("boundary names are accepted", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"name": strings.Repeat("n", 50), "remark": strings.Repeat("r", 250)},
			{"name": strings.Repeat("媒", 50), "remark": strings.Repeat("库", 250)},
		} {
			r := s.admin("POST", "/admin/v1/libraries", body)
			if r.Status != http.StatusCreated {
				t.Fatalf("create %q: %d %s", body["name"], r.Status, r.Body)
			}
			if got := r.JSON(t)["name"]; got != body["name"] {
				t.Fatalf("name %v", got)
			}
		}
	})

	t.Run("bad input creates nothing", func(t *testing.T) {
		tests := []struct {
			name string
			body any
		}{
			{"no name", map[string]any{"remark": "x"}},
			{"empty name", map[string]any{"name": ""}},
			{"51-char name", map[string]any{"name": strings.Repeat("n", 51)}},
			{"51-character CJK name", map[string]any{"name": strings.Repeat("媒", 51)}},
			{"251-char remark", map[string]any{"name": "ok", "remark": strings.Repeat("r", 251)}},
			{"unknown field", map[string]any{"name": "ok", "colour": "red"}},
			{"unknown extension field", map[string]any{"name": "ok", "libraryExtension": map[string]any{"colour": "red"}}},
			{"malformed JSON", `{"name": "ok"`},
			{"not an object", `["name"]`},
			{"multi-album with multi-space", map[string]any{"name": "ok", "libraryExtension": map[string]any{"isMultiSpace": true, "isMultiAlbum": true}}},
			{"multi-album in a file library", map[string]any{"name": "ok", "libraryExtension": map[string]any{"isFileLibrary": true, "isMultiAlbum": true}}},
			{"public read with multi-space", map[string]any{"name": "ok", "libraryExtension": map[string]any{"isMultiSpace": true, "isPublicRead": true}}},
			{"number in allowFileExtname", map[string]any{"name": "ok", "libraryExtension": map[string]any{"allowFileExtname": []any{"txt", 5}}}},
			{"name is a number", map[string]any{"name": 5}},
		}
		before := s.totalCount(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				expectSMHError(t, s.admin("POST", "/admin/v1/libraries", tt.body), http.StatusBadRequest)
			})
		}
		if after := s.totalCount(t); after != before {
			t.Fatalf("totalCount %v after refused creates, was %v", after, before)
		}
	})

	t.Run("get", func(t *testing.T) {
		m := s.getLibrary(t, created.ID)
		for _, f := range []string{"libraryId", "name", "remark", "creationTime", "accessDomain", "libraryExtension", "size", "dirNum", "fileNum"} {
			if !reflect.DeepEqual(m[f], created.Body[f]) {
				t.Errorf("%s: get %#v, create %#v", f, m[f], created.Body[f])
			}
		}
		for _, id := range []string{"smh0000000000000", "nope", "SMH" + created.ID[3:], created.ID + "x"} {
			expectError(t, s.admin("GET", "/admin/v1/libraries/"+url.PathEscape(id), nil), http.StatusNotFound, "LibraryNotFound")
		}
	})

	// docs/architecture.md, "The admin API": create answers the library "with librarySecret", get "without the
	// secret"; list and patch answer the same library object as get.
	t.Run("only create answers librarySecret", func(t *testing.T) {
		answers := map[string]response{
			"get":   s.admin("GET", "/admin/v1/libraries/"+created.ID, nil),
			"list":  s.admin("GET", "/admin/v1/libraries?page_size=100", nil),
			"patch": s.admin("PATCH", "/admin/v1/libraries/"+created.ID, map[string]any{"remark": "holiday"}),
		}
		for name, r := range answers {
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", name, r.Status, r.Body)
			}
			if strings.Contains(string(r.Body), created.Secret) {
				t.Fatalf("%s answers the secret itself", name)
			}
			if i := strings.Index(string(r.Body), `"librarySecret"`); i >= 0 {
				t.Errorf("%s answers a librarySecret field: …%s…", name, r.Body[i:min(i+22, len(r.Body))])
			}
		}
	})

	t.Run("secret", func(t *testing.T) {
		path := "/admin/v1/libraries/" + created.ID + "/secret"
		r := s.admin("GET", path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("secret: %d %s", r.Status, r.Body)
		}
		want := map[string]any{"libraryId": created.ID, "librarySecret": created.Secret}
		if m := r.JSON(t); !reflect.DeepEqual(m, want) {
			t.Fatalf("secret answered %v, want %v", m, want)
		}
		r = s.admin("POST", path+":reset", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("reset: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		fresh, _ := m["librarySecret"].(string)
		if m["libraryId"] != created.ID || fresh == "" || fresh == created.Secret || len(m) != 2 {
			t.Fatalf("reset answered %v", m)
		}
		r = s.admin("GET", path, nil)
		if r.Status != http.StatusOK || r.JSON(t)["librarySecret"] != fresh {
			t.Fatalf("secret after reset: %d %s", r.Status, r.Body)
		}
		created.Secret = fresh
		for _, p := range []string{"/admin/v1/libraries/smh0000000000000/secret", "/admin/v1/libraries/smh0000000000000/secret:reset"} {
			method := "GET"
			if strings.HasSuffix(p, ":reset") {
				method = "POST"
			}
			expectError(t, s.admin(method, p, nil), http.StatusNotFound, "LibraryNotFound")
		}
	})

	t.Run("patch", func(t *testing.T) {
		l := s.createLibrary("patchme", nil)
		if r := s.admin("PATCH", "/admin/v1/libraries/"+l.ID, map[string]any{"remark": "kept"}); r.Status != http.StatusOK {
			t.Fatalf("set remark: %d %s", r.Status, r.Body)
		}
		path := "/admin/v1/libraries/" + l.ID

		t.Run("name keeps remark", func(t *testing.T) {
			r := s.admin("PATCH", path, map[string]any{"name": "renamed"})
			if r.Status != http.StatusOK {
				t.Fatalf("patch: %d %s", r.Status, r.Body)
			}
			if m := r.JSON(t); m["name"] != "renamed" || m["remark"] != "kept" {
				t.Fatalf("patch answered %s", r.Body)
			}
			if m := s.getLibrary(t, l.ID); m["name"] != "renamed" || m["remark"] != "kept" {
				t.Fatalf("get after patch: %v", m)
			}
		})

		t.Run("one extension field flips alone", func(t *testing.T) {
			before := s.getLibrary(t, l.ID)
			r := s.admin("PATCH", path, map[string]any{"libraryExtension": map[string]any{"useRecycleBin": true}})
			if r.Status != http.StatusOK {
				t.Fatalf("patch: %d %s", r.Status, r.Body)
			}
			after := s.getLibrary(t, l.ID)
			want := before["libraryExtension"].(map[string]any)
			want["useRecycleBin"] = true
			if !reflect.DeepEqual(after["libraryExtension"], want) {
				t.Fatalf("extension after patch:\n got %v\nwant %v", after["libraryExtension"], want)
			}
			for _, f := range []string{"name", "remark", "creationTime", "accessDomain", "libraryId"} {
				if after[f] != before[f] {
					t.Fatalf("%s changed: %v → %v", f, before[f], after[f])
				}
			}
		})

		t.Run("immutable fields", func(t *testing.T) {
			cur := s.getLibrary(t, l.ID)["libraryExtension"].(map[string]any)
			for _, f := range []string{"isMultiSpace", "isFileLibrary", "isMultiAlbum", "enableQuota"} {
				t.Run(f, func(t *testing.T) {
					before := s.getLibrary(t, l.ID)
					v := cur[f].(bool)
					r := s.admin("PATCH", path, map[string]any{"name": "should-not-apply", "libraryExtension": map[string]any{f: !v, "useRecycleBin": false}})
					expectError(t, r, http.StatusBadRequest, "ImmutableLibraryField")
					if msg, _ := r.JSON(t)["message"].(string); !strings.Contains(msg, f) {
						t.Fatalf("message %q does not name %s", msg, f)
					}
					if after := s.getLibrary(t, l.ID); !reflect.DeepEqual(after, before) {
						t.Fatalf("a refused patch changed the library:\n%v\n%v", before, after)
					}
					// The same value is accepted.
					r = s.admin("PATCH", path, map[string]any{"libraryExtension": map[string]any{f: v}})
					if r.Status != http.StatusOK {
						t.Fatalf("same value refused: %d %s", r.Status, r.Body)
					}
				})
			}
		})

		t.Run("cors origins set and cleared", func(t *testing.T) {
			origins := []any{"https://a.example", "https://b.example:8443"}
			r := s.admin("PATCH", path, map[string]any{"libraryExtension": map[string]any{"corsAllowedOrigins": origins}})
			if r.Status != http.StatusOK {
				t.Fatalf("set: %d %s", r.Status, r.Body)
			}
			if got := s.getLibrary(t, l.ID)["libraryExtension"].(map[string]any)["corsAllowedOrigins"]; !reflect.DeepEqual(got, origins) {
				t.Fatalf("origins %v", got)
			}
			// A patch of another field leaves the list alone.
			if r := s.admin("PATCH", path, map[string]any{"libraryExtension": map[string]any{"enableSearch": true}}); r.Status != http.StatusOK {
				t.Fatalf("patch: %d %s", r.Status, r.Body)
			}
			if got := s.getLibrary(t, l.ID)["libraryExtension"].(map[string]any)["corsAllowedOrigins"]; !reflect.DeepEqual(got, origins) {
				t.Fatalf("origins after another patch %v", got)
			}
			r = s.admin("PATCH", path, map[string]any{"libraryExtension": map[string]any{"corsAllowedOrigins": []string{}}})
			if r.Status != http.StatusOK {
				t.Fatalf("clear: %d %s", r.Status, r.Body)
			}
			if got := s.getLibrary(t, l.ID)["libraryExtension"].(map[string]any)["corsAllowedOrigins"]; !reflect.DeepEqual(got, []any{}) {
				t.Fatalf("origins after clearing %#v", got)
			}
		})

		t.Run("bad patches change nothing", func(t *testing.T) {
			before := s.getLibrary(t, l.ID)
			for _, body := range []any{
				map[string]any{"name": ""},
				map[string]any{"name": strings.Repeat("n", 51)},
				map[string]any{"remark": strings.Repeat("r", 251)},
				map[string]any{"colour": "red"},
				`{"name":`,
			} {
				expectSMHError(t, s.admin("PATCH", path, body), http.StatusBadRequest)
			}
			if after := s.getLibrary(t, l.ID); !reflect.DeepEqual(after, before) {
				t.Fatalf("a refused patch changed the library")
			}
			expectError(t, s.admin("PATCH", "/admin/v1/libraries/smh0000000000000", map[string]any{"name": "x"}), http.StatusNotFound, "LibraryNotFound")
		})
	})

	t.Run("delete", func(t *testing.T) {
		l := s.createLibrary("gone", nil)
		count := s.totalCount(t)
		r := s.admin("DELETE", "/admin/v1/libraries/"+l.ID, nil)
		if r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("delete: %d %q", r.Status, r.Body)
		}
		expectError(t, s.admin("GET", "/admin/v1/libraries/"+l.ID, nil), http.StatusNotFound, "LibraryNotFound")
		expectError(t, s.admin("DELETE", "/admin/v1/libraries/"+l.ID, nil), http.StatusNotFound, "LibraryNotFound")
		expectError(t, s.admin("GET", "/admin/v1/libraries/"+l.ID+"/secret", nil), http.StatusNotFound, "LibraryNotFound")
		if got := s.totalCount(t); got != count-1 {
			t.Fatalf("totalCount %v, want %v", got, count-1)
		}
		// The created library is untouched.
		s.getLibrary(t, created.ID)
	})
}

func TestAdminList(t *testing.T) {
	s := startSystem(t)
	const n = 12
	var ids []string // oldest first
	for i := range n {
		ids = append(ids, s.createLibrary(fmt.Sprintf("lib-%02d", i), nil).ID)
		s.fakeClock().Advance(time.Second)
	}
	newest := func(from, count int) []string {
		var out []string
		for i := n - 1 - from; i >= 0 && len(out) < count; i-- {
			out = append(out, ids[i])
		}
		return out
	}
	list := func(t *testing.T, q url.Values) ([]string, float64) {
		t.Helper()
		r := s.call("GET", "/admin/v1/libraries", q, nil, http.Header{"Authorization": {"Bearer " + s.adminKey}})
		if r.Status != http.StatusOK {
			t.Fatalf("list %v: %d %s", q, r.Status, r.Body)
		}
		m := r.JSON(t)
		total, ok := m["totalCount"].(float64)
		if !ok {
			t.Fatalf("totalCount not a number: %s", r.Body)
		}
		items, ok := m["list"].([]any)
		if !ok {
			t.Fatalf("list not an array: %s", r.Body)
		}
		var got []string
		for _, it := range items {
			lib := it.(map[string]any)
			got = append(got, lib["libraryId"].(string))
		}
		return got, total
	}
	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"defaults: page 1, size 10", nil, newest(0, 10)},
		{"page 2 of 10", url.Values{"page": {"2"}}, newest(10, 10)},
		{"page 2 of 5", url.Values{"page": {"2"}, "page_size": {"5"}}, newest(5, 5)},
		{"page 3 of 5", url.Values{"page": {"3"}, "page_size": {"5"}}, newest(10, 5)},
		{"size 1", url.Values{"page_size": {"1"}}, newest(0, 1)},
		{"size 100", url.Values{"page_size": {"100"}}, newest(0, n)},
		{"past the end", url.Values{"page": {"4"}, "page_size": {"5"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total := list(t, tt.query)
			if total != n {
				t.Fatalf("totalCount %v, want %d", total, n)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ids %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("bad pagination", func(t *testing.T) {
		for _, q := range []url.Values{
			{"page_size": {"101"}},
			{"page": {"2"}, "page_size": {"1000"}},
		} {
			expectSMHError(t, s.call("GET", "/admin/v1/libraries", q, nil, http.Header{"Authorization": {"Bearer " + s.adminKey}}), http.StatusBadRequest)
		}
	})
}

func TestAdminConcurrentCreate(t *testing.T) {
	s := startSystem(t)
	const workers = 16
	ids := make(chan string, workers)
	errs := make(chan string, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := strings.NewReader(fmt.Sprintf(`{"name":"c%d"}`, i))
			req, _ := http.NewRequest("POST", s.url+"/admin/v1/libraries", body)
			req.Header.Set("Authorization", "Bearer "+s.adminKey)
			resp, err := s.http.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			var m struct {
				LibraryID string `json:"libraryId"`
			}
			if resp.StatusCode != http.StatusCreated {
				errs <- fmt.Sprintf("status %d", resp.StatusCode)
				return
			}
			if err := decodeJSON(resp, &m); err != nil {
				errs <- err.Error()
				return
			}
			ids <- m.LibraryID
		}()
	}
	wg.Wait()
	close(ids)
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	seen := map[string]bool{}
	for id := range ids {
		if !libraryIDPattern.MatchString(id) || seen[id] {
			t.Fatalf("id %q bad or repeated", id)
		}
		seen[id] = true
	}
	if len(seen) != workers {
		t.Fatalf("%d distinct ids, want %d", len(seen), workers)
	}
	if got := s.totalCount(t); got != workers {
		t.Fatalf("totalCount %v, want %d", got, workers)
	}
	for id := range seen {
		s.getLibrary(t, id)
	}
}

// usageFigures are a library object's size, dirNum and fileNum as JSON strings.
type usageFigures struct{ Size, DirNum, FileNum any }

func figuresOf(m map[string]any) usageFigures {
	return usageFigures{m["size"], m["dirNum"], m["fileNum"]}
}

// wantUsage checks the usage figures of library id in each admin answer that shows a library:
// get, the list and patch (docs/architecture.md, "The admin API": strings in JSON).
func (s *system) wantUsage(t *testing.T, id string, size int64, dirs, files int) {
	t.Helper()
	want := usageFigures{strconv.FormatInt(size, 10), strconv.Itoa(dirs), strconv.Itoa(files)}
	answers := map[string]usageFigures{"get": figuresOf(s.getLibrary(t, id))}
	r := s.admin("GET", "/admin/v1/libraries?page_size=100", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	items, _ := r.JSON(t)["list"].([]any)
	for _, it := range items {
		if m := it.(map[string]any); m["libraryId"] == id {
			answers["list"] = figuresOf(m)
		}
	}
	r = s.admin("PATCH", "/admin/v1/libraries/"+id, map[string]any{"remark": "usage checked"})
	if r.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	answers["patch"] = figuresOf(r.JSON(t))
	for _, name := range []string{"get", "list", "patch"} {
		if got, ok := answers[name]; !ok || got != want {
			t.Errorf("%s: size, dirNum, fileNum = %#v, want %#v", name, got, want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// TestAdminLibraryUsage: the usage figures of the library object are the namespace's live
// counters summed over the library's spaces. A deleted file or directory leaves them at once (the
// counters move in the delete's own transaction; the purge that follows later only removes rows
// that no longer count).
func TestAdminLibraryUsage(t *testing.T) { onEveryEngine(t, testAdminLibraryUsage) }

func testAdminLibraryUsage(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	t.Run("a new library has none", func(t *testing.T) {
		s.wantUsage(t, f.lib, 0, 0, 0)
	})

	t.Run("directories and uploads", func(t *testing.T) {
		for _, d := range []string{"docs", "pics"} {
			if r := f.dir().do("PUT", d, q(f.token), nil); r.Status != http.StatusCreated {
				t.Fatalf("mkdir %s: %d %s", d, r.Status, r.Body)
			}
		}
		f.upload("docs/a.txt", randomBytes(t, 1000), nil)
		f.upload("docs/b.bin", randomBytes(t, 2345), nil)
		f.upload("pics/c.dat", randomBytes(t, 17), nil)
		s.wantUsage(t, f.lib, 1000+2345+17, 2, 3)
	})

	t.Run("deletes drop the figures at once", func(t *testing.T) {
		if r := f.do("DELETE", "docs/b.bin", nil, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete file: %d %s", r.Status, r.Body)
		}
		s.wantUsage(t, f.lib, 1000+17, 2, 2)
		if r := f.dir().do("DELETE", "pics", q(f.token), nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete directory: %d %s", r.Status, r.Body)
		}
		s.wantUsage(t, f.lib, 1000, 1, 1)
		// The purge removes the deleted rows for good; the figures already left them out.
		s.fakeClock().Advance(11 * time.Minute)
		if purged, _ := s.collect(); purged == 0 {
			t.Fatal("the purge removed nothing")
		}
		s.wantUsage(t, f.lib, 1000, 1, 1)
	})

	tenants := s.createLibrary("tenants", map[string]any{"isFileLibrary": true, "isMultiSpace": true})
	t.Run("a multi-tenant library sums its spaces", func(t *testing.T) {
		tok := s.mustMint(tenants, url.Values{"grant": {"admin"}})
		for _, id := range []string{"s1", "s2"} {
			if r := s.call("POST", "/api/v1/space/"+tenants.ID, q(tok, "space_id", id), nil, nil); r.Status != http.StatusCreated {
				t.Fatalf("space %s: %d %s", id, r.Status, r.Body)
			}
		}
		s.wantUsage(t, tenants.ID, 0, 0, 0)
		s1 := fileAPI{s: s, lib: tenants.ID, space: "s1", token: tok, library: tenants}
		s2 := fileAPI{s: s, lib: tenants.ID, space: "s2", token: tok, library: tenants}
		if r := s1.dir().do("PUT", "shared", q(tok), nil); r.Status != http.StatusCreated {
			t.Fatalf("mkdir: %d %s", r.Status, r.Body)
		}
		s1.upload("shared/one.txt", randomBytes(t, 300), nil)
		s2.upload("two.txt", randomBytes(t, 45), nil)
		s2.upload("three.txt", randomBytes(t, 6), nil)
		s.wantUsage(t, tenants.ID, 300+45+6, 1, 3)
		// Each library keeps its own figures.
		s.wantUsage(t, f.lib, 1000, 1, 1)
	})

	t.Run("the namespace's usage RPC needs the operator key", func(t *testing.T) {
		ns := namespacev1.NewNamespaceServiceClient(s.grpcConn(t))
		req := &namespacev1.GetLibrariesUsageRequest{LibraryIds: []string{tenants.ID, f.lib}}
		_, err := ns.GetLibrariesUsage(t.Context(), req)
		if e := smherr.As(err); e == nil || e.Code != "InvalidAdminKey" {
			t.Fatalf("without key: %v", err)
		}
		_, err = ns.GetLibrariesUsage(metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+f.token), req)
		if e := smherr.As(err); e == nil || e.Code != "InvalidAdminKey" {
			t.Fatalf("with an access token: %v", err)
		}
		resp, err := ns.GetLibrariesUsage(metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+s.adminKey), req)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][3]int64{}
		for _, u := range resp.GetUsages() {
			got[u.GetLibraryId()] = [3]int64{u.GetSize(), u.GetDirNum(), u.GetFileNum()}
		}
		want := map[string][3]int64{f.lib: {1000, 1, 1}, tenants.ID: {351, 1, 3}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("usage %v, want %v", got, want)
		}
	})
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
