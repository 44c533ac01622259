package console

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestServesTheSharePage(t *testing.T) {
	h := SharePageHandler("https://smh.example.com:8443", "https://dl.example.net")
	cases := []struct {
		path, contentType, contains string
	}{
		{"/s/Ab3_x-9", "text/html", `<script type="module" src="/share-page/js/main.js">`},
		{"/s/%E4%B8%AD", "text/html", `id="code-form"`},
		{"/share-page/share.css", "text/css", "#entries"},
		{"/share-page/js/main.js", "text/javascript", "import"},
		{"/share-page/js/api.js", "text/javascript", "verify"},
		{"/share-page/favicon.svg", "image/svg+xml", "<svg"},
	}
	for _, c := range cases {
		resp := get(t, h, "GET", c.path, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", c.path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", c.path, ct, c.contentType)
		}
		if !strings.Contains(string(body), c.contains) {
			t.Errorf("GET %s: body lacks %q", c.path, c.contains)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
			"connect-src 'self' https://smh.example.com:8443 https://dl.example.net", "media-src 'self' https://smh.example.com:8443 https://dl.example.net"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", c.path, csp, want)
			}
		}
		if resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
			resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: headers %v", c.path, resp.Header)
		}
	}
}

// The page has no inline script or style: the CSP would refuse them.
func TestSharePageHasNothingInline(t *testing.T) {
	body, err := sharePage.ReadFile("sharepage/index.html")
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onload=", " onerror=", "javascript:", "<iframe"} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
}

func TestSharePageRefusesWhatIsNotThere(t *testing.T) {
	h := SharePageHandler()
	for _, path := range []string{"/s/", "/s/a/b", "/s/" + strings.Repeat("x", 129), "/share-page/", "/share-page/index.html",
		"/share-page/missing.js", "/share-page/../console.go"} {
		if resp := get(t, h, "GET", path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp := get(t, h, "POST", "/s/abc", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}
