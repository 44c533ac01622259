package sqldb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// walSync makes committed batches durable beside the writer (docs/smallfiles.md, "A commit's
// fsync overlaps the next batch"). The writer commits with synchronous=NORMAL: COMMIT appends
// the batch's frames to the WAL and returns without waiting for the disk. The durable calls of
// the batch then wait here for an fsync of the WAL that began after their COMMIT, while the
// writer already runs the next batch. One fsync covers every frame written before it, so the
// calls of all the batches committed while an fsync ran share the next one.
//
// SQLite's own syncs stay as NORMAL has them: the WAL before a checkpoint copies it into the
// database, the database after, and the WAL header when the log is reused. What changes is who
// waits for the commit's fsync: no longer the writer and every call queued behind it.
type walSync struct {
	// path is the WAL file; the file is opened for each fsync because SQLite deletes it when its
	// last connection closes (after a checkpoint has made everything in it durable) and makes a
	// new one on the next open.
	path string

	mu      sync.Mutex
	waiting []*writeCall // committed, answered after the next fsync
	wake    chan struct{}
	stopped chan struct{}

	// failed holds the first fsync failure, for good (lost).
	failed atomic.Pointer[error]

	// syncs counts the fsyncs done (for tests: one covers many calls).
	syncs atomic.Int64
	// beforeSync, when set (tests), runs before each fsync with the calls it will answer.
	beforeSync func(calls int)
	// syncFile is (*os.File).Sync; tests make it fail.
	syncFile func(*os.File) error
}

func newWALSync(path string) *walSync {
	s := &walSync{path: path, wake: make(chan struct{}, 1), stopped: make(chan struct{}), syncFile: (*os.File).Sync}
	go s.run()
	return s
}

// answerAfterSync hands s committed durable calls; each hears err of the first fsync that
// begins after this call.
func (s *walSync) answerAfterSync(calls []*writeCall) {
	if len(calls) == 0 {
		return
	}
	s.mu.Lock()
	s.waiting = append(s.waiting, calls...)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// close answers the calls still waiting after one last fsync and stops run. No call may be
// handed over after it begins.
func (s *walSync) close() {
	close(s.wake)
	<-s.stopped
}

func (s *walSync) run() {
	defer close(s.stopped)
	for range s.wake {
		for {
			s.mu.Lock()
			calls := s.waiting
			s.waiting = nil
			s.mu.Unlock()
			if len(calls) == 0 {
				break
			}
			if s.beforeSync != nil {
				s.beforeSync(len(calls))
			}
			err := s.sync()
			for _, c := range calls {
				c.result <- err
			}
		}
	}
}

// sync makes every frame written to the WAL so far durable. fsync(2) flushes the file, not the
// descriptor, so a descriptor of our own covers the frames the writer connection wrote. No WAL
// file means SQLite checkpointed it into the database (and synced that) and removed it: nothing
// is left to make durable.
func (s *walSync) sync() error {
	if err := s.lost(); err != nil {
		return err
	}
	s.syncs.Add(1)
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqldb: open the WAL to sync it: %w", withoutPath(err))
	}
	err = s.syncFile(f)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		// Whether the commit reached the disk is unknown: the caller hears a failure, as after a
		// lost connection (its work may still be visible, so a retry must be idempotent). And
		// so is whether any later fsync would mean anything: after a failed fsync the kernel may
		// have dropped the dirty pages it could not write and report the next fsync as a
		// success. The database refuses every write from now on (lost), as PostgreSQL stops on
		// a failed fsync; a restart recovers from what the disk holds.
		err = smherr.Unavailable(fmt.Errorf("sqldb: sync the WAL: %w; writes are refused until the process restarts", withoutPath(err)))
		s.failed.CompareAndSwap(nil, &err)
		return err
	}
	return nil
}

// lost answers the fsync failure after which nothing written is known to be durable, nil
// before any.
func (s *walSync) lost() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}
