package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The data lifecycle measurements (docs/lifecycle.md), each a ratio of two OpenSMH operations
// measured in the same run:
//
//	(r) delete a directory holding 100,000 descendants into the recycle bin and restore it,
//	    against the same for an empty directory (both change one row; target <= 2);
//	(s) 4 KiB upload cycles overwriting files with a space quota, the library cap and history
//	    versions on, against the same cycles in a library with all of them off (target >= 0.9);
//	(t) a page of a recycle bin holding 100,000 items near its end against near its start
//	    (target <= 1.5).

const (
	// binTreeSize is how many descendants (r)'s directory holds; binItems how many items (t)'s
	// bin holds.
	binTreeSize = 100_000
	binItems    = 100_000
	// binPageLimit is the largest page the recycle list allows (5.1).
	binPageLimit = 100
	// lifecycleRounds is how many (r) round trips and (s) interleaved rounds run.
	lifecycleRounds = 9
	// overwriteNames is how many names each (s) worker overwrites in turn, so history keeps
	// versions and drops the oldest.
	overwriteNames = 4
)

// runLifecycle runs (r)-(t) on one all-in-one with the default store (SQLite).
func runLifecycle(ctx context.Context, d time.Duration, c int, only string) error {
	in, err := startInstance(ctx, "", c)
	if err != nil {
		return err
	}
	defer in.stop()
	fmt.Printf("data lifecycle: SQLite store, own all-in-one, fsync on\n\n")
	if strings.Contains(only, "r") {
		lib, err := in.library(`{"isFileLibrary":true,"useRecycleBin":true}`)
		if err != nil {
			return err
		}
		if err := binRoundTrips(lib); err != nil {
			return fmt.Errorf("(r): %w", err)
		}
	}
	if strings.Contains(only, "s") {
		if err := lifecycleCycles(in, d, c); err != nil {
			return fmt.Errorf("(s): %w", err)
		}
	}
	if strings.Contains(only, "t") {
		lib, err := in.library(`{"isFileLibrary":true,"useRecycleBin":true}`)
		if err != nil {
			return err
		}
		if err := binListing(lib, c); err != nil {
			return fmt.Errorf("(t): %w", err)
		}
	}
	return nil
}

// library creates a library with the given libraryExtension JSON and answers an instance view
// of it with an admin token.
func (in *instance) library(extension string) (*instance, error) {
	req, _ := http.NewRequest("POST", in.srv.URL+"/admin/v1/libraries",
		strings.NewReader(`{"name":"bench-lifecycle","libraryExtension":`+extension+`}`))
	req.Header.Set("Authorization", "Bearer bench-operator-key")
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, err
	}
	var lib struct{ LibraryID, LibrarySecret string }
	err = json.NewDecoder(resp.Body).Decode(&lib)
	resp.Body.Close()
	if err != nil || lib.LibraryID == "" {
		return nil, fmt.Errorf("create library: %v (status %d)", err, resp.StatusCode)
	}
	out := *in
	out.libraryID = lib.LibraryID
	out.mintURL = in.srv.URL + "/api/v1/token?" + url.Values{"library_id": {lib.LibraryID},
		"library_secret": {lib.LibrarySecret}, "user_id": {"bench"}, "grant": {"admin"}}.Encode()
	body, err := out.do("GET", out.mintURL, nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var tok struct{ AccessToken string }
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("mint: %v", err)
	}
	out.token = tok.AccessToken
	return &out, nil
}

