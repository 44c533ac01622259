package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/storetest"
	"github.com/opensmh/opensmh/services/object"
	"github.com/opensmh/opensmh/services/smh/server"
)

// A share visitor's bytes over real HTTPS (SMH API 13.11, docs/shares.md "Visitor bytes:
// preview, download, zip"): the visitor verifies, lists, then previews and downloads with the
// share access token; the 302 leads to the data endpoint's short-lived signed URL. Counters and
// limits, capabilities off, chains outside the share, foreign and expired tokens, the folder
// zip (every byte compared) and a zip cut by a share disabled mid-way.

func TestShareFetch(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			s := startSystemWith(t, systemOptions{DSN: e.DSN(t), Tune: func(o *server.Options) {
				// Re-check the share before every file after the first, so that a share
				// disabled while its zip streams cuts it at the next file.
				o.ShareZipLimits = object.ShareZipLimits{RecheckBytes: 1}
			}})
			testShareFetch(t, s)
		})
	}
}

// visitor is a share visitor with a share access token.
type visitor struct {
	s     *system
	code  string
	token string
}

// shareOwner creates shares in one library.
type shareOwner struct {
	f fileAPI
}

// create shares paths with config and answers the share's id and code.
func (o shareOwner) create(t *testing.T, name string, paths []string, config map[string]any) (id, code string) {
	t.Helper()
	r := o.f.s.call("POST", "/api/v1/share/"+o.f.lib+"/"+o.f.space, q(o.f.token), map[string]any{"name": name, "filePath": paths, "config": config}, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("create share %s: %d %s", name, r.Status, r.Body)
	}
	m := r.JSON(t)
	id, _ = m["id"].(string)
	code, _ = m["code"].(string)
	if id == "" || code == "" {
		t.Fatalf("create share answer %s", r.Body)
	}
	return id, code
}

func (o shareOwner) setEnabled(t *testing.T, id string, enabled bool) {
	t.Helper()
	r := o.f.s.call("POST", "/api/v1/share/"+o.f.lib+"/"+id, q(o.f.token, "setEnabled", ""), map[string]any{"ownerEnabled": enabled}, nil)
	if r.Status != http.StatusNoContent {
		t.Fatalf("setEnabled %v: %d %s", enabled, r.Status, r.Body)
	}
}

// visit verifies the share's (empty) extraction code and answers a visitor.
func visit(t *testing.T, s *system, code string) visitor {
	t.Helper()
	r := s.call("POST", "/api/v1/share/verify/"+code, nil, map[string]any{"extractionCode": ""}, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("verify %s: %d %s", code, r.Status, r.Body)
	}
	token, _ := r.JSON(t)["accessToken"].(string)
	if token == "" {
		t.Fatalf("verify answer %s", r.Body)
	}
	return visitor{s: s, code: code, token: token}
}

// path answers the visitor route of a chain, the chain as the SDK sends it: one segment, "/"
// encoded as %2F (13.10).
func (v visitor) path(chain ...string) string {
	return "/api/v1/share/file/" + v.code + "/" + url.PathEscape(strings.Join(chain, "/"))
}

func (v visitor) get(flag string, chain ...string) response {
	v.s.t.Helper()
	return v.s.call("GET", v.path(chain...), q(v.token, flag, ""), nil, nil)
}

// inodes answers the inode of each name listed at chain.
func (v visitor) inodes(t *testing.T, chain ...string) map[string]string {
	t.Helper()
	r := v.s.call("GET", v.path(chain...), q(v.token, "list", "", "limit", "100"), nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list %v: %d %s", chain, r.Status, r.Body)
	}
	out := map[string]string{}
	for _, it := range contents(t, r) {
		out[it["name"].(string)] = it["inode"].(string)
	}
	return out
}

// follow answers the bytes behind a 302 of a visitor route.
func (v visitor) follow(t *testing.T, r response, header http.Header) response {
	t.Helper()
	if r.Status != http.StatusFound || r.Header.Get("Location") == "" {
		t.Fatalf("want a 302, got %d %s", r.Status, r.Body)
	}
	return v.s.raw("GET", r.Header.Get("Location"), nil, header)
}

