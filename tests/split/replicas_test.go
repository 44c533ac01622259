package split

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/sqldb/sqldbtest"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/cluster"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// TestSplitObjectReplicasOnS3 runs two object processes that share one PostgreSQL database and
// one S3 bucket behind the gateway (issue 14: the split deployment keeps working with several
// object replicas on S3). The gateway balances object gRPC calls over both through etcd, and
// the bytes of uploads and downloads over both data endpoints, which it also finds in etcd
// (--object-data-url etcd, issue 15): so uploads begun on one replica have their bytes received
// by either, and are confirmed on either. Small files stay inline in the shared database, larger
// ones go to the bucket; after B is killed, A alone serves the old files and takes new ones, and
// no upload's or download's bytes fail for the data endpoint B left listed until its lease lapsed.
func TestSplitObjectReplicasOnS3(t *testing.T) {
	etcdBin := cluster.EtcdBinary(t)
	adminDSN := os.Getenv(sqldbtest.PostgresDSNEnv)
	if adminDSN == "" {
		// As tests/console does: CI sets the variable, so there a missing server is a failure.
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL NOT RUN: %s is not set (.ci/run sets it); object replicas share a PostgreSQL database", sqldbtest.PostgresDSNEnv)
		}
		t.Skipf("PostgreSQL NOT RUN: set %s to a maintenance DSN, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", sqldbtest.PostgresDSNEnv)
	}
	objectDSN := sqldbtest.NewPostgresDatabase(t, adminDSN)

	tmp := t.TempDir()
	s3 := cluster.StartFakeS3(t, tmp)
	const bucket, prefix = "opensmh-split", "replicas"
	backend := s3.Backend
	etcdURL := cluster.StartEtcd(t, etcdBin, tmp).ClientURL
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	kekText := base64.StdEncoding.EncodeToString(kek)
	const adminKey = "replicas-operator-key-0123456789"
	gwAddr, libAddr, tokAddr, nsAddr := proc.FreeAddr(t), proc.FreeAddr(t), proc.FreeAddr(t), proc.FreeAddr(t)
	publicURL := "https://" + gwAddr
	// The download origin as in TestSplitDeployment: another host name on the gateway's port.
	_, gwPort, _ := strings.Cut(gwAddr, ":")
	dataHost := "localhost:" + gwPort
	dataURL := "https://" + dataHost
	env := []string{
		"SMH_ADMIN_KEY=" + adminKey,
		"SMH_SECRET_KEK=" + kekText,
		"SMH_ETCD_ENDPOINTS=" + etcdURL,
		"SMH_LOG_LEVEL=debug",
	}
	bin := func(name string) string { return filepath.Join(binDir, name) }
	library := proc.Start(t, "library", env, bin("library"), "--listen", libAddr, "--public-url", publicURL)
	authtoken := proc.Start(t, "authtoken", env, bin("authtoken"), "--listen", tokAddr)
	namespace := proc.Start(t, "namespace", env, bin("namespace"), "--listen", nsAddr, "--sql-dsn", filepath.Join(tmp, "namespace.db"),
		"--public-url", publicURL)

	// Both replicas start at once on a fresh database and a missing bucket: they race to migrate
	// the schema and to create the bucket, as replicas of a new deployment do.
	objectEnv := append(slices.Clone(env), s3.Env...)
	startReplica := func(name string) *objectReplica {
		r := &objectReplica{dataAddr: proc.FreeAddr(t), metricsAddr: proc.FreeAddr(t)}
		// The replica lists the counting forwarder in front of its data endpoint as the address
		// to dial, so the test sees which replica's data endpoint carried bytes.
		r.data = startForwarder(t, r.dataAddr)
		r.Proc = proc.Start(t, name, objectEnv, bin("object"), "--listen", proc.FreeAddr(t), "--data-listen", r.dataAddr,
			"--data-advertise", r.data.addr(), "--metrics-listen", r.metricsAddr,
			"--domain", dataHost, "--sql-dsn", objectDSN,
			"--s3-endpoint", s3.Endpoint, "--s3-bucket", bucket, "--s3-prefix", prefix, "--s3-create-bucket")
		return r
	}
	replicaA, replicaB := startReplica("object A"), startReplica("object B")
	// The gateway starts once both are listed, so that its balancer has both from the first call.
	proc.WaitFor(t, "both object replicas to register in etcd", 60*time.Second, func() bool {
		return cluster.EtcdKeyCount(etcdURL, discovery.Prefix+"object/") == 2 &&
			cluster.EtcdKeyCount(etcdURL, discovery.Prefix+discovery.ObjectData+"/") == 2
	})
	gateway := proc.Start(t, "gateway", env, bin("gateway"), "--listen", gwAddr, "--data-dir", filepath.Join(tmp, "gw"),
		"--object-data-url", "etcd", "--data-url", dataURL)

	caFile := filepath.Join(tmp, "gw", "tls", tlsx.CACertFile)
	proc.WaitFor(t, "the gateway's CA certificate", 30*time.Second, func() bool { _, err := os.Stat(caFile); return err == nil })
	pool, err := tlsx.CertPool(caFile)
	if err != nil {
		t.Fatal(err)
	}
	httpClient := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	proc.WaitFor(t, "the gateway to report every service healthy", 60*time.Second, func() bool {
		resp, err := httpClient.Get(publicURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	libraryID, librarySecret := createFileLibrary(t, httpClient, publicURL, adminKey)
	resp, err := httpClient.Get(publicURL + "/api/v1/token?" + url.Values{"library_id": {libraryID}, "library_secret": {librarySecret},
		"grant": {"admin"}, "user_id": {"frank"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var minted struct{ AccessToken string }
	err = json.NewDecoder(resp.Body).Decode(&minted)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || minted.AccessToken == "" {
		t.Fatalf("mint a token: %d %v", resp.StatusCode, err)
	}
	f := &files{t: t, base: publicURL, data: dataURL, lib: libraryID, token: minted.AccessToken, http: httpClient}

	// 1. Both replicas up: a mix of sizes, uploaded concurrently (parallel subtests) so that the
	// balancer's picks for begins and confirms interleave rather than keep one parity.
	const (
		smallSize     = 4 << 10   // inline
		nearLimitSize = 60 << 10  // inline, near the 64 KiB limit
		simpleSize    = 200 << 10 // over the limit: the bucket
		multipartSize = 3<<20 + 12345
	)
	var firstBatch []*upload
	for i := range 15 {
		firstBatch = append(firstBatch, newUpload(t, fmt.Sprintf("small-%02d.bin", i), smallSize, false))
		firstBatch = append(firstBatch, newUpload(t, fmt.Sprintf("near-limit-%02d.bin", i), nearLimitSize, false))
	}
	for i := range 5 {
		firstBatch = append(firstBatch, newUpload(t, fmt.Sprintf("simple-%02d.bin", i), simpleSize, false))
	}
	for i := range 2 {
		firstBatch = append(firstBatch, newUpload(t, fmt.Sprintf("multipart-%02d.bin", i), multipartSize, true))
	}
	uploadedAll := t.Run("uploads with both replicas up", func(t *testing.T) {
		for _, u := range firstBatch {
			t.Run(u.name, func(t *testing.T) {
				t.Parallel()
				fu := *f
				fu.t = t
				fu.upload(u.name, u.data, u.multipart)
			})
		}
	})
	if !uploadedAll {
		t.FailNow()
	}

	// Both replicas served upload calls, and between them exactly the calls the uploads made. The
	// logs cannot show it: grpcx's interceptor logs refused and failed calls only, never successful
	// ones. The proof is each replica's own otelgrpc counters on its --metrics-listen.
	const (
		beginSimple    = "smh.object.v1.ObjectService/BeginSimpleUpload"
		beginMultipart = "smh.object.v1.ObjectService/BeginMultipartUpload"
		confirm        = "smh.object.v1.ObjectService/ConfirmUpload"
	)
	callsA, callsB := replicaA.okCalls(t), replicaB.okCalls(t)
	t.Logf("upload calls answered OK: replica A %v, replica B %v", callsA, callsB)
	for method, want := range map[string]int{beginSimple: 35, beginMultipart: 2, confirm: 37} {
		if got := callsA[method] + callsB[method]; got != want {
			t.Errorf("%s: replica A answered %d, B %d; want %d between them", method, callsA[method], callsB[method], want)
		}
	}
	for _, method := range []string{beginSimple, confirm} {
		if callsA[method] == 0 || callsB[method] == 0 {
			t.Errorf("%s: replica A answered %d, B %d; want both to have answered some", method, callsA[method], callsB[method])
		}
	}
	// Both data endpoints took uploads' bytes: the gateway takes them in turn.
	sentA, sentB := replicaA.data.received.Load(), replicaB.data.received.Load()
	t.Logf("bytes sent to the data endpoints: replica A %d, replica B %d", sentA, sentB)
	if sentA < 1<<20 || sentB < 1<<20 {
		t.Errorf("data endpoints received %d (A) and %d (B) bytes; want both to have taken uploads (the workload sends %d)",
			sentA, sentB, 15*(smallSize+nearLimitSize)+5*simpleSize+2*multipartSize)
	}
	if t.Failed() {
		t.FailNow()
	}

	// 2. Every file reads back byte-identical (download URLs are signed by whichever replica
	// answered DownloadFile, and served by either).
	for _, u := range firstBatch {
		f.expectDownload(u.name, u.data)
	}

	// 3. The large files are in the bucket, the small ones in the shared database only.
	db, err := pgx.Connect(context.Background(), objectDSN)
	if err != nil {
		t.Fatalf("connect to the object database: %v", err)
	}
	defer db.Close(context.Background())
	expectPlacement(t, backend, bucket, prefix, db, firstBatch)

	// 4. Replica B crashes. The gateway's balancer drops it once its connection fails: until then a
	// begin may answer 503 (the call went to B), and nothing else is acceptable. Once one upload
	// has gone through, every later one must.
	replicaB.Kill(t)
	// Its data endpoint's port dies with it: the forwarder standing in for it stops listening.
	replicaB.data.close()
	callsA = replicaA.okCalls(t)
	afterCrash := newUpload(t, "after-crash-first.bin", smallSize, false)
	var ticket []byte
	refused := 0
	proc.WaitFor(t, "a begin through the gateway to succeed after replica B's crash", 30*time.Second, func() bool {
		resp, body := f.begin(afterCrash.name, false)
		switch resp.StatusCode {
		case http.StatusCreated:
			ticket = body
			return true
		case http.StatusServiceUnavailable:
			refused++
			return false
		}
		t.Fatalf("begin after replica B's crash: %d %s", resp.StatusCode, body)
		return false
	})
	t.Logf("begins refused while the gateway still picked the dead replica: %d", refused)
	f.sendAndConfirm(afterCrash.name, afterCrash.data, false, ticket)
	secondBatch := []*upload{afterCrash,
		newUpload(t, "after-crash-small.bin", smallSize, false),
		newUpload(t, "after-crash-near-limit.bin", nearLimitSize, false),
		newUpload(t, "after-crash-simple-0.bin", simpleSize, false),
		newUpload(t, "after-crash-simple-1.bin", simpleSize, false),
		newUpload(t, "after-crash-multipart.bin", multipartSize, true),
	}
	for _, u := range secondBatch[1:] {
		f.upload(u.name, u.data, u.multipart)
	}
	everything := append(slices.Clone(firstBatch), secondBatch...)
	for _, u := range everything {
		f.expectDownload(u.name, u.data)
	}
	// A answered the calls after the crash: its counters grew by exactly those uploads.
	grownA := replicaA.okCalls(t)
	for method, want := range map[string]int{beginSimple: 5, beginMultipart: 1, confirm: 6} {
		if got := grownA[method] - callsA[method]; got != want {
			t.Errorf("%s after the crash: replica A answered %d more, want %d", method, got, want)
		}
	}
	expectPlacement(t, backend, bucket, prefix, db, everything)

	// 5. Clean shutdown of the rest, then no process logged a secret or token.
	for _, p := range []*proc.Proc{gateway, replicaA.Proc, namespace, authtoken, library} {
		if code := p.Stop(t, syscall.SIGTERM); code != 0 {
			t.Errorf("%s exit code %d", p.Name, code)
		}
	}
	proc.ExpectNoSecretLogged(t, []*proc.Proc{gateway, replicaA.Proc, replicaB.Proc, namespace, authtoken, library},
		adminKey, kekText, s3.SecretKey, librarySecret, minted.AccessToken)
	// Every line is a JSON log record (issue 15); replica B is left out, as its kill may have
	// cut its last line short.
	for _, p := range []*proc.Proc{gateway, replicaA.Proc, namespace, authtoken, library} {
		p.LogRecords(t)
	}
}

// objectReplica is one object process with the addresses the test reaches it on.
type objectReplica struct {
	*proc.Proc
	dataAddr    string
	metricsAddr string
	// data is the forwarder the replica lists as its data endpoint.
	data *forwarder
}

// forwarder is a TCP forwarder in front of one data endpoint, counting the bytes clients send
// through it.
type forwarder struct {
	lis      net.Listener
	received atomic.Int64
}

func startForwarder(t *testing.T, target string) *forwarder {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{lis: lis}
	t.Cleanup(f.close)
	go func() {
		for {
			client, err := lis.Accept()
			if err != nil {
				return
			}
			go f.forward(client, target)
		}
	}()
	return f
}

func (f *forwarder) forward(client net.Conn, target string) {
	defer client.Close()
	server, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer server.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(countingWriter{server, &f.received}, client)
		if tcp, ok := server.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(client, server)
	_ = client.Close()
	<-done
}

// countingWriter counts what it passes on as it goes: the gateway keeps its connections open.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func (f *forwarder) addr() string { return f.lis.Addr().String() }

func (f *forwarder) close() { _ = f.lis.Close() }

// okCalls answers, per gRPC method, how many calls the replica answered with OK, from otelgrpc's
// rpc.server.call.duration histogram.
func (r *objectReplica) okCalls(t *testing.T) map[string]int {
	t.Helper()
	resp, err := http.Get("http://" + r.metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", r.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d", r.Name, resp.StatusCode)
	}
	const sample = "rpc_server_call_duration_seconds_count{"
	calls := map[string]int{}
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		labels, ok := strings.CutPrefix(scanner.Text(), sample)
		if !ok || !strings.Contains(labels, `rpc_response_status_code="OK"`) {
			continue
		}
		_, method, found := strings.Cut(labels, `rpc_method="`)
		method, _, closed := strings.Cut(method, `"`)
		value := labels[strings.LastIndexByte(labels, ' ')+1:]
		n, err := strconv.ParseFloat(value, 64)
		if !found || !closed || err != nil {
			t.Fatalf("scrape %s: cannot read %q", r.Name, scanner.Text())
		}
		calls[method] += int(n)
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("scrape %s: %v", r.Name, err)
	}
	return calls
}

// upload is one file of the workload.
type upload struct {
	name      string
	data      []byte
	multipart bool
}

func newUpload(t *testing.T, name string, size int, multipart bool) *upload {
	return &upload{name: name, data: randomBytes(t, size), multipart: multipart}
}

// inlineLimit is the object service's default --inline-blob-max (docs/smallfiles.md).
const inlineLimit = 64 << 10

// expectPlacement checks where the bytes of uploads are: each file over the inline limit is one
// object in the bucket under prefix/blobs/ and a blob record without bytes; each file within it
// is a blob record holding its bytes, and nothing in the bucket. Files are told apart by size
// (the workload's sizes differ between the two kinds), and no other blob or object may exist.
func expectPlacement(t *testing.T, backend *s3mem.Backend, bucket, prefix string, db *pgx.Conn, uploads []*upload) {
	t.Helper()
	wantInBucket, wantInline := map[int64]int{}, map[int64]int{}
	for _, u := range uploads {
		if len(u.data) > inlineLimit {
			wantInBucket[int64(len(u.data))]++
		} else {
			wantInline[int64(len(u.data))]++
		}
	}

	list, err := backend.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatalf("list the bucket: %v", err)
	}
	inBucket := map[int64]int{}
	for _, o := range list.Contents {
		if !strings.HasPrefix(o.Key, prefix+"/blobs/") {
			t.Errorf("the bucket holds %s (%d bytes), outside %s/blobs/", o.Key, o.Size, prefix)
		}
		inBucket[o.Size]++
	}
	if list.IsTruncated || fmt.Sprint(inBucket) != fmt.Sprint(wantInBucket) {
		t.Errorf("the bucket holds objects of sizes %v (truncated %v); want %v, the files over %d bytes, and none of the smaller ones",
			inBucket, list.IsTruncated, wantInBucket, inlineLimit)
	}

	rows, err := db.Query(context.Background(), `SELECT size, octet_length(data) FROM blobs WHERE doomed = 0`)
	if err != nil {
		t.Fatalf("read the blob records: %v", err)
	}
	inline, stored := map[int64]int{}, map[int64]int{}
	for rows.Next() {
		var size int64
		var inlineBytes *int64
		if err := rows.Scan(&size, &inlineBytes); err != nil {
			t.Fatal(err)
		}
		switch {
		case inlineBytes == nil:
			stored[size]++
		case *inlineBytes == size:
			inline[size]++
		default:
			t.Errorf("a blob record of %d bytes holds %d inline", size, *inlineBytes)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read the blob records: %v", err)
	}
	if fmt.Sprint(inline) != fmt.Sprint(wantInline) || fmt.Sprint(stored) != fmt.Sprint(wantInBucket) {
		t.Errorf("blob records with their bytes inline: sizes %v, want %v; with their bytes in the bucket: sizes %v, want %v",
			inline, wantInline, stored, wantInBucket)
	}
}

// createFileLibrary creates a single-tenant file library through the admin API and answers its
// id and secret.
func createFileLibrary(t *testing.T, client *http.Client, publicURL, adminKey string) (id, secret string) {
	t.Helper()
	req, _ := http.NewRequest("POST", publicURL+"/admin/v1/libraries", strings.NewReader(`{"name":"replicas","libraryExtension":{"isFileLibrary":true}}`))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lib struct{ LibraryID, LibrarySecret string }
	if err := json.NewDecoder(resp.Body).Decode(&lib); resp.StatusCode != http.StatusCreated || err != nil || lib.LibraryID == "" {
		t.Fatalf("create file library: %d %v", resp.StatusCode, err)
	}
	return lib.LibraryID, lib.LibrarySecret
}
