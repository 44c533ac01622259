// Package e2e drives OpenSMH over real HTTPS (and gRPC on the same port) the way SMH clients
// and operators do. It has two runners (runner_test.go): by default every test boots the
// all-in-one in process with a fake clock, so token expiry is tested by moving time, not by
// sleeping; with SMH_E2E_DEPLOYMENT=split the tests of splitSuite run unchanged against one
// split deployment of separate processes.
package e2e

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/tests/internal/dataorigin"
	"github.com/opensmh/opensmh/tests/internal/syncbuf"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/pkg/telemetry"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/services/namespace/storetest"
	"github.com/opensmh/opensmh/services/object"
	"github.com/opensmh/opensmh/services/smh/server"
)

// system is a running OpenSMH as a test sees it.
type system struct {
	t testing.TB
	// url is the base URL of the public port.
	url string
	// srv and clock are the in-process all-in-one and its clock (nil on the split runner): reach
	// them through server() and fakeClock().
	srv      *server.Server
	clock    *clock.Fake
	http     *http.Client
	adminKey string
	// logs holds everything the server logged, to check that no secret reaches a log.
	logs *syncbuf.Buffer
	// s3 is the S3 server holding the file bytes (nil: the data dir does).
	s3 *fakeS3
	// objectDSN is the object service's database, where small blobs keep their bytes
	// (docs/smallfiles.md): SQLite in the data dir, or the PostgreSQL database of the system.
	objectDSN string
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
	return startSystemWith(t, systemOptions{DSN: sqlDSN})
}

// systemOptions choose the stores of a test system.
type systemOptions struct {
	// DSN is the namespace (and object) SQL store: "" = SQLite in the data dir.
	DSN string
	// S3, when set, keeps file bytes in this S3 server instead of the data dir.
	S3 *fakeS3
	// DataHost, when set, is the host name of a download origin on the system's port
	// (--data-url); the test client reaches it on the loopback address.
	DataHost string
	// Tune, when set, changes the server's options before it starts (bounds a test shortens).
	Tune func(*server.Options)
	// Deadlines shorten the server's deadlines (zero fields: the defaults).
	Deadlines cmdutil.Deadlines
	// EtcdEndpoints, when set, name an etcd of the test's instead of the embedded member.
	EtcdEndpoints []string
}

// startSystemWith boots an all-in-one on a free port in a temporary data dir.
func startSystemWith(t testing.TB, o systemOptions) *system {
	t.Helper()
	if split != nil {
		return splitSystem(t, o)
	}
	fake := clock.NewFake(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	logs := &syncbuf.Buffer{}
	opts := server.Options{
		DataDir:     t.TempDir(),
		SQLDSN:      o.DSN,
		Listen:      "127.0.0.1:0",
		AdminKey:    "test-operator-key-0123456789",
		Clock:       fake,
		EtcdNoFsync: true,
		// Tests run the object service's cleanup themselves (Objects().CollectGarbage).
		GCEvery:       -1,
		Logger:        slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Out:           io.Discard,
		Deadlines:     o.Deadlines,
		EtcdEndpoints: o.EtcdEndpoints,
	}
	if o.S3 != nil {
		opts.S3 = o.S3.config()
	}
	if o.DataHost != "" {
		opts.Listen, opts.DataURL = dataorigin.On(t, o.DataHost)
	}
	if o.Tune != nil {
		o.Tune(&opts)
	}
	srv, err := server.Start(context.Background(), opts)
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
		t: t, url: srv.URL, srv: srv, clock: fake, adminKey: srv.AdminKey, logs: logs, s3: o.S3, objectDSN: cmp.Or(o.DSN, filepath.Join(opts.DataDir, "object.db")),
		// Redirects are answers to check (downloads are 302s, 3.8), never followed.
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64,
			DialContext: dataorigin.LoopbackDialer(o.DataHost),
		}},
	}
	return s
}

// server answers the in-process all-in-one, for a test that reaches behind the public port (its
// stores, its jobs, its data dir). Such a test cannot run split: on the split runner this fails.
func (s *system) server() *server.Server {
	s.t.Helper()
	if s.srv == nil {
		s.t.Fatalf("%s reaches into the all-in-one process: it cannot run on the split deployment (take it out of splitSuite)", s.t.Name())
	}
	return s.srv
}

// fakeClock answers the all-in-one's clock, which the test moves. The split deployment's
// processes keep real time: on the split runner this fails.
func (s *system) fakeClock() *clock.Fake {
	s.t.Helper()
	if s.clock == nil {
		s.t.Fatalf("%s moves the clock: it cannot run on the split deployment (take it out of splitSuite)", s.t.Name())
	}
	return s.clock
}

// canMoveClock reports whether the test may move the system's clock (the all-in-one's).
func (s *system) canMoveClock() bool { return s.clock != nil }

// logText answers what the system logged so far: the all-in-one's log, or every split process's
// output.
func (s *system) logText() string {
	if split != nil {
		return splitLogs()
	}
	return s.logs.String()
}

// on answers the same system reporting to t, for subtests that share one system.
func (s *system) on(t testing.TB) *system {
	c := *s
	c.t = t
	return &c
}

// fakeS3 is an in-memory S3 server (gofakes3) on loopback, over TLS: there minio-go sends plain
// (unsigned-payload) bodies, which gofakes3 stores as they come for objects and parts alike.
// Over plain http minio-go streams multipart parts aws-chunked, and gofakes3 v1.2.0 would keep
// the chunk framing in the part (see services/object/internal/blob/s3_test.go).
type fakeS3 struct {
	srv     *httptest.Server
	backend *s3mem.Backend
	bucket  string
	// prefix is the store's key prefix inside the bucket, so that prefixing is covered too.
	prefix string
}

func startFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewUnstartedServer(faker.Server())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &fakeS3{srv: srv, backend: backend, bucket: "opensmh-e2e", prefix: "under/test"}
}

func (f *fakeS3) config() *object.S3Config {
	return &object.S3Config{
		Endpoint:     strings.TrimPrefix(f.srv.URL, "https://"),
		Bucket:       f.bucket,
		AccessKey:    "e2e-access",
		SecretKey:    "e2e-secret",
		Secure:       true,
		Transport:    f.srv.Client().Transport,
		Prefix:       f.prefix,
		CreateBucket: true,
	}
}

// storedObjects answers the blob store's objects whose keys begin with prefix ("blobs/",
// "parts/", "thumbs/"), key → bytes, read behind the server's back: in the data dir, or in S3.
func (s *system) storedObjects(prefix string) map[string][]byte {
	s.t.Helper()
	out := map[string][]byte{}
	if s.s3 != nil {
		full := s.s3.prefix + "/" + prefix
		list, err := s.s3.backend.ListBucket(s.s3.bucket, &gofakes3.Prefix{HasPrefix: true, Prefix: full}, gofakes3.ListBucketPage{})
		if err != nil {
			s.t.Fatal(err)
		}
		for _, c := range list.Contents {
			obj, err := s.s3.backend.GetObject(s.s3.bucket, c.Key, nil)
			if err != nil {
				s.t.Fatal(err)
			}
			data, err := io.ReadAll(obj.Contents)
			obj.Contents.Close()
			if err != nil {
				s.t.Fatal(err)
			}
			out[strings.TrimPrefix(c.Key, s.s3.prefix+"/")] = data
		}
		return out
	}
	root := s.server().BlobDir()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); strings.HasPrefix(rel, prefix) {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = data
		}
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	maps.Copy(out, s.inlineBlobs(prefix))
	return out
}

// inlineBlobs answers the small blobs whose bytes live in their record in the object database,
// under the keys the blob store would give them (blobs/<xx>/<id>), those under prefix.
func (s *system) inlineBlobs(prefix string) map[string][]byte {
	s.t.Helper()
	s.server() // the object database of the all-in-one
	out := map[string][]byte{}
	if !strings.HasPrefix("blobs/", prefix) && !strings.HasPrefix(prefix, "blobs/") {
		return out
	}
	ctx := context.Background()
	db, err := sqldb.Open(ctx, s.objectDSN, sqldb.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	err = db.InStatements(ctx, func(t *sqldb.Tx) error {
		// An empty blob is inline whatever its column holds (the store reads its bytes as empty).
		rows, err := t.Query(ctx, `SELECT id, data FROM blobs WHERE data IS NOT NULL OR size = 0`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id   string
				data []byte
			)
			if err := rows.Scan(&id, &data); err != nil {
				return err
			}
			if key := "blobs/" + id[:2] + "/" + id; strings.HasPrefix(key, prefix) {
				out[key] = data
			}
		}
		return rows.Err()
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// keysHolding answers the keys of the stored objects under prefix whose bytes are data.
func (s *system) keysHolding(prefix string, data []byte) []string {
	s.t.Helper()
	var keys []string
	for k, v := range s.storedObjects(prefix) {
		if bytes.Equal(v, data) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// grpcConn dials the public port with gRPC over TLS, trusting the local CA; closed when the test ends.
func (s *system) grpcConn(t testing.TB) *grpc.ClientConn {
	t.Helper()
	pool, err := tlsx.CertPool(s.server().CACert)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(s.server().Addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
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

// collect runs the namespace purge and the object cleanup once each, as their jobs would.
func (s *system) collect() (purged int64, gc gcReport) {
	s.t.Helper()
	purged, err := s.server().Namespace().PurgeDeleted(s.t.Context())
	if err != nil {
		s.t.Fatalf("purge: %v", err)
	}
	r, err := s.server().Objects().CollectGarbage(s.t.Context())
	if err != nil {
		s.t.Fatalf("collect garbage: %v", err)
	}
	return purged, r
}

// gcReport is what one run of the object service's cleanup removed.
type gcReport = object.GCReport

// call sends one request. body may be nil, a string (sent as is) or any value (sent as JSON).
func (s *system) call(method, path string, query url.Values, body any, header http.Header) response {
	s.t.Helper()
	r, err := s.tryCall(method, path, query, body, header)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// tryCall is call answering the errors instead of failing the test, for other goroutines.
func (s *system) tryCall(method, path string, query url.Values, body any, header http.Header) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(data)
	}
	u := s.url + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return s.tryRaw(method, u, rd, header)
}

// tryRaw sends a request to an absolute URL and answers what came back, or why nothing did.
func (s *system) tryRaw(method, rawURL string, body io.Reader, header http.Header) (response, error) {
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		return response{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, rawURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: reading the body: %w", method, rawURL, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
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
	lib := library{ID: m["libraryId"].(string), Secret: m["librarySecret"].(string), Body: m}
	s.noteSecret(lib.Secret)
	return lib
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
	token := r.JSON(s.t)["accessToken"].(string)
	s.noteSecret(token)
	return token
}

// noteSecret records a library secret or token that no split process may log (the all-in-one's
// tests check their log themselves).
func (s *system) noteSecret(v string) {
	if split != nil {
		split.AddSecret(v)
	}
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
	code := runTests(m)
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
// On the split runner it runs fn once, against the split deployment (on PostgreSQL).
func onEveryEngine(t *testing.T, fn func(t *testing.T, s *system)) {
	if split != nil {
		t.Run("split", func(t *testing.T) { fn(t, startSystem(t)) })
		return
	}
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) { fn(t, startSystemOn(t, e.DSN(t))) })
	}
}
