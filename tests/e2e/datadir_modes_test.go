//go:build unix

package e2e

import (
	"net/http"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/opensmh/opensmh/tests/internal/datadir"
)

// TestDataDirModesWithoutUmask: the all-in-one embedded in another program (no umask of its own,
// the host's 0022) still creates its files 0600 and directories 0700: the modes are set where the
// files are made, not by the binary's umask (tests/serve checks the binary).
func TestDataDirModesWithoutUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	s := startSystem(t)
	f := fileLibrary(t, s, nil)
	f.upload("a.bin", randomBytes(t, 1000), nil)
	f.upload("p.png", pngBytes(t, 300, 200), nil)
	if got := s.raw("GET", f.redirect("p.png", q("", "preview", "", "size", "100")), nil, nil); got.Status != http.StatusOK {
		t.Fatalf("thumbnail: %d", got.Status)
	}
	data := filepath.Dir(filepath.Dir(s.server().CACert)) // the local CA is <data dir>/tls/ca.pem
	checked, _ := datadir.CheckPrivate(t, data)
	if checked < 10 {
		t.Fatalf("only %d entries in the data dir", checked)
	}
	t.Logf("%d entries checked", checked)
}
