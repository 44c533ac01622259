package authz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync/atomic"
	"time"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/backoff"
	"github.com/opensmh/opensmh/pkg/cache"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/smherr"
)

// MaxTokenLength bounds the tokens worth hashing: OpenSMH tokens are 69 characters; anything much
// longer is refused before any work.
const MaxTokenLength = 256

// HashToken is the SHA-256 of a token: the only form in which tokens are stored, compared and
// streamed as revocations. It does not allocate for tokens up to MaxTokenLength.
func HashToken(token string) [32]byte {
	var buf [MaxTokenLength]byte
	if len(token) <= len(buf) {
		return sha256.Sum256(append(buf[:0], token...))
	}
	return sha256.Sum256([]byte(token))
}

// RemoteValidator validates tokens through authtoken's ValidateToken RPC for services that run in
// another process. It keeps each principal in memory for a short time (bounded by the token's
// expiry) and drops revoked tokens as authtoken's WatchRevocations stream names them, so a
// revocation reaches this cache within the stream's latency (docs/architecture.md, "Authorization").
// While the stream is down nothing is cached, so a missed revocation can never be served.
// Concurrent misses of one token ask authtoken once (pkg/cache); a revocation or a stream reset
// also keeps a validation in flight from being cached, because it may concern that token.
type RemoteValidator struct {
	client     tokenv1.TokenServiceClient
	adminKey   string
	clock      clock.Clock
	ttl        time.Duration
	maxEntries int

	// cache is keyed by token hash and library: a waiter must not get the answer to a request
	// for another library.
	cache *cache.Cache[remoteKey, remoteEntry]
	live  atomic.Bool

	cancel context.CancelFunc
	done   chan struct{}
}

type remoteKey struct {
	hash      [32]byte
	libraryID string
}

type remoteEntry struct {
	p *Principal
	// expires is the token's own expiry, which may come before the TTL.
	expires time.Time
}

// RemoteOption tunes a RemoteValidator.
type RemoteOption func(*RemoteValidator)

// WithClock replaces the wall clock (tests).
func WithClock(c clock.Clock) RemoteOption { return func(r *RemoteValidator) { r.clock = c } }

// WithCacheTTL sets how long a principal is served from memory before authtoken is asked again
// (which also records the use for sliding renewal). Default 10 s.
func WithCacheTTL(d time.Duration) RemoteOption { return func(r *RemoteValidator) { r.ttl = d } }

// WithMaxEntries bounds the cache; past it the oldest principals go (default 100,000).
func WithMaxEntries(n int) RemoteOption { return func(r *RemoteValidator) { r.maxEntries = n } }

var _ TokenValidator = (*RemoteValidator)(nil)

// NewRemoteValidator starts the revocation subscription (a goroutine owned by the validator,
// stopped by Close) and answers at once; until the subscription is confirmed every validation
// goes to authtoken. ctx bounds the subscription's life as well.
func NewRemoteValidator(ctx context.Context, client tokenv1.TokenServiceClient, adminKey string, opts ...RemoteOption) (*RemoteValidator, error) {
	if client == nil {
		return nil, errors.New("authz: nil token service client")
	}
	if adminKey == "" {
		return nil, errors.New("authz: the revocation stream needs the operator key")
	}
	r := &RemoteValidator{
		client:     client,
		adminKey:   adminKey,
		clock:      clock.Real{},
		ttl:        10 * time.Second,
		maxEntries: 100_000,
		done:       make(chan struct{}),
	}
	for _, o := range opts {
		o(r)
	}
	r.cache = cache.New[remoteKey](r.ttl, r.maxEntries, cache.WithClock[remoteEntry](r.clock),
		cache.WithExpiry(func(e remoteEntry) time.Time {
			if !r.live.Load() {
				return time.Time{} // not kept: a revocation could be missed
			}
			return e.expires
		}))
	ctx, r.cancel = context.WithCancel(ctx)
	go r.watch(ctx)
	return r, nil
}

// Close stops the revocation subscription and the validations in flight, and waits for them.
func (r *RemoteValidator) Close() error {
	r.cancel()
	<-r.done
	r.cache.Close()
	return nil
}

