// Package etcdx starts the embedded etcd member of the all-in-one and connects clients to etcd.
package etcdx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/opensmh/opensmh/pkg/telemetry"
)

// Embedded is a single-member etcd running inside this process.
type Embedded struct {
	etcd     *embed.Etcd
	Endpoint string
}

// EmbeddedOptions tune the embedded member.
type EmbeddedOptions struct {
	// Dir holds the member's data; it is created if missing.
	Dir string
	// ClientURL is where the member listens for clients; default http://127.0.0.1:0 picks a port.
	ClientURL string
	// NoFsync trades durability for speed; for unit tests only.
	NoFsync bool
	// Logger receives the member's own log (telemetry.ZapLogger: warn and above unless it is at
	// debug); nil drops it, for tests.
	Logger *slog.Logger
}

// StartEmbedded starts a single-member etcd and waits until it serves.
func StartEmbedded(ctx context.Context, opts EmbeddedOptions) (*Embedded, error) {
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("etcd data dir: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Dir = opts.Dir
	cfg.Name = "smh"
	// LogLevel does not filter the log (the logger's handler does); kept off debug because at
	// debug etcd also serves pprof and request traces on the client port.
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zapLogger(opts.Logger).With(zap.String("component", "etcd")))
	cfg.UnsafeNoFsync = opts.NoFsync
	client := opts.ClientURL
	if client == "" {
		client = "http://127.0.0.1:0"
	}
	cu, err := url.Parse(client)
	if err != nil {
		return nil, fmt.Errorf("etcd client url: %w", err)
	}
	// The peer port is never used by a single member; port 0 keeps it from colliding.
	pu, _ := url.Parse("http://127.0.0.1:0")
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{{Scheme: "http", Host: "127.0.0.1:2380"}}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, errors.New("embedded etcd did not become ready in 30s")
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	addr := e.Clients[0].Addr().String()
	return &Embedded{etcd: e, Endpoint: "http://" + addr}, nil
}

// zapLogger answers the zap logger etcd writes to: logger's handler, or nothing without one.
func zapLogger(logger *slog.Logger) *zap.Logger {
	if logger == nil {
		return zap.NewNop()
	}
	return telemetry.ZapLogger(logger)
}

// Close stops the member.
func (e *Embedded) Close() { e.etcd.Close() }

// Ping answers a check that cli's cluster serves a linearizable read (it has a leader and a
// quorum): the readiness probe of the services whose store is etcd.
func Ping(cli *clientv3.Client) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := cli.Get(ctx, "health-probe", clientv3.WithCountOnly())
		return err
	}
}

// Connect opens a client to endpoints and checks that etcd answers. Every request through the
// client runs under callTimeout (0 = DefaultCallTimeout), or its caller's earlier deadline; see
// boundCalls for the exceptions. The client's own log (lost leaders, retries) goes to logger as
// for the embedded member; nil drops it.
func Connect(ctx context.Context, endpoints []string, callTimeout time.Duration, logger *slog.Logger) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zapLogger(logger).With(zap.String("component", "etcd-client")),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	if callTimeout <= 0 {
		callTimeout = DefaultCallTimeout
	}
	boundCalls(cli, callTimeout)
	probe, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Get(probe, "health-probe"); err != nil {
		cli.Close()
		return nil, fmt.Errorf("etcd at %v does not answer: %w", endpoints, err)
	}
	return cli, nil
}