// api answers a business-API URL of the library's single space: kind is "directory", "file" or
// "recycled"; path is appended as it is (plain ASCII here).
func (in *instance) api(kind, path string, kv ...string) string {
	q := url.Values{"access_token": {in.token}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u := in.srv.URL + "/api/v1/" + kind + "/" + in.libraryID + "/-"
	if path != "" {
		u += "/" + path
	}
	return u + "?" + q.Encode()
}

// copyDir copies a directory, waiting for the task when the copy runs as one (decision 7).
func (in *instance) copyDir(from, to string) error {
	req, _ := http.NewRequest("PUT", in.api("directory", to), strings.NewReader(`{"copyFrom":"`+from+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := in.client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusNoContent:
		return nil
	case http.StatusAccepted:
	default:
		return fmt.Errorf("copy %s: status %d: %.200s", from, resp.StatusCode, body)
	}
	var accepted struct{ TaskID int64 }
	if err := json.Unmarshal(body, &accepted); err != nil {
		return err
	}
	for {
		time.Sleep(50 * time.Millisecond)
		out, err := in.do("GET", in.srv.URL+fmt.Sprintf("/api/v1/task/%s/-/%d?access_token=%s", in.libraryID,
			accepted.TaskID, url.QueryEscape(in.token)), nil, http.StatusOK)
		if err != nil {
			return err
		}
		var tasks []struct{ Status int }
		if err := json.Unmarshal(out, &tasks); err != nil || len(tasks) != 1 {
			return fmt.Errorf("task: %.200s", out)
		}
		if tasks[0].Status != http.StatusAccepted {
			if tasks[0].Status >= 300 {
				return fmt.Errorf("copy task ended with %d", tasks[0].Status)
			}
			return nil
		}
	}
}

// fillTree makes dir hold at least n descendant directories, by doubling: 100 directories by
// hand, then each round copies the tree beside itself and gathers both halves under a new
// directory with two O(1) moves.
func (in *instance) fillTree(dir string, n int) (int, error) {
	seed := dir + "-0"
	for i := range 100 {
		if _, err := in.do("PUT", in.api("directory", fmt.Sprintf("%s/d%03d", seed, i)), nil, http.StatusCreated); err != nil {
			return 0, err
		}
	}
	cur, count := seed, 101 // the seed directory and its children
	for round := 1; count-1 < n; round++ {
		next := fmt.Sprintf("%s-%d", dir, round)
		if err := in.copyDir(cur, next+"-copy"); err != nil {
			return 0, err
		}
		for _, part := range []string{cur, next + "-copy"} {
			if _, err := in.do("PUT", in.api("directory", next+"/"+part), map[string]string{"from": part}, http.StatusNoContent); err != nil {
				return 0, err
			}
		}
		cur, count = next, 2*count+1
	}
	if _, err := in.do("PUT", in.api("directory", dir), map[string]string{"from": cur}, http.StatusNoContent); err != nil {
		return 0, err
	}
	return count - 1, nil
}

// binRoundTrip deletes dir into the bin and restores it, answering the two latencies.
func (in *instance) binRoundTrip(dir string) (time.Duration, time.Duration, error) {
	t0 := time.Now()
	body, err := in.do("DELETE", in.api("directory", dir), nil, http.StatusOK)
	if err != nil {
		return 0, 0, err
	}
	t1 := time.Now()
	var item struct{ RecycledItemID int64 }
	if err := json.Unmarshal(body, &item); err != nil || item.RecycledItemID <= 0 {
		return 0, 0, fmt.Errorf("delete into the bin: %.200s", body)
	}
	t2 := time.Now()
	if _, err := in.do("POST", in.api("recycled", fmt.Sprint(item.RecycledItemID), "restore", ""), nil, http.StatusOK); err != nil {
		return 0, 0, err
	}
	return t1.Sub(t0), time.Since(t2), nil
}

// binRoundTrips prints (r).
func binRoundTrips(in *instance) error {
	start := time.Now()
	size, err := in.fillTree("full", binTreeSize)
	if err != nil {
		return err
	}
	fill := time.Since(start)
	if _, err := in.do("PUT", in.api("directory", "empty"), nil, http.StatusCreated); err != nil {
		return err
	}
	var del, res [2][]time.Duration
	for round := range lifecycleRounds + 1 {
		for k, dir := range []string{"empty", "full"} {
			dd, rd, err := in.binRoundTrip(dir)
			if err != nil {
				return err
			}
			if round > 0 { // the first round warms both up
				del[k], res[k] = append(del[k], dd), append(res[k], rd)
			}
		}
	}
	// The restored tree is whole: the directory still holds what it held.
	body, err := in.do("GET", in.api("directory", "full", "stats", "1"), nil, http.StatusOK)
	if err != nil {
		return err
	}
	var st struct{ DirCount float64 }
	if err := json.Unmarshal(body, &st); err != nil || int(st.DirCount) != size {
		return fmt.Errorf("after %d round trips the tree holds %v directories, want %d (%.200s)", lifecycleRounds+1, st.DirCount, size, body)
	}
	fmt.Printf("(r) delete into the recycle bin and restore: a directory with %d descendants (made by copies in %s)\n", size, fill.Round(100*time.Millisecond))
	fmt.Printf("    against an empty directory, %d rounds after a warm-up, median latency\n", lifecycleRounds)
	fmt.Printf("    delete  empty %9s   full %9s   ratio %.2f\n", short(median(del[0])), short(median(del[1])), median(del[1]).Seconds()/median(del[0]).Seconds())
	fmt.Printf("    restore empty %9s   full %9s   ratio %.2f\n", short(median(res[0])), short(median(res[1])), median(res[1]).Seconds()/median(res[0]).Seconds())
	both := median(del[1]).Seconds() + median(res[1]).Seconds()
	fmt.Printf("    ratio            %.2f   (delete+restore, full/empty; target <= 2)\n\n", both/(median(del[0]).Seconds()+median(res[0]).Seconds()))
	return nil
}

// lifecycleCycles prints (s): rounds alternate between the two libraries, and the median of the
// per-round ratios counts (the machine is shared and noisy).
func lifecycleCycles(in *instance, d time.Duration, c int) error {
	on, err := in.library(`{"isFileLibrary":true,"useRecycleBin":true,"enableFileHistory":true,"fileHistoryCount":3,` +
		`"enableQuota":true,"libraryQuota":"1099511627776"}`)
	if err != nil {
		return err
	}
	if _, err := on.do("POST", on.srv.URL+"/api/v1/quota/"+on.libraryID+"?access_token="+url.QueryEscape(on.token),
		map[string]any{"capacity": "1099511627776", "removeWhenExceed": false, "removeAfterDays": 0}, http.StatusCreated); err != nil {
		return fmt.Errorf("create quota: %w", err)
	}
	off, err := in.library(`{"isFileLibrary":true}`)
	if err != nil {
		return err
	}
	body := newBlock()[:cycleSize]
	crc := crcOf(body, cycleSize)
	round := d / 2
	cycle := func(lib *instance) (result, error) {
		a := newObjAPI(lib)
		var firstErr atomic.Pointer[error]
		r := measure(c, round, func(w, i int) error {
			name := fmt.Sprintf("w%02d-%d.bin", w, i%overwriteNames)
			t, err := a.begin(name, "conflict_resolution_strategy", "overwrite")
			if err == nil {
				_, err = a.send(a.client, t, bytes.NewReader(body), cycleSize)
			}
			if err == nil {
				_, err = a.confirm(t.ConfirmKey, crc)
			}
			if err != nil {
				firstErr.CompareAndSwap(nil, &err)
			}
			return err
		})
		if p := firstErr.Load(); p != nil {
			return r, *p
		}
		return r, nil
	}
	var ratios []float64
	var onRates, offRates []float64
	for k := range lifecycleRounds + 1 {
		rOn, err := cycle(on)
		if err != nil {
			return err
		}
		rOff, err := cycle(off)
		if err != nil {
			return err
		}
		if k > 0 {
			ratios = append(ratios, rOn.rate()/rOff.rate())
			onRates, offRates = append(onRates, rOn.rate()), append(offRates, rOff.rate())
		}
	}
	// History really kept versions: the versions of one overwritten name.
	hist, err := on.do("GET", on.srv.URL+"/api/v1/directory-history/"+on.libraryID+"/-/history-list/w00-0.bin?access_token="+
		url.QueryEscape(on.token), nil, http.StatusOK)
	if err != nil {
		return err
	}
	var versions struct{ Contents []json.RawMessage }
	if err := json.Unmarshal(hist, &versions); err != nil || len(versions.Contents) < 2 {
		return fmt.Errorf("history kept no versions: %.200s", hist)
	}
	slices.Sort(ratios)
	fmt.Printf("(s) %d KiB upload cycles overwriting %d names per client, %d concurrent clients, %d rounds of %s each:\n",
		cycleSize>>10, overwriteNames, c, lifecycleRounds, round)
	fmt.Printf("    quota (space and library) and history on, against a library with both off\n")
	fmt.Printf("    on   median %.0f cycles/s\n", medianFloat(onRates))
	fmt.Printf("    off  median %.0f cycles/s\n", medianFloat(offRates))
	fmt.Printf("    ratio            %.2f   (median of per-round ratios; target >= 0.9)\n\n", ratios[len(ratios)/2])
	return nil
}

func medianFloat(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// binListing prints (t): a bin of binItems items, its first pages against its last pages.
func binListing(in *instance, c int) error {
	start := time.Now()
	if _, err := in.do("PUT", in.api("directory", "bin"), nil, http.StatusCreated); err != nil {
		return err
	}
	// Each worker makes and deletes its own directories; the first error stops them all.
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for failed.Load() == nil {
				i := next.Add(1) - 1
				if i >= binItems {
					return
				}
				dir := fmt.Sprintf("bin/i%06d", i)
				_, err := in.do("PUT", in.api("directory", dir), nil, http.StatusCreated)
				if err == nil {
					_, err = in.do("DELETE", in.api("directory", dir), nil, http.StatusOK)
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if p := failed.Load(); p != nil {
		return *p
	}
	fill := time.Since(start)
	var pages []time.Duration
	seen := 0
	marker := ""
	for {
		kv := []string{"by-marker", "1", "limit", fmt.Sprint(binPageLimit)}
		if marker != "" {
			kv = append(kv, "marker", marker)
		}
		t0 := time.Now()
		body, err := in.do("GET", in.api("recycled", "", kv...), nil, http.StatusOK)
		if err != nil {
			return err
		}
		var page struct {
			Contents   []json.RawMessage
			NextMarker string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return err
		}
		pages = append(pages, time.Since(t0))
		seen += len(page.Contents)
		if page.NextMarker == "" {
			break
		}
		if len(pages) > 2*binItems/binPageLimit {
			return errors.New("the bin listing does not end")
		}
		marker = page.NextMarker
	}
	if seen != binItems {
		return fmt.Errorf("walked %d items, want %d", seen, binItems)
	}
	first, last := median(pages[:min(20, len(pages))]), median(pages[max(0, len(pages)-20):])
	fmt.Printf("(t) recycle bin of %d items (made by REST in %s), limit=%d, marker mode, default order\n", binItems, fill.Round(time.Second), binPageLimit)
	fmt.Printf("    page near start  median %9s  (pages 1-20)\n", short(first))
	fmt.Printf("    page near end    median %9s  (last 20 pages)\n", short(last))
	fmt.Printf("    ratio            %.2f   (end/start; target <= 1.5)\n\n", last.Seconds()/first.Seconds())
	return nil
}
