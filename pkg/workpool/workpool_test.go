package workpool

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestBoundedAndDrained fills a pool of 2 workers and a queue of 1: two jobs run at once and no
// more, the third waits in the queue, the fourth is refused at once; Close cancels the running
// jobs and still runs the queued one, with its context cancelled, before it returns.
func TestBoundedAndDrained(t *testing.T) {
	p := New(2, 1)
	var (
		running, peak atomic.Int32
		started       = make(chan struct{}, 3)
		mu            sync.Mutex
		ranCancelled  []bool
	)
	job := func(ctx context.Context) {
		n := running.Add(1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		started <- struct{}{}
		<-ctx.Done() // runs until the pool closes
		running.Add(-1)
		mu.Lock()
		ranCancelled = append(ranCancelled, ctx.Err() != nil)
		mu.Unlock()
	}
	for i := range 3 {
		pl, err := p.Reserve()
		if err != nil {
			t.Fatalf("reserve %d: %v", i, err)
		}
		pl.Run(job)
	}
	<-started
	<-started
	if _, err := p.Reserve(); !errors.Is(err, ErrFull) {
		t.Fatalf("reserve beyond workers and queue: %v, want ErrFull", err)
	}
	select {
	case <-started:
		t.Fatal("a third job started while two workers were busy")
	default:
	}

	p.Close()
	if got := len(ranCancelled); got != 3 {
		t.Fatalf("Close returned after %d jobs ran, want all 3", got)
	}
	for i, c := range ranCancelled {
		if !c {
			t.Fatalf("job %d ran without its context cancelled", i)
		}
	}
	if peak.Load() != 2 {
		t.Fatalf("at most %d jobs ran at once, want 2", peak.Load())
	}
	if _, err := p.Reserve(); !errors.Is(err, ErrClosed) {
		t.Fatalf("reserve after close: %v, want ErrClosed", err)
	}
}

// TestReleaseGivesThePlaceBack checks that a place given back unused lets another job in, and
// that a finished job frees its place too.
func TestReleaseGivesThePlaceBack(t *testing.T) {
	p := New(1, 0)
	defer p.Close()
	pl, err := p.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Reserve(); !errors.Is(err, ErrFull) {
		t.Fatalf("second reserve on a pool of one: %v, want ErrFull", err)
	}
	pl.Release()
	pl.Release() // a second release does nothing
	pl, err = p.Reserve()
	if err != nil {
		t.Fatalf("reserve after release: %v", err)
	}
	done := make(chan struct{})
	pl.Run(func(context.Context) { close(done) })
	<-done
	// The worker gives the place back right after the job; Reserve may race it, so wait for it
	// by reserving until it succeeds (bounded by the job having run).
	for {
		if pl, err := p.Reserve(); err == nil {
			pl.Release()
			return
		} else if !errors.Is(err, ErrFull) {
			t.Fatal(err)
		}
	}
}
