// Package cluster starts OpenSMH as a split deployment for the process-level suites: an etcd
// cluster, a PostgreSQL server, an in-memory S3, and every service (library, authtoken,
// namespace, object) as separate processes with replicas, behind gateways sharing one CA. The
// faults test harms it; the e2e suite's split runner sends it the business-API tests
// (docs/testing.md).
package cluster

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/proc"
	"github.com/opensmh/opensmh/tests/internal/tcpproxy"
)

// The host names clients use: every connection goes to a gateway whatever the host (Transport),
// as DNS pointing both names at a load balancer in front of the gateways would.
const (
	PublicHost = "media.smh.test"
	DataHost   = "files.smh.test"
)

// S3Bucket is the bucket the object replicas keep file bytes in.
const S3Bucket = "smh"

// Options shape a deployment.
type Options struct {
	// BinDir holds the service binaries (proc.ServiceCommands, built by proc.RunWithBinaries).
	BinDir string
	// EtcdMembers is the etcd cluster's size (default 3).
	EtcdMembers int
	// Replicas of each of library, authtoken, namespace and object (default 2).
	Replicas int
	// Gateways in front of them, sharing one CA (default 2).
	Gateways int
	// Env is more environment for every service (short deadlines for a faults test, say).
	Env []string
	// ObjectArgs are more flags of every object replica.
	ObjectArgs []string
}

// Deployment is a running split deployment.
type Deployment struct {
	// Procs are the services by name (library-a, ..., gateway-b): the running process of each.
	Procs map[string]*Process
	// Etcd is the cluster's members.
	Etcd []*EtcdMember
	// Postgres is the deployment's own server; the services reach it through PostgresLink, which
	// a test can cut.
	Postgres     *Postgres
	PostgresLink *tcpproxy.Proxy
	S3           FakeS3
	// Gateways maps each gateway's name to its listen address.
	Gateways map[string]string
	// Pool trusts the gateways' CA.
	Pool     *x509.CertPool
	AdminKey string
	// Client sends requests through the gateways; it does not follow redirects (a download
	// answers 302 with the signed URL, which tests check).
	Client *http.Client

	opts     Options
	replicas []string
	// all holds every process started, the killed ones too, for the checks of their logs.
	all []*proc.Proc
	// secrets are what no process may log; tests running in parallel add theirs.
	secretsMu sync.Mutex
	secrets   []string
}

// Process is one service process, with what it takes to start it again.
type Process struct {
	*proc.Proc
	// Addr is its --listen address: gRPC for a service, HTTPS for a gateway.
	Addr string
	path string
	env  []string
	args []string
	// Restarted tells a process started again after a kill.
	Restarted bool
}

// PublicURL is the base URL of the business and admin APIs; DataURL is the download origin
// (the gateways' --data-url).
const (
	PublicURL = "https://" + PublicHost
	DataURL   = "https://" + DataHost
)

