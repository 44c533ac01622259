// Package workpool runs background jobs on a fixed number of goroutines with a bounded queue,
// so that a burst of requests that start background work (a directory copy answered with a
// task) cannot start a goroutine, and a database transaction, each.
//
// A job is admitted in two steps: Reserve takes a place (or answers ErrFull at once, so that the
// request can be refused before it records anything), then Run hands the job over. Close stops
// admitting, cancels the context the jobs run with, and waits until every admitted job has run:
// a job still queued then runs too, with the cancelled context, so that it can record that it
// was interrupted rather than vanish.
package workpool

import (
	"context"
	"errors"
	"sync"
)

var (
	// ErrFull answers Reserve when every worker is busy and the queue is full.
	ErrFull = errors.New("workpool: all workers busy and the queue is full")
	// ErrClosed answers Reserve once Close has begun.
	ErrClosed = errors.New("workpool: closed")
)

// Job is background work; ctx ends when the pool closes.
type Job func(ctx context.Context)

// Pool is a fixed set of workers and a bounded queue.
type Pool struct {
	ctx    context.Context
	cancel context.CancelFunc
	// places holds one token per admitted job (reserved, queued or running): workers+queue at
	// most.
	places chan struct{}
	jobs   chan Job
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	// reserved counts places taken by Reserve whose Run or Release has not come yet; Close
	// waits for them before it closes jobs.
	reserved sync.WaitGroup
}

// New starts workers goroutines (at least 1) with room for queue jobs waiting beyond them.
func New(workers, queue int) *Pool {
	workers = max(workers, 1)
	queue = max(queue, 0)
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{ctx: ctx, cancel: cancel, places: make(chan struct{}, workers+queue), jobs: make(chan Job, workers+queue)}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for job := range p.jobs {
				job(p.ctx)
				<-p.places
			}
		}()
	}
	return p
}

// Place is an admitted job's place in the pool: Run the job on it, or Release it.
type Place struct {
	pool *Pool
	once sync.Once
}

// Reserve takes a place for one job without waiting: ErrFull when there is none.
func (p *Pool) Reserve() (*Place, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	select {
	case p.places <- struct{}{}:
	default:
		return nil, ErrFull
	}
	p.reserved.Add(1)
	return &Place{pool: p}, nil
}

// Run queues job on the place; it never blocks. A place runs one job: later calls do nothing.
func (pl *Place) Run(job Job) {
	pl.once.Do(func() {
		pl.pool.jobs <- job // room is guaranteed: one slot per place
		pl.pool.reserved.Done()
	})
}

// Release gives the place back unused (the request failed before its job existed).
func (pl *Place) Release() {
	pl.once.Do(func() {
		<-pl.pool.places
		pl.pool.reserved.Done()
	})
}

// Close stops admitting jobs, cancels the jobs' context and waits until every admitted job has
// run. Places reserved before Close must still be run or released.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.reserved.Wait()
	close(p.jobs)
	p.wg.Wait()
}
