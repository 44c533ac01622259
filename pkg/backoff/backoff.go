// Package backoff paces the retries of background loops (a watch reconnecting, an instance
// re-registering): the delay doubles from a minimum up to a cap, and each delay is drawn at random
// from the upper half of the current step, so that the instances that lost the same server at
// the same moment do not all come back to it in lockstep.
package backoff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/opensmh/opensmh/pkg/clock"
)

// Backoff is the retry pace of one loop. It is not safe for concurrent use: each loop owns its
// own.
type Backoff struct {
	min, max time.Duration
	// step is the delay before jitter of the next attempt; it doubles on every Next up to max.
	step time.Duration
}

// New answers a Backoff whose delays grow from min to max. The bounds are constants of the
// calling code, so bounds that make no sense (min <= 0 or max < min) are a programming error and
// panic.
func New(min, max time.Duration) *Backoff {
	if min <= 0 || max < min {
		panic(fmt.Sprintf("backoff: bounds [%v, %v] are not 0 < min <= max", min, max))
	}
	return &Backoff{min: min, max: max, step: min}
}

// Next answers the delay before the next attempt, in [step/2, step] ("equal jitter"), and
// doubles step up to max. Equal rather than full jitter (which draws from [0, step]): a loop
// retrying against a server that is down should never retry almost at once, which full jitter
// would allow at any step; half the step keeps a floor while still spreading the instances over
// the other half. Every delay thus lies in [min/2, max].
func (b *Backoff) Next() time.Duration {
	step := b.step
	if step > b.max/2 {
		b.step = b.max
	} else {
		b.step = 2 * step
	}
	half := step / 2
	return step - half + rand.N(half+1)
}

// Reset starts the growth over from min: the loop made progress (its stream was confirmed, its
// lease attached), so the next failure is a new one.
func (b *Backoff) Reset() { b.step = b.min }

// Wait sleeps for Next or until ctx ends, whichever comes first, and answers ctx.Err(): a loop
// returns when it is not nil.
func (b *Backoff) Wait(ctx context.Context) error {
	clock.Sleep(ctx, b.Next())
	return ctx.Err()
}
