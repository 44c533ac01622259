// Package edge holds the HTTP side of the gateway: SMH error bodies, success codes and headers
// from gRPC metadata, request ids, CORS and the server span of each request.
package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/pkg/telemetry"
)

// errorBody is the SMH error body (SMH API 12.5).
type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

// WriteError answers err as {"code","message","requestId"} with its SMH status; HEAD gets the
// status alone.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := smherr.As(err)
	if e == nil {
		e = smherr.ErrInternal
	}
	if failed := bodyFailure(r.Context()); failed != nil {
		e = failed
	}
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(errorBody{Code: e.Code, Message: e.Message, RequestID: telemetry.RequestID(r.Context())})
}

// ErrorHandler is grpc-gateway's error hook: every gRPC error becomes an SMH error body.
func ErrorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, err)
}

// Routing errors of grpc-gateway (only the admin API reaches its routes directly).
var (
	errMethodNotAllowed = smherr.New(http.StatusMethodNotAllowed, "MethodNotAllowed", "method not allowed on this route")
)

// RoutingErrorHandler answers requests the mux has no route for.
func RoutingErrorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, status int) {
	if status == http.StatusMethodNotAllowed {
		WriteError(w, r, errMethodNotAllowed)
		return
	}
	WriteError(w, r, smherr.ErrRouteNotFound)
}

// errTooLarge answers a body over the limit (SMH API 12.6, 413).
var errTooLarge = smherr.New(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "request body too large")

// LimitBody refuses bodies longer than limit with 413: at once when Content-Length says so, and
// after reading at most limit+1 bytes when the length is not announced (chunked). The JSON
// decoders read whole bodies anyway, so holding one in memory costs nothing extra.
func LimitBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			WriteError(w, r, errTooLarge)
			return
		}
		if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			if err != nil {
				WriteError(w, r, smherr.New(http.StatusBadRequest, "IncompleteBody", "request body could not be read"))
				return
			}
			if int64(len(body)) > limit {
				WriteError(w, r, errTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		next.ServeHTTP(w, r)
	})
}