// ValidateToken answers the principal of token in libraryID.
func (r *RemoteValidator) ValidateToken(ctx context.Context, libraryID, token string) (*Principal, error) {
	if token == "" {
		return nil, ErrEmptyAccessToken
	}
	if len(token) > MaxTokenLength {
		return nil, ErrInvalidAccessToken
	}
	key := remoteKey{hash: HashToken(token), libraryID: libraryID}
	e, err := r.cache.Get(ctx, key, func(ctx context.Context) (remoteEntry, error) {
		resp, err := r.client.ValidateToken(adminauth.Outgoing(ctx, r.adminKey), &tokenv1.ValidateTokenRequest{LibraryId: libraryID, AccessToken: token})
		if err != nil {
			return remoteEntry{}, smherr.As(err)
		}
		pp := resp.GetPrincipal()
		if pp.GetLibraryId() != libraryID {
			return remoteEntry{}, ErrInvalidAccessToken
		}
		return remoteEntry{p: PrincipalFromProto(pp), expires: time.UnixMilli(pp.GetExpiresAtMs())}, nil
	})
	if err != nil {
		return nil, err
	}
	return e.p, nil
}

// PrincipalFromProto converts authtoken's wire principal. Unknown grant names (a newer authtoken)
// are skipped: they grant nothing here.
func PrincipalFromProto(pp *tokenv1.Principal) *Principal {
	p := &Principal{
		LibraryID: pp.GetLibraryId(),
		SpaceIDs:  pp.GetSpaceIds(),
		UserID:    pp.GetUserId(),
		ClientID:  pp.GetClientId(),
		SessionID: pp.GetSessionId(),
		ShareID:   pp.GetShareId(),
	}
	for _, g := range pp.GetGrants() {
		if b, ok := GrantBit(g); ok {
			p.Grants |= b
		}
	}
	// The wire form says "empty space_ids with the admin grant means every space" (token.proto).
	p.AllSpaces = len(p.SpaceIDs) == 0 && p.Grants&bitAdmin != 0
	return p
}

// PrincipalToProto is the inverse of PrincipalFromProto, without the expiry fields.
func PrincipalToProto(p *Principal) *tokenv1.Principal {
	pp := &tokenv1.Principal{
		LibraryId: p.LibraryID,
		UserId:    p.UserID,
		ClientId:  p.ClientID,
		SessionId: p.SessionID,
		Grants:    p.Grants.Names(),
		ShareId:   p.ShareID,
	}
	if !p.AllSpaces {
		pp.SpaceIds = p.SpaceIDs
	}
	return pp
}

// watch keeps the revocation stream open, reconnecting with jittered backoff: every validator
// of a deployment loses the stream when authtoken restarts, and they should not all come back at
// the same instant.
func (r *RemoteValidator) watch(ctx context.Context) {
	defer close(r.done)
	retry := backoff.New(100*time.Millisecond, 5*time.Second)
	for {
		wasLive := r.watchOnce(ctx)
		r.reset(false)
		if ctx.Err() != nil {
			return
		}
		if wasLive {
			retry.Reset()
		}
		if retry.Wait(ctx) != nil {
			return
		}
	}
}

// watchOnce follows one stream until it fails; it reports whether the stream was confirmed.
func (r *RemoteValidator) watchOnce(ctx context.Context) bool {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := r.client.WatchRevocations(adminauth.Outgoing(sctx, r.adminKey), &tokenv1.WatchRevocationsRequest{})
	if err != nil {
		return false
	}
	// authtoken sends an empty message once the subscription is in place; from then on no
	// revocation can be missed, and caching may start from an empty cache.
	if _, err := stream.Recv(); err != nil {
		return false
	}
	r.reset(true)
	for {
		msg, err := stream.Recv()
		if err != nil {
			return true
		}
		r.revoke(msg.GetTokenHashes())
	}
}

// reset empties the cache when the stream comes up or goes down. live is stored first: a
// validation kept between the two is dropped by the Clear, and one finishing after it began
// before it and is not kept (pkg/cache's generations).
func (r *RemoteValidator) reset(live bool) {
	r.live.Store(live)
	r.cache.Clear()
}

// revoke drops the named tokens in every library. It walks the cache once per message (a
// library purge names many tokens in one); revocations are rare next to validations.
func (r *RemoteValidator) revoke(hashes []string) {
	revoked := make(map[[32]byte]struct{}, len(hashes))
	for _, s := range hashes {
		var h [32]byte
		if n, err := hex.Decode(h[:], []byte(s)); err != nil || n != len(h) {
			continue
		}
		revoked[h] = struct{}{}
	}
	r.cache.ForgetFunc(func(k remoteKey) bool {
		_, ok := revoked[k.hash]
		return ok
	})
}
