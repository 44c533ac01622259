package client

import (
	"context"
	"net/url"
	"strconv"
)

// Space addresses one space of one library with one access token; every business call goes
// through it. SpaceID is "-" in a single-tenant library (smh-api.md 12.3).
type Space struct {
	c                  *Client
	LibraryID, SpaceID string
	token              string
}

// Space answers a handle on a space. token may be empty for reads of a public-read library.
func (c *Client) Space(libraryID, spaceID, token string) *Space {
	if spaceID == "" {
		spaceID = "-"
	}
	return &Space{c: c, LibraryID: libraryID, SpaceID: spaceID, token: token}
}

// Token is a minted access token (1.1).
type Token struct {
	AccessToken string `json:"accessToken"`
	ExpiresIn   int64  `json:"expiresIn"`
}

// TokenRequest is what a minted token carries (1.1); empty fields are left out.
type TokenRequest struct {
	SpaceIDs, UserID, ClientID, SessionID, Grant string
	// Period is the lifetime and renewal window in seconds (0 = the server's default).
	Period int
}

// MintToken mints an access token with the library secret (1.1).
func (c *Client) MintToken(ctx context.Context, libraryID, secret string, t TokenRequest) (Token, error) {
	q := url.Values{"library_id": {libraryID}, "library_secret": {secret}}
	for k, v := range map[string]string{"space_id": t.SpaceIDs, "user_id": t.UserID, "client_id": t.ClientID,
		"session_id": t.SessionID, "grant": t.Grant} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if t.Period > 0 {
		q.Set("period", strconv.Itoa(t.Period))
	}
	var out Token
	_, err := c.call(ctx, request{method: "POST", path: "/api/v1/token", query: q}, &out)
	return out, err
}

// RenewToken extends a token's life by its period (1.2).
func (c *Client) RenewToken(ctx context.Context, libraryID, token string) error {
	_, err := c.call(ctx, request{method: "POST", path: "/api/v1/token/" + url.PathEscape(libraryID) + "/" + url.PathEscape(token)}, nil)
	return err
}

// RevokeToken deletes one access token (1.3).
func (c *Client) RevokeToken(ctx context.Context, libraryID, token string) error {
	_, err := c.call(ctx, request{method: "DELETE", path: "/api/v1/token/" + url.PathEscape(libraryID) + "/" + url.PathEscape(token)}, nil)
	return err
}

// url answers the escaped path of a business route: /api/v1/{kind}/{library}/{space}/{path}.
func (s *Space) url(kind, path string) string {
	p := "/api/v1/" + kind + "/" + url.PathEscape(s.LibraryID) + "/" + url.PathEscape(s.SpaceID)
	if e := escapePath(path); e != "" {
		p += "/" + e
	}
	return p
}

// libraryURL answers the escaped path of a library-level route: /api/v1/{kind}/{library}/{rest}.
func (s *Space) libraryURL(kind, rest string) string {
	p := "/api/v1/" + kind + "/" + url.PathEscape(s.LibraryID)
	if e := escapePath(rest); e != "" {
		p += "/" + e
	}
	return p
}

// query answers q (or a new set) with the access token.
func (s *Space) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if s.token != "" {
		q.Set("access_token", s.token)
	}
	return q
}

// call makes a business call with the access token.
func (s *Space) call(ctx context.Context, method, path string, q url.Values, body, out any) (int, error) {
	return s.c.call(ctx, request{method: method, path: path, query: s.query(q), body: body}, out)
}
