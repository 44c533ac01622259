package serve

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// inlineMax is the default --inline-blob-max: uploads of at most this many bytes keep them in the
// object database, larger ones in the blob store.
const inlineMax = 64 << 10

// TestKillBetweenBlobWriteAndConfirm cuts the all-in-one between the PUT of small files and their
// confirm (issue 14 item 3). A small PUT stores its bytes in the object database with the
// upload's state in one durable commit, while begin's session row and confirm's mark are lazy
// writes; the kill must still leave (a) every file confirmed before it byte-identical, (b) no
// unconfirmed upload visible, (c) every unconfirmed upload confirmable after the restart, with its
// bytes, and (d) confirm idempotent on its key across the kill. A second kill lands in a burst of
// concurrent confirms: a confirm whose answer the kill cut is retried and answers 200, and no file
// is ever listed with other bytes than its own.
func TestKillBetweenBlobWriteAndConfirm(t *testing.T) {
	data := t.TempDir()
	addr := proc.FreeAddr(t)
	adminKey := "inline-operator-key-0123456789"
	env := []string{"SMH_ADMIN_KEY=" + adminKey}
	// The default lifetimes (tickets 1 h, sessions 24 h, grace 1 h) keep every session and its
	// bytes through the test: what disappears was lost by the kill, not collected.
	args := []string{"--data-dir", data, "--listen", addr}
	first := serve(t, env, args...)
	ca := filepath.Join(data, "tls", tlsx.CACertFile)
	waitHealthy(t, addr, ca)
	c := newSMHClient(t, "https://"+addr, ca, adminKey)
	c.createFileLibrary(t)
	c.mkdir(t, "crash")

	// The first half is confirmed, the second half only sent; both hold every layout.
	uploads := planSmallUploads(t, "f", 40)
	half := len(uploads) / 2
	firstAnswers := map[string][]byte{} // confirmed before the kill: the confirm's answer
	for i, u := range uploads {
		if err := u.begin(c); err != nil {
			t.Fatal(err)
		}
		if err := u.sendBytes(c); err != nil {
			t.Fatalf("%s (%d bytes): %v", u.name, len(u.data), err)
		}
		if i >= half {
			continue
		}
		r := c.confirm(t, u.tk.ConfirmKey, u.data)
		if r.status != http.StatusOK {
			t.Fatalf("confirm %s: %d %s", u.name, r.status, r.body)
		}
		u.confirmed = true
		firstAnswers[u.name] = r.body
	}
	first.Kill(t)

	second := serve(t, env, args...)
	waitHealthy(t, addr, ca)
	c = c.reconnect(t)

	// (a) and (b): the confirmed files, whole, and nothing else.
	var visible []string
	for _, u := range uploads {
		if u.confirmed {
			c.download(t, u)
			visible = append(visible, u.name)
		} else if r := c.api(t, "HEAD", c.fileURL(u.name), nil, nil); r.status != http.StatusNotFound {
			t.Errorf("HEAD of unconfirmed %s: %d, want 404", u.name, r.status)
		}
	}
	if got := c.list(t, "crash"); !slices.Equal(got, sortedCopy(visible)) {
		t.Fatalf("listing after the kill:\n got %v\nwant %v", got, sortedCopy(visible))
	}
	// (d) A confirm repeated after the kill answers the file of the first.
	for _, u := range uploads[:half] {
		r := c.confirm(t, u.tk.ConfirmKey, u.data)
		if r.status != http.StatusOK {
			t.Fatalf("confirm of %s again after the kill: %d %s", u.name, r.status, r.body)
		}
		sameFile(t, u.name, firstAnswers[u.name], r.body)
	}
	// (c) The unconfirmed sessions and their bytes survived: confirm now, twice.
	for _, u := range uploads[half:] {
		r := c.confirm(t, u.tk.ConfirmKey, u.data)
		if r.status != http.StatusOK {
			t.Fatalf("confirm of %s (%d bytes) after the kill: %d %s", u.name, len(u.data), r.status, r.body)
		}
		again := c.confirm(t, u.tk.ConfirmKey, u.data)
		if again.status != http.StatusOK {
			t.Fatalf("second confirm of %s: %d %s", u.name, again.status, again.body)
		}
		sameFile(t, u.name, r.body, again.body)
		u.confirmed = true
		c.download(t, u)
		visible = append(visible, u.name)
	}
	if got := c.list(t, "crash"); !slices.Equal(got, sortedCopy(visible)) {
		t.Fatalf("listing after the late confirms:\n got %v\nwant %v", got, sortedCopy(visible))
	}

	// The second kill: every burst upload is sent, then all confirm at once and the kill follows
	// the first answer (or half a second), so the others are in flight.
	burst := planSmallUploads(t, "burst", 30)
	for _, u := range burst {
		if err := u.begin(c); err != nil {
			t.Fatal(err)
		}
		if err := u.sendBytes(c); err != nil {
			t.Fatalf("%s (%d bytes): %v", u.name, len(u.data), err)
		}
	}
	var (
		wg        sync.WaitGroup
		fire      = make(chan struct{})
		answered  = make(chan struct{}, len(burst))
		burstSeen = make([][]byte, len(burst)) // the answer of a confirm that answered 200
	)
	for i, u := range burst {
		wg.Go(func() {
			<-fire
			r := c.confirm(nil, u.tk.ConfirmKey, u.data)
			if r.err == nil && r.status == http.StatusOK {
				u.confirmed = true
				burstSeen[i] = r.body
			}
			answered <- struct{}{}
		})
	}
	close(fire)
	select {
	case <-answered:
	case <-time.After(500 * time.Millisecond):
	}
	second.Kill(t)
	wg.Wait()

	third := serve(t, env, args...)
	waitHealthy(t, addr, ca)
	c = c.reconnect(t)
	// Whatever the kill left listed is whole, confirmed or not: a confirm cut off after its
	// commit shows its file with its own bytes, never another's, never a part.
	byName := map[string]*crashUpload{}
	for _, u := range burst {
		byName[u.name] = u
	}
	listedEarly := 0
	for _, name := range c.list(t, "crash") {
		if u, ok := byName[name]; ok {
			c.download(t, u)
			listedEarly++
		}
	}
	answeredBefore := 0
	for i, u := range burst {
		r := c.confirm(t, u.tk.ConfirmKey, u.data)
		if r.status != http.StatusOK {
			t.Fatalf("retried confirm of %s (%d bytes) after the kill: %d %s", u.name, len(u.data), r.status, r.body)
		}
		if u.confirmed {
			answeredBefore++
			sameFile(t, u.name, burstSeen[i], r.body)
		}
		u.confirmed = true
		c.download(t, u)
		visible = append(visible, u.name)
	}
	t.Logf("burst of %d confirms: %d answered 200 before the kill, %d listed after the restart before any retry, every retry answered 200",
		len(burst), answeredBefore, listedEarly)
	if got := c.list(t, "crash"); !slices.Equal(got, sortedCopy(visible)) {
		t.Fatalf("listing after the retried confirms:\n got %v\nwant %v", got, sortedCopy(visible))
	}
	for _, u := range uploads {
		c.download(t, u)
	}
	if code := third.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM exit code %d", code)
	}
}

