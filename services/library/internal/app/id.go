package app

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

const (
	idPrefix     = "smh"
	idRandomLen  = 13
	base36Digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	// secretBytes of entropy; base64url without padding makes 43 URL-safe characters.
	secretBytes = 32
)

// newLibraryID answers "smh" + 13 lowercase base36 characters from crypto/rand
// (docs/architecture.md, "The admin API").
func newLibraryID() (string, error) {
	out := make([]byte, 0, len(idPrefix)+idRandomLen)
	out = append(out, idPrefix...)
	var buf [32]byte
	for len(out) < cap(out) {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("library id: %w", err)
		}
		for _, b := range buf {
			// 252 = 7*36: rejecting larger bytes keeps every digit equally likely.
			if b >= 252 || len(out) == cap(out) {
				continue
			}
			out = append(out, base36Digits[b%36])
		}
	}
	return string(out), nil
}

// ValidLibraryID tells whether id has the library-id form. Ids of any other form cannot exist,
// so callers answer LibraryNotFound without asking the store.
func ValidLibraryID(id string) bool {
	if len(id) != len(idPrefix)+idRandomLen || id[:len(idPrefix)] != idPrefix {
		return false
	}
	for i := len(idPrefix); i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// newSecret answers 32 random bytes as base64url without padding.
func newSecret() (string, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("library secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
