package serve

import (
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/dataorigin"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// TestServeDataURL: `smh serve` takes its download origin from SMH_DATA_URL, makes its local
// certificate name the download host, and serves only the data endpoint there; a download
// origin that is not https or shares the public host name stops the start with one clear line
// (the error record).
func TestServeDataURL(t *testing.T) {
	t.Run("refused values", func(t *testing.T) {
		for _, tt := range []struct{ name, dataURL, want string }{
			{"plain http", "http://files.example.net", "--data-url \"http://files.example.net\" must be an https:// URL"},
			{"a path", "https://files.example.net/bytes", "with no path"},
			{"the public host", "https://127.0.0.1:9443", "must name a host other than the public URL's"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p := serve(t, []string{"SMH_ADMIN_KEY=k"}, "--data-dir", t.TempDir(), "--listen", proc.FreeAddr(t), "--data-url", tt.dataURL)
				if code := p.ExitCode(t); code == 0 {
					t.Fatalf("exit 0 with --data-url %s", tt.dataURL)
				}
				expectFailureLine(t, p.Output(), tt.want, false)
			})
		}
	})

	const host = "files.opensmh.test"
	data := t.TempDir()
	addr, dataURL := dataorigin.On(t, host)
	srv := serve(t, []string{"SMH_ADMIN_KEY=serve-data-url-key-0123456789", "SMH_DATA_URL=" + dataURL}, "--data-dir", data, "--listen", addr)
	ca := filepath.Join(data, "tls", tlsx.CACertFile)
	waitHealthy(t, addr, ca)
	pool, err := tlsx.CertPool(ca)
	if err != nil {
		t.Fatal(err)
	}
	// The client verifies the certificate against the download host's name.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, DialContext: dataorigin.LoopbackDialer(host)}}
	get := func(u string) *http.Response {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get("https://" + addr + "/console/"); resp.StatusCode != http.StatusOK {
		t.Errorf("the console on the public host: %d", resp.StatusCode)
	}
	if resp := get(dataURL + "/console/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the console on the download host: %d, want 404", resp.StatusCode)
	}
	resp := get(dataURL + "/data/o/blobs/none?signature=x")
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") != "sandbox" {
		t.Errorf("an unsigned download on the download host: %d %v, want 403 with nosniff and sandbox", resp.StatusCode, resp.Header)
	}
	if code := srv.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM exit code %d\n%s", code, srv.Output())
	}
}
