package smherr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestConvertDependencyFailures checks the one classification of a dependency's failure every
// service's error map shares: a store's marked failure and another service's Unavailable or
// DeadlineExceeded become 503 ServiceUnavailable with the cause kept for the log only; the
// request's own cancellation or deadline is left to the table; a peer's SMH error passes.
func TestConvertDependencyFailures(t *testing.T) {
	errGone := errors.New("gone")
	m := Map{
		{Err: errGone, SMH: New(http.StatusNotFound, "Gone", "gone")},
		{Err: context.DeadlineExceeded, SMH: New(http.StatusGatewayTimeout, "RequestTimeout", "request timed out")},
	}
	driverText := errors.New("dial tcp 10.0.0.6:5432: connect: connection refused")
	tests := []struct {
		name      string
		err       error
		code      string
		status    int
		keepCause bool
	}{
		{"store failure marked unavailable", fmt.Errorf("get space: %w", Unavailable(driverText)), "ServiceUnavailable", 503, true},
		{"store deadline marked unavailable", Unavailable(fmt.Errorf("begin: %w", context.DeadlineExceeded)), "ServiceUnavailable", 503, true},
		{"peer unavailable", fmt.Errorf("library: %w", status.Error(codes.Unavailable, "connection refused")), "ServiceUnavailable", 503, true},
		{"peer deadline", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), "ServiceUnavailable", 503, true},
		{"the request's own deadline", context.DeadlineExceeded, "RequestTimeout", 504, false},
		{"a peer's SMH error passes", New(http.StatusServiceUnavailable, "ServiceUnavailable", "the usage figures are unavailable"), "ServiceUnavailable", 503, false},
		{"a sentinel still maps", fmt.Errorf("x: %w", errGone), "Gone", 404, false},
		{"anything else is internal", driverText, "InternalError", 500, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := m.Convert(tt.err)
			e := As(out)
			if e.Code != tt.code || e.Status != tt.status {
				t.Fatalf("%v became %d %s", tt.err, e.Status, e.Code)
			}
			if st := status.Convert(out); st.Message() == driverText.Error() || st.Message() == "connection refused" {
				t.Fatalf("the cause reached the caller: %q", st.Message())
			}
			if cause, ok := InternalCause(out); ok != tt.keepCause || (ok && cause != tt.err) {
				t.Fatalf("cause kept %v (%v), want %v", ok, cause, tt.keepCause)
			}
		})
	}
	if Unavailable(nil) != nil {
		t.Fatal("Unavailable(nil) is not nil")
	}
	once := Unavailable(driverText)
	if Unavailable(once) != once {
		t.Fatal("marking twice wraps twice")
	}
}
