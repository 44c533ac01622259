package e2e

// Protocol edges (issue 10, item 7): the TLS offer, Range on the data endpoint, names with
// bidirectional formatting characters, and the answers an unauthenticated caller gets for an
// existing and an unknown library.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTLSOffer: on the all-in-one's port, a TLS 1.2 client gets a handshake only with an ECDHE
// AEAD suite; every CBC, RC4, 3DES or RSA-key-exchange suite Go knows, and TLS 1.0 and 1.1, fail.
func TestTLSOffer(t *testing.T) {
	s := startSystem(t)
	dial := func(minV, maxV, suite uint16) (tls.ConnectionState, error) {
		cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: minV, MaxVersion: maxV} // the offer is under test, not the chain
		if suite != 0 {
			cfg.CipherSuites = []uint16{suite}
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.server().Addr, cfg)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer conn.Close()
		return conn.ConnectionState(), nil
	}
	tried, accepted := 0, 0
	for _, suite := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if !slices.Contains(suite.SupportedVersions, tls.VersionTLS12) {
			continue
		}
		tried++
		// The local CA's certificate is ECDSA: of the AEAD suites, the ECDSA ones apply.
		want := strings.HasPrefix(suite.Name, "TLS_ECDHE_ECDSA_") &&
			(strings.Contains(suite.Name, "_GCM_") || strings.Contains(suite.Name, "CHACHA20_POLY1305"))
		st, err := dial(tls.VersionTLS12, tls.VersionTLS12, suite.ID)
		switch {
		case want && err != nil:
			t.Errorf("%s refused: %v", suite.Name, err)
		case !want && err == nil:
			t.Errorf("%s accepted (negotiated %s)", suite.Name, tls.CipherSuiteName(st.CipherSuite))
		case want:
			accepted++
		}
	}
	if accepted != 3 {
		t.Errorf("%d of %d TLS 1.2 suites accepted, want the 3 ECDSA AEAD ones", accepted, tried)
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if _, err := dial(v, v, 0); err == nil {
			t.Errorf("%s accepted", tls.VersionName(v))
		}
	}
	if st, err := dial(tls.VersionTLS13, tls.VersionTLS13, 0); err != nil || st.Version != tls.VersionTLS13 {
		t.Errorf("TLS 1.3: %v", err)
	}
	// And the API answers over the restricted offer (HTTP/2 needs an AES-128-GCM suite).
	if r := s.call("GET", "/livez", nil, nil, nil); r.Status != http.StatusOK {
		t.Fatalf("livez: %d", r.Status)
	}
	t.Logf("%d TLS 1.2 suites tried, %d accepted", tried, accepted)
}

