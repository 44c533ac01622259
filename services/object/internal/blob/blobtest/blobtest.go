// Package blobtest is the contract every blob.Store must satisfy, written once and run against each
// implementation, so stores cannot drift apart in the behaviour callers rely on.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/object/internal/blob"
)

// bigSize is past 5 MiB (S3's smallest multipart part) and past the S3 store's 16 MiB part size, so
// an S3 store's multipart path is exercised with known and unknown sizes.
const bigSize = 17<<20 + 123

// Option adjusts a Run.
type Option func(*config)

type config struct {
	skip map[string]string // case name to reason
}

// Skip skips the contract case called name (as in the subtest's name) with reason. It is for
// servers that cannot take a case, not for stores that fail it: the reason must name the server's
// defect.
func Skip(name, reason string) Option {
	return func(c *config) { c.skip[name] = reason }
}

// Run runs the contract against stores made by newStore, which answers a fresh, empty store for
// each subtest and arranges its cleanup with t.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store, opts ...Option) {
	t.Helper()
	cfg := config{skip: map[string]string{}}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutStatOpen", testPutStatOpen},
		{"OpenRanges", testOpenRanges},
		{"Empty", testEmpty},
		{"BigKnownSize", func(t *testing.T, s blob.Store) { testBig(t, s, bigSize) }},
		{"BigUnknownSize", func(t *testing.T, s blob.Store) { testBig(t, s, -1) }},
		{"Replace", testReplace},
		{"SizeMismatch", testSizeMismatch},
		{"TrickledBody", testTrickledBody},
		{"BodyFailsMidway", testBodyFailsMidway},
		{"Delete", testDelete},
		{"List", testList},
		{"ListStopsOnError", testListStopsOnError},
		{"InvalidKeys", testInvalidKeys},
		{"CancelledPut", testCancelledPut},
		{"ConcurrentDifferentKeys", testConcurrentDifferentKeys},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"ConcurrentPutDeleteSiblings", testConcurrentPutDeleteSiblings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if reason, ok := cfg.skip[tt.name]; ok {
				t.Skip(reason)
			}
			tt.fn(t, newStore(t))
		})
	}
}

// randomBytes answers n deterministic pseudo-random bytes, different for each seed.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	var key [32]byte
	key[0] = byte(seed)
	key[1] = byte(seed >> 8)
	rand.NewChaCha8(key).Read(b)
	return b
}

// onlyReader hides every method but Read (ReaderAt, Seeker, WriterTo, Len), so stores cannot take
// shortcuts that a network stream would not allow.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func put(t *testing.T, s blob.Store, key string, data []byte, size int64) {
	t.Helper()
	n, err := s.Put(t.Context(), key, onlyReader{bytes.NewReader(data)}, size)
	if err != nil {
		t.Fatalf("Put(%q, %d bytes, size %d): %v", key, len(data), size, err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Put(%q) = %d, want %d", key, n, len(data))
	}
}

func read(t *testing.T, s blob.Store, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := s.Open(t.Context(), key, offset, length)
	if err != nil {
		t.Fatalf("Open(%q, %d, %d): %v", key, offset, length, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Open(%q, %d, %d): read: %v", key, offset, length, err)
	}
	return got
}

func wantContent(t *testing.T, s blob.Store, key string, want []byte) {
	t.Helper()
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	if info.Key != key || info.Size != int64(len(want)) {
		t.Fatalf("Stat(%q) = key %q size %d, want key %q size %d", key, info.Key, info.Size, key, len(want))
	}
	if got := read(t, s, key, 0, -1); !bytes.Equal(got, want) {
		t.Fatalf("Open(%q) answered %d bytes that differ from the %d stored", key, len(got), len(want))
	}
}

func wantNotFound(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if _, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat(%q) error = %v, want ErrNotFound", key, err)
	}
	if rc, err := s.Open(t.Context(), key, 0, -1); !errors.Is(err, blob.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Fatalf("Open(%q) error = %v, want ErrNotFound", key, err)
	}
}

func testPutStatOpen(t *testing.T, s blob.Store) {
	data := randomBytes(1, 1000)
	before := time.Now()
	put(t, s, "files/ab/cd/abcdef", data, int64(len(data)))
	wantContent(t, s, "files/ab/cd/abcdef", data)

	info, err := s.Stat(t.Context(), "files/ab/cd/abcdef")
	if err != nil {
		t.Fatal(err)
	}
	// S3 rounds modification times to the second; the bound only catches a zero or bogus time.
	if d := info.ModTime.Sub(before); d < -time.Hour || d > time.Hour {
		t.Fatalf("ModTime = %v, want close to %v", info.ModTime, before)
	}
}

