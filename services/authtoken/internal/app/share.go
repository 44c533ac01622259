package app

import (
	"context"
	"math"
	"time"
)

// ShareTokenLife is the fixed life of a share access token (13.9: "valid 10 minutes"), counted
// from the mint. Use never renews it: a visitor who stays longer verifies the extraction code
// again (docs/shares.md, "Share access tokens, addresses and limits; saving").
const ShareTokenLife = 10 * time.Minute

// shareSecretGeneration marks a share token as minted without the library secret (the namespace
// verified an extraction code). Above every secret floor, it is neither refused by a secret reset
// that happened earlier nor revoked by one that happens later: the secret never vouched for it,
// and it lapses within ShareTokenLife anyway.
const shareSecretGeneration = math.MaxInt64

// ShareMintInput is a MintShareToken request (internal; the caller holds the operator key).
type ShareMintInput struct {
	LibraryID string
	ShareID   string
	// UserID and ClientID name the visitor when they verified with their own library token;
	// empty for an anonymous visitor.
	UserID   string
	ClientID string
}

// ShareMinted is a share access token and when it lapses.
type ShareMinted struct {
	Token     string
	ExpiresAt time.Time
}

// MintShare issues a share access token: a principal limited to one share, with no grants and
// no spaces, so authz.Authenticate refuses it on every library route and only
// authz.AuthenticateShare of that share accepts it. It is stored, cached, swept and purged with
// its library like any token.
func (t *Tokens) MintShare(ctx context.Context, in ShareMintInput) (ShareMinted, error) {
	if in.LibraryID == "" {
		return ShareMinted{}, ErrEmptyLibraryID
	}
	if in.ShareID == "" {
		return ShareMinted{}, paramInvalid("share_id is missing")
	}
	for _, f := range []struct{ v, name string }{{in.ShareID, "share_id"}, {in.UserID, "user_id"}, {in.ClientID, "client_id"}} {
		if err := checkOpaqueID(f.v, f.name); err != nil {
			return ShareMinted{}, err
		}
	}
	now := t.clock.Now()
	token, err := t.create(ctx, Record{
		LibraryID:        in.LibraryID,
		UserID:           in.UserID,
		ClientID:         in.ClientID,
		ShareID:          in.ShareID,
		PeriodSeconds:    int64(ShareTokenLife / time.Second),
		CreatedAt:        now,
		LastRenewedAt:    now,
		SecretGeneration: shareSecretGeneration,
	})
	if err != nil {
		return ShareMinted{}, err
	}
	return ShareMinted{Token: token, ExpiresAt: now.Add(ShareTokenLife)}, nil
}
