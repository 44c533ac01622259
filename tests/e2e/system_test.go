// Package e2e drives OpenSMH over real HTTPS (and gRPC on the same port) the way SMH clients
// and operators do. The suite boots the all-in-one in process with a fake clock, so token
// expiry is tested by moving time, not by sleeping.
package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/telemetry"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/services/namespace/storetest"
	"github.com/opensmh/opensmh/services/smh/server"
)

// system is a running OpenSMH as a test sees it.
type system struct {
	t        testing.TB
	srv      *server.Server
	clock    *clock.Fake
	http     *http.Client
	adminKey string
	// logs holds everything the server logged, to check that no secret reaches a log.
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startSystem boots an all-in-one on a free port in a temporary data dir, with the namespace
// store on SQLite there.
func startSystem(t testing.TB) *system {
	t.Helper()
	return startSystemOn(t, "")
}

// startSystemOn boots an all-in-one whose namespace store is sqlDSN ("" = SQLite in the data dir).
func startSystemOn(t testing.TB, sqlDSN string) *system {
	t.Helper()
	fake := clock.NewFake(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	logs := &syncBuffer{}
	srv, err := server.Start(context.Background(), server.Options{
		DataDir:     t.TempDir(),
		SQLDSN:      sqlDSN,
		Listen:      "127.0.0.1:0",
		AdminKey:    "test-operator-key-0123456789",
		Clock:       fake,
		EtcdNoFsync: true,
		// Tests run the object service's cleanup themselves (Objects().CollectGarbage).
		GCEvery: -1,
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Out:     io.Discard,
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	pool, err := tlsx.CertPool(srv.CACert)
	if err != nil {
		t.Fatal(err)
	}
	s := &system{
		t: t, srv: srv, clock: fake, adminKey: srv.AdminKey, logs: logs,
		// Redirects are answers to check (downloads are 302s, 3.8), never followed.
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64,
		}},
	}
	return s
}

// grpcConn dials the public port with gRPC over TLS, trusting the local CA; closed when the test ends.
func (s *system) grpcConn(t testing.TB) *grpc.ClientConn {
	t.Helper()
	pool, err := tlsx.CertPool(s.srv.CACert)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(s.srv.Addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// response is what a call answered.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object.
func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object (status %d): %q", r.Status, r.Body)
	}
	return m
}

// call sends one request. body may be nil, a string (sent as is) or any value (sent as JSON).
func (s *system) call(method, path string, query url.Values, body any, header http.Header) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	u := s.srv.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// admin calls the admin API with the operator key.
func (s *system) admin(method, path string, body any) response {
	s.t.Helper()
	return s.call(method, path, nil, body, http.Header{"Authorization": {"Bearer " + s.adminKey}})
}

// library is a created library with its secret.
type library struct {
	ID, Secret string
	Body       map[string]any
}

// createLibrary creates a library with the given extension (nil = defaults).
func (s *system) createLibrary(name string, ext map[string]any) library {
	s.t.Helper()
	body := map[string]any{"name": name}
	if ext != nil {
		body["libraryExtension"] = ext
	}
	r := s.admin("POST", "/admin/v1/libraries", body)
	if r.Status != http.StatusCreated {
		s.t.Fatalf("create library: %d %s", r.Status, r.Body)
	}
	m := r.JSON(s.t)
	return library{ID: m["libraryId"].(string), Secret: m["librarySecret"].(string), Body: m}
}

// mint asks for a token; q holds the query beyond library_id and library_secret.
func (s *system) mint(lib library, q url.Values) response {
	s.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("library_id", lib.ID)
	q.Set("library_secret", lib.Secret)
	return s.call("GET", "/api/v1/token", q, nil, nil)
}

// mustMint mints and answers the token.
func (s *system) mustMint(lib library, q url.Values) string {
	s.t.Helper()
	r := s.mint(lib, q)
	if r.Status != http.StatusOK {
		s.t.Fatalf("mint: %d %s", r.Status, r.Body)
	}
	return r.JSON(s.t)["accessToken"].(string)
}

// renew renews a token through REST.
func (s *system) renew(libID, token string) response {
	s.t.Helper()
	return s.call("POST", "/api/v1/token/"+url.PathEscape(libID)+"/"+url.PathEscape(token), nil, nil, nil)
}

// expectError checks an SMH error answer: status, code, and a request id matching the header.
func expectError(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	m := r.JSON(t)
	if m["code"] != code {
		t.Fatalf("code %v, want %s; body %s", m["code"], code, r.Body)
	}
	if m["message"] == nil || m["message"] == "" {
		t.Fatalf("error without message: %s", r.Body)
	}
	if id := r.Header.Get("X-SMH-Request-Id"); id == "" || m["requestId"] != id {
		t.Fatalf("requestId %v does not match header %q", m["requestId"], id)
	}
}

// spans records every span of the run. The global tracer provider is set once, before any
// server starts, because tracers handed out earlier keep the first provider.
var spans = tracetest.NewInMemoryExporter()

func TestMain(m *testing.M) {
	storetest.Report(os.Stderr, "e2e namespace tests")
	tp := telemetry.SetupTracingWith(spans)
	code := m.Run()
	_ = tp.Shutdown(context.Background())
	os.Exit(code)
}

// jsonInto decodes body into v (a slice) and answers its length.
func jsonInto(t testing.TB, body []byte, v *[]map[string]any) int {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("body is not a JSON array: %q", body)
	}
	return len(*v)
}

// onEveryEngine runs fn against an all-in-one per namespace store engine (issue 3: both engines).
func onEveryEngine(t *testing.T, fn func(t *testing.T, s *system)) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) { fn(t, startSystemOn(t, e.DSN(t))) })
	}
}
