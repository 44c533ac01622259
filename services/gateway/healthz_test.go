package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/opensmh/opensmh/pkg/grpcx/grpctest"
)

// hungHealth is a grpc.health.v1 server that never answers: a process alive but stuck.
type hungHealth struct {
	healthpb.UnimplementedHealthServer
}

func (hungHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestHealthzReportsEachService checks /healthz's report over real gRPC connections: 200 while
// every service serves; 503 naming a service whose store is down not_serving, and a hung one
// unreachable, while every other service is still reported serving (a hung service must not
// use up the others' time).
func TestHealthzReportsEachService(t *testing.T) {
	const name = "smh.test.v1.TestService"
	serving := func(status healthpb.HealthCheckResponse_ServingStatus) grpc.ClientConnInterface {
		hs := health.NewServer()
		hs.SetServingStatus(name, status)
		return grpctest.Serve(t, func(s grpc.ServiceRegistrar) { healthpb.RegisterHealthServer(s, hs) })
	}
	hung := grpctest.Serve(t, func(s grpc.ServiceRegistrar) { healthpb.RegisterHealthServer(s, hungHealth{}) })

	ask := func(checks map[string]healthCheck) (int, map[string]string) {
		t.Helper()
		rec := httptest.NewRecorder()
		healthz(rec, httptest.NewRequest("GET", "/healthz", nil), checks)
		var body struct {
			Status   string
			Services map[string]string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", rec.Body, err)
		}
		if (rec.Code == http.StatusOK) != (body.Status == "ok") {
			t.Fatalf("status %d with %q", rec.Code, body.Status)
		}
		return rec.Code, body.Services
	}

	up := map[string]healthCheck{}
	for _, s := range []string{"a", "b", "c", "d"} {
		up[s] = healthCheck{serving(healthpb.HealthCheckResponse_SERVING), name}
	}
	if code, report := ask(up); code != http.StatusOK || len(report) != 4 {
		t.Fatalf("all serving: %d %v", code, report)
	}

	down := map[string]healthCheck{
		"store-down": {serving(healthpb.HealthCheckResponse_NOT_SERVING), name},
		"hung":       {hung, name},
	}
	for s, c := range up {
		down[s] = c
	}
	code, report := ask(down)
	want := map[string]string{"store-down": "not_serving", "hung": "unreachable", "a": "serving", "b": "serving", "c": "serving", "d": "serving"}
	if code != http.StatusServiceUnavailable || len(report) != len(want) {
		t.Fatalf("with one store down and one service hung: %d %v", code, report)
	}
	for s, status := range want {
		if report[s] != status {
			t.Errorf("%s reported %q, want %q (report %v)", s, report[s], status, report)
		}
	}
}
