package dataplane

import (
	"context"
	"io"
	"time"
)

// pacedReader serves a download at most rate bytes per second (docs/fileops.md "Traffic
// limit"): before it hands over bytes it waits until the time those bytes are due since the
// first read, so a whole body of n bytes takes at least n/rate, whatever the connection. Reads
// are cut to a quarter second's worth, so the pace is smooth rather than bursts of a buffer.
type pacedReader struct {
	ctx   context.Context
	src   io.ReadSeeker
	rate  int64
	start time.Time
	sent  int64
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if chunk := max(p.rate/4, 1); int64(len(b)) > chunk {
		b = b[:chunk]
	}
	if p.start.IsZero() {
		p.start = time.Now()
	}
	n, err := p.src.Read(b)
	if n > 0 {
		p.sent += int64(n)
		due := p.start.Add(time.Duration(float64(p.sent) / float64(p.rate) * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-p.ctx.Done():
				t.Stop()
				return n, p.ctx.Err()
			}
		}
	}
	return n, err
}

func (p *pacedReader) Seek(offset int64, whence int) (int64, error) {
	return p.src.Seek(offset, whence)
}
