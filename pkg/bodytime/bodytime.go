// Package bodytime bounds how long a server waits for a request body, so that a client sending
// a body a byte at a time cannot hold a connection and a handler for as long as it likes. It
// uses the connection's read deadline (http.ResponseController), which unblocks a read in
// progress on HTTP/1.1 and HTTP/2 alike; a goroutine-free reader could only notice the time
// after the next byte arrived.
package bodytime

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// Rate is the slowest a body may arrive: at least Bytes in every Window.
type Rate struct {
	Bytes  int64
	Window time.Duration
}

// Reader is a request body read under a deadline. It reports how the read ended, so the handler
// can answer a body that came too slowly (Expired) or not at all (Broken) as the client's
// failure, not the server's.
type Reader struct {
	body io.ReadCloser
	rc   *http.ResponseController
	// rate.Bytes 0: the whole body within rate.Window.
	rate   Rate
	inTime int64 // bytes read in the current window

	expired, broken atomic.Bool
}

// Within answers r's body bounded to arrive in full within d (d <= 0, or no body: unbounded).
func Within(w http.ResponseWriter, r *http.Request, d time.Duration) *Reader {
	return start(w, r, Rate{Window: d})
}

// AtLeast answers r's body bounded to deliver rate.Bytes in every rate.Window; a large body
// may take as long as it needs at that pace (rate.Bytes or rate.Window <= 0: unbounded).
func AtLeast(w http.ResponseWriter, r *http.Request, rate Rate) *Reader {
	if rate.Bytes <= 0 {
		rate.Window = 0
	}
	return start(w, r, rate)
}

func start(w http.ResponseWriter, r *http.Request, rate Rate) *Reader {
	b := &Reader{body: r.Body, rate: rate}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || rate.Window <= 0 {
		// Without a body the HTTP/1.1 server watches the connection for the client going away
		// while the handler runs; a read deadline would end that watch and cancel the request.
		return b
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(rate.Window)) == nil {
		b.rc = rc
	}
	return b
}

// Abandon gives up r's body before answering without it: reads fail from now on. The server
// otherwise drains an unread body after the answer (HTTP/1.1 reads up to 256 KiB of it, to keep
// the connection), which a client sending slowly would stretch for as long as it liked; a failed
// drain closes the connection instead. Only for a body not read to its end: after the end, the
// HTTP/1.1 server watches the connection for the client going away, and a passed deadline would
// end that watch by cancelling the request.
func Abandon(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(-time.Second))
}

// Read implements io.Reader.
func (b *Reader) Read(p []byte) (int, error) {
	if b.body == nil {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if b.rc != nil && b.rate.Bytes > 0 {
		b.inTime += int64(n)
		if b.inTime >= b.rate.Bytes {
			b.inTime = 0
			_ = b.rc.SetReadDeadline(time.Now().Add(b.rate.Window))
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		// The body is complete: the deadline must not outlive it (on HTTP/2 its timer would
		// still fire; on HTTP/1.1 the server's own watch for the client going away, which a
		// deadline cancels the request from, takes the connection next).
		if b.rc != nil {
			_ = b.rc.SetReadDeadline(time.Time{})
			b.rc = nil
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.expired.Store(true)
	default:
		// The connection broke or the stream was reset: the client went away mid-body.
		b.broken.Store(true)
	}
	return n, err
}

// Close implements io.Closer.
func (b *Reader) Close() error {
	if b.body == nil {
		return nil
	}
	return b.body.Close()
}

// Expired reports whether a read failed because the body did not arrive in time.
func (b *Reader) Expired() bool { return b.expired.Load() }

// Broken reports whether a read failed because the client stopped sending: the connection
// closed or the stream was reset before the body was complete.
func (b *Reader) Broken() bool { return b.broken.Load() }
