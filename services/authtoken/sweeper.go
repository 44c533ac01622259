package authtoken

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
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
)

const (
	// sweepElection is the etcd election that lets one replica at a time sweep (architecture.md,
	// "Background work": one active runner per job).
	sweepElection = "/smh/authtoken/jobs/sweep-expired"
	// DefaultSweepEvery is how often the elected replica sweeps expired tokens out of etcd.
	DefaultSweepEvery = 10 * time.Minute
	// sweepSessionTTL bounds how long the job stays without a runner after its leader dies without
	// resigning: its lease lapses and a waiting replica wins. Resigning (Close) hands over at once.
	sweepSessionTTL = 15 // seconds
	// sweepRetry spaces attempts to reach etcd after a failed session or campaign.
	sweepRetry = 5 * time.Second
	// resignTimeout bounds the hand-over on Close when etcd is slow or gone; the lease lapses anyway.
	resignTimeout = 5 * time.Second
)

// sweeper runs Tokens.SweepExpired every interval while this replica leads the sweep election.
type sweeper struct {
	cli    *clientv3.Client
	tokens *app.Tokens
	every  time.Duration
	log    *slog.Logger
	// candidate is this replica's value in the election, so an operator reading the election
	// prefix sees which host sweeps.
	candidate string
}

func newSweeper(cli *clientv3.Client, tokens *app.Tokens, every time.Duration, log *slog.Logger) *sweeper {
	host, _ := os.Hostname()
	return &sweeper{
		cli:       cli,
		tokens:    tokens,
		every:     every,
		log:       log,
		candidate: fmt.Sprintf("%s/%d", host, os.Getpid()),
	}
}

// run campaigns, sweeps while leading, and campaigns again after losing leadership or failing to
// reach etcd, until ctx ends.
func (s *sweeper) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := s.lead(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("token sweep: election interrupted, campaigning again", "err", err)
		clock.Sleep(ctx, sweepRetry)
	}
}

// lead holds one election session: it waits to win, then sweeps at once and every s.every until
// ctx ends or the session's lease is lost. On the way out it resigns, so another replica takes
// over without waiting for the lease to lapse.
func (s *sweeper) lead(ctx context.Context) error {
	session, err := concurrency.NewSession(s.cli, concurrency.WithTTL(sweepSessionTTL), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("election session: %w", err)
	}
	election := concurrency.NewElection(session, sweepElection)
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resignTimeout)
		defer cancel()
		_ = election.Resign(rctx) // if it fails, the lease lapses and does the same
		// On Close ctx is cancelled, so this cannot revoke the lease; holding nothing after the
		// resignation, it lapses within its TTL.
		_ = session.Close()
	}()

	// Campaign and sweeps stop as soon as the lease is lost: another replica may lead by then.
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

	if err := election.Campaign(lctx, s.candidate); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	s.log.Info("token sweep: leading")
	// The interval runs from the end of one sweep to the start of the next, so a sweep longer
	// than the interval is not followed at once by another.
	for {
		s.sweep(lctx)
		clock.Sleep(lctx, s.every)
		if lctx.Err() != nil {
			if ctx.Err() == nil {
				return errors.New("election session lost")
			}
			return nil
		}
	}
}

// sweep logs its outcome rather than returning it: a failed sweep is retried whole after the next
// interval. Only counts are logged, never tokens or hashes.
func (s *sweeper) sweep(ctx context.Context) {
	start := time.Now()
	n, err := s.tokens.SweepExpired(ctx, app.DefaultSweepBatch)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("token sweep failed", "deleted", n, "took", took, "err", err)
		}
		return
	}
	s.log.Info("token sweep", "deleted", n, "took", took)
}
