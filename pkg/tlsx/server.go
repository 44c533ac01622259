package tlsx

import "crypto/tls"

// aeadSuites are the TLS 1.2 cipher suites a server offers: ECDHE key exchange (forward secrecy)
// with an AEAD cipher only. CBC suites (Lucky13-style padding oracles) and RSA key exchange (no
// forward secrecy) are left out, although Go still offers some of them by default. RSA-signed
// suites stay for an operator's RSA certificate. TLS 1.3 suites are not configurable in Go and
// are all AEAD.
var aeadSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// ServerConfig answers the TLS configuration every HTTPS listener of OpenSMH serves with: TLS 1.2
// or newer, AEAD suites only on TLS 1.2, HTTP/2 and HTTP/1.1.
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: append([]uint16(nil), aeadSuites...),
	}
}
