// Package servicehost runs one service as its own process: a gRPC server with the shared
// interceptors, health and reflection, listed in etcd under a lease while it serves.
package servicehost

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/grpcx"
	"github.com/opensmh/opensmh/pkg/readiness"
)

// Options describe one service process.
type Options struct {
	// Name is the discovery name ("library", "authtoken").
	Name string
	// Listen is the gRPC listen address; Advertise the address others dial (default: the
	// listener's address).
	Listen, Advertise string
	Etcd              *clientv3.Client
	Logger            *slog.Logger
	// Register adds the service's gRPC services to the server.
	Register func(grpc.ServiceRegistrar)
	// DrainTimeout bounds the graceful stop; default 10 s.
	DrainTimeout time.Duration
	// Probes check the service's store; each reports its gRPC service's health, which the
	// gateway's /healthz asks (pkg/readiness).
	Probes    []readiness.Probe
	Readiness readiness.Options
}

// Run serves until ctx ends, then leaves discovery first (so no new calls arrive), finishes
// in-flight calls within DrainTimeout, and returns.
func Run(ctx context.Context, o Options) error {
	lis, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Listen, err)
	}
	srv := grpc.NewServer(grpcx.ServerOptions(o.Logger)...)
	o.Register(srv)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	stopProbes := readiness.Start(o.Probes, o.Readiness, hs)
	defer stopProbes()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	addr := o.Advertise
	if addr == "" {
		addr = lis.Addr().String()
	}
	reg, err := discovery.Register(ctx, o.Etcd, o.Name, addr)
	if err != nil {
		srv.Stop()
		<-served
		return err
	}
	o.Logger.Info("serving", "service", o.Name, "address", addr)

	select {
	case <-ctx.Done():
	case err := <-served:
		reg.Close()
		return fmt.Errorf("grpc server: %w", err)
	}
	reg.Close()
	hs.Shutdown()
	drain := o.DrainTimeout
	if drain == 0 {
		drain = 10 * time.Second
	}
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(drain):
		srv.Stop()
		<-stopped
	}
	<-served
	return nil
}
