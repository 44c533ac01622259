package etcdx

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// TestClusterUnavailable checks the one classification of etcd errors (docs/operations.md): a
// cluster without a leader or quorum, one no member of which answers, and a request past its
// deadline are marked unavailable (503); a refusal of the request itself and the caller's own
// cancellation stay unmarked, so a real bug still answers 500.
func TestClusterUnavailable(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"request timed out (a proposal lost with the leader)", rpctypes.ErrTimeout, true},
		{"no leader", rpctypes.ErrNoLeader, true},
		{"leader changed", rpctypes.ErrLeaderChanged, true},
		{"request timed out, as the gRPC status", rpctypes.ErrGRPCTimeout, true},
		{"no member reachable", status.Error(codes.Unavailable, "connection refused"), true},
		{"the request's deadline", fmt.Errorf("get: %w", context.DeadlineExceeded), true},
		// Met with a cluster that lost its quorum: the member's copy of our deadline ended first.
		{"the deadline, as the server answers it", status.Error(codes.Unknown, "context deadline exceeded"), true},
		{"the deadline, as a gRPC status", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), true},
		{"another unknown error", status.Error(codes.Unknown, "mvcc: required revision is a future revision"), false},
		{"compacted revision", rpctypes.ErrCompacted, false},
		{"too many operations in a transaction", rpctypes.ErrTooManyOps, false},
		{"lease not found", rpctypes.ErrLeaseNotFound, false},
		{"the caller gave up", context.Canceled, false},
		{"anything else", errors.New("decode: unexpected value"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(context.Background(), time.Minute, func(context.Context) (struct{}, error) { return struct{}{}, tt.err })
			if marked := errors.Is(err, smherr.ErrUnavailable); marked != tt.unavailable {
				t.Fatalf("%v: marked %v, want %v", tt.err, marked, tt.unavailable)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("the cause is lost: %v", err)
			}
		})
	}
}

// TestCallBound checks that a request that never answers ends with the bound, marked
// unavailable, and that a caller's cancellation is not.
func TestCallBound(t *testing.T) {
	hang := func(ctx context.Context) (struct{}, error) { <-ctx.Done(); return struct{}{}, ctx.Err() }
	if _, err := call(context.Background(), time.Millisecond, hang); !errors.Is(err, smherr.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a hung request ended with %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := call(ctx, time.Minute, hang); errors.Is(err, smherr.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled request ended with %v", err)
	}
}
