package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// --metrics-listen serves Prometheus metrics on a plain-HTTP listener of its own
// (docs/architecture.md, "Observability"): RPC latencies from otelgrpc, the edge's requests by route,
// the SQL stores' transactions and the blob store's operations. The public HTTPS port does not
// serve them.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	data := t.TempDir()
	addr, metricsAddr := proc.FreeAddr(t), proc.FreeAddr(t)
	const adminKey = "metrics-operator-key"
	p := serve(t, []string{"SMH_ADMIN_KEY=" + adminKey, "SMH_METRICS_LISTEN=" + metricsAddr},
		"--data-dir", data, "--listen", addr)
	ca := filepath.Join(data, "tls", tlsx.CACertFile)
	waitHealthy(t, addr, ca)

	// A library through the admin API, a token, a directory and one uploaded file.
	c := newSMHClient(t, "https://"+addr, ca, adminKey)
	c.createFileLibrary(t)
	c.mkdir(t, "crash")
	// Over the inline limit (docs/smallfiles.md), so that its bytes go through the blob store.
	body := bytes.Repeat([]byte("metrics "), 8<<10+1)
	tk, err := c.begin("m.txt", false)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.send(tk, "", bytes.NewReader(body), int64(len(body))); r.err != nil || r.status/100 != 2 {
		t.Fatal(r.failure("send"))
	}
	if r := c.confirm(t, tk.ConfirmKey, body); r.status/100 != 2 {
		t.Fatal(r.failure("confirm"))
	}

	scrape := getMetrics(t, "http://"+metricsAddr+"/metrics")
	for _, want := range []struct {
		name   string
		labels []string
	}{
		// Per RPC: otelgrpc's instrument, recorded by the in-process connection of the all-in-one.
		{"rpc_server_call_duration_seconds_count", []string{`rpc_method="smh.library.v1.LibraryService/CreateLibrary"`, `rpc_response_status_code="OK"`}},
		{"rpc_server_call_duration_seconds_count", []string{`rpc_method="smh.token.v1.TokenService/CreateToken"`}},
		// The edge, by route name and status class.
		{"gateway_http_request_duration_seconds_count", []string{`http_route="/admin/*"`, `http_request_method="POST"`, `http_response_status_class="2xx"`}},
		{"gateway_http_request_duration_seconds_count", []string{`http_route="/api/v1/token"`, `http_response_status_class="2xx"`}},
		{"gateway_http_request_duration_seconds_bucket", []string{`http_route="/api/v1/file/{LibraryId}/{SpaceId}/{FilePath...}"`, `le="+Inf"`}},
		// The SQL stores and the blob store.
		{"sqldb_transaction_duration_seconds_count", []string{`engine="sqlite"`, `kind="write"`, `outcome="ok"`}},
		{"sqldb_transaction_duration_seconds_count", []string{`engine="sqlite"`, `kind="read"`, `outcome="ok"`}},
		{"blob_operation_duration_seconds_count", []string{`store="local"`, `op="put"`, `outcome="ok"`}},
		// The Go runtime and process collectors, and the service's name.
		{"go_goroutines", nil},
		{"process_resident_memory_bytes", nil},
		{"target_info", []string{`service_name="opensmh"`}},
	} {
		if !hasSample(scrape, want.name, want.labels) {
			t.Errorf("scrape lacks %s with %v", want.name, want.labels)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", scrape)
	}

	// The public port has no /metrics: an unknown route with the SMH error body.
	r := c.do("GET", c.base+"/metrics", nil, -1, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var smhErr map[string]any
	if r.status != http.StatusNotFound || json.Unmarshal(r.body, &smhErr) != nil || smhErr["code"] != "RouteNotFound" {
		t.Errorf("public GET /metrics: %d %s, want 404 RouteNotFound", r.status, r.body)
	}

	if code := p.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM exit code %d\n%s", code, p.Output())
	}
}

func getMetrics(t *testing.T, u string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return string(b)
}

// hasSample reports whether the Prometheus text holds a sample of name carrying every label.
func hasSample(text, name string, labels []string) bool {
	for line := range strings.Lines(text) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(rest, l)
		}
		if all {
			return true
		}
	}
	return false
}
