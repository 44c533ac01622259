package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

func TestMetricsHandlerServesGlobalInstruments(t *testing.T) {
	m, err := SetupMetrics("opensmh-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })

	ctx := context.Background()
	meter := otel.Meter("github.com/opensmh/opensmh/pkg/telemetry/test")
	hist, err := meter.Float64Histogram("test.operation.duration", metric.WithUnit("s"))
	if err != nil {
		t.Fatal(err)
	}
	hist.Record(ctx, 0.25, metric.WithAttributes(attribute.String("op", "probe")))
	count, err := meter.Int64Counter("test.events")
	if err != nil {
		t.Fatal(err)
	}
	count.Add(ctx, 3)

	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the Prometheus text format", ct)
	}
	body := w.Body.String()
	for _, want := range []string{
		`test_operation_duration_seconds_count{op="probe"`,
		`test_operation_duration_seconds_sum{op="probe"`,
		`test_events_total{`,
		`go_goroutines `,
		`target_info{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
}

func TestServeMetricsOffWithoutAddress(t *testing.T) {
	before := otel.GetMeterProvider()
	shutdown, err := ServeMetrics("", "opensmh-test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if otel.GetMeterProvider() != before {
		t.Error("an empty address installed a meter provider")
	}
}