func testShareFetch(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	owner := shareOwner{f: f}
	f.dir().mkdirs(t, f.token, []string{"docs/sub", "docs/empty", "pics", "private"})
	readme := []byte("hello, visitor\n")
	deep := randomBytes(t, 300_000)
	photo := jpegBytes(t, 300, 200)
	single := randomBytes(t, 4096)
	f.upload("docs/readme.txt", readme, nil)
	f.upload("docs/sub/deep.bin", deep, nil)
	f.upload("pics/cat.jpg", photo, nil)
	f.upload("single.bin", single, nil)
	f.upload("private/secret.txt", []byte("not shared"), nil)
	if r := f.do("PUT", "docs/virtual.txt", q("", "virtual_file", ""), map[string]any{"contentType": "text/plain", "size": "10"}); r.Status != http.StatusOK {
		t.Fatalf("virtual file: %d %s", r.Status, r.Body)
	}
	report := []byte("%PDF-1.4 not really")
	f.upload("docs/report.pdf", report, nil)
	// The owner's custom metadata stays the owner's: a visitor's download does not carry it.
	if r := f.doWith("PUT", "docs/noted.txt", nil, nil, http.Header{"X-Smh-Meta-Note": {"private"}}); r.Status != http.StatusCreated {
		t.Fatalf("begin: %d %s", r.Status, r.Body)
	} else {
		var tk ticket
		if err := json.Unmarshal(r.Body, &tk); err != nil {
			t.Fatal(err)
		}
		if put := f.send(tk, "", readme); put.Status != http.StatusOK {
			t.Fatalf("PUT: %d %s", put.Status, put.Body)
		}
		if c := f.confirm(tk.ConfirmKey, nil, map[string]any{"crc64": crcOf(readme)}); c.Status != http.StatusOK {
			t.Fatalf("confirm: %d %s", c.Status, c.Body)
		}
	}

	shareID, code := owner.create(t, "holiday", []string{"docs", "pics"}, map[string]any{"isPermanent": true, "canPreview": true, "canDownload": true})
	v := visit(t, s, code)
	root := v.inodes(t)
	docs, pics := root["docs"], root["pics"]
	inDocs := v.inodes(t, docs)
	readmeInode, sub, empty := inDocs["readme.txt"], inDocs["sub"], inDocs["empty"]
	deepInode := v.inodes(t, docs, sub)["deep.bin"]
	catInode := v.inodes(t, pics)["cat.jpg"]

	t.Run("download byte-identical, attachment, Range", func(t *testing.T) {
		s := s.on(t)
		r := v.get("download", docs, sub, deepInode)
		got := v.follow(t, r, nil)
		if got.Status != http.StatusOK || !bytes.Equal(got.Body, deep) {
			t.Fatalf("download: %d, %d bytes, want the %d uploaded", got.Status, len(got.Body), len(deep))
		}
		expectServedAs(t, "shared download", got, "application/octet-stream", false, "deep.bin")
		if r.Header.Get("x-smh-size") != "300000" || r.Header.Get("x-smh-crc64") != crcOf(deep) {
			t.Fatalf("x-smh-size %q, x-smh-crc64 %q", r.Header.Get("x-smh-size"), r.Header.Get("x-smh-crc64"))
		}
		noted := v.get("download", docs, inDocs["noted.txt"])
		if m := metaHeaders(noted.Header); noted.Status != http.StatusFound || len(m) != 0 {
			t.Fatalf("a visitor's download: %d with the owner's metadata %v", noted.Status, m)
		}
		if m := metaHeaders(f.do("GET", "docs/noted.txt", nil, nil).Header); len(m) != 1 {
			t.Fatalf("the owner's download carries %v, want the note", m)
		}
		ranged := s.raw("GET", r.Header.Get("Location"), nil, http.Header{"Range": {"bytes=1000-1999"}})
		if ranged.Status != http.StatusPartialContent || !bytes.Equal(ranged.Body, deep[1000:2000]) {
			t.Fatalf("Range: %d, %d bytes", ranged.Status, len(ranged.Body))
		}
		// internal_domain is accepted, 0 or 1 (one domain here).
		for _, d := range []string{"0", "1"} {
			r := s.call("GET", v.path(docs, readmeInode), q(v.token, "download", "", "internal_domain", d), nil, nil)
			if got := v.follow(t, r, nil); !bytes.Equal(got.Body, readme) {
				t.Fatalf("internal_domain=%s: %q", d, got.Body)
			}
		}
		// The chain may also arrive with literal slashes.
		lit := s.call("GET", "/api/v1/share/file/"+code+"/"+docs+"/"+readmeInode, q(v.token, "download", ""), nil, nil)
		if got := v.follow(t, lit, nil); !bytes.Equal(got.Body, readme) {
			t.Fatalf("download by a literal chain: %q", got.Body)
		}
	})

	t.Run("preview: thumbnail of an image, a document inline", func(t *testing.T) {
		s := s.on(t)
		r := s.call("GET", v.path(pics, catInode), q(v.token, "preview", "", "size", "64"), nil, nil)
		thumb := v.follow(t, r, nil)
		if format, size := picture(t, thumb.Body); format != "jpeg" || size.X != 64 || size.Y != 64 {
			t.Fatalf("thumbnail %s %v", format, size)
		}
		if !strings.Contains(urlPath(t, r.Header.Get("Location")), "/thumbs/") {
			t.Fatalf("preview of an image at %s, want a thumbnail", r.Header.Get("Location"))
		}
		expectServedAs(t, "shared thumbnail", thumb, "image/jpeg", true, "cat.jpg")
		doc := v.follow(t, v.get("preview", docs, readmeInode), nil)
		if !bytes.Equal(doc.Body, readme) {
			t.Fatalf("document preview %q", doc.Body)
		}
		expectServedAs(t, "shared document preview", doc, "text/plain; charset=utf-8", true, "readme.txt")
		// A file the data endpoint would only hand out as an attachment is no preview: it
		// would be a download, which canPreview alone does not grant.
		expectError(t, v.get("preview", docs, inDocs["report.pdf"]), http.StatusForbidden, "CannotPreview")
		if got := v.follow(t, v.get("download", docs, inDocs["report.pdf"]), nil); !bytes.Equal(got.Body, report) {
			t.Fatalf("download of the PDF: %q", got.Body)
		}
	})

	t.Run("bad chains", func(t *testing.T) {
		s := s.on(t)
		expectError(t, v.get("download"), http.StatusBadRequest, "ParamInvalid")
		// A malformed chain is refused as the visitor listing refuses it (13.10).
		for _, bad := range [][]string{{"x1"}, {docs, "0"}, {docs, ""}, {"0" + docs}} {
			expectError(t, v.get("download", bad...), http.StatusBadRequest, "InvalidParameter")
			expectError(t, v.get("zip", bad...), http.StatusBadRequest, "InvalidParameter")
		}
		// An inode of the library that the share does not hold.
		private := f.do("GET", "private/secret.txt", q("", "info", "", "with_inode", "1"), nil).JSON(t)["inode"].(string)
		expectError(t, v.get("download", private), http.StatusNotFound, "FileNotInShare")
		expectError(t, v.get("preview", docs, private), http.StatusNotFound, "FileNotInShare")
		// A virtual file has no bytes (3.17, decision 25); a zip leaves it out (below).
		expectError(t, v.get("download", docs, inDocs["virtual.txt"]), http.StatusBadRequest, "UnsupportedFileType")
		expectError(t, v.get("preview", docs, inDocs["virtual.txt"]), http.StatusBadRequest, "UnsupportedFileType")
		// A directory is not a file to download or preview, nor a file a folder to zip.
		expectError(t, v.get("download", docs, sub), http.StatusBadRequest, "ParamInvalid")
		expectError(t, v.get("preview", docs), http.StatusBadRequest, "ParamInvalid")
		expectError(t, v.get("zip", docs, readmeInode), http.StatusBadRequest, "ParamInvalid")
		expectError(t, s.call("GET", v.path(docs, private), q(v.token, "zip", ""), nil, nil), http.StatusNotFound, "FileNotInShare")
	})

	t.Run("foreign tokens refused", func(t *testing.T) {
		s := s.on(t)
		_, otherCode := owner.create(t, "other", []string{"single.bin"}, map[string]any{"isPermanent": true, "canDownload": true})
		other := visit(t, s, otherCode)
		tests := []struct {
			name, token string
			status      int
			code        string
		}{
			{"library token", f.token, http.StatusForbidden, "InvalidAccessToken"},
			{"another share's token", other.token, http.StatusForbidden, "InvalidAccessToken"},
			{"no token", "", http.StatusBadRequest, "EmptyAccessToken"},
		}
		for _, tt := range tests {
			for _, flag := range []string{"download", "preview"} {
				expectError(t, s.call("GET", v.path(docs, readmeInode), q(tt.token, flag, ""), nil, nil), tt.status, tt.code)
			}
			expectError(t, s.call("GET", v.path(docs), q(tt.token, "zip", ""), nil, nil), tt.status, tt.code)
		}
		// The library secret is no share token either.
		secret := url.Values{"library_id": {f.lib}, "library_secret": {f.library.Secret}, "download": {""}}
		expectError(t, s.call("GET", v.path(docs, readmeInode), secret, nil, nil), http.StatusBadRequest, "EmptyAccessToken")
	})

	t.Run("capabilities off", func(t *testing.T) {
		s := s.on(t)
		_, closed := owner.create(t, "look only", []string{"docs"}, map[string]any{"isPermanent": true})
		c := visit(t, s, closed)
		d := c.inodes(t)["docs"]
		in := c.inodes(t, d)
		expectError(t, c.get("download", d, in["readme.txt"]), http.StatusForbidden, "CannotDownload")
		expectError(t, c.get("preview", d, in["readme.txt"]), http.StatusForbidden, "CannotPreview")
		expectError(t, c.get("zip", d), http.StatusForbidden, "CannotDownload")
	})

	t.Run("downloadLimit on a single-file share", func(t *testing.T) {
		s := s.on(t)
		_, one := owner.create(t, "one file", []string{"single.bin"}, map[string]any{"isPermanent": true, "canDownload": true, "downloadLimit": 2})
		o := visit(t, s, one)
		in := o.inodes(t)["single.bin"]
		for i := range 2 {
			if got := o.follow(t, o.get("download", in), nil); !bytes.Equal(got.Body, single) {
				t.Fatalf("download %d: %d bytes", i+1, len(got.Body))
			}
		}
		expectError(t, o.get("download", in), http.StatusForbidden, "CannotDownload")
	})

	t.Run("zip of a folder and of the whole share", func(t *testing.T) {
		s := s.on(t)
		files := map[string][]byte{"readme.txt": readme, "noted.txt": readme, "report.pdf": report, "sub/deep.bin": deep}
		expectZip(t, v.follow(t, v.get("zip", docs), nil), files, "sub/", "empty/")
		whole := map[string][]byte{"docs/readme.txt": readme, "docs/noted.txt": readme, "docs/report.pdf": report, "docs/sub/deep.bin": deep, "pics/cat.jpg": photo}
		got := v.follow(t, v.get("zip"), nil)
		expectZip(t, got, whole, "docs/", "docs/sub/", "docs/empty/", "pics/")
		expectSecurityHeaders(t, "zip", got)
		if disp := got.Header.Get("Content-Disposition"); !strings.HasPrefix(disp, "attachment") || !strings.Contains(disp, "holiday.zip") {
			t.Fatalf("zip Content-Disposition %q", disp)
		}
		// A zip URL names its share and chain: another chain breaks the signature.
		loc := v.get("zip", docs).Header.Get("Location")
		u, _ := url.Parse(loc)
		qv := u.Query()
		qv.Set("chain", pics)
		u.RawQuery = qv.Encode()
		expectXML(t, s.raw("GET", u.String(), nil, nil), http.StatusForbidden, "SignatureDoesNotMatch")
		// The empty directory is listed in the share as in the zip.
		if _, ok := v.inodes(t, docs, empty)[""]; ok {
			t.Fatal("an empty directory lists an entry")
		}
	})

	t.Run("expired share token refused", func(t *testing.T) {
		s := s.on(t)
		late := visit(t, s, code)
		s.fakeClock().Advance(11 * time.Minute)
		r := s.call("GET", late.path(docs, readmeInode), q(late.token, "download", ""), nil, nil)
		expectError(t, r, http.StatusForbidden, "InvalidAccessToken")
	})

	t.Run("zip cut when the share is disabled mid-way", func(t *testing.T) {
		s := s.on(t)
		f.dir().mkdirs(t, f.token, []string{"big"})
		for i := range 3 {
			f.upload(fmt.Sprintf("big/part%d.bin", i), randomBytes(t, 8<<20), nil)
		}
		bigID, bigCode := owner.create(t, "big", []string{"big"}, map[string]any{"isPermanent": true, "canDownload": true})
		b := visit(t, s, bigCode)
		r := b.get("zip", b.inodes(t)["big"])
		if r.Status != http.StatusFound {
			t.Fatalf("zip: %d %s", r.Status, r.Body)
		}
		resp, err := s.http.Get(r.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		head := make([]byte, 64<<10)
		if _, err := io.ReadFull(resp.Body, head); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("zip head: %d %v", resp.StatusCode, err)
		}
		owner.setEnabled(t, bigID, false)
		rest, err := io.ReadAll(resp.Body)
		if err == nil {
			t.Fatalf("the stream ended cleanly after %d more bytes; want it cut", len(rest))
		}
		all := append(head, rest...)
		if _, err := zip.NewReader(bytes.NewReader(all), int64(len(all))); err == nil {
			t.Fatal("a cut zip must not read as a complete archive")
		}
		if len(all) >= 3*(8<<20) {
			t.Fatalf("%d bytes arrived: the stream went on past the disable", len(all))
		}
		// Once disabled, a new zip is refused at once.
		if r := s.call("GET", b.path(), q(b.token, "zip", ""), nil, nil); r.Status < 400 || r.Status >= 500 {
			t.Fatalf("zip of a disabled share: %d %s", r.Status, r.Body)
		}
	})
	t.Run("visitor rate limit per share and address", func(t *testing.T) {
		s := s.on(t)
		_, busyCode := owner.create(t, "busy", []string{"single.bin"}, map[string]any{"isPermanent": true, "canDownload": true})
		busy := visit(t, s, busyCode)
		in := busy.inodes(t)["single.bin"]
		// The default allows bursts of 200 per (share, address); the test clock stands still,
		// so the bucket does not refill while the loop runs.
		limited := 0
		for i := range 202 {
			r := busy.get("download", in)
			if r.Status == http.StatusTooManyRequests {
				expectError(t, r, http.StatusTooManyRequests, "RateLimitExceeded")
				limited = i
				break
			}
			if r.Status != http.StatusFound {
				t.Fatalf("download %d: %d %s", i, r.Status, r.Body)
			}
		}
		if limited != 200 {
			t.Fatalf("refused at request %d, want the 201st", limited+1)
		}
		// Another share from the same address is not held back.
		if r := visit(t, s, code).get("download", docs, readmeInode); r.Status != http.StatusFound {
			t.Fatalf("another share: %d %s", r.Status, r.Body)
		}
		s.fakeClock().Advance(time.Second) // 20 events a second come back
		if r := busy.get("download", in); r.Status != http.StatusFound {
			t.Fatalf("after a second: %d %s", r.Status, r.Body)
		}
	})

	t.Run("disabled share refuses at once", func(t *testing.T) {
		s := s.on(t)
		w := visit(t, s, code)
		zipURL := w.get("zip", docs).Header.Get("Location")
		owner.setEnabled(t, shareID, false)
		expectError(t, w.get("download", docs, readmeInode), http.StatusForbidden, "ShareDisabled")
		expectError(t, w.get("zip", docs), http.StatusForbidden, "ShareDisabled")
		// A zip URL signed before the disable re-checks the share before its first byte.
		expectXML(t, s.raw("GET", zipURL, nil, nil), http.StatusForbidden, "ShareDisabled")
		owner.setEnabled(t, shareID, true)
	})
}

// expectZip unpacks a zip answer and compares every file's bytes and the directories.
func expectZip(t *testing.T, r response, files map[string][]byte, dirs ...string) {
	t.Helper()
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("zip: %d %s %q", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, zf := range zr.File {
		seen[zf.Name] = true
		if strings.HasSuffix(zf.Name, "/") {
			continue
		}
		want, ok := files[zf.Name]
		if !ok {
			t.Fatalf("unexpected zip entry %q", zf.Name)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes (%v), want the %d uploaded", zf.Name, len(got), err, len(want))
		}
	}
	for name := range files {
		if !seen[name] {
			t.Fatalf("zip lacks %q (has %v)", name, seen)
		}
	}
	for _, d := range dirs {
		if !seen[d] {
			t.Fatalf("zip lacks directory %q (has %v)", d, seen)
		}
	}
}
