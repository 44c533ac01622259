package split

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/opensmh/opensmh/tests/internal/cluster"
)

// TestSplitDependencyDown takes the dependencies away from a split deployment (issue 15): the
// namespace and object processes keep their stores in PostgreSQL behind a TCP proxy the test
// cuts, and the one etcd member is killed and started again. While a dependency is down, the
// REST requests that need it answer 503 with the SMH body and code ServiceUnavailable (never
// 500), and /healthz answers 503 naming the services whose store is down; once it is back, the
// same requests succeed and /healthz answers 200 again, without restarting any OpenSMH process
// (docs/operations.md).
func TestSplitDependencyDown(t *testing.T) {
	d := startDeployment(t, 1)
	postgres, etcd := d.PostgresLink, d.Etcd[0]
	// The processes started again live as long as the whole test, not the subtest that starts
	// them: started with the test's t.
	restartEtcd := func() { etcd.Start(t) }
	restartObject := func() { d.Restart(t, "object-a") }

	// What a Kubernetes probe of the namespace process asks (k8s/namespace-service.yaml):
	// readiness names the service, liveness asks for "".
	nsConn, err := grpc.NewClient(d.Procs["namespace-a"].Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer nsConn.Close()
	namespaceHealth := func(t *testing.T, service string) healthpb.HealthCheckResponse_ServingStatus {
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
	waitNamespaceReady := func(t *testing.T, want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		for end := time.Now().Add(recoveryWait); namespaceHealth(t, namespaceService) != want; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("the namespace process never reported %v", want)
			}
		}
		if live := namespaceHealth(t, ""); live != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("the namespace process's liveness (\"\") is %v", live)
		}
	}
	waitNamespaceReady(t, healthpb.HealthCheckResponse_SERVING)
	if a := d.mkdir(t, "before"); a.status != http.StatusCreated {
		t.Fatalf("mkdir with everything up: %d %s", a.status, a.body)
	}

	t.Run("PostgreSQL stopped", func(t *testing.T) {
		postgres.Cut()
		expectUnavailable(t, "mkdir", d.mkdir(t, "while-cut"))
		expectUnavailable(t, "list", d.list(t))
		expectUnavailable(t, "begin an upload", d.beginUpload(t, "while-cut.bin"))
		d.waitHealth(t, http.StatusServiceUnavailable, "namespace", "object")
		waitNamespaceReady(t, healthpb.HealthCheckResponse_NOT_SERVING)
		if h := d.health(t); !h.servicesAre("serving", "library", "authtoken") {
			t.Fatalf("/healthz %s: the etcd-backed services are up", h.body)
		}

		postgres.Restore()
		waitSucceeds(t, "mkdir after the restore", http.StatusCreated, func() answer { return d.mkdir(t, "after-cut") })
		d.waitHealth(t, http.StatusOK)
		waitNamespaceReady(t, healthpb.HealthCheckResponse_SERVING)
		waitSucceeds(t, "begin an upload after the restore", http.StatusCreated, func() answer { return d.beginUpload(t, "after-cut.bin") })
		if a := d.list(t); a.status != http.StatusOK || !strings.Contains(string(a.body), "after-cut") {
			t.Fatalf("list after the restore: %d %s", a.status, a.body)
		}
	})

	t.Run("PostgreSQL hung", func(t *testing.T) {
		postgres.BlackHole()
		expectUnavailable(t, "mkdir", d.mkdir(t, "while-hung"))
		expectUnavailable(t, "list", d.list(t))
		d.waitHealth(t, http.StatusServiceUnavailable, "namespace", "object")

		postgres.Restore()
		waitSucceeds(t, "mkdir after the hang", http.StatusCreated, func() answer { return d.mkdir(t, "after-hang") })
		d.waitHealth(t, http.StatusOK)
	})

	t.Run("etcd killed", func(t *testing.T) {
		etcd.Proc.Kill(t)
		expectUnavailable(t, "get library", d.getLibrary(t))
		expectUnavailable(t, "mint", d.mint(t))
		// The namespace and object processes need no etcd of their own to serve these, but they
		// ask the library service for the library's settings, which it cannot read: its 503
		// reaches the caller as it is once their copy of the settings (a short cache) is stale.
		attempt := 0
		waitUnavailable(t, "mkdir", http.StatusCreated, func() answer { attempt++; return d.mkdir(t, fmt.Sprint("while-etcd-down-", attempt)) })
		waitUnavailable(t, "list", http.StatusOK, func() answer { return d.list(t) })
		waitUnavailable(t, "begin an upload", http.StatusCreated, func() answer {
			attempt++
			return d.beginUpload(t, fmt.Sprint("while-etcd-down-", attempt, ".bin"))
		})
		d.waitHealth(t, http.StatusServiceUnavailable, "library", "authtoken")

		restartEtcd()
		waitSucceeds(t, "get library after the restart", http.StatusOK, func() answer { return d.getLibrary(t) })
		waitSucceeds(t, "mint after the restart", http.StatusOK, func() answer { return d.mint(t) })
		d.waitHealth(t, http.StatusOK)
		// The processes found each other through etcd before the outage; they still do.
		waitSucceeds(t, "mkdir after the restart", http.StatusCreated, func() answer { return d.mkdir(t, "after-etcd") })
	})

	t.Run("object process killed", func(t *testing.T) {
		d.Kill(t, "object-a")
		expectUnavailable(t, "begin an upload", d.beginUpload(t, "while-killed.bin"))
		var last answer
		for end := time.Now().Add(recoveryWait); time.Now().Before(end) && !last.servicesAre("unreachable", "object"); time.Sleep(100 * time.Millisecond) {
			last = d.health(t)
		}
		if last.status != http.StatusServiceUnavailable || !last.servicesAre("unreachable", "object") {
			t.Fatalf("/healthz with the object process gone: %d %s", last.status, last.body)
		}

		restartObject()
		waitSucceeds(t, "begin an upload after the object process is back", http.StatusCreated, func() answer { return d.beginUpload(t, "after-restart.bin") })
		d.waitHealth(t, http.StatusOK)
	})

	d.ExpectNoSecretLogged(t)
}

