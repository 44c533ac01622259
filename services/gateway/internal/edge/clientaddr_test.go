package edge

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/opensmh/opensmh/pkg/reqmeta"
)

func TestClientAddresses(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		remote  string
		xff     []string
		want    string
	}{
		{name: "direct", remote: "198.51.100.7:5555", want: "198.51.100.7"},
		{name: "forwarded header ignored without trusted proxies", remote: "198.51.100.7:5555", xff: []string{"203.0.113.1"}, want: "198.51.100.7"},
		{name: "untrusted proxy", trusted: []string{"10.0.0.0/8"}, remote: "198.51.100.7:5555", xff: []string{"203.0.113.1"}, want: "198.51.100.7"},
		{name: "trusted proxy", trusted: []string{"10.0.0.0/8"}, remote: "10.1.2.3:5555", xff: []string{"203.0.113.1"}, want: "203.0.113.1"},
		{name: "client-forged hops left of the first untrusted", trusted: []string{"10.0.0.0/8"}, remote: "10.1.2.3:5555", xff: []string{"1.2.3.4, 203.0.113.1"}, want: "203.0.113.1"},
		{name: "chain of trusted proxies", trusted: []string{"10.0.0.0/8", "192.0.2.10"}, remote: "10.1.2.3:5555", xff: []string{"203.0.113.1, 192.0.2.10", "10.9.9.9"}, want: "203.0.113.1"},
		{name: "all trusted: leftmost", trusted: []string{"10.0.0.0/8"}, remote: "10.1.2.3:5555", xff: []string{"10.4.4.4, 10.5.5.5"}, want: "10.4.4.4"},
		{name: "garbage hop: last vouched address", trusted: []string{"10.0.0.0/8"}, remote: "10.1.2.3:5555", xff: []string{"203.0.113.1, not-an-ip"}, want: "10.1.2.3"},
		{name: "trusted proxy, no header", trusted: []string{"10.0.0.0/8"}, remote: "10.1.2.3:5555", want: "10.1.2.3"},
		{name: "ipv6", remote: "[2001:db8::1]:443", want: "2001:db8::1"},
		{name: "ipv4-mapped", remote: "[::ffff:198.51.100.7]:443", want: "198.51.100.7"},
		{name: "forwarded with port", trusted: []string{"::1"}, remote: "[::1]:443", xff: []string{"[2001:db8::2]:1234"}, want: "2001:db8::2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClientAddresses(tt.trusted)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/api/v1/x", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := c.Of(r); got != tt.want {
				t.Errorf("Of = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := NewClientAddresses([]string{"10.0.0.0/33"}); err == nil {
		t.Error("a bad prefix was accepted")
	}
}

// TestStampReplacesForgedAddress: the header a client sends under the client address name never
// survives Stamp.
func TestStampReplacesForgedAddress(t *testing.T) {
	c, err := NewClientAddresses(nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	h := c.Stamp(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.Header.Values(reqmeta.ClientAddress) }))
	r := httptest.NewRequest(http.MethodGet, "/api/v1/x", nil)
	r.RemoteAddr = "198.51.100.7:5555"
	r.Header.Add("X-Smh-Client-Address", "1.1.1.1")
	r.Header.Add("x-smh-client-address", "2.2.2.2")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if len(seen) != 1 || seen[0] != "198.51.100.7" {
		t.Errorf("service would see %q", seen)
	}
}
