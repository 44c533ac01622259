// Package grpcx builds gRPC servers and clients with the interceptors every service shares, in one
// explicit order: tracing (stats handler) → request id → panic recovery → logging of failures.
package grpcx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/pkg/telemetry"
)

// NewRequestID answers a fresh request id: 16 random bytes, hex.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ServerOptions answers the options every OpenSMH gRPC server starts with: the interceptors and
// keepalive (see serverKeepalive). Keepalive applies to a server that owns its listener; one
// served through ServeHTTP on the HTTPS port leaves connections to net/http.
func ServerOptions(logger *slog.Logger) []grpc.ServerOption {
	return append([]grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ChainUnaryInterceptor(UnaryInterceptors(logger)...),
		grpc.ChainStreamInterceptor(StreamInterceptors(logger)...),
	}, serverKeepalive()...)
}

// UnaryInterceptors are the unary server interceptors in their order, for servers that are not a
// grpc.Server (the in-process connection of the all-in-one).
func UnaryInterceptors(logger *slog.Logger) []grpc.UnaryServerInterceptor {
	return []grpc.UnaryServerInterceptor{unaryRequestID, unaryRecover(logger), unaryLog(logger)}
}

// StreamInterceptors are the stream server interceptors in their order, for the in-process
// connection as UnaryInterceptors. Streams get no default deadline: they live as long as their
// caller (a revocation watch).
func StreamInterceptors(logger *slog.Logger) []grpc.StreamServerInterceptor {
	return []grpc.StreamServerInterceptor{streamRequestID, streamRecover(logger)}
}

// ClientOptions answers the options every client of an OpenSMH service uses: tracing, the
// request id passed on to the callee, a default deadline on every call made without one (see
// Tuning) and keepalive pings the servers of ServerOptions accept.
func ClientOptions(t Tuning) []grpc.DialOption {
	t = t.withDefaults()
	return []grpc.DialOption{
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithKeepaliveParams(t.clientKeepalive()),
		grpc.WithChainUnaryInterceptor(t.unaryDeadline, func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(passRequestID(ctx), method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(t.streamDeadline, func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			return streamer(passRequestID(ctx), desc, cc, method, opts...)
		}),
	}
}

func passRequestID(ctx context.Context) context.Context {
	id := telemetry.RequestID(ctx)
	if id == "" {
		return ctx
	}
	if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get(reqmeta.RequestID)) > 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, reqmeta.RequestID, id)
}

// withRequestID takes the caller's request id (the gateway's, or another service's) or makes one,
// and answers it to gRPC callers as response metadata.
func withRequestID(ctx context.Context) context.Context {
	id := reqmeta.Incoming(ctx, reqmeta.RequestID)
	if id == "" || len(id) > 128 {
		id = NewRequestID()
		_ = grpc.SetHeader(ctx, metadata.Pairs(reqmeta.RequestID, id))
	}
	return telemetry.WithRequestID(ctx, id)
}

func unaryRequestID(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	return handler(withRequestID(ctx), req)
}

func streamRequestID(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &contextStream{ServerStream: ss, ctx: withRequestID(ss.Context())})
}

type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

func unaryRecover(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.ErrorContext(ctx, "panic in handler", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = smherr.ErrInternal
			}
		}()
		return handler(ctx, req)
	}
}

func streamRecover(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.ErrorContext(ss.Context(), "panic in stream handler", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = smherr.ErrInternal
			}
		}()
		return handler(srv, ss)
	}
}

// unaryLog logs the hidden cause of internal errors once, here, and other outcomes at debug.
// Requests and metadata are never logged: they may hold tokens and secrets.
func unaryLog(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil && ctx.Err() != nil {
			// The call's own context ended: the caller went away or gave up (a client that
			// aborted its request). Whatever the work made of that (a store error wrapping the
			// cancellation, an internal error) is not this service's failure; it answers the
			// caller's cancellation, which nobody reads anyway.
			logger.InfoContext(ctx, "rpc abandoned by caller", "method", info.FullMethod)
			return resp, status.FromContextError(ctx.Err()).Err()
		}
		if cause, ok := smherr.InternalCause(err); ok {
			// InternalError or, for a dependency that is down, ServiceUnavailable.
			logger.ErrorContext(ctx, "internal error", "method", info.FullMethod, "code", smherr.As(err).Code, "error", cause.Error())
		} else if err != nil {
			st, _ := status.FromError(err)
			if st.Code() == codes.Internal || st.Code() == codes.Unknown {
				logger.ErrorContext(ctx, "rpc failed", "method", info.FullMethod, "code", st.Code().String())
			} else {
				logger.DebugContext(ctx, "rpc refused", "method", info.FullMethod, "code", smherr.As(err).Code)
			}
		}
		return resp, err
	}
}
