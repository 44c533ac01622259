// Package proc runs the binaries and the etcd server that the process-level suites start, and
// keeps their output for assertions and failure reports.
package proc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/tests/internal/syncbuf"
)

// Build compiles Go packages (import paths) into a new temporary directory and answers it.
func Build(pkgs ...string) (string, error) {
	dir, err := os.MkdirTemp("", "smh-test-bin-")
	if err != nil {
		return "", err
	}
	for _, pkg := range pkgs {
		cmd := exec.Command("go", "build", "-o", dir, pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("build %s: %w", pkg, err)
		}
	}
	return dir, nil
}

// ServiceCommands are the import paths of the split deployment's binaries.
var ServiceCommands = []string{
	"github.com/opensmh/opensmh/services/library/cmd/library",
	"github.com/opensmh/opensmh/services/authtoken/cmd/authtoken",
	"github.com/opensmh/opensmh/services/namespace/cmd/namespace",
	"github.com/opensmh/opensmh/services/object/cmd/object",
	"github.com/opensmh/opensmh/services/gateway/cmd/gateway",
}

// SMHCommand is the import path of the smh command (smh serve, the all-in-one).
const SMHCommand = "github.com/opensmh/opensmh/services/smh/cmd/smh"

// RunWithBinaries is a test package's TestMain: it builds pkgs into a temporary directory, sets
// *dir to it, runs the tests, removes the directory and answers the exit code.
func RunWithBinaries(m *testing.M, dir *string, pkgs ...string) int {
	built, err := Build(pkgs...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(built)
	*dir = built
	return m.Run()
}

// T is what these helpers need of a test. A *testing.T has it, and so does the runner of a
// package's TestMain that starts one deployment for all its tests (tests/internal/cluster.Suite).
type T interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Failed() bool
}

// Proc is a running child process.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan error
}

// Start runs path with args and extra environment; the process is killed when the test ends,
// and its output is logged if the test failed.
func Start(t T, name string, env []string, path string, args ...string) *Proc {
	t.Helper()
	return start(t, name, env, nil, path, args...)
}

// StartAs is Start as another user (cred; nil: this process's own), for a server that refuses
// to run as root.
func StartAs(t T, name string, cred *syscall.Credential, path string, args ...string) *Proc {
	t.Helper()
	return start(t, name, nil, cred, path, args...)
}

func start(t T, name string, env []string, cred *syscall.Credential, path string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		p.wait(10 * time.Second)
		if t.Failed() {
			t.Logf("--- %s output ---\n%s", name, out.String())
		}
	})
	return p
}

// Output answers everything the process wrote so far.
func (p *Proc) Output() string { return p.out.String() }

// LogRecords answers every line the process wrote, each decoded as a JSON log record, and fails
// t for each line that is not one: a JSON object with a time (RFC 3339), a level and a msg. The
// binaries write nothing else once their logger exists (issue 15).
func (p *Proc) LogRecords(t T) []map[string]any {
	t.Helper()
	var records []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.Output()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Errorf("%s wrote a line that is not a JSON object: %q", p.Name, sc.Text())
			continue
		}
		when, _ := r["time"].(string)
		level, _ := r["level"].(string)
		_, hasMsg := r["msg"].(string)
		if _, err := time.Parse(time.RFC3339Nano, when); err != nil || level == "" || !hasMsg {
			t.Errorf("%s wrote a JSON line without time, level and msg: %q", p.Name, sc.Text())
			continue
		}
		records = append(records, r)
	}
	if err := sc.Err(); err != nil {
		t.Errorf("reading the output of %s: %v", p.Name, err)
	}
	return records
}

// wait answers the exit error, or false when the process is still running after d.
func (p *Proc) wait(d time.Duration) (error, bool) {
	select {
	case err := <-p.done:
		p.done <- err // later waits see it too
		return err, true
	case <-time.After(d):
		return nil, false
	}
}

// ExitCode waits up to 30 s for the process to end and answers its exit code.
func (p *Proc) ExitCode(t T) int {
	t.Helper()
	err, ended := p.wait(30 * time.Second)
	if !ended {
		t.Fatalf("%s did not exit within 30s", p.Name)
	}
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("%s: %v", p.Name, err)
	return -1
}

// Stop sends sig and answers the exit code.
func (p *Proc) Stop(t T, sig syscall.Signal) int {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	return p.ExitCode(t)
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	_, ended := p.wait(0)
	return ended
}

// Signal sends sig without waiting for anything (SIGSTOP, SIGCONT).
func (p *Proc) Signal(t T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s: %v", p.Name, err)
	}
}

// Kill ends the process at once, as a crash would.
func (p *Proc) Kill(t T) {
	t.Helper()
	_ = p.cmd.Process.Kill()
	p.wait(30 * time.Second)
}

// FreeAddr answers a loopback address with a port that was free a moment ago.
func FreeAddr(t T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WaitFor polls ok every 100 ms until it holds, failing the test after timeout.
func WaitFor(t T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ExpectNoSecretLogged fails t for every output line of procs that holds one of secrets (empty
// ones are ignored: a secret the test never obtained cannot leak).
func ExpectNoSecretLogged(t T, procs []*Proc, secrets ...string) {
	t.Helper()
	for _, p := range procs {
		scanner := bufio.NewScanner(strings.NewReader(p.Output()))
		scanner.Buffer(nil, 1<<20)
		for scanner.Scan() {
			line := scanner.Text()
			for _, s := range secrets {
				if s != "" && strings.Contains(line, s) {
					t.Errorf("%s logged a secret or token: %s", p.Name, line)
					break
				}
			}
		}
		if err := scanner.Err(); err != nil {
			t.Errorf("reading the output of %s: %v", p.Name, err)
		}
	}
}
