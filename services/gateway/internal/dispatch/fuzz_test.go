package dispatch

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
)

// request builds the request the server would hand the gateway for method and a request target
// (path and query as sent), parsed as net/http parses a request line. ok is false when the server
// would have refused the target itself.
func request(method, target string, body []byte) (*http.Request, bool) {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, false
	}
	r := &http.Request{Method: method, URL: u, RequestURI: target, Header: http.Header{}, Body: http.NoBody}
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	return r, true
}

// filePrefix is the fixed head of the public file routes the path decoder is fuzzed under.
const filePrefix = "/api/v1/file/smhlib/-/"

// FuzzDecodePath fuzzes the rest-of-path decoding of 12.3 on the file download route: the
// file path the dispatcher hands on is the raw remainder decoded exactly once (Go's own decoder
// of the whole path is the oracle), "%2F" and "/" are the same, and the internal path encodes
// it so that decoding gives it back.
func FuzzDecodePath(f *testing.F) {
	for _, seed := range []string{
		"", "a.jpg", "a/b.jpg", "a%2Fb.jpg", "a%2fb.jpg", "a%252Fb.jpg", "%2F", "a/", "a%2F", "/a", "a//b",
		"%E7%9B%B8%E5%86%8C/x%20y.jpg", "a+b%2B%23%3F.jpg", "..", "a/../b", "%2E%2E", "%00", "%", "%zz", "%C0%AF",
		"%E2%80%AEgpj.exe", "\u202egpj.exe", "a;b=c", "%7B%7D{}", strings.Repeat("%E7%9B%B8", 300),
		strings.Repeat("a/", 200),
	} {
		f.Add(seed)
	}
	table := Compile(Routes)
	f.Fuzz(func(t *testing.T, rest string) {
		r, ok := request("GET", filePrefix+rest, nil)
		if !ok || r.URL.RawQuery != "" || r.URL.ForceQuery {
			return
		}
		m, ok := table.Match(r)
		if !ok {
			t.Fatalf("GET %s matched no route", r.URL.EscapedPath())
		}
		if m.Route.RPC != objectv1.ObjectService_DownloadFile_FullMethodName {
			t.Fatalf("GET %s matched %s", r.URL.EscapedPath(), m.Route.RPC)
		}
		want := strings.TrimPrefix(r.URL.Path, filePrefix)
		if got := m.Params["FilePath"]; got != want {
			t.Fatalf("GET %s: FilePath %q, want %q (decoded once)", r.URL.EscapedPath(), got, want)
		}
		// The same path with every "/" of the remainder sent as "%2F" (the JS SDK's form).
		escaped := strings.ReplaceAll(strings.TrimPrefix(r.URL.EscapedPath(), filePrefix), "/", "%2F")
		if r2, ok := request("GET", filePrefix+escaped, nil); ok {
			m2, ok := table.Match(r2)
			if !ok || m2.Params["FilePath"] != want {
				t.Fatalf("GET %s: FilePath %q, want %q as with literal slashes", filePrefix+escaped, m2.Params["FilePath"], want)
			}
		}
		if wantPath := "/_smh/file/download/smhlib/-/" + url.PathEscape(want); m.Path != wantPath {
			t.Fatalf("internal path %q, want %q", m.Path, wantPath)
		}
		out := Rewrite(r, m)
		if out.URL.Path != "/_smh/file/download/smhlib/-/"+want || out.URL.EscapedPath() != m.Path {
			t.Fatalf("rewritten to %q (escaped %q), want %q", out.URL.Path, out.URL.EscapedPath(), m.Path)
		}
	})
}

