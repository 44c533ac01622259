package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
)

// tokenProbe uses a token the ways a client does, over REST and over gRPC on the public port,
// and answers the SMH code of each refusal ("" for success).
type tokenProbe struct {
	s      *system
	tokens tokenv1.TokenServiceClient
	spaces namespacev1.NamespaceServiceClient
}

func newTokenProbe(t *testing.T, s *system) tokenProbe {
	conn := s.grpcConn(t)
	return tokenProbe{s: s, tokens: tokenv1.NewTokenServiceClient(conn), spaces: namespacev1.NewNamespaceServiceClient(conn)}
}

// uses answers the outcome of: listing the root over REST, renewing over REST, renewing over
// gRPC, listing the root over gRPC.
func (p tokenProbe) uses(t *testing.T, libraryID, token string) []string {
	t.Helper()
	restCode := func(r response) string {
		if r.Status == http.StatusOK {
			return ""
		}
		return r.JSON(t)["code"].(string)
	}
	grpcCode := func(err error) string {
		if err == nil {
			return ""
		}
		return smherr.As(err).Code
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, renewErr := p.tokens.RenewToken(ctx, &tokenv1.RenewTokenRequest{LibraryId: libraryID, AccessToken: token})
	_, listErr := p.spaces.ListDirectory(metadata.AppendToOutgoingContext(ctx, reqmeta.AccessToken, token),
		&namespacev1.ListDirectoryRequest{LibraryId: libraryID, SpaceId: "-", Mode: "auto"})
	return []string{
		restCode(p.s.call("GET", "/api/v1/directory/"+libraryID+"/-/", url.Values{"access_token": {token}}, nil, nil)),
		restCode(p.s.renew(libraryID, token)),
		grpcCode(renewErr),
		grpcCode(listErr),
	}
}

func (p tokenProbe) expectAlive(t *testing.T, what, libraryID, token string) {
	t.Helper()
	if got := p.uses(t, libraryID, token); strings.Join(got, "") != "" {
		t.Fatalf("%s refused: %q (REST list, REST renew, gRPC renew, gRPC list)", what, got)
	}
}

func (p tokenProbe) expectRevoked(t *testing.T, what, libraryID, token string) {
	t.Helper()
	for i, code := range p.uses(t, libraryID, token) {
		if code != "InvalidAccessToken" {
			t.Fatalf("%s: use %d answered %q, want InvalidAccessToken", what, i, code)
		}
	}
	// And the status clients see over REST is 403 (SMH API 12.6).
	r := p.s.call("GET", "/api/v1/directory/"+libraryID+"/-/", url.Values{"access_token": {token}}, nil, nil)
	expectError(t, r, http.StatusForbidden, "InvalidAccessToken")
}

// resetSecret resets over REST with body (nil = no body) and answers the new secret.
func (s *system) resetSecret(t *testing.T, libraryID string, body any) string {
	t.Helper()
	r := s.admin("POST", "/admin/v1/libraries/"+libraryID+"/secret:reset", body)
	if r.Status != http.StatusOK {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	if m["libraryId"] != libraryID || m["librarySecret"] == "" {
		t.Fatalf("reset answered %s", r.Body)
	}
	return m["librarySecret"].(string)
}

// TestSecretResetRevokesTokens: a reset with revokeTokens signs out every user and device of the
// library (tokens renewed and in use included) over REST and gRPC alike, keeps tokens minted with
// the new secret and every other library's tokens; a reset without it keeps today's behaviour.
func TestSecretResetRevokesTokens(t *testing.T) {
	s := startSystem(t)
	probe := newTokenProbe(t, s)
	lib := s.createLibrary("rotated", nil)
	bystander := s.createLibrary("bystander", nil)

	// The token in use: renewed and used across more than a whole period, as sliding expiry
	// allows, so it is older than its own period when the reset comes.
	inUse := s.mustMint(lib, url.Values{"user_id": {"carol"}, "client_id": {"tablet"}})
	for range 5 {
		s.fakeClock().Advance(6 * time.Hour)
		probe.expectAlive(t, "the token in use", lib.ID, inUse)
	}
	// Several users and devices.
	devices := []string{"alice/phone", "alice/laptop", "bob/admin", "no user"}
	minted := []string{
		s.mustMint(lib, url.Values{"user_id": {"alice"}, "client_id": {"phone"}}),
		s.mustMint(lib, url.Values{"user_id": {"alice"}, "client_id": {"laptop"}, "session_id": {"s1"}}),
		s.mustMint(lib, url.Values{"user_id": {"bob"}, "grant": {"admin"}}),
		s.mustMint(lib, nil),
	}
	devices, minted = append(devices, "carol/tablet (in use)"), append(minted, inUse)
	other := s.mustMint(bystander, url.Values{"user_id": {"alice"}})

	// Without revokeTokens (no body, or false, over REST and gRPC) every token lives on.
	lib.Secret = s.resetSecret(t, lib.ID, nil)
	lib.Secret = s.resetSecret(t, lib.ID, map[string]any{"revokeTokens": false})
	libs := libraryv1.NewLibraryServiceClient(s.grpcConn(t))
	asOperator := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+s.adminKey)
	reset, err := libs.ResetLibrarySecret(asOperator, &libraryv1.ResetLibrarySecretRequest{LibraryId: lib.ID})
	if err != nil {
		t.Fatal(err)
	}
	lib.Secret = reset.GetSecret().GetLibrarySecret()
	for i, tk := range minted {
		probe.expectAlive(t, "token of "+devices[i]+" after a plain reset", lib.ID, tk)
	}

	// Hostile bodies change nothing: not the secret, not the tokens. A misspelt field is refused
	// too, rather than taken for a reset that keeps every token.
	for _, body := range []string{`{"revokeTokens":"yes"}`, `{"revokeTokens":1}`, `[true]`, `{"revokeTokens":true`, `{"revokeToken":true}`} {
		r := s.call("POST", "/admin/v1/libraries/"+lib.ID+"/secret:reset", nil, body, http.Header{"Authorization": {"Bearer " + s.adminKey}})
		expectError(t, r, http.StatusBadRequest, "ParamInvalid")
	}
	if got := s.admin("GET", "/admin/v1/libraries/"+lib.ID+"/secret", nil).JSON(t)["librarySecret"]; got != lib.Secret {
		t.Fatal("a refused reset changed the secret")
	}
	probe.expectAlive(t, "the token in use after refused resets", lib.ID, inUse)
	// Without the operator key nothing is revoked either.
	r := s.call("POST", "/admin/v1/libraries/"+lib.ID+"/secret:reset", nil, map[string]any{"revokeTokens": true}, nil)
	expectError(t, r, http.StatusUnauthorized, "InvalidAdminKey")
	probe.expectAlive(t, "the token in use after an unauthorised reset", lib.ID, inUse)
	expectError(t, s.admin("POST", "/admin/v1/libraries/smh0000000000000/secret:reset", map[string]any{"revokeTokens": true}),
		http.StatusNotFound, "LibraryNotFound")

	// With revokeTokens: every earlier token is dead everywhere, at once.
	oldSecret := lib.Secret
	lib.Secret = s.resetSecret(t, lib.ID, map[string]any{"revokeTokens": true})
	for i, tk := range minted {
		probe.expectRevoked(t, "token of "+devices[i], lib.ID, tk)
	}
	expectError(t, s.mint(library{ID: lib.ID, Secret: oldSecret}, nil), http.StatusNotFound, "WrongLibraryIdOrSecret")
	fresh := s.mustMint(lib, url.Values{"user_id": {"alice"}, "client_id": {"phone"}})
	probe.expectAlive(t, "a token of the new secret", lib.ID, fresh)
	probe.expectAlive(t, "another library's token", bystander.ID, other)

	// Over gRPC the same: the token of the previous secret goes, a new one works.
	reset, err = libs.ResetLibrarySecret(asOperator, &libraryv1.ResetLibrarySecretRequest{LibraryId: lib.ID, RevokeTokens: true})
	if err != nil {
		t.Fatal(err)
	}
	lib.Secret = reset.GetSecret().GetLibrarySecret()
	probe.expectRevoked(t, "the token of the previous secret, reset over gRPC", lib.ID, fresh)
	probe.expectAlive(t, "a token of the secret reset over gRPC", lib.ID, s.mustMint(lib, nil))
	probe.expectAlive(t, "another library's token", bystander.ID, other)

	logs := s.logText()
	for _, v := range append(minted, oldSecret, lib.Secret, fresh) {
		if strings.Contains(logs, v) {
			t.Fatal("a token or secret reached the log")
		}
	}
}

// TestSecretResetRacingMints: clients keep minting with the old secret while the reset with
// revokeTokens runs; once the reset has answered, no token minted with the old secret works,
// whichever side of the swap its mint fell on.
func TestSecretResetRacingMints(t *testing.T) {
	s := startSystem(t)
	lib := s.createLibrary("raced", nil)
	const racers = 4
	var (
		stop    = make(chan struct{})
		stopped sync.Once
		wg      sync.WaitGroup
		mu      sync.Mutex
		old     []string
	)
	halt := func() { stopped.Do(func() { close(stop) }); wg.Wait() }
	defer halt()
	for w := range racers {
		q := url.Values{"library_id": {lib.ID}, "library_secret": {lib.Secret}, "user_id": {fmt.Sprint("racer", w)}}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := s.tryCall("GET", "/api/v1/token", q, nil, nil)
				var m map[string]any
				if err == nil && r.Status == http.StatusOK && json.Unmarshal(r.Body, &m) == nil {
					mu.Lock()
					old = append(old, m["accessToken"].(string))
					mu.Unlock()
				}
			}
		})
	}
	mintedSoFar := func() int { mu.Lock(); defer mu.Unlock(); return len(old) }
	// Reset once every racer has had the time to mint: the reset then lands among their mints.
	for deadline := time.Now().Add(time.Minute); mintedSoFar() < racers; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the racers minted nothing in a minute")
		}
	}
	lib.Secret = s.resetSecret(t, lib.ID, map[string]any{"revokeTokens": true})
	halt()
	for _, tk := range old {
		expectError(t, s.renew(lib.ID, tk), http.StatusForbidden, "InvalidAccessToken")
	}
	t.Logf("%d tokens minted with the old secret around the reset, all refused", len(old))
	if r := s.renew(lib.ID, s.mustMint(lib, nil)); r.Status != http.StatusOK {
		t.Fatalf("a token of the new secret: %d %s", r.Status, r.Body)
	}
}
