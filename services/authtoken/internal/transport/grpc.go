// Package transport serves smh.token.v1.TokenService over gRPC: each handler validates its
// request, calls one use case and converts the error through the one error map of the service.
package transport

import (
	"context"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
)

// errorMap is the service's one error table (SMH API section 12.6). A function, not a package
// variable, so nothing can change it; it runs only when a request fails.
func errorMap() smherr.Map {
	return smherr.Map{
		{Err: app.ErrEmptyLibraryIDAndSecret, SMH: smherr.New(http.StatusBadRequest, "EmptyLibraryIdOrSecret", "library id and library secret are missing")},
		{Err: app.ErrEmptyLibraryID, SMH: smherr.New(http.StatusBadRequest, "EmptyLibraryId", "library id is missing")},
		{Err: app.ErrEmptyLibrarySecret, SMH: smherr.New(http.StatusBadRequest, "EmptyLibrarySecret", "library secret is missing")},
		{Err: app.ErrEmptyAccessToken, SMH: authz.ErrEmptyAccessToken},
		{Err: app.ErrInvalidAccessToken, SMH: authz.ErrInvalidAccessToken},
		{Err: app.ErrNotFound, SMH: authz.ErrInvalidAccessToken},
		// A library deleted while its token was being minted: to the caller it no longer exists.
		{Err: app.ErrLibraryClosed, SMH: smherr.New(http.StatusNotFound, "WrongLibraryIdOrSecret", "wrong library id or secret")},
		// The secret was reset (revoking its tokens) while its token was being minted: it is no
		// longer the library's secret.
		{Err: app.ErrSecretReplaced, SMH: smherr.New(http.StatusNotFound, "WrongLibraryIdOrSecret", "wrong library id or secret")},
		{Err: app.ErrSpaceIDInvalid, SMH: smherr.New(http.StatusBadRequest, "SpaceIdInvalid", "space_id is invalid for this library")},
		{Err: app.ErrUnknownGrant, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "unknown grant")},
		{Err: app.ErrParamInvalid, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "parameter invalid")},
		{Err: context.Canceled, SMH: smherr.New(499, "ClientDisconnected", "client disconnected")},
		{Err: context.DeadlineExceeded, SMH: smherr.New(http.StatusGatewayTimeout, "RequestTimeout", "request timed out")},
	}
}

// ToSMH converts a use-case error for callers through the error map. Rejected parameters keep
// their own message (app.GrantError and app.ParamError implement smherr.Detailed), which names
// the parameter and its limit but never quotes a token or a secret.
func ToSMH(err error) error { return errorMap().Convert(err) }

// Handler implements tokenv1.TokenServiceServer.
type Handler struct {
	tokenv1.UnsafeTokenServiceServer
	tokens *app.Tokens
	admin  *adminauth.Checker
}

var _ tokenv1.TokenServiceServer = (*Handler)(nil)

// NewHandler serves tokens; admin guards the internal RPCs that need the operator key.
func NewHandler(tokens *app.Tokens, admin *adminauth.Checker) *Handler {
	return &Handler{tokens: tokens, admin: admin}
}

// Register adds the service to r.
func (h *Handler) Register(r grpc.ServiceRegistrar) { tokenv1.RegisterTokenServiceServer(r, h) }

// CreateToken implements GET/POST /api/v1/token (section 1.1). The secret arrives as metadata;
// the POST body (extension) is accepted and ignored.
func (h *Handler) CreateToken(ctx context.Context, req *tokenv1.CreateTokenRequest) (*tokenv1.CreateTokenResponse, error) {
	m, err := h.tokens.Mint(ctx, app.MintInput{
		LibraryID: req.GetLibraryId(),
		Secret:    reqmeta.Incoming(ctx, reqmeta.LibrarySecret),
		SpaceID:   req.GetSpaceId(),
		UserID:    req.GetUserId(),
		ClientID:  req.GetClientId(),
		SessionID: req.GetSessionId(),
		Period:    req.GetPeriod(),
		Grant:     req.GetGrant(),
	})
	if err != nil {
		return nil, ToSMH(err)
	}
	return &tokenv1.CreateTokenResponse{AccessToken: m.Token, ExpiresIn: seconds(m.ExpiresIn)}, nil
}

// RenewToken implements POST /api/v1/token/{LibraryId}/{AccessToken} (section 1.2).
func (h *Handler) RenewToken(ctx context.Context, req *tokenv1.RenewTokenRequest) (*tokenv1.RenewTokenResponse, error) {
	m, err := h.tokens.Renew(ctx, req.GetLibraryId(), req.GetAccessToken())
	if err != nil {
		return nil, ToSMH(err)
	}
	return &tokenv1.RenewTokenResponse{AccessToken: m.Token, ExpiresIn: seconds(m.ExpiresIn)}, nil
}

