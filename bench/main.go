// Command bench measures OpenSMH against baselines taken in the same run on the same machine
// (make bench). It prints ratios, not absolute verdicts: the machine is shared and noisy.
//
//	(a) token mints per second through REST      vs raw etcd puts per second (same etcd, same concurrency)
//	(b) renewals per second through REST         vs a trivial REST route (/livez) on the same gateway
//	(c) in-process token validations per second  (served from memory), with p50/p99
//	(d) how long a revocation on one authtoken instance takes to be refused by another (etcd watch)
//
// and, once per namespace store engine (SQLite; PostgreSQL when SMH_TEST_POSTGRES_DSN is set), on
// an all-in-one of its own:
//
//	(e) listing pages of a 100k-entry directory near its start vs near its end (marker mode)
//	(f) directory creates per second through REST vs raw SQL INSERTs into the same database
//	(g) moving a directory with 100k descendants vs moving an empty one
//
// and, once per blob store (the data dir; S3, served by gofakes3 in this process), on an
// all-in-one of its own:
//
//	(h) a single-stream 1 GiB upload and download through the HTTPS data endpoint vs a plain Go
//	    HTTPS server that only writes the body to a file (fsync at the end) or streams it back
//	(i) 4 KiB begin+PUT+confirm cycles per second vs 3 round trips to /livez per cycle
//	(j) the growth of the process's RSS during (h)'s upload (data dir only)
//	(k) 4 KiB downloads (GET, 302, GET the signed URL) per second vs 2 round trips to /livez each
//
// and (o), batch delete against single deletes, per engine (bench/batch.go).
// and (p), per engine: reading 10,000 events of the change feed vs listing 10,000 entries
// (bench/delta.go).
// ---- issue 13 fetch: and (q), per engine: a share visitor's list + download of a shared 4 KiB
// file vs the owner's own download (bench/share.go).
// ---- end issue 13 fetch
// and (r)-(t), the data lifecycle on SQLite (bench/lifecycle.go).
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	"github.com/opensmh/opensmh/pkg/etcdx"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/services/authtoken"
	"github.com/opensmh/opensmh/services/smh/server"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "length of each measurement")
	concurrency := flag.Int("c", 64, "concurrent clients for the HTTP and etcd measurements")
	// Structural writes of a space are serialised (one SQLite writer, a per-space advisory lock
	// on PostgreSQL), so more namespace clients only lengthen the queue.
	nsConcurrency := flag.Int("nc", 32, "concurrent clients for the namespace measurements (e)-(g)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measurements to this file")
	// Where the time goes beyond CPU: `go tool trace -pprof=sync|syscall|sched FILE` turns the
	// trace into profiles of the time goroutines spent blocked, in system calls and waiting for a CPU.
	traceFile := flag.String("trace", "", "write an execution trace of the measurements to this file")
	memProfile := flag.String("memprofile", "", "write a profile of the allocations made during the measurements to this file")
	only := flag.String("only", "abcdefghijknopqrst", "which measurements to run, e.g. -only a, -only efg, -only hijk, -only n, -only o, -only p, -only q (issue 13 fetch) or -only rst")
	// (i) and (k): many small transfers at once, as a sync client or a busy page makes them.
	objConcurrency := flag.Int("oc", 32, "concurrent clients for the upload cycles (i) and the downloads (k)")
	blobs := flag.String("blobs", "dir,s3", "blob stores for (h)-(k): dir (the data dir), s3 (gofakes3 in process) or both")
	bigMiB := flag.Int64("hmib", 1024, "size in MiB of the single-stream transfers of (h) and (j) on the data dir")
	s3MiB := flag.Int64("s3mib", 256, "size in MiB of (h) on S3 (gofakes3 holds multipart parts in memory)")
	rounds := flag.Int("hrounds", 5, "rounds of (h) after its warm-up round; the median of the per-round ratios counts")
	flag.Parse()
	removeTempOnSignal()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer trace.Stop()
	}
	if *memProfile != "" {
		defer writeAllocs(*memProfile)
	}
	obj := objectOptions{d: *duration, c: *objConcurrency, only: *only, stores: *blobs, size: *bigMiB * mib, s3Size: *s3MiB * mib, rounds: max(1, *rounds)}
	if err := run(*duration, *concurrency, *nsConcurrency, *only, obj); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// writeAllocs writes the allocations made since the process started (pprof's allocs profile:
