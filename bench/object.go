package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/spf13/afero"

	"github.com/opensmh/opensmh/services/object"
	"github.com/opensmh/opensmh/services/smh/server"
)

// The object-service measurements (h)-(k), once per blob store: the data dir, and S3 (gofakes3
// in this process, over TLS, with its file-backed backend).

const (
	// blockSize is the length of the random block the big transfers repeat.
	blockSize = 1 << 20
	// cycleSize is the file size of (i)'s begin+PUT+confirm cycles and of (k)'s downloads.
	cycleSize = 4 << 10
	// downloadFiles is how many files (k) downloads in turn: each a different cycleSize slice of
	// the random block, so a mixed-up answer shows.
	downloadFiles = blockSize / cycleSize
	// downloadRounds is how many times (k) alternates its baseline and its downloads.
	downloadRounds = 2
	// s3PartSize is the part size of the S3 blob store (services/object/internal/blob), which the
	// S3 baseline uses too.
	s3PartSize = 16 << 20
	// bigTimeout bounds one big transfer.
	bigTimeout = 10 * time.Minute
	mib        = 1 << 20
)

// objectOptions are the flags of (h)-(k).
type objectOptions struct {
	d      time.Duration
	c      int    // concurrent clients of (i) and (k)
	only   string // letters
	stores string // "dir", "s3" or both
	size   int64  // (h) and (j) on the data dir
	s3Size int64  // (h) on S3
	rounds int    // alternating rounds of (h)
}

// runObject runs (h)-(k) on each selected blob store, each on an all-in-one of its own.
func runObject(ctx context.Context, o objectOptions) error {
	ran := false
	if strings.Contains(o.stores, "dir") {
		ran = true
		in, err := startInstance(ctx, "", o.c)
		if err != nil {
			return err
		}
		fmt.Printf("blob store: data dir (own all-in-one, fsync on, baseline files in the same data dir)\n\n")
		err = benchObject(in, o, "data dir", o.size, nil)
		in.stop()
		if err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
	}
	if strings.Contains(o.stores, "s3") {
		ran = true
		if err := benchS3(ctx, o); err != nil {
			return fmt.Errorf("s3: %w", err)
		}
	}
	if !ran {
		return fmt.Errorf("-blobs %q names no blob store (dir, s3)", o.stores)
	}
	return nil
}

// benchS3 starts gofakes3 and an all-in-one storing its blobs there.
func benchS3(ctx context.Context, o objectOptions) error {
	fake, err := startFakeS3()
	if err != nil {
		return err
	}
	defer fake.stop()
	cfg := &object.S3Config{
		Endpoint: fake.endpoint, Bucket: "opensmh-bench", AccessKey: "bench-access", SecretKey: "bench-secret",
		Secure: true, Transport: fake.srv.Client().Transport, CreateBucket: true,
	}
	in, err := startInstanceWith(ctx, o.c, func(opts *server.Options) { opts.S3 = cfg })
	if err != nil {
		return err
	}
	defer in.stop()
	raw, err := newS3Sink(cfg)
	if err != nil {
		return err
	}
	fmt.Printf("blob store: S3 (own all-in-one; gofakes3 in this process over TLS, file-backed s3afero backend in a temp dir)\n\n")
	// gofakes3's multipart uploader (not its backend) keeps every part of an upload in memory and
	// concatenates them at completion, so (h) uses a smaller file here, and (j) is not measured.
	return benchObject(in, o, "S3", o.s3Size, raw)
}

// benchObject runs (h)-(k) on one instance. s3 is the S3 baseline's sink (nil on the data dir).
func benchObject(in *instance, o objectOptions, store string, size int64, s3 *s3Sink) error {
	api := newObjAPI(in)
	only := o.only
	if s3 != nil && strings.Contains(only, "j") {
		fmt.Printf("(j) not measured on S3: gofakes3 runs in this process and holds multipart parts in memory\n\n")
		only = strings.ReplaceAll(only, "j", "")
	}
	if strings.ContainsAny(only, "hj") {
		if err := bigTransfers(api, store, size, o.rounds, only, s3); err != nil {
			return err
		}
	}
	if strings.Contains(only, "i") {
		if err := uploadCycles(api, store, o.d, o.c); err != nil {
			return err
		}
	}
	if strings.Contains(only, "k") {
		if err := smallDownloads(api, store, o.d, o.c); err != nil {
			return err
		}
	}
	return nil
}

// objAPI addresses the file endpoints of an instance's library (single space "-").
type objAPI struct {
	*instance
	// big carries the big transfers: no overall timeout (bigTimeout per request instead), and
	// redirects are not followed, so the 302 of a download is seen and timed.
	big *http.Client
}

