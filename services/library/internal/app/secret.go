package app

import (
	"context"
	"fmt"
)

// Secret answers a library's secret (GET /admin/v1/libraries/{id}/secret).
func (l *Libraries) Secret(ctx context.Context, id string) (string, error) {
	if !ValidLibraryID(id) {
		return "", ErrLibraryNotFound
	}
	_, sealed, err := l.store.WithSecret(ctx, id)
	if err != nil {
		return "", fmt.Errorf("library secret %s: %w", id, err)
	}
	return l.box.open(id, sealed)
}

// ResetSecret replaces a library's secret. The store swaps the sealed secret in one write, so the
// old secret fails verification from the moment the new one is answered (admin-api.md section 2).
func (l *Libraries) ResetSecret(ctx context.Context, id string) (string, error) {
	if !ValidLibraryID(id) {
		return "", ErrLibraryNotFound
	}
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	sealed, err := l.box.seal(id, secret)
	if err != nil {
		return "", err
	}
	if err := l.store.ReplaceSecret(ctx, id, sealed); err != nil {
		return "", fmt.Errorf("reset library secret %s: %w", id, err)
	}
	return secret, nil
}
