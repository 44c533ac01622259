package app

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opensmh/opensmh/pkg/clock"
)

// Task states as the task query reports them (7.1).
const (
	TaskRunning = 202
	TaskDone    = 200
	TaskFailed  = 500
)

// taskRetention is how long a finished task stays queryable (7.1: 30 days).
const taskRetention = 30 * 24 * time.Hour

// ErrTaskNotFound: no task with this id in this space (unknown, expired, or lost with a restart).
var ErrTaskNotFound = errors.New("task not found")

// Task is the state of an asynchronous operation (decision 7).
type Task struct {
	ID     int32
	Status int
	// Path is the result of a finished directory copy (its final path).
	Path []string
	// Err is why a failed task failed.
	Err error
}

type taskEntry struct {
	Task
	libraryID, spaceID string
	finished           time.Time
}

// taskBoard runs and remembers the tasks of this process. Tasks live in memory: a restart loses
// the running ones (their work stops half done, like an interrupted request) and the finished
// ones' results. Every task goroutine belongs to the board, and close stops and waits for them.
type taskBoard struct {
	clock  clock.Clock
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	next  int32
	tasks map[int32]*taskEntry
}

func newTaskBoard(c clock.Clock) *taskBoard {
	ctx, cancel := context.WithCancel(context.Background())
	return &taskBoard{clock: c, ctx: ctx, cancel: cancel, tasks: map[int32]*taskEntry{}}
}

// start runs work in the background and answers its task id.
func (b *taskBoard) start(libraryID, spaceID string, work func(ctx context.Context) ([]string, error)) int32 {
	b.mu.Lock()
	b.prune()
	b.next++
	e := &taskEntry{Task: Task{ID: b.next, Status: TaskRunning}, libraryID: libraryID, spaceID: spaceID}
	b.tasks[e.ID] = e
	b.mu.Unlock()

	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		path, err := work(b.ctx)
		b.mu.Lock()
		defer b.mu.Unlock()
		e.finished = b.clock.Now()
		if err != nil {
			e.Status, e.Err = TaskFailed, err
			return
		}
		e.Status, e.Path = TaskDone, path
	}()
	return e.ID
}

// prune drops finished tasks past their retention; b.mu is held.
func (b *taskBoard) prune() {
	now := b.clock.Now()
	for id, e := range b.tasks {
		if e.Status != TaskRunning && now.Sub(e.finished) > taskRetention {
			delete(b.tasks, id)
		}
	}
}

// get answers a copy of a task of the space.
func (b *taskBoard) get(libraryID, spaceID string, id int32) (Task, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.tasks[id]
	if !ok || e.libraryID != libraryID || e.spaceID != spaceID {
		return Task{}, ErrTaskNotFound
	}
	t := e.Task
	t.Path = append([]string(nil), e.Path...)
	return t, nil
}

func (b *taskBoard) close() {
	b.cancel()
	b.wg.Wait()
}

// TaskStatus is one answer of the task query: the task, or Err for an id that names none.
type TaskStatus struct {
	ID   int32
	Task Task
	Err  error
}

// Tasks answers the state of tasks of a space (7.1): "10" or "10,12,13", at most 100 ids. Any
// principal that reaches the space may ask; public read does not apply (12.7).
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
	parts := strings.Split(idList, ",")
	if len(parts) > 100 {
		return nil, invalid("name at most 100 task ids")
	}
	out := make([]TaskStatus, 0, len(parts))
	for _, p := range parts {
		id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil || id <= 0 {
			return nil, invalid("task ids are positive integers separated by commas")
		}
		t, err := n.tasks.get(libraryID, spaceID, int32(id))
		out = append(out, TaskStatus{ID: int32(id), Task: t, Err: err})
	}
	return out, nil
}
