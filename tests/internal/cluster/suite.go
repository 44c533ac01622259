package cluster

import (
	"fmt"
	"os"
	"slices"
	"sync"
)

// Suite is the proc.T of a package's TestMain that starts one deployment for all its tests: the
// deployment outlives every single test, so it cannot belong to one. Cleanups run, last first,
// when Run ends; Fatalf during the setup ends the run with a failure.
type Suite struct {
	mu       sync.Mutex
	cleanups []func()
	failed   bool
	tmp      string
}

// suiteFatal is the panic by which Fatalf leaves the setup.
type suiteFatal struct{}

// Run calls setup, then (if it did not fail) tests, which answers an exit code (m.Run); then it
// runs the cleanups and answers the code, 1 when the setup or a cleanup failed.
func (s *Suite) Run(setup func(*Suite), tests func() int) (code int) {
	defer func() {
		s.runCleanups()
		if s.Failed() && code == 0 {
			code = 1
		}
	}()
	if !s.try(setup) {
		return 1
	}
	code = tests()
	if code != 0 {
		s.mu.Lock()
		s.failed = true // the processes' output is worth reading now
		s.mu.Unlock()
	}
	return code
}

func (s *Suite) try(setup func(*Suite)) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, fatal := r.(suiteFatal); !fatal {
				panic(r)
			}
			ok = false
		}
	}()
	setup(s)
	return true
}

func (s *Suite) runCleanups() {
	s.mu.Lock()
	cleanups := slices.Clone(s.cleanups)
	s.cleanups = nil
	s.mu.Unlock()
	for _, f := range slices.Backward(cleanups) {
		f()
	}
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}

// Helper does nothing: a suite reports no caller lines.
func (s *Suite) Helper() {}

// Cleanup registers f to run when Run ends.
func (s *Suite) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

// Errorf reports a failure of the suite's setup or cleanup.
func (s *Suite) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "suite: "+format+"\n", args...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = true
}

// Fatalf reports a failure and ends the setup (it must be called on the setup's goroutine).
func (s *Suite) Fatalf(format string, args ...any) {
	s.Errorf(format, args...)
	panic(suiteFatal{})
}

// Logf writes to standard error.
func (s *Suite) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// Failed reports whether the setup, a cleanup or a test failed.
func (s *Suite) Failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// TempDir answers a directory removed when Run ends.
func (s *Suite) TempDir() string {
	if s.tmp == "" {
		dir, err := os.MkdirTemp("", "smh-suite-")
		if err != nil {
			s.Fatalf("a temporary directory: %v", err)
		}
		s.tmp = dir
	}
	return s.tmp
}
