package app

import (
	"context"
	"time"
)

// Record is what etcd keeps of a token, under the SHA-256 of its value (never the value itself).
type Record struct {
	LibraryID string   `json:"libraryId"`
	UserID    string   `json:"userId,omitempty"`
	ClientID  string   `json:"clientId,omitempty"`
	SessionID string   `json:"sessionId,omitempty"`
	SpaceIDs  []string `json:"spaceIds,omitempty"`
	AllSpaces bool     `json:"allSpaces,omitempty"`
	Grants    []string `json:"grants,omitempty"`
	// ShareID marks a share access token (13.9, MintShare): a visitor's pass to that one share,
	// whose expiry does not slide (LastRenewedAt stays CreatedAt).
	ShareID string `json:"shareId,omitempty"`
	// PeriodSeconds is the lifetime and sliding window (section 1.1).
	PeriodSeconds int64     `json:"period"`
	CreatedAt     time.Time `json:"createdAt"`
	// SecretGeneration is the generation of the library secret the mint verified (the library
	// service's LibraryAccess.secret_generation); RevokeSecretGenerations revokes by it. Records
	// written before it existed read as 0, the oldest generation.
	SecretGeneration int64 `json:"secretGeneration,omitempty"`
	// LastRenewedAt is the recorded renewal: the last use written to etcd (at most once a minute
	// per token) or the last explicit renewal. Expiry = LastRenewedAt + period, unless an instance
	// saw a later use it has not written yet.
	LastRenewedAt time.Time `json:"lastRenewedAt"`
}

// StoredToken is a record with the etcd mod revision it was read at, for compare-and-swap.
type StoredToken struct {
	Hash        string
	Record      Record
	ModRevision int64
}

// IndexEntry is one token in the (library, user) index: enough to filter DeleteUserTokens by
// client and session without reading the records.
type IndexEntry struct {
	LibraryID string
	UserID    string
	Hash      string
	ClientID  string
	SessionID string
	// SecretGeneration is the record's, so a revocation by generation reads only the index.
	SecretGeneration int64
}

// TokenEvent is a change of a token record seen by the watch.
type TokenEvent struct {
	Hash    string
	Deleted bool
	// ModRevision is the revision of the change (of the deletion, for a delete).
	ModRevision int64
	// Record of a put; zero for a delete.
	Record Record
}

// Store keeps token records and the (library, user) index. Hashes are hex SHA-256.
type Store interface {
	// Create stores a new token and its index entry; answers the record's mod revision, or
	// ErrLibraryClosed when the token's library was closed first, or ErrSecretReplaced when
	// rec.SecretGeneration is below the library's secret floor (both checked in the same
	// transaction).
	Create(ctx context.Context, hash string, rec Record) (int64, error)
	// RaiseSecretFloor makes every later Create of a token of libraryID with a secret generation
	// below floor fail with ErrSecretReplaced. The floor never moves down.
	RaiseSecretFloor(ctx context.Context, libraryID string, floor int64) error
	// CloseLibrary marks a deleted library so that no token of it can be created any more, even
	// by a mint whose secret check passed just before the library was deleted.
	CloseLibrary(ctx context.Context, libraryID string) error
	// Get answers ErrNotFound for an unknown hash.
	Get(ctx context.Context, hash string) (StoredToken, error)
	// SaveRenewal rewrites the record if it is still at modRevision, else ErrConflict (which also
	// covers a deleted token: a renewal never resurrects one). Answers the new mod revision.
	SaveRenewal(ctx context.Context, hash string, rec Record, modRevision int64) (int64, error)
	// Delete removes the record and its index entry if the record is still at modRevision, else
	// ErrConflict. Answers the revision of the deletion.
	Delete(ctx context.Context, hash string, rec Record, modRevision int64) (int64, error)
	// ListUserTokens reads the index of one (library, user).
	ListUserTokens(ctx context.Context, libraryID, userID string) ([]IndexEntry, error)
	// LibraryTokenPages passes the index of a whole library to page, one page at a time, each
	// read at the then current revision (a walk over millions of tokens outlasts any revision etcd
	// keeps). page may delete the entries it is given. Entries created during the walk may or may
	// not be seen: callers first stop the creation of the tokens they are after.
	LibraryTokenPages(ctx context.Context, libraryID string, page func([]IndexEntry) error) error
	// DeleteTokens removes records and index entries unconditionally; answers the revision of the
	// last deletion (0 when nothing was deleted).
	DeleteTokens(ctx context.Context, entries []IndexEntry) (int64, error)
	// Scan reads up to limit (> 0) token records in hash order, starting after the hash after (""
	// = from the first). next is the hash to continue after, "" once the records are exhausted.
	// Records that do not decode are skipped but still move next, so one damaged record cannot
	// stall a sweep.
	Scan(ctx context.Context, after string, limit int) (page []StoredToken, next string, err error)
	// Revision answers the store's current revision.
	Revision(ctx context.Context) (int64, error)
	// Watch delivers the changes of token records from revision from on, in order, until ctx ends
	// or the watch fails. It answers the last revision delivered and why it stopped (ErrCompacted
	// when from is no longer available).
	Watch(ctx context.Context, from int64, apply func([]TokenEvent)) (int64, error)
}

// LibraryFacts are what minting needs to know about a library.
type LibraryFacts struct {
	IsMultiSpace bool
	// SecretGeneration is the generation of the secret just verified (see Record).
	SecretGeneration int64
}

// LibraryVerifier checks a library secret (the library service owns secrets). A wrong pair or an
// unknown library answers the library service's SMH error (404 WrongLibraryIdOrSecret), which the
// use cases pass through unchanged.
type LibraryVerifier interface {
	VerifySecret(ctx context.Context, libraryID, secret string) (LibraryFacts, error)
}
