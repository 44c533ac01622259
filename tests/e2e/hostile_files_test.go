package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/dataorigin"
)

// Issue 10, item 2: uploaded files never run on our origin. A user with upload_file may store a
// page, an SVG or a script; the data endpoint serves only passive types inline and everything
// else as an opaque attachment, with nosniff and a sandbox policy on every answer, and a
// download origin (--data-url) keeps user bytes off the console's host altogether.

// hostileFile is an upload and how the data endpoint must serve it.
type hostileFile struct {
	name string
	// declared is the Content-Type of the PUT ("" sends none).
	declared string
	data     []byte
	// wantType and wantInline are the Content-Type and disposition of its download.
	wantType   string
	wantInline bool
}

// scriptPage is an HTML page whose script would act as the origin serving it.
const scriptPage = `<!doctype html><html><head><title>innocent</title></head><body>` +
	`<script>document.title = "pwned"; fetch("/admin/v1/libraries", {headers: {Authorization: "Bearer " + sessionStorage.getItem("opensmh.operatorKey")}});</script>` +
	`</body></html>`

func hostileFiles(t *testing.T) []hostileFile {
	const opaque = "application/octet-stream"
	return []hostileFile{
		{name: "page.html", data: []byte(scriptPage), wantType: opaque},
		{name: "logo.svg", declared: "image/svg+xml", data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="document.title='pwned'"><script>document.title="pwned"</script></svg>`), wantType: opaque},
		// The type a client declares wins over the name (contentTypeOf), so this is stored as HTML.
		{name: "notes.txt", declared: "text/html; charset=UTF-8", data: []byte(scriptPage), wantType: opaque},
		{name: "shout.htm", declared: "TEXT/HTML", data: []byte(scriptPage), wantType: opaque},
		{name: "feed.xml", declared: "text/xml", data: []byte(`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><script>document.title="pwned"</script></html>`), wantType: opaque},
		{name: "app.js", data: []byte(`document.title = "pwned";`), wantType: opaque},
		{name: "report.pdf", declared: "application/pdf", data: []byte("%PDF-1.4\n1 0 obj <</OpenAction <</S /JavaScript /JS (app.alert(1))>>>> endobj\n%%EOF\n"), wantType: opaque},
		{name: "photo.jpg", data: jpegBytes(t, 40, 30), wantType: "image/jpeg", wantInline: true},
		// Markup under a picture's name stays a picture: with nosniff the browser shows a broken
		// image and never guesses HTML.
		{name: "fake.jpg", data: []byte(scriptPage), wantType: "image/jpeg", wantInline: true},
		{name: "readme.txt", declared: "text/plain; charset=utf-8", data: []byte("plain words <script>document.title='pwned'</script>\n"), wantType: "text/plain; charset=utf-8", wantInline: true},
	}
}

// uploadAs runs begin, a PUT with the given Content-Type ("" sends none) and confirm.
func (f fileAPI) uploadAs(path, contentType string, data []byte) {
	f.s.t.Helper()
	tk := f.begin(path, nil, nil)
	h := http.Header{}
	for k, v := range tk.Headers {
		h.Set(k, v)
	}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	put := f.s.raw("PUT", "https://"+tk.Domain+tk.Path, bytes.NewReader(data), h)
	if put.Status != http.StatusOK {
		f.s.t.Fatalf("PUT %s: %d %s", path, put.Status, put.Body)
	}
	expectSecurityHeaders(f.s.t, "the upload PUT of "+path, put)
	if r := f.confirm(tk.ConfirmKey, nil, map[string]any{"crc64": crcOf(data)}); r.Status != http.StatusOK {
		f.s.t.Fatalf("confirm %s: %d %s", path, r.Status, r.Body)
	}
}

// cosURL answers a file's signed download URL from ?info (3.9).
func (f fileAPI) cosURL(path string) string {
	f.s.t.Helper()
	r := f.do("GET", path, q("", "info", ""), nil)
	if r.Status != http.StatusOK {
		f.s.t.Fatalf("info %s: %d %s", path, r.Status, r.Body)
	}
	cos, _ := r.JSON(f.s.t)["cosUrl"].(string)
	if cos == "" {
		f.s.t.Fatalf("info %s has no cosUrl: %s", path, r.Body)
	}
	return cos
}

// expectSecurityHeaders checks the headers every answer of the data endpoint carries.
func expectSecurityHeaders(t testing.TB, what string, r response) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"Content-Security-Policy":      "sandbox",
		"Referrer-Policy":              "no-referrer",
		"Cross-Origin-Resource-Policy": "cross-origin",
	} {
		if got := r.Header.Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s is %q, want exactly %q (status %d)", what, k, got, want, r.Status)
		}
	}
}

// expectServedAs checks a download answer's type and disposition (with the file's name).
func expectServedAs(t testing.TB, what string, r response, wantType string, wantInline bool, name string) {
	t.Helper()
	expectSecurityHeaders(t, what, r)
	if got := r.Header.Get("Content-Type"); got != wantType {
		t.Errorf("%s: Content-Type %q, want %q", what, got, wantType)
	}
	disp, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	wantDisp := map[bool]string{true: "inline", false: "attachment"}[wantInline]
	if err != nil || disp != wantDisp || params["filename"] != name {
		t.Errorf("%s: Content-Disposition %q, want %s with filename %q", what, r.Header.Get("Content-Disposition"), wantDisp, name)
	}
}

func TestHostileFilesNeverRenderAsPages(t *testing.T) {
	s := startSystem(t)
	f := fileLibrary(t, s, nil)
	files := hostileFiles(t)
	for _, hf := range files {
		f.uploadAs(hf.name, hf.declared, hf.data)
	}
	for _, hf := range files {
		t.Run(hf.name, func(t *testing.T) {
			s := s.on(t)
			cos := f.cosURL(hf.name)
			get := s.raw("GET", cos, nil, nil)
			if get.Status != http.StatusOK || !bytes.Equal(get.Body, hf.data) {
				t.Fatalf("GET: %d, %d bytes, want 200 with the %d uploaded", get.Status, len(get.Body), len(hf.data))
			}
			expectServedAs(t, "GET", get, hf.wantType, hf.wantInline, hf.name)
			head := s.raw("HEAD", cos, nil, nil)
			if head.Status != http.StatusOK {
				t.Fatalf("HEAD: %d", head.Status)
			}
			expectServedAs(t, "HEAD", head, hf.wantType, hf.wantInline, hf.name)
			part := s.raw("GET", cos, nil, http.Header{"Range": {"bytes=1-4"}})
			if part.Status != http.StatusPartialContent || !bytes.Equal(part.Body, hf.data[1:5]) {
				t.Fatalf("Range GET: %d %q", part.Status, part.Body)
			}
			expectServedAs(t, "Range GET", part, hf.wantType, hf.wantInline, hf.name)

			// The download redirect (3.8) asking for inline changes nothing for an active file.
			loc := f.redirect(hf.name, q("", "content_disposition", "inline"))
			expectServedAs(t, "GET of the download redirect", s.raw("GET", loc, nil, nil), hf.wantType, hf.wantInline, hf.name)
			// A file with no thumbnail previews as itself (3.11): the same rule holds.
			if hf.name != "photo.jpg" {
				expectServedAs(t, "GET of the preview", s.raw("GET", f.redirect(hf.name, q("", "preview", "", "size", "100")), nil, nil),
					hf.wantType, hf.wantInline, hf.name)
			}
		})
	}

	t.Run("thumbnail", func(t *testing.T) {
		s := s.on(t)
		thumb := s.raw("GET", f.redirect("photo.jpg", q("", "preview", "", "size", "20")), nil, nil)
		if thumb.Status != http.StatusOK {
			t.Fatalf("thumbnail: %d %s", thumb.Status, thumb.Body)
		}
		expectServedAs(t, "thumbnail", thumb, "image/jpeg", true, "photo.jpg")
	})

	t.Run("errors and preflights", func(t *testing.T) {
		s := s.on(t)
		cos := f.cosURL("page.html")
		tampered := strings.Replace(cos, "page.html", "other.html", 1)
		for _, method := range []string{"GET", "HEAD"} {
			r := s.raw(method, tampered, nil, nil)
			if r.Status != http.StatusForbidden {
				t.Fatalf("%s of a tampered URL: %d", method, r.Status)
			}
			expectSecurityHeaders(t, method+" of a tampered URL", r)
			if r.Header.Get("Content-Disposition") != "" || r.Header.Get("Content-Type") != "application/xml" {
				t.Errorf("%s of a tampered URL: Content-Type %q, Content-Disposition %q", method, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"))
			}
		}
		expectXML(t, s.raw("GET", tampered, nil, nil), http.StatusForbidden, "SignatureDoesNotMatch")
		pre := s.raw("OPTIONS", cos, nil, http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"GET"}})
		if pre.Status != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Fatalf("preflight: %d %v", pre.Status, pre.Header)
		}
		expectSecurityHeaders(t, "a preflight", pre)
		tk := f.begin("late.bin", nil, nil)
		bad := s.raw("PUT", "https://"+tk.Domain+tk.Path, strings.NewReader("x"), nil)
		if bad.Status != http.StatusForbidden {
			t.Fatalf("PUT without the ticket's signature: %d", bad.Status)
		}
		expectSecurityHeaders(t, "a refused upload", bad)
		wrong := s.raw("DELETE", cos, nil, nil)
		expectSecurityHeaders(t, "a refused method", wrong)
	})

	t.Run("gateway answers", func(t *testing.T) {
		s := s.on(t)
		for _, r := range []struct {
			what string
			resp response
		}{
			{"an SMH error", f.as("not-a-token").do("GET", "page.html", nil, nil)},
			{"a JSON answer", f.do("GET", "page.html", q("", "info", ""), nil)},
			{"an unknown route", s.call("GET", "/nowhere", nil, nil, nil)},
			{"an admin answer", s.admin("GET", "/admin/v1/libraries", nil)},
			{"the console", s.call("GET", "/console/", nil, nil, nil)},
		} {
			if got := r.resp.Header.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
				t.Errorf("%s (%d): X-Content-Type-Options %q, want exactly nosniff", r.what, r.resp.Status, got)
			}
		}
	})
}

// dataHost is the download origin's name in the tests: not localhost, so that the local
// certificate must name it.
const dataHost = "data.opensmh.test"

func TestDownloadOrigin(t *testing.T) {
	s := startSystemWith(t, systemOptions{DataHost: dataHost})
	api, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	data := "https://" + dataHost + ":" + api.Port()
	f := fileLibrary(t, s, nil)
	page := []byte(scriptPage)

	// Tickets name the download origin, and the bytes go there.
	tk := f.begin("page.html", nil, nil)
	if tk.Domain != dataHost+":"+api.Port() {
		t.Fatalf("ticket domain %q, want %s:%s", tk.Domain, dataHost, api.Port())
	}
	if r := f.send(tk, "", page); r.Status != http.StatusOK {
		t.Fatalf("PUT to the download origin: %d %s", r.Status, r.Body)
	}
	if r := f.confirm(tk.ConfirmKey, nil, nil); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	f.upload("photo.jpg", jpegBytes(t, 40, 30), nil)

	// cosUrls and the download and preview redirects name it.
	urls := map[string]string{
		"cosUrl":            f.cosURL("page.html"),
		"download redirect": f.redirect("page.html", nil),
		"preview redirect":  f.redirect("photo.jpg", q("", "preview", "", "size", "20")),
	}
	for what, u := range urls {
		if !strings.HasPrefix(u, data+"/") {
			t.Fatalf("%s %s does not name the download origin %s", what, u, data)
		}
		r := s.raw("GET", u, nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET the %s: %d %s", what, r.Status, r.Body)
		}
		expectSecurityHeaders(t, what, r)
	}
	expectServedAs(t, "the page's download", s.raw("GET", urls["cosUrl"], nil, nil), "application/octet-stream", false, "page.html")

	// The API host serves no user bytes: downloads, uploads and form posts there are refused.
	onAPI := strings.Replace(urls["cosUrl"], data, s.url, 1)
	for _, method := range []string{"GET", "HEAD"} {
		r := s.raw(method, onAPI, nil, nil)
		if r.Status != http.StatusNotFound || len(r.Body) != 0 && !strings.Contains(string(r.Body), `"RouteNotFound"`) {
			t.Errorf("%s of a download on the API host: %d %s, want 404 RouteNotFound", method, r.Status, r.Body)
		}
	}
	expectError(t, s.raw("GET", onAPI, nil, nil), http.StatusNotFound, "RouteNotFound")
	tk2 := f.begin("late.html", nil, nil)
	h := http.Header{}
	for k, v := range tk2.Headers {
		h.Set(k, v)
	}
	expectError(t, s.raw("PUT", s.url+tk2.Path, bytes.NewReader(page), h), http.StatusNotFound, "RouteNotFound")
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("key", "x")
	_ = mw.Close()
	expectError(t, s.raw("POST", s.url+"/", &form, http.Header{"Content-Type": {mw.FormDataContentType()}}), http.StatusNotFound, "RouteNotFound")
	if r := f.send(tk2, "", page); r.Status != http.StatusOK {
		t.Fatalf("the refused PUT spent the ticket: PUT to the download origin answers %d %s", r.Status, r.Body)
	}

	// The download origin serves nothing but the data endpoint: no console, API, admin API or
	// health report, and no redirect to the console.
	token := f.token
	for _, path := range []string{"/", "/console/", "/console/index.html", "/console/js/api.js", "/api/v1/token?library_id=" + f.lib + "&library_secret=" + url.QueryEscape(f.library.Secret),
		"/api/v1/file/" + f.lib + "/-/page.html?access_token=" + token, "/admin/v1/libraries", "/healthz", "/livez", "/data/", "/data/x/y"} {
		r := s.raw("GET", data+path, nil, http.Header{"Authorization": {"Bearer " + s.adminKey}})
		if path == "/data/" || path == "/data/x/y" {
			// Data paths reach the data endpoint, which refuses what is no download.
			if r.Status < 400 || r.Status >= 500 {
				t.Errorf("GET %s on the download origin: %d, want a 4xx", path, r.Status)
			}
			expectSecurityHeaders(t, "GET "+path+" on the download origin", r)
			continue
		}
		expectError(t, r, http.StatusNotFound, "RouteNotFound")
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s on the download origin: X-Content-Type-Options %q", path, got)
		}
	}
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		expectError(t, s.raw(method, data+"/admin/v1/libraries", strings.NewReader(`{"name":"x"}`), http.Header{"Authorization": {"Bearer " + s.adminKey}}),
			http.StatusNotFound, "RouteNotFound")
	}
	// gRPC callers reach the services on the API host only.
	pool, err := tlsx.CertPool(s.server().CACert)
	if err != nil {
		t.Fatal(err)
	}
	dial := dataorigin.LoopbackDialer(dataHost)
	conn, err := grpc.NewClient("passthrough:///"+dataHost+":"+api.Port(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return dial(ctx, "tcp", addr) }))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	check := &healthpb.HealthCheckRequest{}
	if _, err := healthpb.NewHealthClient(s.grpcConn(t)).Check(t.Context(), check); err != nil {
		t.Fatalf("gRPC health on the API host: %v", err)
	}
	if resp, err := healthpb.NewHealthClient(conn).Check(t.Context(), check); status.Code(err) != codes.Unimplemented {
		t.Errorf("gRPC health on the download origin: %v %v, want Unimplemented (HTTP 404)", resp, err)
	}
	if n := s.totalCount(t); n != 1 {
		t.Errorf("%v libraries after the admin calls to the download origin, want the 1 made here", n)
	}

	// An album's cover (4.8) redirects there too.
	g := mediaLibrary(t, s, nil)
	g.upload("only.png", pngBytes(t, 40, 40), nil)
	cover := s.call("GET", "/api/v1/album/"+g.lib+"/-/cover", g.query(q("", "size", "16")), nil, nil)
	if loc := cover.Header.Get("Location"); cover.Status != http.StatusFound || !strings.HasPrefix(loc, data+"/") {
		t.Fatalf("album cover: %d at %q, want a 302 to the download origin %s", cover.Status, loc, data)
	} else {
		expectServedAs(t, "the album cover", s.raw("GET", loc, nil, nil), "image/jpeg", true, "only.png")
	}

	// The console's policy lets its pages load thumbnails from and upload to the download origin.
	csp := s.call("GET", "/console/", nil, nil, nil).Header.Get("Content-Security-Policy")
	for _, directive := range []string{"img-src", "media-src", "connect-src"} {
		if !strings.Contains(csp, directive+" 'self' "+s.url+" "+data) {
			t.Errorf("console CSP %q: %s does not allow %s", csp, directive, data)
		}
	}
}
