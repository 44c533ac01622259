package app

import (
	"context"
	"errors"

	"github.com/opensmh/opensmh/pkg/authz"
)

// Revoke deletes one token (section 1.3; no secret needed, so a client can log out).
//
// An unknown token, or one of another library, answers 403 InvalidAccessToken: deletion is keyed
// by the token itself, so "not a token of this library" is the honest answer, and it is the answer
// every other token endpoint gives. An expired token is removed as well but answered the same way,
// because it is no longer a token.
func (t *Tokens) Revoke(ctx context.Context, libraryID, token string) error {
	if libraryID == "" {
		return ErrEmptyLibraryID
	}
	if token == "" {
		return ErrEmptyAccessToken
	}
	if len(token) > authz.MaxTokenLength {
		return ErrInvalidAccessToken
	}
	h := authz.HashToken(token)
	hashHex := hexHash(h)
	for range 3 {
		st, err := t.store.Get(ctx, hashHex)
		if errors.Is(err, ErrNotFound) {
			return ErrInvalidAccessToken
		}
		if err != nil {
			return err
		}
		if st.Record.LibraryID != libraryID {
			return ErrInvalidAccessToken
		}
		last := st.Record.LastRenewedAt.UnixNano()
		if e := t.cache.get(&h); e != nil {
			last = max(last, e.lastActivity())
		}
		expired := t.clock.Now().UnixNano() >= last+st.Record.PeriodSeconds*1e9
		rev, err := t.store.Delete(ctx, hashHex, st.Record, st.ModRevision)
		if errors.Is(err, ErrConflict) {
			continue // renewed or deleted meanwhile: look again
		}
		if err != nil {
			return err
		}
		// Refuse here at once; other instances follow through the watch.
		t.cache.remove(h, rev)
		if expired {
			return ErrInvalidAccessToken
		}
		return nil
	}
	return ErrConflict
}

// UserTokensFilter selects tokens for DeleteUserTokens (section 1.4).
type UserTokensFilter struct {
	LibraryID string
	Secret    string
	// UserIDs is the comma list as sent; empty selects tokens minted with an empty user id.
	UserIDs string
	// ClientIDs nil = any client; non-nil (even "") = only those client ids, where an empty item
	// selects tokens whose client id is empty.
	ClientIDs *string
	// SessionIDs follows the rule of ClientIDs.
	SessionIDs *string
}

// RevokeUserTokens deletes the tokens of some users of a library, optionally narrowed by client
// and session (section 1.4). It reads the (library, user) index, never the whole library.
func (t *Tokens) RevokeUserTokens(ctx context.Context, f UserTokensFilter) error {
	if err := checkCredentials(f.LibraryID, f.Secret); err != nil {
		return err
	}
	users, err := ParseIDList(f.UserIDs, "user_id")
	if err != nil {
		return err
	}
	clients, err := optionalSet(f.ClientIDs, "client_id")
	if err != nil {
		return err
	}
	sessions, err := optionalSet(f.SessionIDs, "session_id")
	if err != nil {
		return err
	}
	if _, err := t.libraries.VerifySecret(ctx, f.LibraryID, f.Secret); err != nil {
		return err
	}
	var victims []IndexEntry
	for _, u := range users {
		entries, err := t.store.ListUserTokens(ctx, f.LibraryID, u)
		if err != nil {
			return err
		}
		for _, ie := range entries {
			if clients != nil && !clients[ie.ClientID] {
				continue
			}
			if sessions != nil && !sessions[ie.SessionID] {
				continue
			}
			victims = append(victims, ie)
		}
	}
	return t.deleteAll(ctx, victims)
}

// PurgeLibraryTokens deletes every token of a library (the library was deleted). It closes the
// library first, so a mint racing the deletion (its secret checked just before) cannot leave a
// token behind the purge. Safe to repeat.
func (t *Tokens) PurgeLibraryTokens(ctx context.Context, libraryID string) error {
	if libraryID == "" {
		return ErrEmptyLibraryID
	}
	if err := t.store.CloseLibrary(ctx, libraryID); err != nil {
		return err
	}
	return t.store.LibraryTokenPages(ctx, libraryID, func(page []IndexEntry) error {
		return t.deleteAll(ctx, page)
	})
}

// RevokeSecretGenerations revokes every token of a library minted with a secret generation below
// floor: a secret reset with revokeTokens (admin API), where floor is the new secret's generation.
//
// The floor is raised first, so that a mint which verified an older secret just before the reset
// cannot store its token after the walk below; then the older tokens are deleted through the
// same path as PurgeLibraryTokens, a page at a time, so every cache (this one at once, the others
// through the etcd watch and WatchRevocations) drops them. Tokens of the new secret, minted at any
// moment, stay. Safe to repeat: a repeat, or a retry after a failure midway, deletes what is left.
//
// The cost is one etcd transaction per 64 tokens of the library; validation stays a map lookup
// with no generation to compare, and the caches of other processes need nothing beyond the
// revocation stream they already follow.
func (t *Tokens) RevokeSecretGenerations(ctx context.Context, libraryID string, floor int64) error {
	if libraryID == "" {
		return ErrEmptyLibraryID
	}
	if floor <= 0 {
		return paramInvalid("below_secret_generation must be positive")
	}
	if err := t.store.RaiseSecretFloor(ctx, libraryID, floor); err != nil {
		return err
	}
	return t.store.LibraryTokenPages(ctx, libraryID, func(page []IndexEntry) error {
		older := page[:0]
		for _, ie := range page {
			if ie.SecretGeneration < floor {
				older = append(older, ie)
			}
		}
		return t.deleteAll(ctx, older)
	})
}

func (t *Tokens) deleteAll(ctx context.Context, entries []IndexEntry) error {
	if len(entries) == 0 {
		return nil
	}
	rev, err := t.store.DeleteTokens(ctx, entries)
	if err != nil {
		return err
	}
	for _, ie := range entries {
		if h, ok := decodeHash(ie.Hash); ok {
			t.cache.remove(h, rev)
		}
	}
	return nil
}

func optionalSet(list *string, name string) (map[string]bool, error) {
	if list == nil {
		return nil, nil
	}
	ids, err := ParseIDList(*list, name)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set, nil
}
