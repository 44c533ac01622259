package edge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/clock"
)

// policy is an in-test OriginPolicy: the origins of each library, or an error for "broken".
type policy map[string][]string

func (p policy) AllowedOrigins(_ context.Context, libraryID string) ([]string, error) {
	if libraryID == "broken" {
		return nil, errors.New("library service down")
	}
	return p[libraryID], nil
}

func libraryFromQuery(r *http.Request) string { return r.URL.Query().Get("library") }

func TestCORS(t *testing.T) {
	pol := policy{
		"lib1":  {"https://app.example.com", "https://admin.example.com"},
		"open":  nil,
		"star":  {"*"},
		"other": {"https://other.example.com"},
	}
	tests := []struct {
		name        string
		method      string
		library     string
		origin      string
		reqMethod   string // Access-Control-Request-Method
		reqHeaders  string // Access-Control-Request-Headers
		policy      OriginPolicy
		wantNext    bool
		wantStatus  int
		wantAllowed bool
		wantVary    bool
	}{
		{name: "no origin passes through", method: "GET", library: "lib1", policy: pol, wantNext: true, wantStatus: 200},
		{name: "preflight allowed", method: "OPTIONS", library: "lib1", origin: "https://app.example.com", reqMethod: "PUT", reqHeaders: "content-type, x-smh-meta", policy: pol, wantStatus: 204, wantAllowed: true, wantVary: true},
		{name: "preflight allowed without request headers", method: "OPTIONS", library: "lib1", origin: "https://admin.example.com", reqMethod: "GET", policy: pol, wantStatus: 204, wantAllowed: true, wantVary: true},
		{name: "preflight refused", method: "OPTIONS", library: "other", origin: "https://app.example.com", reqMethod: "PUT", policy: pol, wantStatus: 204, wantVary: true},
		{name: "preflight with a policy error is refused", method: "OPTIONS", library: "broken", origin: "https://app.example.com", reqMethod: "GET", policy: pol, wantStatus: 204, wantVary: true},
		{name: "simple request allowed", method: "GET", library: "lib1", origin: "https://app.example.com", policy: pol, wantNext: true, wantStatus: 200, wantAllowed: true, wantVary: true},
		{name: "simple request refused still runs", method: "GET", library: "other", origin: "https://app.example.com", policy: pol, wantNext: true, wantStatus: 200, wantVary: true},
		{name: "policy error refuses", method: "POST", library: "broken", origin: "https://app.example.com", policy: pol, wantNext: true, wantStatus: 200, wantVary: true},
		{name: "empty list allows any origin", method: "GET", library: "open", origin: "https://anyone.example", policy: pol, wantNext: true, wantStatus: 200, wantAllowed: true, wantVary: true},
		{name: "unknown library allows any origin", method: "GET", library: "nope", origin: "https://anyone.example", policy: pol, wantNext: true, wantStatus: 200, wantAllowed: true, wantVary: true},
		{name: "star allows any origin", method: "GET", library: "star", origin: "https://anyone.example", policy: pol, wantNext: true, wantStatus: 200, wantAllowed: true, wantVary: true},
		{name: "no library allows any origin", method: "GET", origin: "https://anyone.example", policy: pol, wantNext: true, wantStatus: 200, wantAllowed: true, wantVary: true},
		{name: "nil policy allows any origin", method: "GET", library: "lib1", origin: "https://anyone.example", wantNext: true, wantStatus: 200, wantAllowed: true, wantVary: true},
		{name: "OPTIONS without a request method is no preflight", method: "OPTIONS", library: "lib1", origin: "https://app.example.com", policy: pol, wantNext: true, wantStatus: 200, wantAllowed: true, wantVary: true},
		{name: "origin compared exactly", method: "GET", library: "lib1", origin: "https://app.example.com.evil.example", policy: pol, wantNext: true, wantStatus: 200, wantVary: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nextCalled := false
			next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				nextCalled = true
				w.Header().Set("X-Next", "1")
				w.WriteHeader(http.StatusOK)
			})
			r := httptest.NewRequest(tt.method, "/api/v1/x?library="+tt.library, nil)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.reqMethod != "" {
				r.Header.Set("Access-Control-Request-Method", tt.reqMethod)
			}
			if tt.reqHeaders != "" {
				r.Header.Set("Access-Control-Request-Headers", tt.reqHeaders)
			}
			w := httptest.NewRecorder()
			CORS(tt.policy, libraryFromQuery, next).ServeHTTP(w, r)

			h := w.Result().Header
			if nextCalled != tt.wantNext {
				t.Fatalf("next called = %v, want %v", nextCalled, tt.wantNext)
			}
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if got := slices.Contains(h.Values("Vary"), "Origin"); got != tt.wantVary {
				t.Errorf("Vary: Origin = %v, want %v (Vary %q)", got, tt.wantVary, h.Values("Vary"))
			}
			preflight := tt.reqMethod != ""
			if !tt.wantAllowed {
				for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age"} {
					if v := h.Get(k); v != "" {
						t.Errorf("refused request has %s: %q", k, v)
					}
				}
				return
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.origin {
				t.Errorf("Allow-Origin %q, want %q (the origin itself, never *)", got, tt.origin)
			}
			if got := h.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-SMH-Request-Id") || !strings.Contains(got, "ETag") {
				t.Errorf("Expose-Headers %q lacks X-SMH-Request-Id or ETag", got)
			}
			if !preflight {
				if v := h.Get("Access-Control-Allow-Methods") + h.Get("Access-Control-Max-Age"); v != "" {
					t.Errorf("simple request got preflight headers: %q", v)
				}
				return
			}
			if got := h.Get("Access-Control-Allow-Methods"); !strings.Contains(got, tt.reqMethod) {
				t.Errorf("Allow-Methods %q lacks %s", got, tt.reqMethod)
			}
			if got := h.Get("Access-Control-Allow-Headers"); got != tt.reqHeaders {
				t.Errorf("Allow-Headers %q, want %q", got, tt.reqHeaders)
			}
			if got := h.Get("Access-Control-Max-Age"); got != "600" {
				t.Errorf("Max-Age %q, want 600", got)
			}
		})
	}
}

