package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSharePageServed: the gateway serves the share visitor page at /s/{code} and its files under
// /share-page/ with the console's headers; its policy lets previews and downloads come from the
// download origin; the download origin itself serves neither (docs/shares.md, "The visitor page").
func TestSharePageServed(t *testing.T) {
	s := startSystemWith(t, systemOptions{DataHost: dataHost})
	api, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	data := "https://" + dataHost + ":" + api.Port()

	page := s.raw("GET", s.url+"/s/AnyCode_123-x", nil, nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `src="/share-page/js/main.js"`) {
		t.Fatalf("GET /s/AnyCode_123-x: %d %.200s", page.Status, page.Body)
	}
	csp := page.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
		"img-src 'self' " + s.url + " " + data, "media-src 'self' " + s.url + " " + data, "connect-src 'self' " + s.url + " " + data} {
		if !strings.Contains(csp, want) {
			t.Errorf("share page CSP %q lacks %q", csp, want)
		}
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if got := page.Header.Get(k); got != want {
			t.Errorf("share page %s %q, want %q", k, got, want)
		}
	}
	if r := s.raw("GET", s.url+"/share-page/js/main.js", nil, nil); r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("GET /share-page/js/main.js: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	// A path that is no share link, and a write, are refused.
	for _, p := range []string{"/s/", "/s/a/b", "/share-page/index.html", "/share-page/nothing.js"} {
		if r := s.raw("GET", s.url+p, nil, nil); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.Status)
		}
	}
	if r := s.raw("POST", s.url+"/s/abc", strings.NewReader("x"), nil); r.Status/100 != 4 {
		t.Errorf("POST /s/abc: %d, want a 4xx", r.Status)
	}

	// The download origin serves user bytes only: no share page there.
	for _, p := range []string{"/s/AnyCode_123-x", "/share-page/js/main.js"} {
		expectError(t, s.raw("GET", data+p, nil, nil), http.StatusNotFound, "RouteNotFound")
	}
}
