package sqldb

import (
	"context"
	"errors"
	"time"

	"github.com/opensmh/opensmh/pkg/telemetry"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// txMetrics times InWrite and InRead calls (docs/architecture.md, "Observability": store latencies).
// The attributes are only engine, kind (read, write) and outcome (ok, error): no per-query labels,
// so the series stay few and recording costs one histogram update. A write's time includes its
// wait for the group commit on SQLite, which is what its caller waits.
type txMetrics struct {
	duration metric.Float64Histogram
	// sets holds the attribute sets, made once: [kind][outcome].
	sets [2][2]metric.MeasurementOption
}

const (
	kindRead = iota
	kindWrite
)

func newTxMetrics(engine string) txMetrics {
	// The global meter provider is the no-op one unless metrics are on; instruments made before it
	// is set follow it once it is.
	h, err := otel.Meter("github.com/opensmh/opensmh/pkg/sqldb").Float64Histogram("sqldb.transaction.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of InRead and InWrite calls, waiting included."),
		telemetry.StoreBuckets)
	if err != nil {
		otel.Handle(err)
	}
	m := txMetrics{duration: h}
	for k, kind := range []string{"read", "write"} {
		for o, outcome := range []string{"ok", "error"} {
			m.sets[k][o] = metric.WithAttributeSet(attribute.NewSet(
				attribute.String("engine", engine), attribute.String("kind", kind), attribute.String("outcome", outcome)))
		}
	}
	return m
}

// errUnfinished stands for the answer of a call whose function panicked (or ended its goroutine):
// InWrite and InRead set it first, and only a return replaces it, so such a call counts as an
// error.
var errUnfinished = errors.New("sqldb: the call did not return")

// observe records one call of kind begun at start that answered *err.
func (m txMetrics) observe(ctx context.Context, kind int, start time.Time, err *error) {
	if m.duration == nil {
		return
	}
	outcome := 0
	if *err != nil {
		outcome = 1
	}
	m.duration.Record(context.WithoutCancel(ctx), time.Since(start).Seconds(), m.sets[kind][outcome])
}
