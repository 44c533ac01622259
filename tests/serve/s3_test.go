package serve

import (
	"bytes"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// TestServeOnS3 starts `smh serve` with its file bytes in an S3-compatible store given by flags
// and environment (--s3-*, SMH_S3_ACCESS_KEY/SECRET_KEY): a simple and a multipart upload land
// in the bucket under the prefix and nothing lands in the data dir; the bytes read back, and
// survive a restart.
func TestServeOnS3(t *testing.T) {
	// gofakes3 over TLS (over plain HTTP minio-go sends aws-chunked bodies, which gofakes3 keeps
	// undecoded). The child process trusts the fake's certificate through SSL_CERT_FILE, which
	// Go reads on Linux in place of the system roots.
	backend := s3mem.New()
	fake := httptest.NewUnstartedServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	fake.Config.ErrorLog = log.New(io.Discard, "", 0)
	fake.StartTLS()
	t.Cleanup(fake.Close)
	fakeCA := filepath.Join(t.TempDir(), "s3-ca.pem")
	if err := os.WriteFile(fakeCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	data := t.TempDir()
	addr := proc.FreeAddr(t)
	adminKey := "s3-operator-key-0123456789"
	env := []string{"SMH_ADMIN_KEY=" + adminKey, "SSL_CERT_FILE=" + fakeCA,
		"SMH_S3_ACCESS_KEY=serve-access", "SMH_S3_SECRET_KEY=serve-secret"}
	args := []string{"--data-dir", data, "--listen", addr, "--s3-endpoint", strings.TrimPrefix(fake.URL, "https://"),
		"--s3-bucket", "opensmh-serve", "--s3-prefix", "tenant-a", "--s3-create-bucket"}
	first := serve(t, env, args...)
	ca := filepath.Join(data, "tls", tlsx.CACertFile)
	waitHealthy(t, addr, ca)

	c := newSMHClient(t, "https://"+addr, ca, adminKey)
	c.createFileLibrary(t)
	c.mkdir(t, "crash")
	// A small file's bytes stay in its blob's record in the object database (docs/smallfiles.md);
	// a simple upload over the inline limit and a multipart one go to the bucket.
	small := &crashUpload{name: "small.txt", data: []byte("bytes kept inline\n")}
	simple := &crashUpload{name: "simple.bin", data: bytes.Repeat([]byte("fedcba9876543210"), 70<<6)}              // 70 KiB
	big := &crashUpload{name: "parts.bin", data: bytes.Repeat([]byte("0123456789abcdef"), 3<<16), multipart: true} // 3 MiB: 3 parts
	uploads := []*crashUpload{small, simple, big}
	for _, u := range uploads {
		if err := u.uploadWhole(c); err != nil {
			t.Fatalf("upload %s: %v\n%s", u.name, err, first.Output())
		}
	}

	// The bytes are in the bucket under the prefix, once each (the parts are gone after the
	// compose), and not in the data dir.
	list, err := backend.ListBucket("opensmh-serve", &gofakes3.Prefix{HasPrefix: true, Prefix: "tenant-a/blobs/"}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatalf("list the bucket: %v", err)
	}
	stored := map[int64]int{}
	for _, o := range list.Contents {
		stored[o.Size]++
	}
	if len(list.Contents) != 2 || stored[int64(len(simple.data))] != 1 || stored[int64(len(big.data))] != 1 {
		t.Fatalf("the bucket holds blobs of sizes %v; want one of %d and one of %d bytes (the %d-byte file inline)",
			stored, len(simple.data), len(big.data), len(small.data))
	}
	if err := filepath.WalkDir(data, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(filepath.ToSlash(p), "/blobs/") {
			t.Errorf("a blob in the data dir: %s", p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, u := range uploads {
		c.download(t, u)
	}

	// A restart with the same flags serves the same bytes.
	if code := first.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM exit code %d\n%s", code, first.Output())
	}
	second := serve(t, env, args...)
	waitHealthy(t, addr, ca)
	c = c.reconnect(t)
	for _, u := range uploads {
		c.download(t, u)
	}
	if code := second.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM exit code %d\n%s", code, second.Output())
	}
	if r := c.do(http.MethodGet, "https://"+addr+"/livez", nil, -1, nil); r.err == nil {
		t.Fatal("the server still answers after SIGTERM")
	}
}
