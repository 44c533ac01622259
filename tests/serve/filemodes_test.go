package serve

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/datadir"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// TestDataDirIsPrivate: under umask 0022 and in a data dir made 0755 by the operator, everything
// smh serve creates (databases and their journals, keys, certificates, the embedded etcd, blobs,
// parts, thumbnails) is 0600 for files and 0700 for directories, across a restart. The data dir
// itself keeps the operator's mode and the server warns about it.
func TestDataDirIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022) // the child inherits it
	t.Cleanup(func() { syscall.Umask(old) })
	data := t.TempDir()
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := proc.FreeAddr(t)
	ca := filepath.Join(data, "tls", tlsx.CACertFile)
	env := []string{"SMH_DATA_DIR=" + data, "SMH_ADMIN_KEY="}

	first := serve(t, env, "--listen", addr)
	waitHealthy(t, addr, ca)
	if out := first.Output(); !strings.Contains(out, "the data dir is open to other users") {
		t.Errorf("no warning about the 0755 data dir:\n%s", out)
	}
	key, err := os.ReadFile(filepath.Join(data, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	c := newSMHClient(t, "https://"+addr, ca, strings.TrimSpace(string(key)))
	c.createFileLibrary(t)
	c.mkdir(t, "crash")

	// A simple upload, an unfinished multipart upload (its part stays on disk) and an image
	// with a thumbnail.
	simple := []byte("private bytes")
	uploadWhole(t, c, "a.txt", simple)
	tk, err := c.begin("big.bin", true)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.send(tk, "?partNumber=1&uploadId="+url.QueryEscape(tk.UploadID), bytes.NewReader(simple), int64(len(simple))); r.status != http.StatusOK {
		t.Fatal(r.failure("part 1"))
	}
	img := pngOf(t, 300, 200)
	uploadWhole(t, c, "p.png", img)
	r := c.api(t, "GET", c.fileURL("p.png"), url.Values{"preview": {""}, "size": {"100"}}, nil)
	if r.status != http.StatusFound {
		t.Fatal(r.failure("preview"))
	}
	if got := c.do("GET", r.header.Get("Location"), nil, -1, nil); got.status != http.StatusOK {
		t.Fatal(got.failure("thumbnail"))
	}
	if code := first.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, first.Output())
	}
	checkPrivate(t, data)

	// A restart reopens everything and writes again.
	second := serve(t, env, "--listen", addr)
	waitHealthy(t, addr, ca)
	uploadWhole(t, c.reconnect(t), "b.txt", simple)
	if code := second.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d\n%s", code, second.Output())
	}
	checked := checkPrivate(t, data)
	t.Logf("%d files and directories checked after the restart", checked)
}

// checkPrivate checks the data dir's modes (datadir.CheckPrivate) and fails if the kinds of
// files the server must have made were not among those checked. It answers how many entries it
// checked.
func checkPrivate(t *testing.T, data string) int {
	t.Helper()
	n, seen := datadir.CheckPrivate(t, data)
	for _, kind := range []string{"admin.key", "secret.kek", "namespace.db", "object.db", "tls", "ca-key.pem", "server.pem", "etcd", "blobs"} {
		if !seen[kind] {
			t.Errorf("the walk met no %s: the check did not cover it", kind)
		}
	}
	return n
}

func uploadWhole(t *testing.T, c *smhClient, name string, data []byte) {
	t.Helper()
	tk, err := c.begin(name, false)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.send(tk, "", bytes.NewReader(data), int64(len(data))); r.status != http.StatusOK {
		t.Fatal(r.failure("PUT " + name))
	}
	if r := c.confirm(t, tk.ConfirmKey, data); r.status != http.StatusOK {
		t.Fatal(r.failure("confirm " + name))
	}
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 128, A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
