package inproc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// ticker is a hand-written server-streaming service. Its request names what to do:
// "three" sends a header, three messages and a trailer; "fail" sends one message and fails;
// "forever" sends until its context ends and reports that end on ended.
type ticker struct {
	ended chan error
}

func (tk *ticker) Tick(in *wrapperspb.StringValue, stream grpc.ServerStream) error {
	who := metadata.ValueFromIncomingContext(stream.Context(), "who")
	switch in.GetValue() {
	case "three":
		if err := stream.SendHeader(metadata.Pairs("x-smh-answer", "yes")); err != nil {
			return err
		}
		for _, v := range []string{"1", "2", "3"} {
			msg := wrapperspb.String(v + ":" + strings.Join(who, ","))
			if err := stream.SendMsg(msg); err != nil {
				return err
			}
			msg.Value = "changed after the send" // the caller holds a copy
		}
		stream.SetTrailer(metadata.Pairs("x-smh-count", "3"))
		return nil
	case "fail":
		if err := stream.SendMsg(wrapperspb.String("1")); err != nil {
			return err
		}
		return smherr.New(http.StatusForbidden, "NoPermission", "no")
	case "forever":
		for {
			if err := stream.SendMsg(wrapperspb.String("tick")); err != nil {
				tk.ended <- stream.Context().Err()
				return err
			}
		}
	}
	return status.Error(codes.InvalidArgument, "unknown request")
}

var tickerDesc = grpc.ServiceDesc{
	ServiceName: "test.Ticker",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    "Tick",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(wrapperspb.StringValue)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			return srv.(*ticker).Tick(in, stream)
		},
	}},
}

// tick opens a Tick stream the way generated client code does: send the request, close the send
// side, then receive.
func tick(t *testing.T, ctx context.Context, conn *Conn, value string, opts ...grpc.CallOption) grpc.ClientStream {
	t.Helper()
	cs, err := conn.NewStream(ctx, &tickerDesc.Streams[0], "/test.Ticker/Tick", opts...)
	if err != nil {
		t.Fatal(err)
	}
	req := wrapperspb.String(value)
	if err := cs.SendMsg(req); err != nil {
		t.Fatal(err)
	}
	req.Value = "changed after the send" // the callee holds a copy
	if err := cs.CloseSend(); err != nil {
		t.Fatal(err)
	}
	return cs
}

func newTickerConn(interceptors ...grpc.StreamServerInterceptor) (*Conn, *ticker) {
	conn := New()
	conn.UseStreamInterceptors(interceptors...)
	tk := &ticker{ended: make(chan error, 1)}
	conn.RegisterService(&tickerDesc, tk)
	return conn, tk
}

func TestServerStream(t *testing.T) {
	var order []string
	mark := func(name string) grpc.StreamServerInterceptor {
		return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			order = append(order, name+">"+info.FullMethod)
			if info.IsClientStream || !info.IsServerStream {
				t.Errorf("stream info %+v", info)
			}
			return h(srv, ss)
		}
	}
	conn, _ := newTickerConn(mark("outer"), mark("inner"))
	ctx := metadata.AppendToOutgoingContext(context.Background(), "who", "alice")
	var trailerOpt metadata.MD
	cs := tick(t, ctx, conn, "three", grpc.Trailer(&trailerOpt))

	header, err := cs.Header()
	if err != nil || strings.Join(header.Get("x-smh-answer"), ",") != "yes" {
		t.Fatalf("header %v, %v", header, err)
	}
	var got []string
	for {
		var msg wrapperspb.StringValue
		err := cs.RecvMsg(&msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg.GetValue())
	}
	if strings.Join(got, " ") != "1:alice 2:alice 3:alice" {
		t.Fatalf("messages %q", got)
	}
	if v := cs.Trailer().Get("x-smh-count"); len(v) != 1 || v[0] != "3" {
		t.Fatalf("trailer %v", cs.Trailer())
	}
	if v := trailerOpt.Get("x-smh-count"); len(v) != 1 || v[0] != "3" {
		t.Fatalf("grpc.Trailer option %v", trailerOpt)
	}
	if len(order) != 2 || order[0] != "outer>/test.Ticker/Tick" || order[1] != "inner>/test.Ticker/Tick" {
		t.Fatalf("interceptor order %v", order)
	}
}

func TestServerStreamError(t *testing.T) {
	conn, _ := newTickerConn()
	cs := tick(t, context.Background(), conn, "fail")
	var msg wrapperspb.StringValue
	if err := cs.RecvMsg(&msg); err != nil || msg.GetValue() != "1" {
		t.Fatalf("first message %q, %v", msg.GetValue(), err)
	}
	err := cs.RecvMsg(&msg)
	if e := smherr.As(err); e == nil || e.Code != "NoPermission" {
		t.Fatalf("error %v, want NoPermission", err)
	}
	if err := cs.RecvMsg(&msg); smherr.As(err) == nil {
		t.Fatalf("after the error: %v", err)
	}
}

// A caller that cancels ends its own receive at once and the handler's context with it.
func TestServerStreamCancelledByTheCaller(t *testing.T) {
	conn, tk := newTickerConn()
	ctx, cancel := context.WithCancel(context.Background())
	cs := tick(t, ctx, conn, "forever")
	var msg wrapperspb.StringValue
	for range 3 {
		if err := cs.RecvMsg(&msg); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-tk.ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the handler's context ended with %v", err)
	}
	// Messages the handler had in flight may still arrive; then the cancellation does.
	for {
		err := cs.RecvMsg(&msg)
		if err == nil {
			continue
		}
		if status.Code(err) != codes.Canceled {
			t.Fatalf("receive after cancel: %v", err)
		}
		break
	}
}

func TestStreamOfUnknownMethod(t *testing.T) {
	conn, _ := newTickerConn()
	_, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true}, "/test.Ticker/Nope")
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("unknown stream: %v", err)
	}
}

// Client-streaming and bidirectional RPCs are refused where the service is registered.
func TestRegisterRefusesClientStreams(t *testing.T) {
	tests := []struct {
		name string
		desc grpc.StreamDesc
	}{
		{"client-streaming", grpc.StreamDesc{StreamName: "Upload", ClientStreams: true}},
		{"bidirectional", grpc.StreamDesc{StreamName: "Chat", ClientStreams: true, ServerStreams: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, "/test.Up/"+tt.desc.StreamName) {
					t.Fatalf("panic %v, want one naming the method", r)
				}
			}()
			New().RegisterService(&grpc.ServiceDesc{ServiceName: "test.Up", HandlerType: (*any)(nil), Streams: []grpc.StreamDesc{tt.desc}}, struct{}{})
		})
	}
}
