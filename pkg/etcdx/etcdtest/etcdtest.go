// Package etcdtest gives tests a real embedded etcd member.
package etcdtest

import (
	"context"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/opensmh/opensmh/pkg/etcdx"
)

// New starts an embedded etcd in a temporary directory (fsync off: test data need not survive a
// crash) and answers a client; both stop when the test ends.
func New(t testing.TB) *clientv3.Client {
	t.Helper()
	ctx := context.Background()
	e, err := etcdx.StartEmbedded(ctx, etcdx.EmbeddedOptions{Dir: t.TempDir(), NoFsync: true})
	if err != nil {
		t.Fatalf("embedded etcd: %v", err)
	}
	t.Cleanup(e.Close)
	cli, err := etcdx.Connect(ctx, []string{e.Endpoint}, 0, nil)
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}
