package authz

import "context"

// ValidateShareToken checks a share access token, as a visitor's own credential
// (AuthenticateShare) or beside the caller's library token (13.12's share_access_token,
// decision 14): it must be a live share access token of libraryID minted for shareID. An empty
// token → 400 EmptyAccessToken; a library token, a token of another share or an expired one →
// 403 InvalidAccessToken.
func (a *Authorizer) ValidateShareToken(ctx context.Context, libraryID, shareID, token string) (*Principal, error) {
	if token == "" {
		return nil, ErrEmptyAccessToken
	}
	p, err := a.tokens.ValidateToken(ctx, libraryID, token)
	if err != nil {
		return nil, err
	}
	if shareID == "" || p.ShareID != shareID {
		return nil, ErrInvalidAccessToken
	}
	return p, nil
}
