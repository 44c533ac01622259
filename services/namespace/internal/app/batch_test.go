package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// A batch task (docs/batch.md) is a row of the store like any task: once finished it answers the
// same after the service restarts (a reopened store and a new Namespace).

// batchReplica is one Namespace over st whose batches of more than one item run as tasks.
func batchReplica(t *testing.T, st app.Store, c clock.Clock) *app.Namespace {
	t.Helper()
	ns := app.New(app.Config{Store: st, Libraries: taskLibs, Auth: authz.New(fakeTokens{}, nil), Clock: c,
		LibraryTTL: time.Nanosecond, AsyncBatchThreshold: 1, TaskHeartbeat: time.Millisecond})
	t.Cleanup(ns.Close)
	return ns
}

func TestFinishedBatchTaskSurvivesRestart(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			st := openTaskStore(t, dsn)
			gated := newGatedStore(st)
			close(gated.release)
			a := batchReplica(t, gated, clk)
			for _, dir := range []string{"d1", "d2"} {
				if _, _, err := a.CreateDirectory(admin("flib"), "flib", "-", dir, "", app.DirAttrs{}); err != nil {
					t.Fatal(err)
				}
			}
			b, err := a.RunBatch(admin("flib"), "flib", "-", app.BatchDelete,
				[]any{map[string]any{"path": "d1"}, map[string]any{"path": "gone"}, map[string]any{"path": "d2", "permanent": true}})
			if err != nil || b.TaskID <= 0 {
				t.Fatalf("batch of three over a threshold of one: %+v %v", b, err)
			}
			<-gated.finished
			a.Close()
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}

			st = openTaskStore(t, dsn)
			t.Cleanup(func() { _ = st.Close() })
			clk.Advance(29 * 24 * time.Hour)
			got := task(t, batchReplica(t, st, clk), b.TaskID)
			results, _ := got.Result.([]app.BatchResult)
			if got.Kind != app.TaskBatchDelete || got.Status != app.TaskPartial || len(results) != 3 {
				t.Fatalf("finished batch task after a restart: %+v", got)
			}
			if results[0].Status != 204 || results[0].Item.Path != "d1" || results[2].Status != 204 || results[2].Item.Path != "d2" {
				t.Fatalf("deleted items after a restart: %+v", results)
			}
			if results[1].Status != 0 || !errors.Is(results[1].Err, app.ErrFileNotFound) || results[1].Item.Path != "gone" {
				t.Fatalf("failed item after a restart: %+v", results[1])
			}
		})
	}
}

// A copy batch under the item threshold whose directories hold more than the tree threshold
// runs as a task, as a single copy of that directory would (decision 7, docs/batch.md).
func TestBatchCopyOfLargeDirectoriesIsATask(t *testing.T) {
	st := openTaskStore(t, storetest.Engines()[0].DSN(t))
	t.Cleanup(func() { _ = st.Close() })
	gated := newGatedStore(st)
	close(gated.release)
	ns := replica(t, gated, clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))) // tree threshold 1
	for _, dir := range []string{"src/a", "src/b", "small"} {
		if _, _, err := ns.CreateDirectory(admin("flib"), "flib", "-", dir, "", app.DirAttrs{}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := ns.RunBatch(admin("flib"), "flib", "-", app.BatchCopy, []any{map[string]any{"copyFrom": "src", "to": "dst"}})
	if err != nil || b.TaskID <= 0 || b.Results != nil {
		t.Fatalf("copy of a directory over the tree threshold: %+v %v", b, err)
	}
	<-gated.finished
	got := task(t, ns, b.TaskID)
	results, _ := got.Result.([]app.BatchResult)
	if got.Kind != app.TaskBatchCopy || got.Status != app.TaskDone || len(results) != 1 || results[0].Status != 204 {
		t.Fatalf("batch copy task: %+v", got)
	}
	// An empty directory is within the threshold: answered at once.
	b, err = ns.RunBatch(admin("flib"), "flib", "-", app.BatchCopy, []any{map[string]any{"copyFrom": "small", "to": "small2"}})
	if err != nil || b.TaskID != 0 || len(b.Results) != 1 || b.Results[0].Status != 204 {
		t.Fatalf("copy of an empty directory: %+v %v", b, err)
	}
}
