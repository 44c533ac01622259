package inproc

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Server-streaming RPCs (one request, many responses: TokenService.WatchRevocations) run in
// process as well, so a service hosted in the all-in-one serves every RPC it declares. The
// handler runs on a goroutine of its own, as on a gRPC server; each response is cloned into the
// caller's message, metadata travels as on a unary call, and cancellation goes both ways: the
// caller's context ends the handler's, and the handler's return ends the caller's stream with
// its status. Client-streaming and bidirectional RPCs are refused at registration (RegisterService),
// where the all-in-one is wired, rather than failing at the first call; none is declared today.

type streamMethod struct {
	impl    any
	handler grpc.StreamHandler
}

// UseStreamInterceptors sets the interceptors server-streaming calls pass through, in order, as
// grpc.ChainStreamInterceptor does on a gRPC server. Call it before the first call.
func (c *Conn) UseStreamInterceptors(interceptors ...grpc.StreamServerInterceptor) {
	c.streamInterceptors = interceptors
}

func (c *Conn) registerStreams(desc *grpc.ServiceDesc, impl any) {
	for _, s := range desc.Streams {
		name := "/" + desc.ServiceName + "/" + s.StreamName
		if s.ClientStreams {
			// Registration is wiring, done at start: a panic here names the RPC before any caller
			// depends on it.
			panic(fmt.Sprintf("inproc: %s streams requests; only server-streaming RPCs are served in process", name))
		}
		c.streams[name] = streamMethod{impl: impl, handler: s.Handler}
	}
}

// NewStream implements grpc.ClientConnInterface for server-streaming RPCs.
func (c *Conn) NewStream(ctx context.Context, desc *grpc.StreamDesc, fullMethod string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	m, ok := c.streams[fullMethod]
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "unknown method %s", fullMethod)
	}
	if desc.ClientStreams {
		return nil, status.Errorf(codes.Unimplemented, "inproc: %s called as client-streaming", fullMethod)
	}
	if err := ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	start := time.Now()

	// As in Invoke: the callee sees the caller's outgoing metadata as incoming and has none of
	// its own; its context ends with the caller's.
	md, _ := metadata.FromOutgoingContext(ctx)
	sctx, cancel := context.WithCancel(metadata.NewIncomingContext(metadata.NewOutgoingContext(ctx, metadata.MD{}), md))
	sctx, span := c.tracer.Start(sctx, fullMethod[1:], trace.WithSpanKind(trace.SpanKindServer))
	ts := &transportStream{method: fullMethod}
	sctx = grpc.NewContextWithServerTransportStream(sctx, ts)

	p := &pipe{
		callerCtx: ctx,
		ts:        ts,
		requests:  make(chan proto.Message, 1),
		responses: make(chan proto.Message),
		headerOut: make(chan struct{}),
		done:      make(chan struct{}),
	}
	server := &serverStream{pipe: p, ctx: sctx}
	info := &grpc.StreamServerInfo{FullMethod: fullMethod, IsClientStream: false, IsServerStream: true}
	// The handler's goroutine is owned by the call: it ends when the handler returns, which a
	// handler does when its context ends, that is when the caller cancels.
	go func() {
		err := chainStream(c.streamInterceptors)(m.impl, server, info, m.handler)
		if err != nil {
			err = status.Convert(err).Err()
		}
		c.record(ctx, fullMethod, start, &err)
		span.End()
		p.finish(err, opts)
		cancel()
	}()
	return &clientStream{pipe: p}, nil
}

// pipe is what the two ends of one in-process stream share.
type pipe struct {
	callerCtx context.Context
	ts        *transportStream
	requests  chan proto.Message // holds the one request
	responses chan proto.Message // unbuffered: a Send returns once the caller has the message

	headerOnce sync.Once
	headerOut  chan struct{} // closed once headers are sent (first Send, SendHeader or the end)

	done chan struct{} // closed when the handler returned; err is then set
	err  error
}

