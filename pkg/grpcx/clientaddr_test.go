package grpcx_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/grpcx"
	"github.com/opensmh/opensmh/pkg/grpcx/grpctest"
	"github.com/opensmh/opensmh/pkg/reqmeta"
)

// addressProbe answers CreateToken with the client address the handler saw, as the access token.
type addressProbe struct {
	tokenv1.UnimplementedTokenServiceServer
}

func (addressProbe) CreateToken(ctx context.Context, _ *tokenv1.CreateTokenRequest) (*tokenv1.CreateTokenResponse, error) {
	return &tokenv1.CreateTokenResponse{AccessToken: reqmeta.Incoming(ctx, reqmeta.ClientAddress)}, nil
}

// TestPublicEdgeOverwritesClientAddress: a gRPC caller of a public server cannot choose its
// client address; the peer's address replaces what it sent.
func TestPublicEdgeOverwritesClientAddress(t *testing.T) {
	conn := grpctest.Serve(t, func(r grpc.ServiceRegistrar) { tokenv1.RegisterTokenServiceServer(r, addressProbe{}) }, grpcx.PublicEdgeOptions()...)
	c := tokenv1.NewTokenServiceClient(conn)
	for _, sent := range []string{"", "203.0.113.9"} {
		ctx := context.Background()
		if sent != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, reqmeta.ClientAddress, sent)
		}
		r, err := c.CreateToken(ctx, &tokenv1.CreateTokenRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.GetAccessToken(); got != "127.0.0.1" {
			t.Errorf("sent %q: service saw client address %q, want the peer 127.0.0.1", sent, got)
		}
	}
}
