package smherr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// wire sends st through its protobuf form, as grpc-go does between processes.
func wire(st *status.Status) *status.Status { return status.FromProto(st.Proto()) }

func TestStatusRoundTrip(t *testing.T) {
	tests := []struct {
		err      *Error
		wantCode codes.Code
	}{
		{New(http.StatusBadRequest, "ParamInvalid", "limit must be positive"), codes.InvalidArgument},
		{New(http.StatusUnauthorized, "InvalidAccessToken", "token expired"), codes.Unauthenticated},
		{New(http.StatusForbidden, "NoPermission", "read only"), codes.PermissionDenied},
		{New(http.StatusNotFound, "FileNotFound", "no such file"), codes.NotFound},
		{New(http.StatusConflict, "SameNameFileExists", "a.txt exists"), codes.AlreadyExists},
		{New(http.StatusUnavailableForLegalReasons, "ContentBlocked", "blocked"), codes.FailedPrecondition},
		{New(http.StatusRequestEntityTooLarge, "FileTooLarge", "too large"), codes.FailedPrecondition},
		{New(http.StatusTooManyRequests, "RateLimitExceeded", "slow down"), codes.ResourceExhausted},
		{New(http.StatusInternalServerError, "InternalError", "internal error"), codes.Internal},
		{New(http.StatusNotImplemented, "NotImplemented", "later"), codes.Unimplemented},
		{New(http.StatusServiceUnavailable, "ServiceUnavailable", "busy"), codes.Unavailable},
		{Newf(http.StatusBadRequest, "ParamInvalid", "%s is %d", "x", 3), codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.err.Status, tt.err.Code), func(t *testing.T) {
			st, ok := status.FromError(tt.err)
			if !ok {
				t.Fatal("status.FromError does not see a status")
			}
			if st.Code() != tt.wantCode {
				t.Fatalf("gRPC code %v, want %v", st.Code(), tt.wantCode)
			}
			got := FromStatus(wire(st))
			if got == nil || *got != *tt.err {
				t.Fatalf("FromStatus = %+v, want %+v", got, tt.err)
			}
			// As on the error a gRPC client gets back.
			if got := As(wire(st).Err()); got == nil || *got != *tt.err {
				t.Fatalf("As(status error) = %+v, want %+v", got, tt.err)
			}
		})
	}
}

func TestFromStatusWithoutErrorInfo(t *testing.T) {
	foreign, err := status.New(codes.NotFound, "gone").WithDetails(&errdetails.ErrorInfo{
		Reason: "SOMETHING_ELSE", Domain: "example.com", Metadata: map[string]string{"httpStatus": "418"},
	})
	if err != nil {
		t.Fatal(err)
	}
	noHTTPStatus, err := status.New(codes.AlreadyExists, "dup").WithDetails(&errdetails.ErrorInfo{
		Reason: "SameNameFileExists", Domain: Domain,
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		st         *status.Status
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"invalid argument", status.New(codes.InvalidArgument, "bad field"), 400, "ParamInvalid", "bad field"},
		{"unauthenticated", status.New(codes.Unauthenticated, "who"), 401, "Unauthenticated", "who"},
		{"permission denied", status.New(codes.PermissionDenied, "no"), 403, "NoPermission", "no"},
		{"not found", status.New(codes.NotFound, "unknown method"), 404, "RouteNotFound", "unknown method"},
		{"unimplemented", status.New(codes.Unimplemented, "not yet"), 501, "NotImplemented", "not yet"},
		{"canceled", status.New(codes.Canceled, "context canceled"), 499, "ClientDisconnected", "client disconnected"},
		{"deadline", status.New(codes.DeadlineExceeded, "deadline"), 504, "RequestTimeout", "request timed out"},
		{"unavailable hides transport text", status.New(codes.Unavailable, "dial tcp 10.0.0.3:9000: refused"), 503, "ServiceUnavailable", "service unavailable"},
		{"resource exhausted", status.New(codes.ResourceExhausted, "quota"), 429, "RateLimitExceeded", "quota"},
		{"internal hides its text", status.New(codes.Internal, "pq: relation missing"), 500, "InternalError", "internal error"},
		{"unknown hides its text", status.New(codes.Unknown, "panic: boom"), 500, "InternalError", "internal error"},
		{"data loss", status.New(codes.DataLoss, "disk"), 500, "InternalError", "internal error"},
		{"foreign ErrorInfo is ignored", foreign, 404, "RouteNotFound", "gone"},
		{"our ErrorInfo without httpStatus", noHTTPStatus, 409, "SameNameFileExists", "dup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromStatus(wire(tt.st))
			if got == nil {
				t.Fatal("FromStatus = nil")
			}
			if got.Status != tt.wantStatus || got.Code != tt.wantCode || got.Message != tt.wantMsg {
				t.Fatalf("FromStatus = %d %s %q, want %d %s %q",
					got.Status, got.Code, got.Message, tt.wantStatus, tt.wantCode, tt.wantMsg)
			}
		})
	}
	if got := FromStatus(status.New(codes.OK, "")); got != nil {
		t.Errorf("FromStatus(OK) = %+v, want nil", got)
	}
}