func (p *pipe) sendHeader() { p.headerOnce.Do(func() { close(p.headerOut) }) }

func (p *pipe) finish(err error, opts []grpc.CallOption) {
	p.ts.deliver(opts)
	p.err = err
	p.sendHeader()
	close(p.done)
}

// serverStream is the handler's end.
type serverStream struct {
	*pipe
	ctx      context.Context
	received bool
}

var _ grpc.ServerStream = (*serverStream)(nil)

func (s *serverStream) Context() context.Context { return s.ctx }

func (s *serverStream) SetHeader(md metadata.MD) error {
	select {
	case <-s.headerOut:
		return status.Error(codes.Internal, "inproc: headers already sent")
	default:
	}
	return s.ts.SetHeader(md)
}

func (s *serverStream) SendHeader(md metadata.MD) error {
	if err := s.SetHeader(md); err != nil {
		return err
	}
	s.sendHeader()
	return nil
}

func (s *serverStream) SetTrailer(md metadata.MD) { _ = s.ts.SetTrailer(md) }

// SendMsg hands a copy of m to the caller, waiting until it takes it or goes away.
func (s *serverStream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, "inproc: messages must be protobuf")
	}
	s.sendHeader()
	select {
	case s.responses <- proto.Clone(msg):
		return nil
	case <-s.ctx.Done():
		return status.FromContextError(s.ctx.Err()).Err()
	}
}

// RecvMsg answers the request once, then io.EOF: the caller sends one message.
func (s *serverStream) RecvMsg(m any) error {
	if s.received {
		return io.EOF
	}
	select {
	case in := <-s.requests:
		s.received = true
		proto.Reset(m.(proto.Message))
		proto.Merge(m.(proto.Message), in)
		return nil
	case <-s.ctx.Done():
		return status.FromContextError(s.ctx.Err()).Err()
	}
}

// clientStream is the caller's end.
type clientStream struct {
	*pipe
	sent bool
}

var _ grpc.ClientStream = (*clientStream)(nil)

func (c *clientStream) Context() context.Context { return c.callerCtx }

// Header waits for the handler's headers, as on a network stream.
func (c *clientStream) Header() (metadata.MD, error) {
	select {
	case <-c.headerOut:
	case <-c.callerCtx.Done():
		return nil, status.FromContextError(c.callerCtx.Err()).Err()
	}
	c.ts.mu.Lock()
	defer c.ts.mu.Unlock()
	return c.ts.header.Copy(), nil
}

// Trailer answers the handler's trailers once the stream ended (nil before).
func (c *clientStream) Trailer() metadata.MD {
	select {
	case <-c.done:
	default:
		return nil
	}
	c.ts.mu.Lock()
	defer c.ts.mu.Unlock()
	return c.ts.trailer.Copy()
}

func (c *clientStream) CloseSend() error { return nil }

// SendMsg passes a copy of the one request.
func (c *clientStream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, "inproc: messages must be protobuf")
	}
	if c.sent {
		return status.Error(codes.Internal, "inproc: a server-streaming call sends one request")
	}
	c.sent = true
	c.requests <- proto.Clone(msg)
	return nil
}

// RecvMsg answers the next response; io.EOF when the handler returned nil, its status otherwise.
func (c *clientStream) RecvMsg(m any) error {
	select {
	case r := <-c.responses:
		proto.Reset(m.(proto.Message))
		proto.Merge(m.(proto.Message), r)
		return nil
	case <-c.done:
		if c.err != nil {
			return c.err
		}
		return io.EOF
	case <-c.callerCtx.Done():
		return status.FromContextError(c.callerCtx.Err()).Err()
	}
}

// chainStream composes stream interceptors so that the first is outermost.
func chainStream(interceptors []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		next := handler
		for i := len(interceptors) - 1; i >= 0; i-- {
			ic, h := interceptors[i], next
			next = func(srv any, ss grpc.ServerStream) error { return ic(srv, ss, info, h) }
		}
		return next(srv, ss)
	}
}