func newObjAPI(in *instance) objAPI {
	return objAPI{instance: in, big: &http.Client{
		Transport:     in.client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// fileURL answers the URL of a file (plain ASCII names here) with the token and query.
func (a objAPI) fileURL(name string, kv ...string) string {
	q := url.Values{"access_token": {a.token}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return a.srv.URL + "/api/v1/file/" + a.libraryID + "/-/" + name + "?" + q.Encode()
}

// ticket is the answer of a begin call (SMH API 3.1).
type ticket struct {
	Domain     string            `json:"domain"`
	Path       string            `json:"path"`
	Headers    map[string]string `json:"headers"`
	ConfirmKey string            `json:"confirmKey"`
}

func (a objAPI) begin(name string, kv ...string) (ticket, error) {
	body, err := a.do("PUT", a.fileURL(name, kv...), nil, http.StatusCreated)
	if err != nil {
		return ticket{}, err
	}
	var t ticket
	if err := json.Unmarshal(body, &t); err != nil || t.ConfirmKey == "" || t.Domain == "" {
		return ticket{}, fmt.Errorf("begin %s: bad ticket %.200s (%v)", name, body, err)
	}
	return t, nil
}

// send PUTs size bytes from body to the ticket's target with its headers and answers the
// protocol the response came over.
func (a objAPI) send(client *http.Client, t ticket, body io.Reader, size int64) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), bigTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "PUT", "https://"+t.Domain+t.Path, body)
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	return roundTrip(client, req, http.StatusOK)
}

// confirm confirms an upload, checking the crc64 as SMH clients do, and answers the file's size.
func (a objAPI) confirm(key, crc string) (int64, error) {
	body, err := a.do("POST", a.fileURL(key, "confirm", ""), map[string]string{"crc64": crc}, http.StatusOK)
	if err != nil {
		return 0, err
	}
	var f struct{ Size, CRC64 string }
	if err := json.Unmarshal(body, &f); err != nil {
		return 0, err
	}
	if f.CRC64 != crc {
		return 0, fmt.Errorf("confirm: crc64 %s, want %s", f.CRC64, crc)
	}
	return strconv.ParseInt(f.Size, 10, 64)
}

// roundTrip sends req, drains the response and answers its protocol, or an error unless the
// status is want.
func roundTrip(client *http.Client, req *http.Request, want int) (string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != want {
		return "", fmt.Errorf("%s %s: status %d: %.200s", req.Method, req.URL.Path, resp.StatusCode, out)
	}
	return resp.Proto, nil
}

// get GETs u and streams the body through check; it answers the response, whose body is read.
func get(ctx context.Context, client *http.Client, u string, want int, check io.Writer) (*http.Response, int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return nil, 0, fmt.Errorf("GET %s: status %d: %.200s", req.URL.Path, resp.StatusCode, out)
	}
	n, err := io.Copy(check, resp.Body)
	return resp, n, err
}

// getInto GETs u (200 expected) and reads its body into buf, which must be longer than any
// body expected: it answers the bytes read.
func getInto(ctx context.Context, client *http.Client, u string, buf []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	n, err := io.ReadFull(resp.Body, buf)
	switch {
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: status %d: %.200s", req.URL.Path, resp.StatusCode, buf[:n])
	case err == nil:
		return nil, fmt.Errorf("GET %s: a body longer than %d bytes", req.URL.Path, len(buf)-1)
	case err != io.ErrUnexpectedEOF && err != io.EOF:
		return nil, err
	}
	return buf[:n], nil
}

// stream is n bytes of a random block repeated: a fast deterministic source whose memory does
// not grow with n.
type stream struct {
	block []byte
	n     int64
	off   int64
	// sent is when the last byte was handed to the HTTP client (UnixNano; the transport reads
	// the body on a goroutine of its own).
	sent atomic.Int64
}

// sinceSent answers how long ago the last byte was handed over.
func (s *stream) sinceSent() time.Duration { return time.Since(time.Unix(0, s.sent.Load())) }

func newBlock() []byte {
	b := make([]byte, blockSize)
	r := rand.NewChaCha8([32]byte{'o', 'p', 'e', 'n', 's', 'm', 'h'})
	_, _ = r.Read(b)
	return b
}

func (s *stream) Read(p []byte) (int, error) {
	if s.off >= s.n {
		return 0, io.EOF
	}
	i := int(s.off % int64(len(s.block)))
	k := copy(p[:min(int64(len(p)), s.n-s.off)], s.block[i:])
	s.off += int64(k)
	if s.off == s.n {
		s.sent.Store(time.Now().UnixNano())
	}
	return k, nil
}

// checker is a writer that compares what it is given with the stream's bytes (memcmp, cheap
// next to TLS) and discards it.
type checker struct {
	block []byte
	off   int64
}

func (c *checker) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := int(c.off % int64(len(c.block)))
		k := min(len(p), len(c.block)-i)
		if !bytes.Equal(p[:k], c.block[i:i+k]) {
			return 0, fmt.Errorf("downloaded bytes differ from the uploaded ones near offset %d", c.off)
		}
		p, c.off = p[k:], c.off+int64(k)
	}
	return n, nil
}

