package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
)

// tokenBytes of randomness per token: 256 bits.
const tokenBytes = 32

// tokenPrefix starts every token, as SMH's own tokens start with "acctk". With the hex that
// follows, a token never needs escaping in a URL path (/api/v1/token/{LibraryId}/{AccessToken}),
// never starts with "-" (which command lines would read as a flag), and secret scanners can
// recognise one in a leaked log or repository.
const tokenPrefix = "acctk"

// MintInput is a CreateToken request (section 1.1). Secret comes from request metadata.
type MintInput struct {
	LibraryID string
	Secret    string
	SpaceID   string
	UserID    string
	ClientID  string
	SessionID string
	Period    string
	Grant     string
}

// Minted is the answer of CreateToken and RenewToken: {"accessToken","expiresIn"}.
type Minted struct {
	Token     string
	ExpiresIn time.Duration
}

// Mint issues a token (section 1.1): credentials first (400 for missing, the library service's 404
// for a wrong pair), then grants and spaces. The value leaves this function only in the answer;
// etcd sees its hash.
func (t *Tokens) Mint(ctx context.Context, in MintInput) (Minted, error) {
	if err := checkCredentials(in.LibraryID, in.Secret); err != nil {
		return Minted{}, err
	}
	grants, err := ParseGrants(in.Grant)
	if err != nil {
		return Minted{}, err
	}
	for _, f := range []struct{ v, name string }{{in.UserID, "user_id"}, {in.ClientID, "client_id"}, {in.SessionID, "session_id"}} {
		if err := checkOpaqueID(f.v, f.name); err != nil {
			return Minted{}, err
		}
	}
	period := ParsePeriod(in.Period)
	facts, err := t.libraries.VerifySecret(ctx, in.LibraryID, in.Secret)
	if err != nil {
		return Minted{}, err
	}
	spaces, all, err := ParseSpaces(in.SpaceID, facts.IsMultiSpace, grants.Contains(authz.Admin))
	if err != nil {
		return Minted{}, err
	}

	now := t.clock.Now()
	token, err := t.create(ctx, Record{
		LibraryID:     in.LibraryID,
		UserID:        in.UserID,
		ClientID:      in.ClientID,
		SessionID:     in.SessionID,
		SpaceIDs:      spaces,
		AllSpaces:     all,
		Grants:        grants.Names(),
		PeriodSeconds: int64(period / time.Second),
		CreatedAt:     now,
		LastRenewedAt: now,
		// Stored so that a later secret reset can revoke this token (RevokeSecretGenerations).
		SecretGeneration: facts.SecretGeneration,
	})
	if err != nil {
		return Minted{}, err
	}
	return Minted{Token: token, ExpiresIn: period}, nil
}

// create draws a new token value, stores rec under its hash and caches it. The value leaves this
// function only in the answer; etcd sees its hash.
func (t *Tokens) create(ctx context.Context, rec Record) (string, error) {
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("token randomness: %w", err)
	}
	token := tokenPrefix + hex.EncodeToString(raw)
	hash := sha256.Sum256([]byte(token))
	hashHex := hex.EncodeToString(hash[:])
	epoch := t.cache.epoch.Load()
	modRev, err := t.store.Create(ctx, hashHex, rec)
	if err != nil {
		return "", err
	}
	// Cache at once: the first use is then a hit. A refused insert (re-sync) only costs a load.
	t.cache.insert(newEntry(hash, hashHex, rec, modRev), epoch)
	return token, nil
}
