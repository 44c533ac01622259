package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// unknownLibraryID has the form of a library id (smh + 13 base36 characters) and names none.
const unknownLibraryID = "smh0000000000000"

// answerOf is what a caller can tell from an answer: status, code and message (the request id
// differs on every answer by design).
func answerOf(r response) string {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return fmt.Sprintf("%d %v %q", r.Status, m["code"], m["message"])
}

// TestLibraryExistenceIsNotRevealed: without credentials, or with a token that is not one, every
// business route family answers an existing library exactly as it answers an unknown one; minting
// with a wrong secret answers as an unknown id does.
func TestLibraryExistenceIsNotRevealed(t *testing.T) {
	s := startSystem(t)
	files := s.createLibrary("private files", map[string]any{"isFileLibrary": true})
	spaces := s.createLibrary("private spaces", map[string]any{"isMultiSpace": true})
	albums := s.createLibrary("private albums", map[string]any{"isMultiAlbum": true})
	real := s.mustMint(files, q("", "grant", "admin"))

	routes := []struct{ family, method, path string }{
		{"files", "GET", "/api/v1/file/{lib}/-/a.txt"},
		{"files", "GET", "/api/v1/file/{lib}/-/a.txt?info"},
		{"files", "HEAD", "/api/v1/file/{lib}/-/a.txt"},
		{"files", "PUT", "/api/v1/file/{lib}/-/a.txt"},
		{"files", "POST", "/api/v1/file/{lib}/-/a.txt?multipart"},
		{"files", "POST", "/api/v1/file/{lib}/-/confirmkey?confirm"},
		{"files", "DELETE", "/api/v1/file/{lib}/-/a.txt"},
		{"directories", "GET", "/api/v1/directory/{lib}/-/"},
		{"directories", "GET", "/api/v1/directory/{lib}/-/d?info"},
		{"directories", "PUT", "/api/v1/directory/{lib}/-/d"},
		{"directories", "DELETE", "/api/v1/directory/{lib}/-/d"},
		{"spaces", "POST", "/api/v1/space/{lib}"},
		{"spaces", "GET", "/api/v1/space/{lib}/list"},
		{"spaces", "GET", "/api/v1/space/{lib}/count"},
		{"spaces", "GET", "/api/v1/space/{lib}/-/extension"},
		{"spaces", "DELETE", "/api/v1/space/{lib}/s1"},
		{"usage", "GET", "/api/v1/usage/{lib}"},
		{"usage", "GET", "/api/v1/usage/{lib}/-"},
		{"tasks", "GET", "/api/v1/task/{lib}/-/1"},
		{"album", "GET", "/api/v1/album/{lib}/-/cover"},
		{"album", "GET", "/api/v1/album/{lib}/-/cover/a"},
		{"inode", "GET", "/api/v1/inode/{lib}/-/1"},
		{"tokens", "DELETE", "/api/v1/token/{lib}?user_id=u"},
	}
	credentials := []struct {
		name  string
		token func() string
	}{
		{"no token", func() string { return "" }},
		{"garbage token", func() string { return "garbage-token-0123456789abcdef" }},
		{"another library's token", func() string { return real }},
	}
	libs := []library{files, spaces, albums}
	compared := 0
	for _, cred := range credentials {
		for _, rt := range routes {
			for _, lib := range libs {
				if cred.name == "another library's token" && lib.ID == files.ID {
					continue // the token's own library: credentials, not this test's subject
				}
				ask := func(id string) response {
					path, rawQuery, _ := strings.Cut(strings.ReplaceAll(rt.path, "{lib}", id), "?")
					query, _ := url.ParseQuery(rawQuery)
					if tok := cred.token(); tok != "" {
						query.Set("access_token", tok)
					}
					return s.call(rt.method, path, query, nil, nil)
				}
				known, unknown := ask(lib.ID), ask(unknownLibraryID)
				compared++
				if answerOf(known) != answerOf(unknown) || known.Status < 400 {
					t.Errorf("%s, %s %s: existing %s answers %s, unknown answers %s", cred.name, rt.method, rt.path,
						lib.Body["name"], answerOf(known), answerOf(unknown))
				}
			}
		}
	}
	// Tokens: renewing or deleting a token that is not one.
	for _, method := range []string{"POST", "DELETE"} {
		known := s.call(method, "/api/v1/token/"+files.ID+"/garbage-token", nil, nil, nil)
		unknown := s.call(method, "/api/v1/token/"+unknownLibraryID+"/garbage-token", nil, nil, nil)
		compared++
		if answerOf(known) != answerOf(unknown) {
			t.Errorf("%s token: existing %s, unknown %s", method, answerOf(known), answerOf(unknown))
		}
	}
	// Minting: a wrong secret answers as an unknown id does (1.1: 404 WrongLibraryIdOrSecret).
	wrongSecret := s.mint(library{ID: files.ID, Secret: "not-the-secret"}, nil)
	wrongID := s.mint(library{ID: unknownLibraryID, Secret: files.Secret}, nil)
	badID := s.mint(library{ID: "not-an-id", Secret: files.Secret}, nil)
	compared += 2
	expectError(t, wrongSecret, http.StatusNotFound, "WrongLibraryIdOrSecret")
	if answerOf(wrongSecret) != answerOf(wrongID) || answerOf(wrongSecret) != answerOf(badID) {
		t.Errorf("mint: wrong secret %s, unknown id %s, malformed id %s", answerOf(wrongSecret), answerOf(wrongID), answerOf(badID))
	}
	t.Logf("%d pairs of answers compared", compared)
}

