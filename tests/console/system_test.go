// Package console drives the web console (console/static, served by the gateway at /console/) in
// a real headless Chromium against an all-in-one started in process, and checks what the
// operator does there through the admin API and the public API. CONTRACT.md beside this file
// lists the ids and attributes the tests rely on.
package console

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/tests/internal/dataorigin"
	"github.com/opensmh/opensmh/tests/internal/syncbuf"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/services/namespace/storetest"
	"github.com/opensmh/opensmh/services/smh/server"
)

// adminKey is the operator key the test system runs with.
const adminKey = "console-test-operator-key-0123456789"

// system is a running OpenSMH with an HTTPS client that trusts its local CA.
type system struct {
	srv  *server.Server
	http *http.Client
	logs *syncbuf.Buffer
}

// startSystem boots an all-in-one on a free loopback port in a temporary data dir, on SQLite.
// The server's log is shown when the test fails.
func startSystem(t *testing.T) *system {
	t.Helper()
	return startSystemWith(t, systemOptions{})
}

// systemOptions are what a test changes in the all-in-one it starts.
type systemOptions struct {
	// DataHost names a download origin (--data-url) on the same port; "" serves the data
	// endpoint beside the console.
	DataHost string
	// DSN is the namespace and object SQL store (see onEveryStore); "" = SQLite files in the data dir.
	DSN string
}

// startSystemWith is startSystem with options.
func startSystemWith(t *testing.T, o systemOptions) *system {
	t.Helper()
	logs := &syncbuf.Buffer{}
	opts := server.Options{
		DataDir:     t.TempDir(),
		Listen:      "127.0.0.1:0",
		AdminKey:    adminKey,
		SQLDSN:      o.DSN,
		EtcdNoFsync: true,
		GCEvery:     -1,
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Out:         io.Discard,
	}
	if o.DataHost != "" {
		opts.Listen, opts.DataURL = dataorigin.On(t, o.DataHost)
	}
	srv, err := server.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (tail):\n%s", logs.Tail(8<<10))
		}
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	pool, err := tlsx.CertPool(srv.CACert)
	if err != nil {
		t.Fatal(err)
	}
	return &system{srv: srv, logs: logs, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true},
	}}
}

// onEveryStore runs fn as one subtest per namespace store engine, with the dsn to start the
// system on (systemOptions.DSN): "sqlite" (the server's own files) and "postgres" (a new database,
// dropped at the end, on the server the maintenance DSN in SMH_TEST_POSTGRES_DSN names). Without
// that variable the postgres subtest is skipped, saying so; when CI is set it fails instead, as a
// missing Chromium does (.ci/run sets it).
func onEveryStore(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	admin := os.Getenv(storetest.PostgresDSNEnv)
	if admin == "" && os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL NOT RUN: %s is not set (.ci/run sets it); CI runs the console tests on both store engines", storetest.PostgresDSNEnv)
	}
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) {
		if admin == "" {
			t.Skipf("PostgreSQL NOT RUN: set %s to a maintenance DSN, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", storetest.PostgresDSNEnv)
		}
		fn(t, storetest.NewPostgresDatabase(t, admin))
	})
}

// spkiHash answers the base64 SHA-256 of the server certificate's public key, the form
// Chromium's --ignore-certificate-errors-spki-list takes: the browser then accepts exactly this
// key, and every other certificate error still fails the page.
func (s *system) spkiHash(t *testing.T) string {
	t.Helper()
	certs := s.srv.TLSConfig.Certificates
	if len(certs) == 0 || len(certs[0].Certificate) == 0 {
		t.Fatal("the server has no certificate")
	}
	leaf := certs[0].Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(certs[0].Certificate[0]); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// response is what a call answered.
type response struct {
	Status int
	Body   []byte
}

// call sends one request to the system (path with its query) and answers status and body. body
// is nil or a value sent as JSON. Redirects are followed: a download answers the file's bytes.
func (s *system) call(t testing.TB, method, path string, body any, header http.Header) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Body: data}
}

// admin calls the admin API with the operator key and decodes a JSON answer into out (nil: no
// decoding). It answers the status.
func (s *system) admin(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	r := s.call(t, method, path, body, http.Header{"Authorization": {"Bearer " + adminKey}})
	if out != nil && len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, out); err != nil {
			t.Fatalf("%s %s: %d %q is not the JSON expected: %v", method, path, r.Status, r.Body, err)
		}
	}
	return r.Status
}

