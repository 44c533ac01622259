package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// TestCrashDuringUploads checks docs/architecture.md's failure rules on a real process (issue 4 item 7):
// SIGKILL the all-in-one while 50 uploads are at every stage, restart it on the same data dir,
// and show that (a) every upload whose confirm answered 200 reads back byte-identical, (b)
// nothing unconfirmed is visible, and (c) the cleanup jobs remove the garbage the crash left,
// leaving exactly the blobs of the visible files.
//
// The uploads are steered so that each stage is certainly populated at the kill, whatever the
// machine's speed:
//   - confirmed: bytes sent, confirm answered 200 before the kill;
//   - received: bytes sent (simple: the blob is stored; multipart: every part), never confirmed;
//   - sending: the body stops half-way (simple: in the blob; multipart: in part 2, after part 1)
//     and stays open until the kill, so the server holds half-written temporary files;
//   - racing: bytes sent, confirm sent just before the kill; whether it took effect is unknown to
//     the client, so after the restart it retries the confirm, as an SDK would.
func TestCrashDuringUploads(t *testing.T) {
	data := t.TempDir()
	addr := proc.FreeAddr(t)
	adminKey := "crash-operator-key-0123456789"
	env := []string{"SMH_ADMIN_KEY=" + adminKey}
	// Sessions of the first run must end while the test waits: a ticket holds 30 s and an
	// unconfirmed upload can be confirmed for 1 s more. 30 s leaves room for the uploads before
	// the kill and for the retried confirms after the restart on a slow machine.
	const ticketTTL = 30 * time.Second
	lifetimes := []string{"--upload-ticket-ttl", ticketTTL.String(), "--upload-session-ttl", "1s"}
	first := serve(t, env, append([]string{"--data-dir", data, "--listen", addr}, lifetimes...)...)
	ca := filepath.Join(data, "tls", tlsx.CACertFile)
	waitHealthy(t, addr, ca)

	c := newSMHClient(t, "https://"+addr, ca, adminKey)
	c.createFileLibrary(t)
	c.mkdir(t, "crash")

	uploads := planUploads(t)
	begun := time.Now()
	var (
		wg           sync.WaitGroup
		bytesSent    = make(chan int, len(uploads)) // received and racing: bytes stored
		confirmedNow = make(chan int, len(uploads)) // confirmed: 200
		halfway      = make(chan int, len(uploads)) // sending: body stopped half-way
		racingDone   = make(chan int, len(uploads)) // racing: confirm answered (any way)
		fire         = make(chan struct{})          // racing: send the confirms
		killed       = make(chan struct{})          // the server is gone: release the open bodies
		failures     = make(chan error, len(uploads))
	)
	// If the test stops early, the waiting uploads are let go.
	fireOnce, killOnce := sync.OnceFunc(func() { close(fire) }), sync.OnceFunc(func() { close(killed) })
	t.Cleanup(func() { fireOnce(); killOnce(); wg.Wait() })
	for _, u := range uploads {
		wg.Go(func() {
			err := u.run(c, stages{bytesSent: bytesSent, confirmed: confirmedNow, halfway: halfway,
				racingDone: racingDone, fire: fire, killed: killed})
			if err != nil {
				failures <- fmt.Errorf("%s (%s): %w", u.name, u.stage, err)
			}
		})
	}
	// Wait for every stage to be populated. A failure before the kill is a product bug.
	need := map[stage]int{}
	for _, u := range uploads {
		need[u.stage]++
	}
	wantSent, wantConfirmed, wantHalfway := need[stageReceived]+need[stageRacing], need[stageConfirmed], need[stageSending]
	deadline := time.After(3 * time.Minute)
	for wantSent+wantConfirmed+wantHalfway > 0 {
		select {
		case <-bytesSent:
			wantSent--
		case <-confirmedNow:
			wantConfirmed--
		case <-halfway:
			wantHalfway--
		case err := <-failures:
			t.Fatalf("before the kill: %v", err)
		case <-deadline:
			t.Fatalf("uploads did not reach their stages: %d sends, %d confirms, %d half bodies missing", wantSent, wantConfirmed, wantHalfway)
		}
	}
	// Only the half-sent bodies are being written now: the server holds one temporary file with
	// bytes in it for each (blobs/.tmp), which is what the crash must leave behind as garbage.
	blobRoot := filepath.Join(data, "blobs")
	proc.WaitFor(t, "a half-written temporary file per open body", time.Minute, func() bool {
		files := walkFiles(t, filepath.Join(blobRoot, ".tmp"))
		n := 0
		for _, size := range files {
			if size > 0 {
				n++
			}
		}
		return n == need[stageSending]
	})
	// The racing confirms go out; the kill follows the first answer (or half a second), so the
	// slower ones (multipart confirms compose their parts) are cut off mid-way.
	fireOnce()
	select {
	case <-racingDone:
	case <-time.After(500 * time.Millisecond):
	}
	first.Kill(t)
	killOnce()
	wg.Wait()
	close(failures)
	for err := range failures {
		// Failures after the kill are expected (connections cut); only earlier ones count, and
		// they were reported above. A stage the kill interrupted reports how it ended.
		t.Logf("cut off by the kill: %v", err)
	}
	t.Logf("killed %.1fs after the first begin", time.Since(begun).Seconds())

	// Restart on the same data dir and port (tickets name host:port), with cleanup every second
	// and a grace period of two.
	second := serve(t, env, append([]string{"--data-dir", data, "--listen", addr, "--gc-every", "1s", "--gc-grace", "2s"}, lifetimes...)...)
	waitHealthy(t, addr, ca)
	c = c.reconnect(t)

	// A racing confirm without an answer is retried: confirm is idempotent on its key, so the
	// retry answers 200 whether or not the first one took effect.
	racedBeforeKill, retried, tookEffect := 0, 0, 0
	for _, u := range uploads {
		if u.stage != stageRacing {
			continue
		}
		if u.confirmed {
			racedBeforeKill++
			continue
		}
		// The file may be visible already (the kill cut the answer, not the commit); then it
		// must be whole.
		if r := c.api(t, "HEAD", c.fileURL(u.name), nil, nil); r.status == http.StatusOK {
			tookEffect++
			c.download(t, u)
		}
		r := c.confirm(t, u.tk.ConfirmKey, u.data)
		if r.status != http.StatusOK {
			t.Fatalf("retried confirm of %s after the restart: %d %s", u.name, r.status, r.body)
		}
		u.confirmed = true
		retried++
	}
	t.Logf("racing confirms: %d answered before the kill, %d retried after the restart (%d of them had taken effect)", racedBeforeKill, retried, tookEffect)

	// (a) Every confirmed upload reads back byte-identical.
	expectedBlobs := map[string]string{} // blob id -> file name
	for _, u := range uploads {
		if u.confirmed {
			expectedBlobs[c.download(t, u)] = u.name
		}
	}
	// (b) Nothing unconfirmed is visible: the listing holds exactly the confirmed names, and the
	// others answer 404, to HEAD and as upload sessions once those have expired.
	var wantNames []string
	for _, u := range uploads {
		if u.confirmed {
			wantNames = append(wantNames, u.name)
		} else if r := c.api(t, "HEAD", c.fileURL(u.name), nil, nil); r.status != http.StatusNotFound {
			t.Errorf("HEAD of unconfirmed %s: %d, want 404", u.name, r.status)
		}
	}
	if got := c.list(t, "crash"); !slices.Equal(got, sortedCopy(wantNames)) {
		t.Fatalf("listing after the restart:\n got %v\nwant %v", got, sortedCopy(wantNames))
	}

	// Clients whose uploads the crash cut off begin again on the restarted server (one simple,
	// one multipart), while the cleanup runs with its short grace period.
	redone := map[bool]bool{}
	for _, u := range uploads {
		if u.stage != stageSending || redone[u.multipart] {
			continue
		}
		redone[u.multipart] = true
		again := *u
		again.name = "again-" + u.name
		if err := again.uploadWhole(c); err != nil {
			t.Fatalf("upload after the restart: %v", err)
		}
		expectedBlobs[c.download(t, &again)] = again.name
		wantNames = append(wantNames, again.name)
	}

	// (c) The cleanup jobs remove what the crash left: half-written temporary files, parts of
	// sessions that will never be confirmed, blobs received but never confirmed. Sessions of the
	// first run end ticketTTL + 1 s after their begin; the restarted server collects every second
	// what is older than two.
	var last string
	waitUntil(t, "the cleanup to leave exactly the blobs of the visible files", ticketTTL+2*time.Minute, func() (bool, string) {
		blobs, parts, tmp, other := blobInventory(t, blobRoot)
		ok := len(parts) == 0 && len(tmp) == 0 && len(other) == 0 && len(blobs) == len(expectedBlobs)
		for id := range blobs {
			if _, want := expectedBlobs[id]; !want {
				ok = false
			}
		}
		last = fmt.Sprintf("%d blobs (want %d), parts %v, temporary files %v, other files %v", len(blobs), len(expectedBlobs), parts, tmp, other)
		return ok, last
	})
	t.Logf("cleanup done %.1fs after the first begin: %s", time.Since(begun).Seconds(), last)

	// Unconfirmed sessions are gone: their confirm keys are unknown now.
	for _, u := range uploads {
		if !u.confirmed {
			if r := c.api(t, "GET", c.keyURL(u.tk.ConfirmKey), url.Values{"upload": {""}}, nil); r.status != http.StatusNotFound {
				t.Errorf("upload status of unconfirmed %s: %d %s, want 404", u.name, r.status, r.body)
			}
		}
	}
	// The cleanup took nothing that a file needs.
	for _, u := range uploads {
		if u.confirmed {
			c.download(t, u)
		}
	}
	if got := c.list(t, "crash"); !slices.Equal(got, sortedCopy(wantNames)) {
		t.Fatalf("listing after the cleanup:\n got %v\nwant %v", got, sortedCopy(wantNames))
	}
	if code := second.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM exit code %d", code)
	}
}

