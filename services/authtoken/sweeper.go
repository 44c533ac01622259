package authtoken

import (
	"context"
	"log/slog"
	"time"

	"github.com/opensmh/opensmh/pkg/jobs"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
)

const (
	// sweepElection is the etcd election that lets one replica at a time sweep (docs/architecture.md,
	// "Background work": one active runner per job).
	sweepElection = "/smh/authtoken/jobs/sweep-expired"
	// DefaultSweepEvery is how often the elected replica sweeps expired tokens out of etcd.
	DefaultSweepEvery = 10 * time.Minute
)

// sweepJob is the elected job that runs Tokens.SweepExpired every interval.
func sweepJob(tokens *app.Tokens, every time.Duration, log *slog.Logger) jobs.Job {
	return jobs.Job{Election: sweepElection, Every: every, Log: log, Round: func(ctx context.Context) {
		sweep(ctx, tokens, log)
	}}
}

// sweep logs its outcome rather than returning it: a failed sweep is retried whole after the next
// interval. Only counts are logged, never tokens or hashes.
func sweep(ctx context.Context, tokens *app.Tokens, log *slog.Logger) {
	start := time.Now()
	n, err := tokens.SweepExpired(ctx, app.DefaultSweepBatch)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("token sweep failed", "deleted", n, "took", took, "err", err)
		}
		return
	}
	log.Info("token sweep", "deleted", n, "took", took)
}
