package split

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/opensmh/opensmh/pkg/sqldb/sqldbtest"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/proc"
	"github.com/opensmh/opensmh/tests/internal/tcpproxy"
)

// TestSplitDependencyDown takes the dependencies away from a split deployment (issue 15): the
// namespace and object processes keep their stores in PostgreSQL behind a TCP proxy the test
// cuts, and the one etcd member is killed and started again. While a dependency is down, the
// REST requests that need it answer 503 with the SMH body and code ServiceUnavailable (never
// 500), and /healthz answers 503 naming the services whose store is down; once it is back, the
// same requests succeed and /healthz answers 200 again, without restarting any OpenSMH process
// (docs/operations.md).
func TestSplitDependencyDown(t *testing.T) {
	etcdBin := requireEtcd(t)
	adminDSN := os.Getenv(sqldbtest.PostgresDSNEnv)
	if adminDSN == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL NOT RUN: %s is not set (.ci/run sets it)", sqldbtest.PostgresDSNEnv)
		}
		t.Skipf("PostgreSQL NOT RUN: set %s to a maintenance DSN, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", sqldbtest.PostgresDSNEnv)
	}
	// Fresh databases, reached through the proxy.
	throughProxy := func(dsn string, proxy *tcpproxy.Proxy) string {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = proxy.Addr
		return u.String()
	}
	pgAddr, err := url.Parse(adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	postgres := tcpproxy.Start(t, pgAddr.Host)
	namespaceDSN := throughProxy(sqldbtest.NewPostgresDatabase(t, adminDSN), postgres)
	objectDSN := throughProxy(sqldbtest.NewPostgresDatabase(t, adminDSN), postgres)

	tmp := t.TempDir()
	etcd := &etcdMember{bin: etcdBin, dir: filepath.Join(tmp, "etcd"), clientURL: "http://" + proc.FreeAddr(t), peerURL: "http://" + proc.FreeAddr(t)}
	etcd.start(t)
	// The processes started here live as long as the whole test, not the subtest that starts them.
	restartEtcd := func() { etcd.start(t) }

	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	const adminKey = "outage-operator-key-0123456789"
	gwAddr, libAddr, tokAddr, nsAddr := proc.FreeAddr(t), proc.FreeAddr(t), proc.FreeAddr(t), proc.FreeAddr(t)
	objAddr, dataAddr := proc.FreeAddr(t), proc.FreeAddr(t)
	publicURL := "https://" + gwAddr
	_, gwPort, _ := strings.Cut(gwAddr, ":")
	dataHost := "localhost:" + gwPort
	env := []string{
		"SMH_ADMIN_KEY=" + adminKey,
		"SMH_SECRET_KEK=" + base64.StdEncoding.EncodeToString(kek),
		"SMH_ETCD_ENDPOINTS=" + etcd.clientURL,
		// Short store deadlines make a hung dependency answer soon, and frequent readiness checks
		// make /healthz follow soon; nothing below asserts a duration.
		"SMH_SQL_TX_TIMEOUT=2s",
		"SMH_ETCD_CALL_TIMEOUT=2s",
		"SMH_READINESS_EVERY=200ms",
	}
	bin := func(name string) string { return filepath.Join(binDir, name) }
	startObject := func() *proc.Proc {
		return proc.Start(t, "object", env, bin("object"), "--listen", objAddr, "--data-listen", dataAddr, "--domain", dataHost,
			"--sql-dsn", objectDSN, "--blob-dir", filepath.Join(tmp, "blobs"))
	}
	object := startObject()
	procs := []*proc.Proc{
		proc.Start(t, "library", env, bin("library"), "--listen", libAddr, "--public-url", publicURL),
		proc.Start(t, "authtoken", env, bin("authtoken"), "--listen", tokAddr),
		proc.Start(t, "namespace", env, bin("namespace"), "--listen", nsAddr, "--sql-dsn", namespaceDSN, "--public-url", publicURL),
		object,
		proc.Start(t, "gateway", env, bin("gateway"), "--listen", gwAddr, "--data-dir", filepath.Join(tmp, "gw"),
			"--object-data-url", "http://"+dataAddr, "--data-url", "https://"+dataHost),
	}

	caFile := filepath.Join(tmp, "gw", "tls", tlsx.CACertFile)
	proc.WaitFor(t, "the gateway's CA certificate", 30*time.Second, func() bool { _, err := os.Stat(caFile); return err == nil })
	pool, err := tlsx.CertPool(caFile)
	if err != nil {
		t.Fatal(err)
	}
	// The client's timeout only ends a hang; the answers below come from the deadlines above.
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	call := func(method, path string, q url.Values, admin bool) answer {
		t.Helper()
		req, _ := http.NewRequest(method, publicURL+path+"?"+q.Encode(), nil)
		if admin {
			req.Header.Set("Authorization", "Bearer "+adminKey)
		}
		resp, err := client.Do(req)
		if err != nil {
			// The request's URL holds the access token: the error names the path only.
			t.Fatalf("%s %s: %v", method, path, strings.ReplaceAll(err.Error(), q.Encode(), "…"))
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return answer{status: resp.StatusCode, body: body, requestID: resp.Header.Get("X-SMH-Request-Id")}
	}
	health := func() answer { return call("GET", "/healthz", nil, false) }
	waitHealth := func(status int, notServing ...string) {
		t.Helper()
		var last answer
		for end := time.Now().Add(recoveryWait); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if last = health(); last.status == status && last.servicesAre("not_serving", notServing...) {
				return
			}
		}
		t.Fatalf("/healthz never answered %d with %v not serving; last %d %s", status, notServing, last.status, last.body)
	}
	waitHealth(http.StatusOK)

	libraryID, librarySecret := createFileLibrary(t, client, publicURL, adminKey)
	mint := func() answer {
		return call("GET", "/api/v1/token", url.Values{"library_id": {libraryID}, "library_secret": {librarySecret},
			"grant": {"admin"}, "user_id": {"oscar"}}, false)
	}
	minted := mint()
	var tok struct{ AccessToken string }
	if err := json.Unmarshal(minted.body, &tok); minted.status != http.StatusOK || err != nil {
		t.Fatalf("mint: %d %s", minted.status, minted.body)
	}
	dir := func(method, name string) answer {
		return call(method, "/api/v1/directory/"+libraryID+"/-/"+url.PathEscape(name), url.Values{"access_token": {tok.AccessToken}}, false)
	}
	mkdir := func(name string) answer { return dir("PUT", name) }
	// An upload's begin is the object service's write (smh-api.md 3.1).
	beginUpload := func(name string) answer {
		return call("PUT", "/api/v1/file/"+libraryID+"/-/"+url.PathEscape(name), url.Values{"access_token": {tok.AccessToken}}, false)
	}
	list := func() answer { return dir("GET", "") }
	getLibrary := func() answer { return call("GET", "/admin/v1/libraries/"+libraryID, nil, true) }
	// What a Kubernetes probe of the namespace process asks (k8s/namespace-service.yaml):
	// readiness names the service, liveness asks for "".
	nsConn, err := grpc.NewClient(nsAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer nsConn.Close()
	namespaceHealth := func(service string) healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := healthpb.NewHealthClient(nsConn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatalf("health of %q on the namespace process: %v", service, err)
		}
		return resp.GetStatus()
	}
	const namespaceService = "smh.namespace.v1.NamespaceService"
	waitNamespaceReady := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		for end := time.Now().Add(recoveryWait); namespaceHealth(namespaceService) != want; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("the namespace process never reported %v", want)
			}
		}
		if live := namespaceHealth(""); live != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("the namespace process's liveness (\"\") is %v", live)
		}
	}
	waitNamespaceReady(healthpb.HealthCheckResponse_SERVING)
	if a := mkdir("before"); a.status != http.StatusCreated {
		t.Fatalf("mkdir with everything up: %d %s", a.status, a.body)
	}

	t.Run("PostgreSQL stopped", func(t *testing.T) {
		postgres.Cut()
		expectUnavailable(t, "mkdir", mkdir("while-cut"))
		expectUnavailable(t, "list", list())
		expectUnavailable(t, "begin an upload", beginUpload("while-cut.bin"))
		waitHealth(http.StatusServiceUnavailable, "namespace", "object")
		waitNamespaceReady(healthpb.HealthCheckResponse_NOT_SERVING)
		if h := health(); !h.servicesAre("serving", "library", "authtoken") {
			t.Fatalf("/healthz %s: the etcd-backed services are up", h.body)
		}

		postgres.Restore()
		waitSucceeds(t, "mkdir after the restore", http.StatusCreated, func() answer { return mkdir("after-cut") })
		waitHealth(http.StatusOK)
		waitNamespaceReady(healthpb.HealthCheckResponse_SERVING)
		waitSucceeds(t, "begin an upload after the restore", http.StatusCreated, func() answer { return beginUpload("after-cut.bin") })
		if a := list(); a.status != http.StatusOK || !strings.Contains(string(a.body), "after-cut") {
			t.Fatalf("list after the restore: %d %s", a.status, a.body)
		}
	})

	t.Run("PostgreSQL hung", func(t *testing.T) {
		postgres.BlackHole()
		expectUnavailable(t, "mkdir", mkdir("while-hung"))
		expectUnavailable(t, "list", list())
		waitHealth(http.StatusServiceUnavailable, "namespace", "object")

		postgres.Restore()
		waitSucceeds(t, "mkdir after the hang", http.StatusCreated, func() answer { return mkdir("after-hang") })
		waitHealth(http.StatusOK)
	})

	t.Run("etcd killed", func(t *testing.T) {
		etcd.proc.Kill(t)
		expectUnavailable(t, "get library", getLibrary())
		expectUnavailable(t, "mint", mint())
		// The namespace and object processes need no etcd of their own to serve these, but they
		// ask the library service, which does: its 503 reaches the caller as it is.
		expectUnavailable(t, "mkdir", mkdir("while-etcd-down"))
		expectUnavailable(t, "list", list())
		expectUnavailable(t, "begin an upload", beginUpload("while-etcd-down.bin"))
		waitHealth(http.StatusServiceUnavailable, "library", "authtoken")

		restartEtcd()
		waitSucceeds(t, "get library after the restart", http.StatusOK, getLibrary)
		waitSucceeds(t, "mint after the restart", http.StatusOK, mint)
		waitHealth(http.StatusOK)
		// The processes found each other through etcd before the outage; they still do.
		waitSucceeds(t, "mkdir after the restart", http.StatusCreated, func() answer { return mkdir("after-etcd") })
	})

	t.Run("object process killed", func(t *testing.T) {
		object.Kill(t)
		expectUnavailable(t, "begin an upload", beginUpload("while-killed.bin"))
		var last answer
		for end := time.Now().Add(recoveryWait); time.Now().Before(end) && !last.servicesAre("unreachable", "object"); time.Sleep(100 * time.Millisecond) {
			last = health()
		}
		if last.status != http.StatusServiceUnavailable || !last.servicesAre("unreachable", "object") {
			t.Fatalf("/healthz with the object process gone: %d %s", last.status, last.body)
		}

		procs = append(procs, startObject())
		waitSucceeds(t, "begin an upload after the object process is back", http.StatusCreated, func() answer { return beginUpload("after-restart.bin") })
		waitHealth(http.StatusOK)
	})

	expectNoSecretLogged(t, procs, adminKey, librarySecret, tok.AccessToken)
}