func testOpenRanges(t *testing.T, s blob.Store) {
	data := randomBytes(2, 100)
	put(t, s, "r", data, int64(len(data)))
	tests := []struct {
		name           string
		offset, length int64
		want           []byte
		wantErr        error
	}{
		{"whole", 0, -1, data, nil},
		{"whole by length", 0, 100, data, nil},
		{"first byte", 0, 1, data[:1], nil},
		{"last byte", 99, 1, data[99:], nil},
		{"last byte to end", 99, -1, data[99:], nil},
		{"middle", 10, 20, data[10:30], nil},
		{"length past end", 90, 50, data[90:], nil},
		{"huge length", 1, 1 << 62, data[1:], nil},
		{"zero length", 5, 0, nil, nil},
		{"at end to end", 100, -1, nil, nil},
		{"at end with length", 100, 5, nil, nil},
		{"past end", 101, -1, nil, blob.ErrInvalidRange},
		{"far past end", 1 << 40, 1, nil, blob.ErrInvalidRange},
		{"negative offset", -1, 5, nil, blob.ErrInvalidRange},
		{"length below -1", 0, -2, nil, blob.ErrInvalidRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr != nil {
				rc, err := s.Open(t.Context(), "r", tt.offset, tt.length)
				if err == nil {
					rc.Close()
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Open(%d, %d) error = %v, want %v", tt.offset, tt.length, err, tt.wantErr)
				}
				return
			}
			if got := read(t, s, "r", tt.offset, tt.length); !bytes.Equal(got, tt.want) {
				t.Fatalf("Open(%d, %d) = %x, want %x", tt.offset, tt.length, got, tt.want)
			}
		})
	}
	t.Run("absent", func(t *testing.T) { wantNotFound(t, s, "absent") })
}

func testEmpty(t *testing.T, s blob.Store) {
	for _, size := range []int64{0, -1} {
		key := fmt.Sprintf("empty/%d", size+1)
		put(t, s, key, nil, size)
		wantContent(t, s, key, nil)
		if got := read(t, s, key, 0, 1); len(got) != 0 {
			t.Fatalf("Open(%q, 0, 1) = %x, want nothing", key, got)
		}
		rc, err := s.Open(t.Context(), key, 1, -1)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, blob.ErrInvalidRange) {
			t.Fatalf("Open(%q, 1, -1) error = %v, want ErrInvalidRange", key, err)
		}
	}
}

func testBig(t *testing.T, s blob.Store, size int64) {
	data := randomBytes(3, bigSize)
	put(t, s, "big/blob", data, size)
	wantContent(t, s, "big/blob", data)
	// A range crossing the S3 store's part boundary.
	off := int64(16<<20 - 10)
	if got := read(t, s, "big/blob", off, 20); !bytes.Equal(got, data[off:off+20]) {
		t.Fatalf("Open(%d, 20) differs", off)
	}
}

func testReplace(t *testing.T, s blob.Store) {
	first, second := randomBytes(4, 5000), randomBytes(5, 300)
	put(t, s, "k/v", first, int64(len(first)))
	put(t, s, "k/v", second, int64(len(second)))
	wantContent(t, s, "k/v", second)
	put(t, s, "k/v", first, -1)
	wantContent(t, s, "k/v", first)
}

func testSizeMismatch(t *testing.T, s blob.Store) {
	tests := []struct {
		name     string
		declared int64
		actual   int
	}{
		{"short", 10, 5},
		{"long", 10, 15},
		{"one extra", 10, 11},
		{"none instead of some", 5, 0},
		{"some instead of none", 0, 1},
		{"big short", bigSize, bigSize - 1},
		{"big long", bigSize, bigSize + 1},
	}
	old := randomBytes(6, 64)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := randomBytes(uint64(100+i), tt.actual)
			fresh := fmt.Sprintf("mismatch/fresh-%d", i)
			n, err := s.Put(t.Context(), fresh, onlyReader{bytes.NewReader(data)}, tt.declared)
			if !errors.Is(err, blob.ErrSizeMismatch) {
				t.Fatalf("Put(declared %d, actual %d) = %d, %v; want ErrSizeMismatch", tt.declared, tt.actual, n, err)
			}
			wantNotFound(t, s, fresh)

			// A failed replacement keeps the previous blob whole.
			existing := fmt.Sprintf("mismatch/existing-%d", i)
			put(t, s, existing, old, int64(len(old)))
			if _, err := s.Put(t.Context(), existing, onlyReader{bytes.NewReader(data)}, tt.declared); !errors.Is(err, blob.ErrSizeMismatch) {
				t.Fatalf("replacing Put(declared %d, actual %d) error = %v; want ErrSizeMismatch", tt.declared, tt.actual, err)
			}
			wantContent(t, s, existing, old)
		})
	}
}

