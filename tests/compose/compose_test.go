// Package compose brings docker-compose.yaml up for real: the image built from the Dockerfile,
// the split profile under one compose version and the all-in-one profile under the other, a
// smoke workload through the published port over HTTPS, then a container crash that its restart
// policy must undo without losing a confirmed file.
//
// Needs a Docker engine, Debian's docker-compose 1.29 and Docker Compose v2 (`docker compose`);
// .ci/run installs and starts them, and builds the stand-in images that scripts/local-images.sh
// makes where no image registry is reachable (selected through SMH_GO_IMAGE, SMH_RUNTIME_IMAGE,
// SMH_ETCD_IMAGE and SMH_POSTGRES_IMAGE, as for a user of the compose file). With CI=true a
// missing piece fails the test; elsewhere it skips, saying what is missing.
package compose

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc64"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/tests/internal/dataorigin"
	"github.com/opensmh/opensmh/tests/internal/hostnet"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// imageTag is the OpenSMH image's tag for these tests (the compose file's opensmh:${VERSION}).
const imageTag = "compose-test"

// imageVars select the images; unset, the compose file names the official ones.
var imageVars = []string{"SMH_GO_IMAGE", "SMH_RUNTIME_IMAGE", "SMH_ETCD_IMAGE", "SMH_POSTGRES_IMAGE"}

// composeTool is one compose implementation: the command that runs it.
type composeTool struct {
	name string
	argv []string
}

func TestComposeUp(t *testing.T) {
	docker := requireDocker(t)
	// Builds and compose projects add and remove interfaces, which aborts a browser's requests
	// (tests/console): one at a time.
	hostnet.Hold(t)
	v1 := requireCompose(t, "docker-compose 1.29", []string{"docker-compose"}, "version 1.")
	v2 := requireCompose(t, "docker compose v2", []string{docker, "compose"}, "version v")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}

	// Both versions read the file the same way: the official images by default, the variables'
	// when set; the split services by default, smh with the all-in-one profile.
	for _, c := range []composeTool{v1, v2} {
		t.Run("config/"+c.name, func(t *testing.T) { checkConfig(t, c, root) })
	}
	if t.Failed() {
		return
	}

	buildImage(t, docker, root)
	// Each profile under one version (both under both would double the minutes for little):
	// split under Debian's 1.29, the version an SRE on this distribution has, with the file's
	// dependency conditions and healthchecks; all-in-one under v2.
	// The crashes: the gateway (its CA must survive in its volume, or the client stops trusting
	// it), the object service (blobs in its volume, records in postgres), postgres itself (crash
	// recovery under the namespace and object services' connection pools); in the all-in-one,
	// the one process with its embedded etcd and SQLite stores.
	t.Run("split/"+v1.name, func(t *testing.T) {
		runDeployment(t, docker, v1, root, "split", "gateway", []string{"gateway", "object", "postgres"})
	})
	t.Run("all-in-one/"+v2.name, func(t *testing.T) {
		runDeployment(t, docker, v2, root, "all-in-one", "smh", []string{"smh"})
	})
}

// need fails under CI and skips elsewhere: a developer without Docker still runs the rest.
func need(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (CI=true makes this a failure)", args...)
}

// requireDocker answers the docker client to use: Debian's /usr/bin/docker when present (it
// speaks the API of Debian's engine and builds with its built-in BuildKit; a newer client
// elsewhere on PATH may lack the buildx plugin that its BuildKit builds need), else docker.
func requireDocker(t *testing.T) string {
	t.Helper()
	docker := "/usr/bin/docker"
	if _, err := os.Stat(docker); err != nil {
		if docker, err = exec.LookPath("docker"); err != nil {
			need(t, "docker is not installed")
		}
	}
	if out, err := exec.Command(docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		need(t, "the Docker engine does not answer (%s info: %v: %s)", docker, err, bytes.TrimSpace(out))
	}
	return docker
}

func requireCompose(t *testing.T, name string, argv []string, want string) composeTool {
	t.Helper()
	out, err := exec.Command(argv[0], append(argv[1:], "version")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), want) {
		need(t, "%s is not installed (%s version: %v: %.200s); see .ci/run", name, strings.Join(argv, " "), err, out)
	}
	return composeTool{name: strings.ReplaceAll(name, " ", "-"), argv: argv}
}

