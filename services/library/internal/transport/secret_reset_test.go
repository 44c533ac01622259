package transport_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
)

// recordingRevoker stands in for authtoken at the TokenRevoker boundary and records its calls.
type recordingRevoker struct {
	mu    sync.Mutex
	calls []revocation
	fail  error
}

type revocation struct {
	libraryID  string
	generation int64
}

func (r *recordingRevoker) RevokeTokensBefore(_ context.Context, libraryID string, generation int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, revocation{libraryID, generation})
	return r.fail
}

func (r *recordingRevoker) setFail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

func (r *recordingRevoker) Calls() []revocation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]revocation{}, r.calls...)
}

// TestResetSecretRevokingTokens: revokeTokens revokes below the new secret's generation (the one
// a mint with the new secret records, so its tokens survive); a failed revocation is not reported
// as done, says the secret did change, and a second reset completes it.
func TestResetSecretRevokingTokens(t *testing.T) {
	h := start(t)
	id := create(t, h.client, &libraryv1.CreateLibraryRequest{Name: "photos"}).GetLibraryId()
	generationOf := func(secret string) int64 {
		t.Helper()
		resp, err := h.client.VerifyLibrarySecret(admin(), &libraryv1.VerifyLibrarySecretRequest{LibraryId: id, LibrarySecret: secret})
		if err != nil {
			t.Fatalf("verify the new secret: %v", err)
		}
		return resp.GetAccess().GetSecretGeneration()
	}

	reset, err := h.client.ResetLibrarySecret(admin(), &libraryv1.ResetLibrarySecretRequest{LibraryId: id, RevokeTokens: true})
	if err != nil {
		t.Fatal(err)
	}
	second := reset.GetSecret().GetLibrarySecret()
	want := []revocation{{id, generationOf(second)}}
	if got := h.revoker.Calls(); len(got) != 1 || got[0] != want[0] {
		t.Fatalf("revocations = %v, want %v", got, want)
	}

	h.revoker.setFail(errors.New("authtoken unavailable"))
	_, failed := h.client.ResetLibrarySecret(admin(), &libraryv1.ResetLibrarySecretRequest{LibraryId: id, RevokeTokens: true})
	wantSMH(t, failed, codes.Unavailable, "ServiceUnavailable", "")
	if !strings.Contains(failed.Error(), "secret was reset") {
		t.Fatalf("the failure does not say the secret changed: %v", failed)
	}
	current, err := h.client.GetLibrarySecret(admin(), &libraryv1.GetLibrarySecretRequest{LibraryId: id})
	if err != nil {
		t.Fatal(err)
	}
	third := current.GetSecret().GetLibrarySecret()
	if third == second || strings.Contains(failed.Error(), third) {
		t.Fatalf("the failed reset must replace the secret and never show it")
	}
	thirdGeneration := generationOf(third)

	h.revoker.setFail(nil)
	reset, err = h.client.ResetLibrarySecret(admin(), &libraryv1.ResetLibrarySecretRequest{LibraryId: id, RevokeTokens: true})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	calls := h.revoker.Calls()
	last := calls[len(calls)-1]
	// The retry revokes below its own, newer generation: the tokens of the secret that the failed
	// call left in place (never shown, but readable) go too.
	if len(calls) != 3 || last.generation != generationOf(reset.GetSecret().GetLibrarySecret()) || last.generation <= thirdGeneration {
		t.Fatalf("revocations after the retry = %v", calls)
	}
}