// go tool pprof -sample_index=alloc_space) to path.
func writeAllocs(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if closeErr := f.Close(); err == nil {
			err = closeErr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: memprofile:", err)
	}
}

// result is one measurement.
type result struct {
	ops      int64
	errors   int64
	elapsed  time.Duration
	p50, p99 time.Duration
	lat      []time.Duration // every successful call's, sorted
	// cpu is the CPU time the whole benchmark process (clients and the all-in-one it starts)
	// used during the measurement: with elapsed it tells whether the machine was busy or the
	// measured path was waiting.
	cpu time.Duration
}

// cores is how many cores the process kept busy on average.
func (r result) cores() float64 { return r.cpu.Seconds() / r.elapsed.Seconds() }

// cpuPerOp is the process CPU time per successful operation.
func (r result) cpuPerOp() time.Duration {
	if r.ops == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.ops)
}

// processCPU answers the CPU time (user and system) this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r result) rate() float64 { return float64(r.ops) / r.elapsed.Seconds() }

func (r result) String() string {
	return fmt.Sprintf("%10.0f ops/s  p50 %9s  p99 %9s  (%d ops, %d errors)", r.rate(), short(r.p50), short(r.p99), r.ops, r.errors)
}

// short rounds a latency to three significant digits or so.
func short(d time.Duration) time.Duration {
	switch {
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(10 * time.Nanosecond)
	}
	return d
}

// measure runs op from c workers for d, recording each call's latency.
func measure(c int, d time.Duration, op func(worker int, i int) error) result {
	var ops, errs atomic.Int64
	lat := make([][]time.Duration, c)
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	start, cpu := time.Now(), processCPU()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				t0 := time.Now()
				if err := op(w, i); err != nil {
					errs.Add(1)
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
				ops.Add(1)
			}
		}(w)
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := result{ops: ops.Load(), errors: errs.Load(), elapsed: elapsed, lat: all, cpu: cpu}
	if len(all) > 0 {
		r.p50, r.p99 = all[len(all)/2], all[len(all)*99/100]
	}
	return r
}

// pool sums the measurements of interleaved slices, with the percentiles of all their calls
// together.
func pool(rs []result) result {
	var out result
	var all [][]time.Duration
	for _, r := range rs {
		out.ops += r.ops
		out.errors += r.errors
		out.elapsed += r.elapsed
		out.cpu += r.cpu
		all = append(all, r.lat)
	}
	out.lat = slices.Sorted(slices.Values(slices.Concat(all...)))
	if len(out.lat) > 0 {
		out.p50, out.p99 = out.lat[len(out.lat)/2], out.lat[len(out.lat)*99/100]
	}
	return out
}

// instance is one all-in-one started for the benchmark, with a library and an admin token.
type instance struct {
	srv       *server.Server
	client    *http.Client
	libraryID string
	token     string
	mintURL   string
	dir       string // the data dir
}

// startInstance starts an all-in-one on a fresh data dir with the namespace store named by dsn
// ("" = SQLite in the data dir), creates a library and mints an admin token for it.
func startInstance(ctx context.Context, dsn string, c int) (*instance, error) {
	return startInstanceWith(ctx, c, func(o *server.Options) { o.SQLDSN = dsn })
}

// startInstanceWith is startInstance with options edited by edit (the blob store of (h)-(j)).
func startInstanceWith(ctx context.Context, c int, edit func(*server.Options)) (*instance, error) {
	dir, err := os.MkdirTemp("", "smh-bench-")
	if err != nil {
		return nil, err
	}
	trackTemp(dir)
	// Honest settings: fsync on, logging at warn (an access log line per request would measure
	// the terminal).
	opts := server.Options{
		DataDir: dir, Listen: "127.0.0.1:0", AdminKey: "bench-operator-key",
		Logger: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Out: io.Discard,
	}
	edit(&opts)
	srv, err := server.Start(ctx, opts)
	if err != nil {
		removeTemp(dir)
		return nil, err
	}
	in := &instance{srv: srv, dir: dir}
	if err := in.setUp(c); err != nil {
		in.stop()
		return nil, err
	}
	return in, nil
}

func (in *instance) stop() {
	in.srv.Stop()
	removeTemp(in.dir)
}

// temps are the temp dirs in use (data dirs, the fake S3's files), removed on SIGINT or SIGTERM
// too: (h) leaves gigabytes in them.
var temps struct {
	sync.Mutex
	dirs map[string]bool
}

