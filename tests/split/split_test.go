// Package split runs OpenSMH as a split deployment: a real etcd process and the library,
// authtoken and gateway binaries as separate processes that find each other through etcd.
package split

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/tlsx"
)

// binDir holds the service binaries built once for the package.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "smh-split-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	for _, pkg := range []string{"library/cmd/library", "authtoken/cmd/authtoken", "gateway/cmd/gateway"} {
		cmd := exec.Command("go", "build", "-o", dir, "github.com/opensmh/opensmh/services/"+pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", pkg, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a child process whose output is kept for failure reports.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func start(t *testing.T, name string, env []string, path string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("--- %s output ---\n%s", name, out.String())
		}
	})
	return p
}

// stop sends SIGTERM and answers the exit error (nil = exit 0).
func (p *proc) stop(t *testing.T) error {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30s", p.name)
		return nil
	}
}

// kill ends the process at once, as a crash would.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Kill()
	err := <-p.done
	p.done <- err
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSplitDeployment(t *testing.T) {
	etcdBin, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatalf("the split-deployment test needs an etcd binary on PATH (apt-get install etcd-server): %v", err)
	}
	tmp := t.TempDir()
	clientPort, peerPort := freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	start(t, "etcd", nil, etcdBin,
		"--name", "split", "--data-dir", filepath.Join(tmp, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "split="+peerURL)
	waitFor(t, "etcd", 30*time.Second, func() bool {
		resp, err := http.Get(etcdURL + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	adminKey := "split-operator-key-0123456789"
	gwPort, libPort, tokPort := freePort(t), freePort(t), freePort(t)
	publicURL := fmt.Sprintf("https://127.0.0.1:%d", gwPort)
	env := []string{
		"SMH_ADMIN_KEY=" + adminKey,
		"SMH_SECRET_KEK=" + base64.StdEncoding.EncodeToString(kek),
		"SMH_ETCD_ENDPOINTS=" + etcdURL,
		"SMH_LOG_LEVEL=debug",
	}
	bin := func(name string) string { return filepath.Join(binDir, name) }
	library := start(t, "library", env, bin("library"), "--listen", fmt.Sprintf("127.0.0.1:%d", libPort), "--public-url", publicURL)
	tokenArgs := []string{"--listen", fmt.Sprintf("127.0.0.1:%d", tokPort)}
	authtoken := start(t, "authtoken", env, bin("authtoken"), tokenArgs...)
	gateway := start(t, "gateway", env, bin("gateway"), "--listen", fmt.Sprintf("127.0.0.1:%d", gwPort), "--data-dir", filepath.Join(tmp, "gw"))

	caFile := filepath.Join(tmp, "gw", "tls", tlsx.CACertFile)
	waitFor(t, "the gateway's CA certificate", 30*time.Second, func() bool { _, err := os.Stat(caFile); return err == nil })
	pool, err := tlsx.CertPool(caFile)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	call := func(method, path string, q url.Values, body string, admin bool) (int, map[string]any) {
		t.Helper()
		u := publicURL + path
		if q != nil {
			u += "?" + q.Encode()
		}
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, u, rd)
		if admin {
			req.Header.Set("Authorization", "Bearer "+adminKey)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	healthy := func() bool { code, _ := call("GET", "/healthz", nil, "", false); return code == http.StatusOK }
	waitFor(t, "the gateway to report every service healthy", 60*time.Second, healthy)

	code, lib := call("POST", "/admin/v1/libraries", nil, `{"name":"split"}`, true)
	if code != http.StatusCreated {
		t.Fatalf("create library: %d %v", code, lib)
	}
	libID, secret := lib["libraryId"].(string), lib["librarySecret"].(string)
	mint := func(user string) string {
		t.Helper()
		code, m := call("GET", "/api/v1/token", url.Values{"library_id": {libID}, "library_secret": {secret}, "user_id": {user}}, "", false)
		if code != http.StatusOK {
			t.Fatalf("mint: %d %v", code, m)
		}
		return m["accessToken"].(string)
	}
	renew := func(tok string) int {
		code, _ := call("POST", "/api/v1/token/"+libID+"/"+tok, nil, "", false)
		return code
	}

	// Mint, use, revoke.
	tok := mint("alice")
	if c := renew(tok); c != http.StatusOK {
		t.Fatalf("renew: %d", c)
	}
	if c, m := call("DELETE", "/api/v1/token/"+libID, url.Values{"library_secret": {secret}, "user_id": {"alice"}}, "", false); c != http.StatusNoContent {
		t.Fatalf("revoke alice: %d %v", c, m)
	}
	if c := renew(tok); c != http.StatusForbidden {
		t.Fatalf("revoked token renewed: %d", c)
	}

	// gRPC on the gateway's port reaches the authtoken process through the gateway's proxy.
	survivor := mint("bob")
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", gwPort), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	renewed, err := tokenv1.NewTokenServiceClient(conn).RenewToken(ctx, &tokenv1.RenewTokenRequest{LibraryId: libID, AccessToken: survivor})
	if err != nil || renewed.GetAccessToken() != survivor {
		t.Fatalf("gRPC renew through the gateway: %v %v", renewed, err)
	}

	// A crash of authtoken loses nothing: a new process serves the same tokens.
	authtoken.kill(t)
	authtoken = start(t, "authtoken (restarted)", env, bin("authtoken"), tokenArgs...)
	waitFor(t, "the restarted authtoken", 60*time.Second, func() bool { return renew(survivor) == http.StatusOK })
	if c := renew(tok); c != http.StatusForbidden {
		t.Fatalf("revoked token accepted after restart: %d", c)
	}

	// Clean shutdown: each process exits 0 on SIGTERM.
	for _, p := range []*proc{gateway, authtoken, library} {
		if err := p.stop(t); err != nil {
			t.Errorf("%s exit: %v", p.name, err)
		}
	}
	for _, p := range []*proc{gateway, authtoken, library} {
		scanner := bufio.NewScanner(strings.NewReader(p.out.String()))
		for scanner.Scan() {
			line := scanner.Text()
			if strings.Contains(line, secret) || strings.Contains(line, survivor) || strings.Contains(line, tok) || strings.Contains(line, adminKey) {
				t.Errorf("%s logged a secret or token: %s", p.name, line)
			}
		}
	}
}