// TestRangeEdges: Range on a real upload's signed download URL, per RFC 9110 section 14.
func TestRangeEdges(t *testing.T) {
	s := startSystem(t)
	f := fileLibrary(t, s, nil)
	data := randomBytes(t, 1000)
	f.upload("r.bin", data, nil)
	cos, _ := f.do("GET", "r.bin", q("", "info", ""), nil).JSON(t)["cosUrl"].(string)
	if cos == "" {
		t.Fatal("no cosUrl")
	}
	get := func(h http.Header) response { return s.raw("GET", cos, nil, h) }
	rng := func(v string) http.Header { return http.Header{"Range": {v}} }
	etag := get(nil).Header.Get("ETag")
	if etag == "" {
		t.Fatal("download without ETag")
	}

	t.Run("single ranges", func(t *testing.T) {
		for _, tc := range []struct {
			header     string
			start, end int
		}{{"bytes=0-0", 0, 1}, {"bytes=10-19", 10, 20}, {"bytes=990-", 990, 1000}, {"bytes=-5", 995, 1000},
			{"bytes=900-5000", 900, 1000}, {"bytes=-5000", 0, 1000}, {"bytes=-0,5-6", 5, 7}} {
			r := get(rng(tc.header))
			want := fmt.Sprintf("bytes %d-%d/1000", tc.start, tc.end-1)
			if r.Status != http.StatusPartialContent || r.Header.Get("Content-Range") != want || !bytes.Equal(r.Body, data[tc.start:tc.end]) {
				t.Errorf("%s: %d %q, %d bytes; want 206 %q", tc.header, r.Status, r.Header.Get("Content-Range"), len(r.Body), want)
			}
		}
	})
	t.Run("multiple ranges", func(t *testing.T) {
		r := get(rng("bytes=0-9, 500-509,990-"))
		parts := multipartRanges(t, r)
		want := map[string][]byte{"bytes 0-9/1000": data[:10], "bytes 500-509/1000": data[500:510], "bytes 990-999/1000": data[990:]}
		if len(parts) != len(want) {
			t.Fatalf("%d parts, want %d", len(parts), len(want))
		}
		for cr, b := range want {
			if !bytes.Equal(parts[cr], b) {
				t.Errorf("part %s: %d bytes differ", cr, len(parts[cr]))
			}
		}
		// maxRanges (32) ranges are still served as asked.
		var specs []string
		for i := range 32 {
			specs = append(specs, fmt.Sprintf("%d-%d", 30*i, 30*i+1))
		}
		if parts := multipartRanges(t, get(rng("bytes="+strings.Join(specs, ",")))); len(parts) != 32 {
			t.Errorf("32 ranges: %d parts", len(parts))
		}
	})
	t.Run("not satisfiable", func(t *testing.T) {
		for _, h := range []string{"bytes=-0", "bytes=1000-", "bytes=5000-6000", "bytes=-0,1000-1001"} {
			r := get(rng(h))
			expectXML(t, r, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
			if r.Header.Get("Content-Range") != "bytes */1000" {
				t.Errorf("%s: Content-Range %q", h, r.Header.Get("Content-Range"))
			}
		}
		// If-Range that no longer matches asks for the whole file: 200, not 416.
		r := get(http.Header{"Range": {"bytes=-0"}, "If-Range": {`"stale"`}})
		if r.Status != http.StatusOK || !bytes.Equal(r.Body, data) {
			t.Errorf("bytes=-0 with a stale If-Range: %d", r.Status)
		}
	})
	t.Run("ignored: whole file", func(t *testing.T) {
		var many []string
		for i := range 33 {
			many = append(many, fmt.Sprintf("%d-%d", 2*i, 2*i))
		}
		for _, h := range []string{"items=0-1", "bytes=5-1", "bytes=abc", "bytes=", "bytes 0-1", "bytes=0-1,x-",
			"bytes=0-99,50-149", "bytes=0-,-1", "bytes=" + strings.Join(many, ",")} {
			r := get(rng(h))
			if r.Status != http.StatusOK || !bytes.Equal(r.Body, data) || r.Header.Get("Content-Range") != "" {
				t.Errorf("%.40s: %d, %d bytes, Content-Range %q; want 200 and the whole file", h, r.Status, len(r.Body), r.Header.Get("Content-Range"))
			}
		}
	})
	t.Run("If-Range", func(t *testing.T) {
		r := get(http.Header{"Range": {"bytes=0-9"}, "If-Range": {etag}})
		if r.Status != http.StatusPartialContent || !bytes.Equal(r.Body, data[:10]) {
			t.Errorf("matching If-Range: %d", r.Status)
		}
		r = get(http.Header{"Range": {"bytes=0-9"}, "If-Range": {`"other"`}})
		if r.Status != http.StatusOK || !bytes.Equal(r.Body, data) {
			t.Errorf("other If-Range: %d", r.Status)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		f.upload("empty.bin", nil, nil)
		cos, _ := f.do("GET", "empty.bin", q("", "info", ""), nil).JSON(t)["cosUrl"].(string)
		r := s.raw("GET", cos, nil, rng("bytes=-0"))
		if r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Errorf("bytes=-0 of an empty file: %d, %d bytes", r.Status, len(r.Body))
		}
	})
}

// multipartRanges reads a 206 multipart/byteranges answer into its parts by Content-Range.
func multipartRanges(t *testing.T, r response) map[string][]byte {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Status != http.StatusPartialContent || err != nil || mt != "multipart/byteranges" {
		t.Fatalf("want a 206 multipart/byteranges, got %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	parts := map[string][]byte{}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		parts[p.Header.Get("Content-Range")] = b
	}
}

// bidiCharacters are the characters names refuse for reordering text (decision 6).
var bidiCharacters = []rune{0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C}

// TestBidiNamesRefused: every way a name is made refuses bidirectional formatting characters
// with 400 IllegalFileName, %-encoded and raw on the wire, and creates nothing.
func TestBidiNamesRefused(t *testing.T) {
	s := startSystem(t)
	f := fileLibrary(t, s, nil)
	f.dir().mkdirs(t, f.token, []string{"d"})
	f.upload("d/src.txt", []byte("x"), nil)
	media := s.createLibrary("albums", map[string]any{"isMultiAlbum": true})
	mediaToken := s.mustMint(media, q("", "grant", "admin"))

	requests := 0
	for _, c := range bidiCharacters {
		name := fmt.Sprintf("invoice%cgpj.exe", c)
		dirPath := func(p string) string { return "/api/v1/directory/" + f.lib + "/-/" + url.PathEscape(p) }
		filePath := func(p string) string { return "/api/v1/file/" + f.lib + "/-/" + url.PathEscape(p) }
		for _, tc := range []struct {
			what, method, path string
			body               any
			flag               string // a flag query key beside the token
		}{
			{"directory", "PUT", dirPath("d/" + name), nil, ""},
			{"directory on the way", "PUT", filePath(name + "/f.txt"), nil, ""},
			{"simple upload", "PUT", filePath("d/" + name), nil, ""},
			{"multipart upload", "POST", filePath("d/" + name), nil, "multipart"},
			{"form upload", "POST", filePath("d/" + name), nil, ""},
			{"file copy", "PUT", filePath("d/" + name), map[string]any{"copyFrom": "d/src.txt"}, ""},
			{"file move", "PUT", filePath("d/" + name), map[string]any{"from": "d/src.txt"}, ""},
			{"symlink", "PUT", filePath("d/" + name), map[string]any{"linkTo": "d/src.txt"}, ""},
			{"directory copy", "PUT", dirPath(name), map[string]any{"copyFrom": "d"}, ""},
			{"directory move", "PUT", dirPath(name), map[string]any{"from": "d"}, ""},
		} {
			query := q(f.token)
			if tc.flag != "" {
				query.Set(tc.flag, "")
			}
			r := s.call(tc.method, tc.path, query, tc.body, nil)
			requests++
			if r.Status != http.StatusBadRequest || r.JSON(t)["code"] != "IllegalFileName" {
				t.Errorf("U+%04X %s: %d %s, want 400 IllegalFileName", c, tc.what, r.Status, r.Body)
			}
		}
		// An album in a multi-album library.
		r := s.call("PUT", "/api/v1/directory/"+media.ID+"/-/"+url.PathEscape(name), q(mediaToken), nil, nil)
		requests++
		if r.Status != http.StatusBadRequest || r.JSON(t)["code"] != "IllegalFileName" {
			t.Errorf("U+%04X album: %d %s", c, r.Status, r.Body)
		}
		// The same name as raw UTF-8 on the wire, which a client may send unescaped.
		raw := rawRequest(t, s, "PUT", "/api/v1/file/"+f.lib+"/-/d/"+name+"?access_token="+url.QueryEscape(f.token))
		requests++
		if raw.Status != http.StatusBadRequest || raw.JSON(t)["code"] != "IllegalFileName" {
			t.Errorf("U+%04X raw: %d %s", c, raw.Status, raw.Body)
		}
	}
	if names, _ := f.list("d"); !slices.Equal(names, []string{"src.txt"}) {
		t.Fatalf("d holds %q after the refused names", names)
	}
	if names, _ := f.list(""); !slices.Equal(names, []string{"d"}) {
		t.Fatalf("the root holds %q after the refused names", names)
	}
	t.Logf("%d requests with %d characters refused", requests, len(bidiCharacters))
}

// rawRequest sends one HTTP/1.1 request whose target goes on the wire byte for byte (Go's client
// would %-encode non-ASCII), and answers the response.
func rawRequest(t *testing.T, s *system, method, target string) response {
	t.Helper()
	tr := s.http.Transport.(*http.Transport)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.server().Addr,
		&tls.Config{RootCAs: tr.TLSClientConfig.RootCAs, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", method, target, s.server().Addr); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}
