// Package serve checks the operator's side of bin/smh serve (docs/architecture.md, "Starting it"): first start,
// the one-time operator key, flags and SMH_* env, clear start-up errors, and a clean stop.
package serve

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

var smhBin string

func TestMain(m *testing.M) {
	dir, err := proc.Build("github.com/opensmh/opensmh/services/smh/cmd/smh")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	smhBin = filepath.Join(dir, "smh")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func serve(t *testing.T, env []string, args ...string) *proc.Proc {
	t.Helper()
	return proc.Start(t, "smh serve", env, smhBin, append([]string{"serve"}, args...)...)
}

func waitHealthy(t *testing.T, addr, caFile string) {
	t.Helper()
	proc.WaitFor(t, "https://"+addr+"/healthz", 60*time.Second, func() bool {
		pool, err := tlsx.CertPool(caFile)
		if err != nil {
			return false
		}
		c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := c.Get("https://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func TestFirstStartKeyOnceAndCleanStop(t *testing.T) {
	data := t.TempDir()
	addr := proc.FreeAddr(t)
	ca := filepath.Join(data, "tls", tlsx.CACertFile)
	// Flags and SMH_* env: the data dir comes from the environment, the address from a flag.
	first := serve(t, []string{"SMH_DATA_DIR=" + data, "SMH_ADMIN_KEY="}, "--listen", addr)
	waitHealthy(t, addr, ca)

	keyFile := filepath.Join(data, "admin.key")
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("operator key not stored: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("admin.key mode %v, want 0600", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(keyFile)
	key := strings.TrimSpace(string(raw))
	if !strings.Contains(first.Output(), key) {
		t.Fatalf("first start did not print the generated key:\n%s", first.Output())
	}
	if code := first.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM exit code %d\n%s", code, first.Output())
	}

	// A second start reuses the key and the CA, and does not print the key again.
	second := serve(t, []string{"SMH_ADMIN_KEY="}, "--data-dir", data, "--listen", addr)
	waitHealthy(t, addr, ca)
	if strings.Contains(second.Output(), key) {
		t.Fatal("the operator key was printed again on the second start")
	}
	if code := second.Stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("SIGINT exit code %d\n%s", code, second.Output())
	}
}

func TestStartupErrorsAreOneClearLine(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	badCert := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(badCert, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		want  string
		usage bool
	}{
		{"port taken", []string{"--data-dir", t.TempDir(), "--listen", busy.Addr().String()}, "cannot listen on " + busy.Addr().String(), false},
		{"data dir unwritable", []string{"--data-dir", filepath.Join(notADir, "data"), "--listen", proc.FreeAddr(t)}, "is not writable", false},
		{"bad certificate", []string{"--data-dir", t.TempDir(), "--listen", proc.FreeAddr(t), "--tls-cert", badCert, "--tls-key", badCert}, "bad certificate", false},
		{"half a certificate", []string{"--data-dir", t.TempDir(), "--listen", proc.FreeAddr(t), "--tls-cert", badCert}, "--tls-cert and --tls-key must be given together", false},
		{"plain http public url", []string{"--data-dir", t.TempDir(), "--listen", proc.FreeAddr(t), "--public-url", "http://example.com"}, "must be an https:// URL", false},
		{"unknown flag", []string{"--no-such-flag"}, "unknown flag", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := serve(t, []string{"SMH_ADMIN_KEY=k"}, tt.args...)
			if code := p.ExitCode(t); code == 0 {
				t.Fatalf("exit 0 for %s", tt.name)
			}
			expectFailureLine(t, p.Output(), tt.want, tt.usage)
		})
	}
}

// expectFailureLine fails t unless the last line of out names the cause want: a usage error is
// one plain "smh: " line (there is no logger yet); a failure once logging began is smh's one
// JSON error record, as every other line.
func expectFailureLine(t *testing.T, out, want string, usage bool) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if usage {
		if !strings.HasPrefix(last, "smh: ") || !strings.Contains(last, want) {
			t.Fatalf("last line %q does not name the cause %q\n%s", last, want, out)
		}
		return
	}
	var record struct{ Level, Msg, Error string }
	if err := json.Unmarshal([]byte(last), &record); err != nil || record.Level != "ERROR" || record.Msg != "smh stopped" || !strings.Contains(record.Error, want) {
		t.Fatalf("last line %q is not the error record naming the cause %q\n%s", last, want, out)
	}
}
