// Package cli drives the built smh binary as users do, against an all-in-one `smh serve` started
// once for the package (docs/cli.md): files, big files with progress and resume, the recycle bin,
// versions, quota, search, shares and shell completion. Each test makes libraries of its own.
package cli

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/cluster"
	"github.com/opensmh/opensmh/tests/internal/proc"
	"github.com/opensmh/opensmh/tests/internal/tcpproxy"
)

const adminKey = "cli-test-operator-key-0123456789abcdef"

// server is the all-in-one the tests call. Clients reach it through a proxy (its public URL), so
// that a test can count and slow the bytes that cross the network.
var server struct {
	bin, url, ca string
	proc         *proc.Proc
	proxy        *tcpproxy.Proxy
}

func TestMain(m *testing.M) {
	var suite cluster.Suite
	os.Exit(suite.Run(func(s *cluster.Suite) {
		dir, err := proc.Build(proc.SMHCommand)
		if err != nil {
			s.Fatalf("%v", err)
		}
		s.Cleanup(func() { os.RemoveAll(dir) })
		server.bin = filepath.Join(dir, "smh")
		data := s.TempDir()
		addr := proc.FreeAddr(s)
		server.proxy = tcpproxy.Start(s, addr)
		server.url = "https://" + server.proxy.Addr
		server.ca = filepath.Join(data, "data", "tls", tlsx.CACertFile)
		server.proc = proc.Start(s, "smh serve", []string{"SMH_ADMIN_KEY=" + adminKey}, server.bin, "serve",
			"--data-dir", filepath.Join(data, "data"), "--listen", addr, "--public-url", server.url)
		proc.WaitFor(s, server.url+"/healthz", 60*time.Second, healthy)
	}, m.Run))
}

func healthy() bool {
	c, err := httpsClient()
	if err != nil {
		return false
	}
	resp, err := c.Get(server.url + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// httpsClient answers a client that trusts the server's CA, for what a test checks without smh.
func httpsClient() (*http.Client, error) {
	pool, err := tlsx.CertPool(server.ca)
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, nil
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// user is who runs the command: the environment it runs with (SMH_URL and SMH_CA_CERT always,
// credentials as the test gives them) and the directory it runs in.
type user struct {
	t   *testing.T
	env []string
	dir string
}

// operator answers a user holding the operator key.
func operator(t *testing.T) user {
	return user{t: t, env: []string{"SMH_ADMIN_KEY=" + adminKey}, dir: t.TempDir()}
}

// cmd answers the command, not started.
func (u user) cmd(args ...string) *exec.Cmd {
	c := exec.Command(server.bin, args...)
	c.Dir = u.dir
	c.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + u.dir, "SMH_URL=" + server.url, "SMH_CA_CERT=" + server.ca,
		"SMH_STATE_DIR=" + filepath.Join(u.dir, ".smh-state")}, u.env...)
	return c
}

// run runs the command to its end.
func (u user) run(args ...string) result {
	u.t.Helper()
	c := u.cmd(args...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatalf("smh %s: %v", strings.Join(args, " "), err)
	}
	return result{code, out.String(), errOut.String()}
}

// ok runs the command and expects exit 0; it answers stdout.
func (u user) ok(args ...string) string {
	u.t.Helper()
	r := u.run(args...)
	if r.code != 0 {
		u.t.Fatalf("smh %s: exit %d\nstdout %s\nstderr %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// okJSON runs the command with --json and decodes its output into v.
func (u user) okJSON(v any, args ...string) {
	u.t.Helper()
	out := u.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		u.t.Fatalf("smh %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs the command and expects the exit code, with want in stderr.
func (u user) fails(code int, want string, args ...string) result {
	u.t.Helper()
	r := u.run(args...)
	if r.code != code || !strings.Contains(r.stderr, want) {
		u.t.Fatalf("smh %s: exit %d, stderr %q; want exit %d naming %q\nstdout %s", strings.Join(args, " "), r.code, r.stderr, code, want, r.stdout)
	}
	return r
}

// library is a library a test made, with its secret.
type library struct {
	ID, Secret string
}

// newLibrary creates a library with `smh library create` and reads its secret with
// `smh library secret`. extension is libraryExtension as JSON ("" = none).
func newLibrary(t *testing.T, extension string, flags ...string) library {
	t.Helper()
	op := operator(t)
	args := append([]string{"library", "create", "--name", "cli-" + fmt.Sprint(time.Now().UnixNano()%1e9)}, flags...)
	if extension != "" {
		args = append(args, "--extension", extension)
	}
	var created struct {
		LibraryID string `json:"libraryId"`
	}
	if err := json.Unmarshal([]byte(op.ok(args...)), &created); err != nil || created.LibraryID == "" {
		t.Fatalf("library create: %v", err)
	}
	var secret struct {
		LibrarySecret string `json:"librarySecret"`
	}
	if err := json.Unmarshal([]byte(op.ok("library", "secret", created.LibraryID)), &secret); err != nil || secret.LibrarySecret == "" {
		t.Fatalf("library secret: %v", err)
	}
	return library{ID: created.LibraryID, Secret: secret.LibrarySecret}
}

// owner answers a user who calls with the library secret (a token minted per command).
func (l library) owner(t *testing.T) user {
	return user{t: t, env: []string{"SMH_LIBRARY_SECRET=" + l.Secret}, dir: t.TempDir()}
}

// at answers the remote address of path in the library's single space.
func (l library) at(path string) string { return l.ID + ":" + path }

// writeFile writes data to name in the user's directory and answers its path.
func (u user) writeFile(name string, data []byte) string {
	u.t.Helper()
	p := filepath.Join(u.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		u.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		u.t.Fatal(err)
	}
	return p
}
