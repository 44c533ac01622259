package tlsx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// verify checks that cert chains to the CA in dir for every name.
func verify(t *testing.T, dir string, cert tls.Certificate, names ...string) {
	t.Helper()
	pool, err := CertPool(filepath.Join(dir, CACertFile))
	if err != nil {
		t.Fatalf("CertPool: %v", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatalf("parse server certificate: %v", err)
	}
	for _, n := range names {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: n, Roots: pool}); err != nil {
			t.Errorf("server certificate does not verify for %q: %v", n, err)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadOrCreateFirstStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	cert, err := LoadOrCreate(dir, "", "", []string{"smh.example.com"})
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	tests := []struct {
		file string
		mode os.FileMode
	}{
		{".", 0o700 | os.ModeDir},
		{CACertFile, 0o600},
		{caKeyFile, 0o600},
		{ServerCertFile, 0o600},
		{serverKeyFile, 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			fi, err := os.Stat(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode() & (os.ModeDir | os.ModePerm); got != tt.mode {
				t.Fatalf("mode %o, want %o", got, tt.mode)
			}
		})
	}
	verify(t, dir, cert, "localhost", "127.0.0.1", "::1", "smh.example.com")

	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example.com", Roots: mustPool(t, dir)}); err == nil {
		t.Error("server certificate verifies for a host it was not issued for")
	}
}

func mustPool(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	pool, err := CertPool(filepath.Join(dir, CACertFile))
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestLoadOrCreateKeepsOrReissues(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreate(dir, "", "", []string{"a.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ca := readFile(t, filepath.Join(dir, CACertFile))
	caKey := readFile(t, filepath.Join(dir, caKeyFile))

	tests := []struct {
		name      string
		hosts     []string
		wantSame  bool
		wantNames []string
	}{
		{"same hosts keep the certificate", []string{"a.example.com"}, true, []string{"localhost", "a.example.com"}},
		{"a default name given again keeps it", []string{"a.example.com", "127.0.0.1"}, true, []string{"127.0.0.1"}},
		{"a new host re-issues", []string{"b.example.com"}, false, []string{"localhost", "127.0.0.1", "b.example.com"}},
		{"an IP host re-issues", []string{"192.0.2.7"}, false, []string{"192.0.2.7"}},
	}
	prev := first
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadOrCreate(dir, "", "", tt.hosts)
			if err != nil {
				t.Fatal(err)
			}
			same := bytes.Equal(got.Certificate[0], prev.Certificate[0])
			if same != tt.wantSame {
				t.Fatalf("same certificate = %v, want %v", same, tt.wantSame)
			}
			if !bytes.Equal(readFile(t, filepath.Join(dir, CACertFile)), ca) ||
				!bytes.Equal(readFile(t, filepath.Join(dir, caKeyFile)), caKey) {
				t.Fatal("the local CA was recreated")
			}
			verify(t, dir, got, tt.wantNames...)
			prev = got
		})
	}
}

// A server certificate that expires within a week is re-issued, by the same CA.
func TestLoadOrCreateRenewsExpiringCertificate(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir, "", "", nil); err != nil {
		t.Fatal(err)
	}
	ca, caKey, err := parsePair(readFile(t, filepath.Join(dir, CACertFile)), readFile(t, filepath.Join(dir, caKeyFile)))
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(48 * time.Hour),
		DNSNames:     []string{"localhost"},
		// Every default name, so only the expiry can make LoadOrCreate re-issue.
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := writePair(dir, ServerCertFile, serverKeyFile, der, key); err != nil {
		t.Fatal(err)
	}

	got, err := LoadOrCreate(dir, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got.Certificate[0], der) {
		t.Fatal("a certificate expiring in two days was kept")
	}
	leaf, err := x509.ParseCertificate(got.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(leaf.NotAfter) < 300*24*time.Hour {
		t.Fatalf("re-issued certificate expires %v", leaf.NotAfter)
	}
	verify(t, dir, got, "localhost", "127.0.0.1")
}

// A new CA (the old one deleted) makes the server certificate signed by the old one unusable.
func TestLoadOrCreateReissuesForNewCA(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreate(dir, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{CACertFile, caKeyFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LoadOrCreate(dir, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got.Certificate[0], first.Certificate[0]) {
		t.Fatal("server certificate of the old CA kept")
	}
	verify(t, dir, got, "localhost")
}

// An empty host (a public URL without a host name) adds nothing to the certificate; it must not
// make every start re-issue it either.
func TestLoadOrCreateEmptyHostIsStable(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreate(dir, "", "", []string{""})
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadOrCreate(dir, "", "", []string{""})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Certificate[0], second.Certificate[0]) {
		t.Fatal("an empty host re-issued the server certificate on the second start")
	}
}

func TestLoadOrCreateOperatorCertificate(t *testing.T) {
	// A pair made by the local CA stands in for the operator's.
	src := t.TempDir()
	made, err := LoadOrCreate(src, "", "", []string{"op.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(src, ServerCertFile), filepath.Join(src, serverKeyFile)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		cert     string
		key      string
		wantErr  []string
		wantSame bool
	}{
		{name: "both given", cert: certFile, key: keyFile, wantSame: true},
		{name: "cert only", cert: certFile, wantErr: []string{"--tls-cert", "--tls-key"}},
		{name: "key only", key: keyFile, wantErr: []string{"--tls-cert", "--tls-key"}},
		{name: "garbage cert", cert: garbage, key: keyFile, wantErr: []string{"bad certificate"}},
		{name: "garbage key", cert: certFile, key: garbage, wantErr: []string{"bad certificate"}},
		{name: "missing files", cert: filepath.Join(src, "nope.pem"), key: filepath.Join(src, "nope-key.pem"), wantErr: []string{"bad certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tls")
			got, err := LoadOrCreate(dir, tt.cert, tt.key, nil)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Certificate[0], made.Certificate[0]) {
				t.Fatal("loaded certificate differs from the operator's")
			}
			// The operator's certificate needs no local CA.
			if _, err := os.Stat(filepath.Join(dir, CACertFile)); !os.IsNotExist(err) {
				t.Fatalf("local CA created next to an operator certificate (stat: %v)", err)
			}
		})
	}
}

func TestLoadOrCreateCorruptCA(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{CACertFile, caKeyFile} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := LoadOrCreate(dir, "", "", nil)
	if err == nil || !strings.Contains(err.Error(), "local CA") {
		t.Fatalf("LoadOrCreate with a corrupt CA = %v, want an error about the local CA", err)
	}
}

func TestCertPool(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir, "", "", nil); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyOnly := filepath.Join(dir, caKeyFile)
	if b, _ := pem.Decode(readFile(t, keyOnly)); b == nil {
		t.Fatal("CA key is not PEM")
	}

	tests := []struct {
		name    string
		file    string
		wantErr bool
	}{
		{"the local CA", filepath.Join(dir, CACertFile), false},
		{"not PEM", notPEM, true},
		{"a PEM key, no certificate", keyOnly, true},
		{"missing", filepath.Join(dir, "missing.pem"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, err := CertPool(tt.file)
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil || pool == nil {
				t.Fatalf("CertPool = %v, %v", pool, err)
			}
		})
	}
}
