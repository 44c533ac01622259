package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The batch measurement (issue 12 item 8, docs/batch.md), once per namespace store engine
// (SQLite; PostgreSQL when SMH_TEST_POSTGRES_DSN is set), on an all-in-one of its own over HTTPS:
//
//	(o) deleting 1,000 files with one batch delete (10.1: over the threshold, so a task, timed
//	    until the task query answers it finished) vs the same 1,000 deletes as single
//	    DELETE /api/v1/file calls in sequence (target: the batch at least 5x faster).

const (
	// batchFiles is how many files each side of (o) deletes.
	batchFiles = 1000
	// batchRounds is how many (o) rounds run; the median of the per-round ratios counts.
	batchRounds = 3
)

// runBatch runs (o) once per engine.
func runBatch(ctx context.Context, c int) error {
	return onEachEngine(ctx, "(o)", func(e engine) error { return batchEngine(ctx, e, c) })
}

func batchEngine(ctx context.Context, e engine, c int) error {
	in, err := startInstance(ctx, e.dsn, c)
	if err != nil {
		return err
	}
	defer in.stop()
	lib, err := in.library(`{"isFileLibrary":true,"useRecycleBin":true}`)
	if err != nil {
		return err
	}
	if _, err := lib.do("PUT", lib.api("directory", "seed"), nil, http.StatusCreated); err != nil {
		return err
	}
	if err := lib.uploadSmall("seed/f.txt", []byte("batch bench")); err != nil {
		return err
	}
	var singles, batches, ratios []time.Duration
	for round := range batchRounds {
		a, b := fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)
		for _, dir := range []string{a, b} {
			if err := lib.fillFiles(dir, batchFiles); err != nil {
				return err
			}
		}
		start := time.Now()
		for i := range batchFiles {
			if _, err := lib.do("DELETE", lib.api("file", fmt.Sprintf("%s/f%04d.txt", a, i)), nil, http.StatusOK); err != nil {
				return err
			}
		}
		single := time.Since(start)
		items := make([]map[string]any, batchFiles)
		for i := range items {
			items[i] = map[string]any{"path": fmt.Sprintf("%s/f%04d.txt", b, i)}
		}
		start = time.Now()
		status, err := lib.batch("delete", items)
		if err != nil {
			return err
		}
		batch := time.Since(start)
		if status != http.StatusOK {
			return fmt.Errorf("batch delete ended with task status %d", status)
		}
		singles, batches = append(singles, single), append(batches, batch)
		ratios = append(ratios, time.Duration(float64(time.Second)*single.Seconds()/batch.Seconds()))
	}
	fmt.Printf("(o) %s: deleting %d files into the recycle bin, %d rounds, medians\n", e.name, batchFiles, batchRounds)
	fmt.Printf("    single DELETE calls in sequence %9s   one batch delete (task, until done) %9s\n",
		short(median(singles)), short(median(batches)))
	fmt.Printf("    ratio %.1fx   (single calls / batch; target >= 5)\n\n", median(ratios).Seconds())
	return nil
}

// uploadSmall uploads a small file through begin, PUT and confirm.
func (in *instance) uploadSmall(path string, data []byte) error {
	a := newObjAPI(in)
	t, err := a.begin(path)
	if err != nil {
		return err
	}
	if _, err := a.send(in.client, t, bytes.NewReader(data), int64(len(data))); err != nil {
		return err
	}
	_, err = a.confirm(t.ConfirmKey, crcOf(data, int64(len(data))))
	return err
}

// fillFiles makes dir hold n files f0000.txt ... copied from seed/f.txt by batch copies of 100
// items (each a synchronous batch).
func (in *instance) fillFiles(dir string, n int) error {
	if _, err := in.do("PUT", in.api("directory", dir), nil, http.StatusCreated); err != nil {
		return err
	}
	for start := 0; start < n; start += 100 {
		var items []map[string]any
		for i := start; i < min(n, start+100); i++ {
			items = append(items, map[string]any{"copyFrom": "seed/f.txt", "to": fmt.Sprintf("%s/f%04d.txt", dir, i)})
		}
		status, err := in.batch("copy", items)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("batch copy: status %d", status)
		}
	}
	return nil
}

// batch runs a batch and answers its outcome: 200 or 207 for a synchronous batch, the task's
// final status for one that ran as a task (polled every 20 ms through 7.1, as a client would poll).
func (in *instance) batch(op string, items []map[string]any) (int, error) {
	b, err := json.Marshal(items)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest("POST", in.api("batch", "", op, ""), bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := in.client.Do(req)
	if err != nil {
		return 0, err
	}
	var body struct{ TaskID int64 }
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return resp.StatusCode, nil
	}
	if err != nil || body.TaskID <= 0 {
		return 0, fmt.Errorf("202 without a task: %v", err)
	}
	for {
		out, err := in.do("GET", in.srv.URL+fmt.Sprintf("/api/v1/task/%s/-/%d?access_token=%s", in.libraryID, body.TaskID, in.token), nil, http.StatusOK)
		if err != nil {
			return 0, err
		}
		var tasks []struct{ Status int }
		if err := json.Unmarshal(out, &tasks); err != nil || len(tasks) != 1 {
			return 0, fmt.Errorf("task: %.200s", out)
		}
		if tasks[0].Status != http.StatusAccepted {
			return tasks[0].Status, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}
