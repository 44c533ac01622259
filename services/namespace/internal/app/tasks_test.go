package app_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/internal/store"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// Async tasks (decision 7, 7.1) live in the store: two Namespace instances over one store are
// two replicas, and a reopened store is a restarted service.

// gatedStore holds every async copy until release closes (or the task's context ends), and
// reports each finished task and each heartbeat.
type gatedStore struct {
	app.Store
	release  chan struct{}
	finished chan int32
	beats    chan time.Time
}

func newGatedStore(s app.Store) *gatedStore {
	return &gatedStore{Store: s, release: make(chan struct{}), finished: make(chan int32, 16), beats: make(chan time.Time, 1)}
}

func (g *gatedStore) CopyTree(ctx context.Context, libraryID, spaceID string, from, to []string, strategy app.Conflict, rules app.WriteRules, now time.Time) ([]string, error) {
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Store.CopyTree(ctx, libraryID, spaceID, from, to, strategy, rules, now)
}

func (g *gatedStore) FinishTask(ctx context.Context, id int32, status int, result, failure string, now time.Time) error {
	err := g.Store.FinishTask(ctx, id, status, result, failure, now)
	g.finished <- id
	return err
}

func (g *gatedStore) HeartbeatTasks(ctx context.Context, owner string, now time.Time) error {
	err := g.Store.HeartbeatTasks(ctx, owner, now)
	select { // the latest beat is enough; the beating never waits for the test
	case g.beats <- now:
	default:
	}
	return err
}

// waitBeat waits for a heartbeat written at or after at.
func (g *gatedStore) waitBeat(t *testing.T, at time.Time) {
	t.Helper()
	for now := range g.beats {
		if !now.Before(at) {
			return
		}
	}
}

var taskLibs = fakeLibraries{"flib": {IsFileLibrary: true}}

// replica is one Namespace over st with the async threshold at one entry.
func replica(t *testing.T, st app.Store, c clock.Clock) *app.Namespace {
	t.Helper()
	ns := app.New(app.Config{Store: st, Libraries: taskLibs, Auth: authz.New(fakeTokens{}, nil), Clock: c,
		LibraryTTL: time.Nanosecond, AsyncTreeThreshold: 1, TaskHeartbeat: time.Millisecond})
	t.Cleanup(ns.Close)
	return ns
}

// twoReplicas opens a store and two replicas over it at a fake clock: a, whose copies the gated
// store holds, and b, which reads the same rows.
func twoReplicas(t *testing.T, dsn string) (gated *gatedStore, a, b *app.Namespace, clk *clock.Fake) {
	t.Helper()
	st := openTaskStore(t, dsn)
	t.Cleanup(func() { _ = st.Close() })
	clk = clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	gated = newGatedStore(st)
	return gated, replica(t, gated, clk), replica(t, st, clk), clk
}

func openTaskStore(t *testing.T, dsn string) *store.SQL {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, 0)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// startCopy makes src/a and copies src to dst as a task.
func startCopy(t *testing.T, ns *app.Namespace) int32 {
	t.Helper()
	if _, _, err := ns.CreateDirectory(admin("flib"), "flib", "-", "src/a", "", app.DirAttrs{}); err != nil {
		t.Fatal(err)
	}
	tr, err := ns.CopyDirectory(admin("flib"), "flib", "-", "dst", "src", "")
	if err != nil || tr.TaskID <= 0 {
		t.Fatalf("async copy: %+v %v", tr, err)
	}
	return tr.TaskID
}

// task answers one task as ns reports it.
func task(t *testing.T, ns *app.Namespace, id int32) app.Task {
	t.Helper()
	got, err := ns.Tasks(admin("flib"), "flib", "-", taskID(id))
	if err != nil || len(got) != 1 || got[0].Err != nil {
		t.Fatalf("Tasks(%d): %+v %v", id, got, err)
	}
	return got[0].Task
}

func taskID(id int32) string { return strconv.Itoa(int(id)) }