// checkConfig renders the file (with placeholder settings, not secrets: config prints them).
func checkConfig(t *testing.T, c composeTool, root string) {
	env := withoutImageVars(os.Environ())
	env = append(env, "SMH_ADMIN_KEY=placeholder", "SMH_SECRET_KEK=placeholder", "SMH_POSTGRES_PASSWORD=placeholder")
	envFile := emptyEnvFile(t)
	render := func(env []string, profile bool) string {
		args := []string{"-p", "smhconfig", "-f", filepath.Join(root, "docker-compose.yaml"), "--env-file", envFile}
		if profile {
			args = append(args, "--profile", "all-in-one")
		}
		out, err := run(context.Background(), root, env, c.argv, append(args, "config")...)
		if err != nil {
			t.Fatalf("%s config: %v\n%s", c.name, err, out)
		}
		return out
	}
	official := render(env, true)
	for _, img := range []string{"golang:1.26", "gcr.io/distroless/static-debian12:nonroot",
		"gcr.io/etcd-development/etcd:v3.5.21", "postgres:15", "opensmh:dev"} {
		if !strings.Contains(official, img) {
			t.Errorf("%s config without the image variables does not name %s", c.name, img)
		}
	}
	local := render(append(slices.Clone(env), "SMH_GO_IMAGE=local/go:1", "SMH_RUNTIME_IMAGE=local/runtime:1",
		"SMH_ETCD_IMAGE=local/etcd:1", "SMH_POSTGRES_IMAGE=local/postgres:1", "SMH_HTTPS_PORT=127.0.0.1:18443"), true)
	for _, img := range []string{"local/go:1", "local/runtime:1", "local/etcd:1", "local/postgres:1", "127.0.0.1"} {
		if !strings.Contains(local, img) {
			t.Errorf("%s config with the image and port variables does not name %s", c.name, img)
		}
	}
	if strings.Contains(local, "gcr.io/") || strings.Contains(local, "postgres:15") {
		t.Errorf("%s config with the image variables still names an official image", c.name)
	}
	split := render(env, false)
	for _, svc := range []string{"etcd:", "postgres:", "library:", "authtoken:", "namespace:", "object:", "gateway:"} {
		if !strings.Contains(split, "\n  "+svc) {
			t.Errorf("%s config: the default services lack %s", c.name, strings.TrimSuffix(svc, ":"))
		}
	}
	// Whether smh stays out of the default set is checked on a real `up` (runDeployment):
	// 1.29's config lists every service whatever its profile.
	if !strings.Contains(official, "\n  smh:") {
		t.Errorf("%s config with the all-in-one profile lacks smh", c.name)
	}
}

