package ratelimit_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/ratelimit"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func allowed(l *ratelimit.Limiter, key string, n int) int {
	got := 0
	for range n {
		if l.Allow(key) {
			got++
		}
	}
	return got
}

func TestBucket(t *testing.T) {
	clk := clock.NewFake(t0)
	l := ratelimit.New(ratelimit.Rate{Events: 20, Per: time.Second, Burst: 200}, ratelimit.WithClock(clk))
	if got := allowed(l, "a", 500); got != 200 {
		t.Fatalf("burst allowed %d, want 200", got)
	}
	if l.Allow("a") || l.Available("a") {
		t.Fatal("empty bucket allowed an event")
	}
	if allowed(l, "b", 1) != 1 {
		t.Fatal("another key shares the bucket")
	}
	clk.Advance(time.Second)
	if got := allowed(l, "a", 100); got != 20 {
		t.Fatalf("after a second %d allowed, want 20", got)
	}
	clk.Advance(time.Hour)
	if got := allowed(l, "a", 500); got != 200 {
		t.Fatalf("after a long pause %d allowed, want the burst of 200 (not more)", got)
	}
}

// TestSpendOnFailure: the wrong-code pattern, Available before trying and Allow after a failure.
func TestSpendOnFailure(t *testing.T) {
	clk := clock.NewFake(t0)
	l := ratelimit.New(ratelimit.DefaultShareLimits().WrongCodes, ratelimit.WithClock(clk))
	for i := range 10 {
		if !l.Available("addr") {
			t.Fatalf("refused after %d failures", i)
		}
		l.Allow("addr")
	}
	if l.Available("addr") {
		t.Fatal("an eleventh wrong code within the minute is allowed")
	}
	if !l.Available("other") || l.Len() != 1 {
		t.Fatal("Available created a bucket or refused an unknown key")
	}
	clk.Advance(6 * time.Second) // one event per six seconds
	if !l.Available("addr") {
		t.Fatal("the bucket does not refill")
	}
}

func TestUnlimited(t *testing.T) {
	for _, r := range []ratelimit.Rate{{}, {Events: 5}, {Per: time.Second}} {
		l := ratelimit.New(r)
		if l != nil || allowed(l, "k", 1000) != 1000 || !l.Available("k") || l.Len() != 0 {
			t.Errorf("%+v limits", r)
		}
	}
}

// TestMemoryBounded: keys idle long enough to be full again are dropped, and the cap holds under
// a flood of new keys.
func TestMemoryBounded(t *testing.T) {
	clk := clock.NewFake(t0)
	l := ratelimit.New(ratelimit.Rate{Events: 1, Per: time.Second, Burst: 5}, ratelimit.WithClock(clk), ratelimit.WithMaxKeys(1000))
	for i := range 500 {
		l.Allow(fmt.Sprint("idle", i))
	}
	clk.Advance(5 * time.Second) // every bucket full again
	l.Allow("fresh")
	if got := l.Len(); got != 1 {
		t.Fatalf("%d keys held after the idle ones refilled, want 1", got)
	}
	for i := range 5000 {
		l.Allow(fmt.Sprint("flood", i))
		if l.Len() > 1000 {
			t.Fatalf("%d keys held, cap 1000", l.Len())
		}
	}
}

// TestConcurrent: under -race, many goroutines on few keys never get more than the burst.
func TestConcurrent(t *testing.T) {
	l := ratelimit.New(ratelimit.Rate{Events: 1, Per: time.Hour, Burst: 50}, ratelimit.WithMaxKeys(4))
	var ok [4]atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				k := (g + i) % 4
				if l.Allow(fmt.Sprint("k", k)) {
					ok[k].Add(1)
				}
				l.Available(fmt.Sprint("k", k))
			}
		})
	}
	wg.Wait()
	for k := range ok {
		if got := ok[k].Load(); got != 50 {
			t.Errorf("key %d allowed %d, want exactly the burst of 50", k, got)
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want ratelimit.Rate
		bad  bool
	}{
		{in: "10/1m", want: ratelimit.Rate{Events: 10, Per: time.Minute}},
		{in: "20/1s,200", want: ratelimit.Rate{Events: 20, Per: time.Second, Burst: 200}},
		{in: "off"},
		{in: "0"},
		{in: "10", bad: true},
		{in: "-1/1s", bad: true},
		{in: "1/0s", bad: true},
		{in: "1/s", bad: true},
		{in: "1/1s,0", bad: true},
		{in: "1/1s,x", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ratelimit.ParseRate(tt.in)
			if (err != nil) != tt.bad || got != tt.want {
				t.Errorf("ParseRate = %+v, %v", got, err)
			}
		})
	}
	if s := (ratelimit.Rate{Events: 20, Per: time.Second, Burst: 200}).String(); s != "20/1s,200" {
		t.Errorf("String = %q", s)
	}
}

