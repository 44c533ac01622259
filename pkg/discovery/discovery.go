// Package discovery registers service instances in etcd under a lease and resolves them with
// the etcd naming resolver (architecture.md, "Services"): an instance that dies disappears when
// its lease lapses, and clients round-robin over the live ones.
package discovery

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/naming/endpoints"
	"go.etcd.io/etcd/client/v3/naming/resolver"
	"google.golang.org/grpc"
)

// Prefix is where instances are registered: Prefix + service + "/" + address.
const Prefix = "/smh/services/"

// LeaseTTL bounds how long a crashed instance stays listed.
const LeaseTTL = 10 * time.Second

// Registration keeps one instance listed while its lease is kept alive.
type Registration struct {
	cli     *clientv3.Client
	lease   clientv3.LeaseID
	cancel  context.CancelFunc
	drained chan struct{}
}

// Register lists addr as an instance of service until Close or until the process dies.
func Register(ctx context.Context, cli *clientv3.Client, service, addr string) (*Registration, error) {
	grant, err := cli.Grant(ctx, int64(LeaseTTL/time.Second))
	if err != nil {
		return nil, fmt.Errorf("lease for %s: %w", service, err)
	}
	em, err := endpoints.NewManager(cli, Prefix+service)
	if err != nil {
		return nil, err
	}
	key := Prefix + service + "/" + addr
	if err := em.AddEndpoint(ctx, key, endpoints.Endpoint{Addr: addr}, clientv3.WithLease(grant.ID)); err != nil {
		return nil, fmt.Errorf("register %s: %w", service, err)
	}
	kaCtx, cancel := context.WithCancel(context.Background())
	ka, err := cli.KeepAlive(kaCtx, grant.ID)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("keep lease of %s alive: %w", service, err)
	}
	r := &Registration{cli: cli, lease: grant.ID, cancel: cancel, drained: make(chan struct{})}
	// The keep-alive channel must be drained or the client logs and drops responses.
	go func() {
		defer close(r.drained)
		for range ka {
		}
	}()
	return r, nil
}

// Close removes the instance at once (revoking its lease) instead of waiting for the TTL.
func (r *Registration) Close() {
	r.cancel()
	<-r.drained
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, _ = r.cli.Revoke(ctx, r.lease)
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