// planSmallUploads makes n simple uploads named prefix-NN.bin. Every run of 20 holds the edges of
// the inline layout (0 and 1 byte, exactly --inline-blob-max, one byte more) and a file well in
// the blob store; the others are inline, of 2 B to 64 KiB.
func planSmallUploads(t *testing.T, prefix string, n int) []*crashUpload {
	t.Helper()
	var out []*crashUpload
	for i := range n {
		var size int
		switch i % 20 {
		case 0:
			size = 0
		case 1:
			size = 1
		case 2:
			size = inlineMax
		case 3:
			size = inlineMax + 1
		case 4:
			size = 3*inlineMax + 7
		default:
			size = 2 + (i*40_503)%(inlineMax-1)
		}
		u := &crashUpload{name: fmt.Sprintf("%s-%02d.bin", prefix, i), data: make([]byte, size), stage: stageReceived}
		if _, err := rand.Read(u.data); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// begin starts the upload's simple upload and keeps its ticket.
func (u *crashUpload) begin(c *smhClient) error {
	tk, err := c.begin(u.name, false)
	if err != nil {
		return fmt.Errorf("%s: %w", u.name, err)
	}
	u.tk = tk
	return nil
}

// sameFile fails unless two confirm answers (3.4) name the same file with the same content.
func sameFile(t *testing.T, name string, first, second []byte) {
	t.Helper()
	var a, b map[string]any
	if err := json.Unmarshal(first, &a); err != nil {
		t.Fatalf("%s: first confirm answer %s: %v", name, first, err)
	}
	if err := json.Unmarshal(second, &b); err != nil {
		t.Fatalf("%s: second confirm answer %s: %v", name, second, err)
	}
	for _, k := range []string{"path", "inode", "eTag", "crc64", "size"} {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			t.Fatalf("%s: confirms answer different files: %s %v, then %v\nfirst:  %s\nsecond: %s", name, k, a[k], b[k], first, second)
		}
	}
}

// TestSmallFilesSpaceReclaimed checks that the data dir gives back the room of deleted small
// files (issue 14 item 5): their bytes live in the object database's records, so without
// returning the freed pages the file would keep its peak size for ever. Thousands of inline
// files, a few in the blob store and some overwrites are deleted (directory into the bin, bin
// emptied); the cleanup jobs then purge the entries, collect the blobs and vacuum, and the data
// dir must come back near its size before the load.
//
// The library keeps deletes in the bin (so the test goes through "empty", as a user would) and
// has history off (the default, set explicitly): overwrites keep no version, so after the bin is
// emptied no row names the bytes.
func TestSmallFilesSpaceReclaimed(t *testing.T) {
	data := t.TempDir()
	addr := proc.FreeAddr(t)
	adminKey := "reclaim-operator-key-0123456789"
	env := []string{"SMH_ADMIN_KEY=" + adminKey}
	// Cleanup every second with two seconds of grace, and the rows of an emptied bin purged a
	// second after; confirmed sessions end 31 s after their begin (30 s of ticket, then 1 s), so
	// their rows go too while the test waits.
	p := serve(t, env, "--data-dir", data, "--listen", addr, "--gc-every", "1s", "--gc-grace", "2s",
		"--purge-after", "1s", "--upload-ticket-ttl", "30s", "--upload-session-ttl", "1s")
	ca := filepath.Join(data, "tls", tlsx.CACertFile)
	waitHealthy(t, addr, ca)
	c := newSMHClient(t, "https://"+addr, ca, adminKey)
	c.createLibrary(t, map[string]any{"isFileLibrary": true, "useRecycleBin": true, "enableFileHistory": false})

	// Warm-up: one small round of the same work, so that every table, index and WAL the load
	// touches exists and has its working size before the first figure is taken.
	c.loadAndDelete(t, 40, 1, 10)
	waitUntil(t, "the warm-up's files to be collected", 3*time.Minute, func() (bool, string) {
		blobs, _, _, _ := blobInventory(t, filepath.Join(data, "blobs"))
		return len(blobs) == 0, fmt.Sprintf("%d blobs in the store", len(blobs))
	})
	before, beforeFiles := dataDirUsage(t, data)
	t.Logf("before (after the warm-up): %s", describeUsage(before, beforeFiles))

	// The load: 2,000 inline files, 4 of 1 MiB in the blob store, 200 overwritten.
	peak, peakFiles := c.load(t, 2000, 4, 200, data)
	t.Logf("peak (all files live): %s", describeUsage(peak, peakFiles))
	c.deleteAll(t)

	// Bound: every file but the SQLite WAL and shared-memory files must come back within 2 MiB
	// of its figure before the load; the load added over 70 MiB. The WAL files are measured and
	// logged but not bounded: SQLite reuses a WAL from its start after a checkpoint and never
	// truncates it (no journal_size_limit), so it keeps the largest size one checkpoint cycle
	// reached, the cleanup's own deletes and vacuums included; that is a high-water mark of
	// write bursts, not room held by deleted files. The namespace database keeps what the change
	// feed must keep (3.18: every create, overwrite and delete is an event for DeltaRetention,
	// 180 days), about 2.5 MiB for this load; during the cleanup it grows only by the deletes' own
	// events and rows (measured: up to 0.03 MiB past its peak; bounded here by namespaceSlack), and
	// the rest, where the files' bytes lived (the object database, the blob store) and etcd, must
	// come back within the bound.
	const bound = 2 << 20
	const namespaceDB = "namespace.db"
	const namespaceSlack = 1 << 20
	beforeKept := withoutWAL(beforeFiles) - beforeFiles[namespaceDB]
	var after int64
	var afterFiles map[string]int64
	waitUntil(t, "the data dir, its WAL files and the namespace database aside, to come back within 2 MiB of its size before the load", 3*time.Minute, func() (bool, string) {
		after, afterFiles = dataDirUsage(t, data)
		kept := withoutWAL(afterFiles) - afterFiles[namespaceDB]
		return kept <= beforeKept+bound && afterFiles[namespaceDB] <= peakFiles[namespaceDB]+namespaceSlack,
			fmt.Sprintf("%.2f MiB without the WAL files and the namespace database (before: %.2f MiB); %s",
				mib(kept), mib(beforeKept), describeUsage(after, afterFiles))
	})
	t.Logf("after (bin emptied, cleanup done): %s", describeUsage(after, afterFiles))
	t.Logf("before %.2f MiB, peak %.2f MiB, after %.2f MiB (%+.2f MiB); without the WAL files %.2f, %.2f, %.2f MiB (%+.2f MiB)",
		mib(before), mib(peak), mib(after), mib(after-before),
		mib(beforeKept), mib(withoutWAL(peakFiles)), mib(withoutWAL(afterFiles)), mib(withoutWAL(afterFiles)-beforeKept))
	if code := p.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM exit code %d", code)
	}
}

