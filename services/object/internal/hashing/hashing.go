// Package hashing computes, in one pass over bytes as they arrive, every digest the object service
// needs for a blob: its size, the CRC-64 that COS clients compare against x-cos-hash-crc64ecma, and
// SMH's two SHA-256 hashes used for instant upload (the hash of the first chunk and the chained
// hash over all chunks), which also make the ETag. Computing them while receiving means a blob is
// never read back just to hash it; Async computes them beside the writing.
//
// There is no MD5: SMH clients never compare an ETag with one (they check crc64), and it was the
// costliest of the three (measured: half the CPU of a 1 GiB upload).
package hashing

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"hash/crc64"
	"io"
	"strconv"
)

// ChunkSize is the length of the chunks SMH's chained hash is cut into. The last chunk may be shorter.
const ChunkSize = 1 << 20

// Sums are the digests of everything written to a Digest.
type Sums struct {
	// Size is the number of bytes written.
	Size int64
	// CRC64 is CRC-64/ECMA-182 in the reflected form COS uses for x-cos-hash-crc64ecma (initial value and
	// final xor all ones; Go's hash/crc64 with the ECMA table).
	CRC64 uint64
	// BeginningHash is the hex SHA-256 of the first min(Size, ChunkSize) bytes.
	BeginningHash string
	// FullHash is the hex of the chained SHA-256 over ChunkSize chunks: h1 = SHA256(chunk1) and
	// hi = SHA256(h(i-1) || chunk_i) with h(i-1) as its 32 raw bytes. With a single chunk (or no
	// bytes at all) it equals BeginningHash.
	FullHash string
}

// CRC64String formats CRC64 in decimal, the form SMH sends and COS answers in x-cos-hash-crc64ecma.
func (s Sums) CRC64String() string {
	return strconv.FormatUint(s.CRC64, 10)
}

// ETag is the entity tag of the bytes: 32 hex digits (the length of the MD5 that S3 and COS
// answer) of the full hash, between double quotes. Any change of the bytes changes it.
func (s Sums) ETag() string {
	return `"` + s.ETagValue() + `"`
}

// ETagValue is ETag without the quotes.
func (s Sums) ETagValue() string {
	return s.FullHash[:32]
}

// Digest is an io.Writer that hashes everything written through it. It never fails and keeps only
// running hash states, never the bytes themselves. A Digest is not safe for concurrent use.
type Digest struct {
	size     int64
	crcTable *crc64.Table
	crc      uint64
	chain    chainHash
}

// New returns an empty Digest.
func New() *Digest {
	return &Digest{
		// MakeTable returns the standard library's cached table for ECMA, so this allocates nothing
		// per Digest.
		crcTable: crc64.MakeTable(crc64.ECMA),
		chain:    newChainHash(),
	}
}

// Write hashes p. It always consumes all of p and never returns an error.
func (d *Digest) Write(p []byte) (int, error) {
	d.size += int64(len(p))
	d.crc = crc64.Update(d.crc, d.crcTable, p)
	d.chain.write(p)
	return len(p), nil
}

// Sum answers the digests of the bytes written so far. Writing may go on afterwards.
func (d *Digest) Sum() Sums {
	s := Sums{
		Size:  d.size,
		CRC64: d.crc,
	}
	s.BeginningHash, s.FullHash = d.chain.sum()
	return s
}

// FullHashOf reads r to its end and answers SMH's beginning and full hash of its bytes and their
// number, without the CRC that a Digest also computes.
func FullHashOf(r io.Reader) (beginning, full string, size int64, err error) {
	c := newChainHash()
	size, err = io.Copy(&c, r)
	if err != nil {
		return "", "", size, err
	}
	beginning, full = c.sum()
	return beginning, full, size, nil
}

// chainHash computes SMH's chained SHA-256. It holds the running hash of the current chunk, which
// already includes the previous chunk's hash, so no chunk is ever buffered.
type chainHash struct {
	cur      hash.Hash
	curLen   int // bytes of the current chunk hashed so far, not counting the chained prefix
	chunks   int // chunks completed
	prev     [sha256.Size]byte
	firstSum [sha256.Size]byte
}

func newChainHash() chainHash {
	return chainHash{cur: sha256.New()}
}

// Write lets io.Copy feed a chainHash directly.
func (c *chainHash) Write(p []byte) (int, error) {
	c.write(p)
	return len(p), nil
}

func (c *chainHash) write(p []byte) {
	for len(p) > 0 {
		if c.curLen == 0 && c.chunks > 0 {
			// The previous chunk's hash is fed only once the next chunk has bytes: if the input ends
			// exactly on a boundary there is no next chunk and the full hash is the previous one.
			c.cur.Write(c.prev[:])
		}
		n := min(len(p), ChunkSize-c.curLen)
		c.cur.Write(p[:n])
		c.curLen += n
		p = p[n:]
		if c.curLen == ChunkSize {
			c.cur.Sum(c.prev[:0])
			if c.chunks == 0 {
				c.firstSum = c.prev
			}
			c.chunks++
			c.cur.Reset()
			c.curLen = 0
		}
	}
}

// sum answers the hex beginning and full hash without disturbing the running state.
func (c *chainHash) sum() (beginning, full string) {
	var last [sha256.Size]byte
	switch {
	case c.curLen > 0 || c.chunks == 0:
		// A partial chunk is pending, or nothing was written: the hash of the empty string
		// then stands for both, which is what the running hash holds.
		c.cur.Sum(last[:0])
	default:
		last = c.prev
	}
	first := c.firstSum
	if c.chunks == 0 {
		first = last
	}
	return hex.EncodeToString(first[:]), hex.EncodeToString(last[:])
}

// asyncBlock is how much Async gathers before handing bytes to its hashing goroutine, and
// asyncDepth how many blocks may wait: at most (asyncDepth+2)*asyncBlock bytes are held.
const (
	asyncBlock = 256 << 10
	asyncDepth = 4
)

// Async is a Digest that hashes on its own goroutine: Write copies the bytes and returns, so the
// hashing of one block overlaps with whatever the writer does next (storing the bytes). Sum ends
// it; Stop ends it without a sum (on an error path). One of them must be called.
type Async struct {
	d     *Digest
	buf   []byte
	full  chan []byte
	free  chan []byte
	done  chan struct{}
	ended bool
}

// NewAsync starts an Async.
func NewAsync() *Async {
	a := &Async{d: New(), full: make(chan []byte, asyncDepth), free: make(chan []byte, asyncDepth+1), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for b := range a.full {
			a.d.Write(b)
			// Hand the block back for reuse; when enough are waiting already, let it go.
			select {
			case a.free <- b[:0]:
			default:
			}
		}
	}()
	return a
}

// Write copies p for hashing. It never fails.
func (a *Async) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if a.buf == nil {
			select {
			case a.buf = <-a.free:
			default:
				a.buf = make([]byte, 0, asyncBlock)
			}
		}
		k := min(len(p), asyncBlock-len(a.buf))
		a.buf = append(a.buf, p[:k]...)
		p = p[k:]
		if len(a.buf) == asyncBlock {
			a.full <- a.buf
			a.buf = nil
		}
	}
	return n, nil
}

// Sum waits for every byte written to be hashed and answers the digests.
func (a *Async) Sum() Sums {
	if len(a.buf) > 0 {
		a.full <- a.buf
		a.buf = nil
	}
	a.Stop()
	return a.d.Sum()
}

// Stop ends the hashing goroutine and waits for it. It is safe to call more than once.
func (a *Async) Stop() {
	if !a.ended {
		a.ended = true
		close(a.full)
	}
	<-a.done
}
