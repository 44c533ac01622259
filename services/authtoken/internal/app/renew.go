package app

import (
	"context"
	"errors"
	"time"
)

// Renew resets a token's expiry to now + its period (section 1.2, decision 9: the same token
// value; no secret needed). A renewal is a use like any other: it is served from memory and
// recorded in etcd by the flusher at most once a minute, so a client renewing in a loop (or many
// clients sharing a token) costs no etcd write per call and never conflicts with itself. A crash
// can lose at most the last minute of renewals, against a period of at least 1200 s.
func (t *Tokens) Renew(ctx context.Context, libraryID, token string) (Minted, error) {
	if libraryID == "" {
		return Minted{}, ErrEmptyLibraryID
	}
	e, err := t.use(ctx, libraryID, token)
	if err != nil {
		return Minted{}, err
	}
	if !e.slides {
		// A share access token is not a library token and its ten minutes are fixed (13.9).
		return Minted{}, ErrInvalidAccessToken
	}
	return Minted{Token: token, ExpiresIn: time.Duration(e.period)}, nil
}

// writeRenewal records a renewal at time at with compare-and-swap on the record's mod revision, so
// a renewal can never resurrect a token deleted meanwhile. A conflict with another instance's
// renewal is merged: the later time wins and is never moved back.
func (t *Tokens) writeRenewal(ctx context.Context, e *entry, at int64) error {
	for range 3 {
		if e.recorded.Load() >= at {
			return nil
		}
		rec := e.rec
		rec.LastRenewedAt = time.Unix(0, at).UTC()
		newRev, err := t.store.SaveRenewal(ctx, e.hashHex, rec, e.modRev.Load())
		if err == nil {
			e.observe(newRev, at)
			return nil
		}
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if err := t.refresh(ctx, e); err != nil {
			return err
		}
	}
	return ErrConflict
}
