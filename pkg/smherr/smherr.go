// Package smherr carries SMH error codes (SMH API section 12.6) through gRPC.
//
// A use case returns its own sentinel errors; each service's transport maps them to an *Error with
// one table. The *Error becomes a gRPC status whose ErrorInfo reason is the SMH code, and the
// gateway turns that status back into the SMH body {"code","message","requestId"} with the SMH
// HTTP status. The gRPC code is chosen so that runtime.HTTPStatusFromCode gives the right status
// for most codes; Status (the HTTP status) travels in ErrorInfo metadata for the ones it cannot.
package smherr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Domain is the ErrorInfo domain of every OpenSMH error.
const Domain = "opensmh.dev"

// Error is an SMH error: a code clients switch on, the HTTP status it travels with, and a message
// fit for the caller (never internal detail, secrets or tokens).
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New makes an SMH error.
func New(status int, code, message string) *Error {
	return &Error{Code: code, Status: status, Message: message}
}

// Newf makes an SMH error with a formatted message.
func Newf(status int, code, format string, args ...any) *Error {
	return New(status, code, fmt.Sprintf(format, args...))
}

// Common errors shared by every service.
var (
	ErrInternal      = New(http.StatusInternalServerError, "InternalError", "internal error")
	ErrRouteNotFound = New(http.StatusNotFound, "RouteNotFound", "no such route")
	// ErrServiceUnavailable answers a request a dependency (a database, etcd, another service)
	// could not serve: it was down or did not answer within its deadline. Retrying later may
	// succeed, unlike an InternalError.
	ErrServiceUnavailable = New(http.StatusServiceUnavailable, "ServiceUnavailable", "service unavailable; try again later")
)

// ErrUnavailable marks a failure of a dependency rather than of the request: a store wraps its
// connection failures and its own deadlines with it (errors.Is finds both it and the cause), and
// Convert answers them with ErrServiceUnavailable. docs/operations.md lists what counts as down.
var ErrUnavailable = errors.New("dependency unavailable")

// Unavailable marks cause as a dependency failure (see ErrUnavailable); nil stays nil.
func Unavailable(cause error) error {
	if cause == nil || errors.Is(cause, ErrUnavailable) {
		return cause
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, cause)
}

// grpcCode picks the gRPC code whose conventional HTTP mapping equals status.
func grpcCode(status int) codes.Code {
	switch status {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusConflict:
		return codes.AlreadyExists
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusNotImplemented:
		return codes.Unimplemented
	}
	if status >= 400 && status < 500 {
		return codes.FailedPrecondition
	}
	return codes.Internal
}

// GRPCStatus lets status.FromError and grpc-go turn an *Error into a status with ErrorInfo.
func (e *Error) GRPCStatus() *status.Status {
	st := status.New(grpcCode(e.Status), e.Message)
	withInfo, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason:   e.Code,
		Domain:   Domain,
		Metadata: map[string]string{"httpStatus": strconv.Itoa(e.Status)},
	})
	if err != nil {
		return st
	}
	return withInfo
}

// FromStatus reads an SMH error back from a gRPC status. A status without our ErrorInfo is
// mapped from its gRPC code, so errors raised by grpc-go itself still get an SMH body.
func FromStatus(st *status.Status) *Error {
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.GetDomain() != Domain {
			continue
		}
		code, _ := strconv.Atoi(info.GetMetadata()["httpStatus"])
		if code == 0 {
			code = httpStatusFromCode(st.Code())
		}
		return New(code, info.GetReason(), st.Message())
	}
	switch st.Code() {
	case codes.OK:
		return nil
	case codes.InvalidArgument:
		return New(http.StatusBadRequest, "ParamInvalid", st.Message())
	case codes.Unauthenticated:
		return New(http.StatusUnauthorized, "Unauthenticated", st.Message())
	case codes.PermissionDenied:
		return New(http.StatusForbidden, "NoPermission", st.Message())
	case codes.NotFound:
		return New(http.StatusNotFound, "RouteNotFound", st.Message())
	case codes.Unimplemented:
		return New(http.StatusNotImplemented, "NotImplemented", st.Message())
	case codes.Canceled:
		return New(499, "ClientDisconnected", "client disconnected")
	case codes.DeadlineExceeded:
		return New(http.StatusGatewayTimeout, "RequestTimeout", "request timed out")
	case codes.Unavailable:
		return New(http.StatusServiceUnavailable, "ServiceUnavailable", "service unavailable")
	case codes.ResourceExhausted:
		return New(http.StatusTooManyRequests, "RateLimitExceeded", st.Message())
	}
	return ErrInternal
}