type stage string

const (
	stageConfirmed stage = "confirmed"
	stageReceived  stage = "received"
	stageSending   stage = "sending"
	stageRacing    stage = "racing"
)

// crashUpload is one of the test's uploads.
type crashUpload struct {
	name      string
	data      []byte
	multipart bool
	stage     stage
	tk        uploadTicket
	// confirmed: a confirm answered 200 (before the kill, or retried after the restart).
	confirmed bool
}

// planUploads makes 50 uploads: every other one multipart with 1 MiB parts (2-4 parts, the last
// one short), the others simple of 1-3 MiB; 20 to confirm, 10 to stop after the bytes, 15 to stop
// half-way through the bytes, 5 to confirm at the kill.
func planUploads(t *testing.T) []*crashUpload {
	var out []*crashUpload
	for i := range 50 {
		u := &crashUpload{name: fmt.Sprintf("f%02d.bin", i), multipart: i%2 == 1}
		switch {
		case i < 20:
			u.stage = stageConfirmed
		case i < 30:
			u.stage = stageReceived
		case i < 45:
			u.stage = stageSending
		default:
			u.stage = stageRacing
		}
		size := 1<<20 + (i*277_331)%(2<<20) // 1-3 MiB
		if u.multipart {
			size = (1+i%3)<<20 + 1 + (i*91_583)%(1<<20-1) // 2-4 parts
		}
		u.data = make([]byte, size)
		if _, err := rand.Read(u.data); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// stages are the channels an upload reports its progress on, and those it waits for.
type stages struct {
	bytesSent, confirmed, halfway, racingDone chan<- int
	fire, killed                              <-chan struct{}
}

const partSize = 1 << 20

func (u *crashUpload) parts() [][]byte {
	var parts [][]byte
	for off := 0; off < len(u.data); off += partSize {
		parts = append(parts, u.data[off:min(off+partSize, len(u.data))])
	}
	return parts
}

// run takes the upload to its stage and, for the racing ones, through it.
func (u *crashUpload) run(c *smhClient, s stages) error {
	tk, err := c.begin(u.name, u.multipart)
	if err != nil {
		return err
	}
	u.tk = tk
	if u.stage == stageSending {
		// The body stops half-way and stays open until the kill; a multipart upload first sends
		// part 1 whole, then stops in part 2.
		body := u.data
		suffix := ""
		if u.multipart {
			if r := c.send(tk, "?partNumber=1&uploadId="+tk.UploadID, bytes.NewReader(u.parts()[0]), partSize); r.err != nil || r.status != http.StatusOK {
				return r.failure("part 1")
			}
			body, suffix = u.parts()[1], "?partNumber=2&uploadId="+tk.UploadID
		}
		stall := &stallingReader{data: body, cut: len(body) / 2, reached: s.halfway, release: s.killed}
		r := c.send(tk, suffix, stall, int64(len(body)))
		if r.err == nil && r.status == http.StatusOK {
			return errors.New("a body that never ended was accepted")
		}
		return r.failure("half a body")
	}
	if err := u.sendBytes(c); err != nil {
		return err
	}
	switch u.stage {
	case stageConfirmed:
		r := c.confirm(nil, tk.ConfirmKey, u.data)
		if r.err != nil || r.status != http.StatusOK {
			return r.failure("confirm")
		}
		u.confirmed = true
		s.confirmed <- 1
	case stageReceived:
		s.bytesSent <- 1
	case stageRacing:
		s.bytesSent <- 1
		<-s.fire
		r := c.confirm(nil, tk.ConfirmKey, u.data)
		u.confirmed = r.err == nil && r.status == http.StatusOK
		s.racingDone <- 1
		if !u.confirmed {
			return r.failure("confirm at the kill")
		}
	}
	return nil
}

// sendBytes sends every byte of the upload (simple: one PUT; multipart: every part).
func (u *crashUpload) sendBytes(c *smhClient) error {
	if !u.multipart {
		if r := c.send(u.tk, "", bytes.NewReader(u.data), int64(len(u.data))); r.err != nil || r.status != http.StatusOK || r.header.Get("ETag") == "" {
			return r.failure("PUT bytes")
		}
		return nil
	}
	for i, p := range u.parts() {
		suffix := fmt.Sprintf("?partNumber=%d&uploadId=%s", i+1, u.tk.UploadID)
		if r := c.send(u.tk, suffix, bytes.NewReader(p), int64(len(p))); r.err != nil || r.status != http.StatusOK || r.header.Get("ETag") == "" {
			return r.failure(fmt.Sprintf("part %d", i+1))
		}
	}
	return nil
}

// uploadWhole begins, sends and confirms the upload.
func (u *crashUpload) uploadWhole(c *smhClient) error {
	tk, err := c.begin(u.name, u.multipart)
	if err != nil {
		return err
	}
	u.tk = tk
	if err := u.sendBytes(c); err != nil {
		return err
	}
	if r := c.confirm(nil, tk.ConfirmKey, u.data); r.err != nil || r.status != http.StatusOK {
		return r.failure("confirm " + u.name)
	}
	u.confirmed = true
	return nil
}

// stallingReader yields data up to cut, reports that on reached, then blocks until release and
// fails: a client that stopped sending in the middle of a body.
type stallingReader struct {
	data    []byte
	off     int
	cut     int
	reached chan<- int
	release <-chan struct{}
	told    bool
}

func (s *stallingReader) Read(p []byte) (int, error) {
	if s.off < s.cut {
		n := copy(p, s.data[s.off:s.cut])
		s.off += n
		return n, nil
	}
	if !s.told {
		s.told = true
		s.reached <- 1
	}
	<-s.release
	return 0, errors.New("the client stopped sending")
}

// ---- a small SMH client (SMH API section 3, docs/architecture.md, "The admin API") ----------------------

type smhClient struct {
	base, ca, adminKey string
	http               *http.Client
	lib, token         string
}

// withoutSecrets answers text with the client's access token and the operator key replaced:
// net/http quotes a failed request's URL, access_token included, in its error, and test logs
// are kept and shared like any other (docs/security.md: secrets never appear in logs).
func (c *smhClient) withoutSecrets(text string) string {
	for _, secret := range []string{c.token, url.QueryEscape(c.token), c.adminKey} {
		if secret != "" {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	return text
}

func newSMHClient(t *testing.T, base, caFile, adminKey string) *smhClient {
	c := &smhClient{base: base, ca: caFile, adminKey: adminKey}
	pool, err := tlsx.CertPool(caFile)
	if err != nil {
		t.Fatal(err)
	}
	// HTTP/1.1, a connection per upload in flight, as 50 separate clients would have. The
	// timeout only stops a hung test: the stalled bodies end at the kill.
	c.http = &http.Client{
		Timeout:   3 * time.Minute,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64},
		// Downloads answer 302; the test follows the Location itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// reconnect answers a client for the same library with fresh connections (the old ones died
// with the server).
func (c *smhClient) reconnect(t *testing.T) *smhClient {
	n := newSMHClient(t, c.base, c.ca, c.adminKey)
	n.lib, n.token = c.lib, c.token
	return n
}

type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (a answer) failure(what string) error {
	if a.err != nil {
		return fmt.Errorf("%s: %w", what, a.err)
	}
	body := a.body
	if len(body) > 512 {
		body = append(body[:512:512], "..."...)
	}
	return fmt.Errorf("%s: %d %q", what, a.status, body)
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("not JSON (%v): %s", err, a.body)
	}
	return m
}

// do sends one request; size is the body's length (-1: none or unknown).
func (c *smhClient) do(method, rawURL string, body io.Reader, size int64, header http.Header) answer {
	req, err := http.NewRequestWithContext(context.Background(), method, rawURL, body)
	if err != nil {
		return answer{err: err}
	}
	if size >= 0 {
		req.ContentLength = size
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var failed *url.Error
		if errors.As(err, &failed) {
			failed.URL = c.withoutSecrets(failed.URL)
		}
		return answer{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: data, err: err}
}

// api calls the business API with the access token; body, if not nil, goes as JSON. A nil t
// leaves transport errors in the answer (for the goroutines of the uploads).
func (c *smhClient) api(t *testing.T, method, path string, q url.Values, body any) answer {
	if q == nil {
		q = url.Values{}
	}
	if c.token != "" && q.Get("access_token") == "" {
		q.Set("access_token", c.token)
	}
	var rd io.Reader
	size := int64(-1)
	if body != nil {
		b, _ := json.Marshal(body)
		rd, size = bytes.NewReader(b), int64(len(b))
	}
	a := c.do(method, c.base+path+"?"+q.Encode(), rd, size, http.Header{"Content-Type": {"application/json"}})
	if t != nil && a.err != nil {
		t.Helper()
		t.Fatalf("%s %s: %v", method, path, a.err)
	}
	return a
}

func (c *smhClient) admin(t *testing.T, method, path string, body string) answer {
	t.Helper()
	a := c.do(method, c.base+path, strings.NewReader(body), int64(len(body)),
		http.Header{"Authorization": {"Bearer " + c.adminKey}, "Content-Type": {"application/json"}})
	if a.err != nil {
		t.Fatalf("%s %s: %v", method, path, a.err)
	}
	return a
}

// createFileLibrary makes a single-tenant file library and mints an admin token for it.
func (c *smhClient) createFileLibrary(t *testing.T) {
	t.Helper()
	c.createLibrary(t, map[string]any{"isFileLibrary": true})
}

// createLibrary makes a single-tenant library with the given libraryExtension settings and
// mints an admin token for it.
func (c *smhClient) createLibrary(t *testing.T, extension map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"name": "crash", "libraryExtension": extension})
	if err != nil {
		t.Fatal(err)
	}
	r := c.admin(t, "POST", "/admin/v1/libraries", string(body))
	if r.status != http.StatusCreated {
		t.Fatalf("create library: %d %s", r.status, r.body)
	}
	lib := r.json(t)
	c.lib = lib["libraryId"].(string)
	r = c.api(t, "GET", "/api/v1/token", url.Values{"library_id": {c.lib}, "library_secret": {lib["librarySecret"].(string)},
		"grant": {"admin"}, "user_id": {"alice"}}, nil)
	if r.status != http.StatusOK {
		t.Fatalf("mint token: %d %s", r.status, r.body)
	}
	c.token = r.json(t)["accessToken"].(string)
}

func (c *smhClient) mkdir(t *testing.T, dir string) {
	t.Helper()
	if r := c.api(t, "PUT", "/api/v1/directory/"+c.lib+"/-/"+dir, nil, nil); r.status != http.StatusCreated {
		t.Fatalf("mkdir %s: %d %s", dir, r.status, r.body)
	}
}

// fileURL is the file endpoint's path of a file in the crash directory.
func (c *smhClient) fileURL(name string) string {
	return "/api/v1/file/" + c.lib + "/-/crash/" + url.PathEscape(name)
}

// keyURL is the file endpoint's path of a confirm key (3.4, 3.6).
func (c *smhClient) keyURL(key string) string {
	return "/api/v1/file/" + c.lib + "/-/" + key
}

// uploadTicket is a begin-upload answer (3.1, 3.2).
type uploadTicket struct {
	Domain     string            `json:"domain"`
	Path       string            `json:"path"`
	UploadID   string            `json:"uploadId"`
	Headers    map[string]string `json:"headers"`
	ConfirmKey string            `json:"confirmKey"`
}

// begin starts a simple (PUT, 3.1) or multipart (POST ?multipart, 3.2) upload.
func (c *smhClient) begin(name string, multipart bool) (uploadTicket, error) {
	return c.beginResolving(name, multipart, "")
}

// beginResolving is begin with a conflict_resolution_strategy (ask, rename, overwrite; "" for
// the default).
func (c *smhClient) beginResolving(name string, multipart bool, strategy string) (uploadTicket, error) {
	method, q := "PUT", url.Values{}
	if multipart {
		method, q = "POST", url.Values{"multipart": {""}}
	}
	if strategy != "" {
		q.Set("conflict_resolution_strategy", strategy)
	}
	r := c.api(nil, method, c.fileURL(name), q, nil)
	if r.err != nil || r.status != http.StatusCreated {
		return uploadTicket{}, r.failure("begin")
	}
	var tk uploadTicket
	if err := json.Unmarshal(r.body, &tk); err != nil || tk.ConfirmKey == "" || (multipart && tk.UploadID == "") {
		return uploadTicket{}, fmt.Errorf("begin: ticket %s (%v)", r.body, err)
	}
	return tk, nil
}

// send PUTs bytes to the ticket's target with exactly its headers.
func (c *smhClient) send(tk uploadTicket, suffix string, body io.Reader, size int64) answer {
	h := http.Header{}
	for k, v := range tk.Headers {
		h.Set(k, v)
	}
	return c.do("PUT", "https://"+tk.Domain+tk.Path+suffix, body, size, h)
}

var ecma = crc64.MakeTable(crc64.ECMA)

// confirm completes an upload (3.4) with the crc64 of its bytes.
func (c *smhClient) confirm(t *testing.T, key string, data []byte) answer {
	crc := strconv.FormatUint(crc64.Checksum(data, ecma), 10)
	return c.api(t, "POST", c.keyURL(key), url.Values{"confirm": {""}}, map[string]any{"crc64": crc})
}

// download follows GET's 302 (3.8), checks the bytes and answers the blob id the URL names.
func (c *smhClient) download(t *testing.T, u *crashUpload) string {
	t.Helper()
	r := c.api(t, "GET", c.fileURL(u.name), nil, nil)
	if r.status != http.StatusFound {
		t.Fatalf("download %s: %d %s", u.name, r.status, r.body)
	}
	if want := strconv.FormatUint(crc64.Checksum(u.data, ecma), 10); r.header.Get("x-smh-crc64") != want {
		t.Fatalf("download %s: x-smh-crc64 %q, want %q", u.name, r.header.Get("x-smh-crc64"), want)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatalf("download %s: Location %q: %v", u.name, r.header.Get("Location"), err)
	}
	got := c.do("GET", loc.String(), nil, -1, nil)
	if got.err != nil || got.status != http.StatusOK {
		t.Fatalf("download %s: %v", u.name, got.failure("GET "+loc.String()))
	}
	if !bytes.Equal(got.body, u.data) {
		t.Fatalf("download %s: %d bytes differ from the %d uploaded", u.name, len(got.body), len(u.data))
	}
	id := loc.Query().Get("blob")
	if id == "" {
		t.Fatalf("download %s: Location %q names no blob", u.name, loc)
	}
	return id
}

// list answers the sorted names in a directory (4.2; fewer than 1000 here).
func (c *smhClient) list(t *testing.T, dir string) []string {
	t.Helper()
	r := c.api(t, "GET", "/api/v1/directory/"+c.lib+"/-/"+dir, url.Values{"limit": {"1000"}}, nil)
	if r.status != http.StatusOK {
		t.Fatalf("list %s: %d %s", dir, r.status, r.body)
	}
	var resp struct {
		Contents []struct {
			Name string `json:"name"`
		} `json:"contents"`
		NextMarker string `json:"nextMarker"`
	}
	if err := json.Unmarshal(r.body, &resp); err != nil || resp.NextMarker != "" {
		t.Fatalf("list %s: %v %s", dir, err, r.body)
	}
	var names []string
	for _, e := range resp.Contents {
		names = append(names, e.Name)
	}
	return sortedCopy(names)
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// walkFiles answers the regular files under dir with their sizes. Files and directories removed
// while it walks (the cleanup runs meanwhile) are skipped.
func walkFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = info.Size()
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// blobInventory sorts the local blob store's files: blobs by id (blobs/<xx>/<id>), parts
// (parts/<upload>/<n>), temporary files (.tmp/) and anything else (thumbnails, strays).
func blobInventory(t *testing.T, root string) (blobs map[string]bool, parts, tmp, other []string) {
	blobs = map[string]bool{}
	for p := range walkFiles(t, root) {
		switch first, rest, _ := strings.Cut(p, "/"); first {
		case "blobs":
			blobs[rest[strings.LastIndexByte(rest, '/')+1:]] = true
		case "parts":
			parts = append(parts, p)
		case ".tmp":
			tmp = append(tmp, p)
		default:
			other = append(other, p)
		}
	}
	return blobs, parts, tmp, other
}

// waitUntil polls ok every 200 ms until it holds, failing the test after timeout with the state
// ok described last.
func waitUntil(t *testing.T, what string, timeout time.Duration, ok func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, state := ok()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last: %s", timeout, what, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestClientErrorsHideSecrets: a request that fails on the way (nothing listens) reports its URL
// without the access token, so the failures the tests above log carry no secret.
func TestClientErrorsHideSecrets(t *testing.T) {
	const token = "test-token-that-must-not-be-logged"
	c := &smhClient{base: "https://" + proc.FreeAddr(t), token: token, adminKey: "test-operator-key-not-logged",
		http: &http.Client{Timeout: 10 * time.Second}}
	a := c.api(nil, "GET", "/api/v1/file/lib/-/a.txt", nil, nil)
	if a.err == nil {
		t.Fatal("a request to a port nobody listens on succeeded")
	}
	if msg := a.err.Error(); strings.Contains(msg, token) || !strings.Contains(msg, "[redacted]") {
		t.Fatalf("the error %q shows the token or no redaction mark", msg)
	}
}
