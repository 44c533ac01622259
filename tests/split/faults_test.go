package split

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/tests/internal/cluster"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// TestFaultsUnderLoad runs the split deployment with two replicas of every service (three etcd
// members, a PostgreSQL server of its own, the object service on S3, two gateways sharing one CA) while a workload
// uploads and downloads through the gateways, and injects faults one after another (issue 15,
// item 2): kill -9 of one replica of each service, kill -9 of the etcd leader, PostgreSQL away
// for 10 s (stopped, then cut off), a process paused. Each killed process is started again, as a supervisor would.
//
// It asserts that no request ever answers 500 (a dependency that is down answers 503
// ServiceUnavailable), that only the requests caught by a fault fail (after each fault settles,
// every upload succeeds again), that readiness turns false while PostgreSQL is away and true
// after, that every file confirmed before or during the faults downloads byte-identical at the
// end, and that no process that was not killed had to be restarted. It prints the failure
// window after the etcd leader's loss.
func TestFaultsUnderLoad(t *testing.T) {
	d := startFaultDeployment(t)
	w := d.startWorkload(t, 4)

	settle := func(what string) {
		t.Helper()
		w.expectRecovery(t, what, 45*time.Second)
	}
	w.waitConfirmed(t, 8, time.Minute)

	// 1. kill -9 one replica of each service, then start it again.
	for _, name := range []string{"library-a", "authtoken-a", "namespace-a", "object-a", "gateway-a"} {
		w.mark("kill -9 " + name)
		d.Kill(t, name)
		time.Sleep(2 * time.Second)
		d.Restart(t, name)
		settle("kill -9 " + name)
	}

	// 2. kill -9 the etcd leader; the cluster elects another; the member is started again.
	leader := cluster.EtcdLeader(t, d.Etcd)
	w.mark("kill -9 the etcd leader " + leader.Name)
	killedAt := time.Now()
	leader.Proc.Kill(t)
	settle("the etcd leader's loss")
	if n := w.failuresSince(killedAt); n > 0 {
		t.Logf("etcd leader loss: %d requests failed, from %v after the kill until %v after it", n,
			w.firstFailureSince(killedAt).Sub(killedAt).Round(time.Millisecond), w.lastFailureSince(killedAt).Sub(killedAt).Round(time.Millisecond))
	} else {
		t.Logf("etcd leader loss: no request failed")
	}
	leader.Start(t)
	d.RestartedEtcd(leader)
	for _, m := range d.Etcd {
		m.WaitHealthy(t)
	}

	// 3. PostgreSQL away for 10 s, twice: stopped as an operator stops it (every session told
	// "terminating connection due to administrator command"), then cut off by the network
	// (connections reset, new ones refused). Requests answer 503, readiness turns false, then true
	// again.
	for _, outage := range []struct {
		what       string
		stop, back func()
	}{
		{"PostgreSQL stopped", d.Postgres.Stop, d.Postgres.Start},
		{"PostgreSQL cut off", d.PostgresLink.Cut, d.PostgresLink.Restore},
	} {
		w.mark(outage.what)
		outage.stop()
		proc.WaitFor(t, "the gateways' readiness to turn false: "+outage.what, 20*time.Second, func() bool {
			return d.Healthz("gateway-a") == http.StatusServiceUnavailable && d.Healthz("gateway-b") == http.StatusServiceUnavailable
		})
		time.Sleep(time.Until(w.markedAt().Add(10 * time.Second)))
		if got := w.failuresSince(w.markedAt()); got == 0 {
			t.Errorf("%s: no request failed: the workload did not reach it", outage.what)
		}
		outage.back()
		proc.WaitFor(t, "the gateways' readiness to turn true again: "+outage.what, 45*time.Second, func() bool {
			return d.Healthz("gateway-a") == http.StatusOK && d.Healthz("gateway-b") == http.StatusOK
		})
		settle(outage.what)
	}

	// 4. A paused process (SIGSTOP, as a stalled VM or a long GC pause): callers time out on it
	// or move to the other replica; after SIGCONT it carries on.
	w.mark("namespace-b paused")
	d.Signal(t, "namespace-b", syscall.SIGSTOP)
	time.Sleep(5 * time.Second)
	d.Signal(t, "namespace-b", syscall.SIGCONT)
	settle("namespace-b resumed")

	w.stop(t)
	confirmed := w.confirmedFiles()
	t.Logf("workload: %d files confirmed, %d requests failed in all", len(confirmed), w.failureCount())
	w.expectNo500(t)
	// Every process that was not killed is the one that started: none exited.
	for name, p := range d.Procs {
		if p.Restarted {
			continue
		}
		if p.Exited() {
			t.Errorf("%s exited without being killed:\n%s", name, tail(p.Output(), 20))
		}
	}
	for _, m := range d.Etcd {
		if m != leader && m.Proc.Exited() {
			t.Errorf("etcd %s exited without being killed:\n%s", m.Name, tail(m.Proc.Output(), 20))
		}
	}
	// Every confirmed file reads back byte-identical, through either gateway.
	for _, f := range confirmed {
		d.expectFile(t, w.lib, w.token, f)
	}
	d.ExpectNoSecretLogged(t)
	// Our processes log JSON records only; a killed one may have had its last line cut short.
	for _, p := range d.Procs {
		if !p.Restarted {
			p.LogRecords(t)
		}
	}
}