func TestCachedOrigins(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lookups := map[string]int{}
	answers := map[string][]string{"lib1": {"https://a.example"}, "lib2": {"https://b.example"}}
	var failNext bool
	clk := clock.NewFake(now)
	c := NewCachedOrigins(func(_ context.Context, id string) ([]string, error) {
		lookups[id]++
		if failNext {
			failNext = false
			return nil, errors.New("lookup failed")
		}
		return answers[id], nil
	}, time.Minute, clk)
	defer c.Close()
	ctx := context.Background()

	tests := []struct {
		name        string
		advance     time.Duration
		library     string
		fail        bool
		wantLookups int
		want        []string
		wantErr     bool
	}{
		{name: "first call looks up", library: "lib1", wantLookups: 1, want: []string{"https://a.example"}},
		{name: "within TTL from cache", advance: 30 * time.Second, library: "lib1", wantLookups: 1, want: []string{"https://a.example"}},
		{name: "just before TTL from cache", advance: 29 * time.Second, library: "lib1", wantLookups: 1, want: []string{"https://a.example"}},
		{name: "another library looks up", library: "lib2", wantLookups: 1, want: []string{"https://b.example"}},
		{name: "at TTL looks up again", advance: time.Second, library: "lib1", wantLookups: 2, want: []string{"https://a.example"}},
		{name: "fresh again", advance: time.Second, library: "lib1", wantLookups: 2, want: []string{"https://a.example"}},
		{name: "after TTL a failing lookup answers the error", advance: time.Hour, library: "lib1", fail: true, wantLookups: 3, wantErr: true},
		{name: "a failure is not cached", library: "lib1", wantLookups: 4, want: []string{"https://a.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(tt.advance)
			failNext = tt.fail
			got, err := c.AllowedOrigins(ctx, tt.library)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("origins %q, want %q", got, tt.want)
			}
			if lookups[tt.library] != tt.wantLookups {
				t.Fatalf("%d lookups of %s, want %d", lookups[tt.library], tt.library, tt.wantLookups)
			}
		})
	}
}

// CachedOrigins is the policy CORS uses: a burst of requests costs one lookup.
func TestCORSWithCachedOrigins(t *testing.T) {
	lookups := 0
	c := NewCachedOrigins(func(context.Context, string) ([]string, error) {
		lookups++
		return []string{"https://app.example.com"}, nil
	}, time.Minute, clock.NewFake(time.Unix(0, 0)))
	defer c.Close()
	h := CORS(c, libraryFromQuery, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for range 5 {
		r := httptest.NewRequest("GET", "/x?library=lib1", nil)
		r.Header.Set("Origin", "https://app.example.com")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
			t.Fatalf("Allow-Origin %q", got)
		}
	}
	if lookups != 1 {
		t.Fatalf("%d lookups for a burst of 5, want 1", lookups)
	}
}
