package edge

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Warm runs request handlers on long-lived goroutines whose stacks have already grown
// (docs/smallfiles.md "Warm stacks").
//
// Go starts every goroutine with a small stack and, each time a call runs out of room, copies
// it to one twice the size, walking and adjusting every frame on it. HTTP/2 serves each request
// on a new goroutine, and an API request goes down the edge's layers, grpc-gateway, the
// in-process gRPC hops, a use case and SQLite (a C library translated to Go, with large frames):
// its goroutine grew three or four times, and the copies cost about a tenth of a small upload's
// CPU. Warm hands each request to a goroutine that served an earlier one, so the room it needs
// is usually there already.
//
// The serving goroutine waits until the handler returns, so the handler may use the
// ResponseWriter as if it ran there. A panic goes on up the serving goroutine: the value itself
// for http.ErrAbortHandler (net/http aborts the response without logging), any other value
// with the handler goroutine's stack in its text (net/http logs the serving goroutine's, which
// shows nothing of where it happened). A handler that ends its goroutine (runtime.Goexit) ends
// the serving goroutine too.
type Warm struct {
	// calls carries each call to a waiting goroutine; its room (cap(idle)) is never short, as a
	// call is sent only after taking an idle token.
	calls chan *warmCall
	// idle holds a token per goroutine committed to take a call from calls: at most cap(idle).
	// A goroutine puts one back before it answers its call, so the caller's next call finds it.
	idle    chan struct{}
	idleFor time.Duration
}

type warmCall struct {
	fn   func()
	done chan struct{}
	// panicked holds what fn panicked with; exited, that fn ended its goroutine.
	panicked any
	exited   bool
}

var warmCalls = sync.Pool{New: func() any { return &warmCall{done: make(chan struct{}, 1)} }}

// NewWarm keeps up to maxIdle goroutines waiting for requests, each for idleFor at most. A
// request that finds none waiting starts one: Warm never queues or refuses.
func NewWarm(maxIdle int, idleFor time.Duration) *Warm {
	maxIdle = max(maxIdle, 1)
	return &Warm{calls: make(chan *warmCall, maxIdle), idle: make(chan struct{}, maxIdle), idleFor: idleFor}
}

// Handler serves next on warm goroutines.
func (w *Warm) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.Run(func() { next.ServeHTTP(rw, r) })
	})
}

// Run runs fn on a warm goroutine and returns once fn has.
func (w *Warm) Run(fn func()) {
	c := warmCalls.Get().(*warmCall)
	c.fn = fn
	select {
	case <-w.idle:
		w.calls <- c // a goroutine that put the token is there to take it
	default:
		go w.serve(c)
	}
	<-c.done
	panicked, exited := c.panicked, c.exited
	*c = warmCall{done: c.done}
	warmCalls.Put(c)
	if panicked != nil {
		panic(panicked) // with the handler goroutine's stack in it (run)
	}
	if exited {
		runtime.Goexit()
	}
}

// serve runs c, then the calls that come while it waits, as long as there is room among the
// idle goroutines and a call comes within idleFor.
func (w *Warm) serve(c *warmCall) {
	var timer *time.Timer
	for {
		w.run(c) // returns unless fn ended this goroutine (runtime.Goexit)
		stay := false
		select {
		case w.idle <- struct{}{}:
			stay = true
		default: // enough goroutines wait already
		}
		c.done <- struct{}{}
		if !stay {
			return
		}
		if timer == nil {
			timer = time.NewTimer(w.idleFor)
		} else {
			timer.Reset(w.idleFor)
		}
		select {
		case c = <-w.calls:
			timer.Stop()
		case <-timer.C:
			select {
			case <-w.idle: // one token fewer: one goroutine fewer waits
				return
			default: // every token is taken: a call is on its way to each waiting goroutine
				c = <-w.calls
			}
		}
	}
}

// run runs c.fn and records a panic in c; when fn ends its goroutine (runtime.Goexit, which
// cannot be stopped), it answers c itself, as this goroutine ends too.
func (w *Warm) run(c *warmCall) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil {
			c.panicked = v
			if v != http.ErrAbortHandler {
				c.panicked = fmt.Sprintf("%v\n\ngoroutine serving the handler:\n%s", v, debug.Stack())
			}
			return
		}
		c.exited = true
		c.done <- struct{}{}
	}()
	c.fn()
	returned = true
}
