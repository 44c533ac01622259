// Package jobs runs a service's background jobs with one active runner across replicas
// (docs/architecture.md, "Background work"): each job is an etcd election, and only its leader runs
// the job, at once and then every interval, until it loses the lease or stops.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/opensmh/opensmh/pkg/clock"
)

const (
	// sessionTTL bounds how long a job stays without a runner after its leader dies without
	// resigning: its lease lapses and a waiting replica wins. Resigning (on stop) hands over at
	// once.
	sessionTTL = 15 // seconds
	// retry spaces attempts to reach etcd after a failed session or campaign.
	retry = 5 * time.Second
	// resignTimeout bounds the hand-over on stop when etcd is slow or gone; the lease lapses anyway.
	resignTimeout = 5 * time.Second
)

// Job is one elected background job.
type Job struct {
	// Election is the etcd key prefix of the job's election, e.g. /smh/object/jobs/gc.
	Election string
	// Every is the pause between the end of one run and the start of the next, so a run longer
	// than the interval is not followed at once by another.
	Every time.Duration
	// Round does one round of the job; it logs its own outcome. It must stop promptly when ctx ends.
	Round func(ctx context.Context)
	Log   *slog.Logger
}

// candidate is this replica's value in the election, so an operator reading the election prefix
// sees which host runs the job.
func candidate() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// Run campaigns, runs the job while leading, and campaigns again after losing leadership or
// failing to reach etcd, until ctx ends.
func (j Job) Run(ctx context.Context, cli *clientv3.Client) {
	for ctx.Err() == nil {
		err := j.lead(ctx, cli)
		if ctx.Err() != nil {
			return
		}
		j.Log.Warn("job: election interrupted, campaigning again", "job", j.Election, "err", err)
		clock.Sleep(ctx, retry)
	}
}

// lead holds one election session: it waits to win, then runs the job at once and every
// j.Every until ctx ends or the session's lease is lost. On the way out it resigns.
func (j Job) lead(ctx context.Context, cli *clientv3.Client) error {
	session, err := concurrency.NewSession(cli, concurrency.WithTTL(sessionTTL), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("election session: %w", err)
	}
	election := concurrency.NewElection(session, j.Election)
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resignTimeout)
		defer cancel()
		_ = election.Resign(rctx) // if it fails, the lease lapses and does the same
		if ctx.Err() != nil {
			// On stop ctx is cancelled, so the lease cannot be revoked (trying only logs the
			// etcd client's warning); holding nothing after the resignation, it lapses within
			// its TTL.
			session.Orphan()
			return
		}
		_ = session.Close()
	}()

	// Campaign and runs stop as soon as the lease is lost: another replica may lead by then.
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		select {
		case <-session.Done():
			cancel()
		case <-lctx.Done():
		}
	})

	if err := election.Campaign(lctx, candidate()); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	j.Log.Info("job: leading", "job", j.Election)
	for {
		j.Round(lctx)
		clock.Sleep(lctx, j.Every)
		if lctx.Err() != nil {
			if ctx.Err() == nil {
				return errors.New("election session lost")
			}
			return nil
		}
	}
}

// Start runs the job in the background until ctx ends or the returned stop is called, which
// waits for it: elected through cli, or, without etcd (a single all-in-one), in this process
// alone.
func (j Job) Start(ctx context.Context, cli *clientv3.Client) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if cli != nil {
			j.Run(ctx, cli)
			return
		}
		for ctx.Err() == nil {
			j.Round(ctx)
			clock.Sleep(ctx, j.Every)
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
