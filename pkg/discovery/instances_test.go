package discovery

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
)

// waitForRotation polls until in lists exactly want (in any order), or fails.
func waitForRotation(t *testing.T, in *Instances, want ...string) {
	t.Helper()
	slices.Sort(want)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := in.Rotation()
		slices.Sort(got)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("instances %q, want %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInstancesFollowRegistrations(t *testing.T) {
	cli := etcdtest.New(t)
	ctx := context.Background()
	regA, err := Register(ctx, cli, "data", "10.0.0.1:9105")
	if err != nil {
		t.Fatal(err)
	}
	// Another service's instance must not appear.
	other, err := Register(ctx, cli, "data-other", "10.0.0.9:9105")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)

	in, err := Follow(ctx, cli, "data")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	// The first list is there when Follow answers.
	if got := in.Rotation(); !slices.Equal(got, []string{"10.0.0.1:9105"}) {
		t.Fatalf("first list %q, want only A", got)
	}

	regB, err := Register(ctx, cli, "data", "10.0.0.2:9105")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(regB.Close)
	waitForRotation(t, in, "10.0.0.1:9105", "10.0.0.2:9105")

	// Each rotation names every instance once, and successive rotations start on each in turn.
	firsts := map[string]int{}
	for range 10 {
		r := in.Rotation()
		sorted := slices.Sorted(slices.Values(r))
		if !slices.Equal(sorted, []string{"10.0.0.1:9105", "10.0.0.2:9105"}) {
			t.Fatalf("rotation %q does not name each instance once", r)
		}
		firsts[r[0]]++
	}
	if firsts["10.0.0.1:9105"] != 5 || firsts["10.0.0.2:9105"] != 5 {
		t.Fatalf("rotations started %v, want 5 on each", firsts)
	}

	regA.Close()
	waitForRotation(t, in, "10.0.0.2:9105")
	regB.Close()
	waitForRotation(t, in)
	if got := in.Rotation(); got != nil {
		t.Fatalf("rotation with no instance: %q", got)
	}
}

func TestFollowGivesUpWhenEtcdIsAway(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	away := lis.Addr().String()
	lis.Close() // nothing listens there now
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{away}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	in, err := Follow(ctx, cli, "data")
	if !errors.Is(err, context.DeadlineExceeded) {
		if in != nil {
			in.Close()
		}
		t.Fatalf("Follow with etcd away: %v, want the context's deadline", err)
	}
}