// buildImage builds the OpenSMH image from the Dockerfile with BuildKit (its RUN --mount caches
// persist in the engine, so a rebuild recompiles only what changed), on the base images the
// variables select.
func buildImage(t *testing.T, docker, root string) {
	t.Helper()
	args := []string{"build", "-q", "-t", "opensmh:" + imageTag, "--build-arg", "VERSION=" + imageTag,
		// The build's go mod download reaches the Go module proxy the way the host does.
		"--network", "host"}
	if v := os.Getenv("SMH_GO_IMAGE"); v != "" {
		args = append(args, "--build-arg", "GO_IMAGE="+v)
	}
	if v := os.Getenv("SMH_RUNTIME_IMAGE"); v != "" {
		args = append(args, "--build-arg", "RUNTIME_IMAGE="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	if out, err := run(ctx, root, append(os.Environ(), "DOCKER_BUILDKIT=1"), []string{docker}, append(args, root)...); err != nil {
		t.Fatalf("docker build: %v\n%s", err, tail(out, 40))
	}
	t.Logf("image opensmh:%s built in %s", imageTag, time.Since(start).Round(time.Second))
}

// deployment is one compose project brought up for a test.
type deployment struct {
	t         *testing.T
	docker    string
	compose   composeTool
	root      string
	project   string
	profile   string
	env       []string
	envFile   string // empty: see emptyEnvFile
	base      string // https://localhost:port
	client    *http.Client
	secrets   []string
	files     map[string][]byte // confirmed files and their bytes
	lib       string
	libSecret string
	token     string
}

func runDeployment(t *testing.T, docker string, c composeTool, root, profile, front string, crash []string) {
	d := up(t, docker, c, root, profile, front)
	// The profiles keep the two deployments apart: the default up starts no smh, and the
	// all-in-one starts nothing but smh.
	other := map[string]string{"split": "smh", "all-in-one": "gateway"}[profile]
	if id := d.containerID(other); id != "" {
		t.Errorf("%s up of the %s profile started %s too", c.name, profile, other)
	}
	d.workload("before")
	for _, svc := range crash {
		d.crash(svc)
		d.waitHealthy()
		d.waitServing()
		// Every file confirmed before the crash is still there, byte for byte, and the
		// deployment takes new ones.
		d.expectFiles()
		d.workload("after-" + svc)
	}
	d.expectNoSecretLogged()
}

// up starts the profile with a project name and port of its own and waits until /healthz
// answers 200 over HTTPS, trusting the CA copied out of the front container.
func up(t *testing.T, docker string, c composeTool, root, profile, front string) *deployment {
	t.Helper()
	_, port, _ := net.SplitHostPort(proc.FreeAddr(t))
	d := &deployment{t: t, docker: docker, compose: c, root: root, profile: profile,
		project: fmt.Sprintf("smhtest%d%s", os.Getpid(), strings.NewReplacer("-", "", ".", "").Replace(c.name+profile)),
		base:    "https://localhost:" + port, files: map[string][]byte{}, envFile: emptyEnvFile(t)}
	adminKey, kek, pgPassword := randomText(32), base64.StdEncoding.EncodeToString(randomBytes(32)), randomText(24)
	d.secrets = []string{adminKey, kek, pgPassword}
	d.env = append(os.Environ(),
		"VERSION="+imageTag,
		// Published on the loopback address only: nothing outside this machine reaches it.
		"SMH_HTTPS_PORT=127.0.0.1:"+port,
		"SMH_PUBLIC_URL="+d.base,
		"SMH_DOMAIN=localhost:"+port,
		"SMH_ADMIN_KEY="+adminKey,
		"SMH_SECRET_KEK="+kek,
		"SMH_POSTGRES_PASSWORD="+pgPassword,
	)
	t.Cleanup(d.down)
	args := []string{"up", "-d", "--no-build"}
	if profile == "all-in-one" {
		args = append(args, front)
	}
	if out, err := d.composeRun(5*time.Minute, args...); err != nil {
		t.Fatalf("%s up: %v\n%s", c.name, err, d.redact(tail(out, 40)))
	}

	// The CA, as the compose file's header tells a user to fetch it.
	ca := filepath.Join(t.TempDir(), "ca.pem")
	proc.WaitFor(t, "the local CA in "+front, 2*time.Minute, func() bool {
		id := d.containerID(front)
		return id != "" && exec.Command(docker, "cp", id+":/data/tls/ca.pem", ca).Run() == nil
	})
	pem, err := os.ReadFile(ca)
	pool := x509.NewCertPool()
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("ca.pem copied out of %s is no PEM certificate: %v", front, err)
	}
	d.client = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool},
			// localhost is the loopback address the port is published on, whatever the resolver
			// says first (::1 is not published).
			DialContext: dataorigin.LoopbackDialer("localhost"),
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	d.waitHealthy()
	d.expectHardened()
	return d
}