func TestTaskAnsweredByAnotherReplica(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			gated, a, b, clk := twoReplicas(t, e.DSN(t))

			id := startCopy(t, a)
			if got := task(t, b, id); got.Status != app.TaskRunning {
				t.Fatalf("running task on the other replica: %+v", got)
			}
			// A beating owner keeps its task running, however far the clock moves.
			clk.Advance(time.Hour)
			gated.waitBeat(t, clk.Now())
			if got := task(t, b, id); got.Status != app.TaskRunning {
				t.Fatalf("beating task after an hour: %+v", got)
			}
			close(gated.release)
			<-gated.finished
			want := app.Task{ID: id, Kind: app.TaskCopyDirectory, Status: app.TaskDone, Path: []string{"dst"}}
			if got := task(t, b, id); !reflect.DeepEqual(got, want) {
				t.Fatalf("finished task on the other replica: %+v, want %+v", got, want)
			}
			got, err := b.Tasks(admin("flib"), "flib", "-", taskID(id)+","+taskID(id+1000))
			if err != nil || len(got) != 2 || !errors.Is(got[1].Err, app.ErrTaskNotFound) || got[0].Task.Status != app.TaskDone {
				t.Fatalf("known and unknown task: %+v %v", got, err)
			}
			// A second task gets a new id wherever it starts.
			if _, _, err := b.CreateDirectory(admin("flib"), "flib", "-", "src/b", "", app.DirAttrs{}); err != nil {
				t.Fatal(err)
			}
			tr, err := b.CopyDirectory(admin("flib"), "flib", "-", "dst2", "src", "")
			if err != nil || tr.TaskID <= 0 || tr.TaskID == id {
				t.Fatalf("second task %+v (first %d) %v", tr, id, err)
			}
		})
	}
}

func TestTaskOfAStoppedOwnerFails(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			st := openTaskStore(t, e.DSN(t))
			t.Cleanup(func() { _ = st.Close() })
			clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			b := replica(t, st, clk)

			// A process that died: its task is recorded, and no one beats for it.
			if _, _, err := b.CreateDirectory(admin("flib"), "flib", "-", "x", "", app.DirAttrs{}); err != nil {
				t.Fatal(err)
			}
			id, err := st.CreateTask(context.Background(), "flib", "-", app.TaskCopyDirectory, "a-dead-process", clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(4 * time.Millisecond) // four missed beats: not yet
			if got := task(t, b, id); got.Status != app.TaskRunning {
				t.Fatalf("task within its heartbeats: %+v", got)
			}
			clk.Advance(time.Millisecond)
			if got := task(t, b, id); got.Status != app.TaskFailed || !errors.Is(got.Err, app.ErrTaskInterrupted) {
				t.Fatalf("task of a stopped owner: %+v", got)
			}

			// An owner that closes records its running task as interrupted itself.
			gated := newGatedStore(st)
			a := app.New(app.Config{Store: gated, Libraries: taskLibs, Auth: authz.New(fakeTokens{}, nil), Clock: clk,
				LibraryTTL: time.Nanosecond, AsyncTreeThreshold: 1, TaskHeartbeat: time.Hour})
			id = startCopy(t, a)
			// Long past its heartbeats (a SQLite writer held by the copy holds them back), the
			// owner still knows its task runs; another replica reads it as interrupted.
			clk.Advance(10 * time.Hour)
			if got := task(t, a, id); got.Status != app.TaskRunning {
				t.Fatalf("the owner's own running task without beats: %+v", got)
			}
			if got := task(t, b, id); got.Status != app.TaskFailed || !errors.Is(got.Err, app.ErrTaskInterrupted) {
				t.Fatalf("another replica's task without beats: %+v", got)
			}
			a.Close()
			if got := task(t, b, id); got.Status != app.TaskFailed || !errors.Is(got.Err, app.ErrTaskInterrupted) {
				t.Fatalf("task of a closed owner: %+v", got)
			}
		})
	}
}

func TestFinishedTaskSurvivesRestart(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			st := openTaskStore(t, dsn)
			gated := newGatedStore(st)
			close(gated.release)
			a := replica(t, gated, clk)
			id := startCopy(t, a)
			<-gated.finished
			a.Close()
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}

			st = openTaskStore(t, dsn)
			t.Cleanup(func() { _ = st.Close() })
			clk.Advance(29 * 24 * time.Hour)
			b := replica(t, st, clk)
			want := app.Task{ID: id, Kind: app.TaskCopyDirectory, Status: app.TaskDone, Path: []string{"dst"}}
			if got := task(t, b, id); !reflect.DeepEqual(got, want) {
				t.Fatalf("finished task after a restart: %+v, want %+v", got, want)
			}
		})
	}
}