// faultDeployment is the split deployment TestFaultsUnderLoad runs and harms.
type faultDeployment struct {
	*cluster.Deployment
}

func startFaultDeployment(t *testing.T) faultDeployment {
	t.Helper()
	return faultDeployment{cluster.Start(t, t.TempDir(), cluster.Options{
		BinDir: binDir,
		// Short deadlines, so a fault turns into an answer within the test's patience.
		Env:        []string{"SMH_SQL_TX_TIMEOUT=5s", "SMH_READINESS_EVERY=1s"},
		ObjectArgs: []string{"--gc-every=-1s"},
	})}
}

// expectFile downloads a confirmed file (302, then the signed URL) and compares its digest.
func (d faultDeployment) expectFile(t *testing.T, lib, token string, f confirmedFile) {
	t.Helper()
	status, body, err := d.get(cluster.PublicURL+"/api/v1/file/"+lib+"/-/"+url.PathEscape(f.name)+"?access_token="+url.QueryEscape(token), true)
	if err != nil || status != http.StatusFound {
		t.Errorf("download %s: %d %v %.200s", f.name, status, err, body)
		return
	}
	status, body, err = d.get(string(body), false)
	if err != nil || status != http.StatusOK || sha256.Sum256(body) != f.sum {
		t.Errorf("GET the bytes of %s: %d, %d bytes (want %d, identical), %v", f.name, status, len(body), f.size, err)
	}
}

