package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opensmh/opensmh/services/smh/client"
)

// progressMode is --progress: auto draws a bar only when stderr is a terminal.
type progressMode string

func (m progressMode) enabled(w io.Writer) bool {
	switch m {
	case "always":
		return true
	case "never":
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// bar draws one transfer's progress on a terminal line: bytes, rate and time left, redrawn five
// times a second and once more at the end.
type bar struct {
	w     io.Writer
	name  string
	total int64
	done  atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

// newBar starts a bar, or answers nil (a bar that draws nothing) when disabled.
func newBar(w io.Writer, enabled bool, name string, total int64) *bar {
	if !enabled {
		return nil
	}
	b := &bar{w: w, name: name, total: total, start: time.Now(), stop: make(chan struct{})}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.draw()
			}
		}
	}()
	return b
}

// progress answers the client's Progress callback for the bar.
func (b *bar) progress() client.Progress {
	if b == nil {
		return nil
	}
	return func(n int64) { b.done.Add(n) }
}

// finish draws the last state and ends the line.
func (b *bar) finish() {
	if b == nil {
		return
	}
	close(b.stop)
	b.wg.Wait()
	b.draw()
	fmt.Fprintln(b.w)
}

func (b *bar) draw() {
	done := b.done.Load()
	elapsed := time.Since(b.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed
	}
	pct, left := 100.0, "0s"
	if b.total > 0 {
		pct = 100 * float64(done) / float64(b.total)
	}
	switch {
	case done >= b.total:
	case rate > 0:
		left = time.Duration(float64(b.total-done) / rate * float64(time.Second)).Round(time.Second).String()
	default:
		left = "?"
	}
	fmt.Fprintf(b.w, "\r%-32s %10s / %-10s %5.1f%% %10s/s  %s left\x1b[K",
		shorten(b.name, 32), humanBytes(done), humanBytes(b.total), pct, humanBytes(int64(rate)), left)
}

// humanBytes writes n in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "..." + string(r[len(r)-n+3:])
}