// answer is a response of the gateway.
type answer struct {
	status    int
	body      []byte
	requestID string
}

// servicesAre reports whether /healthz's body reports each of services as want.
func (a answer) servicesAre(want string, services ...string) bool {
	var h struct{ Services map[string]string }
	if json.Unmarshal(a.body, &h) != nil {
		return false
	}
	for _, s := range services {
		if h.Services[s] != want {
			return false
		}
	}
	return true
}

// recoveryWait bounds the waits for the deployment to notice a dependency's change: they fail
// only when it never does.
const recoveryWait = 2 * time.Minute

// expectUnavailable checks a is 503 with the SMH error body (smh-api.md 12.6) and code
// ServiceUnavailable, and that no word of the driver's reaches the caller.
func expectUnavailable(t *testing.T, what string, a answer) {
	t.Helper()
	var body struct{ Code, Message, RequestID string }
	if err := json.Unmarshal(a.body, &body); a.status != http.StatusServiceUnavailable || err != nil || body.Code != "ServiceUnavailable" {
		t.Fatalf("%s with a dependency down: %d %s, want 503 ServiceUnavailable", what, a.status, a.body)
	}
	if body.Message == "" || body.RequestID == "" || body.RequestID != a.requestID {
		t.Fatalf("%s: the SMH body lacks a message or the request id %q: %s", what, a.requestID, a.body)
	}
	for _, leak := range []string{"127.0.0.1", "dial", "refused", "reset", "postgres", "sql", "etcd", "deadline"} {
		if strings.Contains(strings.ToLower(string(a.body)), leak) {
			t.Fatalf("%s: the answer leaks %q: %s", what, leak, a.body)
		}
	}
}

// waitSucceeds repeats a request until it answers want; meanwhile only 503s are allowed (the
// connections the outage broke are found dead one by one).
func waitSucceeds(t *testing.T, what string, want int, request func() answer) {
	t.Helper()
	var last answer
	for end := time.Now().Add(recoveryWait); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		switch last = request(); last.status {
		case want:
			return
		case http.StatusServiceUnavailable:
			continue
		}
		t.Fatalf("%s: %d %s", what, last.status, last.body)
	}
	t.Fatalf("%s never succeeded; last %d %s", what, last.status, last.body)
}
