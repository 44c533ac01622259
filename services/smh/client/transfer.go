package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/opensmh/opensmh/pkg/backoff"
)

// Progress is told how many bytes a transfer moved since it was last called; a failed attempt
// that is retried takes back what it had counted (a negative n).
type Progress func(n int64)

// crcTable is CRC-64/ECMA-182 as COS and SMH compute it (smh-api.md 12.4).
var crcTable = crc64.MakeTable(crc64.ECMA)

// crcOf answers the decimal crc64 of r's bytes, or ctx's error once ctx ends: an interrupted
// upload of a big file does not wait for the rest of it to be read.
func crcOf(ctx context.Context, r io.Reader) (string, error) {
	h := crc64.New(crcTable)
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return strconv.FormatUint(h.Sum64(), 10), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// chunkSize is the chunk of SMH's chained hash (smh-api.md 3.1).
const chunkSize = 1 << 20

// partETag answers the entity tag the data endpoint gives a part: the first 32 hex digits of the
// chained SHA-256 over 1 MiB chunks (the object service's hashing package), so a part the server
// holds can be checked against the local bytes without sending them.
func partETag(r io.Reader) (string, error) {
	var prev []byte
	buf := make([]byte, chunkSize)
	for first := true; ; first = false {
		n, err := io.ReadFull(r, buf)
		if n > 0 || first {
			h := sha256.New()
			h.Write(prev)
			h.Write(buf[:n])
			prev = h.Sum(nil)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(prev)[:32], nil
}

// countingReader tells a Progress of every byte read through it.
type countingReader struct {
	r        io.Reader
	progress Progress
	n        atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n.Add(int64(n))
		if c.progress != nil {
			c.progress(int64(n))
		}
	}
	return n, err
}

// takeBack undoes the count of a failed attempt.
func (c *countingReader) takeBack() {
	if n := c.n.Swap(0); n != 0 && c.progress != nil {
		c.progress(-n)
	}
}

// transferAttempts is how many times a part or a download is tried before its error is final.
const transferAttempts = 4

// retry calls attempt until it succeeds, answers final, or has been tried transferAttempts times,
// pacing the attempts with pkg/backoff (about 1, 2 and 4 s apart); it answers ctx's error once ctx
// ends.
func retry(ctx context.Context, attempt func() (final bool, err error)) error {
	pace := backoff.New(time.Second, 4*time.Second)
	var last error
	for i := range transferAttempts {
		if i > 0 {
			if err := pace.Wait(ctx); err != nil {
				return err
			}
		}
		final, err := attempt()
		if err == nil || final {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		last = err
	}
	return fmt.Errorf("after %d attempts: %w", transferAttempts, last)
}

// putData sends size bytes from body to a data-endpoint URL with exactly the headers a ticket gave
// (3.1, 3.2), retrying transport failures and 5xx answers: a part is idempotent.
func (c *Client) putData(ctx context.Context, target string, headers map[string]string, body io.ReaderAt, off, size int64, progress Progress) error {
	return retry(ctx, func() (bool, error) {
		cr := &countingReader{r: io.NewSectionReader(body, off, size), progress: progress}
		req, err := http.NewRequestWithContext(ctx, "PUT", target, cr)
		if err != nil {
			return true, err
		}
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := c.data.Do(req)
		if err != nil {
			cr.takeBack()
			return false, hideURL("PUT", "the data endpoint", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode < 300 {
			io.Copy(io.Discard, resp.Body)
			return false, nil
		}
		cr.takeBack()
		apiErr := errorOf(resp).(*Error)
		return apiErr.Status < 500, apiErr
	})
}
