package app

import (
	"context"
	"errors"
	"fmt"
)

// Secret answers a library's secret (GET /admin/v1/libraries/{id}/secret).
func (l *Libraries) Secret(ctx context.Context, id string) (string, error) {
	if !ValidLibraryID(id) {
		return "", ErrLibraryNotFound
	}
	_, stored, err := l.store.WithSecret(ctx, id)
	if err != nil {
		return "", fmt.Errorf("library secret %s: %w", id, err)
	}
	return l.box.open(id, stored.Sealed)
}

// ResetSecret replaces a library's secret. The store swaps the sealed secret in one write, so the
// old secret fails verification from the moment the new one is answered (docs/architecture.md, "The admin API").
//
// With revokeTokens, the tokens minted with any earlier secret are revoked as well: a leaked
// secret could have minted them, and sliding expiry would keep them alive for as long as they are
// used. The order is new secret first, then revocation by generation:
//
//   - Secret first: revoking first would leave a window in which the old secret, still valid,
//     mints tokens the revocation has already passed. After the swap no mint can verify the old
//     secret, and one that verified it just before is refused by authtoken in the mint's own
//     transaction (its generation is below the floor the revocation sets).
//   - By generation rather than by a list of tokens, so that a token minted with the new secret
//     between the two steps survives: it carries the new generation.
//
// If the revocation fails, the new secret is already in place and the caller gets
// ErrTokensNotRevoked, never the secret: an admin who retries gets another fresh secret, and that
// reset revokes every older generation, so the retry completes the job. The new secret of the
// failed call is simply never shown (GET .../secret still reads it).
func (l *Libraries) ResetSecret(ctx context.Context, id string, revokeTokens bool) (string, error) {
	if !ValidLibraryID(id) {
		return "", ErrLibraryNotFound
	}
	if revokeTokens && l.tokens == nil {
		// A wiring fault, found before anything changed: an InternalError, not ErrTokensNotRevoked.
		return "", errors.New("reset library secret: no token revoker wired")
	}
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	sealed, err := l.box.seal(id, secret)
	if err != nil {
		return "", err
	}
	generation, err := l.store.ReplaceSecret(ctx, id, sealed)
	if err != nil {
		return "", fmt.Errorf("reset library secret %s: %w", id, err)
	}
	if revokeTokens {
		if err := l.tokens.RevokeTokensBefore(ctx, id, generation); err != nil {
			return "", fmt.Errorf("reset library secret %s: %w: %w", id, ErrTokensNotRevoked, err)
		}
	}
	return secret, nil
}
