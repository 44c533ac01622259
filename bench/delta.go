package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// The change feed measurement (SMH API 3.18, docs/changefeed.md), once per store engine:
//
//	(p) reading 10,000 events of a space's delta log in pages of 1,000 through the REST API,
//	    against listing a directory of 10,000 entries in pages of 1,000 through the REST API
//	    (target <= 2). The events are those of the directory's own fill, so both read the same
//	    entries.

const (
	// deltaDirSize is how many entries (p)'s directory holds, and how many events it reads.
	deltaDirSize = 10_000
	// deltaPage is the page size of both walks: the largest either API allows.
	deltaPage = 1000
	// deltaRounds is how many interleaved rounds of both walks run; the median ratio counts.
	deltaRounds = 7
)

// runDelta runs (p) on each engine, each on its own all-in-one.
func runDelta(ctx context.Context, c int) error {
	return onEachEngine(ctx, "(p)", func(e engine) error { return deltaVsListing(ctx, e, c) })
}

func deltaVsListing(ctx context.Context, e engine, c int) error {
	in, err := startInstance(ctx, e.dsn, c)
	if err != nil {
		return err
	}
	defer in.stop()
	lib, err := in.library(`{"isFileLibrary":true}`)
	if err != nil {
		return err
	}
	ns := nsAPI{instance: lib, c: c}
	feedURL := func(kind string, kv ...string) string {
		q := url.Values{"access_token": {lib.token}}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return lib.srv.URL + "/api/v1/fs-delta/" + lib.libraryID + "/-/" + kind + "?" + q.Encode()
	}
	const dir = "feed"
	if err := ns.mkdir(dir); err != nil {
		return err
	}
	body, err := lib.do("GET", feedURL("cursor"), nil, http.StatusOK)
	if err != nil {
		return err
	}
	var head struct{ Cursor string }
	if err := json.Unmarshal(body, &head); err != nil || head.Cursor == "" {
		return fmt.Errorf("cursor: %v %.200s", err, body)
	}
	// The fill: deltaDirSize creates from c clients, each one event.
	fill, err := ns.fillDir(dir, deltaDirSize)
	if err != nil {
		return err
	}

	readLog := func() (time.Duration, error) {
		t0 := time.Now()
		cursor, n := head.Cursor, 0
		for pages := 0; ; pages++ {
			if pages > 2*deltaDirSize/deltaPage {
				return 0, errors.New("the log does not end")
			}
			body, err := lib.do("GET", feedURL("delta", "cursor", cursor, "limit", fmt.Sprint(deltaPage)), nil, http.StatusOK)
			if err != nil {
				return 0, err
			}
			var page struct {
				Cursor   string
				HasMore  bool
				Contents []struct{ EventType, Name string }
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return 0, err
			}
			n += len(page.Contents)
			cursor = page.Cursor
			if !page.HasMore {
				break
			}
		}
		if n != deltaDirSize {
			return 0, fmt.Errorf("read %d events, want %d", n, deltaDirSize)
		}
		return time.Since(t0), nil
	}
	listDir := func() (time.Duration, error) {
		t0 := time.Now()
		marker, n := "", 0
		for pages := 0; ; pages++ {
			if pages > 2*deltaDirSize/deltaPage {
				return 0, errors.New("the listing does not end")
			}
			kv := []string{"limit", fmt.Sprint(deltaPage)}
			if marker != "" {
				kv = append(kv, "marker", marker)
			}
			body, err := lib.do("GET", ns.url(dir, kv...), nil, http.StatusOK)
			if err != nil {
				return 0, err
			}
			var page struct {
				Contents   []struct{ Name string }
				NextMarker string
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return 0, err
			}
			n += len(page.Contents)
			if page.NextMarker == "" {
				break
			}
			marker = page.NextMarker
		}
		if n != deltaDirSize {
			return 0, fmt.Errorf("listed %d entries, want %d", n, deltaDirSize)
		}
		return time.Since(t0), nil
	}
	// One untimed round of each first, then interleaved rounds (the machine is shared).
	if _, err := readLog(); err != nil {
		return err
	}
	if _, err := listDir(); err != nil {
		return err
	}
	var logs, lists []time.Duration
	var ratios []float64
	for range deltaRounds {
		l, err := readLog()
		if err != nil {
			return err
		}
		d, err := listDir()
		if err != nil {
			return err
		}
		logs, lists = append(logs, l), append(lists, d)
		ratios = append(ratios, l.Seconds()/d.Seconds())
	}
	slices.Sort(ratios)
	fmt.Printf("(p) change feed on %s: %d events vs a directory of %d entries, pages of %d (REST)\n", e.name, deltaDirSize, deltaDirSize, deltaPage)
	fmt.Printf("    fill (REST)      %d creates in %s: %.0f/s\n", deltaDirSize, fill.Round(100*time.Millisecond), deltaDirSize/fill.Seconds())
	fmt.Printf("    delta log        median %9s  max %9s  (%d rounds)\n", short(median(logs)), short(slices.Max(logs)), deltaRounds)
	fmt.Printf("    listing          median %9s  max %9s  (%d rounds)\n", short(median(lists)), short(slices.Max(lists)), deltaRounds)
	fmt.Printf("    ratio            %.2f   (median of %d rounds, log/listing; target <= 2)\n\n", ratios[len(ratios)/2], deltaRounds)
	return nil
}
