package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// Issue 10, item 2: an uploaded file opened through its download URL runs no script, neither on
// the console's origin nor on a download origin of its own (--data-url). The files' scripts
// report to a recorder over the network, rename the page and mark the origin's storage; a run
// of any of them fails the test.

// recorder counts the requests an uploaded file's script sends it.
type recorder struct {
	srv    *httptest.Server
	mu     sync.Mutex
	hits   []string
	notify func()
}

func startRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{notify: func() {}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.hits = append(r.hits, req.URL.RawQuery)
		notify := r.notify
		r.mu.Unlock()
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusNoContent)
		notify()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// onHit sets what runs when a hit arrives (to end a wait early).
func (r *recorder) onHit(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notify = f
}

func (r *recorder) recorded() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.hits...)
}

// payload is the script an uploaded file carries: it tells the recorder whether it could read
// the console's operator key, renames the page and marks the origin's storage.
func payload(rec *recorder) string {
	return `document.title = "pwned";
try { localStorage.setItem("pwned", location.origin); sessionStorage.setItem("pwned", location.origin); } catch (e) {}
let key = "unreadable";
try { key = sessionStorage.getItem("opensmh.operatorKey") ? "read" : "absent"; } catch (e) {}
fetch(` + js(rec.srv.URL+"/hit?") + ` + new URLSearchParams({origin: location.origin, key}), {mode: "no-cors"});`
}

// hostileUpload is a file a user with upload_file stores, and what opening it must do.
type hostileUpload struct {
	name, declared string
	data           []byte
	// download: the browser must save it; otherwise it shows in place as contentType, and
	// shows is what must hold in the page then (a JavaScript expression).
	download    bool
	contentType string
	shows       string
}

