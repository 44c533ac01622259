package dataplane

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	many := "bytes=" + rangeList(maxRanges+1) // distinct ranges, one too many
	atLimit := "bytes=" + strings.TrimSuffix(rangeList(maxRanges), ",")
	tests := []struct {
		header  string
		size    int64
		want    []byteRange
		verdict rangeVerdict
	}{
		{"", 10, nil, serveWhole},
		{"bytes=0-0", 10, []byteRange{{0, 1}}, servePartial},
		{"bytes=2-", 10, []byteRange{{2, 8}}, servePartial},
		{"bytes=-3", 10, []byteRange{{7, 3}}, servePartial},
		{"bytes=-30", 10, []byteRange{{0, 10}}, servePartial},
		{"bytes=5-99", 10, []byteRange{{5, 5}}, servePartial},
		{"bytes=5-99999999999999999999999", 10, []byteRange{{5, 5}}, servePartial},
		{"BYTES=1-2", 10, []byteRange{{1, 2}}, servePartial},
		{"bytes=0-1, 4-5 ,,8-", 10, []byteRange{{0, 2}, {4, 2}, {8, 2}}, servePartial},
		{"bytes=8-9,0-1", 10, []byteRange{{8, 2}, {0, 2}}, servePartial},
		{"bytes=0-4,5-9", 10, []byteRange{{0, 5}, {5, 5}}, servePartial}, // adjacent is not overlapping
		{"bytes=0-1,50-60", 10, []byteRange{{0, 2}}, servePartial},       // the unsatisfiable one is dropped
		{"bytes=-0,2-3", 10, []byteRange{{2, 2}}, servePartial},
		{"bytes=-0", 10, nil, notSatisfiable},
		{"bytes=10-", 10, nil, notSatisfiable},
		{"bytes=10-20,30-", 10, nil, notSatisfiable},
		{"bytes=99999999999999999999999-", 10, nil, notSatisfiable},
		{"bytes=0-", 0, nil, notSatisfiable},
		{"bytes=-5", 0, nil, notSatisfiable},
		{"items=0-1", 10, nil, serveWhole},
		{"bytes 0-1", 10, nil, serveWhole},
		{"bytes=", 10, nil, serveWhole},
		{"bytes=,", 10, nil, serveWhole},
		{"bytes=1", 10, nil, serveWhole},
		{"bytes=3-1", 10, nil, serveWhole},
		{"bytes=-", 10, nil, serveWhole},
		{"bytes=--1", 10, nil, serveWhole},
		{"bytes=+1-2", 10, nil, serveWhole},
		{"bytes=0x1-2", 10, nil, serveWhole},
		{"bytes=1 - 2", 10, nil, serveWhole},
		{"bytes=0-1,x", 10, nil, serveWhole},
		{"bytes=0-5,3-8", 10, nil, serveWhole}, // overlapping
		{"bytes=0-,-1", 10, nil, serveWhole},   // overlapping through a suffix
		{many, 100, nil, serveWhole},
		{atLimit, 100, ranges(maxRanges), servePartial},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q of %d", tt.header, tt.size), func(t *testing.T) {
			got, verdict := parseRange(tt.header, tt.size)
			if verdict != tt.verdict || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v %v, want %v %v", got, verdict, tt.want, tt.verdict)
			}
		})
	}
}

// rangeList is n one-byte ranges "0-0,2-2,4-4,..." (with a trailing comma); ranges is what they select.
func rangeList(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%d-%d,", 2*i, 2*i)
	}
	return b.String()
}

func ranges(n int) []byteRange {
	var out []byteRange
	for i := range n {
		out = append(out, byteRange{start: int64(2 * i), length: 1})
	}
	return out
}

func TestRangeHeaderReadsBack(t *testing.T) {
	in := []byteRange{{8, 2}, {0, 1}, {3, 4}}
	h := rangeHeader(in)
	if h != "bytes=8-9,0-0,3-6" {
		t.Fatalf("header %q", h)
	}
	got, verdict := parseRange(h, 10)
	if verdict != servePartial || !slices.Equal(got, in) {
		t.Fatalf("read back %v %v", got, verdict)
	}
}

// FuzzParseRange checks parseRange on any header and size: it never panics, and what it accepts
// is something the endpoint may serve: at most maxRanges non-empty, non-overlapping ranges inside
// the file, which its canonical header reads back to.
func FuzzParseRange(f *testing.F) {
	for _, seed := range []struct {
		header string
		size   int64
	}{
		{"bytes=0-0", 1}, {"bytes=-0", 10}, {"bytes=-5", 3}, {"bytes=2-", 10}, {"items=0-1", 10},
		{"bytes=0-1,3-4,,6-", 10}, {"bytes=0-5,3-8", 10}, {"bytes=99999999999999999999-", 5},
		{"bytes=" + rangeList(maxRanges+1), 1000}, {"bytes=0-", 0}, {"Bytes= 1-2 , 4-4", 8},
	} {
		f.Add(seed.header, seed.size)
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -(size + 1) // a file's size is never negative
		}
		got, verdict := parseRange(header, size)
		if verdict != servePartial {
			if got != nil {
				t.Fatalf("verdict %v with ranges %v", verdict, got)
			}
			return
		}
		if len(got) == 0 || len(got) > maxRanges {
			t.Fatalf("%d ranges accepted", len(got))
		}
		for _, r := range got {
			if r.length <= 0 || r.start < 0 || r.start >= size || r.length > size-r.start {
				t.Fatalf("range %+v outside a file of %d bytes", r, size)
			}
		}
		if overlapping(got) {
			t.Fatalf("overlapping ranges accepted: %v", got)
		}
		back, v := parseRange(rangeHeader(got), size)
		if v != servePartial || !slices.Equal(back, got) {
			t.Fatalf("canonical header %q reads back as %v %v, want %v", rangeHeader(got), back, v, got)
		}
	})
}
