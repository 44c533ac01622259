package authz

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/grpcx/grpctest"
	"github.com/opensmh/opensmh/pkg/inproc"
	"github.com/opensmh/opensmh/pkg/smherr"
)

const testAdminKey = "op-key"

// fakeTokenService stands in for authtoken: a fixed set of live tokens, revocations pushed by the
// test, and a switch to drop the revocation stream.
type fakeTokenService struct {
	tokenv1.UnimplementedTokenServiceServer
	clock   clock.Clock
	admin   *adminauth.Checker
	calls   atomic.Int64
	subs    atomic.Int64
	mu      sync.Mutex
	live    map[string]bool
	revoke  chan []string
	dropAll chan struct{}
	// gate, when set, holds every validation until it is closed.
	gate chan struct{}
}

func (f *fakeTokenService) ValidateToken(_ context.Context, req *tokenv1.ValidateTokenRequest) (*tokenv1.ValidateTokenResponse, error) {
	f.calls.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	ok := f.live[req.GetAccessToken()]
	f.mu.Unlock()
	if !ok || req.GetLibraryId() != "lib" {
		return nil, ErrInvalidAccessToken
	}
	return &tokenv1.ValidateTokenResponse{Principal: &tokenv1.Principal{
		LibraryId: "lib", SpaceIds: []string{"s"}, UserId: "u", Grants: []string{"upload_file", "from_the_future"},
		Period: 1200, ExpiresAtMs: f.clock.Now().Add(1200 * time.Second).UnixMilli(),
	}}, nil
}

func (f *fakeTokenService) WatchRevocations(_ *tokenv1.WatchRevocationsRequest, stream grpc.ServerStreamingServer[tokenv1.WatchRevocationsResponse]) error {
	if err := f.admin.Check(stream.Context()); err != nil {
		return err
	}
	f.subs.Add(1)
	if err := stream.Send(&tokenv1.WatchRevocationsResponse{}); err != nil {
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case <-f.dropAll:
			return status.Error(codes.Unavailable, "reset")
		case hs := <-f.revoke:
			if err := stream.Send(&tokenv1.WatchRevocationsResponse{TokenHashes: hs}); err != nil {
				return err
			}
		}
	}
}

func (f *fakeTokenService) kill(token string) string {
	f.mu.Lock()
	delete(f.live, token)
	f.mu.Unlock()
	h := HashToken(token)
	return fmt.Sprintf("%x", h[:])
}

func startFake(t *testing.T, clk clock.Clock) (*fakeTokenService, tokenv1.TokenServiceClient) {
	t.Helper()
	f := newFake(clk)
	conn := grpctest.Serve(t, func(r grpc.ServiceRegistrar) { tokenv1.RegisterTokenServiceServer(r, f) })
	return f, tokenv1.NewTokenServiceClient(conn)
}

