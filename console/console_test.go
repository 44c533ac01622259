package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestServesTheConsole(t *testing.T) {
	h := Handler("https://smh.example.com:8443")
	cases := []struct {
		path, contentType, contains string
	}{
		{"/console/", "text/html", `<script type="module" src="js/main.js">`},
		{"/console/index.html", "text/html", `id="signin"`},
		{"/console/console.css", "text/css", "--accent"},
		{"/console/js/main.js", "text/javascript", "import"},
		{"/console/favicon.svg", "image/svg+xml", "<svg"},
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
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self' https://smh.example.com:8443", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", c.path, csp, want)
			}
		}
		if resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", c.path, resp.Header)
		}
	}
}

func TestRevalidatesWithETag(t *testing.T) {
	h := Handler()
	first := get(t, h, "GET", "/console/js/api.js", nil)
	etag := first.Header.Get("ETag")
	if etag == "" || first.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, first.Header.Get("Cache-Control"))
	}
	again := get(t, h, "GET", "/console/js/api.js", http.Header{"If-None-Match": {etag}})
	if again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d, want 304", again.StatusCode)
	}
}

func TestRefusesWhatIsNotThere(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/console/missing.js", "/console/../console.go", "/console/js/"} {
		if resp := get(t, h, "GET", path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp := get(t, h, "POST", "/console/", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}

// The console may load nothing from elsewhere (issue: no external network requests): no
// absolute URLs in its markup, styles or scripts, and no inline script the CSP would block.
func TestNoExternalReferences(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//|fetch\(\s*["']https?:`)
	inlineScript := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	files, err := static.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, "static/"+f.Name())
	}
	js, _ := static.ReadDir("static/js")
	for _, f := range js {
		names = append(names, "static/js/"+f.Name())
	}
	for _, name := range names {
		if strings.HasSuffix(name, "/js") {
			continue
		}
		b, err := static.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s refers to another origin: %q", name, m)
		}
		if strings.HasSuffix(name, ".html") && inlineScript.Match(b) {
			t.Errorf("%s has an inline script", name)
		}
		if strings.HasSuffix(name, ".html") && regexp.MustCompile(`\son[a-z]+\s*=`).Match(b) {
			t.Errorf("%s has an inline event handler", name)
		}
	}
}

// Every key the console uses exists in both languages.
func TestBothLanguagesHaveEveryKey(t *testing.T) {
	src, err := static.ReadFile("static/js/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	en, zh, ok := strings.Cut(string(src), `"zh-CN": {`)
	if !ok {
		t.Fatal("i18n.js: no zh-CN block")
	}
	keyRE := regexp.MustCompile(`(?m)^\s{4}(\w+):`)
	keys := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, k := range keyRE.FindAllStringSubmatch(s, -1) {
			m[k[1]] = true
		}
		return m
	}
	enKeys, zhKeys := keys(en), keys(zh)
	if len(enKeys) < 50 {
		t.Fatalf("found only %d English keys: the parsing is off", len(enKeys))
	}
	for k := range enKeys {
		if !zhKeys[k] {
			t.Errorf("key %s has no Chinese text", k)
		}
	}
	for k := range zhKeys {
		if !enKeys[k] {
			t.Errorf("key %s has no English text", k)
		}
	}
	// Keys used by the markup and the scripts (every script but i18n.js itself).
	sources := []string{"static/index.html"}
	scripts, err := static.ReadDir("static/js")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range scripts {
		if f.Name() != "i18n.js" {
			sources = append(sources, "static/js/"+f.Name())
		}
	}
	if len(sources) < 7 {
		t.Fatalf("found only %d sources: the listing is off", len(sources))
	}
	used := map[string]bool{}
	for _, re := range []*regexp.Regexp{regexp.MustCompile(`data-i18n(?:-label)?="(\w+)"`), regexp.MustCompile(`\bt\("(\w+)"`)} {
		for _, name := range sources {
			b, err := static.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				used[m[1]] = true
			}
		}
	}
	for k := range used {
		if !enKeys[k] {
			t.Errorf("key %s is used but not defined", k)
		}
	}
}
