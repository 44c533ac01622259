package discovery

import (
	"context"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
)

// instance is one real gRPC server serving health, counting the calls it answers.
type instance struct {
	addr  string
	srv   *grpc.Server
	calls atomic.Int64
}

func startInstance(t *testing.T) *instance {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{addr: lis.Addr().String()}
	in.srv = grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		in.calls.Add(1)
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(in.srv, health.NewServer())
	served := make(chan error, 1)
	go func() { served <- in.srv.Serve(lis) }()
	t.Cleanup(func() {
		in.srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("serve %s: %v", in.addr, err)
		}
	})
	return in
}

func registeredKeys(t *testing.T, cli *clientv3.Client, service string) []string {
	t.Helper()
	resp, err := cli.Get(context.Background(), Prefix+service+"/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	slices.Sort(keys)
	return keys
}

func TestRoundRobinAndLeave(t *testing.T) {
	cli := etcdtest.New(t)
	ctx := context.Background()
	a, b := startInstance(t), startInstance(t)

	regA, err := Register(ctx, cli, "svc", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	regB, err := Register(ctx, cli, "svc", b.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(regB.Close)

	want := []string{Prefix + "svc/" + a.addr, Prefix + "svc/" + b.addr}
	slices.Sort(want)
	if got := registeredKeys(t, cli, "svc"); !slices.Equal(got, want) {
		t.Fatalf("registered keys %q, want %q", got, want)
	}

	conn, err := Dial(cli, "svc", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	hc := healthpb.NewHealthClient(conn)
	check := func() {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		resp, err := hc.Check(cctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("Check = %v, want SERVING", resp.GetStatus())
		}
	}

	// Round robin reaches both once both are resolved and connected.
	deadline := time.Now().Add(10 * time.Second)
	for a.calls.Load() == 0 || b.calls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("calls never reached both instances: a=%d b=%d", a.calls.Load(), b.calls.Load())
		}
		for range 20 {
			check()
		}
	}

	// Leaving: the key goes at once, and the client stops calling a while calls keep succeeding.
	regA.Close()
	if got := registeredKeys(t, cli, "svc"); !slices.Equal(got, []string{Prefix + "svc/" + b.addr}) {
		t.Fatalf("after Close, registered keys %q, want only b", got)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		before := a.calls.Load()
		for range 20 {
			check()
		}
		if a.calls.Load() == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("calls still reach the instance that left")
		}
	}

	a.srv.Stop()
	beforeB := b.calls.Load()
	for range 20 {
		check()
	}
	if got := b.calls.Load() - beforeB; got != 20 {
		t.Fatalf("b answered %d of 20 calls after a stopped", got)
	}
}

func TestRegisterFailsWithEndedContext(t *testing.T) {
	cli := etcdtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if reg, err := Register(ctx, cli, "svc", "127.0.0.1:1"); err == nil {
		reg.Close()
		t.Fatal("Register with an ended context succeeded")
	}
	if got := registeredKeys(t, cli, "svc"); len(got) != 0 {
		t.Fatalf("keys registered: %q", got)
	}
}