func httpStatusFromCode(c codes.Code) int {
	switch c {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// As extracts an SMH error from any error: an *Error in the chain, or a gRPC status.
// Anything else is internal.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) {
		return FromStatus(status.New(codes.Canceled, ""))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return FromStatus(status.New(codes.DeadlineExceeded, ""))
	}
	if st, ok := status.FromError(err); ok {
		return FromStatus(st)
	}
	return ErrInternal
}

// Mapping is one row of a service's error map: a domain sentinel and the SMH error it becomes.
type Mapping struct {
	Err error
	SMH *Error
}

// Map is a service's one error table. Convert walks it with errors.Is; the first match wins.
type Map []Mapping

// Detailed is implemented by use-case errors that know what exactly was wrong with the input
// ("isMultiSpace is fixed at creation"). Convert uses the detail as the message of the mapped SMH
// error, for 4xx errors only; a detail must never hold internal text or secrets.
type Detailed interface {
	Detail() string
}

// Convert turns a use-case error into a gRPC error: an *Error anywhere in the chain passes
// through; a dependency failure (ErrUnavailable in the chain, or a gRPC Unavailable or
// DeadlineExceeded status from another service) becomes ServiceUnavailable; a sentinel of the
// table becomes its SMH error; anything else, including any other gRPC status from a store or
// another service, becomes InternalError (see Internal). Neither of the last two shows its cause
// to the caller: the server's log gets it. A service that means to forward a peer's SMH error
// converts it with As first.
func (m Map) Convert(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if DependencyFailed(err) {
		return &hiddenError{cause: err, smh: ErrServiceUnavailable}
	}
	for _, row := range m {
		if errors.Is(err, row.Err) {
			var d Detailed
			if row.SMH.Status < http.StatusInternalServerError && errors.As(err, &d) && d.Detail() != "" {
				return New(row.SMH.Status, row.SMH.Code, d.Detail())
			}
			return row.SMH
		}
	}
	return Internal(err)
}

// DependencyFailed reports whether err is a dependency's failure: marked with ErrUnavailable
// by a store, or a bare gRPC status (no SMH error inside) saying another service was down or
// did not answer in time. Convert answers such errors with ErrServiceUnavailable; an edge that
// writes its own error bodies (the object data endpoint) asks this.
func DependencyFailed(err error) bool {
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false // the request's own context: the table decides
	}
	st, ok := status.FromError(err)
	return ok && (st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded)
}

// hiddenError hides its cause from callers (they see smh, InternalError or ServiceUnavailable)
// but keeps it for the server's log, so the failure is logged once, where the request ends.
type hiddenError struct {
	cause error
	smh   *Error
}

func (e *hiddenError) Error() string              { return e.smh.Error() }
func (e *hiddenError) GRPCStatus() *status.Status { return e.smh.GRPCStatus() }

// Internal wraps an unexpected failure: callers see InternalError, logs see the cause.
func Internal(cause error) error { return &hiddenError{cause: cause, smh: ErrInternal} }

// InternalCause answers the hidden cause of an error made by Internal, or of a dependency
// failure Convert answered with ServiceUnavailable.
func InternalCause(err error) (error, bool) {
	var he *hiddenError
	if errors.As(err, &he) {
		return he.cause, true
	}
	return nil, false
}

// Invalid is rejected input, as a use case reports it: Err is the use case's sentinel (which the
// service's error map turns into an SMH code) and Reason says what was wrong in words fit for
// the caller (smherr.Detailed). A reason never quotes a secret or a token.
type Invalid struct {
	Err    error
	Reason string
}

func (e *Invalid) Error() string { return e.Err.Error() + ": " + e.Reason }

// Detail is the caller-facing message.
func (e *Invalid) Detail() string { return e.Reason }

// Unwrap lets errors.Is find the classifying sentinel.
func (e *Invalid) Unwrap() error { return e.Err }

// Invalidf makes an *Invalid classified by sentinel.
func Invalidf(sentinel error, format string, args ...any) error {
	return &Invalid{Err: sentinel, Reason: fmt.Sprintf(format, args...)}
}