func trackTemp(dir string) {
	temps.Lock()
	defer temps.Unlock()
	if temps.dirs == nil {
		temps.dirs = map[string]bool{}
	}
	temps.dirs[dir] = true
}

func removeTemp(dir string) {
	temps.Lock()
	defer temps.Unlock()
	delete(temps.dirs, dir)
	os.RemoveAll(dir)
}

func removeTempOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		temps.Lock()
		for dir := range temps.dirs {
			os.RemoveAll(dir)
		}
		fmt.Fprintln(os.Stderr, "bench: interrupted; temp dirs removed")
		os.Exit(130)
	}()
}

// setUp makes the client, a library and a token to work with.
func (in *instance) setUp(c int) error {
	pool, err := tlsx.CertPool(in.srv.CACert)
	if err != nil {
		return err
	}
	in.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: c,
	}}
	// A file library: directories need one (token work does not care).
	req, _ := http.NewRequest("POST", in.srv.URL+"/admin/v1/libraries", strings.NewReader(`{"name":"bench","libraryExtension":{"isFileLibrary":true}}`))
	req.Header.Set("Authorization", "Bearer bench-operator-key")
	resp, err := in.client.Do(req)
	if err != nil {
		return err
	}
	var lib struct{ LibraryID, LibrarySecret string }
	err = json.NewDecoder(resp.Body).Decode(&lib)
	resp.Body.Close()
	if err != nil || lib.LibraryID == "" {
		return fmt.Errorf("create library: %v (status %d)", err, resp.StatusCode)
	}
	in.libraryID = lib.LibraryID
	in.mintURL = in.srv.URL + "/api/v1/token?" + url.Values{"library_id": {lib.LibraryID}, "library_secret": {lib.LibrarySecret}, "user_id": {"bench"}, "grant": {"admin"}}.Encode()
	resp, err = in.client.Get(in.mintURL)
	if err != nil {
		return err
	}
	var tok struct{ AccessToken string }
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		return fmt.Errorf("mint: %v", err)
	}
	in.token = tok.AccessToken
	return nil
}

// do sends one request (body: nil, or a value sent as JSON) and answers the response body, or an
// error unless the status is want.
func (in *instance) do(method, u string, body any, want int) ([]byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d: %.200s", method, strings.Split(u, "?")[0], resp.StatusCode, out)
	}
	return out, nil
}

