package transport

import (
	"context"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
)

// MintShareToken mints a share access token (13.9) for the namespace once it has verified a
// visitor's extraction code (operator key, as every internal RPC). docs/shares.md.
func (h *Handler) MintShareToken(ctx context.Context, req *tokenv1.MintShareTokenRequest) (*tokenv1.MintShareTokenResponse, error) {
	if err := h.admin.Check(ctx); err != nil {
		return nil, err
	}
	m, err := h.tokens.MintShare(ctx, app.ShareMintInput{
		LibraryID: req.GetLibraryId(),
		ShareID:   req.GetShareId(),
		UserID:    req.GetUserId(),
		ClientID:  req.GetClientId(),
	})
	if err != nil {
		return nil, ToSMH(err)
	}
	return &tokenv1.MintShareTokenResponse{AccessToken: m.Token, ExpiresAtMs: m.ExpiresAt.UnixMilli()}, nil
}
