// Package etcdx starts the embedded etcd member of the all-in-one and connects clients to etcd.
package etcdx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/opensmh/opensmh/pkg/telemetry"
)

// Embedded is a single-member etcd running inside this process.
type Embedded struct {
	etcd     *embed.Etcd
	Endpoint string
	// stopping is set by Close: see stoppingCore.
	stopping *atomic.Bool
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
	stopping := new(atomic.Bool)
	lg := zapLogger(opts.Logger).With(zap.String("component", "etcd")).WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return stoppingCore{Core: c, stopping: stopping}
	}))
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
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
	return &Embedded{etcd: e, Endpoint: "http://" + addr, stopping: stopping}, nil
}

// stoppingCore demotes the member's records to debug once Close began: a member being stopped
// reports each of its closing listeners as an error ("setting up serving from embedded etcd
// failed", "use of closed network connection"), which on a clean stop would be noise that
// looks like a failure.
type stoppingCore struct {
	zapcore.Core
	stopping *atomic.Bool
}

func (c stoppingCore) Check(entry zapcore.Entry, checked *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.stopping.Load() && entry.Level > zapcore.DebugLevel {
		entry.Level = zapcore.DebugLevel
	}
	return c.Core.Check(entry, checked)
}

func (c stoppingCore) With(fields []zapcore.Field) zapcore.Core {
	return stoppingCore{Core: c.Core.With(fields), stopping: c.stopping}
}

// zapLogger answers the zap logger etcd writes to: logger's handler, or nothing without one.
func zapLogger(logger *slog.Logger) *zap.Logger {
	if logger == nil {
		return zap.NewNop()
	}
	return telemetry.ZapLogger(logger)
}

// Close stops the member.
func (e *Embedded) Close() {
	e.stopping.Store(true)
	e.etcd.Close()
}

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
