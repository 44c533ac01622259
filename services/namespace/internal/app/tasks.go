package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/workpool"
)

// Task states as the task query reports them (7.1, 7.3).
const (
	TaskRunning = 202
	TaskDone    = 200 // with a result: a copy's final path, a batch restore's items
	TaskEmpty   = 204 // done without a result
	// TaskPartial and TaskAllFailed are a batch restore whose items failed, some or all (7.3);
	// the result lists every item.
	TaskPartial   = 207
	TaskAllFailed = 400
	TaskFailed    = 500
)

// Task kinds, stored with each task and answered as 7.3's taskType (docs/lifecycle.md). The
// names are stored; never rename one. A task recorded before kinds existed has kind "" and reads
// as a directory copy, the only task with a result then.
const (
	TaskCopyDirectory       = "copyDirectory"
	TaskBatchRestoreRecycle = "batchRestoreRecycle"
)

var (
	// ErrTaskNotFound: no task with this id in this space (unknown, or purged 30 days after it
	// finished).
	ErrTaskNotFound = errors.New("task not found")
	// ErrTaskInterrupted: the process running the task stopped (a restart, a crash, a lost
	// replica) before the task finished.
	ErrTaskInterrupted = errors.New("task interrupted")
	// ErrTooManyTasks: every task worker of this instance is busy and the queue is full (or the
	// instance is stopping); nothing was recorded, so the request may be repeated later.
	ErrTooManyTasks = errors.New("too many tasks running")
	// errTaskFailed stands for a failure the task table does not name: the transport answers
	// InternalError, as it did for the original error.
	errTaskFailed = errors.New("task failed")
)

// taskFailures are the failures a task records by name, so that every replica answers a failed
// task as the one that ran it would have: the errors a directory copy answers (CopyTree through
// sourceGone). The names are stored; never rename one. Any other error is stored as "" and read
// as errTaskFailed, so no internal detail reaches the table or the caller.
var taskFailures = []struct {
	name string
	err  error
}{
	{"interrupted", ErrTaskInterrupted},
	{"source_not_found", ErrSourceNotFound},
	{"node_not_found", ErrNodeNotFound},
	{"not_directory", ErrNotDirectory},
	{"name_taken", ErrNameTaken},
	{"destination_inside", ErrDestinationInside},
	{"symlink_overwrite", ErrSymlinkOverwrite},
	{"space_not_found", ErrSpaceNotFound},
	{"source_missing", ErrSourceMissing},
	{"is_directory", ErrIsDirectory},
	{"recycled_item_not_found", ErrRecycledItemNotFound},
	{"quota_limit_reached", ErrQuotaLimitReached},
	{"recycle_bin_not_enabled", ErrRecycleBinNotEnabled},
	{"invalid_strategy", ErrInvalidStrategy},
	// The failures of a batch item (docs/batch.md): each answers what its single call would.
	{"no_permission", authz.ErrNoPermission},
	{"token_not_match_space", authz.ErrAccessTokenNotMatchSpace},
	{"file_not_found", ErrFileNotFound},
	{"source_file_not_found", ErrSourceFileNotFound},
	{"invalid_source_file", ErrInvalidSourceFile},
	{"invalid_source", ErrInvalidSource},
	{"file_type_not_matched", ErrFileTypeNotMatched},
	{"empty_path", ErrEmptyPath},
	{"empty_file_name", ErrEmptyFileName},
	{"illegal_name", ErrIllegalName},
	{"name_too_long", ErrNameTooLong},
	{"file_name_too_long", ErrFileNameTooLong},
	{"extname_not_allowed", ErrExtnameNotAllowed},
	{"upload_to_root", ErrUploadToRoot},
	{"directory_not_allowed", ErrDirectoryNotAllowed},
	{"directory_level_exceed", ErrDirectoryLevelExceed},
	{"param_invalid", ErrParamInvalid},
}

// failureName answers err's name in taskFailures, "" when it has none.
func failureName(err error) string {
	for _, f := range taskFailures {
		if errors.Is(err, f.err) {
			return f.name
		}
	}
	return ""
}

// failureError answers the error a stored failure name stands for.
func failureError(name string) error {
	for _, f := range taskFailures {
		if name != "" && f.name == name {
			return f.err
		}
	}
	return errTaskFailed
}

// Task is the state of an asynchronous operation (decision 7).
type Task struct {
	ID int32
	// Kind is TaskCopyDirectory or TaskBatchRestoreRecycle.
	Kind   string
	Status int
	// Path is the result of a finished directory copy (its final path).
	Path []string
	// Restores is the result of a finished batch restore: every item, in request order.
	Restores []RestoreResult
	// Result is the result of a finished task of any other kind, as its row of
	// taskResultDecoders reads it: []BatchResult for batchCopy, batchMove and batchDelete.
	Result any
	// Calibrate is the result of a finished calibration (issue 12 fileops).
	Calibrate *CalibrateResult
	// Uncompress is a fileUncompress task's result object as JSON (archive.go), also when it
	// failed.
	Uncompress json.RawMessage
	// Err is why a failed task failed.
	Err error
}