// crcOf answers the decimal CRC-64/ECMA of n bytes of the block repeated, as confirm checks it.
func crcOf(block []byte, n int64) string {
	table := crc64.MakeTable(crc64.ECMA)
	var crc uint64
	for n > 0 {
		k := min(n, int64(len(block)))
		crc = crc64.Update(crc, table, block[:k])
		n -= k
	}
	return strconv.FormatUint(crc, 10)
}

// sink is where a baseline server puts and gets bytes: a file on disk, or an S3 object.
type sink interface {
	put(ctx context.Context, name string, r io.Reader, size int64) error
	// serve writes the object named to w (http.ServeContent for a file).
	serve(w http.ResponseWriter, r *http.Request, name string)
	remove(name string)
}

// fileSink writes each body to a new file in dir, fsyncs it at the end and renames it into place,
// as the blob store does.
// With hash set it also runs the digests the object service computes while receiving (CRC-64/ECMA
// and SHA-256) on the bytes, in the request's goroutine (the service hashes beside the writing
// instead), and keeps its file apart.
type fileSink struct {
	dir  string
	hash bool
}

func (f fileSink) path(name string) string {
	if f.hash {
		name += ".hashed"
	}
	return filepath.Join(f.dir, name)
}

// digests is CRC-64/ECMA and SHA-256 over what is written to it.
type digests struct {
	sha256 hash.Hash
	table  *crc64.Table
	crc    uint64
}

func (d *digests) Write(p []byte) (int, error) {
	d.sha256.Write(p)
	d.crc = crc64.Update(d.crc, d.table, p)
	return len(p), nil
}

func (f fileSink) put(_ context.Context, name string, r io.Reader, _ int64) error {
	// A new file each time, renamed into place, as the blob store writes every blob: rewriting
	// one file in place would reuse its blocks, which a store of immutable blobs never does.
	out, err := os.CreateTemp(f.dir, ".put-*")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name()) // nothing left after the rename
	if f.hash {
		r = io.TeeReader(r, &digests{sha256: sha256.New(), table: crc64.MakeTable(crc64.ECMA)})
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(out.Name(), f.path(name))
}

func (f fileSink) serve(w http.ResponseWriter, r *http.Request, name string) {
	in, err := os.Open(f.path(name))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", fi.ModTime(), in)
}

func (f fileSink) remove(name string) { _ = os.Remove(f.path(name)) }

// s3Sink puts and gets objects with minio-go, as the S3 blob store does (same part size, one
// upload thread), in the same bucket under baseline/.
type s3Sink struct {
	client *minio.Client
	bucket string
}

func newS3Sink(cfg *object.S3Config) (*s3Sink, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: cfg.Secure,
		Transport: cfg.Transport, Region: "us-east-1", BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, err
	}
	return &s3Sink{client: client, bucket: cfg.Bucket}, nil
}

func (s *s3Sink) put(ctx context.Context, name string, r io.Reader, size int64) error {
	_, err := s.client.PutObject(ctx, s.bucket, "baseline/"+name, r, size, minio.PutObjectOptions{PartSize: s3PartSize, NumThreads: 1})
	return err
}

