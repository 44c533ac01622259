package sqldb

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// The transaction histogram counts each call once by its outcome; a function that panics is an
// error, not a success.
func TestTransactionMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(func() { otel.SetMeterProvider(prev) })

	db := openSQLiteDB(t)
	ctx := context.Background()
	if err := db.InWrite(ctx, func(tx *Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if err := db.InWrite(ctx, func(tx *Tx) error { return refused }); !errors.Is(err, refused) {
		t.Fatal(err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = db.InWrite(ctx, func(tx *Tx) error { panic("boom") })
	}()
	if err := db.InRead(ctx, func(tx *Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "sqldb.transaction.duration" {
				continue
			}
			for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				kind, _ := p.Attributes.Value(attribute.Key("kind"))
				outcome, _ := p.Attributes.Value(attribute.Key("outcome"))
				counts[kind.AsString()+"/"+outcome.AsString()] += p.Count
			}
		}
	}
	want := map[string]uint64{"write/ok": 1, "write/error": 2, "read/ok": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %d calls recorded, want %d (all: %v)", k, counts[k], v, counts)
		}
	}
}
