// Package serve checks the operator's side of bin/smh serve (admin-api.md section 1): first start,
// the one-time operator key, flags and SMH_* env, clear start-up errors, and a clean stop.
package serve

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/tlsx"
)

var smhBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "smh-serve-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	smhBin = filepath.Join(dir, "smh")
	cmd := exec.Command("go", "build", "-o", smhBin, "github.com/opensmh/opensmh/services/smh/cmd/smh")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build smh:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serve starts bin/smh serve with args and env; it answers the command and its combined output.
func serve(t *testing.T, env []string, args ...string) (*exec.Cmd, *strings.Builder, chan error) {
	t.Helper()
	cmd := exec.Command(smhBin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out := &strings.Builder{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.Close()
		<-lines
		done <- err
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case err := <-done:
			done <- err
		case <-time.After(10 * time.Second):
		}
	})
	return cmd, out, done
}

func waitHealthy(t *testing.T, url, caFile string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if pool, err := tlsx.CertPool(caFile); err == nil {
			c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			if resp, err := c.Get(url + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never became healthy", url)
}

func exitCode(t *testing.T, done chan error) int {
	t.Helper()
	select {
	case err := <-done:
		done <- err
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("wait: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("smh did not exit within 30s")
	}
	return -1
}

func TestFirstStartKeyOnceAndCleanStop(t *testing.T) {
	data := t.TempDir()
	addr := freeAddr(t)
	// Flags and SMH_* env: the data dir comes from the environment, the address from a flag.
	cmd, out, done := serve(t, []string{"SMH_DATA_DIR=" + data, "SMH_ADMIN_KEY="}, "--listen", addr)
	waitHealthy(t, "https://"+addr, filepath.Join(data, "tls", tlsx.CACertFile))

	keyFile := filepath.Join(data, "admin.key")
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("operator key not stored: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("admin.key mode %v, want 0600", st.Mode().Perm())
	}
	key, _ := os.ReadFile(keyFile)
	if !strings.Contains(out.String(), strings.TrimSpace(string(key))) {
		t.Fatalf("first start did not print the generated key:\n%s", out.String())
	}

	_ = cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, done); code != 0 {
		t.Fatalf("SIGTERM exit code %d\n%s", code, out.String())
	}

	// A second start reuses the key and does not print it again.
	cmd2, out2, done2 := serve(t, []string{"SMH_ADMIN_KEY="}, "--data-dir", data, "--listen", addr)
	waitHealthy(t, "https://"+addr, filepath.Join(data, "tls", tlsx.CACertFile))
	if strings.Contains(out2.String(), strings.TrimSpace(string(key))) {
		t.Fatal("the operator key was printed again on the second start")
	}
	_ = cmd2.Process.Signal(syscall.SIGINT)
	if code := exitCode(t, done2); code != 0 {
		t.Fatalf("SIGINT exit code %d\n%s", code, out2.String())
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
		name string
		args []string
		want string
	}{
		{"port taken", []string{"--data-dir", t.TempDir(), "--listen", busy.Addr().String()}, "cannot listen on " + busy.Addr().String()},
		{"data dir unwritable", []string{"--data-dir", filepath.Join(notADir, "data"), "--listen", freeAddr(t)}, "is not writable"},
		{"bad certificate", []string{"--data-dir", t.TempDir(), "--listen", freeAddr(t), "--tls-cert", badCert, "--tls-key", badCert}, "bad certificate"},
		{"half a certificate", []string{"--data-dir", t.TempDir(), "--listen", freeAddr(t), "--tls-cert", badCert}, "--tls-cert and --tls-key must be given together"},
		{"plain http public url", []string{"--data-dir", t.TempDir(), "--listen", freeAddr(t), "--public-url", "http://example.com"}, "must be an https:// URL"},
		{"unknown flag", []string{"--no-such-flag"}, "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, out, done := serve(t, []string{"SMH_ADMIN_KEY=k"}, tt.args...)
			if code := exitCode(t, done); code == 0 {
				t.Fatalf("exit 0 for %s", tt.name)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "smh: ") || !strings.Contains(last, tt.want) {
				t.Fatalf("last line %q does not name the cause %q\n%s", last, tt.want, out.String())
			}
		})
	}
}
