package edge

import (
	"context"
	"net/http"
	"time"

	"github.com/opensmh/opensmh/pkg/bodytime"
	"github.com/opensmh/opensmh/pkg/smherr"
)

// errReadRequestTimeout answers a body that did not arrive within the bound (smh-api.md 12.6).
var errReadRequestTimeout = smherr.New(http.StatusRequestTimeout, "ReadRequestTimeout", "the request body did not arrive in time")

type boundBodyKey struct{}

// BoundBody gives a request body limit to arrive in full; a read after that fails, on HTTP/1.1
// and HTTP/2 alike, and the request is answered 408 ReadRequestTimeout. The layers that meet the
// failed read (the body-size limit, the dispatcher's peek, grpc-gateway's decoder) only see a
// read error, so WriteError, which they all answer through, turns any error of a request whose
// body expired into that 408. Requests without a body are left alone.
func BoundBody(limit time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		body := bodytime.Within(w, r, limit)
		r = r.WithContext(context.WithValue(r.Context(), boundBodyKey{}, body))
		r.Body = body
		next.ServeHTTP(w, r)
	})
}

// bodyExpired reports whether the request's body was cut by BoundBody.
func bodyExpired(ctx context.Context) bool {
	b, ok := ctx.Value(boundBodyKey{}).(*bodytime.Reader)
	return ok && b.Expired()
}
