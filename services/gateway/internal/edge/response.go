package edge

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	"github.com/opensmh/opensmh/pkg/reqmeta"
)

// ForwardStatus applies the success status a service asked for (201, 204, ...) through
// reqmeta.SetHTTPStatus; grpc-gateway calls it after copying headers and before the body.
func ForwardStatus(ctx context.Context, w http.ResponseWriter, _ proto.Message) error {
	md, ok := runtime.ServerMetadataFromContext(ctx)
	if !ok {
		return nil
	}
	v := md.HeaderMD.Get(reqmeta.HTTPStatus)
	if len(v) == 0 {
		return nil
	}
	code, err := strconv.Atoi(v[0])
	if err != nil || code < 200 || code > 399 {
		return nil
	}
	if code == http.StatusNoContent {
		w.Header().Del("Content-Type")
	}
	w.WriteHeader(code)
	return nil
}

// OutgoingHeader decides which response metadata becomes an HTTP header: x-smh-* (except the
// status instruction, and the request id, which Observe has set already: a second copy could only
// contradict it), Location and ETag, under their own names. Everything else stays inside.
func OutgoingHeader(key string) (string, bool) {
	k := strings.ToLower(key)
	switch {
	case k == reqmeta.HTTPStatus, k == reqmeta.RequestID:
		return "", false
	case strings.HasPrefix(k, "x-smh-"), k == "location", k == "etag":
		return k, true
	}
	return "", false
}

// IncomingHeader forwards the gateway's own request metadata (credentials moved out of the query
// by the dispatcher, the request id), the operator key and custom file metadata to the services.
func IncomingHeader(key string) (string, bool) {
	switch k := strings.ToLower(key); k {
	case reqmeta.AccessToken, reqmeta.LibrarySecret, reqmeta.ActingUser, reqmeta.RequestID, reqmeta.Authorization,
		reqmeta.ShareAccessToken, // moved out of the query by the dispatcher (13.12)
		reqmeta.ClientAddress:    // set by ClientAddresses.Stamp, never the client's own
		return k, true
	case "traceparent", "tracestate", "baggage":
		return "", false // the client stats handler injects the current span's context itself
	}
	// Custom metadata of a begin-upload call travels as x-smh-meta-* headers (section 3).
	if k := strings.ToLower(key); strings.HasPrefix(k, "x-smh-meta-") {
		return k, true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// ChosenAnswer writes the chosen member of a begin-upload answer as the body. SMH answers a begin
// call with a ticket (201), an empty probe (202) or the file object (200) (3.1): three shapes
// that one RPC response can only carry as a oneof.
func ChosenAnswer(_ context.Context, resp proto.Message) (any, error) {
	a, ok := resp.(interface {
		GetAnswer() *objectv1.BeginUploadAnswer
	})
	if !ok || a.GetAnswer() == nil {
		return resp, nil
	}
	m := a.GetAnswer().ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("body"))
	if fd == nil {
		return resp, nil
	}
	return m.Get(fd).Message().Interface(), nil
}
