// Package dataorigin gives a test system a download origin (--data-url) on its own port: one
// listener serves the API host and the download host, told apart by the Host header.
package dataorigin

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/tests/internal/proc"
)

// On answers a listen address on a free loopback port and a download origin named host on the
// same port.
func On(t testing.TB, host string) (listen, dataURL string) {
	t.Helper()
	listen = proc.FreeAddr(t)
	_, port, _ := net.SplitHostPort(listen)
	return listen, "https://" + host + ":" + port
}

// LoopbackDialer resolves host to the loopback address, as a DNS entry would in a deployment;
// "" answers nil, which leaves resolution alone. TLS still verifies the certificate against host.
func LoopbackDialer(host string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if host == "" {
		return nil
	}
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h, port, err := net.SplitHostPort(addr); err == nil && strings.EqualFold(h, host) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}
}
