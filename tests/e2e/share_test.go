package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Share links over real HTTPS on both engines (SMH API section 13, docs/shares.md): the
// owner lifecycle, list and search paging and order, update replacing the config and resetting
// counters, enable/disable, and the visitor flow url-detail → verify → list, with every refusal
// taking effect at once.

func TestShareLinks(t *testing.T) {
	onEveryEngine(t, testShareLinks)
}

type shareAPI struct {
	s   *system
	lib string
}

func (a shareAPI) create(token, space string, body any) response {
	a.s.t.Helper()
	return a.s.call("POST", "/api/v1/share/"+a.lib+"/"+space, q(token), body, nil)
}

func (a shareAPI) mustCreate(t *testing.T, token string, body any) map[string]any {
	t.Helper()
	r := a.create(token, "-", body)
	if r.Status != http.StatusOK {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func (a shareAPI) detail(token, id string) response {
	return a.s.call("GET", "/api/v1/share/"+a.lib+"/"+id, q(token, "detail", "", "with_file_info", "1"), nil, nil)
}

func (a shareAPI) list(token string, kv ...string) response {
	return a.s.call("GET", "/api/v1/share/"+a.lib+"/list", q(token, kv...), nil, nil)
}

func (a shareAPI) verify(code string, body any) response {
	return a.s.call("POST", "/api/v1/share/verify/"+code, nil, body, nil)
}

func (a shareAPI) files(code, inodes, token string, kv ...string) response {
	return a.s.call("GET", "/api/v1/share/file/"+code+"/"+url.PathEscape(inodes), q(token, append([]string{"list", ""}, kv...)...), nil, nil)
}

func (a shareAPI) token(t *testing.T, code, extraction string) string {
	t.Helper()
	r := a.verify(code, map[string]any{"extractionCode": extraction})
	if r.Status != http.StatusOK {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	tok, _ := r.JSON(t)["accessToken"].(string)
	if tok == "" || r.JSON(t)["expireTime"] == "" {
		t.Fatalf("verify answer %s", r.Body)
	}
	return tok
}

func shareNames(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, it := range contents(t, r) {
		out = append(out, it["name"].(string))
	}
	return out
}

func testShareLinks(t *testing.T, s *system) {
	lib := s.createLibrary("shares", map[string]any{"isFileLibrary": true, "useRecycleBin": true})
	admin := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"boss"}})
	alice := s.mustMint(lib, url.Values{"user_id": {"alice"}})
	bob := s.mustMint(lib, url.Values{"user_id": {"bob"}})
	f := fileAPI{s: s, lib: lib.ID, space: "-", token: admin, library: lib}
	d := dirAPI{s: s, lib: lib.ID, space: "-"}
	d.mkdirs(t, admin, []string{"docs/deep"})
	f.upload("docs/a.txt", []byte("alpha"), nil)
	f.upload("docs/deep/z.txt", []byte("zed"), nil)
	f.upload("b.pdf", []byte("%PDF-1.4 bee"), nil)
	f.upload("outside.txt", []byte("out"), nil)
	inodeOf := func(path string) string {
		info := s.call("GET", "/api/v1/directory/"+lib.ID+"/-/"+path, q(admin, "info", "", "with_inode", "1"), nil, nil).JSON(t)
		return info["inode"].(string)
	}
	sa := shareAPI{s: s, lib: lib.ID}
	expire := s.fakeClock().Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")

	var id, code string
	t.Run("create answers the link; bad bodies change nothing", func(t *testing.T) {
		m := sa.mustCreate(t, alice, map[string]any{"name": "docs and b", "filePath": []string{"docs", "/b.pdf"},
			"config": map[string]any{"expireTime": expire, "extractionCode": "x1Y2", "canPreview": true, "canDownload": true, "previewLimit": 3}})
		id, code = m["id"].(string), m["code"].(string)
		if len(id) < 22 || len(code) < 22 || id == code {
			t.Fatalf("id %q code %q", id, code)
		}
		pub, _ := url.Parse(s.url)
		if m["endpoint"] != s.url+"/s/"+code || m["isPermanent"] != false || m["expireTime"] != expire || m["createTime"] == "" {
			t.Fatalf("create answer %v", m)
		}
		if dom := m["domain"].(map[string]any)["shareDomain"].([]any); len(dom) != 1 || dom[0] != pub.Host {
			t.Fatalf("shareDomain %v", dom)
		}
		expectError(t, sa.create(alice, "-", map[string]any{"name": "x", "filePath": []string{"nope.txt"}, "config": map[string]any{"isPermanent": true}}), http.StatusNotFound, "FileNotFound")
		expectError(t, sa.create(alice, "-", map[string]any{"name": "x", "filePath": []string{"b.pdf"}}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, sa.create(alice, "-", map[string]any{"name": "", "filePath": []string{"b.pdf"}, "config": map[string]any{"isPermanent": true}}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, sa.create(alice, "-", map[string]any{"name": "x", "filePath": []string{"b.pdf"}, "config": map[string]any{"isPermanent": true, "userLimit": 2}}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, sa.create(alice, "-", map[string]any{"name": "x", "filePath": []string{"b.pdf"}, "config": map[string]any{"isPermanent": true, "extractionCode": "toolong7"}}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, sa.create("", "-", map[string]any{"name": "x"}), http.StatusBadRequest, "EmptyAccessToken")
		if got := len(contents(t, sa.list(admin))); got != 1 {
			t.Fatalf("%d shares after refused creates", got)
		}
	})

	t.Run("detail: creator and admin, not another user", func(t *testing.T) {
		for _, tok := range []string{alice, admin} {
			r := sa.detail(tok, id)
			if r.Status != http.StatusOK {
				t.Fatalf("detail: %d %s", r.Status, r.Body)
			}
			m := r.JSON(t)
			if m["creationTime"] == nil || m["createTime"] != nil || m["extractionCode"] != "x1Y2" || m["creatorId"] != "alice" ||
				m["previewLimit"] != float64(3) || m["previewUsed"] != float64(0) || m["canSaveToNetdisk"] != false ||
				m["adminEnabled"] != true || m["ownerEnabled"] != true || m["isExpired"] != false || m["userLimitUsed"] != float64(0) {
				t.Fatalf("detail %s", r.Body)
			}
			fi := m["fileInfo"].(map[string]any)
			if fi["fileName"] != "docs" || fi["fileType"] != "dir" || fi["size"] != "" {
				t.Fatalf("fileInfo %v", fi)
			}
		}
		expectError(t, sa.detail(bob, id), http.StatusForbidden, "NoPermission")
		expectError(t, sa.detail(admin, "nope"), http.StatusNotFound, "ShareNotFound")
	})

	t.Run("visitor: url-detail, verify, list levels, outside inode", func(t *testing.T) {
		r := s.call("GET", "/api/v1/share/url-detail/"+code, nil, nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("url-detail %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		if m["name"] != "docs and b" || m["enabled"] != true || m["needExtractionCode"] != true || m["allowAnonymousUser"] != true ||
			m["canSaveToNetDisc"] != false || m["userId"] != "alice" || m["fileName"] != nil || strings.Contains(string(r.Body), "x1Y2") {
			t.Fatalf("url-detail %s", r.Body)
		}
		expectError(t, s.call("GET", "/api/v1/share/url-detail/nope", nil, nil, nil), http.StatusNotFound, "ShareNotFound")
		expectError(t, sa.verify(code, map[string]any{"extractionCode": "wrong"}), http.StatusForbidden, "ExtractionCodeInvalid")
		expectError(t, sa.verify("nope", map[string]any{"extractionCode": ""}), http.StatusNotFound, "ShareNotFound")
		tok := sa.token(t, code, "x1Y2")

		root := sa.files(code, "", tok)
		if got := shareNames(t, root); !slices.Equal(got, []string{"docs", "b.pdf"}) {
			t.Fatalf("root %v", got)
		}
		for _, it := range contents(t, root) {
			if it["type"] == "dir" && it["size"] != nil || it["type"] == "file" && it["size"] != "12" || it["canPreview"] != true || it["spaceId"] != "-" {
				t.Fatalf("root item %v", it)
			}
		}
		docs, deep := inodeOf("docs"), inodeOf("docs/deep")
		if got := shareNames(t, sa.files(code, docs, tok)); !slices.Equal(got, []string{"deep", "a.txt"}) {
			t.Fatalf("docs %v", got)
		}
		if got := shareNames(t, sa.files(code, docs+"/"+deep, tok)); !slices.Equal(got, []string{"z.txt"}) {
			t.Fatalf("deep %v", got)
		}
		// Paging at the root.
		p1 := sa.files(code, "", tok, "limit", "1").JSON(t)
		if p1["hasMore"] != true || p1["marker"] == "" {
			t.Fatalf("page 1 %v", p1)
		}
		if got := shareNames(t, sa.files(code, "", tok, "limit", "1", "marker", p1["marker"].(string))); !slices.Equal(got, []string{"b.pdf"}) {
			t.Fatalf("page 2 %v", got)
		}
		expectError(t, sa.files(code, inodeOf("outside.txt"), tok), http.StatusNotFound, "FileNotInShare")
		expectError(t, sa.files(code, deep, tok), http.StatusNotFound, "FileNotInShare")
		expectError(t, sa.files(code, "", tok, "limit", "101"), http.StatusBadRequest, "InvalidParameter")
		// Library tokens are not share tokens.
		expectError(t, sa.files(code, "", admin), http.StatusForbidden, "InvalidAccessToken")
		expectError(t, sa.files(code, "", ""), http.StatusBadRequest, "EmptyAccessToken")
		// A share token is not a library token.
		expectError(t, sa.list(tok), http.StatusForbidden, "InvalidAccessToken")
	})

	t.Run("update replaces the config and resets counters; 409 is for races only", func(t *testing.T) {
		r := s.call("POST", "/api/v1/share/"+lib.ID+"/"+id, q(alice, "update", ""), map[string]any{"name": "renamed", "config": map[string]any{"isPermanent": true}}, nil)
		if r.Status != http.StatusOK || r.JSON(t)["isPermanent"] != true || r.JSON(t)["expireTime"] != "" {
			t.Fatalf("update %d %s", r.Status, r.Body)
		}
		m := sa.detail(alice, id).JSON(t)
		if m["name"] != "renamed" || m["extractionCode"] != "" || m["canPreview"] != false || m["previewLimit"] != nil || m["canDownload"] != false {
			t.Fatalf("after update %v", m)
		}
		expectError(t, s.call("POST", "/api/v1/share/"+lib.ID+"/"+id, q(bob, "update", ""), map[string]any{"config": map[string]any{"isPermanent": true}}, nil), http.StatusForbidden, "NoPermission")
		expectError(t, s.call("POST", "/api/v1/share/"+lib.ID+"/"+id, q(alice, "update", ""), map[string]any{"name": "x"}, nil), http.StatusBadRequest, "ParamInvalid")
		// The code is gone: "" verifies now.
		sa.token(t, code, "")
	})

	t.Run("disable, expire, delete refuse visitors at once", func(t *testing.T) {
		tok := sa.token(t, code, "")
		set := func(token string, body map[string]any) response {
			return s.call("POST", "/api/v1/share/"+lib.ID+"/"+id, q(token, "setEnabled", ""), body, nil)
		}
		expectError(t, set(alice, map[string]any{"adminEnabled": false}), http.StatusForbidden, "NoPermission")
		if r := set(alice, map[string]any{"ownerEnabled": false}); r.Status != http.StatusNoContent {
			t.Fatalf("disable %d %s", r.Status, r.Body)
		}
		expectError(t, sa.files(code, "", tok), http.StatusForbidden, "ShareDisabled")
		expectError(t, sa.verify(code, map[string]any{"extractionCode": ""}), http.StatusForbidden, "ShareDisabled")
		if m := s.call("GET", "/api/v1/share/url-detail/"+code, nil, nil, nil).JSON(t); m["enabled"] != false {
			t.Fatalf("url-detail of a disabled share %v", m)
		}
		if r := set(alice, map[string]any{"ownerEnabled": true}); r.Status != http.StatusNoContent {
			t.Fatalf("enable %d", r.Status)
		}
		if r := set(admin, map[string]any{"adminEnabled": false}); r.Status != http.StatusNoContent {
			t.Fatalf("admin disable %d", r.Status)
		}
		expectError(t, sa.files(code, "", tok), http.StatusForbidden, "ShareDisabled")
		set(admin, map[string]any{"adminEnabled": true})
		if r := sa.files(code, "", tok); r.Status != http.StatusOK {
			t.Fatalf("re-enabled %d %s", r.Status, r.Body)
		}

		// An expiring share expires, while the visitor's ten-minute token still lives.
		inFive := s.fakeClock().Now().Add(5 * time.Minute).UTC().Format(time.RFC3339)
		m := sa.mustCreate(t, alice, map[string]any{"name": "soon", "filePath": []string{"b.pdf"}, "config": map[string]any{"expireTime": inFive}})
		soon := sa.token(t, m["code"].(string), "")
		s.fakeClock().Advance(6 * time.Minute)
		expectError(t, sa.files(m["code"].(string), "", soon), http.StatusForbidden, "ShareExpired")
		expectError(t, sa.verify(m["code"].(string), map[string]any{"extractionCode": ""}), http.StatusForbidden, "ShareExpired")
		if d := sa.detail(alice, m["id"].(string)).JSON(t); d["isExpired"] != true {
			t.Fatalf("expired detail %v", d)
		}

		// Delete: 204, then the share and its tokens are gone.
		tok = sa.token(t, code, "")
		if r := s.call("DELETE", "/api/v1/share/"+lib.ID+"/"+id, q(alice), nil, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete %d %s", r.Status, r.Body)
		}
		expectError(t, sa.files(code, "", tok), http.StatusNotFound, "ShareNotFound")
		expectError(t, s.call("DELETE", "/api/v1/share/"+lib.ID+"/"+id, q(alice), nil, nil), http.StatusNotFound, "ShareNotFound")
	})

	t.Run("list and search: paging, order, admin and owner views", func(t *testing.T) {
		for _, n := range []string{"charlie", "alpha", "bravo"} {
			sa.mustCreate(t, bob, map[string]any{"name": n, "filePath": []string{"b.pdf"}, "config": map[string]any{"isPermanent": true}})
		}
		var got []string
		marker := ""
		for range 10 {
			kv := []string{"limit", "2", "orderBy", "name", "orderByType", "desc"}
			if marker != "" {
				kv = append(kv, "marker", marker)
			}
			r := sa.list(bob, kv...)
			got = append(got, shareNames(t, r)...)
			if r.JSON(t)["hasMore"] != true {
				break
			}
			marker = r.JSON(t)["marker"].(string)
		}
		if !slices.Equal(got, []string{"charlie", "bravo", "alpha"}) {
			t.Fatalf("bob's shares by name desc %v", got)
		}
		if got := shareNames(t, sa.list(admin, "creatorId", "bob", "orderBy", "name")); !slices.Equal(got, []string{"alpha", "bravo", "charlie"}) {
			t.Fatalf("admin's view of bob %v", got)
		}
		expectError(t, sa.list(alice, "creatorId", "bob"), http.StatusForbidden, "NoPermission")
		search := func(token string, body any, kv ...string) response {
			return s.call("POST", "/api/v1/share/"+lib.ID+"/search", q(token, kv...), body, nil)
		}
		if got := shareNames(t, search(admin, map[string]any{"name": "RAV"})); !slices.Equal(got, []string{"bravo"}) {
			t.Fatalf("search %v", got)
		}
		expectError(t, search(bob, map[string]any{}), http.StatusForbidden, "NoPermission")
		expectError(t, search(admin, map[string]any{}, "limit", "51"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, search(admin, map[string]any{"createTimeStart": "2026-12-01T00:00:00Z", "createTimeEnd": "2026-11-01T00:00:00Z"}), http.StatusBadRequest, "ParamInvalid")
	})

	t.Run("wrong codes per share are bounded", func(t *testing.T) {
		m := sa.mustCreate(t, alice, map[string]any{"name": "locked", "filePath": []string{"b.pdf"}, "config": map[string]any{"isPermanent": true, "extractionCode": "abc"}})
		c := m["code"].(string)
		for range 10 {
			expectError(t, sa.verify(c, map[string]any{"extractionCode": "nope"}), http.StatusForbidden, "ExtractionCodeInvalid")
		}
		expectError(t, sa.verify(c, map[string]any{"extractionCode": "abc"}), http.StatusTooManyRequests, "RateLimitExceeded")
		s.fakeClock().Advance(11 * time.Minute)
		sa.token(t, c, "abc")
	})
}
