package discovery_test

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
)

// An instance whose lease is lost (here revoked behind its back, as a lapse during an etcd outage
// would) is listed again under a new lease without a restart.
func TestRegistrationSurvivesALostLease(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	reg, err := discovery.Register(ctx, cli, "relist", "127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	key := discovery.Prefix + "relist/127.0.0.1:1"
	first, err := cli.Get(ctx, key)
	if err != nil || len(first.Kvs) != 1 {
		t.Fatalf("not listed: %v %v", first, err)
	}
	if _, err := cli.Revoke(ctx, clientv3.LeaseID(first.Kvs[0].Lease)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := cli.Get(ctx, key)
		if err == nil && len(resp.Kvs) == 1 && resp.Kvs[0].Lease != first.Kvs[0].Lease {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the instance was not listed again after losing its lease")
		}
		time.Sleep(100 * time.Millisecond)
	}
	reg.Close()
	if resp, _ := cli.Get(ctx, key); len(resp.Kvs) != 0 {
		t.Fatal("still listed after Close")
	}
}
