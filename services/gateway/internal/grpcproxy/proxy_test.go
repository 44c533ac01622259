package grpcproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// waitTimeout bounds every wait; it is a deadline for a hang, not a measurement.
const waitTimeout = 10 * time.Second

// backend is a real gRPC server with health and reflection that records what reaches it.
type backend struct {
	health *health.Server

	mu         sync.Mutex
	requestIDs []string
	// streamsEnded receives once for every stream handler that returns.
	streamsEnded chan struct{}
}

// record notes the call's request id and sets response metadata; it answers whether the client
// asked for the call to fail.
func (b *backend) record(ctx context.Context) (fail bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	b.mu.Lock()
	b.requestIDs = append(b.requestIDs, md.Get("x-smh-request-id")...)
	b.mu.Unlock()
	// Response metadata the proxy must carry back.
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-smh-http-status", "201"))
	_ = grpc.SetTrailer(ctx, metadata.Pairs("x-smh-trailer", "t"))
	return len(md.Get("x-test-fail")) > 0
}

func (b *backend) seenRequestIDs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requestIDs)
}

// errBlocked has no gRPC code of its own; its HTTP status travels in ErrorInfo.
var errBlocked = smherr.New(451, "ContentBlocked", "blocked here")

func serve(t *testing.T, srv *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return lis.Addr().String()
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func startBackend(t *testing.T) (*backend, string) {
	t.Helper()
	b := &backend{health: health.NewServer(), streamsEnded: make(chan struct{}, 16)}
	b.health.SetServingStatus("x", healthpb.HealthCheckResponse_SERVING)
	srv := grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if b.record(ctx) {
				return nil, errBlocked
			}
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			defer func() { b.streamsEnded <- struct{}{} }()
			b.record(ss.Context())
			return h(srv, ss)
		}),
	)
	healthpb.RegisterHealthServer(srv, b.health)
	reflection.Register(srv)
	return b, serve(t, srv)
}

// startFront starts the gateway's side: the proxy codec and handler, and optionally its own
// health service.
func startFront(t *testing.T, backends map[string]grpc.ClientConnInterface, own *health.Server) string {
	t.Helper()
	srv := grpc.NewServer(grpc.ForceServerCodec(Codec{}), grpc.UnknownServiceHandler(Handler(backends)))
	if own != nil {
		healthpb.RegisterHealthServer(srv, own)
	}
	return serve(t, srv)
}

func TestProxy(t *testing.T) {
	b, backendAddr := startBackend(t)
	backendConn := dial(t, backendAddr)
	front := dial(t, startFront(t, map[string]grpc.ClientConnInterface{
		healthpb.Health_ServiceDesc.ServiceName:               backendConn,
		reflectionpb.ServerReflection_ServiceDesc.ServiceName: backendConn,
	}, nil))
	hc := healthpb.NewHealthClient(front)

	t.Run("unary", func(t *testing.T) {
		tests := []struct {
			name       string
			service    string
			md         metadata.MD
			wantCode   codes.Code
			wantStatus healthpb.HealthCheckResponse_ServingStatus
		}{
			{name: "known service", service: "x", wantCode: codes.OK, wantStatus: healthpb.HealthCheckResponse_SERVING},
			{name: "whole server", service: "", wantCode: codes.OK, wantStatus: healthpb.HealthCheckResponse_SERVING},
			{name: "backend's NotFound passes through", service: "nope", wantCode: codes.NotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
				defer cancel()
				var header, trailer metadata.MD
				resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: tt.service}, grpc.Header(&header), grpc.Trailer(&trailer))
				if status.Code(err) != tt.wantCode {
					t.Fatalf("Check(%q) = %v, want %v", tt.service, err, tt.wantCode)
				}
				if err == nil && resp.GetStatus() != tt.wantStatus {
					t.Fatalf("Check(%q) = %v, want %v", tt.service, resp.GetStatus(), tt.wantStatus)
				}
				if got := header.Get("x-smh-http-status"); !slices.Equal(got, []string{"201"}) {
					t.Errorf("response header x-smh-http-status = %q, want [201]", got)
				}
				if got := trailer.Get("x-smh-trailer"); !slices.Equal(got, []string{"t"}) {
					t.Errorf("trailer x-smh-trailer = %q, want [t]", got)
				}
			})
		}
	})

	t.Run("request metadata reaches the backend", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		ctx = metadata.AppendToOutgoingContext(ctx, "x-smh-request-id", "rid-proxy-1")
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "x"}); err != nil {
			t.Fatal(err)
		}
		if got := b.seenRequestIDs(); !slices.Contains(got, "rid-proxy-1") {
			t.Fatalf("backend saw request ids %q, want rid-proxy-1 among them", got)
		}
	})

	t.Run("SMH error details pass through", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		ctx = metadata.AppendToOutgoingContext(ctx, "x-test-fail", "1")
		_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "x"})
		st, ok := status.FromError(err)
		if !ok || st.Code() != codes.FailedPrecondition {
			t.Fatalf("Check = %v, want the backend's FailedPrecondition", err)
		}
		if got := smherr.FromStatus(st); got == nil || *got != *errBlocked {
			t.Fatalf("SMH error through the proxy = %+v, want %+v", got, errBlocked)
		}
	})

	t.Run("server streaming", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		w, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{Service: "x"})
		if err != nil {
			t.Fatal(err)
		}
		first, err := w.Recv()
		if err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("first Watch message = %v, %v; want SERVING", first, err)
		}
		b.health.SetServingStatus("x", healthpb.HealthCheckResponse_NOT_SERVING)
		defer b.health.SetServingStatus("x", healthpb.HealthCheckResponse_SERVING)
		next, err := w.Recv()
		if err != nil || next.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("next Watch message = %v, %v; want NOT_SERVING", next, err)
		}

		// Drain the end signals of earlier streams; then cancelling this one must end the
		// backend's stream too.
		for len(b.streamsEnded) > 0 {
			<-b.streamsEnded
		}
		cancel()
		select {
		case <-b.streamsEnded:
		case <-time.After(waitTimeout):
			t.Fatal("backend stream still open after the client cancelled")
		}
	})

	t.Run("bidirectional streaming with half-close", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		rs, err := reflectionpb.NewServerReflectionClient(front).ServerReflectionInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := rs.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
				t.Fatal(err)
			}
			resp, err := rs.Recv()
			if err != nil {
				t.Fatalf("reply %d: %v", i, err)
			}
			var names []string
			for _, s := range resp.GetListServicesResponse().GetService() {
				names = append(names, s.GetName())
			}
			if !slices.Contains(names, healthpb.Health_ServiceDesc.ServiceName) {
				t.Fatalf("reply %d lists %q, want the backend's services", i, names)
			}
		}
		if err := rs.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if _, err := rs.Recv(); !errors.Is(err, io.EOF) {
			t.Fatalf("after half-close Recv = %v, want EOF", err)
		}
	})

	t.Run("service not in the map", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		err := front.Invoke(ctx, "/smh.nothing.v1.NothingService/Do", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
		if status.Code(err) != codes.Unimplemented {
			t.Fatalf("Invoke = %v, want Unimplemented", err)
		}
	})
}