func (s *s3Sink) serve(w http.ResponseWriter, r *http.Request, name string) {
	obj, err := s.client.GetObject(r.Context(), s.bucket, "baseline/"+name, minio.GetObjectOptions{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	_, _ = io.Copy(w, obj)
}

func (s *s3Sink) remove(name string) {
	_ = s.client.RemoveObject(context.Background(), s.bucket, "baseline/"+name, minio.RemoveObjectOptions{})
}

// baseline is a plain Go HTTPS server (net/http + crypto/tls with the all-in-one's own TLS
// config, so the client negotiates the same protocol) that only moves bytes between the
// request or response body and its sink.
type baseline struct {
	url  string
	http *http.Server
}

func startBaseline(tlsConfig *tls.Config, s sink) (*baseline, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /b/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := s.put(r.Context(), r.PathValue("name"), r.Body, r.ContentLength); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /b/{name}", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, r.PathValue("name")) })
	cfg := tlsConfig.Clone()
	// The same server settings as the all-in-one's (services/smh/server).
	srv := &http.Server{Handler: mux, TLSConfig: cfg, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(tls.NewListener(lis, cfg)) }()
	return &baseline{url: "https://" + lis.Addr().String(), http: srv}, nil
}

func (b *baseline) stop() { _ = b.http.Close() }

// transfer is one timed upload or download.
type transfer struct {
	took  time.Duration
	proto string
	rss   *rssGrowth // nil unless sampled
	// tail is how long the answer took after the client sent the last byte of an upload: what the
	// server still had to do then (finish writing, fsync, records).
	tail time.Duration
	// OpenSMH's steps: begin and confirm of an upload, the 302 of a download.
	begin, confirm, redirect time.Duration
}

func mbps(size int64, d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }

// contender is one way of moving the bytes of (h): a plain server, or OpenSMH.
type contender struct {
	label, note string
	targeted    bool // the ratio to it is held against the target
	upload      func(ctx context.Context, body *stream) (transfer, error)
	download    func(ctx context.Context, check *checker) (transfer, error) // nil: upload only
	ups, downs  []transfer
}

// best answers the fastest of ts: on a shared machine the fastest run is the one least disturbed.
func best(ts []transfer) transfer {
	b := ts[0]
	for _, t := range ts[1:] {
		if t.took < b.took {
			b = t
		}
	}
	return b
}

// worstRSS answers the largest growth of ts (nil if none was sampled).
func worstRSS(ts []transfer) *rssGrowth {
	var w *rssGrowth
	for _, t := range ts {
		if t.rss != nil && (w == nil || t.rss.peak-t.rss.before > w.peak-w.before) {
			w = t.rss
		}
	}
	return w
}

// bigTransfers prints (h) and, on the data dir, (j): rounds of one upload per contender, then one
// download per contender, so that the contenders of a round see the same machine.
func bigTransfers(a objAPI, store string, size int64, rounds int, only string, s3 *s3Sink) error {
	block := newBlock()
	crc := crcOf(block, size) // untimed
	baseDir := filepath.Join(a.dir, "baseline")
	if err := os.MkdirAll(baseDir, 0o700); err != nil {
		return err
	}
	measureRSS := store == "data dir" && strings.Contains(only, "j")
	reportH := strings.Contains(only, "h")
	name := fmt.Sprintf("bench-%dMiB.bin", size/mib)

	// The plain servers: the baseline, on the same disk; with the data dir a diagnostic one that
	// also runs OpenSMH's three hashes on the bytes; with S3 one that passes them to the same S3.
	// The target holds against the server writing where OpenSMH writes: the file on the data dir,
	// S3 on S3 (where plain -> file shows what the fake S3 itself costs).
	type plainSink struct {
		label, note string
		sink        sink
		uploadOnly  bool
		targeted    bool
	}
	var sinks []plainSink
	if reportH {
		sinks = append(sinks, plainSink{"plain -> file", "fsync at the end", fileSink{dir: baseDir}, false, s3 == nil})
		if s3 == nil {
			sinks = append(sinks, plainSink{"plain+hashes -> file", "diagnostic: also CRC64 and SHA-256, as OpenSMH, on the receiving goroutine",
				fileSink{dir: baseDir, hash: true}, true, false})
		} else {
			sinks = append(sinks, plainSink{"plain -> S3", "minio-go as the S3 blob store uses it", s3, false, true})
		}
	}
	// Every contender stores each round's upload under a name of its own and keeps it until the
	// end, as the blob store keeps each blob: writing over the last round's file would add its
	// deletion to the timed work of the plain servers only.
	round := 0
	roundName := func() string { return fmt.Sprintf("%s-%d", name, round) }
	var contenders []*contender
	for _, s := range sinks {
		srv, err := startBaseline(a.srv.TLSConfig, s.sink)
		if err != nil {
			return err
		}
		defer srv.stop()
		defer func() {
			for r := 0; r <= rounds; r++ {
				s.sink.remove(fmt.Sprintf("%s-%d", name, r))
			}
		}()
		if _, _, err := get(context.Background(), a.big, srv.url+"/b/absent", http.StatusNotFound, io.Discard); err != nil {
			return err // (and warms the connection: the first request pays a TLS handshake)
		}
		c := &contender{label: s.label, note: s.note, targeted: s.targeted}
		c.upload = func(ctx context.Context, body *stream) (transfer, error) {
			req, err := http.NewRequestWithContext(ctx, "PUT", srv.url+"/b/"+roundName(), body)
			if err != nil {
				return transfer{}, err
			}
			req.ContentLength = size
			proto, err := roundTrip(a.big, req, http.StatusOK)
			return transfer{proto: proto, tail: body.sinceSent()}, err
		}
		if !s.uploadOnly {
			c.download = func(ctx context.Context, check *checker) (transfer, error) {
				resp, n, err := get(ctx, a.big, srv.url+"/b/"+roundName(), http.StatusOK, check)
				if err == nil && n != size {
					err = fmt.Errorf("downloaded %d bytes, want %d", n, size)
				}
				if err != nil {
					return transfer{}, err
				}
				return transfer{proto: resp.Proto}, nil
			}
		}
		contenders = append(contenders, c)
	}
	if _, err := a.do("GET", a.srv.URL+"/livez", nil, http.StatusOK); err != nil {
		return err
	}
	smh := &contender{label: "OpenSMH"}
	smh.upload = func(ctx context.Context, body *stream) (transfer, error) {
		t0 := time.Now()
		t, err := a.begin(roundName())
		if err != nil {
			return transfer{}, err
		}
		t1 := time.Now()
		proto, err := a.send(a.big, t, body, size)
		if err != nil {
			return transfer{}, fmt.Errorf("PUT: %w", err)
		}
		t2 := time.Now()
		got, err := a.confirm(t.ConfirmKey, crc)
		if err == nil && got != size {
			err = fmt.Errorf("confirm: size %d, want %d", got, size)
		}
		if err != nil {
			return transfer{}, err
		}
		return transfer{proto: proto, begin: t1.Sub(t0), tail: t2.Sub(time.Unix(0, body.sent.Load())), confirm: time.Since(t2)}, nil
	}
	smh.download = func(ctx context.Context, check *checker) (transfer, error) {
		t0 := time.Now()
		resp, _, err := get(ctx, a.big, a.fileURL(roundName()), http.StatusFound, io.Discard)
		if err != nil {
			return transfer{}, err
		}
		redirect := time.Since(t0)
		loc := resp.Header.Get("Location")
		if loc == "" {
			return transfer{}, errors.New("302 without Location")
		}
		resp, n, err := get(ctx, a.big, loc, http.StatusOK, check)
		if err == nil && n != size {
			err = fmt.Errorf("downloaded %d bytes, want %d", n, size)
		}
		if err != nil {
			return transfer{}, err
		}
		return transfer{proto: resp.Proto, redirect: redirect}, nil
	}
	contenders = append(contenders, smh)

	ctx, cancel := context.WithTimeout(context.Background(), bigTimeout)
	defer cancel()
	// Round 0 warms up and does not count: the first upload of a run was consistently the slowest
	// for whoever made it (heap and page-cache growth, flow-control windows). The order of the
	// contenders turns each round, so none always follows the others' writeback.
	var warmUp []string
	for round = 0; round <= rounds; round++ {
		order := rotate(contenders, round)
		for _, c := range order {
			// RSS: OpenSMH's upload, and the plain server's for reference.
			sample := measureRSS && round > 0 && (c == smh || c == contenders[0])
			t, err := timed(sample, func() (transfer, error) { return c.upload(ctx, &stream{block: block, n: size}) })
			if err != nil {
				return fmt.Errorf("upload (%s): %w", c.label, err)
			}
			if round == 0 {
				warmUp = append(warmUp, fmt.Sprintf("%s %.0f MB/s", c.label, mbps(size, t.took)))
				continue
			}
			c.ups = append(c.ups, t)
		}
		if !reportH || round == 0 {
			continue
		}
		for _, c := range order {
			if c.download == nil {
				continue
			}
			t, err := timed(false, func() (transfer, error) { return c.download(ctx, &checker{block: block}) })
			if err != nil {
				return fmt.Errorf("download (%s): %w", c.label, err)
			}
			c.downs = append(c.downs, t)
		}
	}

	if reportH {
		printBig(store, size, rounds, contenders, smh, warmUp)
	}
	if measureRSS {
		var plain *rssGrowth
		if contenders[0] != smh {
			plain = worstRSS(contenders[0].ups)
		}
		printRSS(size, rounds, worstRSS(smh.ups), plain)
	}
	return nil
}

// printBig prints (h). The figure held against the target is the median of the per-round ratios:
// each round's contenders ran back to back on the same machine state, so a round's ratio is less
// noisy than either of its times, and the median ignores one disturbed round either way.
func printBig(store string, size int64, rounds int, contenders []*contender, smh *contender, warmUp []string) {
	fmt.Printf("(h) single-stream %d MiB upload and download through the HTTPS data endpoint on %s vs a plain Go\n", size/mib, store)
	fmt.Printf("    HTTPS server (net/http + crypto/tls, the all-in-one's TLS config) that only moves the bytes;\n")
	fmt.Printf("    %d rounds after a warm-up round, contenders in turning order; times are medians; MB = 10^6 bytes\n", rounds)
	fmt.Printf("    warm-up (not counted): %s\n", strings.Join(warmUp, ", "))
	if store == "S3" {
		fmt.Printf("    NOTE: %d MiB, not the data dir's size: gofakes3's multipart uploader holds every part in memory\n", size/mib)
	}
	others := contenders[:len(contenders)-1]
	up := medianTransfer(smh.ups)
	fmt.Printf("    upload   %-25s %8.1f MB/s  %9s  (%s; answer %s after the last byte)\n", "OpenSMH", mbps(size, up.took), short(up.took), up.proto, short(up.tail))
	fmt.Printf("             begin %s + PUT %s + confirm %s\n", short(up.begin), short(up.took-up.begin-up.confirm), short(up.confirm))
	for _, c := range others {
		m := medianTransfer(c.ups)
		fmt.Printf("             %-25s %8.1f MB/s  %9s  (%s; answer %s after the last byte; %s)\n", c.label, mbps(size, m.took), short(m.took), m.proto, short(m.tail), c.note)
	}
	for _, c := range others {
		fmt.Printf("    ratio    vs %-22s %s\n", c.label, ratioLine(c, smh.ups, c.ups))
	}
	fmt.Printf("    confirm  %s   (a simple upload's confirm reads no bytes again: records only)\n", short(up.confirm))
	down := medianTransfer(smh.downs)
	fmt.Printf("    download %-25s %8.1f MB/s  %9s  (%s; GET -> 302 %s, then GET Location)\n", "OpenSMH", mbps(size, down.took), short(down.took), down.proto, short(down.redirect))
	for _, c := range others {
		if c.download != nil {
			m := medianTransfer(c.downs)
			fmt.Printf("             %-25s %8.1f MB/s  %9s  (%s)\n", c.label, mbps(size, m.took), short(m.took), m.proto)
		}
	}
	for _, c := range others {
		if c.download != nil {
			fmt.Printf("    ratio    vs %-22s %s\n", c.label, ratioLine(c, smh.downs, c.downs))
		}
	}
	fmt.Println()
}

// medianTransfer answers the transfer of median time among ts.
func medianTransfer(ts []transfer) transfer {
	s := slices.SortedFunc(slices.Values(ts), func(a, b transfer) int { return cmp.Compare(a.took, b.took) })
	return s[len(s)/2]
}

// ratioLine answers the median of the per-round ratios (baseline time over OpenSMH's), the ratio
// of the fastest runs, and each round's, so the noise shows; with the target for the baselines.
func ratioLine(c *contender, smh, base []transfer) string {
	var per []float64
	var each []string
	for i := range min(len(smh), len(base)) {
		r := base[i].took.Seconds() / smh[i].took.Seconds()
		per = append(per, r)
		each = append(each, fmt.Sprintf("%.2f", r))
	}
	slices.Sort(per)
	target := "target >= 0.7"
	if !c.targeted {
		target = "for reference, no target"
	}
	return fmt.Sprintf("%5.2f median  (%s; fastest vs fastest %.2f; rounds %s)", per[len(per)/2], target,
		best(base).took.Seconds()/best(smh).took.Seconds(), strings.Join(each, " "))
}

// rotate answers cs turned left by n places.
func rotate[T any](cs []T, n int) []T {
	k := n % len(cs)
	return append(slices.Clone(cs[k:]), cs[:k]...)
}

// printRSS prints (j): OpenSMH's largest growth, and the plain server's when measured.
func printRSS(size int64, rounds int, smh, plain *rssGrowth) {
	fmt.Printf("(j) peak RSS growth during the %d MiB upload of (h) through OpenSMH (data dir; VmRSS sampled every\n", size/mib)
	fmt.Printf("    10 ms from a heap returned to the OS; the largest of %d rounds)\n", rounds)
	fmt.Printf("    OpenSMH          +%6.1f MiB   (VmRSS %.0f MiB before, peak %.0f MiB; target < 64 MiB)\n",
		smh.growthMiB(), smh.beforeMiB(), smh.peakMiB())
	if plain != nil {
		fmt.Printf("    plain HTTPS      +%6.1f MiB   (VmRSS %.0f MiB before, peak %.0f MiB; same client and HTTP stack, for reference)\n",
			plain.growthMiB(), plain.beforeMiB(), plain.peakMiB())
	}
	fmt.Printf("    The server runs in this process, so RSS covers client and server; the client streams from\n")
	fmt.Printf("    one 1 MiB block and holds no other buffer, so the growth is the server side's cost.\n\n")
}

// timed runs fn once and sets the time it took, with the heap returned to the OS first and RSS
// sampled during the run when sample is set.
func timed(sample bool, fn func() (transfer, error)) (transfer, error) {
	var s *rssSampler
	if sample {
		runtime.GC()
		debug.FreeOSMemory()
		s = startRSS()
	}
	t0 := time.Now()
	t, err := fn()
	t.took = time.Since(t0)
	if s != nil {
		t.rss = s.stop()
	}
	return t, err
}

// rssSampler reads VmRSS every 10 ms and keeps the largest value.
type rssSampler struct {
	before int64
	peak   atomic.Int64
	done   chan struct{}
	wg     sync.WaitGroup
}

type rssGrowth struct{ before, peak int64 }

func (g *rssGrowth) growthMiB() float64 { return float64(g.peak-g.before) / mib }
func (g *rssGrowth) beforeMiB() float64 { return float64(g.before) / mib }
func (g *rssGrowth) peakMiB() float64   { return float64(g.peak) / mib }

func startRSS() *rssSampler {
	s := &rssSampler{done: make(chan struct{})}
	s.before = vmRSS()
	s.peak.Store(s.before)
	s.wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-tick.C:
				if v := vmRSS(); v > s.peak.Load() {
					s.peak.Store(v)
				}
			}
		}
	})
	return s
}