// get answers a GET's status and body, or for a redirect when location is set, its Location.
func (d faultDeployment) get(rawURL string, location bool) (int, []byte, error) {
	resp, err := d.Client.Get(rawURL)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if location && resp.StatusCode == http.StatusFound {
		return resp.StatusCode, []byte(resp.Header.Get("Location")), nil
	}
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// newLibrary creates a file library and mints a token for the workload.
func (d faultDeployment) newLibrary(t *testing.T) (lib, token string) {
	t.Helper()
	lib, secret := createFileLibrary(t, d.Client, cluster.PublicURL, d.AdminKey)
	status, body, err := d.get(cluster.PublicURL+"/api/v1/token?"+url.Values{"library_id": {lib}, "library_secret": {secret},
		"grant": {"admin"}, "user_id": {"worker"}}.Encode(), false)
	var minted struct{ AccessToken string }
	if err != nil || status != http.StatusOK || json.Unmarshal(body, &minted) != nil || minted.AccessToken == "" {
		t.Fatalf("mint a token: %d %v %.200s", status, err, body)
	}
	d.AddSecret(secret, minted.AccessToken)
	return lib, minted.AccessToken
}

// confirmedFile is a file the workload saw confirmed.
type confirmedFile struct {
	name string
	size int
	sum  [32]byte
}

// failure is one request of the workload that did not answer what it should.
type failure struct {
	at     time.Time
	phase  string
	op     string
	status int    // 0: no answer
	code   string // the SMH error code of the body
	err    string
}

func (f failure) String() string {
	return fmt.Sprintf("%s during %q: %s: status %d code %q %s", f.at.Format("15:04:05.000"), f.phase, f.op, f.status, f.code, f.err)
}

// workload uploads files through the gateways with several workers and, now and then, reads one
// back.
type workload struct {
	d          faultDeployment
	lib, token string
	stopCh     chan struct{}
	stopping   sync.Once
	wg         sync.WaitGroup

	mu        sync.Mutex
	phase     string
	phaseAt   time.Time
	confirmed []confirmedFile
	failures  []failure
	// outcomes lists whether each finished cycle succeeded, in the order they finished.
	outcomes []cycleOutcome
}

type cycleOutcome struct {
	at   time.Time // when it finished
	took time.Duration
	ok   bool
}

func (d faultDeployment) startWorkload(t *testing.T, workers int) *workload {
	t.Helper()
	lib, token := d.newLibrary(t)
	w := &workload{d: d, lib: lib, token: token, stopCh: make(chan struct{}), phase: "start", phaseAt: time.Now()}
	for i := range workers {
		w.wg.Add(1)
		go w.run(i)
	}
	t.Cleanup(func() { w.stopOnce() })
	return w
}

func (w *workload) stopOnce() {
	w.stopping.Do(func() { close(w.stopCh) })
	w.wg.Wait()
}

func (w *workload) stop(t *testing.T) {
	t.Helper()
	w.stopOnce()
}

func (w *workload) run(worker int) {
	defer w.wg.Done()
	sizes := []int{4 << 10, 100 << 10, 300 << 10}
	for i := 0; ; i++ {
		select {
		case <-w.stopCh:
			return
		default:
		}
		data := make([]byte, sizes[rand.IntN(len(sizes))])
		for j := range data {
			data[j] = byte(rand.Uint32())
		}
		name := fmt.Sprintf("w%d-%05d.bin", worker, i)
		began := time.Now()
		ok := w.cycle(name, data)
		if !ok {
			time.Sleep(50 * time.Millisecond) // as a client backs off; keeps the logs readable
		}
		w.mu.Lock()
		w.outcomes = append(w.outcomes, cycleOutcome{time.Now(), time.Since(began), ok})
		if ok {
			w.confirmed = append(w.confirmed, confirmedFile{name, len(data), sha256.Sum256(data)})
		}
		var pick *confirmedFile
		if i%3 == 2 && len(w.confirmed) > 0 {
			c := w.confirmed[rand.IntN(len(w.confirmed))]
			pick = &c
		}
		w.mu.Unlock()
		if pick != nil {
			w.download(*pick)
		}
	}
}

// cycle uploads one file (begin, PUT, confirm) and answers whether it was confirmed; each failed
// step is recorded.
func (w *workload) cycle(name string, data []byte) bool {
	base := "https://" + cluster.PublicHost + "/api/v1/file/" + w.lib + "/-/"
	q := "?access_token=" + url.QueryEscape(w.token)
	status, body, err := w.do("begin", "PUT", base+url.PathEscape(name)+q, nil, nil, http.StatusCreated)
	if err != nil {
		return false
	}
	var tk struct {
		Domain, Path, ConfirmKey string
		Headers                  map[string]string
	}
	if json.Unmarshal(body, &tk) != nil || tk.ConfirmKey == "" {
		w.fail("begin", status, "", "bad ticket "+string(body))
		return false
	}
	h := http.Header{}
	for k, v := range tk.Headers {
		h.Set(k, v)
	}
	if _, _, err := w.do("PUT bytes", "PUT", "https://"+tk.Domain+tk.Path, data, h, http.StatusOK); err != nil {
		return false
	}
	crc := strconv.FormatUint(crc64.Checksum(data, crc64.MakeTable(crc64.ECMA)), 10)
	_, body, err = w.do("confirm", "POST", base+url.PathEscape(tk.ConfirmKey)+q+"&confirm", []byte(`{"crc64":"`+crc+`"}`), nil, http.StatusOK)
	if err != nil {
		return false
	}
	var file struct{ Size, CRC64 string }
	if json.Unmarshal(body, &file) != nil || file.Size != strconv.Itoa(len(data)) || file.CRC64 != crc {
		w.fail("confirm", http.StatusOK, "", "wrong answer "+string(body))
		return false
	}
	return true
}

func (w *workload) download(f confirmedFile) {
	status, loc, err := w.d.get(cluster.PublicURL+"/api/v1/file/"+w.lib+"/-/"+url.PathEscape(f.name)+"?access_token="+url.QueryEscape(w.token), true)
	if err != nil || status != http.StatusFound {
		w.failed("download", status, loc, err)
		return
	}
	status, body, err := w.d.get(string(loc), false)
	if err != nil || status != http.StatusOK {
		w.failed("download bytes", status, body, err)
		return
	}
	if sha256.Sum256(body) != f.sum {
		w.fail("download bytes", status, "", fmt.Sprintf("%s: %d bytes that differ from the %d confirmed", f.name, len(body), f.size))
	}
}

var errUnexpected = errors.New("unexpected answer")

// do sends one request and records it as failed unless it answers want.
func (w *workload) do(op, method, rawURL string, body []byte, h http.Header, want int) (int, []byte, error) {
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := w.d.Client.Do(req)
	if err != nil {
		w.fail(op, 0, "", err.Error())
		return 0, nil, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		w.fail(op, resp.StatusCode, "", "reading the answer: "+err.Error())
		return resp.StatusCode, nil, err
	}
	if resp.StatusCode != want {
		w.failed(op, resp.StatusCode, got, nil)
		return resp.StatusCode, got, errUnexpected
	}
	return resp.StatusCode, got, nil
}

func (w *workload) failed(op string, status int, body []byte, err error) {
	// The API answers SMH's JSON error body, the data endpoint COS's XML one (the same codes).
	var e struct{ Code string }
	if json.Unmarshal(body, &e) != nil {
		_ = xml.Unmarshal(body, &e)
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	} else if e.Code == "" {
		msg = fmt.Sprintf("%.200s", body)
	}
	w.fail(op, status, e.Code, msg)
}

func (w *workload) fail(op string, status int, code, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failures = append(w.failures, failure{time.Now(), w.phase, op, status, code, msg})
}

// mark starts a new phase of faults.
func (w *workload) mark(phase string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.phase, w.phaseAt = phase, time.Now()
}

func (w *workload) markedAt() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.phaseAt
}

