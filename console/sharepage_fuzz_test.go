package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSharePagePath: whatever path a request names, the share page handler answers the page
// (only for /s/<one segment of at most 128 bytes>), one of its files, or 404, always with the
// page's headers on a 200, and never serves the index under the files' prefix.
func FuzzSharePagePath(f *testing.F) {
	for _, seed := range []string{"/s/abc", "/s/", "/s/a/b", "/s/%2F", "/share-page/js/main.js", "/share-page/index.html",
		"/share-page/../console.go", "/share-page/", "/s/" + strings.Repeat("x", 129), "/s/\x00", "/elsewhere"} {
		f.Add(seed)
	}
	h := SharePageHandler("https://smh.example.com")
	f.Fuzz(func(t *testing.T, path string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = path
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNotFound:
		case http.StatusOK:
			if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src 'self'") || rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Fatalf("GET %q: 200 without the page's headers: %v", path, rec.Header())
			}
			isLink := strings.HasPrefix(path, ShareLinkPrefix)
			code := strings.TrimPrefix(path, ShareLinkPrefix)
			if isLink && (code == "" || len(code) > maxShareCodeSize || strings.Contains(code, "/")) {
				t.Fatalf("GET %q: 200 for a path that is no share link", path)
			}
			if !isLink && (!strings.HasPrefix(path, SharePageAssets) || path == SharePageAssets+sharePageIndex) {
				t.Fatalf("GET %q: 200 outside the page's paths", path)
			}
		default:
			t.Fatalf("GET %q: %d", path, rec.Code)
		}
	})
}
