package grpcx

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// deadlineEcho answers every call, unary or streaming, with the time its deadline leaves (-1
// without a deadline), as the server saw it.
func deadlineEcho(_ any, stream grpc.ServerStream) error {
	if err := stream.RecvMsg(&emptypb.Empty{}); err != nil {
		return err
	}
	left := time.Duration(-1)
	if d, ok := stream.Context().Deadline(); ok {
		left = time.Until(d)
	}
	return stream.SendMsg(durationpb.New(left))
}

// serve runs a gRPC server with opts on a loopback listener that counts the connections it
// accepts and the client's HTTP/2 PING frames on them.
func serve(t *testing.T, opts ...grpc.ServerOption) (addr string, l *countingListener) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l = &countingListener{Listener: lis}
	srv := grpc.NewServer(append(opts, grpc.UnknownServiceHandler(deadlineEcho))...)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return lis.Addr().String(), l
}

func dial(t *testing.T, addr string, tuning Tuning) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, append(ClientOptions(tuning), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestDefaultDeadlines checks the deadline each kind of call carries when its caller set none:
// CallTimeout for an ordinary call, LongCallTimeout for a purge, the caller's own when it set
// one, none for the revocation watch; streams alike. The bounds are hours apart, so the checks
// do not depend on how fast the machine is.
func TestDefaultDeadlines(t *testing.T) {
	addr, _ := serve(t, ServerOptions(slog.New(slog.DiscardHandler))...)
	tuning := Tuning{CallTimeout: time.Hour, LongCallTimeout: 100 * time.Hour}
	conn := dial(t, addr, tuning)
	own, cancel := context.WithTimeout(context.Background(), 5*time.Hour)
	defer cancel()

	within := func(lo, hi time.Duration) func(time.Duration) bool {
		return func(d time.Duration) bool { return d > lo && d <= hi }
	}
	tests := []struct {
		name   string
		ctx    context.Context
		method string
		stream bool
		want   func(time.Duration) bool
	}{
		{"ordinary call", context.Background(), "/smh.namespace.v1.NamespaceService/CreateDirectory", false, within(0, time.Hour)},
		{"purge", context.Background(), "/smh.namespace.v1.NamespaceService/PurgeLibrary", false, within(time.Hour, 100*time.Hour)},
		{"caller's deadline", own, "/smh.namespace.v1.NamespaceService/PurgeLibrary", false, within(time.Hour, 5*time.Hour)},
		{"ordinary stream", context.Background(), "/smh.token.v1.TokenService/SomeStream", true, within(0, time.Hour)},
		{"revocation watch", context.Background(), "/smh.token.v1.TokenService/WatchRevocations", true, func(d time.Duration) bool { return d == -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			left := &durationpb.Duration{}
			if !tt.stream {
				if err := conn.Invoke(tt.ctx, tt.method, &emptypb.Empty{}, left); err != nil {
					t.Fatal(err)
				}
			} else {
				cs, err := conn.NewStream(tt.ctx, &grpc.StreamDesc{ServerStreams: true}, tt.method)
				if err != nil {
					t.Fatal(err)
				}
				if err := cs.SendMsg(&emptypb.Empty{}); err != nil {
					t.Fatal(err)
				}
				_ = cs.CloseSend()
				if err := cs.RecvMsg(left); err != nil {
					t.Fatal(err)
				}
				if err := cs.RecvMsg(left); err != io.EOF {
					t.Fatalf("end of stream: %v", err)
				}
			}
			if d := left.AsDuration(); !tt.want(d) {
				t.Fatalf("the server saw %v left", d)
			}
		})
	}
}

// TestDefaultDeadlinesInProcess checks the server interceptor that gives the all-in-one's
// in-process calls the same defaults.
func TestDefaultDeadlinesInProcess(t *testing.T) {
	ic := DefaultDeadlines(Tuning{CallTimeout: time.Hour, LongCallTimeout: 100 * time.Hour})
	left := func(method string) time.Duration {
		var d time.Duration = -1
		_, _ = ic(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: method}, func(ctx context.Context, _ any) (any, error) {
			if dl, ok := ctx.Deadline(); ok {
				d = time.Until(dl)
			}
			return nil, nil
		})
		return d
	}
	if d := left("/smh.library.v1.LibraryService/GetLibrary"); d <= 0 || d > time.Hour {
		t.Fatalf("ordinary call: %v left", d)
	}
	if d := left("/smh.library.v1.LibraryService/DeleteLibrary"); d <= time.Hour || d > 100*time.Hour {
		t.Fatalf("library delete: %v left", d)
	}
}

