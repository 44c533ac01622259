package cluster

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/opensmh/opensmh/tests/internal/proc"
)

// Postgres is a PostgreSQL server of the test's own, which the test can stop and start again as
// an operator would (the machine's shared server must not be stopped).
type Postgres struct {
	bin, dir, port string
	cred           *syscall.Credential
	proc           *proc.Proc
	t              proc.T
}

// StartPostgres initialises a cluster in a new directory (trust authentication, user postgres,
// fsync off: the tests prove the services' behaviour, not PostgreSQL's durability) and starts it
// on a free port. Run as root, the server runs as the postgres user, as it must. Without
// Debian's PostgreSQL server binaries it fails t.
func StartPostgres(t proc.T) *Postgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		t.Fatalf("PostgreSQL's server binaries NOT FOUND under /usr/lib/postgresql (Debian's postgresql package)")
	}
	slices.Sort(bins)
	s := &Postgres{bin: filepath.Dir(bins[len(bins)-1]), t: t}
	dir, err := os.MkdirTemp("", "smh-test-postgres-")
	if err != nil {
		t.Fatalf("PostgreSQL's directory: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s.dir = filepath.Join(dir, "data")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs the postgres user: %v", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, int(uid), int(gid)); err != nil {
			t.Fatalf("PostgreSQL's directory: %v", err)
		}
	}
	initdb := exec.Command(filepath.Join(s.bin, "initdb"), "-D", s.dir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	_, s.port, _ = net.SplitHostPort(proc.FreeAddr(t))
	s.Start()
	return s
}

// Addr is where the server listens.
func (s *Postgres) Addr() string { return "127.0.0.1:" + s.port }

// DSN answers the DSN of its postgres database at addr (the server's, or a proxy's in front).
func (s *Postgres) DSN(addr string) string {
	return fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", addr)
}

// Start starts the server (again, after Stop) on its port and data, and waits until it accepts
// connections.
func (s *Postgres) Start() {
	s.t.Helper()
	s.proc = proc.StartAs(s.t, "postgres", s.cred, filepath.Join(s.bin, "postgres"), "-D", s.dir, "-p", s.port,
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+filepath.Dir(s.dir),
		"-c", "fsync=off", "-c", "max_connections=200")
	proc.WaitFor(s.t, "PostgreSQL to accept connections", 60*time.Second, func() bool {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			return false
		}
		c.Close()
		return exec.Command(filepath.Join(s.bin, "pg_isready"), "-h", "127.0.0.1", "-p", s.port).Run() == nil
	})
}

// Stop shuts the server down as `pg_ctl stop -m fast` does (SIGINT): every session is told
// "terminating connection due to administrator command" and closed.
func (s *Postgres) Stop() {
	s.t.Helper()
	if code := s.proc.Stop(s.t, syscall.SIGINT); code != 0 {
		s.t.Fatalf("PostgreSQL exited %d on a fast shutdown", code)
	}
}
