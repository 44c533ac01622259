package cluster

import (
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/opensmh/opensmh/tests/internal/proc"
)

// FakeS3 is gofakes3 over TLS, trusted by the object processes through SSL_CERT_FILE (see
// tests/serve/s3_test.go for why not plain HTTP).
type FakeS3 struct {
	Backend  *s3mem.Backend
	Endpoint string // host:port
	// Env is what an object process needs to reach it: the CA and the credentials.
	Env       []string
	SecretKey string
}

// StartFakeS3 serves an in-memory S3 until the test ends, writing its CA certificate into dir.
func StartFakeS3(t proc.T, dir string) FakeS3 {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewUnstartedServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(dir, "s3-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatalf("the S3 CA: %v", err)
	}
	const secretKey = "split-s3-secret-key-0123456789"
	return FakeS3{Backend: backend, Endpoint: strings.TrimPrefix(srv.URL, "https://"), SecretKey: secretKey,
		Env: []string{"SSL_CERT_FILE=" + caFile, "SMH_S3_ACCESS_KEY=split-access", "SMH_S3_SECRET_KEY=" + secretKey}}
}
