package transport

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
)

// MintShareToken is the issue 13 skeleton: the share token helper implements it (docs/shares.md).
func (h *Handler) MintShareToken(ctx context.Context, req *tokenv1.MintShareTokenRequest) (*tokenv1.MintShareTokenResponse, error) {
	return nil, status.Error(codes.Unimplemented, "share tokens are not built yet")
}
