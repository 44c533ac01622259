package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The histogram bounds, in seconds, of the project's latency instruments, so that timings of the
// same kind compare across instruments:
var (
	// RequestBuckets are otelgrpc's bounds for rpc.server.call.duration, which the in-process
	// connection and the gateway's requests use too.
	RequestBuckets = metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
	// StoreBuckets reach below a millisecond, where most transactions and local blob operations
	// end.
	StoreBuckets = metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
)

// Metrics is the process's meter provider, exported to a Prometheus registry of its own (not
// the client library's global default, which anything linked in may write to).
type Metrics struct {
	provider *sdkmetric.MeterProvider
	handler  http.Handler
}

// SetupMetrics installs the global meter provider, so that otelgrpc's RPC metrics and every
// instrument made through otel.Meter are recorded, and answers it with the handler serving them
// in the Prometheus text format. The Go runtime and process collectors join the registry.
func SetupMetrics(serviceName string) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(reg),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(serviceResource(serviceName)))
	otel.SetMeterProvider(mp)
	return &Metrics{provider: mp, handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}, nil
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Shutdown stops the meter provider.
func (m *Metrics) Shutdown(ctx context.Context) error { return m.provider.Shutdown(ctx) }

// ServeMetrics sets up the metrics and serves them at /metrics on addr in plain HTTP until the
// returned Shutdown is called. addr must be an internal address: the metrics never go on the
// public HTTPS port. An empty addr turns metrics off (the global meter provider stays the no-op
// one) and answers a Shutdown that does nothing.
func ServeMetrics(addr, serviceName string, logger *slog.Logger) (Shutdown, error) {
	if addr == "" {
		return func(context.Context) error { return nil }, nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen on %s: %w", addr, err)
	}
	m, err := SetupMetrics(serviceName)
	if err != nil {
		_ = lis.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	logger.Info("metrics serving", "address", "http://"+lis.Addr().String()+"/metrics")
	return func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return errors.Join(err, m.Shutdown(ctx))
	}, nil
}
