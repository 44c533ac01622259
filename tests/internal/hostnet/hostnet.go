// Package hostnet keeps apart, across the test binaries go test runs at once, the tests that
// change this machine's network and the tests a change breaks. Docker adds and removes bridges
// and veth interfaces for every build step and compose project (tests/compose); Chromium aborts
// every request in flight with ERR_NETWORK_CHANGED when an interface comes or goes, loopback
// requests included, and the console then shows "The server could not be reached"
// (tests/console, seen in a CI run on a new machine where the image builds overlapped it).
package hostnet

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// T is what Hold needs of a test.
type T interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// lockFile is machine-wide: every clone and every test binary of the project takes the same one.
var lockFile = filepath.Join(os.TempDir(), "opensmh-host-network.lock")

// The lock is the process's while any of its tests holds it: flock would make a second Hold in
// the same process (two browsers in one test, parallel tests) wait for the first forever.
var (
	mu      sync.Mutex
	holders int
	held    *os.File
)

// Hold waits for, then holds until the test ends, the machine's lock on network changes.
func Hold(t T) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if holders == 0 {
		f, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatalf("hostnet: %v", err)
		}
		start := time.Now()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			t.Fatalf("hostnet: lock %s: %v", lockFile, err)
		}
		if waited := time.Since(start); waited > time.Second {
			t.Logf("hostnet: waited %s for another test that changes or needs a steady network", waited.Round(time.Second))
		}
		held = f
	}
	holders++
	t.Cleanup(release)
}

// release lets the lock go with its process's last holder (closing the file releases it).
func release() {
	mu.Lock()
	defer mu.Unlock()
	if holders--; holders == 0 {
		held.Close()
		held = nil
	}
}
