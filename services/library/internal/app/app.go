// Package app holds the library service's use cases: plain Go over a Store, with no gRPC or etcd
// in sight. One file per use case; rules of docs/architecture.md, "The admin API" and SMH API section S live in
// settings.go.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/opensmh/opensmh/pkg/clock"
)

// Library is a library as the service keeps it.
type Library struct {
	ID        string
	Name      string
	Remark    string
	CreatedAt time.Time
	Settings  Settings
	// Usage is never stored: the admin answers (Get, List, Update) fill it from the UsageSource;
	// a library just created has none.
	Usage Usage
}

// Access is what other services need to know about a library to authorise requests and apply its
// rules (the gateway's CORS, authtoken's tenancy checks).
type Access struct {
	LibraryID          string
	IsFileLibrary      bool
	IsMultiSpace       bool
	IsMultiAlbum       bool
	IsPublicRead       bool
	CORSAllowedOrigins []string
	// SecretGeneration is the generation of the secret a Verify just checked (SealedSecret); zero
	// elsewhere.
	SecretGeneration int64
}

// AccessOf answers the access facts of lib.
func AccessOf(lib Library) Access {
	s := lib.Settings
	return Access{
		LibraryID:          lib.ID,
		IsFileLibrary:      s.IsFileLibrary,
		IsMultiSpace:       s.IsMultiSpace,
		IsMultiAlbum:       s.IsMultiAlbum,
		IsPublicRead:       s.IsPublicRead,
		CORSAllowedOrigins: append([]string{}, s.CORSAllowedOrigins...),
	}
}

// Store keeps libraries and their sealed secrets. Implementations must make every method atomic.
type Store interface {
	// Create stores a new library with its sealed secret; ErrLibraryExists when the id is taken.
	Create(ctx context.Context, lib Library, sealedSecret []byte) error
	// Get answers a library; ErrLibraryNotFound when absent.
	Get(ctx context.Context, id string) (Library, error)
	// List answers page (1-based) of size libraries, newest first, and how many exist.
	List(ctx context.Context, page, size int) (libs []Library, total int, err error)
	// Update reads the library, passes it to change and stores the result only if the library was
	// not modified in between (retrying otherwise), so concurrent updates never lose a write.
	// An error from change aborts the update and is returned as is.
	Update(ctx context.Context, id string, change func(Library) (Library, error)) (Library, error)
	// WithSecret answers a library and its sealed secret, read at one revision.
	WithSecret(ctx context.Context, id string) (Library, SealedSecret, error)
	// ReplaceSecret swaps the sealed secret in one write and answers the new secret's generation;
	// ErrLibraryNotFound when absent.
	ReplaceSecret(ctx context.Context, id string, sealedSecret []byte) (generation int64, err error)
	// Remove deletes the library and its secret and, in the same transaction, records that its
	// tokens still have to be purged. It succeeds for a library already removed whose purge is
	// still pending, and answers ErrLibraryNotFound when there is neither.
	Remove(ctx context.Context, id string) error
	// PurgeDone forgets the pending purge of a removed library.
	PurgeDone(ctx context.Context, id string) error
}

// SealedSecret is a library secret as stored, with its generation: a number that grows with
// every reset, so that authtoken can tell the tokens of earlier secrets from those of the current
// one (see ResetSecret).
type SealedSecret struct {
	Sealed     []byte
	Generation int64
}

// Purger removes what another service keeps of a deleted library: authtoken its tokens, the
// namespace its spaces and tree. It must be idempotent: a resumed delete calls it again.
type Purger interface {
	PurgeLibrary(ctx context.Context, libraryID string) error
}

// TokenRevoker revokes the access tokens of a library's earlier secrets: authtoken revokes every
// token minted with a secret generation below the given one, and refuses such mints from then on.
// It must be idempotent, because a failed reset is completed by another.
type TokenRevoker interface {
	RevokeTokensBefore(ctx context.Context, libraryID string, secretGeneration int64) error
}

// Deps are what the use cases run on.
type Deps struct {
	Store Store
	// Purgers run, in order, when a library is deleted; none in unit tests.
	Purgers []Purger
	// Tokens revokes tokens on a secret reset that asks for it; nil in unit tests that do not.
	Tokens TokenRevoker
	// Usage answers the usage figures of the admin answers (the namespace's counters).
	Usage UsageSource
	// SecretKEK is the 32-byte AES-256 key-encryption key for library secrets.
	SecretKEK []byte
	// Clock is nil for the wall clock.
	Clock clock.Clock
}

// Libraries runs the library use cases.
type Libraries struct {
	store   Store
	purgers []Purger
	tokens  TokenRevoker
	usage   UsageSource
	box     *secretBox
	clock   clock.Clock
}

// New checks deps and answers the use cases.
func New(deps Deps) (*Libraries, error) {
	if deps.Store == nil {
		return nil, errors.New("library: no store")
	}
	if deps.Usage == nil {
		return nil, errors.New("library: no usage source")
	}
	box, err := newSecretBox(deps.SecretKEK)
	if err != nil {
		return nil, err
	}
	clk := deps.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	return &Libraries{store: deps.Store, purgers: deps.Purgers, tokens: deps.Tokens, usage: deps.Usage, box: box, clock: clk}, nil
}
