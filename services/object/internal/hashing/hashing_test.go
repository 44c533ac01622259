package hashing

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash/crc64"
	"math/rand/v2"
	"strconv"
	"testing"
)

// referenceChain computes SMH's chained hash over the whole buffer at once, written independently of
// chainHash so the streaming code is checked against the definition rather than against itself.
func referenceChain(data []byte) (beginning, full string) {
	first := sha256.Sum256(data[:min(len(data), ChunkSize)])
	if len(data) <= ChunkSize {
		return hex.EncodeToString(first[:]), hex.EncodeToString(first[:])
	}
	h := first
	for off := ChunkSize; off < len(data); off += ChunkSize {
		chunk := data[off:min(off+ChunkSize, len(data))]
		h = sha256.Sum256(append(append([]byte(nil), h[:]...), chunk...))
	}
	return hex.EncodeToString(first[:]), hex.EncodeToString(h[:])
}

func TestCRC64CheckValue(t *testing.T) {
	// The catalogued check value of CRC-64/XZ (the reflected ECMA-182 variant COS uses) for "123456789".
	const want = 0x995DC9BBDF1939FA
	d := New()
	d.Write([]byte("123456789"))
	s := d.Sum()
	if s.CRC64 != want {
		t.Fatalf("CRC64 = %#x, want %#x", s.CRC64, uint64(want))
	}
	if got, wantStr := s.CRC64String(), strconv.FormatUint(want, 10); got != wantStr {
		t.Fatalf("CRC64String = %s, want %s", got, wantStr)
	}
	if got := s.CRC64String(); got != "11051210869376104954" {
		t.Fatalf("CRC64String = %s, want 11051210869376104954", got)
	}
}

func TestEmpty(t *testing.T) {
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	s := New().Sum()
	tests := []struct {
		name, got, want string
	}{
		{"BeginningHash", s.BeginningHash, emptySHA256},
		{"FullHash", s.FullHash, emptySHA256},
		{"ETag", s.ETag(), `"e3b0c44298fc1c149afbf4c8996fb924"`},
		{"CRC64String", s.CRC64String(), "0"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	if s.Size != 0 {
		t.Errorf("Size = %d, want 0", s.Size)
	}
}

func TestSumsMatchReference(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"chunk minus one", ChunkSize - 1},
		{"one chunk", ChunkSize},
		{"chunk plus one", ChunkSize + 1},
		{"two chunks", 2 * ChunkSize},
		{"three and a half chunks", 3*ChunkSize + ChunkSize/2},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// Write sizes that straddle, hit and miss chunk boundaries, so cutting must not depend on how the
	// caller happens to split its writes.
	writeSizes := []func() int{
		func() int { return 1 + rng.IntN(7) },
		func() int { return 1 + rng.IntN(300_000) },
		func() int { return ChunkSize - 1 },
		func() int { return ChunkSize + 1 },
		func() int { return rng.IntN(3 * ChunkSize) }, // includes empty writes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := make([]byte, tt.size)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			wantBeginning, wantFull := referenceChain(data)
			wantCRC := crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))

			for wi, next := range writeSizes {
				// Async must answer exactly what Digest does, whatever the write sizes.
				var d summer = New()
				if wi%2 == 1 {
					d = NewAsync()
				}
				for rest := data; ; {
					n := min(next(), len(rest))
					if _, err := d.Write(rest[:n]); err != nil {
						t.Fatal(err)
					}
					rest = rest[n:]
					if len(rest) == 0 {
						break
					}
				}
				s := d.Sum()
				if s.Size != int64(tt.size) {
					t.Errorf("writes %d: Size = %d, want %d", wi, s.Size, tt.size)
				}
				if s.BeginningHash != wantBeginning {
					t.Errorf("writes %d: BeginningHash = %s, want %s", wi, s.BeginningHash, wantBeginning)
				}
				if s.FullHash != wantFull {
					t.Errorf("writes %d: FullHash = %s, want %s", wi, s.FullHash, wantFull)
				}
				if s.CRC64 != wantCRC {
					t.Errorf("writes %d: CRC64 = %d, want %d", wi, s.CRC64, wantCRC)
				}
			}
			if tt.size <= ChunkSize && wantFull != wantBeginning {
				t.Errorf("reference: full %s != beginning %s for a single chunk", wantFull, wantBeginning)
			}

			beginning, full, size, err := FullHashOf(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if beginning != wantBeginning || full != wantFull || size != int64(tt.size) {
				t.Errorf("FullHashOf = %s, %s, %d; want %s, %s, %d",
					beginning, full, size, wantBeginning, wantFull, tt.size)
			}
		})
	}
}

func TestSumDoesNotDisturbWriting(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (2*ChunkSize+100)/16)
	d := New()
	// Summing at every boundary case mid-stream must leave the final result unchanged.
	for _, cut := range []int{0, 5, ChunkSize, ChunkSize + 3, 2 * ChunkSize} {
		d.Write(data[d.Sum().Size:cut])
		_ = d.Sum()
	}
	d.Write(data[d.Sum().Size:])
	wantBeginning, wantFull := referenceChain(data)
	if s := d.Sum(); s.BeginningHash != wantBeginning || s.FullHash != wantFull {
		t.Fatalf("got %s, %s; want %s, %s", s.BeginningHash, s.FullHash, wantBeginning, wantFull)
	}
}

func TestETag(t *testing.T) {
	d := New()
	d.Write([]byte("hello"))
	if got, want := d.Sum().ETag(), `"2cf24dba5fb0a30e26e83b2ac5b9e29e"`; got != want {
		t.Fatalf("ETag = %s, want %s", got, want)
	}
}

func BenchmarkDigest(b *testing.B) {
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(buf)))
	d := New()
	for b.Loop() {
		d.Write(buf)
	}
}

func BenchmarkFullHashOf(b *testing.B) {
	data := make([]byte, 8*ChunkSize)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, _, err := FullHashOf(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// summer is what Digest and Async share.
type summer interface {
	Write(p []byte) (int, error)
	Sum() Sums
}

func TestAsyncStopWithoutSum(t *testing.T) {
	a := NewAsync()
	if _, err := a.Write(make([]byte, 3*asyncBlock+5)); err != nil {
		t.Fatal(err)
	}
	a.Stop()
	a.Stop() // idempotent
}
