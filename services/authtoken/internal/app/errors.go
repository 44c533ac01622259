package app

import (
	"errors"
	"fmt"
)

// Sentinel errors of the token use cases; the transport maps each to its SMH code with one table
// (smh-api.md section 12.6).
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

	// Store outcomes.
	ErrNotFound  = errors.New("token not found")
	ErrConflict  = errors.New("token changed concurrently")
	ErrCompacted = errors.New("watch revision compacted")
)

// GrantError names the unknown grant, so that the 400 ParamInvalid answer can say which one.
type GrantError struct{ Grant string }

func (e *GrantError) Error() string { return fmt.Sprintf("unknown grant %q", e.Grant) }

// Is makes errors.Is(err, ErrUnknownGrant) hold.
func (e *GrantError) Is(target error) bool { return target == ErrUnknownGrant }
