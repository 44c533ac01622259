package app

import (
	"context"
	"fmt"
)

// Get answers one library, without its secret.
func (l *Libraries) Get(ctx context.Context, id string) (Library, error) {
	if !ValidLibraryID(id) {
		return Library{}, ErrLibraryNotFound
	}
	lib, err := l.store.Get(ctx, id)
	if err != nil {
		return Library{}, fmt.Errorf("get library %s: %w", id, err)
	}
	return lib, nil
}

// Access answers the access facts of a library for internal callers (the gateway's CORS check).
func (l *Libraries) Access(ctx context.Context, id string) (Access, error) {
	lib, err := l.Get(ctx, id)
	if err != nil {
		return Access{}, err
	}
	return AccessOf(lib), nil
}