// TestKeepaliveAccepted keeps a connection made with ClientOptions (pinging every 10 s, the
// fastest grpc-go allows) quiet against a server made with ServerOptions until the client has
// pinged twice: the server must not have sent it away, so the same connection still serves.
// The control case shows what the test would catch: a server that permits pings only every
// hour sends the same client GOAWAY ("too_many_pings") and the connection drops.
func TestKeepaliveAccepted(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for two keepalive pings (about 20 s)")
	}
	tuning := Tuning{KeepaliveTime: 10 * time.Second, KeepaliveTimeout: 5 * time.Second}
	t.Run("our server", func(t *testing.T) {
		t.Parallel()
		addr, lis := serve(t, ServerOptions(slog.New(slog.DiscardHandler))...)
		conn := dial(t, addr, tuning)
		if err := conn.Invoke(context.Background(), "/x.Y/Z", &emptypb.Empty{}, &durationpb.Duration{}); err != nil {
			t.Fatal(err)
		}
		states := watchStates(conn)
		lis.waitPings(t, 2)
		if err := conn.Invoke(context.Background(), "/x.Y/Z", &emptypb.Empty{}, &durationpb.Duration{}); err != nil {
			t.Fatalf("call after the pings: %v", err)
		}
		if n := lis.accepted.Load(); n != 1 {
			t.Fatalf("%d connections: the server dropped the pinging client", n)
		}
		if s := states(); len(s) > 0 {
			t.Fatalf("the connection left READY: %v", s)
		}
	})
	t.Run("control: a stricter server", func(t *testing.T) {
		t.Parallel()
		addr, lis := serve(t, append(ServerOptions(slog.New(slog.DiscardHandler)),
			grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Hour, PermitWithoutStream: true}))...)
		conn := dial(t, addr, tuning)
		if err := conn.Invoke(context.Background(), "/x.Y/Z", &emptypb.Empty{}, &durationpb.Duration{}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if !conn.WaitForStateChange(ctx, connectivity.Ready) {
			t.Fatalf("the strict server kept a client pinging every 10 s (%d pings)", lis.pings.Load())
		}
	})
}

// watchStates records the states conn moves to from READY, until the test reads them.
func watchStates(conn *grpc.ClientConn) func() []connectivity.State {
	var (
		mu     sync.Mutex
		seen   []connectivity.State
		ctx, c = context.WithCancel(context.Background())
	)
	go func() {
		s := conn.GetState()
		for conn.WaitForStateChange(ctx, s) {
			s = conn.GetState()
			mu.Lock()
			seen = append(seen, s)
			mu.Unlock()
		}
	}()
	return func() []connectivity.State {
		c()
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

// countingListener counts accepted connections and the keepalive PING frames clients send.
type countingListener struct {
	net.Listener
	accepted, pings atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	pr, pw := io.Pipe()
	go l.countPings(pr)
	return &teeConn{Conn: c, tee: pw}, nil
}

// countPings reads the client's side of the connection: the 24-byte HTTP/2 preface, then frames
// of a 9-byte header (length, type, flags, stream) and a payload.
func (l *countingListener) countPings(r io.Reader) {
	if _, err := io.CopyN(io.Discard, r, 24); err != nil {
		return
	}
	var h [9]byte
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return
		}
		length := int64(binary.BigEndian.Uint32(append([]byte{0}, h[:3]...)))
		const ping, ack = 0x6, 0x1
		if h[3] == ping && h[4]&ack == 0 && length == 8 {
			// grpc-go's keepalive pings carry eight zero bytes; its bandwidth probes other data.
			var data [8]byte
			if _, err := io.ReadFull(r, data[:]); err != nil {
				return
			}
			if data == [8]byte{} {
				l.pings.Add(1)
			}
			continue
		}
		if _, err := io.CopyN(io.Discard, r, length); err != nil {
			return
		}
	}
}

// waitPings waits until the clients sent n pings, failing only if they never do.
func (l *countingListener) waitPings(t *testing.T, n int32) {
	t.Helper()
	for end := time.Now().Add(2 * time.Minute); l.pings.Load() < n; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("only %d keepalive pings arrived", l.pings.Load())
		}
	}
}

// teeConn copies what the client sends to tee.
type teeConn struct {
	net.Conn
	tee *io.PipeWriter
}

func (c *teeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		_, _ = c.tee.Write(p[:n])
	}
	if err != nil {
		c.tee.CloseWithError(err)
	}
	return n, err
}