// loadAndDelete uploads small inline files and large ones, overwrites some, then deletes them all
// through the bin.
func (c *smhClient) loadAndDelete(t *testing.T, small, large, overwritten int) {
	t.Helper()
	c.load(t, small, large, overwritten, "")
	c.deleteAll(t)
}

// load creates the crash directory and uploads into it small files of 16-48 KiB (inline) and
// large ones of 1 MiB (blob store), then overwrites the first small ones with new bytes of the
// same kind. With a data dir it answers the data dir's usage once the uploads are done.
func (c *smhClient) load(t *testing.T, small, large, overwritten int, dataDir string) (int64, map[string]int64) {
	t.Helper()
	c.mkdir(t, "crash")
	type job struct {
		name     string
		size     int
		strategy string
	}
	var jobs []job
	for i := range small {
		jobs = append(jobs, job{fmt.Sprintf("s%04d.bin", i), 16<<10 + (i*7_919)%(32<<10+1), ""})
	}
	for i := range large {
		jobs = append(jobs, job{fmt.Sprintf("l%02d.bin", i), 1 << 20, ""})
	}
	// Overwrites go after every first upload: a job names a file that exists by then.
	var later []job
	for i := range overwritten {
		later = append(later, job{fmt.Sprintf("s%04d.bin", i), 48<<10 - i, "overwrite"})
	}
	for _, batch := range [][]job{jobs, later} {
		work := make(chan job)
		failures := make(chan error, len(batch))
		var wg sync.WaitGroup
		// A few clients at once, as an app's users would upload.
		for range 6 {
			wg.Go(func() {
				for j := range work {
					if err := c.uploadSimple(j.name, j.size, j.strategy); err != nil {
						failures <- err
					}
				}
			})
		}
		for _, j := range batch {
			work <- j
		}
		close(work)
		wg.Wait()
		close(failures)
		for err := range failures {
			t.Fatal(err)
		}
	}
	if dataDir == "" {
		return 0, nil
	}
	return dataDirUsage(t, dataDir)
}

