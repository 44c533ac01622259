package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// getTask answers one task of the fixture's space, or fails.
func (f *fixture) getTask(id int32) app.TaskRecord {
	f.t.Helper()
	got, err := f.st.GetTasks(f.ctx, f.lib, f.space, []int32{id})
	if err != nil || len(got) != 1 {
		f.t.Fatalf("GetTasks(%d): %v %v", id, got, err)
	}
	return got[0]
}

func TestTasks(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		a, err := s.CreateTask(f.ctx, f.lib, f.space, app.TaskCopyDirectory, "inst-a", t0)
		if err != nil || a <= 0 {
			t.Fatalf("CreateTask: %d %v", a, err)
		}
		b, err := s.CreateTask(f.ctx, f.lib, f.space, app.TaskCopyDirectory, "inst-b", t0)
		if err != nil || b == a {
			t.Fatalf("second CreateTask: %d (first %d) %v", b, a, err)
		}
		wantErr(t, "task of a missing space", func() error { _, err := s.CreateTask(f.ctx, f.lib, "nope", app.TaskCopyDirectory, "x", t0); return err }(), app.ErrSpaceNotFound)

		want := app.TaskRecord{ID: a, LibraryID: f.lib, SpaceID: f.space, Kind: app.TaskCopyDirectory, Status: app.TaskRunning, Owner: "inst-a",
			CreatedAt: t0, HeartbeatAt: t0}
		if got := f.getTask(a); !reflect.DeepEqual(got, want) {
			t.Fatalf("running task\n got %+v\nwant %+v", got, want)
		}

		// A heartbeat moves the owner's running tasks only.
		if err := s.HeartbeatTasks(f.ctx, "inst-a", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := f.getTask(a).HeartbeatAt; !got.Equal(t0.Add(time.Minute)) {
			t.Fatalf("heartbeat of a: %v", got)
		}
		if got := f.getTask(b).HeartbeatAt; !got.Equal(t0) {
			t.Fatalf("heartbeat of b moved with a's owner: %v", got)
		}

		// Finishing records the outcome once; a finished task stays as it is.
		done := t0.Add(2 * time.Minute)
		if err := s.FinishTask(f.ctx, a, app.TaskDone, `["big copy","x"]`, "", done); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishTask(f.ctx, a, app.TaskFailed, "", "interrupted", done.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		want.Status, want.Result, want.HeartbeatAt, want.FinishedAt = app.TaskDone, `["big copy","x"]`, t0.Add(time.Minute), done
		if got := f.getTask(a); !reflect.DeepEqual(got, want) {
			t.Fatalf("finished task\n got %+v\nwant %+v", got, want)
		}
		if err := s.FinishTask(f.ctx, b, app.TaskFailed, "", "name_taken", done); err != nil {
			t.Fatal(err)
		}
		if got := f.getTask(b); got.Status != app.TaskFailed || got.Failure != "name_taken" || got.Result != "" {
			t.Fatalf("failed task %+v", got)
		}
		// A heartbeat leaves finished tasks alone.
		if err := s.HeartbeatTasks(f.ctx, "inst-a", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := f.getTask(a).HeartbeatAt; !got.Equal(t0.Add(time.Minute)) {
			t.Fatalf("heartbeat of a finished task: %v", got)
		}

		// Several ids at once, unknown ones and other spaces' left out.
		if err := s.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: "other", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		c, err := s.CreateTask(f.ctx, f.lib, "other", app.TaskCopyDirectory, "inst-a", t0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetTasks(f.ctx, f.lib, f.space, []int32{b, 999999, a, c})
		if err != nil || len(got) != 2 || got[0].ID != min(a, b) || got[1].ID != max(a, b) {
			t.Fatalf("GetTasks of several: %+v %v", got, err)
		}
		if got, err := s.GetTasks(f.ctx, f.lib, f.space, nil); err != nil || len(got) != 0 {
			t.Fatalf("GetTasks of none: %v %v", got, err)
		}
	})
}

func TestTaskIDsAreNeverReused(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		a, err := s.CreateTask(f.ctx, f.lib, f.space, app.TaskCopyDirectory, "i", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FinishTask(f.ctx, a, app.TaskDone, "", "", t0); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PurgeTasks(f.ctx, t0.Add(time.Hour), 0); err != nil || n != 1 {
			t.Fatalf("purged %d (%v)", n, err)
		}
		// A purged task's id never names a later task (SQLite AUTOINCREMENT, PostgreSQL identity).
		b, err := s.CreateTask(f.ctx, f.lib, f.space, app.TaskCopyDirectory, "i", t0)
		if err != nil || b <= a {
			t.Fatalf("id after purge %d (first %d) %v", b, a, err)
		}
	})
}

func TestPurgeTasks(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		create := func(owner string) int32 {
			t.Helper()
			id, err := s.CreateTask(f.ctx, f.lib, f.space, app.TaskCopyDirectory, owner, t0)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		oldDone, newDone, dead, alive := create("x"), create("x"), create("dead"), create("alive")
		if err := s.FinishTask(f.ctx, oldDone, app.TaskDone, `["a"]`, "", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishTask(f.ctx, newDone, app.TaskFailed, "", "", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.HeartbeatTasks(f.ctx, "alive", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// Cut at t0+30min: the task finished before it goes, and the running task whose last
		// heartbeat (t0) is before it; the later finish and the beating task stay.
		n, err := s.PurgeTasks(f.ctx, t0.Add(30*time.Minute), 0)
		if err != nil || n != 2 {
			t.Fatalf("purged %d (%v), want 2", n, err)
		}
		got, err := s.GetTasks(f.ctx, f.lib, f.space, []int32{oldDone, newDone, dead, alive})
		if err != nil || len(got) != 2 || got[0].ID != newDone || got[1].ID != alive {
			t.Fatalf("left %+v (%v), want tasks %d and %d", got, err, newDone, alive)
		}
		// Tasks go with their space.
		if err := s.DeleteSpace(f.ctx, f.lib, f.space, true); err != nil {
			t.Fatal(err)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM tasks"); n != 0 {
			t.Fatalf("%d tasks outlived their space", n)
		}
	})
}
