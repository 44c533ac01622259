// Package discovery registers service instances in etcd under a lease and resolves them with
// the etcd naming resolver (docs/architecture.md, "Services"): an instance that dies disappears when
// its lease lapses, and clients round-robin over the live ones.
package discovery

import (
	"context"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/naming/endpoints"
	"go.etcd.io/etcd/client/v3/naming/resolver"
	"google.golang.org/grpc"

	"github.com/opensmh/opensmh/pkg/backoff"
)

// Prefix is where instances are registered: Prefix + service + "/" + address.
const Prefix = "/smh/services/"

// LeaseTTL bounds how long a crashed instance stays listed.
const LeaseTTL = 10 * time.Second

// Registration keeps one instance listed while its lease is kept alive, and lists it again under
// a new lease when the old one is lost (etcd unreachable for longer than the TTL, or the lease
// revoked): an instance that serves must never stay invisible until someone restarts it.
type Registration struct {
	cli     *clientv3.Client
	em      endpoints.Manager
	key     string
	addr    string
	ctx     context.Context
	cancel  context.CancelFunc
	stopped chan struct{}

	mu    sync.Mutex
	lease clientv3.LeaseID

	closed sync.Once
}

// Register lists addr as an instance of service until Close or until the process dies.
func Register(ctx context.Context, cli *clientv3.Client, service, addr string) (*Registration, error) {
	em, err := endpoints.NewManager(cli, Prefix+service)
	if err != nil {
		return nil, err
	}
	kaCtx, cancel := context.WithCancel(context.Background())
	r := &Registration{cli: cli, em: em, key: Prefix + service + "/" + addr, addr: addr,
		ctx: kaCtx, cancel: cancel, stopped: make(chan struct{})}
	ka, err := r.attach(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("register %s: %w", service, err)
	}
	go r.keep(ka)
	return r, nil
}

// attach grants a lease, lists the instance under it and starts keeping it alive.
func (r *Registration) attach(ctx context.Context) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	grant, err := r.cli.Grant(ctx, int64(LeaseTTL/time.Second))
	if err != nil {
		return nil, err
	}
	if err := r.em.AddEndpoint(ctx, r.key, endpoints.Endpoint{Addr: r.addr}, clientv3.WithLease(grant.ID)); err != nil {
		return nil, err
	}
	ka, err := r.cli.KeepAlive(r.ctx, grant.ID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.lease = grant.ID
	r.mu.Unlock()
	return ka, nil
}

// keep drains keep-alive answers (the client drops them otherwise) and, when the keep-alive ends
// before Close, attaches again with jittered backoff: after an etcd outage every instance of the
// deployment re-attaches, and they should not all ask at the same instant.
func (r *Registration) keep(ka <-chan *clientv3.LeaseKeepAliveResponse) {
	defer close(r.stopped)
	retry := backoff.New(200*time.Millisecond, 5*time.Second)
	for {
		for range ka {
		}
		retry.Reset()
		for {
			if r.ctx.Err() != nil {
				return
			}
			attemptCtx, cancel := context.WithTimeout(r.ctx, LeaseTTL)
			next, err := r.attach(attemptCtx)
			cancel()
			if err == nil {
				ka = next
				break
			}
			if retry.Wait(r.ctx) != nil {
				return
			}
		}
	}
}

// Close removes the instance at once (revoking its lease) instead of waiting for the TTL. Later
// calls do nothing: a process may unlist an instance as it starts to stop and again on its way out.
func (r *Registration) Close() { r.closed.Do(r.close) }

func (r *Registration) close() {
	r.cancel()
	<-r.stopped
	r.mu.Lock()
	lease := r.lease
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, _ = r.cli.Revoke(ctx, lease)
}

// Dial answers a connection that balances round-robin over the live instances of service.
func Dial(cli *clientv3.Client, service string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	builder, err := resolver.NewBuilder(cli)
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		grpc.WithResolvers(builder),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
	)
	return grpc.NewClient("etcd:///"+Prefix+service, opts...)
}
