package serve

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// TestEveryLineIsJSON: `smh serve` at debug, doing some work and running its background jobs,
// writes nothing but JSON log records from start to stop (issue 15): the services' and the
// jobs' records, gRPC's, and the embedded etcd's own, which used to be dropped. The generated
// operator key, which is shown once on stdout and never logged, is not asked for here
// (SMH_ADMIN_KEY is set); TestFirstStartKeyOnceAndCleanStop covers it.
func TestEveryLineIsJSON(t *testing.T) {
	data := t.TempDir()
	addr := proc.FreeAddr(t)
	const adminKey = "jsonlog-operator-key-0123456789"
	// The purge job runs every 100 ms and removes deleted entries at once, so that its record
	// comes while the test waits.
	p := serve(t, []string{"SMH_ADMIN_KEY=" + adminKey}, "--data-dir", data, "--listen", addr,
		"--log-level", "debug", "--gc-every", "100ms", "--purge-after", "1ms")
	ca := filepath.Join(data, "tls", tlsx.CACertFile)
	waitHealthy(t, addr, ca)

	c := newSMHClient(t, "https://"+addr, ca, adminKey)
	c.createFileLibrary(t)
	c.mkdir(t, "gone")
	if r := c.api(t, "DELETE", "/api/v1/directory/"+c.lib+"/-/gone", nil, nil); r.status/100 != 2 {
		t.Fatalf("delete the directory: %d %s", r.status, r.body)
	}
	proc.WaitFor(t, "the namespace purge job to log the deleted directory", 60*time.Second, func() bool {
		return strings.Contains(p.Output(), `"msg":"namespace purge"`)
	})
	if code := p.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM exit code %d", code)
	}

	seen := map[string]bool{}
	for _, r := range p.LogRecords(t) {
		switch {
		case r["component"] == "etcd":
			seen["the embedded etcd member"] = true
		case r["component"] == "grpc":
			seen["gRPC"] = true
		case r["msg"] == "namespace purge" && r["purged"] != nil && r["purged"] != float64(0):
			seen["the namespace purge job"] = true
		case r["msg"] == "opensmh serving" && r["url"] == "https://"+addr:
			seen["the start"] = true
		}
	}
	for _, want := range []string{"the embedded etcd member", "gRPC", "the namespace purge job", "the start"} {
		if !seen[want] {
			t.Errorf("no record from %s", want)
		}
	}
	expectNoSecret(t, p, adminKey, c.token)
}

// expectNoSecret fails t for every line of p's output that holds one of secrets.
func expectNoSecret(t *testing.T, p *proc.Proc, secrets ...string) {
	t.Helper()
	for _, line := range strings.Split(p.Output(), "\n") {
		for _, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				t.Errorf("a secret or token in the log: %s", line)
			}
		}
	}
}
