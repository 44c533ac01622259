package discovery

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/naming/endpoints"
)

// ObjectData is the name object instances list their data endpoints under (plain HTTP, the
// address the gateway proxies uploads and downloads to), beside their gRPC address under
// "object".
const ObjectData = "object-data"

// Instances follows the live instances of one service for a caller that is not gRPC (the
// gateway's proxy to object data endpoints), as Dial's round-robin balancer does for gRPC: an
// instance appears when it registers and disappears when it leaves or its lease lapses.
type Instances struct {
	em     endpoints.Manager
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	addrs []string // sorted, so that the rotation does not depend on the order of etcd's events
	// next counts the rotations handed out; each starts one instance further on.
	next atomic.Uint64
	// ready is closed once the first list arrived.
	ready     chan struct{}
	readyOnce sync.Once
}

// Follow starts following service's instances; Close stops. It answers once etcd gave the
// first list (empty if none are registered), or ctx's error.
func Follow(ctx context.Context, cli *clientv3.Client, service string) (*Instances, error) {
	em, err := endpoints.NewManager(cli, Prefix+service)
	if err != nil {
		return nil, err
	}
	followCtx, cancel := context.WithCancel(context.Background())
	in := &Instances{em: em, cancel: cancel, done: make(chan struct{}), ready: make(chan struct{})}
	go in.follow(followCtx)
	select {
	case <-in.ready:
		return in, nil
	case <-ctx.Done():
		in.Close()
		return nil, ctx.Err()
	}
}

// follow keeps the list current. A watch that ends (etcd unreachable, a compacted revision)
// is started again with a fresh list, after a pause that grows to 5 s while etcd stays away;
// the last list stays in use meanwhile, since the instances it names may well still serve.
func (in *Instances) follow(ctx context.Context) {
	defer close(in.done)
	pause := 200 * time.Millisecond
	for ctx.Err() == nil {
		if in.watchOnce(ctx) {
			pause = 200 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// watchOnce reads the whole list and then applies changes until the watch ends. It answers
// whether the list was read.
func (in *Instances) watchOnce(ctx context.Context) bool {
	// The context bounds the watch as well as the first read, so it is the follower's own: a
	// first read that waits for an unreachable etcd ends with Close.
	updates, err := in.em.NewWatchChannel(ctx)
	if err != nil {
		return false
	}
	// NewWatchChannel puts the whole current list in the channel before it returns, so one
	// non-blocking receive takes all of it.
	live := map[string]string{}
	select {
	case batch := <-updates:
		apply(live, batch)
	default:
	}
	in.set(live)
	for batch := range updates {
		apply(live, batch)
		in.set(live)
	}
	return true
}

func apply(live map[string]string, batch []*endpoints.Update) {
	for _, u := range batch {
		switch u.Op {
		case endpoints.Add:
			live[u.Key] = u.Endpoint.Addr
		case endpoints.Delete:
			delete(live, u.Key)
		}
	}
}

func (in *Instances) set(live map[string]string) {
	addrs := make([]string, 0, len(live))
	for _, a := range live {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	in.mu.Lock()
	in.addrs = addrs
	in.mu.Unlock()
	in.readyOnce.Do(func() { close(in.ready) })
}

// Rotation answers every live instance, starting with the next one in turn: a caller sends to
// the first and moves on to the following ones only if it could not reach it. Empty when none
// is registered.
func (in *Instances) Rotation() []string {
	in.mu.Lock()
	addrs := in.addrs
	in.mu.Unlock()
	if len(addrs) == 0 {
		return nil
	}
	start := int((in.next.Add(1) - 1) % uint64(len(addrs)))
	return append(slices.Clone(addrs[start:]), addrs[:start]...)
}

// Close stops following.
func (in *Instances) Close() {
	in.cancel()
	<-in.done
}
