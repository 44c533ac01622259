package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/grpcx/grpctest"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/gateway"
)

// addressProbe stands behind the gateway as the token service and answers CreateToken with the
// client address it received, as the access token.
type addressProbe struct {
	tokenv1.UnimplementedTokenServiceServer
}

func (addressProbe) CreateToken(ctx context.Context, _ *tokenv1.CreateTokenRequest) (*tokenv1.CreateTokenResponse, error) {
	return &tokenv1.CreateTokenResponse{AccessToken: reqmeta.Incoming(ctx, reqmeta.ClientAddress)}, nil
}

type noTokens struct{}

func (noTokens) ValidateToken(context.Context, string, string) (*authz.Principal, error) {
	return nil, authz.ErrInvalidAccessToken
}

// TestClientAddressReachesServices: every proxied REST request carries the connection's address
// as x-smh-client-address over real gRPC, whatever the client sent under that name; a trusted
// proxy's X-Forwarded-For names the client instead (docs/security.md).
func TestClientAddressReachesServices(t *testing.T) {
	conn := grpctest.Serve(t, func(r grpc.ServiceRegistrar) { tokenv1.RegisterTokenServiceServer(r, addressProbe{}) })
	tests := []struct {
		name    string
		trusted []string
		remote  string
		headers map[string]string
		want    string
	}{
		{name: "direct", remote: "198.51.100.7:4000", want: "198.51.100.7"},
		{name: "spoofed header", remote: "198.51.100.7:4000", headers: map[string]string{"X-Smh-Client-Address": "203.0.113.66"}, want: "198.51.100.7"},
		{name: "forwarded by an untrusted peer", remote: "198.51.100.7:4000", headers: map[string]string{"X-Forwarded-For": "203.0.113.66"}, want: "198.51.100.7"},
		{name: "forwarded by a trusted proxy", trusted: []string{"10.0.0.0/8"}, remote: "10.0.0.2:4000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.66", "X-Smh-Client-Address": "192.0.2.1"}, want: "203.0.113.66"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, err := gateway.New(context.Background(), gateway.Config{Library: conn, Token: conn, Namespace: conn, Object: conn,
				AdminKey: "operator-key", Tokens: noTokens{}, PublicURL: "https://127.0.0.1:8443", TrustedProxies: tt.trusted})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(gw.Stop)
			r := httptest.NewRequest(http.MethodGet, "/api/v1/token?library_id=lib&library_secret=sec", nil)
			r.RemoteAddr = tt.remote
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			gw.ServeHTTP(w, r)
			var body struct{ AccessToken string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); w.Code != http.StatusOK || err != nil {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if body.AccessToken != tt.want {
				t.Errorf("service saw client address %q, want %q", body.AccessToken, tt.want)
			}
		})
	}
}
