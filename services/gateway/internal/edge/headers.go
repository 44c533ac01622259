package edge

import (
	"net/http"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// errHeadersTooLarge answers a request whose header block is over the limit (smh-api.md 12.6, 431).
var errHeadersTooLarge = smherr.New(http.StatusRequestHeaderFieldsTooLarge, "HeaderFieldsTooLarge", "request header fields too large")

// LimitHeaders refuses with 431 HeaderFieldsTooLarge and an SMH body a request whose header names
// and values add up to more than limit bytes. Go's own limit (http.Server.MaxHeaderBytes, 1 MB by
// default) answers in plain text and is far above anything an SMH client sends: the largest
// header an SMH call carries is custom metadata, 2 KB in all (fileattr), and the token travels in
// the query. Below Go's limit this one gives such requests the SMH answer clients parse.
func LimitHeaders(limit int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		size := 0
		for name, values := range r.Header {
			for _, v := range values {
				size += len(name) + len(v)
			}
		}
		if size > limit {
			WriteError(w, r, errHeadersTooLarge)
			return
		}
		next.ServeHTTP(w, r)
	})
}
