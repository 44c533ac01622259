package servicehost

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
)

// waitTimeout bounds every wait of these tests; it is a deadline for a hang, not a measurement.
const waitTimeout = 10 * time.Second

// running is one Run in a goroutine owned by the test.
type running struct {
	cancel     context.CancelFunc
	done       chan error
	registered chan struct{}
}

func start(t *testing.T, o Options) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), registered: make(chan struct{})}
	if o.Register == nil {
		o.Register = func(grpc.ServiceRegistrar) { close(r.registered) }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	go func() { r.done <- Run(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(waitTimeout):
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after cancel")
		return nil
	}
}

// keys answers the keys listed for service.
func keys(t *testing.T, cli *clientv3.Client, service string) []string {
	t.Helper()
	resp, err := cli.Get(context.Background(), discovery.Prefix+service+"/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Key))
	}
	return out
}

func waitListed(t *testing.T, cli *clientv3.Client, service string) string {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if k := keys(t, cli, service); len(k) > 0 {
			if len(k) != 1 {
				t.Fatalf("listed %q, want one instance", k)
			}
			return k[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never listed in etcd", service)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dial(t *testing.T, cli *clientv3.Client, service string) *grpc.ClientConn {
	t.Helper()
	conn, err := discovery.Dial(cli, service, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestRunServesAndLeaves(t *testing.T) {
	cli := etcdtest.New(t)
	r := start(t, Options{Name: "lib", Listen: "127.0.0.1:0", Etcd: cli})

	select {
	case <-r.registered:
	case <-time.After(waitTimeout):
		t.Fatal("Register was not called")
	}
	key := waitListed(t, cli, "lib")
	addr := strings.TrimPrefix(key, discovery.Prefix+"lib/")
	if host, _, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" {
		t.Fatalf("listed key %q does not end with the listener address", key)
	}

	conn := dial(t, cli, "lib")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatalf("health Check: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, want SERVING", resp.GetStatus())
	}

	// Reflection is served too.
	rs, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	rr, err := rs.Recv()
	if err != nil {
		t.Fatalf("reflection: %v", err)
	}
	var services []string
	for _, s := range rr.GetListServicesResponse().GetService() {
		services = append(services, s.GetName())
	}
	if !strings.Contains(strings.Join(services, " "), healthpb.Health_ServiceDesc.ServiceName) {
		t.Fatalf("reflection lists %q, want the health service among them", services)
	}
	_ = rs.CloseSend()

	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v after cancel, want nil", err)
	}
	if k := keys(t, cli, "lib"); len(k) != 0 {
		t.Fatalf("still listed after Run returned: %q", k)
	}
}

func TestRunAdvertise(t *testing.T) {
	cli := etcdtest.New(t)
	r := start(t, Options{Name: "authtoken", Listen: "127.0.0.1:0", Advertise: "authtoken.internal:9000", Etcd: cli})
	if got, want := waitListed(t, cli, "authtoken"), discovery.Prefix+"authtoken/authtoken.internal:9000"; got != want {
		t.Fatalf("listed %q, want %q", got, want)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// A call that does not end by itself (a health Watch) is cut after DrainTimeout, having first
// been told the instance is going away.
func TestRunDrainsThenStops(t *testing.T) {
	cli := etcdtest.New(t)
	r := start(t, Options{Name: "lib", Listen: "127.0.0.1:0", Etcd: cli, DrainTimeout: 100 * time.Millisecond})
	waitListed(t, cli, "lib")
	conn := dial(t, cli, "lib")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	w, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatal(err)
	}
	first, err := w.Recv()
	if err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first Watch message = %v, %v; want SERVING", first, err)
	}

	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v after cancel, want nil", err)
	}
	next, err := w.Recv()
	if err != nil || next.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("Watch after cancel = %v, %v; want NOT_SERVING", next, err)
	}
	if _, err := w.Recv(); err == nil || err == io.EOF {
		t.Fatalf("Watch after the drain = %v, want the stream cut", err)
	}
}

func TestRunErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cli := etcdtest.New(t)
	ended, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name    string
		ctx     context.Context
		listen  string
		wantErr string
	}{
		{"address taken", context.Background(), taken.Addr().String(), "listen on " + taken.Addr().String()},
		{"bad address", context.Background(), "127.0.0.1:notaport", "listen on"},
		{"registration fails", ended, "127.0.0.1:0", "lib"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				done <- Run(tt.ctx, Options{Name: "lib", Listen: tt.listen, Etcd: cli,
					Logger: slog.New(slog.DiscardHandler), Register: func(grpc.ServiceRegistrar) {}})
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run = %v, want an error containing %q", err, tt.wantErr)
				}
			case <-time.After(waitTimeout):
				t.Fatal("Run did not return")
			}
			if k := keys(t, cli, "lib"); len(k) != 0 {
				t.Fatalf("listed after a failed Run: %q", k)
			}
		})
	}
}
