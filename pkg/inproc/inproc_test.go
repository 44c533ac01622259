package inproc

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// echo is a hand-written service: it answers its request's value with the incoming metadata key
// "who" appended, sets a response header, and fails on "fail".
type echo struct{ sawOutgoing bool }

func (e *echo) Echo(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	if _, ok := metadata.FromOutgoingContext(ctx); ok {
		md, _ := metadata.FromOutgoingContext(ctx)
		e.sawOutgoing = len(md) > 0
	}
	if in.GetValue() == "fail" {
		return nil, smherr.New(http.StatusForbidden, "NoPermission", "no")
	}
	if in.GetValue() == "internal" {
		return nil, smherr.Internal(errors.New("disk on fire"))
	}
	who := metadata.ValueFromIncomingContext(ctx, "who")
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-smh-answer", "yes"))
	in.Value = "mutated by the callee"
	return wrapperspb.String("echo:" + who[0]), nil
}

var echoDesc = grpc.ServiceDesc{
	ServiceName: "test.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/test.Echo/Echo"}
			return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
				return srv.(*echo).Echo(ctx, req.(*wrapperspb.StringValue))
			})
		},
	}},
}

func TestInvoke(t *testing.T) {
	var order []string
	mark := func(name string) grpc.UnaryServerInterceptor {
		return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			order = append(order, name+">"+info.FullMethod)
			return h(ctx, req)
		}
	}
	conn := New(mark("outer"), mark("inner"))
	svc := &echo{}
	conn.RegisterService(&echoDesc, svc)

	ctx := metadata.AppendToOutgoingContext(context.Background(), "who", "alice")
	req := wrapperspb.String("hi")
	var resp wrapperspb.StringValue
	var header metadata.MD
	if err := conn.Invoke(ctx, "/test.Echo/Echo", req, &resp, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if resp.GetValue() != "echo:alice" {
		t.Fatalf("answer %q", resp.GetValue())
	}
	if got := header.Get("x-smh-answer"); len(got) != 1 || got[0] != "yes" {
		t.Fatalf("header %v", header)
	}
	if req.GetValue() != "hi" {
		t.Fatalf("callee changed the caller's request: %q", req.GetValue())
	}
	if svc.sawOutgoing {
		t.Fatal("callee inherited the caller's outgoing metadata")
	}
	if len(order) != 2 || order[0] != "outer>/test.Echo/Echo" || order[1] != "inner>/test.Echo/Echo" {
		t.Fatalf("interceptor order %v", order)
	}

	tests := []struct {
		value    string
		wantCode string
		wantMsg  string
	}{
		{"fail", "NoPermission", "no"},
		{"internal", "InternalError", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			err := conn.Invoke(ctx, "/test.Echo/Echo", wrapperspb.String(tt.value), &resp)
			e := smherr.As(err)
			if e == nil || e.Code != tt.wantCode || e.Message != tt.wantMsg {
				t.Fatalf("error %v, want %s %q", err, tt.wantCode, tt.wantMsg)
			}
		})
	}

	if err := conn.Invoke(ctx, "/test.Echo/Nope", req, &resp); smherr.As(err).Status != http.StatusNotImplemented {
		t.Fatalf("unknown method: %v", err)
	}
}

func TestCanonicalCode(t *testing.T) {
	tests := []struct {
		code codes.Code
		want string
	}{
		{codes.OK, "OK"}, {codes.Canceled, "CANCELLED"}, {codes.NotFound, "NOT_FOUND"},
		{codes.InvalidArgument, "INVALID_ARGUMENT"}, {codes.DeadlineExceeded, "DEADLINE_EXCEEDED"},
		{codes.Unauthenticated, "UNAUTHENTICATED"}, {codes.DataLoss, "DATA_LOSS"}, {codes.Code(99), "UNKNOWN"},
	}
	for _, tt := range tests {
		if got := canonicalCode(tt.code); got != tt.want {
			t.Errorf("canonicalCode(%v) = %q, want %q", tt.code, got, tt.want)
		}
	}
}
