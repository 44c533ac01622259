package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
)

// Verify checks a library id and secret pair for internal callers (authtoken minting tokens,
// business requests carrying library_secret, decision 4) and answers the library's
// access facts. Unknown ids and wrong secrets answer the same ErrWrongSecret, and the comparison
// takes the same time wherever the secrets differ.
func (l *Libraries) Verify(ctx context.Context, id, secret string) (Access, error) {
	switch {
	case id == "" && secret == "":
		return Access{}, ErrEmptyLibraryIDOrSecret
	case id == "":
		return Access{}, ErrEmptyLibraryID
	case secret == "":
		return Access{}, ErrEmptyLibrarySecret
	case !ValidLibraryID(id):
		return Access{}, ErrWrongSecret
	}
	lib, stored, err := l.store.WithSecret(ctx, id)
	if errors.Is(err, ErrLibraryNotFound) {
		return Access{}, ErrWrongSecret
	}
	if err != nil {
		return Access{}, fmt.Errorf("verify library secret %s: %w", id, err)
	}
	want, err := l.box.open(id, stored.Sealed)
	if err != nil {
		return Access{}, err
	}
	// Comparing digests keeps the time independent of the presented secret's length too.
	got, exp := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], exp[:]) != 1 {
		return Access{}, ErrWrongSecret
	}
	access := AccessOf(lib)
	access.SecretGeneration = stored.Generation
	return access, nil
}
