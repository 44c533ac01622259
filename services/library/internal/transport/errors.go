package transport

import (
	"net/http"

	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/library/internal/app"
)

// errorMap is the library service's one error table (docs/decisions/0035-one-error-map-per-service.md). SMH
// errors (adminauth.ErrInvalidAdminKey) pass through; anything unmapped, such as an etcd failure,
// becomes InternalError.
var errorMap = smherr.Map{
	{Err: app.ErrLibraryNotFound, SMH: smherr.New(http.StatusNotFound, "LibraryNotFound", "library not found")},
	{Err: app.ErrWrongSecret, SMH: smherr.New(http.StatusNotFound, "WrongLibraryIdOrSecret", "wrong library id or secret")},
	{Err: app.ErrImmutableField, SMH: smherr.New(http.StatusBadRequest, "ImmutableLibraryField", "library field is fixed at creation")},
	{Err: app.ErrInvalidParam, SMH: smherr.New(http.StatusBadRequest, "ParamInvalid", "invalid parameter")},
	{Err: app.ErrEmptyLibraryIDOrSecret, SMH: smherr.New(http.StatusBadRequest, "EmptyLibraryIdOrSecret", "library id and secret are missing")},
	{Err: app.ErrEmptyLibraryID, SMH: smherr.New(http.StatusBadRequest, "EmptyLibraryId", "library id is missing")},
	{Err: app.ErrEmptyLibrarySecret, SMH: smherr.New(http.StatusBadRequest, "EmptyLibrarySecret", "library secret is missing")},
	// The secret did change: the message says so, so that nobody takes the failure for "nothing
	// happened" and keeps using the old secret.
	{Err: app.ErrTokensNotRevoked, SMH: smherr.New(http.StatusServiceUnavailable, "ServiceUnavailable", "the secret was reset but the access tokens could not all be revoked; reset again with revokeTokens")},
	{Err: app.ErrUsageUnavailable, SMH: smherr.New(http.StatusServiceUnavailable, "ServiceUnavailable", "the usage figures are unavailable; try again")},
}

// toStatus converts a use-case error through errorMap. Rejected input keeps its own message
// (app.InputError implements smherr.Detailed), since a bare "invalid parameter" does not tell an
// operator what to fix. Store failures and authtoken's answers to a purge are not forwarded: they
// become InternalError, with the cause kept for the server's log.
func toStatus(err error) error { return errorMap.Convert(err) }
