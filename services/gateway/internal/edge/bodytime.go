package edge

import (
	"context"
	"net/http"
	"time"

	"github.com/opensmh/opensmh/pkg/bodytime"
	"github.com/opensmh/opensmh/pkg/smherr"
)

// Failures of a bounded body (SMH API 12.6): it did not arrive within the bound, or the
// client went away in the middle of it.
var (
	errReadRequestTimeout = smherr.New(http.StatusRequestTimeout, "ReadRequestTimeout", "the request body did not arrive in time")
	errClientDisconnected = smherr.New(statusClientClosed, "ClientDisconnected", "client disconnected")
)

type boundBodyKey struct{}

// BoundBody gives a request body limit to arrive in full; a read after that fails, on HTTP/1.1
// and HTTP/2 alike, and the request is answered 408 ReadRequestTimeout. The layers that meet the
// failed read (the body-size limit, the dispatcher's peek, grpc-gateway's decoder) only see a
// read error, so WriteError, which they all answer through, turns any error of a request whose
// body expired into that 408, and of one whose client went away mid-body into 499 (a client
// abort, not a malformed body). Requests without a body are left alone.
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

// bodyFailure answers how the request's bounded body failed, nil if it did not.
func bodyFailure(ctx context.Context) *smherr.Error {
	b, ok := ctx.Value(boundBodyKey{}).(*bodytime.Reader)
	switch {
	case !ok:
		return nil
	case b.Expired():
		return errReadRequestTimeout
	case b.Broken():
		return errClientDisconnected
	}
	return nil
}
