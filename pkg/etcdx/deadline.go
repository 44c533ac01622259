package etcdx

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/opensmh/opensmh/pkg/smherr"
)

// DefaultCallTimeout bounds each etcd request (a caller's earlier deadline wins): a healthy cluster answers
// in milliseconds, and a leader election after a member's loss takes about a second.
const DefaultCallTimeout = 5 * time.Second

// boundCalls makes every KV request (Get, Put, Delete, Txn, Do, Compact) and every lease request
// but KeepAlive on cli run under timeout (or the caller's deadline, if earlier: a request's
// deadline is meant for the whole request, not for one etcd round trip), so that a store call,
// a discovery lookup or a job's bookkeeping fails with context.DeadlineExceeded instead of
// waiting for a lost cluster for ever. It wraps the client's own KV and Lease in place, so every
// user of cli (the stores, pkg/discovery, pkg/jobs and etcd's concurrency package) is covered by
// this one helper. Exempt, on purpose: Watch (long-lived; a caller's ctx ends it), Lease
// KeepAlive (a stream that lives as long as its lease) and elections' Campaign and Observe,
// which wait for leadership by watching and whose single requests go through the bounded KV.
func boundCalls(cli *clientv3.Client, timeout time.Duration) {
	cli.KV = boundedKV{KV: cli.KV, timeout: timeout}
	cli.Lease = boundedLease{Lease: cli.Lease, timeout: timeout}
}

// call runs one request under the bound and marks a failure of the cluster (no answer within
// the deadline, no leader, no member reachable) with smherr.ErrUnavailable, so that the
// services answer it with 503 ServiceUnavailable rather than 500 (docs/operations.md).
func call[T any](ctx context.Context, timeout time.Duration, request func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := request(ctx)
	if err != nil && clusterUnavailable(ctx, err) {
		err = smherr.Unavailable(err)
	}
	return resp, err
}

func clusterUnavailable(ctx context.Context, err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // the caller gave up
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	var etcdErr rpctypes.EtcdError
	if errors.As(err, &etcdErr) {
		return etcdErr.Code() == codes.Unavailable
	}
	st, ok := status.FromError(err)
	if !ok {
		return false
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	case codes.Unknown:
		// gRPC carries our deadline to the etcd server, whose copy ends a moment before ours: a
		// member waiting for a leader then answers its context's error as Unknown "context
		// deadline exceeded", which reaches us while ctx.Err() is still nil.
		return st.Message() == context.DeadlineExceeded.Error()
	}
	return false
}

type boundedKV struct {
	clientv3.KV
	timeout time.Duration
}

func (kv boundedKV) Put(ctx context.Context, key, val string, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	return call(ctx, kv.timeout, func(ctx context.Context) (*clientv3.PutResponse, error) { return kv.KV.Put(ctx, key, val, opts...) })
}

func (kv boundedKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	return call(ctx, kv.timeout, func(ctx context.Context) (*clientv3.GetResponse, error) { return kv.KV.Get(ctx, key, opts...) })
}

func (kv boundedKV) Delete(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.DeleteResponse, error) {
	return call(ctx, kv.timeout, func(ctx context.Context) (*clientv3.DeleteResponse, error) { return kv.KV.Delete(ctx, key, opts...) })
}

func (kv boundedKV) Compact(ctx context.Context, rev int64, opts ...clientv3.CompactOption) (*clientv3.CompactResponse, error) {
	return call(ctx, kv.timeout, func(ctx context.Context) (*clientv3.CompactResponse, error) { return kv.KV.Compact(ctx, rev, opts...) })
}

func (kv boundedKV) Do(ctx context.Context, op clientv3.Op) (clientv3.OpResponse, error) {
	return call(ctx, kv.timeout, func(ctx context.Context) (clientv3.OpResponse, error) { return kv.KV.Do(ctx, op) })
}

// Txn bounds the transaction from its Commit: a Txn is built, then committed once.
func (kv boundedKV) Txn(ctx context.Context) clientv3.Txn {
	return &boundedTxn{ctx: ctx, kv: kv.KV, timeout: kv.timeout}
}

// boundedTxn records the builder calls and replays them on a transaction whose context carries
// the deadline, created when Commit runs (so the deadline does not start while it is built).
type boundedTxn struct {
	ctx     context.Context
	kv      clientv3.KV
	timeout time.Duration
	cmps    []clientv3.Cmp
	thens   []clientv3.Op
	elses   []clientv3.Op
}

func (t *boundedTxn) If(cs ...clientv3.Cmp) clientv3.Txn {
	t.cmps = append(t.cmps, cs...)
	return t
}

func (t *boundedTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	t.thens = append(t.thens, ops...)
	return t
}

func (t *boundedTxn) Else(ops ...clientv3.Op) clientv3.Txn {
	t.elses = append(t.elses, ops...)
	return t
}

func (t *boundedTxn) Commit() (*clientv3.TxnResponse, error) {
	return call(t.ctx, t.timeout, func(ctx context.Context) (*clientv3.TxnResponse, error) {
		return t.kv.Txn(ctx).If(t.cmps...).Then(t.thens...).Else(t.elses...).Commit()
	})
}

type boundedLease struct {
	clientv3.Lease
	timeout time.Duration
}

func (l boundedLease) Grant(ctx context.Context, ttl int64) (*clientv3.LeaseGrantResponse, error) {
	return call(ctx, l.timeout, func(ctx context.Context) (*clientv3.LeaseGrantResponse, error) { return l.Lease.Grant(ctx, ttl) })
}

func (l boundedLease) Revoke(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseRevokeResponse, error) {
	return call(ctx, l.timeout, func(ctx context.Context) (*clientv3.LeaseRevokeResponse, error) { return l.Lease.Revoke(ctx, id) })
}

func (l boundedLease) TimeToLive(ctx context.Context, id clientv3.LeaseID, opts ...clientv3.LeaseOption) (*clientv3.LeaseTimeToLiveResponse, error) {
	return call(ctx, l.timeout, func(ctx context.Context) (*clientv3.LeaseTimeToLiveResponse, error) {
		return l.Lease.TimeToLive(ctx, id, opts...)
	})
}

func (l boundedLease) Leases(ctx context.Context) (*clientv3.LeaseLeasesResponse, error) {
	return call(ctx, l.timeout, func(ctx context.Context) (*clientv3.LeaseLeasesResponse, error) { return l.Lease.Leases(ctx) })
}

func (l boundedLease) KeepAliveOnce(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseKeepAliveResponse, error) {
	return call(ctx, l.timeout, func(ctx context.Context) (*clientv3.LeaseKeepAliveResponse, error) {
		return l.Lease.KeepAliveOnce(ctx, id)
	})
}
