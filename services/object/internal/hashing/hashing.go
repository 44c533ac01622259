// Package hashing computes, in one pass over bytes as they arrive, every digest the object service
// needs for a blob: its size, the CRC-64 that COS clients compare against x-cos-hash-crc64ecma, the
// MD5 behind the ETag, and SMH's two SHA-256 hashes used for instant upload (the hash of the first
// chunk and the chained hash over all chunks). Computing them while receiving means a blob is never
// read back just to hash it.
package hashing

import (
	"crypto/md5"
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
	// MD5 is the MD5 of the bytes.
	MD5 [16]byte
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

// ETag formats MD5 as S3 and COS answer it in the ETag header: lower-case hex between double quotes.
func (s Sums) ETag() string {
	return `"` + hex.EncodeToString(s.MD5[:]) + `"`
}

// Digest is an io.Writer that hashes everything written through it. It never fails and keeps only
// running hash states, never the bytes themselves. A Digest is not safe for concurrent use.
type Digest struct {
	size     int64
	crcTable *crc64.Table
	crc      uint64
	md5      hash.Hash
	chain    chainHash
}

// New returns an empty Digest.
func New() *Digest {
	return &Digest{
		// MakeTable returns the standard library's cached table for ECMA, so this allocates nothing
		// per Digest.
		crcTable: crc64.MakeTable(crc64.ECMA),
		md5:      md5.New(),
		chain:    newChainHash(),
	}
}

// Write hashes p. It always consumes all of p and never returns an error.
func (d *Digest) Write(p []byte) (int, error) {
	d.size += int64(len(p))
	d.crc = crc64.Update(d.crc, d.crcTable, p)
	d.md5.Write(p) // A hash.Hash never returns an error.
	d.chain.write(p)
	return len(p), nil
}

// Sum answers the digests of the bytes written so far. Writing may go on afterwards.
func (d *Digest) Sum() Sums {
	s := Sums{
		Size:  d.size,
		CRC64: d.crc,
	}
	d.md5.Sum(s.MD5[:0])
	s.BeginningHash, s.FullHash = d.chain.sum()
	return s
}

// FullHashOf reads r to its end and answers SMH's beginning and full hash of its bytes and their
// number, without the CRC and MD5 that a Digest also computes.
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