// expectHardened: every container of the OpenSMH image runs as nonroot on a read-only root,
// without capabilities and with no-new-privileges, as the compose file and the Dockerfile say.
func (d *deployment) expectHardened() {
	t := d.t
	t.Helper()
	out, err := exec.Command(d.docker, "ps", "-q", "--filter", "label=com.docker.compose.project="+d.project).Output()
	ids := strings.Fields(string(out))
	if err != nil || len(ids) == 0 {
		t.Fatalf("docker ps of %s: %v, %d containers", d.project, err, len(ids))
	}
	ours := 0
	for _, id := range ids {
		c := d.inspect(id)
		if c.Config.Image != "opensmh:"+imageTag {
			continue
		}
		ours++
		h := c.HostConfig
		if c.Config.User != "65532:65532" || !h.ReadonlyRootfs || !slices.Contains(h.CapDrop, "ALL") ||
			!slices.ContainsFunc(h.SecurityOpt, func(o string) bool { return strings.HasPrefix(o, "no-new-privileges") }) {
			t.Errorf("%s: user %q, read-only root %v, cap_drop %v, security_opt %v; want 65532:65532, true, ALL, no-new-privileges",
				c.Name, c.Config.User, h.ReadonlyRootfs, h.CapDrop, h.SecurityOpt)
		}
	}
	if want := map[string]int{"split": 5, "all-in-one": 1}[d.profile]; ours != want {
		t.Errorf("%d containers of opensmh:%s in %s, want %d", ours, imageTag, d.project, want)
	}
}

func (d *deployment) composeRun(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	base := []string{"-p", d.project, "-f", filepath.Join(d.root, "docker-compose.yaml"), "--env-file", d.envFile}
	if d.profile == "all-in-one" {
		base = append(base, "--profile", "all-in-one")
	}
	return run(ctx, d.root, d.env, d.compose.argv, append(base, args...)...)
}

