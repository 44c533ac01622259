// Package servicehost runs one service as its own process: a gRPC server with the shared
// interceptors, health and reflection, listed in etcd under a lease while it serves.
package servicehost

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/grpcx"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/serve"
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
	// DrainTimeout bounds the graceful stop; default serve.DefaultDrainTimeout.
	DrainTimeout time.Duration
	// Servers are the process's other servers (the object service's data endpoint), served
	// and stopped together with the gRPC server.
	Servers []serve.Server
	// Probes check the service's store; each reports its gRPC service's health, which the
	// gateway's /healthz asks (pkg/readiness).
	Probes    []readiness.Probe
	Readiness readiness.Options
}

// Run serves until ctx ends or a server fails, together with o.Servers, and stops them all as
// pkg/serve does: it leaves discovery and turns health to NOT_SERVING first (so no new calls
// arrive), then finishes in-flight calls within DrainTimeout.
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

	addr := o.Advertise
	if addr == "" {
		addr = lis.Addr().String()
	}
	// Listed before Serve starts: a call that arrives first waits in the listen backlog.
	reg, err := discovery.Register(ctx, o.Etcd, o.Name, addr)
	if err != nil {
		lis.Close()
		return err
	}
	host := serve.GRPC("grpc server", srv, lis)
	host.Leave = func() {
		reg.Close()
		hs.Shutdown()
	}
	o.Logger.Info("serving", "service", o.Name, "address", addr)
	return serve.Run(ctx, serve.Options{DrainTimeout: o.DrainTimeout, Logger: o.Logger}, append([]serve.Server{host}, o.Servers...)...)
}

// Addresses are a service binary's gRPC address flags.
type Addresses struct {
	Listen, Advertise string
}

// AddFlags declares --listen (defaulting to listen) and --advertise on fs.
func (a *Addresses) AddFlags(fs *pflag.FlagSet, listen string) {
	fs.StringVar(&a.Listen, "listen", listen, "gRPC address")
	fs.StringVar(&a.Advertise, "advertise", "", "address other services dial (default: the listen address)")
}
