package backoff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/backoff"
)

// within checks that d is a jittered draw of step: in [step/2, step].
func within(t *testing.T, i int, d, step time.Duration) {
	t.Helper()
	if d < step/2 || d > step {
		t.Fatalf("delay %d = %v, want within [%v, %v]", i, d, step/2, step)
	}
}

func TestNextGrowsToTheCapWithinItsBounds(t *testing.T) {
	tests := []struct {
		name     string
		min, max time.Duration
	}{
		{name: "authz watch", min: 100 * time.Millisecond, max: 5 * time.Second},
		{name: "discovery re-attach", min: 200 * time.Millisecond, max: 5 * time.Second},
		{name: "authtoken follow", min: 50 * time.Millisecond, max: 2 * time.Second},
		{name: "min equals max", min: time.Second, max: time.Second},
		{name: "one nanosecond", min: 1, max: 1},
		{name: "odd steps", min: 3, max: 7},
		{name: "cap near the largest duration", min: time.Hour, max: time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backoff.New(tt.min, tt.max)
			step := tt.min
			for i := range 80 {
				within(t, i, b.Next(), step)
				if step > tt.max/2 {
					step = tt.max
				} else {
					step *= 2
				}
			}
			if step != tt.max {
				t.Fatalf("after 80 draws the step is %v, not the cap %v", step, tt.max)
			}
		})
	}
}

func TestResetStartsOverFromMin(t *testing.T) {
	const min, max = 100 * time.Millisecond, 5 * time.Second
	b := backoff.New(min, max)
	for range 10 {
		b.Next()
	}
	within(t, 10, b.Next(), max)
	b.Reset()
	within(t, 0, b.Next(), min)
	within(t, 1, b.Next(), 2*min)
}

func TestDelaysSpread(t *testing.T) {
	const max = 2 * time.Second
	b := backoff.New(max, max)
	seen := map[time.Duration]bool{}
	var lowerQuarter, upperQuarter bool
	const draws = 200
	for range draws {
		d := b.Next()
		seen[d] = true
		lowerQuarter = lowerQuarter || d < max*3/4
		upperQuarter = upperQuarter || d >= max*3/4
	}
	// Draws are nanoseconds out of a range of one second: repeats are all but impossible, and so
	// is a run of 200 on one side of the middle.
	if len(seen) < draws/2 {
		t.Errorf("%d distinct delays out of %d draws: the delays do not spread", len(seen), draws)
	}
	if !lowerQuarter || !upperQuarter {
		t.Errorf("all %d delays fell on one side of %v", draws, max*3/4)
	}
}

func TestWaitEndsWhenTheContextEnds(t *testing.T) {
	t.Run("already ended", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := backoff.New(time.Hour, time.Hour).Wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want context.Canceled", err)
		}
	})
	t.Run("ended while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- backoff.New(time.Hour, time.Hour).Wait(ctx) }()
		cancel()
		// Without the cancellation this would wait for an hour, past the test binary's timeout.
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want context.Canceled", err)
		}
	})
	t.Run("delay elapsed", func(t *testing.T) {
		if err := backoff.New(1, 1).Wait(context.Background()); err != nil {
			t.Fatalf("Wait = %v, want nil once the delay has passed", err)
		}
	})
}

func TestNewRefusesBoundsThatMakeNoSense(t *testing.T) {
	tests := []struct {
		name     string
		min, max time.Duration
	}{
		{name: "zero min", min: 0, max: time.Second},
		{name: "negative min", min: -time.Second, max: time.Second},
		{name: "max below min", min: time.Second, max: time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatalf("New(%v, %v) did not panic", tt.min, tt.max)
				}
			}()
			backoff.New(tt.min, tt.max)
		})
	}
}