// Start starts a deployment and waits until every gateway reports every service ready; it ends
// with t.
func Start(t proc.T, dir string, o Options) *Deployment {
	t.Helper()
	o.EtcdMembers = cmp.Or(o.EtcdMembers, 3)
	o.Replicas = cmp.Or(o.Replicas, 2)
	o.Gateways = cmp.Or(o.Gateways, 2)
	d := &Deployment{Procs: map[string]*Process{}, Gateways: map[string]string{}, AdminKey: "split-operator-key-0123456789", opts: o}
	for i := range o.Replicas {
		d.replicas = append(d.replicas, string(rune('a'+i)))
	}

	var names []string
	for i := range o.EtcdMembers {
		names = append(names, fmt.Sprint(i))
	}
	d.Etcd = StartEtcdCluster(t, EtcdBinary(t), dir, names...)
	for _, m := range d.Etcd {
		d.all = append(d.all, m.Proc)
	}
	d.Postgres = StartPostgres(t)
	d.PostgresLink = tcpproxy.Start(t, d.Postgres.Addr())
	dsn := d.Postgres.DSN(d.PostgresLink.Addr)
	d.S3 = StartFakeS3(t, dir)

	const kek = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes, base64
	env := append([]string{
		"SMH_ADMIN_KEY=" + d.AdminKey,
		"SMH_SECRET_KEK=" + kek,
		"SMH_ETCD_ENDPOINTS=" + ClientURLs(d.Etcd),
		"SMH_LOG_LEVEL=info",
	}, o.Env...)
	d.secrets = append(d.secrets, d.AdminKey, kek, d.S3.SecretKey)
	for _, r := range d.replicas {
		d.start(t, "library-"+r, env, "library", "--listen", proc.FreeAddr(t), "--public-url", PublicURL)
		d.start(t, "authtoken-"+r, env, "authtoken", "--listen", proc.FreeAddr(t))
		d.start(t, "namespace-"+r, env, "namespace", "--listen", proc.FreeAddr(t), "--sql-dsn", dsn, "--public-url", PublicURL)
		d.start(t, "object-"+r, append(slices.Clone(env), d.S3.Env...), "object", append([]string{
			"--listen", proc.FreeAddr(t), "--data-listen", proc.FreeAddr(t),
			"--domain", DataHost, "--sql-dsn", dsn, "--s3-endpoint", d.S3.Endpoint, "--s3-bucket", S3Bucket,
			"--s3-create-bucket"}, o.ObjectArgs...)...)
	}
	proc.WaitFor(t, "every replica of every service to register in etcd", 60*time.Second, func() bool {
		for _, s := range []string{"library", "authtoken", "namespace", "object", discovery.ObjectData} {
			if EtcdKeyCount(d.Etcd[0].ClientURL, discovery.Prefix+s+"/") != o.Replicas {
				return false
			}
		}
		return true
	})
	d.startGateways(t, dir, env)
	return d
}

// startGateways starts the gateways with one CA (README, "On machines of your own"): the first
// makes it, the others get a copy before they start.
func (d *Deployment) startGateways(t proc.T, dir string, env []string) {
	t.Helper()
	first := filepath.Join(dir, "gateway-a")
	for i := range d.opts.Gateways {
		name := "gateway-" + string(rune('a'+i))
		gwDir := filepath.Join(dir, name)
		if i > 0 {
			copyCA(t, first, gwDir)
		}
		addr := proc.FreeAddr(t)
		d.Gateways[name] = addr
		d.start(t, name, env, "gateway", "--listen", addr, "--public-url", PublicURL, "--data-url", DataURL, "--data-dir", gwDir)
		if i == 0 {
			caFile := filepath.Join(first, "tls", tlsx.CACertFile)
			proc.WaitFor(t, "the first gateway's CA", 30*time.Second, func() bool { _, err := os.Stat(caFile); return err == nil })
		}
	}
	pool, err := tlsx.CertPool(filepath.Join(first, "tls", tlsx.CACertFile))
	if err != nil {
		t.Fatalf("the gateways' CA: %v", err)
	}
	d.Pool = pool
	d.Client = &http.Client{Timeout: 60 * time.Second, Transport: d.Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for name := range d.Gateways {
		proc.WaitFor(t, name+" to report every service ready", 60*time.Second, func() bool { return d.Healthz(name) == http.StatusOK })
	}
}

// copyCA gives the gateway keeping its data in to the CA of the one in from.
func copyCA(t proc.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(to, "tls"), 0o700); err != nil {
		t.Fatalf("copy the CA: %v", err)
	}
	for _, f := range []string{tlsx.CACertFile, "ca-key.pem"} {
		data, err := os.ReadFile(filepath.Join(from, "tls", f))
		if err != nil {
			t.Fatalf("copy the CA: %v", err)
		}
		if err := os.WriteFile(filepath.Join(to, "tls", f), data, 0o600); err != nil {
			t.Fatalf("copy the CA: %v", err)
		}
	}
}