func (s *rssSampler) stop() *rssGrowth {
	close(s.done)
	s.wg.Wait()
	if v := vmRSS(); v > s.peak.Load() {
		s.peak.Store(v)
	}
	return &rssGrowth{before: s.before, peak: s.peak.Load()}
}

// vmRSS answers the process's resident set size in bytes from /proc/self/status (0 when
// unreadable, e.g. not on Linux).
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// uploadCycles prints (i): begin+PUT+confirm cycles of cycleSize bytes at concurrency c vs the
// same client making three round trips to the trivial /livez route of the same server.
func uploadCycles(a objAPI, store string, d time.Duration, c int) error {
	if _, err := a.do("PUT", a.srv.URL+"/api/v1/directory/"+a.libraryID+"/-/cycles?access_token="+url.QueryEscape(a.token), nil, http.StatusCreated); err != nil {
		return err
	}
	body := newBlock()[:cycleSize]
	crc := crcOf(body, cycleSize)
	var firstErr atomic.Pointer[error]
	keep := func(err error) error {
		if err != nil {
			firstErr.CompareAndSwap(nil, &err)
		}
		return err
	}
	livez := a.srv.URL + "/livez"
	trivial := measure(c, d, func(int, int) error {
		for range 3 {
			if _, err := a.do("GET", livez, nil, http.StatusOK); err != nil {
				return keep(err)
			}
		}
		return nil
	})
	// Each worker also keeps the time of each step, for the breakdown.
	steps := make([][3][]time.Duration, c)
	cycles := measure(c, d, func(w, i int) error {
		t0 := time.Now()
		t, err := a.begin(fmt.Sprintf("cycles/w%02d-%06d.bin", w, i))
		if err != nil {
			return keep(err)
		}
		t1 := time.Now()
		if _, err := a.send(a.client, t, bytes.NewReader(body), cycleSize); err != nil {
			return keep(fmt.Errorf("PUT: %w", err))
		}
		t2 := time.Now()
		n, err := a.confirm(t.ConfirmKey, crc)
		if err == nil && n != cycleSize {
			err = fmt.Errorf("confirm: size %d", n)
		}
		if err == nil {
			for k, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), time.Since(t2)} {
				steps[w][k] = append(steps[w][k], d)
			}
		}
		return keep(err)
	})
	p50 := stepMedians(steps)
	fmt.Printf("(i) %d KiB uploads (begin + PUT + confirm) per second on %s, %d concurrent clients, vs the same\n", cycleSize>>10, store, c)
	fmt.Printf("    client making 3 round trips to the trivial /livez route of the same server per cycle: the\n")
	fmt.Printf("    baseline pays the same HTTP/TLS round trips, so the ratio is the cost of OpenSMH's own work\n")
	fmt.Printf("    (tokens, namespace check and commit, SQL records, the blob write%s)\n", map[bool]string{true: " with fsync", false: " to S3"}[store == "data dir"])
	fmt.Printf("    3x /livez        %s\n", cycleString(trivial))
	fmt.Printf("    upload cycle     %s\n", cycleString(cycles))
	fmt.Printf("                     p50 of each step: begin %s, PUT %s, confirm %s\n", short(p50[0]), short(p50[1]), short(p50[2]))
	fmt.Printf("    ratio            %.3f\n\n", cycles.rate()/trivial.rate())
	if p := firstErr.Load(); p != nil {
		return fmt.Errorf("(i) had errors (%d baseline, %d cycles), the first: %w", trivial.errors, cycles.errors, *p)
	}
	return nil
}

