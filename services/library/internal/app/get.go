package app

import (
	"context"
	"fmt"
)

// Get answers one library, without its secret, with its usage figures (docs/architecture.md, "The admin API").
func (l *Libraries) Get(ctx context.Context, id string) (Library, error) {
	lib, err := l.get(ctx, id)
	if err != nil {
		return Library{}, err
	}
	libs := []Library{lib}
	if err := l.withUsage(ctx, libs); err != nil {
		return Library{}, fmt.Errorf("get library %s: %w", id, err)
	}
	return libs[0], nil
}

// get answers the stored library alone.
func (l *Libraries) get(ctx context.Context, id string) (Library, error) {
	if !ValidLibraryID(id) {
		return Library{}, ErrLibraryNotFound
	}
	lib, err := l.store.Get(ctx, id)
	if err != nil {
		return Library{}, fmt.Errorf("get library %s: %w", id, err)
	}
	return lib, nil
}

// Access answers the access facts of a library for internal callers (the gateway's CORS check,
// every service authorising a request). It asks no usage figures: the namespace itself calls it,
// and a request's authorisation must not wait on counters.
func (l *Libraries) Access(ctx context.Context, id string) (Access, error) {
	lib, err := l.get(ctx, id)
	if err != nil {
		return Access{}, err
	}
	return AccessOf(lib), nil
}