// Transport reaches the public and download hosts through whichever gateway accepts a
// connection, taking them in turn, as a load balancer in front of them would.
func (d *Deployment) Transport() *http.Transport {
	var turn atomic.Uint64
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	names := make([]string, 0, len(d.Gateways))
	for name := range d.Gateways {
		names = append(names, name)
	}
	slices.Sort(names)
	return &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: d.Pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			start := int(turn.Add(1) % uint64(len(names)))
			var err error
			for i := range names {
				var c net.Conn
				if c, err = dialer.DialContext(ctx, network, d.Gateways[names[(start+i)%len(names)]]); err == nil {
					return c, nil
				}
			}
			return nil, err
		},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
	}
}

func (d *Deployment) start(t proc.T, name string, env []string, binary string, args ...string) {
	t.Helper()
	path := filepath.Join(d.opts.BinDir, binary)
	d.Procs[name] = &Process{Proc: proc.Start(t, name, env, path, args...), Addr: listenAddr(args), path: path, env: env, args: args}
	d.all = append(d.all, d.Procs[name].Proc)
}

// listenAddr answers the value of --listen in args.
func listenAddr(args []string) string {
	if i := slices.Index(args, "--listen"); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// Kill ends a service process at once, as a crash would.
func (d *Deployment) Kill(t proc.T, name string) {
	t.Helper()
	d.Procs[name].Kill(t)
}

// Signal sends a service process sig (SIGSTOP, SIGCONT).
func (d *Deployment) Signal(t proc.T, name string, sig syscall.Signal) {
	t.Helper()
	d.Procs[name].Signal(t, sig)
}

// Restart starts a killed process again with its arguments, as a supervisor would, and waits
// until it serves: a service listed in etcd again, a gateway ready.
func (d *Deployment) Restart(t proc.T, name string) {
	t.Helper()
	old := d.Procs[name]
	d.Procs[name] = &Process{Proc: proc.Start(t, name, old.env, old.path, old.args...), Addr: old.Addr, path: old.path, env: old.env, args: old.args, Restarted: true}
	d.all = append(d.all, d.Procs[name].Proc)
	service, _, _ := strings.Cut(name, "-")
	if service == "gateway" {
		proc.WaitFor(t, name+" to serve again", 60*time.Second, func() bool { return d.Healthz(name) == http.StatusOK })
		return
	}
	proc.WaitFor(t, name+" to register in etcd again", 60*time.Second, func() bool {
		return EtcdKeyCount(d.Etcd[0].ClientURL, discovery.Prefix+service+"/") == d.opts.Replicas
	})
}

// RestartedEtcd records a member started again, for the checks of every process's logs.
func (d *Deployment) RestartedEtcd(m *EtcdMember) { d.all = append(d.all, m.Proc) }

// Healthz answers the status of a gateway's /healthz (0 when it cannot be reached).
func (d *Deployment) Healthz(gateway string) int {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: d.Pool, ServerName: PublicHost}}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://" + d.Gateways[gateway] + "/healthz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// AddSecret records a value no process may log (a library secret, a token).
func (d *Deployment) AddSecret(s ...string) {
	d.secretsMu.Lock()
	defer d.secretsMu.Unlock()
	d.secrets = append(d.secrets, s...)
}

// Secrets answers what no process may log: the operator key, the KEK, the S3 secret and those
// added.
func (d *Deployment) Secrets() []string {
	d.secretsMu.Lock()
	defer d.secretsMu.Unlock()
	return slices.Clone(d.secrets)
}

// All answers every process started, the killed ones too.
func (d *Deployment) All() []*proc.Proc { return d.all }

// ExpectNoSecretLogged fails t for every line any process of the deployment wrote that holds a
// secret.
func (d *Deployment) ExpectNoSecretLogged(t proc.T) {
	t.Helper()
	proc.ExpectNoSecretLogged(t, d.all, d.Secrets()...)
}