// FuzzMatch fuzzes the dispatcher over the real table with any method, raw path, raw query and body:
// it never panics, answers the same twice, leaves the body byte-identical for the service, and a
// match's internal path is well formed and carries its parameters back unchanged.
func FuzzMatch(f *testing.F) {
	seeds := []struct{ method, target, body string }{
		{"GET", "/api/v1/token?library_id=smhlib&library_secret=s", ""},
		{"POST", "/api/v1/token/smhlib/tok", ""},
		{"DELETE", "/api/v1/token/smhlib/", ""},
		{"GET", "/api/v1/space/smhlib/list", ""},
		{"GET", "/api/v1/usage/smhlib/s1,s2", ""},
		{"PUT", "/api/v1/directory/smhlib/-/a/b", `{"copyFrom":"c"}`},
		{"PUT", "/api/v1/directory/smhlib/-/a%2Fb", `{"from":"c"}`},
		{"GET", "/api/v1/directory/smhlib/-/?by-marker&by-page", ""},
		{"POST", "/api/v1/directory/smhlib/-/d?update", `{"metaData":{"a":null}}`},
		{"PUT", "/api/v1/file/smhlib/-/a.jpg", `{"linkTo":"b.jpg"}`},
		{"PUT", "/api/v1/file/smhlib/-/a.jpg", `{"copyFrom":"x","from":"y"}`},
		{"PUT", "/api/v1/file/smhlib/-/a.jpg", `[{"copyFrom":"x"}]`},
		{"PUT", "/api/v1/file/smhlib/-/a.jpg", `{"copyFrom":`},
		{"POST", "/api/v1/file/smhlib/-/key?confirm", `{"crc64":"1","labels":["a"]}`},
		{"POST", "/api/v1/file/smhlib/-/a%2Fb?confirm", ""},
		{"GET", "/api/v1/file/smhlib/-/%E7%9B%B8%E5%86%8C/x%20y.jpg?info=1", ""},
		{"GET", "/api/v1/file/smhlib/-/\u202egpj.exe?preview", ""},
		{"DELETE", "/api/v1/file/smhlib/-/key?upload", ""},
		{"GET", "/api/v1/album/smhlib/-/cover/", ""},
		{"GET", "/api/v1/album/smhlib/-/cover/a%2Fb", ""},
		{"GET", "/api/v1/task/smhlib/-/10,12", ""},
		{"GET", "/api/v1/inode/smhlib/-/%00", ""},
		{"get", "/api/v1/token", ""},
		{"GET", "/api/v1//token", ""},
		{"GET", "/api/v1/file/%zz/-/a", ""},
		{"GET", "/api/v1/file/smhlib/-/a?info&access_token=%zz", ""},
	}
	for _, s := range seeds {
		path, query, _ := strings.Cut(s.target, "?")
		f.Add(s.method, path, query, []byte(s.body))
	}
	table := Compile(Routes)
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte) {
		target := path
		if query != "" {
			target += "?" + query
		}
		r, ok := request(method, target, body)
		if !ok {
			return
		}
		m, ok := table.Match(r)
		rest, err := io.ReadAll(r.Body)
		if err != nil || !bytes.Equal(rest, body) && !(body == nil && len(rest) == 0) {
			t.Fatalf("body after the match = %q, %v; sent %q", rest, err, body)
		}
		again, _ := request(method, target, body)
		m2, ok2 := table.Match(again)
		if ok != ok2 || m.Route != m2.Route || m.Path != m2.Path || !maps.Equal(m.Params, m2.Params) {
			t.Fatalf("two matches of %s %s differ: %+v / %+v", method, target, m, m2)
		}
		if !ok {
			return
		}
		if m.Route.Method != method {
			t.Fatalf("%s %s matched a %s row", method, target, m.Route.Method)
		}
		q := r.URL.Query()
		for _, flag := range m.Route.Flags {
			if !q.Has(flag) {
				t.Fatalf("%s %s matched %s without its flag %q", method, target, m.Route.RPC, flag)
			}
		}
		params := internalParams(t, m)
		if !maps.Equal(params, m.Params) {
			t.Fatalf("internal path %q carries %v, the match %v", m.Path, params, m.Params)
		}
		for name, v := range m.Params {
			if !isRest(m.Route, name) && v == "" {
				t.Fatalf("parameter %s of %s %s is empty", name, method, target)
			}
		}
		out := Rewrite(r, m)
		if out.URL.EscapedPath() != m.Path {
			t.Fatalf("rewritten path %q, want %q", out.URL.EscapedPath(), m.Path)
		}
		for _, credential := range []string{"access_token", "library_secret"} {
			if out.URL.Query().Has(credential) {
				t.Fatalf("%s left in the rewritten URL %s", credential, out.URL)
			}
		}
	})
}

// A body longer than the peek reaches the service whole: the part read to look for keys and the
// part never read are put back in order. (A fuzz seed this long slows every mutation, so this
// shape is a test of its own.)
func TestMatchRestoresABodyPastThePeekLimit(t *testing.T) {
	body := []byte(`{"copyFrom":"` + strings.Repeat("x", 2*bodyPeekLimit) + `"}`)
	r, _ := request("PUT", "/api/v1/file/smhlib/-/a.jpg", body)
	m, ok := Compile(Routes).Match(r)
	if !ok || m.Route.RPC != objectv1.ObjectService_BeginSimpleUpload_FullMethodName {
		t.Fatalf("matched %v %v, want the upload (the key is past the peek)", ok, m.Route)
	}
	if rest, err := io.ReadAll(r.Body); err != nil || !bytes.Equal(rest, body) {
		t.Fatalf("body after the match: %d bytes, %v; sent %d", len(rest), err, len(body))
	}
}

// isRest reports whether name is the rest-of-path parameter of route.
func isRest(route *Route, name string) bool {
	return strings.HasSuffix(route.Pattern, "{"+name+"...}")
}

// internalParams reads the parameters back out of a match's internal path, segment by segment
// along the row's Target, each escaped segment decoded once; the rest parameter takes the
// remainder.
func internalParams(t *testing.T, m Match) map[string]string {
	t.Helper()
	pattern := strings.Split(strings.TrimPrefix(m.Route.Target, "/"), "/")
	segs := strings.Split(strings.TrimPrefix(m.Path, "/"), "/")
	params := map[string]string{}
	for i, p := range pattern {
		if i >= len(segs) {
			t.Fatalf("internal path %q is shorter than %q", m.Path, m.Route.Target)
		}
		if !strings.HasPrefix(p, "{") {
			if segs[i] != p {
				t.Fatalf("internal path %q does not follow %q", m.Path, m.Route.Target)
			}
			continue
		}
		name := p[1 : len(p)-1]
		raw := segs[i]
		if isRest(m.Route, name) {
			raw = strings.Join(segs[i:], "/")
			segs = segs[:i+1]
		}
		v, err := url.PathUnescape(raw)
		if err != nil {
			t.Fatalf("internal path %q is not well formed: %v", m.Path, err)
		}
		params[name] = v
	}
	if len(segs) != len(pattern) {
		t.Fatalf("internal path %q is longer than %q", m.Path, m.Route.Target)
	}
	return params
}