// smallDownloads prints (k): downloads of cycleSize-byte files (GET the file, 302, GET the
// signed data URL of Location) per second at concurrency c vs the same client making two round
// trips to /livez per download. The two are measured in alternating slices of d each.
func smallDownloads(a objAPI, store string, d time.Duration, c int) error {
	if _, err := a.do("PUT", a.srv.URL+"/api/v1/directory/"+a.libraryID+"/-/downloads?access_token="+url.QueryEscape(a.token), nil, http.StatusCreated); err != nil {
		return err
	}
	block := newBlock()
	content := func(i int) []byte { return block[i*cycleSize : (i+1)*cycleSize] }
	name := func(i int) string { return fmt.Sprintf("downloads/f%03d.bin", i) }
	if err := uploadSmall(a, c, downloadFiles, name, content); err != nil {
		return fmt.Errorf("(k) upload: %w", err)
	}

	// fetch downloads file k and answers how long each step took. The bytes are read into buf,
	// the worker's own: the client shares the two cores with the server, so what it allocates
	// per download (a growing buffer and io.Copy's 32 KiB, 15 KB a download when it did) would
	// count against the downloads and not against /livez.
	fileURLs := make([]string, downloadFiles)
	for k := range fileURLs {
		fileURLs[k] = a.fileURL(name(k))
	}
	fetch := func(k int, buf []byte) (redirect, data time.Duration, err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		t0 := time.Now()
		resp, _, err := get(ctx, a.big, fileURLs[k], http.StatusFound, io.Discard)
		if err != nil {
			return 0, 0, err
		}
		t1 := time.Now()
		loc := resp.Header.Get("Location")
		if loc == "" {
			return 0, 0, errors.New("302 without Location")
		}
		got, err := getInto(ctx, a.big, loc, buf)
		if err != nil {
			return 0, 0, fmt.Errorf("GET Location: %w", err)
		}
		if !bytes.Equal(got, content(k)) {
			return 0, 0, fmt.Errorf("%s: %d bytes that differ from the %d uploaded", name(k), len(got), cycleSize)
		}
		return t1.Sub(t0), time.Since(t1), nil
	}
	buffers := make([][]byte, c)
	for w := range buffers {
		buffers[w] = make([]byte, cycleSize+1) // one byte more than a file: a longer body shows
	}
	// Verify once, untimed: every file answers its own bytes before anything is measured.
	for k := range downloadFiles {
		if _, _, err := fetch(k, buffers[0]); err != nil {
			return fmt.Errorf("(k) check: %w", err)
		}
	}
	var firstErr firstError
	// Each worker also keeps the time of each step, for the breakdown.
	steps := make([][2][]time.Duration, c)
	download := firstErr.keep("download", func(w, i int) error {
		redirect, data, err := fetch((w+i*c)%downloadFiles, buffers[w]) // the workers take the files in turn
		if err == nil {
			steps[w][0], steps[w][1] = append(steps[w][0], redirect), append(steps[w][1], data)
		}
		return err
	})
	livez := a.srv.URL + "/livez"
	trivial := firstErr.keep("2x /livez", func(int, int) error {
		for range 2 {
			if _, err := a.do("GET", livez, nil, http.StatusOK); err != nil {
				return err
			}
		}
		return nil
	})
	var trivials, downloads []result
	for range downloadRounds {
		trivials = append(trivials, measure(c, d, trivial))
		downloads = append(downloads, measure(c, d, download))
	}
	base, down := pool(trivials), pool(downloads)
	p50 := stepMedians(steps)
	fmt.Printf("(k) %d KiB downloads (GET -> 302, GET Location: the signed data URL) per second on %s, %d concurrent\n", cycleSize>>10, store, c)
	fmt.Printf("    clients over %d files, vs the same client making 2 round trips to the trivial /livez route per\n", downloadFiles)
	fmt.Printf("    download; %d alternating rounds of %s each, p50/p99 over all of them. The ratio\n", downloadRounds, d)
	fmt.Printf("    is the cost of OpenSMH's own work (token, namespace resolve, records, signing, the blob read%s)\n", map[bool]string{true: "", false: " from S3"}[store == "data dir"])
	fmt.Printf("    2x /livez        %s\n", roundString(base, "rounds"))
	fmt.Printf("    download         %s\n", roundString(down, "rounds"))
	fmt.Printf("                     p50 of each step: GET -> 302 %s, GET Location %s\n", short(p50[0]), short(p50[1]))
	fmt.Printf("    ratio            %.3f   (target >= 0.35)\n\n", down.rate()/base.rate())
	if err := firstErr.get(); err != nil {
		return fmt.Errorf("(k) had errors (%d baseline, %d downloads), the first: %w", base.errors, down.errors, err)
	}
	return nil
}