// TestSpaceExistenceIsNotRevealed: in a multi-space library, a caller without a token and a
// token of other spaces get the same answer for an existing space as for an unknown one.
func TestSpaceExistenceIsNotRevealed(t *testing.T) {
	s := startSystem(t)
	lib := s.createLibrary("tenants", map[string]any{"isMultiSpace": true})
	admin := s.mustMint(lib, q("", "grant", "admin"))
	for _, id := range []string{"tenant-a", "tenant-b"} {
		if r := s.call("POST", "/api/v1/space/"+lib.ID, q(admin, "space_id", id), nil, nil); r.Status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", id, r.Status, r.Body)
		}
	}
	tenantA := s.mustMint(lib, q("", "space_id", "tenant-a", "grant", "space_admin"))
	paths := []string{
		"/api/v1/directory/{lib}/{space}/",
		"/api/v1/directory/{lib}/{space}/d?info",
		"/api/v1/file/{lib}/{space}/a.txt",
		"/api/v1/space/{lib}/{space}/extension",
		"/api/v1/usage/{lib}/{space}",
		"/api/v1/task/{lib}/{space}/1",
		"/api/v1/inode/{lib}/{space}/1",
		"/api/v1/album/{lib}/{space}/cover",
	}
	compared := 0
	for _, token := range []string{"", tenantA} {
		for _, p := range paths {
			ask := func(space string) response {
				path, rawQuery, _ := strings.Cut(strings.NewReplacer("{lib}", lib.ID, "{space}", space).Replace(p), "?")
				query, _ := url.ParseQuery(rawQuery)
				if token != "" {
					query.Set("access_token", token)
				}
				return s.call("GET", path, query, nil, nil)
			}
			existing, unknown := ask("tenant-b"), ask("tenant-zz")
			compared++
			if answerOf(existing) != answerOf(unknown) || existing.Status < 400 {
				t.Errorf("token %t, %s: existing space %s, unknown space %s", token != "", p, answerOf(existing), answerOf(unknown))
			}
		}
	}
	t.Logf("%d pairs of answers compared", compared)
}

// TestCORSOfUnknownLibrary: a browser's preflight and request for an unknown library get the same
// CORS answer as for a library with the default (unrestricted) origins. A library that restricts
// its origins does refuse a foreign origin, which the browser must see; that is what remains
// distinguishable (docs/security.md).
func TestCORSOfUnknownLibrary(t *testing.T) {
	s := startSystem(t)
	open := s.createLibrary("default origins", map[string]any{"isFileLibrary": true})
	corsOf := func(method, id string) string {
		h := http.Header{"Origin": {"https://elsewhere.example"}}
		if method == "OPTIONS" {
			h.Set("Access-Control-Request-Method", "GET")
		}
		r := s.call(method, "/api/v1/directory/"+id+"/-/", nil, nil, h)
		return fmt.Sprintf("%d %s allow-origin=%q methods=%q expose=%q", r.Status, answerOf(r),
			r.Header.Get("Access-Control-Allow-Origin"), r.Header.Get("Access-Control-Allow-Methods"), r.Header.Get("Access-Control-Expose-Headers"))
	}
	for _, method := range []string{"OPTIONS", "GET"} {
		if known, unknown := corsOf(method, open.ID), corsOf(method, unknownLibraryID); known != unknown {
			t.Errorf("%s: existing library %s, unknown library %s", method, known, unknown)
		}
	}
}
