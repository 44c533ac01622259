package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/etcdx"
	"github.com/opensmh/opensmh/pkg/sqldb/sqldbtest"
	"github.com/opensmh/opensmh/tests/internal/tcpproxy"
)

// TestDatabaseDown takes PostgreSQL away from one all-in-one (a TCP proxy between them), first
// as a stopped server (connections refused and reset), then as a hung one (connections accepted,
// never answered): requests that need the database answer 503 ServiceUnavailable with the SMH
// body instead of 500 or a hang, /healthz reports the stores' services as not serving while
// /livez stays up, and everything serves again once the database is back.
func TestDatabaseDown(t *testing.T) {
	dsn, err := url.Parse(sqldbtest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := tcpproxy.Start(t, dsn.Host)
	dsn.Host = proxy.Addr
	// A short transaction deadline makes the hung database answer soon; readiness is checked
	// often so that /healthz follows quickly. Neither is asserted as a duration: each wait below
	// is bounded only to fail on a hang.
	s := startSystemWith(t, systemOptions{DSN: dsn.String(), Deadlines: cmdutil.Deadlines{
		SQLTx: time.Second, ReadinessEvery: 100 * time.Millisecond,
	}})
	lib := s.createLibrary("files", map[string]any{"isFileLibrary": true})
	// Tokens live in etcd: minted while PostgreSQL is up or down alike.
	admin := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"boss"}})
	d := dirAPI{s: s, lib: lib.ID, space: "-"}
	mkdir := func(name string) response { return d.do("PUT", name, q(admin), nil) }
	list := func() response { return d.do("GET", "", q(admin), nil) }
	if r := mkdir("before"); r.Status != http.StatusCreated {
		t.Fatalf("mkdir with the database up: %d %s", r.Status, r.Body)
	}
	s.waitHealth(t, http.StatusOK)

	unavailable := func(t *testing.T, what string, r response) {
		t.Helper()
		expectError(t, r, http.StatusServiceUnavailable, "ServiceUnavailable")
		// The driver's words (addresses, "dial", "connection refused") stay in the log.
		for _, leak := range []string{"127.0.0.1", "dial", "refused", "reset", "postgres", "sql", "deadline"} {
			if strings.Contains(strings.ToLower(string(r.Body)), leak) {
				t.Fatalf("%s: the answer leaks %q: %s", what, leak, r.Body)
			}
		}
	}

	t.Run("stopped", func(t *testing.T) {
		// An upload begun before the outage sends its bytes to the data endpoint during it.
		files := fileAPI{s: s, lib: lib.ID, space: "-", token: admin, library: lib}
		ticket := files.begin("late.bin", nil, nil)
		proxy.Cut()
		unavailable(t, "write", mkdir("while-cut"))
		unavailable(t, "read", list())
		// The data endpoint answers in COS's XML (decision 11), with the same status.
		if r := files.send(ticket, "", []byte("bytes")); r.Status != http.StatusServiceUnavailable ||
			!strings.Contains(string(r.Body), "<Code>ServiceUnavailable</Code>") {
			t.Fatalf("data endpoint with the database down: %d %s", r.Status, r.Body)
		}
		health := s.waitHealth(t, http.StatusServiceUnavailable, "namespace", "object")
		if health.Services["library"] != "serving" || health.Services["authtoken"] != "serving" {
			t.Fatalf("healthz %v: the etcd-backed services are up", health.Services)
		}
		if r := s.call("GET", "/livez", nil, nil, nil); r.Status != http.StatusOK {
			t.Fatalf("livez with the database down: %d %s", r.Status, r.Body)
		}

		proxy.Restore()
		s.waitWrite(t, mkdir, "after-cut")
		s.waitHealth(t, http.StatusOK)
		if r := list(); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "after-cut") {
			t.Fatalf("list after the restore: %d %s", r.Status, r.Body)
		}
	})

	t.Run("hung", func(t *testing.T) {
		proxy.BlackHole()
		// The HTTP client gives up after 30 s: an answer before that is the deadline at work.
		unavailable(t, "write", mkdir("while-hung"))
		unavailable(t, "read", list())
		s.waitHealth(t, http.StatusServiceUnavailable, "namespace", "object")

		proxy.Restore()
		s.waitWrite(t, mkdir, "after-hang")
		s.waitHealth(t, http.StatusOK)
	})

	if strings.Contains(s.logText(), admin) {
		t.Fatal("a token reached the log")
	}
}

