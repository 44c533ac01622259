package blob_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/opensmh/opensmh/services/object/internal/blob"
	"github.com/opensmh/opensmh/services/object/internal/blob/blobtest"
)

// startFakeS3 serves an in-memory S3 on loopback for the duration of the test.
func startFakeS3(t *testing.T, tls bool) *httptest.Server {
	t.Helper()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewUnstartedServer(dechunkUploadParts(faker.Server()))
	// Refused handshakes in TestS3Secure are expected; keep them out of the test output.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// dechunkUploadParts decodes aws-chunked (SigV4 streaming) bodies of UploadPart requests before
// gofakes3 sees them. gofakes3 v1.2.0 decodes them for PutObject but stores an UploadPart body as
// it comes, chunk headers and signatures included, while minio-go streams every part that way over
// plain http. Real S3 servers decode both; without this the fake corrupts multipart uploads.
// Chunk signatures are not verified: the fake does not check signatures at all.
func dechunkUploadParts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		streaming := strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-")
		if r.Method != http.MethodPut || !q.Has("uploadId") || !q.Has("partNumber") || !streaming {
			next.ServeHTTP(w, r)
			return
		}
		decodedLen, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
		if err != nil {
			http.Error(w, "bad X-Amz-Decoded-Content-Length", http.StatusBadRequest)
			return
		}
		body, err := decodeAWSChunked(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if int64(len(body)) != decodedLen {
			http.Error(w, "IncompleteBody", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = decodedLen
		r.Header.Set("Content-Length", strconv.FormatInt(decodedLen, 10))
		r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		next.ServeHTTP(w, r)
	})
}

// decodeAWSChunked reads "<hex size>;chunk-signature=<sig>\r\n<data>\r\n" chunks up to the final
// empty one. A part is at most the S3 store's 16 MiB part size, so holding it in memory is fine here.
func decodeAWSChunked(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var out bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("chunk header: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("chunk size %q: %w", sizeHex, err)
		}
		if n == 0 {
			return out.Bytes(), nil // Trailing headers, if any, are of no interest.
		}
		if _, err := io.CopyN(&out, br, n); err != nil {
			return nil, fmt.Errorf("chunk data: %w", err)
		}
		if crlf, err := br.ReadString('\n'); err != nil || crlf != "\r\n" {
			return nil, fmt.Errorf("chunk end %q: %v", crlf, err)
		}
	}
}

func fakeS3Config(srv *httptest.Server) blob.S3Config {
	endpoint, _ := strings.CutPrefix(srv.URL, "http://")
	endpoint, _ = strings.CutPrefix(endpoint, "https://")
	return blob.S3Config{
		Endpoint:     endpoint,
		Bucket:       "opensmh-blobs",
		AccessKey:    "test-access",
		SecretKey:    "test-secret",
		CreateBucket: true,
	}
}

func newFakeS3(t *testing.T, tls bool, prefix string) *blob.S3 {
	t.Helper()
	srv := startFakeS3(t, tls)
	cfg := fakeS3Config(srv)
	cfg.Prefix = prefix
	if tls {
		cfg.Secure = true
		cfg.Transport = srv.Client().Transport
	}
	s, err := blob.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestS3Contract runs the contract over plain http, where minio-go signs payloads in streaming
// (aws-chunked) form.
func TestS3Contract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newFakeS3(t, false, "") })
}

// TestS3ContractWithPrefix runs the contract with a key prefix, which List must strip.
func TestS3ContractWithPrefix(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newFakeS3(t, false, "tenant-1/blobs") })
}

// TestS3ContractSecure runs the contract over https with the test server's CA, where minio-go sends
// unsigned payloads instead of streaming ones.
func TestS3ContractSecure(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newFakeS3(t, true, "") })
}

func TestS3SecureNeedsTrust(t *testing.T) {
	srv := startFakeS3(t, true)
	cfg := fakeS3Config(srv)
	cfg.Secure = true
	if _, err := blob.NewS3(t.Context(), cfg); err == nil {
		t.Fatal("NewS3 trusted the test server's certificate without its CA")
	}
	cfg.Secure = false
	if _, err := blob.NewS3(t.Context(), cfg); err == nil {
		t.Fatal("NewS3 spoke plain http to a TLS server")
	}
}

func TestS3PrefixIsolatesStores(t *testing.T) {
	srv := startFakeS3(t, false)
	open := func(prefix string) *blob.S3 {
		cfg := fakeS3Config(srv)
		cfg.Prefix = prefix
		s, err := blob.NewS3(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, whole := open("a"), open("b/"), open("")
	if _, err := a.Put(t.Context(), "k", strings.NewReader("A"), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(t.Context(), "k"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("store b sees store a's key: %v", err)
	}
	if _, err := whole.Stat(t.Context(), "a/k"); err != nil {
		t.Fatalf("prefix was not applied as a/: %v", err)
	}
}

func TestNewS3Config(t *testing.T) {
	srv := startFakeS3(t, false)
	tests := []struct {
		name    string
		edit    func(*blob.S3Config)
		wantErr bool
	}{
		{"valid", func(*blob.S3Config) {}, false},
		{"missing bucket not created", func(c *blob.S3Config) { c.Bucket = "absent"; c.CreateBucket = false }, true},
		{"missing bucket created", func(c *blob.S3Config) { c.Bucket = "created" }, false},
		{"no endpoint", func(c *blob.S3Config) { c.Endpoint = "" }, true},
		{"no bucket", func(c *blob.S3Config) { c.Bucket = "" }, true},
		{"longest prefix", func(c *blob.S3Config) { c.Prefix = strings.Repeat("p", 511) }, false},
		{"prefix too long", func(c *blob.S3Config) { c.Prefix = strings.Repeat("p", 512) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fakeS3Config(srv)
			tt.edit(&cfg)
			_, err := blob.NewS3(t.Context(), cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewS3 error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
