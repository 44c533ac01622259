// Package inproc connects clients to services registered in the same process with no wire in
// between: the all-in-one's gateway and services call each other through it (docs/architecture.md,
// "How the services talk"). A call still runs the services' interceptors, carries
// metadata in and response headers out, answers errors as gRPC statuses and gets a server span,
// so the handlers cannot tell it from a network call; it skips only framing, HTTP/2 and
// marshalling, the hop the benchmark shows to cost more than half of a cheap request. It also
// times every call in rpc.server.call.duration as otelgrpc does on a gRPC server, so per-RPC
// metrics do not depend on how the services are deployed. Unary and server-streaming RPCs are
// served (stream.go); a client-streaming or bidirectional one is refused at registration.
package inproc

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/opensmh/opensmh/pkg/telemetry"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Conn is both the registrar services register on and the connection clients call through.
type Conn struct {
	methods            map[string]method
	streams            map[string]streamMethod
	interceptor        grpc.UnaryServerInterceptor
	streamInterceptors []grpc.StreamServerInterceptor
	tracer             trace.Tracer
	duration           metric.Float64Histogram
}

type method struct {
	impl    any
	handler grpc.MethodHandler
}

var (
	_ grpc.ServiceRegistrar    = (*Conn)(nil)
	_ grpc.ClientConnInterface = (*Conn)(nil)
)

// New answers a connection whose calls pass through interceptors, in order.
func New(interceptors ...grpc.UnaryServerInterceptor) *Conn {
	// The instrument and buckets are otelgrpc's server ones; the scope tells the two apart.
	d, err := rpcconv.NewServerCallDuration(otel.Meter("github.com/opensmh/opensmh/pkg/inproc"), telemetry.RequestBuckets)
	if err != nil {
		otel.Handle(err)
	}
	return &Conn{
		methods:     map[string]method{},
		streams:     map[string]streamMethod{},
		interceptor: chain(interceptors),
		tracer:      otel.Tracer("github.com/opensmh/opensmh/pkg/inproc"),
		duration:    d.Inst(),
	}
}

// RegisterService implements grpc.ServiceRegistrar for unary and server-streaming methods; it
// panics on a client-streaming or bidirectional one (stream.go). Register everything before the
// first call: the method tables are read without a lock.
func (c *Conn) RegisterService(desc *grpc.ServiceDesc, impl any) {
	for _, m := range desc.Methods {
		c.methods["/"+desc.ServiceName+"/"+m.MethodName] = method{impl: impl, handler: m.Handler}
	}
	c.registerStreams(desc, impl)
}

// Invoke implements grpc.ClientConnInterface.
func (c *Conn) Invoke(ctx context.Context, fullMethod string, args, reply any, opts ...grpc.CallOption) (err error) {
	m, ok := c.methods[fullMethod]
	if !ok {
		return status.Errorf(codes.Unimplemented, "unknown method %s", fullMethod)
	}
	defer c.record(ctx, fullMethod, time.Now(), &err)
	in, ok1 := args.(proto.Message)
	out, ok2 := reply.(proto.Message)
	if !ok1 || !ok2 {
		return status.Error(codes.Internal, "inproc: messages must be protobuf")
	}

	// The callee sees what a server would: the caller's outgoing metadata as incoming, and no
	// outgoing metadata of its own, so nothing leaks into the calls it makes.
	// FromOutgoingContext answers a copy of its own: the callee cannot change the caller's.
	md, _ := metadata.FromOutgoingContext(ctx)
	sctx := metadata.NewIncomingContext(metadata.NewOutgoingContext(ctx, metadata.MD{}), md)
	sctx, span := c.tracer.Start(sctx, fullMethod[1:], trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	stream := &transportStream{method: fullMethod}
	sctx = grpc.NewContextWithServerTransportStream(sctx, stream)

	// The handler decodes into a fresh message; a copy keeps caller and callee from sharing one.
	dec := func(v any) error {
		proto.Merge(v.(proto.Message), in)
		return nil
	}
	resp, err := m.handler(m.impl, sctx, dec, c.interceptor)
	stream.deliver(opts)
	if err != nil {
		return status.Convert(err).Err()
	}
	r, ok := resp.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, "inproc: handler answered no message")
	}
	proto.Reset(out)
	proto.Merge(out, r)
	return nil
}

// record times one call with otelgrpc's attributes: rpc.method, rpc.system.name,
// rpc.response.status_code, and error.type for the codes a server counts as its own failure.
func (c *Conn) record(ctx context.Context, fullMethod string, start time.Time, err *error) {
	if c.duration == nil || !c.duration.Enabled(ctx) {
		return
	}
	code := status.Code(*err)
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, semconv.RPCMethod(fullMethod[1:]), semconv.RPCSystemNameGRPC,
		semconv.RPCResponseStatusCode(canonicalCode(code)))
	switch code {
	case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
		attrs = append(attrs, semconv.ErrorTypeKey.String(canonicalCode(code)))
	}
	c.duration.Record(context.WithoutCancel(ctx), time.Since(start).Seconds(), metric.WithAttributes(attrs...))
}

// canonicalCode names a gRPC code as the semantic conventions (and otelgrpc) do: NOT_FOUND for
// NotFound, CANCELLED for Canceled.
func canonicalCode(c codes.Code) string {
	switch c {
	case codes.OK:
		return "OK"
	case codes.Canceled:
		return "CANCELLED"
	}
	if c > codes.Unauthenticated {
		return "UNKNOWN"
	}
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// transportStream collects the response metadata a handler sets with grpc.SetHeader.
type transportStream struct {
	method          string
	mu              sync.Mutex
	header, trailer metadata.MD
}

func (s *transportStream) Method() string { return s.method }

func (s *transportStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = metadata.Join(s.header, md)
	return nil
}

func (s *transportStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }

func (s *transportStream) SetTrailer(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trailer = metadata.Join(s.trailer, md)
	return nil
}

// deliver hands headers and trailers to the caller's grpc.Header and grpc.Trailer options.
func (s *transportStream) deliver(opts []grpc.CallOption) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = s.header
		case grpc.TrailerCallOption:
			*o.TrailerAddr = s.trailer
		}
	}
}

// chain composes interceptors so that the first is outermost, as grpc.ChainUnaryInterceptor does.
func chain(interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		next := handler
		for i := len(interceptors) - 1; i >= 0; i-- {
			ic, h := interceptors[i], next
			next = func(ctx context.Context, req any) (any, error) { return ic(ctx, req, info, h) }
		}
		return next(ctx, req)
	}
}