func hostileUploads(t *testing.T, rec *recorder) []hostileUpload {
	script := payload(rec)
	page := []byte(`<!doctype html><html><head><title>innocent</title></head><body><h1>Sign in again</h1><script>` + script + `</script></body></html>`)
	return []hostileUpload{
		{name: "page.html", data: page, download: true},
		// The type a client declares wins over the name, so this one is stored as HTML.
		{name: "invoice.txt", declared: "text/html", data: page, download: true},
		{name: "logo.svg", declared: "image/svg+xml", download: true,
			data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>` + script + `</script></svg>`)},
		{name: "feed.xml", declared: "application/xhtml+xml", download: true,
			data: []byte(`<html xmlns="http://www.w3.org/1999/xhtml"><body><script>` + script + `</script></body></html>`)},
		// Passive types show in place, and their markup stays text or a broken picture, while a
		// real picture still shows under the sandbox policy.
		{name: "readme.txt", declared: "text/plain", data: page, contentType: "text/plain",
			shows: `document.body.textContent.includes("<script>")`},
		{name: "fake.jpg", data: page, contentType: "image/jpeg",
			shows: `document.images.length === 1 && document.images[0].complete && document.images[0].naturalWidth === 0`},
		{name: "sunset.png", data: testPNG(t), contentType: "image/png",
			shows: `document.images.length === 1 && document.images[0].complete && document.images[0].naturalWidth === 160`},
	}
}

func TestUploadedFilesRunNoScript(t *testing.T) {
	exe := requireChromium(t)
	for _, tt := range []struct {
		name     string
		dataHost string
	}{
		{"ConsoleOrigin", ""},
		{"DownloadOrigin", "localhost"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startSystemWith(t, systemOptions{DataHost: tt.dataHost})
			b := startBrowser(t, s, exe)
			p := b.on(t)
			rec := startRecorder(t)
			lib := s.createLibrary(t, "Hostile uploads", map[string]any{"isFileLibrary": true})
			st, token := s.mint(t, lib.LibraryID, s.secret(t, lib.LibraryID))
			if st != http.StatusOK {
				t.Fatalf("mint: %d", st)
			}
			files := hostileUploads(t, rec)
			for _, f := range files {
				s.upload(t, lib, token, f.name, f.declared, f.data)
			}

			// The operator is signed in: the console's origin holds the key in this tab.
			p.load("/libraries?page=1")
			for _, f := range files {
				link := s.srv.URL + "/api/v1/file/" + lib.LibraryID + "/-/" + url.PathEscape(f.name) + "?access_token=" + url.QueryEscape(token)
				if f.download {
					if got := p.openAsDownload(f.name, link, rec); !bytes.Equal(got, f.data) {
						t.Errorf("%s: the browser saved %d bytes, want the %d uploaded", f.name, len(got), len(f.data))
					}
				} else {
					p.do("open "+f.name, chromedp.Navigate(link))
					if got := query[string](p, "document.contentType"); got != f.contentType {
						t.Errorf("%s shows as %q, want %q", f.name, got, f.contentType)
					}
					p.wait(f.name+" to show as "+f.contentType+" ("+f.shows+")", f.shows)
					if title := query[string](p, "document.title"); title == "pwned" {
						t.Errorf("%s: the page's script ran (title %q)", f.name, title)
					}
					p.load("/libraries?page=1")
				}
				if hits := rec.recorded(); len(hits) > 0 {
					t.Fatalf("opening %s ran its script: the recorder got %q", f.name, hits)
				}
			}

			// Back on the console: its storage is untouched and the operator still signed in.
			p.load("/libraries?page=1")
			marks := query[string](p, `JSON.stringify([localStorage.getItem("pwned"), sessionStorage.getItem("pwned")])`)
			if marks != "[null,null]" {
				t.Errorf("an uploaded file's script wrote into the console origin's storage: %s", marks)
			}
			if !query[bool](p, `!!sessionStorage.getItem("opensmh.operatorKey")`) {
				t.Error("the operator key is gone from the console's session")
			}
			if title := query[string](p, "document.title"); title == "pwned" {
				t.Error("the console's title was changed by an uploaded file")
			}
			if hits := rec.recorded(); len(hits) > 0 {
				t.Errorf("the recorder got %q: a script ran", hits)
			}
			if tt.dataHost != "" {
				p.checkConsoleUsesDownloadOrigin(s)
			}
		})
	}
}

// upload stores a file in a single-tenant space through the public API: begin (3.1), a PUT of
// the bytes with contentType ("" sends none) to the ticket's target, confirm.
func (s *system) upload(t testing.TB, lib library, token, name, contentType string, data []byte) {
	t.Helper()
	file := "/api/v1/file/" + lib.LibraryID + "/-/" + url.PathEscape(name)
	r := s.call(t, "PUT", file+"?access_token="+url.QueryEscape(token), nil, nil)
	var tk struct {
		Domain     string            `json:"domain"`
		Path       string            `json:"path"`
		Headers    map[string]string `json:"headers"`
		ConfirmKey string            `json:"confirmKey"`
	}
	if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &tk) != nil {
		t.Fatalf("begin %s: %d %s", name, r.Status, r.Body)
	}
	req, err := http.NewRequestWithContext(t.Context(), "PUT", "https://"+tk.Domain+tk.Path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range tk.Headers {
		req.Header.Set(k, v)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %d", name, resp.StatusCode)
	}
	confirm := "/api/v1/file/" + lib.LibraryID + "/-/" + url.PathEscape(tk.ConfirmKey) + "?confirm&access_token=" + url.QueryEscape(token)
	if r := s.call(t, "POST", confirm, nil, nil); r.Status != http.StatusOK {
		t.Fatalf("confirm %s: %d %s", name, r.Status, r.Body)
	}
}

// openAsDownload sends the tab to link (the download URL of the file name) as a person opening
// it would, and answers the bytes the browser saved. It fails at once when the recorder hears
// from a script instead. Messages name the file, not the link: it carries a token.
func (p *page) openAsDownload(name, link string, rec *recorder) []byte {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.tab, actionTimeout)
	defer cancel()
	rec.onHit(cancel)
	defer rec.onHit(func() {})
	return p.saveDownload(ctx, name, func() { eval[chromedp.Void](p, "location.href = "+js(link)) }, func(err error) {
		if hits := rec.recorded(); len(hits) > 0 {
			p.t.Fatalf("opening %s ran the file's script: the recorder got %q", name, hits)
		}
		p.t.Fatalf("waiting for the browser to save %s: %v (the page shows %q)%s", name, err, query[string](p, "document.contentType+' '+document.title"), p.diagnose())
	})
}

// checkConsoleUsesDownloadOrigin uploads a picture through the console and waits for its
// thumbnail: the console's policy lets it send bytes to the download origin (the upload's
// request is listed under that origin) and show the thumbnail it redirects to there.
func (p *page) checkConsoleUsesDownloadOrigin(s *system) {
	p.t.Helper()
	lib := s.createLibrary(p.t, "Photos elsewhere", nil)
	p.load("/library/" + lib.LibraryID)
	p.waitVisible("#browser")
	local := filepath.Join(p.t.TempDir(), "sunset.png")
	if err := os.WriteFile(local, testPNG(p.t), 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.upload(local)
	row := fileRow("sunset.png")
	p.waitVisible(row)
	p.wait("the row's img.thumb to load", `(() => { const i = $(`+js(row+" img.thumb")+`); return !!i && i.complete && i.naturalWidth > 0; })()`)
	data := strings.TrimSuffix(s.srv.URL, "/")
	data = "https://localhost:" + data[strings.LastIndex(data, ":")+1:] + "/"
	loaded := query[[]string](p, `performance.getEntriesByType("resource").map((e) => e.name)`)
	from := 0
	for _, u := range loaded {
		if strings.HasPrefix(u, data) {
			from++
		}
	}
	if from == 0 {
		p.t.Errorf("the console loaded nothing from the download origin %s: %s", data, fmt.Sprint(loaded))
	}
}
