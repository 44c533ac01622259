package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/opensmh/opensmh/gen/openapi"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/gateway/internal/apidoc"
	"github.com/opensmh/opensmh/services/gateway/internal/dispatch"
	"github.com/opensmh/opensmh/services/gateway/internal/edge"
)

// APIDocumentPath is where the gateway serves the OpenAPI document of the public API (decision 53).
const APIDocumentPath = apidoc.Path

// APIDocument answers the OpenAPI 2.0 document of the public API, as the gateway serves it at
// APIDocumentPath: every dispatcher row and the admin API, built from the dispatcher table and
// the document make generate writes for the grpc-gateway routes (decision 53).
func APIDocument() ([]byte, error) {
	return apidoc.Build(openapi.Internal(), dispatch.Routes)
}

// apiDocument serves doc to anyone: it names routes, not data. Its ETag is its digest, so a
// client revalidates it cheaply and sees a new one after an upgrade.
func apiDocument(doc []byte) http.Handler {
	sum := sha256.Sum256(doc)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			edge.WriteError(w, r, smherr.ErrRouteNotFound)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		// ServeContent answers If-None-Match with 304, and HEAD and ranges.
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(doc))
	})
}
