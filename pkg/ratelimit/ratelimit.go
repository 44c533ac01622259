// Package ratelimit is a small in-memory keyed token-bucket limiter: one bucket per key (a share,
// a client address, both), memory bounded by evicting idle keys and by a cap on keys. It guards
// the share visitor routes (docs/shares.md, "Share access tokens, addresses and limits; saving").
//
// Limits are per process: a split deployment with n replicas of a service lets a client n times
// the rate in the worst case. That is the intended trade: no shared state on the hot path, and
// the limits are there to make guessing and scraping slow, not to meter.
package ratelimit

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opensmh/opensmh/pkg/clock"
)

// Rate is a sustained rate (Events per Per) with a bucket of Burst events. Events ≤ 0 means no
// limit. It is a pflag.Value written "EVENTS/PER[,BURST]", e.g. "10/1m" or "20/1s,200", or "off".
type Rate struct {
	Events int
	Per    time.Duration
	// Burst is how many events may come at once after a quiet spell; < 1 means Events.
	Burst int
}

// Unlimited reports whether r limits nothing.
func (r Rate) Unlimited() bool { return r.Events <= 0 || r.Per <= 0 }

func (r Rate) burst() int {
	if r.Burst < 1 {
		return max(r.Events, 1)
	}
	return r.Burst
}

// String implements pflag.Value.
func (r Rate) String() string {
	if r.Unlimited() {
		return "off"
	}
	return fmt.Sprintf("%d/%s,%d", r.Events, r.Per, r.burst())
}

// Set implements pflag.Value.
func (r *Rate) Set(s string) error {
	p, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = p
	return nil
}

// Type implements pflag.Value.
func (*Rate) Type() string { return "rate" }

// ParseRate reads "EVENTS/PER[,BURST]" ("10/1m", "20/1s,200") or "off".
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Rate{}, nil
	}
	spec, burstText, hasBurst := strings.Cut(s, ",")
	eventsText, perText, ok := strings.Cut(spec, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want EVENTS/PER[,BURST], e.g. 20/1s,200", s)
	}
	events, err := strconv.Atoi(eventsText)
	if err != nil || events < 1 {
		return Rate{}, fmt.Errorf("rate %q: events must be a positive integer", s)
	}
	per, err := time.ParseDuration(perText)
	if err != nil || per <= 0 {
		return Rate{}, fmt.Errorf("rate %q: period must be a positive duration such as 1s or 1m", s)
	}
	r := Rate{Events: events, Per: per}
	if hasBurst {
		if r.Burst, err = strconv.Atoi(burstText); err != nil || r.Burst < 1 {
			return Rate{}, fmt.Errorf("rate %q: burst must be a positive integer", s)
		}
	}
	return r, nil
}

// DefaultMaxKeys bounds the buckets of one limiter unless WithMaxKeys says otherwise: about
// 100 bytes each, some 10 MB at most.
const DefaultMaxKeys = 100_000

// Limiter is a keyed token bucket. The zero of *Limiter (nil) allows everything, as does a
// limiter built with an unlimited Rate. Safe for concurrent use.
type Limiter struct {
	perEvent time.Duration // time to earn one event
	burst    float64
	// fullAfter is how long a bucket takes to refill from empty: a key idle that long holds a
	// full bucket, which is the same as no bucket, so forgetting it loses nothing.
	fullAfter time.Duration
	maxKeys   int
	clock     clock.Clock

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// Option tunes a Limiter.
type Option func(*Limiter)

// WithClock replaces the wall clock (tests).
func WithClock(c clock.Clock) Option { return func(l *Limiter) { l.clock = c } }

// WithMaxKeys caps the buckets held at once (default DefaultMaxKeys).
func WithMaxKeys(n int) Option { return func(l *Limiter) { l.maxKeys = max(n, 1) } }

// New answers a limiter of r, or nil (allow everything) when r is unlimited.
func New(r Rate, opts ...Option) *Limiter {
	if r.Unlimited() {
		return nil
	}
	l := &Limiter{
		perEvent: r.Per / time.Duration(r.Events),
		burst:    float64(r.burst()),
		maxKeys:  DefaultMaxKeys,
		clock:    clock.Real{},
		buckets:  make(map[string]*bucket),
	}
	if l.perEvent <= 0 {
		l.perEvent = time.Nanosecond
	}
	l.fullAfter = time.Duration(l.burst * float64(l.perEvent))
	for _, o := range opts {
		o(l)
	}
	l.lastSweep = l.clock.Now()
	return l
}

// Allow spends one event of key's bucket and reports whether there was one.
func (l *Limiter) Allow(key string) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	b := l.refill(key, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Available reports whether key's bucket holds an event, without spending it. A use that spends
// only on failure (a wrong extraction code) asks Available first and calls Allow after the
// failure.
func (l *Limiter) Available(key string) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return true
	}
	return l.level(b, l.clock.Now()) >= 1
}

// Len answers how many keys hold a bucket (tests, metrics).
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (l *Limiter) level(b *bucket, now time.Time) float64 {
	elapsed := now.Sub(b.at)
	if elapsed <= 0 {
		return b.tokens
	}
	return min(l.burst, b.tokens+float64(elapsed)/float64(l.perEvent))
}

// refill answers key's bucket brought up to now, creating it full when missing. Called with mu.
func (l *Limiter) refill(key string, now time.Time) *bucket {
	if b, ok := l.buckets[key]; ok {
		b.tokens, b.at = l.level(b, now), now
		return b
	}
	l.makeRoom(now)
	b := &bucket{tokens: l.burst, at: now}
	l.buckets[key] = b
	return b
}

// makeRoom keeps the map under maxKeys: buckets full again are dropped (at most once per
// refill time, or whenever the cap is reached), and if every bucket is still in use an arbitrary
// one goes. Dropping a bucket in use gives that key a fresh burst; that only happens when more
// than maxKeys keys were active within one refill time, which a single client cannot arrange
// without as many addresses.
func (l *Limiter) makeRoom(now time.Time) {
	full := len(l.buckets) >= l.maxKeys
	if !full && now.Sub(l.lastSweep) < l.fullAfter {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.at) >= l.fullAfter {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.maxKeys {
			break
		}
		delete(l.buckets, k)
	}
}

// AddressKey is the part of a client address a limit should count: the address itself for IPv4,
// its /64 for IPv6 (one subscriber usually holds a whole /64 and can pick any address in it).
// Text that is not an address is answered unchanged.
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}

// Key joins parts into one bucket key; parts cannot run into each other.
func Key(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

// ErrLimited is for callers that want a sentinel to map to 429 (each service maps it to its own
// SMH error).
var ErrLimited = errors.New("rate limit exceeded")
