package tlsx

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// rsaCertificate is a self-signed RSA certificate, standing in for an operator's RSA pair.
func rsaCertificate(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serveHandshakes accepts TLS connections on loopback with ServerConfig(cert) and completes
// their handshakes until the test ends; it answers the address.
func serveHandshakes(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	lis, err := tls.Listen("tcp", "127.0.0.1:0", ServerConfig(cert))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		lis.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			_ = conn.(*tls.Conn).Handshake() // failures are the client's to see
			conn.Close()
		}
	}()
	return lis.Addr().String()
}

// handshake dials addr with a client limited to the given versions and TLS 1.2 suites.
func handshake(addr string, minVersion, maxVersion uint16, suite uint16) (*tls.ConnectionState, error) {
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: minVersion, MaxVersion: maxVersion} // the test checks the offer, not the chain
	if suite != 0 {
		cfg.CipherSuites = []uint16{suite}
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	st := conn.ConnectionState()
	return &st, nil
}

// isAEADSuite is the test's own judgement of a suite from its name: ECDHE key exchange and an
// AEAD cipher (GCM or ChaCha20-Poly1305).
func isAEADSuite(name string) bool {
	return strings.HasPrefix(name, "TLS_ECDHE_") && (strings.Contains(name, "_GCM_") || strings.Contains(name, "CHACHA20_POLY1305"))
}

func TestServerConfigOffersOnlyAEADSuitesOnTLS12(t *testing.T) {
	ecdsaCert, err := LoadOrCreate(t.TempDir(), "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	certs := []struct {
		name string
		cert tls.Certificate
		sig  string // the suites' signature part this certificate can serve
	}{
		{name: "ECDSA (local CA)", cert: ecdsaCert, sig: "_ECDSA_"},
		{name: "RSA (operator)", cert: rsaCertificate(t), sig: "_RSA_"},
	}
	all := append(tls.CipherSuites(), tls.InsecureCipherSuites()...)
	for _, c := range certs {
		t.Run(c.name, func(t *testing.T) {
			addr := serveHandshakes(t, c.cert)
			accepted := 0
			for _, s := range all {
				if !slices.Contains(s.SupportedVersions, tls.VersionTLS12) {
					continue
				}
				st, err := handshake(addr, tls.VersionTLS12, tls.VersionTLS12, s.ID)
				want := isAEADSuite(s.Name) && strings.Contains(s.Name, c.sig)
				switch {
				case want && err != nil:
					t.Errorf("%s: handshake failed: %v", s.Name, err)
				case want && st.CipherSuite != s.ID:
					t.Errorf("%s: negotiated %s", s.Name, tls.CipherSuiteName(st.CipherSuite))
				case !want && err == nil:
					t.Errorf("%s: handshake succeeded with a suite the server must not offer", s.Name)
				case want:
					accepted++
				}
			}
			if accepted != 3 {
				t.Errorf("%d AEAD suites accepted, want 3 (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305)", accepted)
			}
			for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
				if _, err := handshake(addr, v, v, 0); err == nil {
					t.Errorf("%s accepted", tls.VersionName(v))
				}
			}
			st, err := handshake(addr, tls.VersionTLS13, tls.VersionTLS13, 0)
			if err != nil {
				t.Fatalf("TLS 1.3: %v", err)
			}
			if st.Version != tls.VersionTLS13 {
				t.Errorf("negotiated %s, want TLS 1.3", tls.VersionName(st.Version))
			}
		})
	}
}
