package app

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gatedLibraries answers every library after gate closes, counting the calls; its answer's
// IsPublicRead follows publicRead at the time of the call.
type gatedLibraries struct {
	gate       chan struct{}
	calls      atomic.Int32
	publicRead atomic.Bool
}

func (g *gatedLibraries) Library(_ context.Context, id string) (Library, error) {
	g.calls.Add(1)
	<-g.gate
	return Library{ID: id, IsPublicRead: g.publicRead.Load()}, nil
}

// Every business request needs its library's facts: a burst of requests on a library not yet
// cached asks the library service once, and a change this instance made (9.2) is seen at once.
func TestCachedLibraries(t *testing.T) {
	src := &gatedLibraries{gate: make(chan struct{})}
	libs := newCachedLibraries(src, time.Hour)
	defer libs.close()

	const callers = 8
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if lib, err := libs.Library(context.Background(), "lib"); err != nil || lib.ID != "lib" {
				t.Errorf("Library = %+v, %v", lib, err)
			}
		})
	}
	// Callers that join the call wait with it at the gate; later ones find the facts cached.
	for src.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(src.gate)
	wg.Wait()
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("%d calls for %d concurrent requests, want 1", n, callers)
	}

	src.publicRead.Store(true)
	libs.forget("lib")
	if lib, err := libs.Library(context.Background(), "lib"); err != nil || !lib.IsPublicRead {
		t.Fatalf("after forget: %+v, %v", lib, err)
	}
}

// A change made through another replica is not in this one's cache; fresh reads it anyway (a
// refusal judged on a mutable fact asks the library service, see ClearLibraryHistory).
func TestCachedLibrariesFresh(t *testing.T) {
	src := &gatedLibraries{gate: make(chan struct{})}
	close(src.gate)
	libs := newCachedLibraries(src, time.Hour)
	defer libs.close()
	if lib, err := libs.Library(context.Background(), "lib"); err != nil || lib.IsPublicRead {
		t.Fatalf("first read: %+v, %v", lib, err)
	}
	src.publicRead.Store(true) // changed behind this instance's back
	if lib, _ := libs.Library(context.Background(), "lib"); lib.IsPublicRead {
		t.Fatalf("the cached read saw the change: the cache did not hold")
	}
	if lib, err := libs.fresh(context.Background(), "lib"); err != nil || !lib.IsPublicRead {
		t.Fatalf("fresh: %+v, %v", lib, err)
	}
	if lib, _ := libs.Library(context.Background(), "lib"); !lib.IsPublicRead {
		t.Fatalf("the fresh facts were not cached")
	}
}
