package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// UploadOptions tune Upload; the zero value uploads with the server's conflict strategy, in
// 8 MiB parts, 4 at a time, without resume records.
type UploadOptions struct {
	// Strategy is ask, rename or overwrite ("" = the server's default, rename).
	Strategy string
	// PartSize is the size of a multipart upload's parts (at least 1 MiB; the last may be shorter).
	PartSize int64
	// Parallel is how many parts are in flight at once.
	Parallel int
	// Threshold is the size from which a file goes up in parts (default: PartSize).
	Threshold int64
	// StateDir keeps a record of each multipart upload in progress, so that an interrupted upload
	// of the same file to the same place resumes ("" = no records, no resume).
	StateDir string
	// Progress is told of the bytes sent (and of the bytes a resumed upload finds already sent).
	Progress Progress
}

const (
	defaultPartSize = 8 << 20
	minPartSize     = 1 << 20
	maxParts        = 10000
)

func (o UploadOptions) withDefaults(size int64) UploadOptions {
	if o.PartSize == 0 {
		o.PartSize = defaultPartSize
	}
	o.PartSize = max(o.PartSize, minPartSize)
	// COS allows 10000 parts: a file too big for the asked part size gets bigger parts.
	if need := (size + maxParts - 1) / maxParts; o.PartSize < need {
		o.PartSize = (need + minPartSize - 1) / minPartSize * minPartSize
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Threshold <= 0 {
		o.Threshold = o.PartSize
	}
	return o
}

// Transfer is a file that went up or down: its attributes, the bytes that crossed the network
// this time, and the bytes a resumed transfer found already in place.
type Transfer struct {
	Entry
	Moved, Resumed int64
}

// ticket is a begin-upload answer (3.1, 3.2) or a status's uploadPartInfo (3.6).
type ticket struct {
	Domain     string            `json:"domain"`
	Path       string            `json:"path"`
	UploadID   string            `json:"uploadId"`
	Headers    map[string]string `json:"headers"`
	ConfirmKey string            `json:"confirmKey"`
}

// target answers the data-endpoint URL of the ticket, or of one part when part > 0.
func (t ticket) target(part int) string {
	u := "https://" + t.Domain + t.Path
	if part > 0 {
		u += "?partNumber=" + strconv.Itoa(part) + "&uploadId=" + url.QueryEscape(t.UploadID)
	}
	return u
}

// uploadStatus is the upload task status (3.6).
type uploadStatus struct {
	Confirmed      bool     `json:"confirmed"`
	Path           []string `json:"path"`
	Parts          []part   `json:"parts"`
	UploadPartInfo *ticket  `json:"uploadPartInfo"`
}

type part struct {
	PartNumber int    `json:"PartNumber"`
	ETag       string `json:"ETag"`
	Size       int64  `json:"Size"`
}

// Upload sends the local file src to path and answers the confirmed file. A file of at least
// Threshold bytes goes up in parts, several at a time; with a StateDir, an interrupted multipart
// upload of the same file (same size and modification time) to the same path resumes from the
// parts the server holds (3.6), after checking each against the local bytes. Confirm carries the
// local crc64, so the server refuses bytes that differ (400 BadCrc64).
func (s *Space) Upload(ctx context.Context, path string, src *os.File, o UploadOptions) (Transfer, error) {
	info, err := src.Stat()
	if err != nil {
		return Transfer{}, err
	}
	size := info.Size()
	o = o.withDefaults(size)

	// The crc64 reads the file beside the transfer, not after it.
	crcDone := make(chan struct{})
	var crc string
	var crcErr error
	go func() {
		defer close(crcDone)
		crc, crcErr = crcOf(ctx, io.NewSectionReader(src, 0, size))
	}()

	var key string
	var tr Transfer
	if size < o.Threshold {
		key, err = s.uploadWhole(ctx, path, src, size, o)
		tr.Moved = size
	} else {
		key, tr.Resumed, err = s.uploadParts(ctx, path, src, info, o)
		tr.Moved = size - tr.Resumed
	}
	<-crcDone
	if err != nil {
		return Transfer{}, err
	}
	if crcErr != nil {
		return Transfer{}, crcErr
	}
	if _, err := s.call(ctx, "POST", s.url("file", key), url.Values{"confirm": {""}}, map[string]string{"crc64": crc}, &tr.Entry); err != nil {
		return Transfer{}, err
	}
	if tr.CRC64 != crc {
		return tr, fmt.Errorf("the server confirmed crc64 %s for %s, the local file has %s", tr.CRC64, path, crc)
	}
	if o.StateDir != "" {
		os.Remove(recordPath(o.StateDir, s, path, src, info))
	}
	return tr, nil
}

// uploadWhole sends the file in one PUT (3.1) and answers the confirm key.
func (s *Space) uploadWhole(ctx context.Context, path string, src *os.File, size int64, o UploadOptions) (string, error) {
	var t ticket
	q := strategyQuery(o.Strategy)
	q.Set("filesize", strconv.FormatInt(size, 10))
	if _, err := s.call(ctx, "PUT", s.url("file", path), q, nil, &t); err != nil {
		return "", err
	}
	if err := s.c.putData(ctx, t.target(0), t.Headers, src, 0, size, o.Progress); err != nil {
		return "", err
	}
	return t.ConfirmKey, nil
}

// uploadRecord is what StateDir keeps of a multipart upload in progress.
type uploadRecord struct {
	ConfirmKey string `json:"confirmKey"`
	PartSize   int64  `json:"partSize"`
}

// uploadParts runs a multipart upload (3.2), resuming a recorded one, and answers the confirm key
// and the bytes of the parts the server already held.
func (s *Space) uploadParts(ctx context.Context, path string, src *os.File, info os.FileInfo, o UploadOptions) (string, int64, error) {
	size := info.Size()
	record := ""
	if o.StateDir != "" {
		record = recordPath(o.StateDir, s, path, src, info)
	}
	t, have, partSize, err := s.resume(ctx, record)
	if err != nil {
		return "", 0, err
	}
	if t.ConfirmKey == "" {
		partSize = o.PartSize
		q := strategyQuery(o.Strategy)
		q.Set("multipart", "")
		q.Set("filesize", strconv.FormatInt(size, 10))
		if _, err := s.call(ctx, "POST", s.url("file", path), q, nil, &t); err != nil {
			return "", 0, err
		}
		if record != "" {
			if err := writeRecord(record, uploadRecord{ConfirmKey: t.ConfirmKey, PartSize: partSize}); err != nil {
				return "", 0, err
			}
		}
	}

	parts := int((size + partSize - 1) / partSize)
	var resumed atomic.Int64
	live := &liveTicket{t: t}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallel)
	for n := 1; n <= parts; n++ {
		off := int64(n-1) * partSize
		length := min(partSize, size-off)
		g.Go(func() error {
			if p, ok := have[n]; ok && p.Size == length {
				etag, err := partETag(io.NewSectionReader(src, off, length))
				if err != nil {
					return err
				}
				if `"`+etag+`"` == p.ETag || etag == p.ETag {
					resumed.Add(length)
					if o.Progress != nil {
						o.Progress(length)
					}
					return nil
				}
			}
			cur := live.get()
			err := s.c.putData(gctx, cur.target(n), cur.Headers, src, off, length, o.Progress)
			if IsStatus(err, http.StatusForbidden) {
				// The ticket's signature holds an hour (3.5): renew it and send the part again.
				if cur, err = live.renew(gctx, s, cur); err == nil {
					err = s.c.putData(gctx, cur.target(n), cur.Headers, src, off, length, o.Progress)
				}
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return "", 0, err
	}
	return t.ConfirmKey, resumed.Load(), nil
}

// liveTicket is a multipart upload's ticket as the parts in flight share it: the first part
// refused for an expired signature renews it (3.5), the others take the renewed one.
type liveTicket struct {
	mu sync.Mutex
	t  ticket
}

func (l *liveTicket) get() ticket {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.t
}

// renew answers a ticket newer than stale, renewing it unless another part has already.
func (l *liveTicket) renew(ctx context.Context, s *Space, stale ticket) (ticket, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !maps.Equal(l.t.Headers, stale.Headers) {
		return l.t, nil
	}
	var fresh ticket
	if _, err := s.call(ctx, "POST", s.url("file", l.t.ConfirmKey), url.Values{"renew": {""}}, nil, &fresh); err != nil {
		return ticket{}, err
	}
	fresh.ConfirmKey = l.t.ConfirmKey
	l.t = fresh
	return fresh, nil
}

// resume reads a record and asks the server which parts it holds (3.6). It answers a ticket with
// no confirm key when there is nothing to resume: no record, or a task the server no longer has.
func (s *Space) resume(ctx context.Context, record string) (ticket, map[int]part, int64, error) {
	if record == "" {
		return ticket{}, nil, 0, nil
	}
	data, err := os.ReadFile(record)
	if errors.Is(err, os.ErrNotExist) {
		return ticket{}, nil, 0, nil
	}
	var r uploadRecord
	if err != nil || json.Unmarshal(data, &r) != nil || r.ConfirmKey == "" || r.PartSize < minPartSize {
		os.Remove(record)
		return ticket{}, nil, 0, nil
	}
	var st uploadStatus
	_, err = s.call(ctx, "GET", s.url("file", r.ConfirmKey), url.Values{"upload": {""}}, nil, &st)
	switch {
	case IsStatus(err, http.StatusNotFound), err == nil && (st.Confirmed || st.UploadPartInfo == nil):
		// Expired, aborted, or already confirmed: start again.
		os.Remove(record)
		return ticket{}, nil, 0, nil
	case err != nil:
		return ticket{}, nil, 0, err
	}
	t := *st.UploadPartInfo
	t.ConfirmKey = r.ConfirmKey
	have := map[int]part{}
	for _, p := range st.Parts {
		have[p.PartNumber] = p
	}
	return t, have, r.PartSize, nil
}

// recordPath names the resume record of an upload: one per server, space, path and local file
// version (its absolute name, size and modification time).
func recordPath(dir string, s *Space, path string, src *os.File, info os.FileInfo) string {
	abs, err := filepath.Abs(src.Name())
	if err != nil {
		abs = src.Name()
	}
	h := sha256.New()
	for _, v := range []string{s.c.base, s.LibraryID, s.SpaceID, path, abs, strconv.FormatInt(info.Size(), 10),
		strconv.FormatInt(info.ModTime().UnixNano(), 10)} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return filepath.Join(dir, hex.EncodeToString(h.Sum(nil))[:32]+".json")
}

func writeRecord(path string, r uploadRecord) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	data, _ := json.Marshal(r)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
