package app

import (
	"context"
	"fmt"
)

// Delete removes a library and purges what other services keep of it (docs/architecture.md, "The admin API":
// "its spaces, files, tokens and bytes").
//
// Order, chosen so that no crash leaves a usable token of a deleted library behind unnoticed:
//
//  1. One store transaction removes the library and its secret and records a pending purge.
//     From then on VerifyLibrarySecret and GetLibraryAccess answer not-found, so no new token can
//     be minted for the library, and the admin API no longer shows it.
//  2. Each purger removes its part (idempotent): authtoken the tokens (it first closes the
//     library in its own store, so a mint whose secret check passed just before step 1 cannot
//     create a token after the purge), the namespace the spaces and tree.
//  3. The pending-purge record is removed.
//
// If step 2 or 3 fails (or the process dies), the caller gets an error and the pending purge stays
// recorded; deleting again resumes at step 2 and answers success. Only when neither the library
// nor a pending purge exists is the answer LibraryNotFound. Purging first instead would leave a
// window in which a token minted with the still-valid secret survives the delete.
func (l *Libraries) Delete(ctx context.Context, id string) error {
	if !ValidLibraryID(id) {
		return ErrLibraryNotFound
	}
	if err := l.store.Remove(ctx, id); err != nil {
		return fmt.Errorf("delete library %s: %w", id, err)
	}
	for _, p := range l.purgers {
		if err := p.PurgeLibrary(ctx, id); err != nil {
			return fmt.Errorf("delete library %s: %w: %w", id, ErrNotPurged, err)
		}
	}
	if err := l.store.PurgeDone(ctx, id); err != nil {
		return fmt.Errorf("delete library %s: %w", id, err)
	}
	return nil
}
