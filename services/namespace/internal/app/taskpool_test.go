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

// TestTaskPoolFull fills a replica's task pool (one worker, one queued task): the next async
// copy is refused with ErrTooManyTasks and leaves no task behind; once the tasks drain, copies
// are taken again. Closing the replica with a task queued records it as interrupted too.
func TestTaskPoolFull(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			st := openTaskStore(t, e.DSN(t))
			t.Cleanup(func() { _ = st.Close() })
			clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			gated := newGatedStore(st)
			ns := app.New(app.Config{Store: gated, Libraries: taskLibs, Auth: authz.New(fakeTokens{}, nil), Clock: clk,
				LibraryTTL: time.Nanosecond, AsyncTreeThreshold: 1, TaskHeartbeat: time.Hour, TaskWorkers: 1, TaskQueue: 1})
			b := replica(t, st, clk)
			if _, _, err := ns.CreateDirectory(admin("flib"), "flib", "-", "src/a", "", app.DirAttrs{}); err != nil {
				t.Fatal(err)
			}
			copyTo := func(dst string) (app.Transfer, error) {
				return ns.CopyDirectory(admin("flib"), "flib", "-", dst, "src", "")
			}
			running, err := copyTo("d1") // held by the gate on the one worker
			if err != nil || running.TaskID <= 0 {
				t.Fatalf("first copy: %+v %v", running, err)
			}
			queued, err := copyTo("d2") // waits in the queue
			if err != nil || queued.TaskID <= 0 {
				t.Fatalf("second copy: %+v %v", queued, err)
			}
			if tr, err := copyTo("d3"); !errors.Is(err, app.ErrTooManyTasks) {
				t.Fatalf("third copy with the pool full: %+v %v, want ErrTooManyTasks", tr, err)
			}
			// Nothing was recorded for the refused copy: the next task id follows the queued one.
			close(gated.release)
			<-gated.finished
			<-gated.finished
			next, err := copyTo("d4")
			if err != nil || next.TaskID != queued.TaskID+1 {
				t.Fatalf("copy after the pool drained: %+v %v (the queued task was %d)", next, err, queued.TaskID)
			}
			<-gated.finished
			for _, id := range []int32{running.TaskID, queued.TaskID, next.TaskID} {
				if got := task(t, b, id); got.Status != app.TaskDone {
					t.Fatalf("task %d: %+v", id, got)
				}
			}
		})
	}
}

// TestCloseDrainsQueuedTasks closes a replica whose one worker is busy and whose queue holds a
// task: Close waits for both, and both read as interrupted, none as running for ever.
func TestCloseDrainsQueuedTasks(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			st := openTaskStore(t, e.DSN(t))
			t.Cleanup(func() { _ = st.Close() })
			clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			gated := newGatedStore(st) // never released: the tasks end only by Close
			ns := app.New(app.Config{Store: gated, Libraries: taskLibs, Auth: authz.New(fakeTokens{}, nil), Clock: clk,
				LibraryTTL: time.Nanosecond, AsyncTreeThreshold: 1, TaskHeartbeat: time.Hour, TaskWorkers: 1, TaskQueue: 1})
			b := replica(t, st, clk)
			first := startCopy(t, ns)
			second, err := ns.CopyDirectory(admin("flib"), "flib", "-", "dst2", "src", "")
			if err != nil || second.TaskID <= 0 {
				t.Fatalf("queued copy: %+v %v", second, err)
			}
			ns.Close()
			for _, id := range []int32{first, second.TaskID} {
				if got := task(t, b, id); got.Status != app.TaskFailed || !errors.Is(got.Err, app.ErrTaskInterrupted) {
					t.Fatalf("task %d after close: %+v", id, got)
				}
			}
		})
	}
}