// uploadSmall uploads n small files (begin, PUT, confirm) from c workers.
func uploadSmall(a objAPI, c, n int, name func(int) string, content func(int) []byte) error {
	var next atomic.Int64
	var firstErr firstError
	var wg sync.WaitGroup
	for w := range c {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				err := firstErr.keep(name(i), func(int, int) error {
					body := content(i)
					t, err := a.begin(name(i))
					if err != nil {
						return err
					}
					if _, err := a.send(a.client, t, bytes.NewReader(body), int64(len(body))); err != nil {
						return fmt.Errorf("PUT: %w", err)
					}
					_, err = a.confirm(t.ConfirmKey, crcOf(body, int64(len(body))))
					return err
				})(w, i)
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr.get()
}

// stepMedians answers the median time of each step of a round, over every worker's rounds.
func stepMedians[A ~[2][]time.Duration | ~[3][]time.Duration](steps []A) []time.Duration {
	var zero A
	out := make([]time.Duration, len(zero))
	for k := range out {
		var all []time.Duration
		for _, s := range steps {
			all = append(all, s[k]...)
		}
		if len(all) > 0 {
			out[k] = median(all)
		}
	}
	return out
}

func cycleString(r result) string { return roundString(r, "cycles") }

// roundString prints a measurement whose operations are rounds of several requests.
func roundString(r result, unit string) string {
	return fmt.Sprintf("%10.0f %s/s  p50 %9s  p99 %9s  (%d %s, %d errors; %.2f cores, %s CPU each)",
		r.rate(), unit, short(r.p50), short(r.p99), r.ops, unit, r.errors, r.cores(), short(r.cpuPerOp()))
}

// fakeS3 is gofakes3 with the file-backed s3afero backend in a temp dir, served over TLS by
// httptest: over plain http minio-go streams parts in aws-chunked form, which gofakes3 stores
// undecoded (see services/object/internal/blob/s3_test.go).
type fakeS3 struct {
	srv      *httptest.Server
	endpoint string
	dir      string
}

func startFakeS3() (*fakeS3, error) {
	dir, err := os.MkdirTemp("", "smh-bench-s3-")
	if err != nil {
		return nil, err
	}
	trackTemp(dir)
	backend, err := s3afero.MultiBucket(afero.NewBasePathFs(afero.NewOsFs(), dir))
	if err != nil {
		removeTemp(dir)
		return nil, err
	}
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewUnstartedServer(faker.Server())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	return &fakeS3{srv: srv, endpoint: strings.TrimPrefix(srv.URL, "https://"), dir: dir}, nil
}

func (f *fakeS3) stop() {
	f.srv.Close()
	removeTemp(f.dir)
}
