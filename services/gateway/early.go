package gateway

import (
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc/metadata"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/bodytime"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/gateway/internal/dispatch"
	"github.com/opensmh/opensmh/services/gateway/internal/edge"
)

// DefaultBodyReadTimeout bounds how long the gateway waits for the body of an API request. API
// bodies are small JSON documents (file bytes go to the data endpoint), so a body that takes
// longer is a broken or hostile client holding a connection.
const DefaultBodyReadTimeout = 30 * time.Second

// credentialsFirst refuses a business-API write that carries a body but no valid credentials
// before a byte of the body is read, so an unauthenticated client cannot hold a connection by
// sending its body slowly (writes always need credentials, 12.7). It answers what the service
// would: 400 EmptyAccessToken without access_token and library_secret, the validator's error
// (403 InvalidAccessToken, 404 WrongLibraryIdOrSecret, ...) for bad ones, through the same
// authz.Authorizer the services use. It is an early refusal, not the authorization: the
// services still authenticate and authorize the request themselves.
// cors adds the CORS headers the service's answer would carry, so a browser can read the refusal.
//
// The admin API is refused alike: a request with a body and without the operator key gets 401
// InvalidAdminKey (docs/architecture.md, "The admin API") before its body is read.
func credentialsFirst(table *dispatch.Table, auth *authz.Authorizer, admin *adminauth.Checker, cors func(http.Handler) http.Handler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/admin/") && hasBody(r) {
			md := metadata.Pairs(reqmeta.Authorization, r.Header.Get("Authorization"))
			if err := admin.Check(metadata.NewIncomingContext(r.Context(), md)); err != nil {
				bodytime.Abandon(w, r)
				edge.WriteError(w, r, err)
				return
			}
		}
		lib, ok := writeWithBody(table, r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if _, err := auth.Authenticate(metadata.NewIncomingContext(r.Context(), dispatch.Credentials(r.URL.Query())), lib); err != nil {
			bodytime.Abandon(w, r)
			cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { edge.WriteError(w, r, err) })).ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenService prefixes the token-management rows, which authenticate by the library secret or
// by the token in the path (1.1-1.4) instead of the access_token query.
var tokenService = "/" + tokenv1.TokenService_ServiceDesc.ServiceName + "/"

// writeWithBody answers the library of a business-API write whose request carries a body: a
// row of the table that is not a read (public reads need no credentials, 12.7) or token
// management.
func writeWithBody(table *dispatch.Table, r *http.Request) (libraryID string, ok bool) {
	if !strings.HasPrefix(r.URL.Path, "/api/") || r.Method == http.MethodGet || r.Method == http.MethodHead || !hasBody(r) {
		return "", false
	}
	_, m, ok := table.AddressOnce(r)
	if !ok || strings.HasPrefix(m.Route.RPC, tokenService) {
		return "", false
	}
	libraryID, ok = m.Params["LibraryId"]
	return libraryID, ok
}

func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// boundAPIBodies bounds the body read time of the business and admin APIs. The data endpoint
// streams file bodies of any size and bounds their rate itself.
func boundAPIBodies(limit time.Duration, next http.Handler) http.Handler {
	bounded := edge.BoundBody(limit, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/admin/") {
			bounded.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
