package blob

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/opensmh/opensmh/pkg/telemetry"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Observed wraps s so that every call is timed in the blob.operation.duration histogram by store
// kind ("local", "s3"), operation and outcome (ok, not_found, error) (docs/architecture.md,
// "Observability": blob latencies). Open is timed until the reader is answered, not while it is
// read; List for the whole listing. A store's CleanTemp, when it has one, stays reachable.
func Observed(kind string, s Store) Store {
	h, err := otel.Meter("github.com/opensmh/opensmh/services/object/blob").Float64Histogram("blob.operation.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of blob store operations."),
		telemetry.StoreBuckets)
	if err != nil {
		otel.Handle(err)
	}
	o := observed{s: s, kind: kind, duration: h}
	if tc, ok := s.(interface {
		CleanTemp(olderThan time.Duration) (int, error)
	}); ok {
		return observedCleaner{observed: o, clean: tc.CleanTemp}
	}
	return o
}

type observed struct {
	s        Store
	kind     string
	duration metric.Float64Histogram
}

var _ Store = observed{}

func (o observed) record(ctx context.Context, op string, start time.Time, err error) {
	if o.duration == nil {
		return
	}
	outcome := "ok"
	switch {
	case errors.Is(err, ErrNotFound):
		outcome = "not_found"
	case err != nil:
		outcome = "error"
	}
	o.duration.Record(context.WithoutCancel(ctx), time.Since(start).Seconds(), metric.WithAttributes(
		attribute.String("store", o.kind), attribute.String("op", op), attribute.String("outcome", outcome)))
}

func (o observed) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	start := time.Now()
	n, err := o.s.Put(ctx, key, r, size)
	o.record(ctx, "put", start, err)
	return n, err
}

func (o observed) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	start := time.Now()
	rc, err := o.s.Open(ctx, key, offset, length)
	o.record(ctx, "open", start, err)
	return rc, err
}

func (o observed) Stat(ctx context.Context, key string) (Info, error) {
	start := time.Now()
	info, err := o.s.Stat(ctx, key)
	o.record(ctx, "stat", start, err)
	return info, err
}

func (o observed) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := o.s.Delete(ctx, key)
	o.record(ctx, "delete", start, err)
	return err
}

func (o observed) List(ctx context.Context, prefix string, fn func(Info) error) error {
	start := time.Now()
	err := o.s.List(ctx, prefix, fn)
	o.record(ctx, "list", start, err)
	return err
}

// observedCleaner is an observed local store: its temporary files are still cleaned.
type observedCleaner struct {
	observed
	clean func(olderThan time.Duration) (int, error)
}

// CleanTemp is the wrapped store's.
func (o observedCleaner) CleanTemp(olderThan time.Duration) (int, error) { return o.clean(olderThan) }