// deployment is a split deployment with one replica of each service, on its own PostgreSQL
// behind a link the test cuts, with one file library and an admin token of it.
type deployment struct {
	*cluster.Deployment
	libraryID, librarySecret, token string
}

// startDeployment starts the processes on etcdMembers etcd members with short store deadlines
// (a hung dependency answers soon) and frequent readiness checks (/healthz follows soon), waits
// for /healthz to answer 200, and makes the library and the token.
func startDeployment(t *testing.T, etcdMembers int) *deployment {
	t.Helper()
	d := &deployment{Deployment: cluster.Start(t, t.TempDir(), cluster.Options{BinDir: binDir, EtcdMembers: etcdMembers, Replicas: 1, Gateways: 1,
		// Nothing the tests assert is a duration: these only shorten the waits.
		Env: []string{"SMH_SQL_TX_TIMEOUT=2s", "SMH_ETCD_CALL_TIMEOUT=2s", "SMH_READINESS_EVERY=200ms"}})}
	d.libraryID, d.librarySecret = createFileLibrary(t, d.Client, cluster.PublicURL, d.AdminKey)
	minted := d.mint(t)
	var tok struct{ AccessToken string }
	if err := json.Unmarshal(minted.body, &tok); minted.status != http.StatusOK || err != nil {
		t.Fatalf("mint: %d %s", minted.status, minted.body)
	}
	d.token = tok.AccessToken
	d.AddSecret(d.librarySecret, d.token)
	return d
}

func (d *deployment) call(t *testing.T, method, path string, q url.Values, admin bool) answer {
	t.Helper()
	req, _ := http.NewRequest(method, cluster.PublicURL+path+"?"+q.Encode(), nil)
	if admin {
		req.Header.Set("Authorization", "Bearer "+d.AdminKey)
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		// The request's URL holds the access token: the error names the path only.
		t.Fatalf("%s %s: %v", method, path, strings.ReplaceAll(err.Error(), q.Encode(), "…"))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: body, requestID: resp.Header.Get("X-SMH-Request-Id")}
}

func (d *deployment) health(t *testing.T) answer { return d.call(t, "GET", "/healthz", nil, false) }

