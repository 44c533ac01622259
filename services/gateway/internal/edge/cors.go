package edge

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/cache"
	"github.com/opensmh/opensmh/pkg/clock"
)

// OriginPolicy answers the origins a library allows; empty allows any (docs/architecture.md, "The admin API",
// corsAllowedOrigins). An unknown library answers nil, nil: the request will fail on its own with
// an SMH error, which the browser must be able to read.
type OriginPolicy interface {
	AllowedOrigins(ctx context.Context, libraryID string) ([]string, error)
}

// ExposedHeaders are the response headers browsers may read (docs/architecture.md, "CORS").
var ExposedHeaders = []string{"X-SMH-Request-Id", "ETag", "Location", "Content-Range", "Content-Length",
	"x-smh-type", "x-smh-creation-time", "x-smh-modification-time", "x-smh-content-type", "x-smh-size",
	"x-smh-crc64", "x-smh-etag", "x-smh-file-id", "x-smh-inode"}

var (
	allowMethods  = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
	exposeHeaders = strings.Join(ExposedHeaders, ", ")
)

// CORS answers preflights and decorates responses for browsers calling the business API
// directly. libraryOf names the library a request addresses ("" when none).
func CORS(policy OriginPolicy, libraryOf func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if allowed(r.Context(), policy, libraryOf(r), origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", exposeHeaders)
			if preflight {
				h.Set("Access-Control-Allow-Methods", allowMethods)
				if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
					h.Set("Access-Control-Allow-Headers", req)
				}
				h.Set("Access-Control-Max-Age", "600")
			}
		}
		if preflight {
			// A refused origin gets no Allow-Origin header, which is how browsers are told no.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func allowed(ctx context.Context, policy OriginPolicy, libraryID, origin string) bool {
	if libraryID == "" || policy == nil {
		return true
	}
	origins, err := policy.AllowedOrigins(ctx, libraryID)
	if err != nil {
		return false
	}
	return len(origins) == 0 || slices.Contains(origins, "*") || slices.Contains(origins, origin)
}

// CachedOrigins keeps each library's origins for a TTL, so a browser's burst of calls costs one
// lookup (concurrent misses of one library share it); a changed list takes effect within the
// TTL. A failed lookup is not kept.
type CachedOrigins struct {
	lookup func(ctx context.Context, libraryID string) ([]string, error)
	cache  *cache.Cache[string, []string]
}

// maxCachedLibraries bounds the cache; past it the oldest entries go.
const maxCachedLibraries = 10000

// NewCachedOrigins answers a policy asking lookup at most once per library and TTL. Close it to
// end lookups in flight.
func NewCachedOrigins(lookup func(ctx context.Context, libraryID string) ([]string, error), ttl time.Duration, clk clock.Clock) *CachedOrigins {
	return &CachedOrigins{
		lookup: lookup,
		cache:  cache.New[string](ttl, maxCachedLibraries, cache.WithClock[[]string](clk)),
	}
}

// AllowedOrigins answers from the cache or the lookup.
func (c *CachedOrigins) AllowedOrigins(ctx context.Context, libraryID string) ([]string, error) {
	return c.cache.Get(ctx, libraryID, func(ctx context.Context) ([]string, error) {
		return c.lookup(ctx, libraryID)
	})
}

// Close ends the lookups in flight and waits for them.
func (c *CachedOrigins) Close() { c.cache.Close() }