// TestEtcdDown takes etcd away from one all-in-one the same way, stopped and then hung: the
// library service's requests answer 503 ServiceUnavailable, /healthz names library and
// authtoken, and both serve again once etcd is back.
func TestEtcdDown(t *testing.T) {
	member, err := etcdx.StartEmbedded(context.Background(), etcdx.EmbeddedOptions{Dir: t.TempDir(), NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(member.Close)
	proxy := tcpproxy.Start(t, strings.TrimPrefix(member.Endpoint, "http://"))
	s := startSystemWith(t, systemOptions{EtcdEndpoints: []string{"http://" + proxy.Addr}, Deadlines: cmdutil.Deadlines{
		Etcd: time.Second, ReadinessEvery: 100 * time.Millisecond,
	}})
	lib := s.createLibrary("photos", nil)
	get := func() response { return s.admin("GET", "/admin/v1/libraries/"+lib.ID, nil) }
	s.waitHealth(t, http.StatusOK)

	for _, outage := range []struct {
		name  string
		start func()
	}{{"stopped", proxy.Cut}, {"hung", proxy.BlackHole}} {
		t.Run(outage.name, func(t *testing.T) {
			outage.start()
			expectError(t, get(), http.StatusServiceUnavailable, "ServiceUnavailable")
			s.waitHealth(t, http.StatusServiceUnavailable, "library", "authtoken")
			if r := s.call("GET", "/livez", nil, nil, nil); r.Status != http.StatusOK {
				t.Fatalf("livez with etcd down: %d %s", r.Status, r.Body)
			}

			proxy.Restore()
			var last response
			for end := time.Now().Add(recoveryWait); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
				if last = get(); last.Status != http.StatusServiceUnavailable {
					break
				}
			}
			if last.Status != http.StatusOK {
				t.Fatalf("library after the restore: %d %s", last.Status, last.Body)
			}
			s.waitHealth(t, http.StatusOK)
		})
	}
}

// healthReport is /healthz's body.
type healthReport struct {
	Status   string            `json:"status"`
	Services map[string]string `json:"services"`
}

// recoveryWait bounds the waits for the server to notice a change of its database: they fail
// only when it never does.
const recoveryWait = time.Minute

// waitHealth polls /healthz until it answers status with every service named in down reported
// not serving (each store is checked on its own), and answers its report.
func (s *system) waitHealth(t *testing.T, status int, down ...string) healthReport {
	t.Helper()
	var last response
	for end := time.Now().Add(recoveryWait); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		last = s.call("GET", "/healthz", nil, nil, nil)
		var h healthReport
		if err := json.Unmarshal(last.Body, &h); err != nil {
			t.Fatalf("healthz body: %v: %s", err, last.Body)
		}
		if last.Status == status && allNotServing(h, down) {
			return h
		}
	}
	t.Fatalf("healthz never answered %d with %v not serving; last %d %s", status, down, last.Status, last.Body)
	return healthReport{}
}

func allNotServing(h healthReport, services []string) bool {
	for _, name := range services {
		if h.Services[name] != "not_serving" {
			return false
		}
	}
	return true
}

// waitWrite repeats a write until it succeeds (the pool's connections were reset by the outage:
// the first calls after it may still meet a dead one) and checks the failures met meanwhile are
// 503s.
func (s *system) waitWrite(t *testing.T, write func(string) response, name string) {
	t.Helper()
	var last response
	for end := time.Now().Add(recoveryWait); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		last = write(name)
		switch last.Status {
		case http.StatusCreated:
			return
		case http.StatusServiceUnavailable:
			continue
		}
		t.Fatalf("write after the restore: %d %s", last.Status, last.Body)
	}
	t.Fatalf("writes never succeeded again; last %d %s", last.Status, last.Body)
}