// waitHealth polls /healthz until it answers status with each of notServing reported not serving.
func (d *deployment) waitHealth(t *testing.T, status int, notServing ...string) {
	t.Helper()
	var last answer
	for end := time.Now().Add(recoveryWait); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if last = d.health(t); last.status == status && last.servicesAre("not_serving", notServing...) {
			return
		}
	}
	t.Fatalf("/healthz never answered %d with %v not serving; last %d %s", status, notServing, last.status, last.body)
}

// mint asks authtoken for an admin token with the library secret (the gateway checks the secret
// with the library service first).
func (d *deployment) mint(t *testing.T) answer {
	return d.call(t, "GET", "/api/v1/token", url.Values{"library_id": {d.libraryID}, "library_secret": {d.librarySecret},
		"grant": {"admin"}, "user_id": {"oscar"}}, false)
}

func (d *deployment) getLibrary(t *testing.T) answer {
	return d.call(t, "GET", "/admin/v1/libraries/"+d.libraryID, nil, true)
}

func (d *deployment) mkdir(t *testing.T, name string) answer {
	return d.call(t, "PUT", "/api/v1/directory/"+d.libraryID+"/-/"+url.PathEscape(name), url.Values{"access_token": {d.token}}, false)
}

func (d *deployment) list(t *testing.T) answer {
	return d.call(t, "GET", "/api/v1/directory/"+d.libraryID+"/-/", url.Values{"access_token": {d.token}}, false)
}

// beginUpload asks for an upload's ticket (smh-api.md 3.1): the object service's write.
func (d *deployment) beginUpload(t *testing.T, name string) answer {
	return d.call(t, "PUT", "/api/v1/file/"+d.libraryID+"/-/"+url.PathEscape(name), url.Values{"access_token": {d.token}}, false)
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

// waitUnavailable repeats a request until it answers 503 ServiceUnavailable (see
// expectUnavailable); meanwhile it may still succeed (answer ok) from what a service has cached.
func waitUnavailable(t *testing.T, what string, ok int, request func() answer) {
	t.Helper()
	var last answer
	for end := time.Now().Add(recoveryWait); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		switch last = request(); last.status {
		case http.StatusServiceUnavailable:
			expectUnavailable(t, what, last)
			return
		case ok:
			continue
		}
		t.Fatalf("%s: %d %s, want %d or 503", what, last.status, last.body, ok)
	}
	t.Fatalf("%s never answered 503; last %d %s", what, last.status, last.body)
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

// TestSplitEtcdQuorumLost runs the split deployment on a three-member etcd cluster: when the
// leader is killed, requests answer as they did or 503 while the others elect a new one, never
// 500, and succeed again without a restart; with a second member killed the cluster has no
// leader, and the requests that need etcd answer 503 ServiceUnavailable and /healthz 503 naming
// library and authtoken until the members are back.
func TestSplitEtcdQuorumLost(t *testing.T) {
	d := startDeployment(t, 3)
	members := d.Etcd

	leader := cluster.EtcdLeader(t, members)
	leader.Proc.Kill(t)
	// Whether a request meets the election is up to the scheduler: either answer is right.
	waitSucceeds(t, "get library after the leader's loss", http.StatusOK, func() answer { return d.getLibrary(t) })
	waitSucceeds(t, "mint after the leader's loss", http.StatusOK, func() answer { return d.mint(t) })
	waitSucceeds(t, "mkdir after the leader's loss", http.StatusCreated, func() answer { return d.mkdir(t, "after-election") })
	d.waitHealth(t, http.StatusOK)

	var second *cluster.EtcdMember
	for _, m := range members {
		if m != leader {
			second = m
			break
		}
	}
	second.Proc.Kill(t)
	expectUnavailable(t, "get library without a leader", d.getLibrary(t))
	expectUnavailable(t, "mint without a leader", d.mint(t))
	d.waitHealth(t, http.StatusServiceUnavailable, "library", "authtoken")

	for _, m := range []*cluster.EtcdMember{leader, second} {
		m.Launch(t)
	}
	for _, m := range members {
		m.WaitHealthy(t)
	}
	waitSucceeds(t, "get library with the quorum back", http.StatusOK, func() answer { return d.getLibrary(t) })
	waitSucceeds(t, "mint with the quorum back", http.StatusOK, func() answer { return d.mint(t) })
	d.waitHealth(t, http.StatusOK)
	d.ExpectNoSecretLogged(t)
}
