// Package authz is the one authorization path of every OpenSMH service (docs/architecture.md,
// "Authorization"): credentials of a request → Principal (token via authtoken, or the library
// secret) → grant check → space check.
package authz

import (
	"context"
	"net/http"

	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
)

// SMH errors of authorization (SMH API section 12.6).
var (
	ErrEmptyAccessToken         = smherr.New(http.StatusBadRequest, "EmptyAccessToken", "access token missing")
	ErrInvalidAccessToken       = smherr.New(http.StatusForbidden, "InvalidAccessToken", "access token invalid, expired, or of another library")
	ErrNoPermission             = smherr.New(http.StatusForbidden, "NoPermission", "the access token does not grant this operation")
	ErrAccessTokenNotMatchSpace = smherr.New(http.StatusForbidden, "AccessTokenNotMatchSpace", "the access token is not valid for this space")
)

// Principal is who a request acts as. Validators may hand out one shared *Principal per token, so
// a Principal is read-only once built: copy it to change anything (Authenticate does).
type Principal struct {
	LibraryID string
	// SpaceIDs the token may reach; "-" is the only space of a single-tenant library. Empty without
	// AllSpaces means a tenant-space management token (section 1.1, space_id).
	SpaceIDs []string
	// AllSpaces: an admin token minted without space_id on a multi-tenant library, or the library secret.
	AllSpaces bool
	UserID    string
	ClientID  string
	SessionID string
	// Grants; empty means read only.
	Grants GrantSet
	// ViaLibrarySecret: the request presented the library secret instead of a token (decision 4).
	ViaLibrarySecret bool
	// ShareID is set on a share access token (13.9): it reaches that share's visitor routes
	// through AuthenticateShare and nothing else; Authenticate refuses it (docs/shares.md).
	ShareID string
}

// Has reports whether the principal may do what grant names. admin implies every permission;
// space_admin implies every permission inside its spaces except admin, create_space and
// delete_space (section 1.1). "acl" and "read_only" are modes rather than permissions and are
// reported only when granted explicitly, so an admin token is never switched to ACL mode.
func (p *Principal) Has(grant string) bool {
	b, ok := GrantBit(grant)
	if !ok {
		return false
	}
	g := p.Grants
	switch {
	case g&b != 0:
		return true
	case b&(bitACL|bitReadOnly) != 0:
		return false
	case g&bitAdmin != 0:
		return true
	case g&bitSpaceAdmin != 0:
		return b&(bitAdmin|bitCreateSpace|bitDeleteSpace) == 0
	}
	return false
}

// RequireAny answers nil when the principal has at least one of grants, else 403 NoPermission.
// Calling it with no grants asks for nothing beyond a valid principal (reads).
func (p *Principal) RequireAny(grants ...string) error {
	if len(grants) == 0 {
		return nil
	}
	for _, g := range grants {
		if p.Has(g) {
			return nil
		}
	}
	return ErrNoPermission
}

// RequireSpace answers nil when the principal may reach spaceID, else 403 AccessTokenNotMatchSpace.
func (p *Principal) RequireSpace(spaceID string) error {
	if p.AllSpaces {
		return nil
	}
	for _, s := range p.SpaceIDs {
		if s == spaceID {
			return nil
		}
	}
	return ErrAccessTokenNotMatchSpace
}

// TokenValidator turns an access token of a library into its principal. Errors are SMH errors
// (InvalidAccessToken for anything unknown, expired or of another library).
type TokenValidator interface {
	ValidateToken(ctx context.Context, libraryID, token string) (*Principal, error)
}

// SecretVerifier checks a library secret; a wrong pair answers the library service's SMH error
// (404 WrongLibraryIdOrSecret).
type SecretVerifier interface {
	VerifyLibrarySecret(ctx context.Context, libraryID, secret string) error
}

// Authorizer authenticates the requests of a service.
type Authorizer struct {
	tokens  TokenValidator
	secrets SecretVerifier
}

// New builds an Authorizer. secrets may be nil in a service that accepts tokens only; a request
// presenting the library secret then gets 403 InvalidAccessToken.
func New(tokens TokenValidator, secrets SecretVerifier) *Authorizer {
	return &Authorizer{tokens: tokens, secrets: secrets}
}

// Authenticate answers the principal of the request for libraryID, from its metadata (the gateway
// moves the access_token, library_secret and user_id queries there, section 12.2):
//   - x-smh-library-secret present: the secret is verified and the request acts as an admin token
//     with an empty user id over every space (decision 4);
//   - else x-smh-access-token: missing → 400 EmptyAccessToken; otherwise its validator decides.
//
// An admin principal with an empty user id then acts as x-smh-user-id when the request names one
// ("temporary identity", 12.2); for every other principal that value is ignored.
func (a *Authorizer) Authenticate(ctx context.Context, libraryID string) (*Principal, error) {
	var p *Principal
	if secret := reqmeta.Incoming(ctx, reqmeta.LibrarySecret); secret != "" {
		if a.secrets == nil {
			return nil, ErrInvalidAccessToken
		}
		if err := a.secrets.VerifyLibrarySecret(ctx, libraryID, secret); err != nil {
			return nil, err
		}
		p = &Principal{LibraryID: libraryID, AllSpaces: true, Grants: bitAdmin, ViaLibrarySecret: true}
	} else {
		token := reqmeta.Incoming(ctx, reqmeta.AccessToken)
		if token == "" {
			return nil, ErrEmptyAccessToken
		}
		var err error
		if p, err = a.tokens.ValidateToken(ctx, libraryID, token); err != nil {
			return nil, err
		}
		if p.ShareID != "" {
			// A share access token is a visitor's pass to one share, never a library token.
			return nil, ErrInvalidAccessToken
		}
	}
	if p.Grants&bitAdmin != 0 && p.UserID == "" {
		if acting := reqmeta.Incoming(ctx, reqmeta.ActingUser); acting != "" {
			cp := *p // the validator's principal is shared; never write through it
			cp.UserID = acting
			p = &cp
		}
	}
	return p, nil
}

// AuthenticateShare answers the principal of a share visitor's request (13.10, 13.11): the
// x-smh-access-token must be a live share access token of libraryID minted for shareID (see
// ValidateShareToken).
func (a *Authorizer) AuthenticateShare(ctx context.Context, libraryID, shareID string) (*Principal, error) {
	return a.ValidateShareToken(ctx, libraryID, shareID, reqmeta.Incoming(ctx, reqmeta.AccessToken))
}