func testDelete(t *testing.T, s blob.Store) {
	put(t, s, "d/x/y", []byte("y"), 1)
	put(t, s, "d/x/z", []byte("z"), 1)
	if err := s.Delete(t.Context(), "d/x/y"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, s, "d/x/y")
	wantContent(t, s, "d/x/z", []byte("z"))
	for _, key := range []string{"d/x/y", "never/there", "d"} {
		if err := s.Delete(t.Context(), key); err != nil {
			t.Fatalf("Delete(%q) of an absent key: %v", key, err)
		}
	}
	if err := s.Delete(t.Context(), "d/x/z"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, s, "d/x/z")
	// The key space is usable again after its last blob went.
	put(t, s, "d/x/y", []byte("again"), 5)
	wantContent(t, s, "d/x/y", []byte("again"))
}

func listKeys(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	keys := []string{}
	err := s.List(t.Context(), prefix, func(info blob.Info) error {
		keys = append(keys, info.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return keys
}

func testList(t *testing.T, s blob.Store) {
	// '-' sorts before '/' which sorts before '0': a store walking directories must still answer
	// "list/a-c" before "list/a/b" before "list/a0".
	keys := []string{"list/b", "list/a/c/d", "list/a0", "list/a-c", "list/a/b", "lists/x", "other/y", "z"}
	sizes := map[string]int64{}
	for i, key := range keys {
		data := randomBytes(uint64(200+i), i*3)
		put(t, s, key, data, int64(len(data)))
		sizes[key] = int64(len(data))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"list/a-c", "list/a/b", "list/a/c/d", "list/a0", "list/b", "lists/x", "other/y", "z"}},
		{"list/", []string{"list/a-c", "list/a/b", "list/a/c/d", "list/a0", "list/b"}},
		{"list/a", []string{"list/a-c", "list/a/b", "list/a/c/d", "list/a0"}},
		{"list/a/", []string{"list/a/b", "list/a/c/d"}},
		{"list", []string{"list/a-c", "list/a/b", "list/a/c/d", "list/a0", "list/b", "lists/x"}},
		{"list/a/c/d", []string{"list/a/c/d"}},
		{"o", []string{"other/y"}},
		{"nope", []string{}},
		{"list/a/c/d/", []string{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("prefix %q", tt.prefix), func(t *testing.T) {
			if got := listKeys(t, s, tt.prefix); !slices.Equal(got, tt.want) {
				t.Fatalf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
			}
		})
	}
	t.Run("sizes", func(t *testing.T) {
		err := s.List(t.Context(), "", func(info blob.Info) error {
			if info.Size != sizes[info.Key] {
				return fmt.Errorf("%q: size %d, want %d", info.Key, info.Size, sizes[info.Key])
			}
			if info.ModTime.IsZero() {
				return fmt.Errorf("%q: zero ModTime", info.Key)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func testListStopsOnError(t *testing.T, s blob.Store) {
	for _, key := range []string{"s/1", "s/2", "s/3"} {
		put(t, s, key, []byte(key), 3)
	}
	stop := errors.New("stop")
	var seen []string
	err := s.List(t.Context(), "s/", func(info blob.Info) error {
		seen = append(seen, info.Key)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("List error = %v, want the callback's", err)
	}
	if want := []string{"s/1", "s/2"}; !slices.Equal(seen, want) {
		t.Fatalf("List visited %q, want %q", seen, want)
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	keys := []string{
		"", "/", "/a", "a/", "a//b", ".", "..", "../a", "a/..", "a/../b", "./a", "a/.", ".tmp/x", "a/.hidden",
		"a b", `a\b`, "a:b", "a*", "ü", "a\x00b", "a\nb", "a%2Fb",
		strings.Repeat("a", blob.MaxKeyLen+1),
		strings.Repeat("a", 256),
	}
	for _, key := range keys {
		t.Run(fmt.Sprintf("%.20q", key), func(t *testing.T) {
			if _, err := s.Put(t.Context(), key, strings.NewReader("x"), 1); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Put error = %v, want ErrInvalidKey", err)
			}
			rc, err := s.Open(t.Context(), key, 0, -1)
			if err == nil {
				rc.Close()
			}
			if !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Open error = %v, want ErrInvalidKey", err)
			}
			if _, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Stat error = %v, want ErrInvalidKey", err)
			}
			if err := s.Delete(t.Context(), key); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Delete error = %v, want ErrInvalidKey", err)
			}
		})
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Fatalf("store holds %q after only invalid puts", got)
	}
	// The longest valid key and segment are accepted.
	longest := strings.Repeat("k", 255) + "/" + strings.Repeat("k", 254) + "/k"
	if len(longest) != blob.MaxKeyLen {
		t.Fatalf("longest key is %d bytes, want %d", len(longest), blob.MaxKeyLen)
	}
	for _, key := range []string{"A-Z_a-z.0-9/x", longest} {
		put(t, s, key, []byte("ok"), 2)
		wantContent(t, s, key, []byte("ok"))
	}
}

// trickle answers its bytes a few at a time, in reads of changing lengths, as a network body
// arrives in frames: stores that gather the bytes into blocks must not lose or repeat any.
type trickle struct {
	data []byte
	next int
}

func (r *trickle) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	r.next = r.next*7919%16381 + 1 // 1 to 16381 bytes, never the same twice running
	n := copy(p[:min(len(p), r.next)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func testTrickledBody(t *testing.T, s blob.Store) {
	data := randomBytes(5, 3<<20+12345) // crosses several blocks of any size up to 1 MiB
	for _, size := range []int64{int64(len(data)), -1} {
		key := fmt.Sprintf("trickled/%d", size)
		n, err := s.Put(t.Context(), key, &trickle{data: data, next: 1}, size)
		if err != nil || n != int64(len(data)) {
			t.Fatalf("Put(size %d) = %d, %v; want %d", size, n, err, len(data))
		}
		wantContent(t, s, key, data)
	}
}

// failingBody answers its bytes and then err instead of io.EOF.
type failingBody struct {
	data []byte
	err  error
}

func (r *failingBody) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p[:min(len(p), 3000)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func testBodyFailsMidway(t *testing.T, s blob.Store) {
	broken := errors.New("connection reset by the test")
	for _, size := range []int64{4 << 20, -1} {
		key := fmt.Sprintf("broken/%d", size)
		_, err := s.Put(t.Context(), key, &failingBody{data: randomBytes(6, 2<<20+1), err: broken}, size)
		if err == nil {
			t.Fatalf("Put(size %d) of a body that failed half-way succeeded", size)
		}
		wantNotFound(t, s, key)
	}
}

func testCancelledPut(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Put(ctx, "cancelled", strings.NewReader("data"), 4); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	wantNotFound(t, s, "cancelled")
}

func testConcurrentDifferentKeys(t *testing.T, s blob.Store) {
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			data := randomBytes(uint64(300+i), 100_000+i)
			_, errs[i] = s.Put(t.Context(), fmt.Sprintf("conc/%d/blob", i), onlyReader{bytes.NewReader(data)}, int64(len(data)))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		wantContent(t, s, fmt.Sprintf("conc/%d/blob", i), randomBytes(uint64(300+i), 100_000+i))
	}
}

func testConcurrentSameKey(t *testing.T, s blob.Store) {
	const n = 8
	values := make([][]byte, n)
	for i := range values {
		// Distinct lengths and contents, so any mix of two writes is detectable.
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, 300_000+i*1000)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Put(t.Context(), "same/key", onlyReader{bytes.NewReader(values[i])}, int64(len(values[i])))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got := read(t, s, "same/key", 0, -1)
	if !slices.ContainsFunc(values, func(v []byte) bool { return bytes.Equal(v, got) }) {
		t.Fatalf("after concurrent puts the blob is %d bytes matching none of the values written", len(got))
	}
	info, err := s.Stat(t.Context(), "same/key")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(got)) {
		t.Fatalf("Stat size %d, content %d bytes", info.Size, len(got))
	}
}

// testConcurrentPutDeleteSiblings races a Put into a directory against Deletes of its last other
// blob, which a local store may answer by removing the directory.
func testConcurrentPutDeleteSiblings(t *testing.T, s blob.Store) {
	const rounds = 100 // Enough for the race to hit the window between mkdir and rename a few times.
	var wg sync.WaitGroup
	var putErr, delErr error
	wg.Go(func() {
		for i := range rounds {
			key := fmt.Sprintf("sib/dir/put-%d", i)
			if _, err := s.Put(t.Context(), key, strings.NewReader("p"), 1); err != nil {
				putErr = err
				return
			}
			if err := s.Delete(t.Context(), key); err != nil {
				putErr = err
				return
			}
		}
	})
	wg.Go(func() {
		for range rounds {
			if _, err := s.Put(t.Context(), "sib/dir/other", strings.NewReader("o"), 1); err != nil {
				delErr = err
				return
			}
			if err := s.Delete(t.Context(), "sib/dir/other"); err != nil {
				delErr = err
				return
			}
		}
	})
	wg.Wait()
	if err := errors.Join(putErr, delErr); err != nil {
		t.Fatal(err)
	}
	if got := listKeys(t, s, "sib/"); len(got) != 0 {
		t.Fatalf("left behind %q", got)
	}
}
