package edge

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// goroutineID reads the running goroutine's number from its stack header.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return string(bytes.Fields(buf)[1])
}

// TestWarmReusesGoroutines: calls one after another run on one goroutine that is not the
// caller's, each returning only once its function has; concurrent calls all run, and no more
// goroutines than maxIdle stay waiting.
func TestWarmReusesGoroutines(t *testing.T) {
	w := NewWarm(4, time.Minute)
	caller := goroutineID()
	seen := map[string]bool{}
	for range 20 {
		var ran string
		w.Run(func() { time.Sleep(time.Millisecond); ran = goroutineID() })
		if ran == "" {
			t.Fatal("Run returned before its function did")
		}
		if ran == caller {
			t.Fatal("the function ran on the caller's goroutine")
		}
		seen[ran] = true
	}
	if len(seen) != 1 {
		t.Fatalf("20 calls one after another ran on %d goroutines, want 1", len(seen))
	}

	var (
		wg      sync.WaitGroup
		running atomic.Int32
		peak    atomic.Int32
	)
	release := make(chan struct{})
	for range 16 {
		wg.Go(func() {
			w.Run(func() {
				n := running.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				<-release
				running.Add(-1)
			})
		})
	}
	for peak.Load() < 16 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := len(w.idle); n > 4 {
		t.Fatalf("%d goroutines wait for calls, want at most 4", n)
	}
}

// TestWarmIdleGoroutinesLeave: a goroutine that gets no call within idleFor ends.
func TestWarmIdleGoroutinesLeave(t *testing.T) {
	w := NewWarm(8, 20*time.Millisecond)
	w.Run(func() {})
	if len(w.idle) != 1 {
		t.Fatalf("%d goroutines wait after a call, want 1", len(w.idle))
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(w.idle) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the idle goroutine never left")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWarmPanics: a handler's panic goes on up the caller's goroutine, http.ErrAbortHandler as
// itself and any other value with the handler goroutine's stack; the pool keeps serving.
func TestWarmPanics(t *testing.T) {
	w := NewWarm(2, time.Minute)
	recovered := func(fn func()) (v any) {
		defer func() { v = recover() }()
		w.Run(fn)
		return nil
	}
	if v := recovered(func() { panic(http.ErrAbortHandler) }); v != http.ErrAbortHandler {
		t.Fatalf("ErrAbortHandler came back as %v", v)
	}
	v := recovered(func() { panicInHandler() })
	s, ok := v.(string)
	if !ok || !strings.Contains(s, "broken handler") || !strings.Contains(s, "panicInHandler") {
		t.Fatalf("a panic came back as %#v, want its value and the handler's stack", v)
	}
	ran := false
	w.Run(func() { ran = true })
	if !ran {
		t.Fatal("the pool stopped serving after a panic")
	}
}

func panicInHandler() { panic("broken handler") }

// TestWarmGoexit: a handler that ends its goroutine (as t.FailNow does) ends the caller's too,
// and the pool goes on serving.
func TestWarmGoexit(t *testing.T) {
	w := NewWarm(2, time.Minute)
	returned := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(runtime.Goexit)
		returned = true
	}()
	<-done
	if returned {
		t.Fatal("Run returned after its function ended its goroutine")
	}
	ran := false
	w.Run(func() { ran = true })
	if !ran {
		t.Fatal("the pool stopped serving")
	}
}

// TestWarmHandlerServes: a handler served through Warm writes its response as it would have
// directly.
func TestWarmHandlerServes(t *testing.T) {
	h := NewWarm(2, time.Minute).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("short and stout"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/x", nil))
	if rec.Code != http.StatusTeapot || rec.Header().Get("X-Path") != "/api/v1/x" || rec.Body.String() != "short and stout" {
		t.Fatalf("got %d %v %q", rec.Code, rec.Header(), rec.Body.String())
	}
}
