package app

import (
	"errors"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// Domain errors. The transport maps each to one SMH code (docs/architecture.md, "The admin API", SMH API 12.6);
// anything else a use case returns (etcd failures, broken records) becomes InternalError.
var (
	// ErrLibraryNotFound: no library with this id, or the id is not of the library-id form.
	ErrLibraryNotFound = errors.New("library not found")
	// ErrLibraryExists: the store already holds this id (a random id collided).
	ErrLibraryExists = errors.New("library already exists")
	// ErrWrongSecret: the library id and secret do not match. Unknown ids answer the same error,
	// so a caller cannot learn which ids exist (SMH API 12.6: WrongLibraryIdOrSecret).
	ErrWrongSecret = errors.New("wrong library id or secret")
	// ErrImmutableField: a patch tried to change a field fixed at creation (SMH API section S).
	ErrImmutableField = errors.New("library field is fixed at creation")
	// ErrInvalidParam: a value breaks a rule of docs/architecture.md, "The admin API" or SMH API section S.
	ErrInvalidParam = errors.New("invalid parameter")
	// ErrEmptyLibraryID, ErrEmptyLibrarySecret and ErrEmptyLibraryIDOrSecret name what a
	// secret check is missing (SMH API 12.6).
	ErrEmptyLibraryID         = errors.New("empty library id")
	ErrEmptyLibrarySecret     = errors.New("empty library secret")
	ErrEmptyLibraryIDOrSecret = errors.New("empty library id and secret")
	// ErrNotPurged: the library is gone but another service's part of it could not be purged yet; deleting
	// again resumes the purge (see delete.go).
	ErrNotPurged = errors.New("library not purged everywhere")
	// ErrTokensNotRevoked: a secret reset replaced the secret but could not revoke the tokens of
	// the earlier secrets; resetting again with revokeTokens completes it (see ResetSecret).
	ErrTokensNotRevoked = errors.New("library secret reset but tokens not revoked")
	// ErrUsageUnavailable: the usage figures of an admin answer cannot be had for now (the
	// namespace service is down or too slow); see withUsage for why the call fails instead of
	// answering zeros.
	ErrUsageUnavailable = errors.New("library usage figures unavailable")
	// ErrSecretUnreadable: the stored secret does not open under the key-encryption key (wrong
	// key configured, or the record was altered).
	ErrSecretUnreadable = errors.New("library secret unreadable")
)

// InputError is rejected input with a caller-facing reason (shared with the other services).
type InputError = smherr.Invalid

func invalidParam(format string, args ...any) error {
	return smherr.Invalidf(ErrInvalidParam, format, args...)
}

func immutableField(field string) error {
	return &InputError{Err: ErrImmutableField, Reason: field + " is fixed at creation"}
}