// DeleteToken implements DELETE /api/v1/token/{LibraryId}/{AccessToken} (section 1.3): 204.
func (h *Handler) DeleteToken(ctx context.Context, req *tokenv1.DeleteTokenRequest) (*tokenv1.DeleteTokenResponse, error) {
	if err := h.tokens.Revoke(ctx, req.GetLibraryId(), req.GetAccessToken()); err != nil {
		return nil, ToSMH(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent) // fails only outside a gRPC server
	return &tokenv1.DeleteTokenResponse{}, nil
}

// DeleteUserTokens implements DELETE /api/v1/token/{LibraryId}?user_id=.. (section 1.4): 204.
// client_id and session_id are proto3 optional: presence, even of "", narrows the selection.
func (h *Handler) DeleteUserTokens(ctx context.Context, req *tokenv1.DeleteUserTokensRequest) (*tokenv1.DeleteUserTokensResponse, error) {
	err := h.tokens.RevokeUserTokens(ctx, app.UserTokensFilter{
		LibraryID:  req.GetLibraryId(),
		Secret:     reqmeta.Incoming(ctx, reqmeta.LibrarySecret),
		UserIDs:    req.GetUserId(),
		ClientIDs:  req.ClientId,
		SessionIDs: req.SessionId,
	})
	if err != nil {
		return nil, ToSMH(err)
	}
	_ = reqmeta.SetHTTPStatus(ctx, http.StatusNoContent)
	return &tokenv1.DeleteUserTokensResponse{}, nil
}

// ValidateToken answers the principal of a live token and counts as a use (operator key). Only
// services ask: on the public port it would tell anyone holding a token its grants, spaces and
// user, and let a stolen token be kept alive without one business call (docs/security.md).
func (h *Handler) ValidateToken(ctx context.Context, req *tokenv1.ValidateTokenRequest) (*tokenv1.ValidateTokenResponse, error) {
	if err := h.admin.Check(ctx); err != nil {
		return nil, err
	}
	v, err := h.tokens.ValidateDetailed(ctx, req.GetLibraryId(), req.GetAccessToken())
	if err != nil {
		return nil, ToSMH(err)
	}
	p := authz.PrincipalToProto(v.Principal)
	p.Period = seconds(v.Period)
	p.ExpiresAtMs = v.ExpiresAt.UnixMilli()
	return &tokenv1.ValidateTokenResponse{Principal: p}, nil
}

// WatchRevocations streams the hashes of deleted tokens (operator key). The first message is
// empty and confirms the subscription: from then on no revocation is missed. The stream ends with
// Unavailable when this instance cannot vouch for completeness any more (the subscriber fell
// behind, or etcd compaction forced a re-sync); the subscriber then empties its cache and
// subscribes again.
func (h *Handler) WatchRevocations(_ *tokenv1.WatchRevocationsRequest, stream grpc.ServerStreamingServer[tokenv1.WatchRevocationsResponse]) error {
	ctx := stream.Context()
	if err := h.admin.Check(ctx); err != nil {
		return err
	}
	ch, cancel := h.tokens.SubscribeRevocations()
	defer cancel()
	if err := stream.Send(&tokenv1.WatchRevocationsResponse{}); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case hashes, ok := <-ch:
			if !ok {
				return status.Error(codes.Unavailable, "revocation stream reset; subscribe again")
			}
			if err := stream.Send(&tokenv1.WatchRevocationsResponse{TokenHashes: hashes}); err != nil {
				return err
			}
		}
	}
}

// PurgeLibraryTokens removes every token of a library (operator key).
func (h *Handler) PurgeLibraryTokens(ctx context.Context, req *tokenv1.PurgeLibraryTokensRequest) (*tokenv1.PurgeLibraryTokensResponse, error) {
	if err := h.admin.Check(ctx); err != nil {
		return nil, err
	}
	if err := h.tokens.PurgeLibraryTokens(ctx, req.GetLibraryId()); err != nil {
		return nil, ToSMH(err)
	}
	return &tokenv1.PurgeLibraryTokensResponse{}, nil
}

// RevokeLibraryTokens revokes the tokens of a library's earlier secrets (operator key).
func (h *Handler) RevokeLibraryTokens(ctx context.Context, req *tokenv1.RevokeLibraryTokensRequest) (*tokenv1.RevokeLibraryTokensResponse, error) {
	if err := h.admin.Check(ctx); err != nil {
		return nil, err
	}
	if err := h.tokens.RevokeSecretGenerations(ctx, req.GetLibraryId(), req.GetBelowSecretGeneration()); err != nil {
		return nil, ToSMH(err)
	}
	return &tokenv1.RevokeLibraryTokensResponse{}, nil
}

func seconds(d time.Duration) int32 { return int32(d / time.Second) }