func TestAs(t *testing.T) {
	errFileNotFound := New(http.StatusNotFound, "FileNotFound", "no such file")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"an *Error", errFileNotFound, 404, "FileNotFound"},
		{"a wrapped *Error", fmt.Errorf("x: %w", errFileNotFound), 404, "FileNotFound"},
		{"doubly wrapped", fmt.Errorf("y: %w", fmt.Errorf("x: %w", errFileNotFound)), 404, "FileNotFound"},
		{"joined", errors.Join(errors.New("other"), errFileNotFound), 404, "FileNotFound"},
		{"context canceled", context.Canceled, 499, "ClientDisconnected"},
		{"wrapped deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 504, "RequestTimeout"},
		{"gRPC status", status.Error(codes.PermissionDenied, "no"), 403, "NoPermission"},
		{"random error", errors.New("disk on fire"), 500, "InternalError"},
		{"Internal", Internal(errors.New("disk on fire")), 500, "InternalError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := As(tt.err)
			if got == nil {
				t.Fatal("As = nil")
			}
			if got.Status != tt.wantStatus || got.Code != tt.wantCode {
				t.Fatalf("As = %d %s, want %d %s", got.Status, got.Code, tt.wantStatus, tt.wantCode)
			}
			if strings.Contains(got.Message, "disk on fire") {
				t.Fatalf("As leaks the cause: %q", got.Message)
			}
		})
	}
	if got := As(nil); got != nil {
		t.Errorf("As(nil) = %+v, want nil", got)
	}
}

var (
	errNotFound = errors.New("item not found")
	errFixed    = errors.New("attribute is fixed")
	errQuota    = errors.New("quota store failed")

	smhNotFound = New(http.StatusNotFound, "FileNotFound", "no such file")
	smhFixed    = New(http.StatusBadRequest, "ParamInvalid", "invalid parameter")
	smhQuota    = New(http.StatusInternalServerError, "QuotaUnavailable", "quota unavailable")
)

// detailed is a use-case error that knows what exactly was wrong.
type detailed struct {
	sentinel error
	detail   string
}

func (e *detailed) Error() string  { return e.sentinel.Error() + ": " + e.detail }
func (e *detailed) Unwrap() error  { return e.sentinel }
func (e *detailed) Detail() string { return e.detail }