func TestShareLimitFlags(t *testing.T) {
	var nilLimits *ratelimit.ShareLimits
	if nilLimits.OrDefault() != ratelimit.DefaultShareLimits() {
		t.Error("nil limits are not the defaults")
	}
	limits := ratelimit.DefaultShareLimits()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	limits.AddFlags(fs)
	if f := fs.Lookup("share-visit-limit"); f == nil || f.DefValue != "20/1s,200" {
		t.Fatalf("visit flag default %v", f)
	}
	if f := fs.Lookup("share-visit-total-limit"); f == nil || f.DefValue != "200/1s,2000" {
		t.Fatalf("per-share visit flag default %v", f)
	}
	if err := fs.Parse([]string{"--share-wrong-code-limit=1000/1m", "--share-visit-limit=off", "--share-visit-total-limit=5/1s"}); err != nil {
		t.Fatal(err)
	}
	if limits.WrongCodes != (ratelimit.Rate{Events: 1000, Per: time.Minute}) || !limits.Visits.Unlimited() ||
		limits.ShareVisits != (ratelimit.Rate{Events: 5, Per: time.Second}) {
		t.Errorf("parsed %+v", limits)
	}
}

// TestShareVisitors: a share's visitors are bounded per address and, all addresses together,
// per share; a request its address may not make spends nothing of the share's budget.
func TestShareVisitors(t *testing.T) {
	clk := clock.NewFake(t0)
	v := ratelimit.NewShareVisitors(ratelimit.ShareLimits{
		Visits:      ratelimit.Rate{Events: 1, Per: time.Second, Burst: 3},
		ShareVisits: ratelimit.Rate{Events: 1, Per: time.Second, Burst: 5},
	}, ratelimit.WithClock(clk))
	count := func(share, addr string, n int) int {
		got := 0
		for range n {
			if v.Allow(share, addr) {
				got++
			}
		}
		return got
	}
	if got := count("s1", "192.0.2.1", 10); got != 3 {
		t.Fatalf("one address got %d, want its burst of 3", got)
	}
	if got := count("s1", "192.0.2.2", 10); got != 2 {
		t.Fatalf("a second address got %d, want the 2 left of the share's 5", got)
	}
	if got := count("s1", "192.0.2.3", 10); got != 0 {
		t.Fatalf("a third address got %d of an exhausted share", got)
	}
	if got := count("s2", "192.0.2.3", 10); got != 3 {
		t.Fatalf("another share got %d, want 3: shares do not share budgets", got)
	}
	clk.Advance(time.Second)
	if got := count("s1", "192.0.2.4", 10); got != 1 {
		t.Fatalf("after a second the share allowed %d, want 1", got)
	}
	off := ratelimit.NewShareVisitors(ratelimit.ShareLimits{})
	for range 1000 {
		if !off.Allow("s", "192.0.2.1") {
			t.Fatal("limits off refused a visit")
		}
	}
}

func TestKeys(t *testing.T) {
	if ratelimit.Key("a:b", "c") == ratelimit.Key("a", "b:c") {
		t.Error("keys run into each other")
	}
	tests := map[string]string{
		"198.51.100.7":         "198.51.100.7",
		"::ffff:198.51.100.7":  "198.51.100.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"":                     "",
	}
	for in, want := range tests {
		if got := ratelimit.AddressKey(in); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", in, got, want)
		}
	}
}
