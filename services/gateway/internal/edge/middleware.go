package edge

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/opensmh/opensmh/pkg/grpcx"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/telemetry"
)

// RequestIDHeader is the response header carrying the request id (decision 5).
const RequestIDHeader = "X-SMH-Request-Id"

// RouteNamer names the route of a request for spans and logs without its parameters: paths
// carry tokens (1.2, 1.3) and user file names, which must stay out of traces. It answers the
// request to serve as well: a namer may remember on it what it learned (the dispatcher's match).
type RouteNamer func(*http.Request) (string, *http.Request)

// Observe gives every request an id (X-SMH-Request-Id on the response, in the context for the
// error body, as metadata for the services), a server span named by route, and an access log
// line, and times it in the gateway.http.request.duration histogram by method, route and
// status class (its count is the request rate, its 5xx share the error rate). It records
// neither the path nor the query.
func Observe(logger *slog.Logger, routeOf RouteNamer, next http.Handler) http.Handler {
	tracer := otel.Tracer("github.com/opensmh/opensmh/services/gateway")
	duration, err := otel.Meter("github.com/opensmh/opensmh/services/gateway").Float64Histogram("gateway.http.request.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of HTTP requests at the edge, by route name and status class."),
		telemetry.RequestBuckets)
	if err != nil {
		otel.Handle(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := grpcx.NewRequestID()
		w.Header().Set(RequestIDHeader, id)
		r.Header.Set(reqmeta.RequestID, id)

		route, r := routeOf(r)
		ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, r.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", route),
				attribute.String("smh.request_id", id)))
		defer span.End()
		ctx = telemetry.WithRequestID(ctx, id)

		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))

		// A client that went away is counted as 499, whatever the layers below made of their
		// cancelled work: the request's own context ended, so it was the client's doing. A
		// cancellation the server made leaves this context alone and stays a server error.
		status := sw.status
		if r.Context().Err() != nil {
			status = statusClientClosed
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		if duration != nil {
			duration.Record(context.WithoutCancel(ctx), time.Since(start).Seconds(), metric.WithAttributes(
				attribute.String("http.request.method", knownMethod(r.Method)), attribute.String("http.route", route),
				attribute.String("http.response.status_class", statusClass(status))))
		}
		msg := "request"
		if status == statusClientClosed {
			msg = "client aborted request"
		}
		logger.InfoContext(ctx, msg, "method", r.Method, "route", route, "status", status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

// statusClientClosed is the status of a request its client abandoned (the data endpoint answers
// a client that went away mid-body with it too): 4xx, the client's doing, not a server error.
const statusClientClosed = 499

// statusClass answers "2xx" for 200 to 299 and so on: five series per route, not one per status.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// knownMethod keeps a client's made-up method out of the metric's series (semantic
// conventions: "_OTHER").
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "_OTHER"
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming responses through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
