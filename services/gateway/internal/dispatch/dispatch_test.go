package dispatch

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
)

func TestMatchTokenRoutes(t *testing.T) {
	table := Compile(Routes)
	tests := []struct {
		name     string
		method   string
		target   string
		wantRPC  string
		wantPath string
	}{
		{"mint with GET", "GET", "/api/v1/token?library_id=smh0000000000001&library_secret=s", tokenv1.TokenService_CreateToken_FullMethodName, "/_smh/token/create"},
		{"mint with POST", "POST", "/api/v1/token?library_id=x", tokenv1.TokenService_CreateToken_FullMethodName, "/_smh/token/create"},
		{"renew", "POST", "/api/v1/token/smhabc/tok-123", tokenv1.TokenService_RenewToken_FullMethodName, "/_smh/token/renew/smhabc/tok-123"},
		{"delete one", "DELETE", "/api/v1/token/smhabc/tok-123", tokenv1.TokenService_DeleteToken_FullMethodName, "/_smh/token/delete/smhabc/tok-123"},
		{"delete a user's", "DELETE", "/api/v1/token/smhabc?user_id=u", tokenv1.TokenService_DeleteUserTokens_FullMethodName, "/_smh/token/delete-user/smhabc"},
		{"trailing slash", "DELETE", "/api/v1/token/smhabc/", tokenv1.TokenService_DeleteUserTokens_FullMethodName, "/_smh/token/delete-user/smhabc"},
		{"encoded segment stays one segment", "POST", "/api/v1/token/smhabc/a%2Fb", tokenv1.TokenService_RenewToken_FullMethodName, "/_smh/token/renew/smhabc/a%2Fb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := table.Match(httptest.NewRequest(tt.method, tt.target, nil))
			if !ok {
				t.Fatalf("no route for %s %s", tt.method, tt.target)
			}
			if m.Route.RPC != tt.wantRPC || m.Path != tt.wantPath {
				t.Fatalf("got %s %s, want %s %s", m.Route.RPC, m.Path, tt.wantRPC, tt.wantPath)
			}
		})
	}
}

func TestMatchRefusesUnknown(t *testing.T) {
	table := Compile(Routes)
	for _, tt := range []struct{ method, target string }{
		{"PUT", "/api/v1/token"},
		{"GET", "/api/v1/token/smhabc/tok"},
		{"POST", "/api/v1/token/smhabc/tok/extra"},
		{"GET", "/api/v1/nothing"},
	} {
		if m, ok := table.Match(httptest.NewRequest(tt.method, tt.target, nil)); ok {
			t.Errorf("%s %s matched %s", tt.method, tt.target, m.Route.RPC)
		}
	}
}

