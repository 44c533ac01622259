package readiness

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestReportsTheStore checks that each probe's outcome is its service's health on every server:
// known from the start, NOT_SERVING while its store fails, SERVING again when it answers, and
// one hung store does not hold back the other's report; "" stays SERVING throughout.
func TestReportsTheStore(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	flaky := Probe{Service: "smh.a.v1.A", Ping: func(context.Context) error {
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	}}
	hung := Probe{Service: "smh.b.v1.B", Ping: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	servers := []*health.Server{health.NewServer(), health.NewServer()}
	stop := Start([]Probe{flaky, hung}, Options{Every: 10 * time.Millisecond, Timeout: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)}, servers...)
	defer stop()

	status := func(hs *health.Server, service string) healthpb.HealthCheckResponse_ServingStatus {
		resp, err := hs.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatalf("%s: %v", service, err)
		}
		return resp.GetStatus()
	}
	for _, hs := range servers { // Start checked once before it returned
		if s := status(hs, flaky.Service); s != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("failing store reported %v", s)
		}
		if s := status(hs, hung.Service); s != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("hung store reported %v", s)
		}
		// "" is the liveness answer (what a Kubernetes liveness probe asks): a store's outage
		// must not have the process restarted.
		if s := status(hs, ""); s != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("the process's own health reported %v while a store is down", s)
		}
	}
	down.Store(false)
	for end := time.Now().Add(time.Minute); status(servers[1], flaky.Service) != healthpb.HealthCheckResponse_SERVING; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the store answers again but its service never reported serving")
		}
	}
	if s := status(servers[0], flaky.Service); s != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("the first server reports %v", s)
	}
}
