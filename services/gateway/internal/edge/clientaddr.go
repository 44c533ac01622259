package edge

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/opensmh/opensmh/pkg/reqmeta"
)

// ClientAddresses finds the address of the client behind a request, for the services' per-address
// rate limits (docs/shares.md). The connection's remote address is the client, unless it is a
// proxy the operator listed as trusted: then X-Forwarded-For is read from the right, skipping
// trusted proxies, and the first address that is not one is the client (docs/security.md). A
// client can prepend anything to X-Forwarded-For, so nothing left of the first untrusted hop
// counts. With no trusted proxies (the default) the header is ignored.
type ClientAddresses struct {
	trusted []netip.Prefix
}

// NewClientAddresses parses the trusted proxies: CIDR prefixes or single addresses.
func NewClientAddresses(trustedProxies []string) (*ClientAddresses, error) {
	c := &ClientAddresses{}
	for _, s := range trustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("trusted proxy %q is neither a CIDR prefix nor an IP address", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		c.trusted = append(c.trusted, p.Masked())
	}
	return c, nil
}

func (c *ClientAddresses) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of answers the client address of r as text ("" when the remote address does not parse, which
// net/http never gives).
func (c *ClientAddresses) Of(r *http.Request) string {
	remote, ok := parseHostAddr(r.RemoteAddr)
	if !ok {
		return ""
	}
	if !c.isTrusted(remote) {
		return remote.String()
	}
	client := remote
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		items := strings.Split(hops[i], ",")
		for j := len(items) - 1; j >= 0; j-- {
			a, ok := parseHostAddr(strings.TrimSpace(items[j]))
			if !ok {
				// A hop our proxy did not write sensibly: the last address we could vouch for
				// stands.
				return client.String()
			}
			client = a
			if !c.isTrusted(a) {
				return a.String()
			}
		}
	}
	return client.String()
}

// Stamp sets the client address header of every request, replacing any the client sent, so that a
// forged value never reaches a service.
func (c *ClientAddresses) Stamp(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del(reqmeta.ClientAddress)
		if a := c.Of(r); a != "" {
			r.Header.Set(reqmeta.ClientAddress, a)
		}
		next.ServeHTTP(w, r)
	})
}

// parseHostAddr reads "ip", "ip:port" or "[ipv6]:port"; IPv4-mapped IPv6 reads as IPv4.
func parseHostAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}