func run(d time.Duration, c, nc int, only string, obj objectOptions) error {
	ctx := context.Background()
	fmt.Printf("OpenSMH benchmark: %d cores, GOMAXPROCS %d, %s per measurement, %d concurrent clients, etcd fsync on\n\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), d, c)
	if strings.ContainsAny(only, "abcd") {
		if err := runTokens(ctx, d, c, only); err != nil {
			return err
		}
	}
	if strings.ContainsAny(only, "efg") {
		if err := runNamespace(ctx, d, nc, only); err != nil {
			return err
		}
	}
	if strings.ContainsAny(only, "hijk") {
		if err := runObject(ctx, obj); err != nil {
			return err
		}
	}
	// search (issue 12): (n), bench/search.go.
	if strings.Contains(only, "n") {
		if err := runSearch(ctx); err != nil {
			return err
		}
	}
	// issue 12 change feed: (p) bench/delta.go
	if strings.Contains(only, "p") {
		if err := runDelta(ctx, nc); err != nil {
			return err
		}
	}
	if strings.ContainsAny(only, "rst") {
		if err := runLifecycle(ctx, d, nc, only); err != nil {
			return err
		}
	}
	// Issue 12, batch: (o) batch delete vs single deletes (bench/batch.go).
	if strings.Contains(only, "o") {
		if err := runBatch(ctx, nc); err != nil {
			return err
		}
	}
	// ---- issue 13 fetch: (q) a share visitor's download vs the owner's (bench/share.go).
	if strings.Contains(only, "q") {
		if err := runShare(ctx, d, nc); err != nil {
			return err
		}
	}
	// ---- end issue 13 fetch
	return nil
}

// runTokens runs (a)-(d) on one all-in-one with the default store.
func runTokens(ctx context.Context, d time.Duration, c int, only string) error {
	in, err := startInstance(ctx, "", c)
	if err != nil {
		return err
	}
	defer in.stop()
	srv, client, mintURL := in.srv, in.client, in.mintURL
	do := func(method, u string, want int) error {
		_, err := in.do(method, u, nil, want)
		return err
	}
	etcd, err := etcdx.Connect(ctx, []string{srv.EtcdEndpoint()}, 0, nil)
	if err != nil {
		return err
	}
	defer etcd.Close()

	if strings.Contains(only, "a") {
		value := strings.Repeat("v", 200) // about the size of a token record
		rawPut := measure(c, d, func(w, i int) error {
			_, err := etcd.Put(ctx, fmt.Sprintf("/bench/raw/%d/%d", w, i), value)
			return err
		})
		_, _ = etcd.Delete(ctx, "/bench/", clientv3.WithPrefix())
		mints := measure(c, d, func(int, int) error { return do("GET", mintURL, http.StatusOK) })
		fmt.Println("(a) token mints through REST vs raw etcd puts")
		fmt.Printf("    raw etcd put     %s\n", rawPut)
		fmt.Printf("    mint (REST)      %s\n", mints)
		fmt.Printf("    ratio            %.2f\n\n", mints.rate()/rawPut.rate())
	}

	if strings.Contains(only, "b") {
		renewURL := srv.URL + "/api/v1/token/" + in.libraryID + "/" + in.token
		trivial := measure(c, d, func(int, int) error { return do("GET", srv.URL+"/livez", http.StatusOK) })
		renews := measure(c, d, func(int, int) error { return do("POST", renewURL, http.StatusOK) })
		fmt.Println("(b) authenticated requests (renew through REST) vs a trivial REST route on the same gateway")
		fmt.Printf("    trivial (/livez) %s\n", trivial)
		fmt.Printf("    renew (REST)     %s\n", renews)
		fmt.Printf("    ratio            %.2f   (target >= 0.5)\n\n", renews.rate()/trivial.rate())
	}

	if strings.Contains(only, "c") {
		// One worker per core: validation is CPU-bound.
		validator := srv.Tokens().Validator()
		workers := runtime.GOMAXPROCS(0)
		validations := measure(workers, d, func(int, int) error {
			_, err := validator.ValidateToken(ctx, in.libraryID, in.token)
			return err
		})
		fmt.Println("(c) in-process token validations (from memory)")
		fmt.Printf("    validate         %s   (%d workers; target >= 200000/s)\n\n", validations, workers)
	}

	if strings.Contains(only, "d") {
		lat, err := revocationLatency(ctx, srv, client, mintURL, in.libraryID, 50)
		if err != nil {
			return err
		}
		fmt.Println("(d) revocation on one authtoken instance until a second instance refuses the token")
		fmt.Printf("    propagation      p50 %9s  p99 %9s  max %9s  (%d revocations; target < 1s)\n\n",
			short(lat[len(lat)/2]), short(lat[len(lat)*99/100]), short(lat[len(lat)-1]), len(lat))
	}
	return nil
}

// revocationLatency mints n tokens through REST, has a second authtoken instance (on the same
// etcd, with its own cache) accept each one, revokes it through REST, and measures how long the
// second instance keeps accepting it.
func revocationLatency(ctx context.Context, srv *server.Server, client *http.Client, mintURL, libraryID string, n int) ([]time.Duration, error) {
	cli, err := etcdx.Connect(ctx, []string{srv.EtcdEndpoint()}, 0, nil)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	// The second instance only validates; it never mints, so it needs no library service.
	unused, err := grpc.NewClient("passthrough:///unused", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer unused.Close()
	other, err := authtoken.New(ctx, authtoken.Config{
		Etcd: cli, Libraries: libraryv1.NewLibraryServiceClient(unused), AdminKey: "bench-operator-key",
		SweepEvery: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	defer other.Close()
	validator := other.Validator()
	var out []time.Duration
	for range n {
		resp, err := client.Get(mintURL)
		if err != nil {
			return nil, err
		}
		var tok struct{ AccessToken string }
		err = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if _, err := validator.ValidateToken(ctx, libraryID, tok.AccessToken); err != nil {
			return nil, fmt.Errorf("second instance refused a fresh token: %w", err)
		}
		req, _ := http.NewRequest("DELETE", srv.URL+"/api/v1/token/"+libraryID+"/"+tok.AccessToken, nil)
		resp, err = client.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		revoked := time.Now()
		for {
			if _, err := validator.ValidateToken(ctx, libraryID, tok.AccessToken); err != nil {
				break
			}
			if time.Since(revoked) > 10*time.Second {
				return nil, errors.New("the second instance still accepts a token revoked 10 s ago")
			}
			time.Sleep(100 * time.Microsecond)
		}
		out = append(out, time.Since(revoked))
	}
	slices.Sort(out)
	return out, nil
}
