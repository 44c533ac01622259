package dataplane

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
)

// maxRanges is how many ranges one Range header may ask for before the endpoint ignores it and
// sends the whole file. Players and download managers ask for one, a few at most; dozens of
// ranges make each response cost a part header per range (RFC 9110 section 14.2 on denial of
// service through many small ranges).
const maxRanges = 32

// byteRange is one satisfiable range of a file: length bytes from start, never empty.
type byteRange struct {
	start, length int64
}

// rangeVerdict is what a Range header asks of the data endpoint.
type rangeVerdict int

const (
	// serveWhole: no Range, or one the endpoint ignores (RFC 9110 section 14.2 lets a server
	// ignore it): another unit, invalid syntax, more than maxRanges ranges, overlapping ranges.
	serveWhole rangeVerdict = iota
	// servePartial: the satisfiable ranges, in the order asked (206).
	servePartial
	// notSatisfiable: a valid bytes range-set of which no range selects a byte (416).
	notSatisfiable
)

// parseRange reads a Range header against a file of size bytes, per RFC 9110 section 14.1.1.
// Ranges beyond the end are dropped or clamped, suffix ranges count from the end; the ranges
// answered with servePartial lie within [0, size), are not empty and do not overlap.
func parseRange(header string, size int64) ([]byteRange, rangeVerdict) {
	if header == "" {
		return nil, serveWhole
	}
	unit, set, ok := strings.Cut(header, "=")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return nil, serveWhole
	}
	var ranges []byteRange
	specs := 0
	for spec := range strings.SplitSeq(set, ",") {
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue // a list may hold empty elements (RFC 9110 section 5.6.1)
		}
		if specs++; specs > maxRanges {
			return nil, serveWhole
		}
		first, last, ok := strings.Cut(spec, "-")
		if !ok {
			return nil, serveWhole
		}
		if first == "" {
			n, ok := digits(last)
			if !ok {
				return nil, serveWhole
			}
			if n == 0 || size == 0 {
				continue // a suffix of nothing selects no byte
			}
			n = min(n, size)
			ranges = append(ranges, byteRange{start: size - n, length: n})
			continue
		}
		start, ok := digits(first)
		if !ok {
			return nil, serveWhole
		}
		end := int64(-1) // open: to the end
		if last != "" {
			if end, ok = digits(last); !ok || end < start {
				return nil, serveWhole
			}
		}
		if start >= size {
			continue // begins after the end: selects no byte
		}
		if end < 0 || end >= size {
			end = size - 1
		}
		ranges = append(ranges, byteRange{start: start, length: end - start + 1})
	}
	if specs == 0 {
		return nil, serveWhole // "bytes=" or "bytes=,": no range-spec, invalid
	}
	if len(ranges) == 0 {
		return nil, notSatisfiable
	}
	if overlapping(ranges) {
		return nil, serveWhole
	}
	return ranges, servePartial
}

// digits parses 1*DIGIT; a number too large for int64 saturates, since it still names a position
// past any file's end.
func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil { // only a range error is left
		return math.MaxInt64, true
	}
	return n, true
}

// overlapping reports whether two ranges share a byte. Such a request would have the same bytes
// sent more than once; the endpoint sends the file once instead (RFC 9110 section 14.2).
func overlapping(ranges []byteRange) bool {
	sorted := slices.SortedFunc(slices.Values(ranges), func(a, b byteRange) int {
		return cmp.Compare(a.start, b.start)
	})
	for i := 1; i < len(sorted); i++ {
		if sorted[i].start < sorted[i-1].start+sorted[i-1].length {
			return true
		}
	}
	return false
}

// rangeHeader writes the ranges as a canonical Range header, which http.ServeContent then serves as
// asked (its own parser agrees with parseRange on ranges that lie within the file).
func rangeHeader(ranges []byteRange) string {
	var b strings.Builder
	b.WriteString("bytes=")
	for i, r := range ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(r.start, 10))
		b.WriteByte('-')
		b.WriteString(strconv.FormatInt(r.start+r.length-1, 10))
	}
	return b.String()
}
