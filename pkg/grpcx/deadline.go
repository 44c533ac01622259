package grpcx

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Defaults of Tuning.
const (
	// DefaultCallTimeout bounds a call between services made without a deadline: far above a
	// request a healthy service answers, so only a hung dependency meets it. It is above the
	// stores' own deadlines (sqldb.DefaultTxTimeout, etcdx.DefaultCallTimeout), so a store that
	// hangs is reported by the service that owns it (503 ServiceUnavailable) before its caller
	// gives up.
	DefaultCallTimeout = 30 * time.Second
	// DefaultLongCallTimeout bounds the calls in longCalls: purges that walk a whole library.
	DefaultLongCallTimeout = 10 * time.Minute
	// DefaultKeepaliveTime is how long a client connection stays quiet before the client pings
	// the server, so a dead peer (a crashed node, a dropped NAT entry) is noticed instead of
	// waited on. It is above serverPingMinTime: a server answers more frequent pings with
	// GOAWAY ENHANCE_YOUR_CALM ("too_many_pings").
	DefaultKeepaliveTime = 30 * time.Second
	// DefaultKeepaliveTimeout is how long a ping may go unanswered before the connection is
	// closed, on both ends.
	DefaultKeepaliveTimeout = 10 * time.Second
)

const (
	// serverPingMinTime is the most frequent ping a server accepts from a client. grpc-go never
	// lets a client ping more often than every 10 s, so no client of ours can break it.
	serverPingMinTime = 5 * time.Second
	// serverKeepaliveTime is how long a server lets a connection stay quiet before it pings the
	// client, to drop connections of clients that vanished.
	serverKeepaliveTime = time.Minute
)

// longCalls are the RPCs that may legitimately run for minutes: they purge a whole library's
// tokens or tree, or a whole space (DeleteLibrary waits for both purges).
var longCalls = map[string]bool{
	"/smh.library.v1.LibraryService/DeleteLibrary":    true,
	"/smh.namespace.v1.NamespaceService/PurgeLibrary": true,
	"/smh.namespace.v1.NamespaceService/DeleteSpace":  true,
	"/smh.token.v1.TokenService/PurgeLibraryTokens":   true,
}

// watchCalls are the long-lived streams: they carry no deadline and rely on keepalive to notice
// a dead peer.
var watchCalls = map[string]bool{
	"/smh.token.v1.TokenService/WatchRevocations": true,
}

// Tuning is what an operator may change of the shared gRPC options; zero fields take the
// defaults above.
type Tuning struct {
	// CallTimeout and LongCallTimeout are the deadlines of calls made without one (a caller's
	// own deadline always stands): LongCallTimeout for longCalls, CallTimeout for the rest.
	CallTimeout, LongCallTimeout time.Duration
	// KeepaliveTime and KeepaliveTimeout are the client's ping after a quiet spell and how long
	// it waits for the answer. grpc-go raises a KeepaliveTime under 10 s to 10 s.
	KeepaliveTime, KeepaliveTimeout time.Duration
}

func (t Tuning) withDefaults() Tuning {
	if t.CallTimeout <= 0 {
		t.CallTimeout = DefaultCallTimeout
	}
	if t.LongCallTimeout <= 0 {
		t.LongCallTimeout = DefaultLongCallTimeout
	}
	if t.KeepaliveTime <= 0 {
		t.KeepaliveTime = DefaultKeepaliveTime
	}
	if t.KeepaliveTimeout <= 0 {
		t.KeepaliveTimeout = DefaultKeepaliveTimeout
	}
	return t
}

// withDefaultDeadline gives a call without a deadline the one of its kind. A watch keeps none.
func (t Tuning) withDefaultDeadline(ctx context.Context, method string) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || watchCalls[method] {
		return ctx, func() {}
	}
	if longCalls[method] {
		return context.WithTimeout(ctx, t.LongCallTimeout)
	}
	return context.WithTimeout(ctx, t.CallTimeout)
}

// unaryDeadline is the client side of the default deadlines.
func (t Tuning) unaryDeadline(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	ctx, cancel := t.withDefaultDeadline(ctx, method)
	defer cancel()
	return invoker(ctx, method, req, reply, cc, opts...)
}

// streamDeadline gives a stream that is not a watch the default deadline; the deadline's timer
// is released when the stream ends (its last RecvMsg fails, io.EOF included).
func (t Tuning) streamDeadline(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	ctx, cancel := t.withDefaultDeadline(ctx, method)
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		cancel()
		return nil, err
	}
	return &deadlineStream{ClientStream: cs, cancel: cancel}, nil
}

type deadlineStream struct {
	grpc.ClientStream
	cancel context.CancelFunc
}

func (s *deadlineStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.cancel()
	}
	return err
}

// DefaultDeadlines gives calls without a deadline the default of their kind on a connection
// that is not a grpc.ClientConn (the all-in-one's in-process connection runs server
// interceptors only): put it first among them.
func DefaultDeadlines(t Tuning) grpc.UnaryServerInterceptor {
	t = t.withDefaults()
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, cancel := t.withDefaultDeadline(ctx, info.FullMethod)
		defer cancel()
		return handler(ctx, req)
	}
}

// clientKeepalive pings a quiet connection, with or without calls in flight, so that a dead
// server is found by a failed ping rather than by a call's deadline.
func (t Tuning) clientKeepalive() keepalive.ClientParameters {
	return keepalive.ClientParameters{Time: t.KeepaliveTime, Timeout: t.KeepaliveTimeout, PermitWithoutStream: true}
}

// serverKeepalive lets clients ping as the clients of ClientOptions do (and never more often
// than every serverPingMinTime), and pings quiet clients itself.
func serverKeepalive() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: serverPingMinTime, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: serverKeepaliveTime, Timeout: DefaultKeepaliveTimeout}),
	}
}
