// Package telemetry sets up OpenTelemetry tracing from the standard OTEL_* environment and the
// JSON logger that carries request and trace ids (docs/architecture.md, "Observability").
package telemetry

import (
	"context"

	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Shutdown flushes and stops the exporter.
type Shutdown func(context.Context) error

// SetupTracing installs the global tracer provider and the W3C propagator. The exporter follows
// OTEL_TRACES_EXPORTER (otlp, console, none) and OTEL_EXPORTER_OTLP_* ; with neither
// OTEL_TRACES_EXPORTER nor an OTLP endpoint set, tracing is off (spans are not recorded) but trace
// context still propagates so that a caller's trace id reaches the logs.
func SetupTracing(ctx context.Context, serviceName string) (Shutdown, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	exp, err := exporterFromEnv(ctx)
	if err != nil || exp == nil {
		return func(context.Context) error { return nil }, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(serviceResource(serviceName)))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// SetupTracingWith installs a tracer provider around a given exporter; tests use it with an
// in-memory exporter.
func SetupTracingWith(exp sdktrace.SpanExporter) *sdktrace.TracerProvider {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	otel.SetTracerProvider(tp)
	return tp
}

func exporterFromEnv(ctx context.Context) (sdktrace.SpanExporter, error) {
	kind := strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")))
	endpointSet := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	if kind == "" && endpointSet {
		kind = "otlp"
	}
	switch kind {
	case "", "none":
		return nil, nil
	case "console":
		return stdouttrace.New(stdouttrace.WithWriter(os.Stderr))
	case "otlp":
		proto := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
		if proto == "" {
			proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
		}
		switch proto {
		case "", "grpc":
			return otlptracegrpc.New(ctx)
		case "http/protobuf":
			return otlptracehttp.New(ctx)
		}
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported (grpc, http/protobuf)", proto)
	}
	return nil, fmt.Errorf("OTEL_TRACES_EXPORTER %q is not supported (otlp, console, none)", kind)
}

type requestIDKey struct{}

// WithRequestID remembers the request id in ctx for log lines.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID answers the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewLogger answers a JSON logger on w whose records carry the request id and trace id of the
// context they are logged with (use the ...Context methods).
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	return slog.New(contextHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})})
}

type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

// serviceResource describes this process to traces and metrics: the SDK's defaults and the
// service name. Schemaless: resource.Default's schema URL follows the SDK's semconv version, and
// merging a resource of another schema fails (the service name was then lost).
func serviceResource(serviceName string) *resource.Resource {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(serviceName)))
	if err != nil {
		return resource.Default()
	}
	return res
}
