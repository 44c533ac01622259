package serve

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// waitTimeout bounds every wait of these tests; it is a deadline for a hang, not a measurement.
const waitTimeout = 10 * time.Second

func listen(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis
}

// grpcServer answers a gRPC server with the health service, serving on its own listener.
func grpcServer(t *testing.T) (Server, string) {
	t.Helper()
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis := listen(t)
	return GRPC("grpc", srv, lis), lis.Addr().String()
}

// checkHealth makes one gRPC call to addr.
func checkHealth(addr string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(false))
	return err
}

// refuses reports whether nothing accepts connections on addr any more.
func refuses(addr string) bool {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// run is one Run in a goroutine owned by the test.
func run(t *testing.T, ctx context.Context, o Options, servers ...Server) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o, servers...) }()
	return done
}

func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("%s did not happen", what)
		var zero T
		return zero
	}
}

func TestInFlightRequestFinishesDuringDrain(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})}
	draining := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(draining) }) // Shutdown has closed the listener and waits
	lis := listen(t)
	rpc, rpcAddr := grpcServer(t)
	var order []string
	var mu sync.Mutex
	leave := func(name string) func() {
		return func() { mu.Lock(); order = append(order, name); mu.Unlock() }
	}
	web := HTTP("web", srv, lis)
	web.Leave, rpc.Leave = leave("web"), leave("grpc")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := run(t, ctx, Options{}, web, rpc)
	type answer struct {
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + lis.Addr().String())
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{string(b), err}
	}()
	await(t, started, "the request's start")
	cancel()
	await(t, draining, "the drain")
	if !refuses(lis.Addr().String()) {
		t.Error("the HTTP server still accepts connections while draining")
	}
	close(release)
	if a := await(t, answered, "the answer"); a.err != nil || a.body != "finished" {
		t.Fatalf("in-flight request answered %q, %v; want finished", a.body, a.err)
	}
	if err := await(t, done, "Run's return"); err != nil {
		t.Fatalf("Run = %v, want nil after ctx ended", err)
	}
	if len(order) != 2 {
		t.Errorf("Leave ran for %v, want both servers", order)
	}
	if !refuses(rpcAddr) {
		t.Error("the gRPC server still accepts connections after Run returned")
	}
}

func TestFailingServerEndsTheOthers(t *testing.T) {
	lis := listen(t)
	web := HTTP("data endpoint", &http.Server{Handler: http.NotFoundHandler()}, lis)
	rpc, rpcAddr := grpcServer(t)
	left := make(chan struct{})
	rpc.Leave = func() { close(left) }

	done := run(t, context.Background(), Options{}, web, rpc)
	if err := checkHealth(rpcAddr); err != nil {
		t.Fatalf("gRPC server does not serve: %v", err)
	}
	lis.Close() // the HTTP server's Serve fails
	err := await(t, done, "Run's return")
	if !errors.Is(err, net.ErrClosed) || !strings.HasPrefix(err.Error(), "data endpoint: ") {
		t.Fatalf("Run = %v, want the data endpoint's failure", err)
	}
	await(t, left, "the gRPC server's Leave")
	if !refuses(rpcAddr) {
		t.Error("the gRPC server still accepts connections after another server failed")
	}
}

func TestServerThatReturnsOnItsOwnEndsTheOthers(t *testing.T) {
	rpc, rpcAddr := grpcServer(t)
	quits := Server{Name: "quitter", Serve: func() error { return nil }, Drain: func(context.Context) error { return nil }, Stop: func() {}}
	err := await(t, run(t, context.Background(), Options{}, rpc, quits), "Run's return")
	if !errors.Is(err, ErrStoppedEarly) || !strings.HasPrefix(err.Error(), "quitter: ") {
		t.Fatalf("Run = %v, want quitter: %v", err, ErrStoppedEarly)
	}
	if !refuses(rpcAddr) {
		t.Error("the gRPC server still accepts connections")
	}
}

func TestCancelStopsEveryServer(t *testing.T) {
	lis := listen(t)
	web := HTTP("web", &http.Server{Handler: http.NotFoundHandler()}, lis)
	rpc, rpcAddr := grpcServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := run(t, ctx, Options{}, web, rpc)
	if err := checkHealth(rpcAddr); err != nil {
		t.Fatalf("gRPC server does not serve: %v", err)
	}
	resp, err := http.Get("http://" + lis.Addr().String())
	if err != nil {
		t.Fatalf("HTTP server does not serve: %v", err)
	}
	resp.Body.Close()

	cancel()
	if err := await(t, done, "Run's return"); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	for _, addr := range []string{lis.Addr().String(), rpcAddr} {
		if !refuses(addr) {
			t.Errorf("%s still accepts connections", addr)
		}
	}
}

func TestContextEndedBeforeRunStopsEveryServer(t *testing.T) {
	lis := listen(t)
	web := HTTP("web", &http.Server{Handler: http.NotFoundHandler()}, lis)
	rpc, rpcAddr := grpcServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := await(t, run(t, ctx, Options{}, web, rpc), "Run's return"); err != nil {
		t.Fatalf("Run = %v, want nil: a stop that comes before Serve is a normal stop", err)
	}
	for _, addr := range []string{lis.Addr().String(), rpcAddr} {
		if !refuses(addr) {
			t.Errorf("%s still accepts connections", addr)
		}
	}
}

func TestDrainLongerThanTheTimeoutIsCut(t *testing.T) {
	started, cut := make(chan struct{}), make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done() // never finishes on its own: only the cut ends it
		close(cut)
	})}
	lis := listen(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, nil))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := run(t, ctx, Options{DrainTimeout: 50 * time.Millisecond, Logger: logger}, HTTP("web", srv, lis))
	failed := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + lis.Addr().String())
		if err == nil {
			resp.Body.Close()
		}
		failed <- err
	}()
	await(t, started, "the request's start")
	cancel()
	if err := await(t, done, "Run's return"); err != nil {
		t.Fatalf("Run = %v, want nil: a cut drain is logged, not answered", err)
	}
	await(t, cut, "the end of the cut request")
	if err := await(t, failed, "the client's error"); err == nil {
		t.Error("the cut request got an answer")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), `"msg":"drain cut: in-flight work ended","server":"web"`) {
		t.Errorf("no record of the cut drain in %s", logs.String())
	}
}

// lockedWriter lets the test read what Run's goroutines log.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
