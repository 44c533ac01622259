package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// randomFile writes size pseudo-random bytes (the same for the same seed) to name in the user's
// directory and answers its path.
func (u user) randomFile(name string, size int64, seed uint64) string {
	u.t.Helper()
	p := filepath.Join(u.dir, name)
	f, err := os.Create(p)
	if err != nil {
		u.t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}), size); err != nil {
		u.t.Fatal(err)
	}
	return p
}

func sha256File(t *testing.T, p string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// limitNetwork slows every connection through the server's proxy to bytesPerSecond each way until
// the test ends.
func limitNetwork(t *testing.T, bytesPerSecond int64) {
	server.proxy.Limit(bytesPerSecond)
	t.Cleanup(func() { server.proxy.Limit(0) })
}

// counted runs fn and answers the bytes that crossed the proxy each way meanwhile.
func counted(fn func()) (up, down int64) {
	u0, d0 := server.proxy.Counted()
	fn()
	u1, d1 := server.proxy.Counted()
	return u1 - u0, d1 - d0
}

// running is a command started in the background.
type running struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

func (u user) start(args ...string) *running {
	u.t.Helper()
	r := &running{cmd: u.cmd(args...)}
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		u.t.Fatal(err)
	}
	u.t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() })
	return r
}

// interrupt sends SIGINT, as Ctrl-C does, and answers the exit code.
func (r *running) interrupt(t *testing.T) int {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("the command ended before it was interrupted: %v\n%s", err, r.stderr.String())
	}
	var ee *exec.ExitError
	if err := r.cmd.Wait(); !errors.As(err, &ee) {
		t.Fatalf("interrupted command: %v\n%s", err, r.stderr.String())
	}
	return ee.ExitCode()
}

// waitUntil polls cond until it holds or the time is up; cond may explain what it waits for.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// token mints an admin token with `smh token create`.
func (l library) token(t *testing.T) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"accessToken"`
	}
	out := operator(t).ok("token", "create", "--library", l.ID, "--library-secret", l.Secret, "--grant", "admin")
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token create: %v %s", err, out)
	}
	return tok.AccessToken
}

// heldParts asks the server, through the upload status route (3.6), which parts of an upload it
// holds, and answers their bytes.
func heldParts(t *testing.T, l library, token, confirmKey string) (parts int, held int64) {
	t.Helper()
	hc, err := httpsClient()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(server.url + "/api/v1/file/" + l.ID + "/-/" + url.PathEscape(confirmKey) + "?upload&access_token=" + url.QueryEscape(token))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Parts []struct {
			Size int64 `json:"Size"`
		} `json:"parts"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil {
		t.Fatalf("upload status: HTTP %d", resp.StatusCode)
	}
	for _, p := range st.Parts {
		held += p.Size
	}
	return len(st.Parts), held
}

// uploadRecord answers the confirm key in the one resume record put keeps while an upload runs.
func (u user) uploadRecord() (string, bool) {
	files, _ := filepath.Glob(filepath.Join(u.dir, ".smh-state", "*.json"))
	if len(files) != 1 {
		return "", false
	}
	data, err := os.ReadFile(files[0])
	var rec struct {
		ConfirmKey string `json:"confirmKey"`
	}
	if err != nil || json.Unmarshal(data, &rec) != nil || rec.ConfirmKey == "" {
		return "", false
	}
	return rec.ConfirmKey, true
}

// TestPutInterruptedAndResumed: a 200 MiB upload stopped by Ctrl-C part way resumes from the parts
// the server holds: what crosses the network the second time is the rest, and the file that
// lands has the local bytes.
func TestPutInterruptedAndResumed(t *testing.T) {
	lib := newLibrary(t, "", "--file-library")
	u := lib.owner(t)
	const size = 200 << 20
	src := u.randomFile("big.bin", size, 1)
	token := lib.token(t)

	limitNetwork(t, 10<<20)
	put := []string{"put", "--part-size", "8", "--parallel", "4", src, lib.at("big.bin")}
	first := u.start(put...)
	var key string
	waitUntil(t, "the resume record", time.Minute, func() (ok bool) { key, ok = u.uploadRecord(); return ok })
	waitUntil(t, "five parts on the server", 2*time.Minute, func() bool { n, _ := heldParts(t, lib, token, key); return n >= 5 })
	if code := first.interrupt(t); code != 1 || !strings.Contains(first.stderr.String(), "run the same command again to resume") {
		t.Fatalf("interrupted put: exit %d, stderr %q", code, first.stderr.String())
	}
	parts, held := heldParts(t, lib, token, key)
	if held >= size || held < 5*8<<20 {
		t.Fatalf("after the interrupt the server holds %d bytes in %d parts", held, parts)
	}
	server.proxy.Limit(0)

	var res []transferred
	up, _ := counted(func() { u.okJSON(&res, put...) })
	if len(res) != 1 || res[0].Resumed != held || res[0].Moved != size-held || res[0].Size != "209715200" {
		t.Fatalf("resumed put answered %+v; the server held %d bytes", res, held)
	}
	// The second run sends the rest and little more (headers, TLS, the API calls).
	if rest := int64(size) - held; up < rest || up > rest+4<<20 {
		t.Fatalf("the resumed put sent %d bytes for %d missing", up, rest)
	}
	if _, ok := u.uploadRecord(); ok {
		t.Fatal("the resume record outlived the upload")
	}
	got := filepath.Join(u.dir, "back.bin")
	u.ok("get", lib.at("big.bin"), got)
	if sha256File(t, got) != sha256File(t, src) {
		t.Fatal("the downloaded file differs from the uploaded one")
	}
}