// uploadSimple uploads size random bytes as a simple upload (begin, PUT, confirm).
func (c *smhClient) uploadSimple(name string, size int, strategy string) error {
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	tk, err := c.beginResolving(name, false, strategy)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if r := c.send(tk, "", bytes.NewReader(b), int64(size)); r.err != nil || r.status != http.StatusOK {
		return r.failure("PUT " + name)
	}
	if r := c.confirm(nil, tk.ConfirmKey, b); r.err != nil || r.status != http.StatusOK {
		return r.failure("confirm " + name)
	}
	return nil
}

// deleteAll deletes the crash directory into the bin (5.10) and empties the bin (5.6).
func (c *smhClient) deleteAll(t *testing.T) {
	t.Helper()
	if r := c.api(t, "DELETE", "/api/v1/directory/"+c.lib+"/-/crash", nil, nil); r.status != http.StatusOK {
		t.Fatalf("delete the directory into the bin: %d %s", r.status, r.body)
	}
	if r := c.api(t, "DELETE", "/api/v1/recycled/"+c.lib+"/-", nil, nil); r.status != http.StatusNoContent {
		t.Fatalf("empty the bin: %d %s", r.status, r.body)
	}
}

// dataDirUsage answers the sum of the sizes of the files under dir (the SQLite WAL files
// included), and the same grouped: the files at the top by name, the others by their top
// directory.
func dataDirUsage(t *testing.T, dir string) (int64, map[string]int64) {
	t.Helper()
	var total int64
	groups := map[string]int64{}
	for p, size := range walkFiles(t, dir) {
		group, _, _ := strings.Cut(p, "/")
		groups[group] += size
		total += size
	}
	return total, groups
}

func describeUsage(total int64, groups map[string]int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.2f MiB:", mib(total))
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		if groups[g] >= 1<<10 {
			fmt.Fprintf(&b, " %s %.2f MiB", g, mib(groups[g]))
		}
	}
	return b.String()
}

// withoutWAL sums the groups of dataDirUsage but the SQLite WAL and shared-memory files.
func withoutWAL(groups map[string]int64) int64 {
	var n int64
	for g, size := range groups {
		if !strings.HasSuffix(g, "-wal") && !strings.HasSuffix(g, "-shm") {
			n += size
		}
	}
	return n
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
