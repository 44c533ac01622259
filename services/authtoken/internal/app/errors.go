package app

import (
	"errors"
	"fmt"
)

// Sentinel errors of the token use cases; the transport maps each to its SMH code with one table
// (SMH API section 12.6).
var (
	ErrEmptyLibraryIDAndSecret = errors.New("library id and secret missing")
	ErrEmptyLibraryID          = errors.New("library id missing")
	ErrEmptyLibrarySecret      = errors.New("library secret missing")
	ErrEmptyAccessToken        = errors.New("access token missing")
	// ErrInvalidAccessToken: unknown, malformed, expired, revoked, or of another library. One
	// answer for all of them, so a caller learns nothing about tokens it does not hold.
	ErrInvalidAccessToken = errors.New("access token invalid")
	ErrUnknownGrant       = errors.New("unknown grant")
	ErrSpaceIDInvalid     = errors.New("space id invalid")
	ErrParamInvalid       = errors.New("parameter invalid")

	// ErrLibraryClosed: the library was deleted while a mint was under way.
	ErrLibraryClosed = errors.New("library deleted")
	// ErrSecretReplaced: the secret a mint verified was reset, with its tokens revoked, before the
	// token was stored; the secret is no longer the library's.
	ErrSecretReplaced = errors.New("library secret replaced")

	// Store outcomes.
	ErrNotFound  = errors.New("token not found")
	ErrConflict  = errors.New("token changed concurrently")
	ErrCompacted = errors.New("watch revision compacted")
)

// GrantError names the unknown grant, so that the 400 ParamInvalid answer can say which one.
type GrantError struct{ Grant string }

func (e *GrantError) Error() string { return fmt.Sprintf("unknown grant %q", e.Grant) }

// Detail is the caller-facing message (smherr.Detailed); it quotes only the grant.
func (e *GrantError) Detail() string { return e.Error() }

// Is makes errors.Is(err, ErrUnknownGrant) hold.
func (e *GrantError) Is(target error) bool { return target == ErrUnknownGrant }

// ParamError says which parameter broke which limit; it never quotes the value, which may be a
// token or a secret.
type ParamError struct{ Reason string }

func paramInvalid(format string, args ...any) error {
	return &ParamError{Reason: fmt.Sprintf(format, args...)}
}

func (e *ParamError) Error() string { return "parameter invalid: " + e.Reason }

// Detail is the caller-facing message (smherr.Detailed).
func (e *ParamError) Detail() string { return e.Reason }

// Is makes errors.Is(err, ErrParamInvalid) hold.
func (e *ParamError) Is(target error) bool { return target == ErrParamInvalid }