// library is the admin API's library object, as far as the tests read it.
type library struct {
	LibraryID        string           `json:"libraryId"`
	Name             string           `json:"name"`
	Remark           string           `json:"remark"`
	LibrarySecret    string           `json:"librarySecret"`
	CreationTime     string           `json:"creationTime"`
	LibraryExtension libraryExtension `json:"libraryExtension"`
}

// libraryExtension holds the service-level settings the tests change or check.
type libraryExtension struct {
	IsFileLibrary          bool     `json:"isFileLibrary"`
	IsMultiSpace           bool     `json:"isMultiSpace"`
	IsMultiAlbum           bool     `json:"isMultiAlbum"`
	IsPublicRead           bool     `json:"isPublicRead"`
	UseRecycleBin          bool     `json:"useRecycleBin"`
	EnableSearch           bool     `json:"enableSearch"`
	AutoRemoveRecycledDays int      `json:"autoRemoveRecycledDays"`
	AllowFileExtname       []string `json:"allowFileExtname"`
}

// libraryList is a page of GET /admin/v1/libraries.
type libraryList struct {
	List       []library `json:"list"`
	TotalCount int       `json:"totalCount"`
}

// libraries answers every library, newest first, as the admin API lists them.
func (s *system) libraries(t testing.TB) libraryList {
	t.Helper()
	var all libraryList
	for page := 1; ; page++ {
		var l libraryList
		if st := s.admin(t, "GET", fmt.Sprintf("/admin/v1/libraries?page=%d&page_size=100", page), nil, &l); st != http.StatusOK {
			t.Fatalf("list libraries: %d", st)
		}
		all.TotalCount = l.TotalCount
		all.List = append(all.List, l.List...)
		if len(l.List) == 0 || len(all.List) >= l.TotalCount {
			return all
		}
	}
}

// libraryNamed answers the one library with this name.
func (s *system) libraryNamed(t testing.TB, name string) library {
	t.Helper()
	var found []library
	for _, l := range s.libraries(t).List {
		if l.Name == name {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d libraries named %q, want 1", len(found), name)
	}
	return found[0]
}

// createLibrary creates a library through the admin API (for setup that is not under test).
func (s *system) createLibrary(t testing.TB, name string, ext map[string]any) library {
	t.Helper()
	body := map[string]any{"name": name}
	if ext != nil {
		body["libraryExtension"] = ext
	}
	var l library
	if st := s.admin(t, "POST", "/admin/v1/libraries", body, &l); st != http.StatusCreated {
		t.Fatalf("create library %q: %d", name, st)
	}
	return l
}

// secret answers a library's secret as the admin API shows it.
func (s *system) secret(t testing.TB, id string) string {
	t.Helper()
	var out struct {
		LibrarySecret string `json:"librarySecret"`
	}
	if st := s.admin(t, "GET", "/admin/v1/libraries/"+url.PathEscape(id)+"/secret", nil, &out); st != http.StatusOK || out.LibrarySecret == "" {
		t.Fatalf("secret of %s: %d %+v", id, st, out)
	}
	return out.LibrarySecret
}

// mint asks the public API for an admin token with a library secret; it answers the status and
// the token.
func (s *system) mint(t testing.TB, id, secret string) (int, string) {
	t.Helper()
	q := url.Values{"library_id": {id}, "library_secret": {secret}, "grant": {"admin"}}
	r := s.call(t, "GET", "/api/v1/token?"+q.Encode(), nil, nil)
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatalf("token answer %q: %v", r.Body, err)
		}
	}
	return r.Status, out.AccessToken
}

// fileBytes downloads a file of the single-tenant space through the public API (following the
// 302 to the bytes); it answers the status of the last response and its body.
func (s *system) fileBytes(t testing.TB, lib library, path string) response {
	t.Helper()
	st, token := s.mint(t, lib.LibraryID, s.secret(t, lib.LibraryID))
	if st != http.StatusOK {
		t.Fatalf("mint a token for %s: %d", lib.LibraryID, st)
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return s.call(t, "GET", "/api/v1/file/"+lib.LibraryID+"/-/"+strings.Join(segs, "/")+"?access_token="+url.QueryEscape(token), nil, nil)
}
