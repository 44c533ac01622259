// Package reqmeta names the gRPC metadata that crosses the gateway and the services, and sets the
// response metadata the gateway turns into HTTP (docs/architecture.md, "The public edge").
package reqmeta

import (
	"context"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Request metadata. The gateway moves access_token and library_secret out of the query string
// into these keys, so credentials never stay in a URL that a trace or log could record.
const (
	AccessToken   = "x-smh-access-token"
	LibrarySecret = "x-smh-library-secret"
	// ActingUser is the user_id query of a request, used when an admin token with an empty user id
	// acts as that user (SMH API 12.2).
	ActingUser = "x-smh-user-id"
	// RequestID is set by the gateway (or the first service a gRPC caller reaches) and echoed in
	// every response and log line.
	RequestID = "x-smh-request-id"
	// Authorization carries the operator key as "Bearer <key>" on admin and internal RPCs.
	Authorization = "authorization"
)

// HTTPStatus is response metadata naming a success status other than 200; the gateway's
// forward-response hook applies it and never shows it to the client.
const HTTPStatus = "x-smh-http-status"

// Incoming answers the first value of key in the request metadata, or "". It reads the one key
// (metadata.FromIncomingContext would copy every key and value of the request first).
func Incoming(ctx context.Context, key string) string {
	if v := metadata.ValueFromIncomingContext(ctx, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// SetHTTPStatus asks the gateway to answer with status code instead of 200 (201, 204, ...).
func SetHTTPStatus(ctx context.Context, code int) error {
	return grpc.SetHeader(ctx, metadata.Pairs(HTTPStatus, strconv.Itoa(code)))
}

// SetHeader adds a response header (Location, x-smh-*) that the gateway passes to HTTP clients.
func SetHeader(ctx context.Context, key, value string) error {
	return grpc.SetHeader(ctx, metadata.Pairs(key, value))
}