// taskOutcome is what a task's work answers: its final status (TaskDone, TaskEmpty, or for a
// batch TaskPartial / TaskAllFailed) and its result, stored as JSON (nil = none).
type taskOutcome struct {
	status int
	result any
}

// taskStaleBeats is how many heartbeat intervals a running task may go without a beat before it
// reads as interrupted: a few, so a slow write or some clock skew between replicas is no death.
const taskStaleBeats = 4

// taskBoard runs this process's tasks and keeps their state in the store, so that every replica
// answers the task query and finished tasks outlive restarts. The work itself runs here, in a
// bounded worker pool the board owns (a burst of large copies queues instead of starting a
// goroutine and a transaction each); close cancels the work, lets each task record that it was
// interrupted, and waits. While tasks run, the board
// refreshes their heartbeat every interval; a running task whose heartbeat is older than
// taskStaleBeats intervals belongs to a process that is gone and reads as failed (interrupted).
// Such a task is not run again: its copy stopped part way, like an interrupted request, and
// the caller decides whether to repeat it.
type taskBoard struct {
	store     Store
	clock     clock.Clock
	owner     string
	heartbeat time.Duration

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	workers *workpool.Pool
	running atomic.Int64
	// mine holds the ids of the tasks this process is running now. A long transaction on SQLite
	// (one writer) holds back the heartbeat's write, so this process reads its own running
	// tasks from memory rather than from a heartbeat that could not be written.
	mine sync.Map
}

func newTaskBoard(s Store, c clock.Clock, heartbeat time.Duration, workers *workpool.Pool) *taskBoard {
	ctx, cancel := context.WithCancel(context.Background())
	b := &taskBoard{store: s, clock: c, owner: newInstanceID(), heartbeat: heartbeat, ctx: ctx, cancel: cancel, workers: workers}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.beat()
	}()
	return b
}

// newInstanceID names this process's board among the replicas sharing the store.
func newInstanceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b[:])
}

// beat refreshes the heartbeat of the board's running tasks every interval until close. A
// failed beat is not fatal: only taskStaleBeats failures in a row make the tasks read as
// interrupted, and then the store is unreachable for the work too.
func (b *taskBoard) beat() {
	for {
		clock.Sleep(b.ctx, b.heartbeat)
		if b.ctx.Err() != nil {
			return
		}
		if b.running.Load() > 0 {
			_ = b.store.HeartbeatTasks(b.ctx, b.owner, b.clock.Now())
		}
	}
}

// start records a task of kind, runs work in the background and answers the task's id. work
// answers the task's outcome. With no room in the worker pool it answers ErrTooManyTasks before
// recording anything.
func (b *taskBoard) start(ctx context.Context, libraryID, spaceID, kind string, work func(ctx context.Context) (taskOutcome, error)) (int32, error) {
	place, err := b.workers.Reserve()
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrTooManyTasks, err)
	}
	b.running.Add(1)
	id, err := b.store.CreateTask(ctx, libraryID, spaceID, kind, b.owner, b.clock.Now())
	if err != nil {
		b.running.Add(-1)
		place.Release()
		return 0, err
	}
	b.mine.Store(id, true)
	place.Run(func(ctx context.Context) {
		defer b.running.Add(-1)
		defer b.mine.Delete(id)
		out, err := work(ctx)
		status, failure, result := out.status, "", ""
		if err == nil && out.result != nil {
			var b []byte
			if b, err = json.Marshal(out.result); err == nil {
				result = string(b)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				err = ErrTaskInterrupted // close stopped the work
			}
			status, failure, result = TaskFailed, failureName(err), ""
		}
		// The outcome is written even while closing (close waits for it). Should the write fail,
		// the row stays running without heartbeats and reads as interrupted.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = b.store.FinishTask(wctx, id, status, result, failure, b.clock.Now())
	})
	return id, nil
}

