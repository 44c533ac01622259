package edge

import (
	"net/http"
	"strings"

	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/pkg/smherr"
)

// errHeadersTooLarge answers a request whose header block is over the limit (SMH API 12.6, 431).
var errHeadersTooLarge = smherr.New(http.StatusRequestHeaderFieldsTooLarge, "HeaderFieldsTooLarge", "request header fields too large")

// errMetaValue answers an x-smh-meta-* header that gRPC metadata cannot carry.
var errMetaValue = smherr.New(http.StatusBadRequest, "ParamInvalid", "metadata values are printable ASCII; percent-encode other text")

// CheckHeaders refuses, with an SMH body, the request headers the services could not be given
// faithfully:
//   - a header block whose names and values add up to more than limit bytes: 431
//     HeaderFieldsTooLarge. Go's own limit (http.Server.MaxHeaderBytes, 1 MB by default) answers
//     in plain text and is far above anything an SMH client sends: the largest header an SMH call
//     carries is custom metadata, 2 KB in all (fileattr), and the token travels in the query.
//   - an x-smh-meta-* value outside printable ASCII: 400 ParamInvalid. gRPC metadata cannot carry
//     it, and grpc-gateway would drop the header and let the upload begin without it.
func CheckHeaders(limit int, next http.Handler) http.Handler {
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
		for name, values := range r.Header {
			if !strings.HasPrefix(strings.ToLower(name), fileattr.MetaPrefix) {
				continue
			}
			for _, v := range values {
				if fileattr.CheckValue(v) != nil {
					WriteError(w, r, errMetaValue)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