// containerID answers the container of a service (`ps -q`, as in the compose file's header).
func (d *deployment) containerID(svc string) string {
	out, err := d.composeRun(time.Minute, "ps", "-q", svc)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// down removes the project with its volumes; on failure it first shows the services' logs.
func (d *deployment) down() {
	if d.t.Failed() {
		out, _ := d.composeRun(time.Minute, "logs", "--no-color", "--tail", "40")
		d.t.Logf("logs of %s:\n%s", d.project, d.redact(out))
	}
	if out, err := d.composeRun(3*time.Minute, "down", "-v", "--remove-orphans"); err != nil {
		d.t.Errorf("%s down -v: %v\n%s", d.compose.name, err, d.redact(out))
	}
}

func (d *deployment) waitHealthy() {
	d.t.Helper()
	proc.WaitFor(d.t, d.project+" /healthz 200", 3*time.Minute, func() bool {
		resp, err := d.client.Get(d.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// waitServing waits until the library's listing answers 200. /healthz follows readiness, which a
// service refreshes periodically: right after postgres comes back, the first calls on the
// services' old connections may still answer 503 "try again later" (the contract for an
// unavailable dependency); any other answer fails.
func (d *deployment) waitServing() {
	d.t.Helper()
	q := d.query()
	q.Set("limit", "1")
	proc.WaitFor(d.t, d.project+" listing 200", 2*time.Minute, func() bool {
		status, body := d.call("GET", "/api/v1/directory/"+d.lib+"/-/", q, nil, nil)
		if status != http.StatusOK && status != http.StatusServiceUnavailable {
			d.t.Fatalf("list after a crash: %d %.300s", status, d.redact(string(body)))
		}
		return status == http.StatusOK
	})
}

// crash kills the service's container the way a crash would, SIGKILL to its main process from
// the host: `docker kill` marks a container as stopped by hand, and then the restart policy
// rightly leaves it down. The policy (unless-stopped) must bring it back.
func (d *deployment) crash(svc string) {
	t := d.t
	t.Helper()
	id := d.containerID(svc)
	if id == "" {
		t.Fatalf("no container for %s", svc)
	}
	before := d.inspect(id)
	if !before.State.Running || before.State.Pid <= 0 {
		t.Fatalf("%s is not running before the crash: %+v", svc, before.State)
	}
	if err := syscall.Kill(before.State.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL %s (pid %d): %v", svc, before.State.Pid, err)
	}
	proc.WaitFor(t, svc+" restarted by its restart policy", 2*time.Minute, func() bool {
		now := d.inspect(id)
		return now.RestartCount > before.RestartCount && now.State.Running && now.State.Pid != before.State.Pid
	})
	if id2 := d.containerID(svc); id2 != id {
		t.Fatalf("%s: container %s replaced by %s: the restart policy should restart the same one", svc, id, id2)
	}
}

type containerState struct {
	Name         string
	RestartCount int
	State        struct {
		Running bool
		Pid     int
	}
	Config struct {
		Image, User string
	}
	HostConfig struct {
		ReadonlyRootfs       bool
		CapDrop, SecurityOpt []string
	}
}

func (d *deployment) inspect(id string) containerState {
	d.t.Helper()
	out, err := exec.Command(d.docker, "inspect", id).Output()
	var s []containerState
	if err != nil || json.Unmarshal(out, &s) != nil || len(s) != 1 {
		d.t.Fatalf("docker inspect %s: %v", id, err)
	}
	return s[0]
}

// workload: on first use a file library and a token, then a few files uploaded and confirmed
// (sizes from empty to past one block), the listing naming every confirmed file, and each file
// downloaded byte-identical.
func (d *deployment) workload(round string) {
	t := d.t
	t.Helper()
	if d.lib == "" {
		d.lib = d.createLibrary()
		d.token = d.mint(d.lib)
	}
	for i, size := range []int{0, 1, 1000, 300 << 10} {
		name := fmt.Sprintf("%s-%d.bin", round, i)
		data := randomBytes(size)
		d.upload(name, data)
		d.files[name] = data
	}
	d.expectFiles()
}

func (d *deployment) createLibrary() string {
	t := d.t
	t.Helper()
	status, body := d.call("POST", "/admin/v1/libraries", nil, []byte(`{"name":"compose","libraryExtension":{"isFileLibrary":true}}`),
		http.Header{"Authorization": {"Bearer " + d.secrets[0]}})
	var lib struct{ LibraryID, LibrarySecret string }
	if status != http.StatusCreated || json.Unmarshal(body, &lib) != nil || lib.LibraryID == "" || lib.LibrarySecret == "" {
		t.Fatalf("create a file library: %d %.300s", status, d.redact(string(body)))
	}
	d.secrets = append(d.secrets, lib.LibrarySecret)
	d.libSecret = lib.LibrarySecret
	return lib.LibraryID
}

func (d *deployment) mint(lib string) string {
	t := d.t
	t.Helper()
	status, body := d.call("GET", "/api/v1/token", url.Values{"library_id": {lib}, "library_secret": {d.libSecret},
		"grant": {"admin"}, "user_id": {"compose"}}, nil, nil)
	var minted struct{ AccessToken string }
	if status != http.StatusOK || json.Unmarshal(body, &minted) != nil || minted.AccessToken == "" {
		t.Fatalf("mint a token: %d %.300s", status, d.redact(string(body)))
	}
	d.secrets = append(d.secrets, minted.AccessToken)
	return minted.AccessToken
}

// upload: begin (a ticket naming the public host and port), the bytes to the ticket, confirm.
func (d *deployment) upload(name string, data []byte) {
	t := d.t
	t.Helper()
	path := "/api/v1/file/" + d.lib + "/-/" + url.PathEscape(name)
	status, body := d.call("PUT", path, d.query(), nil, nil)
	var tk struct {
		Domain, Path, ConfirmKey string
		Headers                  map[string]string
	}
	if status != http.StatusCreated || json.Unmarshal(body, &tk) != nil || tk.ConfirmKey == "" {
		t.Fatalf("begin upload of %s: %d %.300s", name, status, d.redact(string(body)))
	}
	if want := strings.TrimPrefix(d.base, "https://"); tk.Domain != want {
		t.Fatalf("upload ticket names %q, not the published %q (SMH_DOMAIN)", tk.Domain, want)
	}
	h := http.Header{}
	for k, v := range tk.Headers {
		h.Set(k, v)
	}
	if status, body := d.call("PUT", "https://"+tk.Domain+tk.Path, nil, data, h); status != http.StatusOK {
		t.Fatalf("send the bytes of %s: %d %.300s", name, status, d.redact(string(body)))
	}
	crc := strconv.FormatUint(crc64.Checksum(data, crc64.MakeTable(crc64.ECMA)), 10)
	q := d.query()
	q.Set("confirm", "")
	status, body = d.call("POST", "/api/v1/file/"+d.lib+"/-/"+url.PathEscape(tk.ConfirmKey), q, []byte(`{"crc64":"`+crc+`"}`), nil)
	var file struct{ Size, CRC64 string }
	if status != http.StatusOK || json.Unmarshal(body, &file) != nil || file.Size != strconv.Itoa(len(data)) || file.CRC64 != crc {
		t.Fatalf("confirm %s: %d %.300s", name, status, d.redact(string(body)))
	}
}

// expectFiles: the root listing names exactly the confirmed files, and each downloads
// byte-identical through the published port.
func (d *deployment) expectFiles() {
	t := d.t
	t.Helper()
	q := d.query()
	q.Set("limit", "1000")
	status, body := d.read("/api/v1/directory/"+d.lib+"/-/", q)
	var listing struct {
		Contents []struct{ Name string }
	}
	if status != http.StatusOK || json.Unmarshal(body, &listing) != nil {
		t.Fatalf("list: %d %.300s", status, d.redact(string(body)))
	}
	var got, want []string
	for _, c := range listing.Contents {
		got = append(got, c.Name)
	}
	for name := range d.files {
		want = append(want, name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("listing %v, want the confirmed files %v", got, want)
	}
	for _, name := range want {
		status, loc := d.read("/api/v1/file/"+d.lib+"/-/"+url.PathEscape(name), d.query())
		if status != http.StatusFound {
			t.Errorf("download %s: %d %.300s", name, status, d.redact(string(loc)))
			continue
		}
		status, got := d.read(string(loc), nil)
		if status != http.StatusOK || sha256.Sum256(got) != sha256.Sum256(d.files[name]) {
			t.Errorf("the bytes of %s: %d, %d bytes (want %d, identical)", name, status, len(got), len(d.files[name]))
		}
	}
}

// read GETs path, waiting out 503s for a minute. Right after a dependency restarts, each
// connection a service pooled to it is found dead at its first use, and that request answers 503
// (dependency unavailable: try again, decision 46) while the service dials anew; waitServing's
// one listing cannot show that every pooled connection has been replaced.
func (d *deployment) read(path string, q url.Values) (int, []byte) {
	d.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		status, body := d.call("GET", path, q, nil, nil)
		if status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return status, body
		}
		d.t.Logf("%s answered 503 after a restart; asking again", d.redact(strings.SplitN(path, "?", 2)[0]))
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *deployment) query() url.Values { return url.Values{"access_token": {d.token}} }

// call sends one request to path (relative to the published base, or a full URL) and answers
// the status and body, or for a redirect the Location.
func (d *deployment) call(method, path string, q url.Values, body []byte, h http.Header) (int, []byte) {
	d.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = d.base + path
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %s", method, strings.SplitN(path, "?", 2)[0], d.redact(err.Error()))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		return resp.StatusCode, []byte(resp.Header.Get("Location"))
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatalf("%s %s: reading the answer: %v", method, strings.SplitN(path, "?", 2)[0], err)
	}
	return resp.StatusCode, got
}

// expectNoSecretLogged: no service wrote the admin key, the KEK, the database password, the
// library secret or the token to its log.
func (d *deployment) expectNoSecretLogged() {
	d.t.Helper()
	out, err := d.composeRun(time.Minute, "logs", "--no-color")
	if err != nil {
		d.t.Fatalf("%s logs: %v", d.compose.name, err)
	}
	if len(out) == 0 {
		d.t.Fatalf("%s logs: empty", d.compose.name)
	}
	for i, s := range d.secrets {
		if strings.Contains(out, s) {
			d.t.Errorf("secret #%d of the test appears in the services' logs", i)
		}
	}
}

// redact replaces the test's secrets in text shown in a failure.
func (d *deployment) redact(s string) string {
	for _, sec := range d.secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// run runs argv plus args in dir with env and answers its combined output.
func run(ctx context.Context, dir string, env, argv []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], append(slices.Clone(argv[1:]), args...)...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// emptyEnvFile is for --env-file: a developer's .env beside the compose file must not change
// what is tested (1.29 wants a regular file, so not /dev/null).
func emptyEnvFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "empty.env")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func withoutImageVars(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(imageVars, name) || name == "SMH_HTTPS_PORT" || name == "VERSION"
	})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// randomText is URL-safe (hex): the postgres password goes into DSNs unescaped.
func randomText(n int) string { return hex.EncodeToString(randomBytes(n)) }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