// transferred is put's and get's --json item.
type transferred struct {
	Local, Remote, Size, CRC64 string
	Moved                      int64 `json:"movedBytes"`
	Resumed                    int64 `json:"resumedBytes"`
}

// TestResumeChecksHeldParts: a part the server holds that no longer matches the local bytes (the
// file was changed in place, keeping its size and time) is sent again, not trusted.
func TestResumeChecksHeldParts(t *testing.T) {
	lib := newLibrary(t, "", "--file-library")
	u := lib.owner(t)
	const size = 24 << 20
	src := u.randomFile("f.bin", size, 2)
	info, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	token := lib.token(t)

	limitNetwork(t, 2<<20)
	put := []string{"put", "--part-size", "1", "--parallel", "1", src, lib.at("f.bin")}
	first := u.start(put...)
	var key string
	waitUntil(t, "the resume record", time.Minute, func() (ok bool) { key, ok = u.uploadRecord(); return ok })
	waitUntil(t, "three parts on the server", 2*time.Minute, func() bool { n, _ := heldParts(t, lib, token, key); return n >= 3 })
	first.interrupt(t)
	_, held := heldParts(t, lib, token, key)
	server.proxy.Limit(0)

	// Change a byte of part 1, then give the file back its time: the record still matches.
	f, err := os.OpenFile(src, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xAB, 0xCD}, 1000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(src, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	var res []transferred
	u.okJSON(&res, put...)
	if len(res) != 1 || res[0].Resumed != held-1<<20 {
		t.Fatalf("resume answered %+v; the server held %d bytes, one part of which changed", res, held)
	}
	if u.ok("get", lib.at("f.bin"), "-") != string(mustRead(t, src)) {
		t.Fatal("the server's file is not the changed local file")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestGetResumesWithRange: a download stopped part way resumes with a Range request from the
// partial file, and a partial file whose bytes are wrong fails the crc64 check and is removed.
func TestGetResumesWithRange(t *testing.T) {
	lib := newLibrary(t, "", "--file-library")
	u := lib.owner(t)
	const size = 64 << 20
	src := u.randomFile("src.bin", size, 3)
	u.ok("put", src, lib.at("g.bin"))
	out := filepath.Join(u.dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}

	limitNetwork(t, 8<<20)
	first := u.start("get", lib.at("g.bin"), out)
	var partial string
	waitUntil(t, "16 MiB in the partial file", 2*time.Minute, func() bool {
		files, _ := filepath.Glob(filepath.Join(out, ".g.bin.*.smhpart"))
		if len(files) != 1 {
			return false
		}
		partial = files[0]
		st, err := os.Stat(partial)
		return err == nil && st.Size() >= 16<<20
	})
	if code := first.interrupt(t); code != 1 {
		t.Fatalf("interrupted get: exit %d", code)
	}
	st, err := os.Stat(partial)
	if err != nil {
		t.Fatalf("the partial file went: %v", err)
	}
	have := st.Size()
	server.proxy.Limit(0)

	var res []transferred
	_, down := counted(func() { u.okJSON(&res, "get", lib.at("g.bin"), out) })
	if len(res) != 1 || res[0].Resumed != have || res[0].Moved != size-have {
		t.Fatalf("resumed get answered %+v; the partial file had %d bytes", res, have)
	}
	if rest := int64(size) - have; down < rest || down > rest+4<<20 {
		t.Fatalf("the resumed get received %d bytes for %d missing", down, rest)
	}
	dst := filepath.Join(out, "g.bin")
	if sha256File(t, dst) != sha256File(t, src) {
		t.Fatal("the resumed download differs from the file")
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the partial file is still there: %v", err)
	}

	// A partial file with wrong bytes: the crc64 check fails, the partial file goes, and the next
	// run downloads afresh.
	bad := mustRead(t, dst)[:size/2]
	bad[12345] ^= 0xFF
	if err := os.WriteFile(partial, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dst); err != nil {
		t.Fatal(err)
	}
	u.fails(1, "crc64", "get", lib.at("g.bin"), out)
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a partial file that failed the crc64 check was kept")
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a download that failed the crc64 check took the file's name")
	}
	u.ok("get", lib.at("g.bin"), out)
	if sha256File(t, dst) != sha256File(t, src) {
		t.Fatal("the download after the failed check differs from the file")
	}
}

// TestProgressOnlyOnTerminal: put draws its bar (bytes, rate, time left) when stderr is a
// terminal and writes nothing there when it is piped.
func TestProgressOnlyOnTerminal(t *testing.T) {
	lib := newLibrary(t, "", "--file-library")
	u := lib.owner(t)
	src := u.randomFile("p.bin", 16<<20, 4)
	if r := u.run("put", src, lib.at("piped.bin")); r.code != 0 || r.stderr != "" {
		t.Fatalf("piped put: exit %d, stderr %q", r.code, r.stderr)
	}
	// script(1) runs the command on a pseudo-terminal and copies what it draws.
	c := u.cmd()
	line := shellQuote(server.bin, "put", src, lib.at("tty.bin"))
	tty := exec.Command("script", "-qfec", line, "/dev/null")
	tty.Env, tty.Dir = c.Env, c.Dir
	drawn, err := tty.CombinedOutput()
	if err != nil {
		t.Fatalf("put on a terminal: %v\n%s", err, drawn)
	}
	for _, want := range []string{"p.bin", "16.0 MiB / 16.0 MiB", "100.0%", "/s", "left"} {
		if !strings.Contains(string(drawn), want) {
			t.Fatalf("the bar lacks %q:\n%q", want, drawn)
		}
	}
	u.ok("stat", lib.at("tty.bin"))
}

func shellQuote(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