// A front server that hosts a service itself answers it with the proxy codec in place.
func TestFrontServesItsOwnServices(t *testing.T) {
	_, backendAddr := startBackend(t)
	own := health.NewServer()
	own.SetServingStatus("front", healthpb.HealthCheckResponse_SERVING)
	front := dial(t, startFront(t, map[string]grpc.ClientConnInterface{
		healthpb.Health_ServiceDesc.ServiceName: dial(t, backendAddr),
	}, own))
	hc := healthpb.NewHealthClient(front)

	tests := []struct {
		service  string
		wantCode codes.Code
	}{
		{"front", codes.OK},   // only the front knows it
		{"x", codes.NotFound}, // only the backend knows it: not proxied
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: tt.service})
			if status.Code(err) != tt.wantCode {
				t.Fatalf("Check(%q) = %v, want %v", tt.service, err, tt.wantCode)
			}
			if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("Check(%q) = %v", tt.service, resp.GetStatus())
			}
		})
	}
}

func TestCodec(t *testing.T) {
	msg := &healthpb.HealthCheckRequest{Service: "x"}
	wire, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	c := Codec{}
	if c.Name() != "proto" {
		t.Fatalf("Name = %q, want proto (it replaces the default codec)", c.Name())
	}

	t.Run("marshal", func(t *testing.T) {
		tests := []struct {
			name    string
			v       any
			want    []byte
			wantErr bool
		}{
			{name: "frame is its bytes", v: &frame{payload: []byte{1, 2, 3}}, want: []byte{1, 2, 3}},
			{name: "proto message", v: msg, want: wire},
			{name: "anything else", v: "text", wantErr: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := c.Marshal(tt.v)
				if (err != nil) != tt.wantErr {
					t.Fatalf("Marshal err = %v, want error %v", err, tt.wantErr)
				}
				if !bytes.Equal(got, tt.want) {
					t.Fatalf("Marshal = %x, want %x", got, tt.want)
				}
			})
		}
	})

	t.Run("unmarshal", func(t *testing.T) {
		data := slices.Clone(wire)
		f := &frame{}
		if err := c.Unmarshal(data, f); err != nil {
			t.Fatal(err)
		}
		data[0] ^= 0xff // grpc-go reuses its buffers: the frame must own a copy
		if !bytes.Equal(f.payload, wire) {
			t.Fatalf("frame = %x, want %x", f.payload, wire)
		}
		var got healthpb.HealthCheckRequest
		if err := c.Unmarshal(wire, &got); err != nil || got.GetService() != "x" {
			t.Fatalf("Unmarshal proto = %v, %v", &got, err)
		}
		var s string
		if err := c.Unmarshal(wire, &s); err == nil {
			t.Fatal("Unmarshal into a non-proto value succeeded")
		}
	})
}
