package app

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
)

// Validation is a principal with its expiry, for the ValidateToken RPC.
type Validation struct {
	Principal *authz.Principal
	Period    time.Duration
	ExpiresAt time.Time
}

// Validate answers the principal of token in libraryID and counts as a use (sliding expiry,
// section 1.1). A cached token is served from memory with no I/O and no allocation; the
// returned principal is shared and must not be modified.
func (t *Tokens) Validate(ctx context.Context, libraryID, token string) (*authz.Principal, error) {
	e, err := t.use(ctx, libraryID, token)
	if err != nil {
		return nil, err
	}
	return e.principal, nil
}

// ValidateDetailed is Validate with the token's period and new expiry.
func (t *Tokens) ValidateDetailed(ctx context.Context, libraryID, token string) (Validation, error) {
	e, err := t.use(ctx, libraryID, token)
	if err != nil {
		return Validation{}, err
	}
	return Validation{
		Principal: e.principal,
		Period:    time.Duration(e.period),
		ExpiresAt: time.Unix(0, e.expiresAt()),
	}, nil
}

// use finds a live token of libraryID and records the use.
func (t *Tokens) use(ctx context.Context, libraryID, token string) (*entry, error) {
	if token == "" {
		return nil, ErrEmptyAccessToken
	}
	if len(token) > authz.MaxTokenLength {
		return nil, ErrInvalidAccessToken
	}
	h := authz.HashToken(token)
	now := t.clock.Now().UnixNano()
	e := t.cache.get(&h)
	if e == nil {
		if t.cache.gone(&h) {
			return nil, ErrInvalidAccessToken
		}
		var err error
		if e, err = t.loadShared(ctx, h); err != nil {
			return nil, err
		}
	}
	// A token of library A presented with library B's id is simply not a token of B (12.6).
	if e.libraryID != libraryID {
		return nil, ErrInvalidAccessToken
	}
	if e.expired(now) {
		if err := t.confirmExpiry(ctx, e, now); err != nil {
			return nil, err
		}
	}
	e.touch(now)
	return e, nil
}

// confirmExpiry asks the store before refusing a token the cache believes expired: another
// instance may have recorded a renewal this cache has not seen (a load that raced a renewal).
// Once the store agrees, later uses are refused from memory.
func (t *Tokens) confirmExpiry(ctx context.Context, e *entry, now int64) error {
	if e.confirmedExpired.Load() == e.recorded.Load() {
		return ErrInvalidAccessToken
	}
	if err := t.refresh(ctx, e); err != nil {
		return err
	}
	if e.expired(now) {
		e.confirmedExpired.Store(e.recorded.Load())
		return ErrInvalidAccessToken
	}
	return nil
}

// refresh merges what the store now says about a cached token into its entry; a deleted token
// answers ErrInvalidAccessToken.
func (t *Tokens) refresh(ctx context.Context, e *entry) error {
	st, err := t.store.Get(ctx, e.hashHex)
	if errors.Is(err, ErrNotFound) {
		return ErrInvalidAccessToken
	}
	if err != nil {
		return err
	}
	e.observe(st.ModRevision, st.Record.LastRenewedAt.UnixNano())
	return nil
}

// load reads a token missing from the cache (one etcd Get) and caches it, unless a deletion or a
// re-sync overtook the read (see cache.go).
func (t *Tokens) load(ctx context.Context, h [32]byte) (*entry, error) {
	hashHex := hexHash(h)
	for range 3 {
		epoch := t.cache.epoch.Load()
		st, err := t.store.Get(ctx, hashHex)
		if errors.Is(err, ErrNotFound) {
			t.cache.rememberMissing(h)
			return nil, ErrInvalidAccessToken
		}
		if err != nil {
			return nil, err
		}
		e, res := t.cache.insert(newEntry(h, hashHex, st.Record, st.ModRevision), epoch)
		switch res {
		case inserted:
			return e, nil
		case insertDeleted:
			return nil, ErrInvalidAccessToken
		}
		// insertStaleEpoch: the cache was re-synced during the read; read again.
	}
	return nil, errors.New("token cache kept re-syncing")
}

func hexHash(h [32]byte) string { return hex.EncodeToString(h[:]) }