func TestMapConvert(t *testing.T) {
	m := Map{
		{errNotFound, smhNotFound},
		{errFixed, smhFixed},
		{errQuota, smhQuota},
		{errNotFound, New(http.StatusGone, "Shadowed", "never used")},
	}
	peer := New(http.StatusConflict, "SameNameFileExists", "exists")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string
		wantCause  error // for InternalError: the cause InternalCause answers
	}{
		{name: "sentinel", err: errNotFound, wantStatus: 404, wantCode: "FileNotFound", wantMsg: "no such file"},
		{name: "wrapped sentinel", err: fmt.Errorf("recycle %q: %w", "a.txt", errNotFound), wantStatus: 404, wantCode: "FileNotFound", wantMsg: "no such file"},
		{name: "first match wins", err: errNotFound, wantStatus: 404, wantCode: "FileNotFound", wantMsg: "no such file"},
		{name: "detail on a 4xx row", err: &detailed{errFixed, "isMultiSpace is fixed at creation"}, wantStatus: 400, wantCode: "ParamInvalid", wantMsg: "isMultiSpace is fixed at creation"},
		{name: "wrapped detail on a 4xx row", err: fmt.Errorf("update: %w", &detailed{errFixed, "name is fixed"}), wantStatus: 400, wantCode: "ParamInvalid", wantMsg: "name is fixed"},
		{name: "empty detail keeps the row message", err: &detailed{errFixed, ""}, wantStatus: 400, wantCode: "ParamInvalid", wantMsg: "invalid parameter"},
		{name: "detail on a 5xx row is dropped", err: &detailed{errQuota, "pq: connection refused"}, wantStatus: 500, wantCode: "QuotaUnavailable", wantMsg: "quota unavailable"},
		{name: "an *Error passes through", err: fmt.Errorf("x: %w", peer), wantStatus: 409, wantCode: "SameNameFileExists", wantMsg: "exists"},
		{name: "unmapped", err: errors.New("secret db text"), wantStatus: 500, wantCode: "InternalError", wantMsg: "internal error", wantCause: errors.New("secret db text")},
		{name: "a status from elsewhere is not passed through", err: status.Error(codes.NotFound, "secret peer text"), wantStatus: 500, wantCode: "InternalError", wantMsg: "internal error", wantCause: status.Error(codes.NotFound, "secret peer text")},
		{name: "a peer's SMH status is not passed through", err: wire(peer.GRPCStatus()).Err(), wantStatus: 500, wantCode: "InternalError", wantMsg: "internal error", wantCause: wire(peer.GRPCStatus()).Err()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := m.Convert(tt.err)
			// What the caller sees is the gRPC status of out, sent over the wire.
			st, ok := status.FromError(out)
			if !ok {
				t.Fatalf("Convert = %v (%T), not a gRPC status", out, out)
			}
			got := FromStatus(wire(st))
			if got.Status != tt.wantStatus || got.Code != tt.wantCode || got.Message != tt.wantMsg {
				t.Fatalf("caller sees %d %s %q, want %d %s %q",
					got.Status, got.Code, got.Message, tt.wantStatus, tt.wantCode, tt.wantMsg)
			}
			if strings.Contains(out.Error(), "secret") || strings.Contains(st.Message(), "secret") {
				t.Fatalf("internal text reaches the caller: %q / %q", out.Error(), st.Message())
			}
			cause, isInternal := InternalCause(out)
			if (tt.wantCause != nil) != isInternal {
				t.Fatalf("InternalCause ok = %v, want %v", isInternal, tt.wantCause != nil)
			}
			if tt.wantCause != nil && cause.Error() != tt.wantCause.Error() {
				t.Fatalf("InternalCause = %v, want %v", cause, tt.wantCause)
			}
		})
	}
	if err := m.Convert(nil); err != nil {
		t.Errorf("Convert(nil) = %v", err)
	}
}

func TestInternalCause(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name   string
		err    error
		wantOK bool
	}{
		{"Internal", Internal(cause), true},
		{"wrapped Internal", fmt.Errorf("serve: %w", Internal(cause)), true},
		{"plain error", cause, false},
		{"ErrInternal itself", ErrInternal, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := InternalCause(tt.err)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if ok && !errors.Is(got, cause) {
				t.Fatalf("cause = %v, want %v", got, cause)
			}
		})
	}
}
