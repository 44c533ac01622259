package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/services/namespace/storetest"
	"github.com/opensmh/opensmh/services/smh/server"
)

// The one share limiter (pkg/ratelimit, docs/shares.md "Rate limits") through the all-in-one's
// ShareLimits option, on both engines: wrong extraction codes count per client address across
// shares and only wrong ones spend; visitor listings count per (share, client address); over a
// limit the answer is 429 RateLimitExceeded with the SMH body, and time refills the bucket.
func TestShareLimitsPerAddress(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			s := startSystemWith(t, systemOptions{DSN: e.DSN(t), Tune: func(o *server.Options) {
				o.ShareLimits = &ratelimit.ShareLimits{
					WrongCodes: ratelimit.Rate{Events: 3, Per: time.Minute, Burst: 3},
					Visits:     ratelimit.Rate{Events: 4, Per: time.Minute, Burst: 4},
				}
			}})
			testShareLimitsPerAddress(t, s)
		})
	}
}

func testShareLimitsPerAddress(t *testing.T, s *system) {
	lib := s.createLibrary("limits", map[string]any{"isFileLibrary": true})
	alice := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"alice"}})
	f := fileAPI{s: s, lib: lib.ID, space: "-", token: alice}
	f.upload("a.txt", []byte("a"), nil)
	f.upload("b.txt", []byte("b"), nil)
	sa := shareAPI{s: s, lib: lib.ID}
	withCode := func(name, path, code string) string {
		cfg := map[string]any{"isPermanent": true, "extractionCode": code}
		return sa.mustCreate(t, alice, map[string]any{"name": name, "filePath": []string{path}, "config": cfg})["code"].(string)
	}
	one, two := withCode("one", "a.txt", "abc"), withCode("two", "b.txt", "xyz")

	t.Run("wrong codes per address", func(t *testing.T) {
		// Right codes never spend: more of them than the limit all pass.
		for range 5 {
			sa.token(t, one, "abc")
		}
		expectError(t, sa.verify(one, map[string]any{"extractionCode": "bad"}), http.StatusForbidden, "ExtractionCodeInvalid")
		expectError(t, sa.verify(one, map[string]any{"extractionCode": "bad"}), http.StatusForbidden, "ExtractionCodeInvalid")
		expectError(t, sa.verify(two, map[string]any{"extractionCode": "bad"}), http.StatusForbidden, "ExtractionCodeInvalid")
		// The address's budget is spent, on every share: even the right code waits (the
		// share's own window, 10 per 10 minutes, is far from full).
		expectError(t, sa.verify(two, map[string]any{"extractionCode": "xyz"}), http.StatusTooManyRequests, "RateLimitExceeded")
		expectError(t, sa.verify(one, map[string]any{"extractionCode": "abc"}), http.StatusTooManyRequests, "RateLimitExceeded")
		s.fakeClock().Advance(20 * time.Second) // 3 per minute: one event back
		sa.token(t, two, "xyz")
	})

	t.Run("visitor listing per share and address", func(t *testing.T) {
		s.fakeClock().Advance(time.Minute)
		tokOne, tokTwo := sa.token(t, one, "abc"), sa.token(t, two, "xyz")
		for i := range 4 {
			if r := sa.files(one, "", tokOne); r.Status != http.StatusOK {
				t.Fatalf("listing %d: %d %s", i, r.Status, r.Body)
			}
		}
		expectError(t, sa.files(one, "", tokOne), http.StatusTooManyRequests, "RateLimitExceeded")
		// Another share from the same address has its own bucket.
		if r := sa.files(two, "", tokTwo); r.Status != http.StatusOK {
			t.Fatalf("the other share: %d %s", r.Status, r.Body)
		}
		s.fakeClock().Advance(15 * time.Second) // 4 per minute: one event back
		if r := sa.files(one, "", tokOne); r.Status != http.StatusOK {
			t.Fatalf("after the refill: %d %s", r.Status, r.Body)
		}
		expectError(t, sa.files(one, "", tokOne), http.StatusTooManyRequests, "RateLimitExceeded")
	})
}