// The SMH file routes choose by flags and body keys; this table exercises that machinery
// before those routes exist.
func TestFlagsBodyKeysAndRestParams(t *testing.T) {
	table := Compile([]Route{
		{Method: "GET", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Flags: []string{"info"}, Target: "/info/{LibraryId}/{SpaceId}/{FilePath}", RPC: "info"},
		{Method: "GET", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Target: "/download/{LibraryId}/{SpaceId}/{FilePath}", RPC: "download"},
		{Method: "PUT", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", BodyKey: "copyFrom", Target: "/copy", RPC: "copy"},
		{Method: "PUT", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", BodyKey: "from", Target: "/move", RPC: "move"},
		{Method: "PUT", Pattern: "/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}", Target: "/upload", RPC: "upload"},
	})
	tests := []struct {
		name, method, target, body, wantRPC, wantFilePath string
	}{
		{"bare flag", "GET", "/api/v1/file/L/-/a/b.jpg?info", "", "info", "a/b.jpg"},
		{"flag with value", "GET", "/api/v1/file/L/-/a/b.jpg?info=1", "", "info", "a/b.jpg"},
		{"no flag", "GET", "/api/v1/file/L/-/a/b.jpg", "", "download", "a/b.jpg"},
		{"encoded slashes equal literal ones", "GET", "/api/v1/file/L/-/a%2Fb.jpg", "", "download", "a/b.jpg"},
		{"utf-8 and space", "GET", "/api/v1/file/L/-/%E7%9B%B8%E5%86%8C/x%20y.jpg", "", "download", "相册/x y.jpg"},
		{"copy by body key", "PUT", "/api/v1/file/L/-/d.jpg", `{"copyFrom":"s.jpg"}`, "copy", "d.jpg"},
		{"move by body key", "PUT", "/api/v1/file/L/-/d.jpg", `{"from":"s.jpg"}`, "move", "d.jpg"},
		{"upload otherwise", "PUT", "/api/v1/file/L/-/d.jpg", `{"size":"3"}`, "upload", "d.jpg"},
		{"upload without body", "PUT", "/api/v1/file/L/-/d.jpg", "", "upload", "d.jpg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := httptest.NewRequest(tt.method, tt.target, body)
			m, ok := table.Match(r)
			if !ok {
				t.Fatalf("no route")
			}
			if m.Route.RPC != tt.wantRPC || m.Params["FilePath"] != tt.wantFilePath {
				t.Fatalf("got %s %q, want %s %q", m.Route.RPC, m.Params["FilePath"], tt.wantRPC, tt.wantFilePath)
			}
			if tt.body != "" {
				rest, _ := io.ReadAll(r.Body)
				if string(rest) != tt.body {
					t.Fatalf("body not restored: %q", rest)
				}
			}
		})
	}
}

func TestRewriteMovesCredentialsOutOfTheURL(t *testing.T) {
	table := Compile(Routes)
	r := httptest.NewRequest("GET", "/api/v1/token?library_id=smhabc&library_secret=SEKRET&access_token=TOK&user_id=u1&grant=admin", nil)
	r.Header.Set("X-Smh-Library-Secret", "spoofed")
	m, ok := table.Match(r)
	if !ok {
		t.Fatal("no route")
	}
	out := Rewrite(r, m)
	if strings.Contains(out.URL.String(), "SEKRET") || strings.Contains(out.URL.String(), "TOK") {
		t.Fatalf("credential left in URL %s", out.URL)
	}
	if got := out.Header.Get("X-Smh-Library-Secret"); got != "SEKRET" {
		t.Fatalf("secret header = %q", got)
	}
	if got := out.Header.Get("X-Smh-Access-Token"); got != "TOK" {
		t.Fatalf("token header = %q", got)
	}
	if got := out.Header.Get("X-Smh-User-Id"); got != "u1" {
		t.Fatalf("user header = %q", got)
	}
	q := out.URL.Query()
	if q.Get("user_id") != "u1" || q.Get("grant") != "admin" || q.Get("library_id") != "smhabc" {
		t.Fatalf("fields lost from query: %v", q)
	}
	if out.URL.Path != "/_smh/token/create" {
		t.Fatalf("path = %s", out.URL.Path)
	}

	plain := httptest.NewRequest("GET", "/api/v1/token?library_id=smhabc", nil)
	plain.Header.Set("X-Smh-Library-Secret", "spoofed")
	m, _ = table.Match(plain)
	if got := Rewrite(plain, m).Header.Get("X-Smh-Library-Secret"); got != "" {
		t.Fatalf("client-sent credential header kept: %q", got)
	}
}

// BenchmarkMatch matches requests that reach rows late in the table (a share visitor's list, a
// file download), as every API request does twice (Address, then Match).
func BenchmarkMatch(b *testing.B) {
	table := Compile(Routes)
	for _, target := range []string{
		"/api/v1/share/file/abc/12?list&access_token=t",
		"/api/v1/file/smhlib0000000001/-/docs/a.txt?access_token=t",
	} {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if _, ok := table.Match(r); !ok {
			b.Fatalf("%s matches no row", target)
		}
		b.Run(target[:20], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				table.Match(r)
			}
		})
	}
}

// MatchOnce after AddressOnce answers what Match answers, for a request shaped after every row of
// the table (its flags, and for a row that reads the body, a body with its key), so the match
// the gateway remembers while naming the route is never the wrong one.
func TestMatchOnceAgreesWithMatch(t *testing.T) {
	table := Compile(Routes)
	for _, row := range Routes {
		path := row.Pattern
		for _, seg := range strings.Split(strings.TrimPrefix(row.Pattern, "/"), "/") {
			switch {
			case strings.HasSuffix(seg, "...}"):
				path = strings.Replace(path, seg, "dir/file.txt", 1)
			case strings.HasPrefix(seg, "{"):
				path = strings.Replace(path, seg, "p1", 1)
			}
		}
		query := url.Values{}
		for _, f := range row.Flags {
			query.Set(f, "")
		}
		bodies := []string{""}
		if row.Method != http.MethodGet && row.Method != http.MethodHead {
			bodies = []string{"{}"}
			if row.BodyKey != "" {
				bodies = append(bodies, `{"`+row.BodyKey+`":"x"}`)
			}
		}
		for _, body := range bodies {
			newRequest := func() *http.Request {
				var rd io.Reader
				if body != "" {
					rd = strings.NewReader(body)
				}
				return httptest.NewRequest(row.Method, path+"?"+query.Encode(), rd)
			}
			want, wantOK := table.Match(newRequest())
			r, _, _ := table.AddressOnce(newRequest())
			got, gotOK := table.MatchOnce(r)
			if gotOK != wantOK || (wantOK && (got.Route != want.Route || got.Path != want.Path)) {
				t.Fatalf("%s %s body %s: MatchOnce %v %+v, Match %v %+v", row.Method, path, body, gotOK, got.Route, wantOK, want.Route)
			}
		}
	}
}