func newFake(clk clock.Clock) *fakeTokenService {
	return &fakeTokenService{
		clock: clk, admin: adminauth.NewChecker(testAdminKey),
		live:   map[string]bool{"tok-a": true, "tok-b": true},
		revoke: make(chan []string), dropAll: make(chan struct{}),
	}
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("not within the deadline: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cached reports whether validating token is answered without an RPC.
func cached(t *testing.T, f *fakeTokenService, rv *RemoteValidator, token string) bool {
	t.Helper()
	if _, err := rv.ValidateToken(context.Background(), "lib", token); err != nil {
		t.Fatal(err)
	}
	before := f.calls.Load()
	if _, err := rv.ValidateToken(context.Background(), "lib", token); err != nil {
		t.Fatal(err)
	}
	return f.calls.Load() == before
}

func TestRemoteValidator(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	f, client := startFake(t, clk)
	ctx := context.Background()

	if _, err := NewRemoteValidator(ctx, client, ""); err == nil {
		t.Fatal("a validator without the operator key cannot follow revocations")
	}
	rv, err := NewRemoteValidator(ctx, client, testAdminKey, WithClock(clk), WithCacheTTL(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer rv.Close()

	p, err := rv.ValidateToken(ctx, "lib", "tok-a")
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != "u" || !p.Has(UploadFile) || p.RequireSpace("s") != nil || p.AllSpaces {
		t.Errorf("principal = %+v", p)
	}
	eventually(t, "caching once the stream is confirmed", func() bool { return cached(t, f, rv, "tok-a") })

	tests := []struct {
		name, lib, token, code string
	}{
		{"cached token, other library", "other", "tok-a", "InvalidAccessToken"},
		{"unknown", "lib", "nope", "InvalidAccessToken"},
		{"empty", "lib", "", "EmptyAccessToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rv.ValidateToken(ctx, tt.lib, tt.token)
			if e := smherr.As(err); e == nil || e.Code != tt.code {
				t.Errorf("err = %v, want %s", err, tt.code)
			}
		})
	}

	// The TTL bounds how long a principal is served without asking authtoken.
	clk.Advance(2 * time.Minute)
	before := f.calls.Load()
	if _, err := rv.ValidateToken(ctx, "lib", "tok-a"); err != nil || f.calls.Load() != before+1 {
		t.Errorf("after the TTL: err=%v calls=%d", err, f.calls.Load()-before)
	}

	// A streamed revocation evicts the token.
	f.revoke <- []string{f.kill("tok-a")}
	eventually(t, "revocation evicts", func() bool {
		_, err := rv.ValidateToken(ctx, "lib", "tok-a")
		e := smherr.As(err)
		return e != nil && e.Code == "InvalidAccessToken"
	})

	// A dropped stream empties the cache and is re-established; caching resumes.
	eventually(t, "tok-b cached", func() bool { return cached(t, f, rv, "tok-b") })
	subs := f.subs.Load()
	f.dropAll <- struct{}{}
	eventually(t, "resubscribed", func() bool { return f.subs.Load() > subs })
	eventually(t, "caching after the reconnect", func() bool { return cached(t, f, rv, "tok-b") })

	if err := rv.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRemoteValidatorWithoutStreamDoesNotCache(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	f, client := startFake(t, clk)
	// A wrong operator key: the stream never comes up, so nothing may be cached.
	rv, err := NewRemoteValidator(context.Background(), client, "wrong-key", WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer rv.Close()
	for range 5 {
		if cached(t, f, rv, "tok-a") {
			t.Fatal("cached without a revocation stream")
		}
	}
}

// A burst of requests carrying one token that is not cached costs authtoken one validation.
func TestRemoteValidatorConcurrentMissesAskOnce(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	f, client := startFake(t, clk)
	rv, err := NewRemoteValidator(context.Background(), client, testAdminKey, WithClock(clk), WithCacheTTL(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer rv.Close()
	eventually(t, "caching once the stream is confirmed", func() bool { return cached(t, f, rv, "tok-a") })

	f.gate = make(chan struct{}) // no validation runs now: the validator's cache is warm
	before := f.calls.Load()
	const callers = 16
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := rv.ValidateToken(context.Background(), "lib", "tok-b")
			errs <- err
		}()
	}
	// The first caller's validation waits at the gate; the others either join it or, arriving
	// after it answered, find tok-b cached. Either way authtoken is asked once.
	eventually(t, "the validation reached authtoken", func() bool { return f.calls.Load() == before+1 })
	close(f.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.calls.Load() - before; n != 1 {
		t.Fatalf("%d validations for %d concurrent requests, want 1", n, callers)
	}
}

// The all-in-one hosts authtoken on its in-process connection: the revocation stream works
// there too, so a validator over it caches and drops revoked tokens as over the network.
func TestRemoteValidatorOverInProcessConnection(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	f := newFake(clk)
	conn := inproc.New()
	tokenv1.RegisterTokenServiceServer(conn, f)
	rv, err := NewRemoteValidator(context.Background(), tokenv1.NewTokenServiceClient(conn), testAdminKey, WithClock(clk), WithCacheTTL(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer rv.Close()
	eventually(t, "caching once the stream is confirmed", func() bool { return cached(t, f, rv, "tok-a") })
	f.revoke <- []string{f.kill("tok-a")}
	eventually(t, "revocation evicts", func() bool {
		_, err := rv.ValidateToken(context.Background(), "lib", "tok-a")
		e := smherr.As(err)
		return e != nil && e.Code == "InvalidAccessToken"
	})
	subs := f.subs.Load()
	f.dropAll <- struct{}{}
	eventually(t, "resubscribed", func() bool { return f.subs.Load() > subs })
}