// waitConfirmed waits until n files are confirmed.
func (w *workload) waitConfirmed(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	proc.WaitFor(t, fmt.Sprintf("%d confirmed uploads", n), timeout, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.confirmed) >= n
	})
}

// settledRun is how many cycles in a row must succeed for a fault to count as settled.
const settledRun = 8

// expectRecovery waits until settledRun cycles in a row have succeeded since now: only the
// requests the fault caught may fail, not those that follow.
func (w *workload) expectRecovery(t *testing.T, what string, timeout time.Duration) {
	t.Helper()
	since := time.Now()
	deadline := since.Add(timeout)
	for {
		w.mu.Lock()
		run := 0
		for i := len(w.outcomes) - 1; i >= 0 && w.outcomes[i].at.After(since) && w.outcomes[i].ok; i-- {
			run++
		}
		w.mu.Unlock()
		if run >= settledRun {
			t.Logf("%s: settled; since the fault began %d requests failed and the slowest upload took %v", what,
				w.failuresSince(w.markedAt()), w.slowestSince(w.markedAt()).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: uploads still fail %v after it; the last failures:\n%s", what, timeout, w.lastFailures(10))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// slowestSince answers the longest time an upload that finished after at took.
func (w *workload) slowestSince(at time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var slowest time.Duration
	for _, o := range w.outcomes {
		if o.at.After(at) {
			slowest = max(slowest, o.took)
		}
	}
	return slowest
}

func (w *workload) failuresSince(at time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, f := range w.failures {
		if !f.at.Before(at) {
			n++
		}
	}
	return n
}

// firstFailureSince and lastFailureSince answer the times of the first and last failures after
// at (at itself when none failed).
func (w *workload) firstFailureSince(at time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.failures {
		if !f.at.Before(at) {
			return f.at
		}
	}
	return at
}

func (w *workload) lastFailureSince(at time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	last := at
	for _, f := range w.failures {
		if f.at.After(last) {
			last = f.at
		}
	}
	return last
}

func (w *workload) lastFailures(n int) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, f := range w.failures[max(0, len(w.failures)-n):] {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

func (w *workload) failureCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.failures)
}

func (w *workload) confirmedFiles() []confirmedFile {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.confirmed)
}

// expectNo500 fails t for every failure that is not one a fault may cause: a 503
// ServiceUnavailable, or no answer from a gateway being killed.
func (w *workload) expectNo500(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	bad := 0
	for _, f := range w.failures {
		switch {
		case f.status == http.StatusServiceUnavailable && f.code == "ServiceUnavailable":
		case f.status == 0 && strings.HasPrefix(f.phase, "kill -9 gateway"):
		default:
			bad++
			if bad <= 20 {
				t.Errorf("a fault answered what it must not: %s", f)
			}
		}
	}
	if bad > 20 {
		t.Errorf("... and %d more", bad-20)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
