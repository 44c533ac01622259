package app

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// NewLibrary is what CreateLibrary asks for (docs/architecture.md, "The admin API").
type NewLibrary struct {
	Name     string
	Remark   string
	Settings SettingsPatch
}

// Created is a new library and its secret; the secret is shown here and by the secret use cases
// only.
type Created struct {
	Library Library
	Secret  string
}

// idAttempts bounds retries on an id collision, which at 36^13 ids is never expected.
const idAttempts = 3

// Create validates the request, applies the section S defaults, and stores the library with a
// fresh secret sealed under the key-encryption key.
func (l *Libraries) Create(ctx context.Context, in NewLibrary) (Created, error) {
	if err := checkName(in.Name); err != nil {
		return Created{}, err
	}
	if err := checkRemark(in.Remark); err != nil {
		return Created{}, err
	}
	isFile := in.Settings.IsFileLibrary != nil && *in.Settings.IsFileLibrary
	settings, err := DefaultSettings(isFile).apply(in.Settings).validate()
	if err != nil {
		return Created{}, err
	}
	secret, err := newSecret()
	if err != nil {
		return Created{}, err
	}
	// Milliseconds are all creationTime shows (ISO-8601 ms), so that is all we keep: a library
	// read back equals the one answered here.
	now := l.clock.Now().UTC().Truncate(time.Millisecond)
	for range idAttempts {
		id, err := newLibraryID()
		if err != nil {
			return Created{}, err
		}
		sealed, err := l.box.seal(id, secret)
		if err != nil {
			return Created{}, err
		}
		lib := Library{ID: id, Name: in.Name, Remark: in.Remark, CreatedAt: now, Settings: settings}
		err = l.store.Create(ctx, lib, sealed)
		if errors.Is(err, ErrLibraryExists) {
			continue
		}
		if err != nil {
			return Created{}, fmt.Errorf("create library: %w", err)
		}
		return Created{Library: lib, Secret: secret}, nil
	}
	return Created{}, fmt.Errorf("create library: %w after %d random ids", ErrLibraryExists, idAttempts)
}
