package authz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/backoff"
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
type RemoteValidator struct {
	client     tokenv1.TokenServiceClient
	adminKey   string
	clock      clock.Clock
	ttl        time.Duration
	maxEntries int

	mu    sync.RWMutex
	cache map[[32]byte]remoteEntry
	// gen moves on every revocation and stream reset; a validation answered across a move is not
	// cached, because the revocation may have concerned it.
	gen  uint64
	live atomic.Bool

	cancel context.CancelFunc
	done   chan struct{}
}

type remoteEntry struct {
	p     *Principal
	until time.Time
}

// RemoteOption tunes a RemoteValidator.
type RemoteOption func(*RemoteValidator)

// WithClock replaces the wall clock (tests).
func WithClock(c clock.Clock) RemoteOption { return func(r *RemoteValidator) { r.clock = c } }

// WithCacheTTL sets how long a principal is served from memory before authtoken is asked again
// (which also records the use for sliding renewal). Default 10 s.
func WithCacheTTL(d time.Duration) RemoteOption { return func(r *RemoteValidator) { r.ttl = d } }

// WithMaxEntries bounds the cache; when full it is emptied (default 100,000 principals).
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
		cache:      make(map[[32]byte]remoteEntry),
		done:       make(chan struct{}),
	}
	for _, o := range opts {
		o(r)
	}
	ctx, r.cancel = context.WithCancel(ctx)
	go r.watch(ctx)
	return r, nil
}

// Close stops the revocation subscription and waits for it.
func (r *RemoteValidator) Close() error {
	r.cancel()
	<-r.done
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
	h := HashToken(token)
	now := r.clock.Now()
	r.mu.RLock()
	e, ok := r.cache[h]
	gen := r.gen
	r.mu.RUnlock()
	if ok && now.Before(e.until) {
		if e.p.LibraryID != libraryID {
			return nil, ErrInvalidAccessToken
		}
		return e.p, nil
	}
	resp, err := r.client.ValidateToken(adminauth.Outgoing(ctx, r.adminKey), &tokenv1.ValidateTokenRequest{LibraryId: libraryID, AccessToken: token})
	if err != nil {
		return nil, smherr.As(err)
	}
	pp := resp.GetPrincipal()
	if pp.GetLibraryId() != libraryID {
		return nil, ErrInvalidAccessToken
	}
	p := PrincipalFromProto(pp)
	until := now.Add(r.ttl)
	if exp := time.UnixMilli(pp.GetExpiresAtMs()); exp.Before(until) {
		until = exp
	}
	r.mu.Lock()
	if r.gen == gen && r.live.Load() {
		if len(r.cache) >= r.maxEntries {
			clear(r.cache)
		}
		r.cache[h] = remoteEntry{p: p, until: until}
	}
	r.mu.Unlock()
	return p, nil
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

func (r *RemoteValidator) reset(live bool) {
	r.mu.Lock()
	clear(r.cache)
	r.gen++
	r.live.Store(live)
	r.mu.Unlock()
}

func (r *RemoteValidator) revoke(hashes []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	for _, s := range hashes {
		var h [32]byte
		if n, err := hex.Decode(h[:], []byte(s)); err != nil || n != len(h) {
			continue
		}
		delete(r.cache, h)
	}
}