// read answers what a stored task means now: a running task whose heartbeat is stale lost its
// process, and reads as failed (interrupted). Should that process only have stalled and finish
// after all, its recorded outcome replaces the reading: the copy did happen.
func (b *taskBoard) read(r TaskRecord) Task {
	t := Task{ID: r.ID, Kind: r.Kind, Status: r.Status}
	if t.Kind == "" {
		t.Kind = TaskCopyDirectory
	}
	switch r.Status {
	case TaskDone, TaskPartial, TaskAllFailed:
		if err := t.decodeResult(r.Result); err != nil {
			t.Status, t.Err = TaskFailed, err
		}
	case TaskEmpty:
	case TaskFailed:
		t.Err = failureError(r.Failure)
		if t.Kind == TaskFileUncompress {
			t.Uncompress = json.RawMessage(r.Result) // the task-level code and err (archive.go)
		}
	default:
		if _, ours := b.mine.Load(r.ID); ours && r.Owner == b.owner {
			break // running here: its heartbeat may be waiting for the writer
		}
		if b.clock.Now().Sub(r.HeartbeatAt) > taskStaleBeats*b.heartbeat {
			t.Status, t.Err = TaskFailed, ErrTaskInterrupted
		}
	}
	return t
}

// taskResultDecoders reads a finished task's stored result by its kind: one row per task kind
// with a result, the extension point of new kinds (docs/batch.md "Task kinds"). A kind
// without a row has none, but "" (before kinds) and copyDirectory, whose result is a path.
var taskResultDecoders = map[string]func(t *Task, result []byte) error{
	TaskCopyDirectory:       func(t *Task, result []byte) error { return json.Unmarshal(result, &t.Path) },
	TaskBatchRestoreRecycle: decodeRestores,
	TaskBatchCopy:           decodeBatchResults,
	TaskBatchMove:           decodeBatchResults,
	TaskBatchDelete:         decodeBatchResults,
	// archives (issue 12 item 6): fileUncompress (3.17), kept as stored (transport/archive.go).
	TaskFileUncompress: func(t *Task, result []byte) error {
		t.Uncompress = json.RawMessage(result)
		return nil
	},
	// issue 12 fileops: calibrateDirectoryStats (4.9).
	TaskCalibrateDirectoryStats: func(t *Task, result []byte) error {
		t.Calibrate = &CalibrateResult{}
		return json.Unmarshal(result, t.Calibrate)
	},
}

func decodeRestores(t *Task, result []byte) error {
	var items []storedRestore
	if err := json.Unmarshal(result, &items); err != nil {
		return err
	}
	t.Restores = make([]RestoreResult, len(items))
	for i, it := range items {
		t.Restores[i] = it.result()
	}
	return nil
}

// decodeResult reads a finished task's stored result by its kind.
func (t *Task) decodeResult(result string) error {
	decode, ok := taskResultDecoders[t.Kind]
	if result == "" || !ok {
		return nil
	}
	if err := decode(t, []byte(result)); err != nil {
		return fmt.Errorf("task %d result: %w", t.ID, err)
	}
	return nil
}

func (b *taskBoard) close() {
	b.cancel()
	b.workers.Close()
	b.wg.Wait()
}

// TaskStatus is one answer of the task query: the task, or Err for an id that names none.
type TaskStatus struct {
	ID   int32
	Task Task
	Err  error
}

// Tasks answers the state of tasks of a space (7.1): "10" or "10,12,13", at most 100 ids. Any
// principal that reaches the space may ask; public read does not apply (12.7). The tasks may
// have been started by any replica, before or after a restart.
func (n *Namespace) Tasks(ctx context.Context, libraryID, spaceID, idList string) ([]TaskStatus, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return nil, err
	}
	if _, err := r.require(); err != nil {
		return nil, err
	}
	if _, err := n.space(ctx, r, spaceID); err != nil {
		return nil, err
	}
	return n.readTasks(ctx, libraryID, spaceID, idList)
}

// readTasks answers the space's tasks named by idList, in its order, once the caller was let in.
func (n *Namespace) readTasks(ctx context.Context, libraryID, spaceID, idList string) ([]TaskStatus, error) {
	ids, err := parseTaskIDs(idList)
	if err != nil {
		return nil, err
	}
	records, err := n.store.GetTasks(ctx, libraryID, spaceID, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int32]TaskRecord, len(records))
	for _, rec := range records {
		byID[rec.ID] = rec
	}
	out := make([]TaskStatus, 0, len(ids))
	for _, id := range ids {
		rec, ok := byID[id]
		if !ok {
			out = append(out, TaskStatus{ID: id, Err: ErrTaskNotFound})
			continue
		}
		out = append(out, TaskStatus{ID: id, Task: n.tasks.read(rec)})
	}
	return out, nil
}

// parseTaskIDs reads a task id list: "10" or "10,12,13", at most 100 positive int32 ids.
func parseTaskIDs(idList string) ([]int32, error) {
	parts := strings.Split(idList, ",")
	if len(parts) > 100 {
		return nil, invalid("name at most 100 task ids")
	}
	ids := make([]int32, 0, len(parts))
	for _, p := range parts {
		id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil || id <= 0 {
			return nil, invalid("task ids are positive integers separated by commas")
		}
		ids = append(ids, int32(id))
	}
	return ids, nil
}
