// Package cmdutil holds what every service binary does the same way: flags from SMH_* env,
// the logger, tracing, metrics, signals and the etcd connection.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zapgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/grpclog"

	"github.com/opensmh/opensmh/pkg/config"
	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/etcdx"
	"github.com/opensmh/opensmh/pkg/grpcx"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/telemetry"
)

// Common are the flags shared by the service binaries.
type Common struct {
	Etcd     string
	LogLevel string
	// MetricsListen is the plain-HTTP address serving /metrics; empty turns metrics off.
	MetricsListen string
	Deadlines     Deadlines
}

// Deadlines bound every call to a dependency (docs/security.md, "Deadlines"); zero fields take
// the defaults of the packages that apply them. `smh serve` declares the same flags.
type Deadlines struct {
	// Call and LongCall bound calls between services made without a deadline (grpcx.Tuning).
	Call, LongCall time.Duration
	// Etcd bounds each etcd request; SQLTx each SQL transaction.
	Etcd, SQLTx time.Duration
	// ReadinessEvery is the pause between two checks of a service's store (pkg/readiness).
	ReadinessEvery time.Duration
}

// Add declares the deadline flags on fs.
func (d *Deadlines) Add(fs *pflag.FlagSet) {
	fs.DurationVar(&d.Call, "grpc-call-timeout", grpcx.DefaultCallTimeout, "deadline of a call between services made without one")
	fs.DurationVar(&d.LongCall, "grpc-long-call-timeout", grpcx.DefaultLongCallTimeout, "deadline of the calls that purge a library or a space")
	fs.DurationVar(&d.Etcd, "etcd-call-timeout", etcdx.DefaultCallTimeout, "deadline of each etcd request (watches and lease keepalives excepted)")
	// 0 stands for sqldb.DefaultTxTimeout: naming it here would link the SQL drivers into the
	// binaries that have no SQL store.
	fs.DurationVar(&d.SQLTx, "sql-tx-timeout", 0, "deadline of each SQL transaction (0: 10s); a database that does not answer in time gives 503")
	fs.DurationVar(&d.ReadinessEvery, "readiness-every", readiness.DefaultEvery, "pause between two checks of each service's store for /healthz")
}

// GRPC answers the gRPC tuning the deadlines ask for.
func (d Deadlines) GRPC() grpcx.Tuning {
	return grpcx.Tuning{CallTimeout: d.Call, LongCallTimeout: d.LongCall}
}

// Readiness answers the readiness options the deadlines ask for.
func (d Deadlines) Readiness(logger *slog.Logger) readiness.Options {
	return readiness.Options{Every: d.ReadinessEvery, Logger: logger}
}

// Add declares the common flags on fs.
func (c *Common) Add(fs *pflag.FlagSet) {
	fs.StringVar(&c.Etcd, "etcd-endpoints", "http://127.0.0.1:2379", "comma-separated etcd endpoints")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.MetricsListen, "metrics-listen", "", "plain-HTTP address serving Prometheus /metrics, internal only (default: off)")
	c.Deadlines.Add(fs)
}

// FlagSet is a split binary's whole flag set: the common flags on common and its service's own
// (the service package's Flags). Each main parses this set, and tests/deploy checks the
// deployment files against it, so both read the one list a binary really accepts.
func FlagSet(name string, common *Common, own interface{ AddFlags(*pflag.FlagSet) }) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	common.Add(fs)
	own.AddFlags(fs)
	return fs
}

// Env is what a service binary runs with.
type Env struct {
	Ctx       context.Context
	Logger    *slog.Logger
	Etcd      *clientv3.Client
	Deadlines Deadlines
}

// Main makes the files the process creates private (PrivateFiles), parses flags (SMH_* env fills
// the ones not given), sets up logging, tracing, metrics (--metrics-listen) and etcd, and runs run
// until SIGINT/SIGTERM. It answers the process exit code: 0 ok, 1 failure, 2 usage.
//
// Every line the process writes is a JSON log record on stderr, with one exception: a usage
// error (a flag, SMH_* env or --log-level that does not parse) is one plain `service: ...` line,
// as it comes before there is a logger to write it. Any later error, a failed start included,
// is one error record naming the cause.
func Main(service string, fs *pflag.FlagSet, common *Common, args []string, run func(Env) error) int {
	PrivateFiles()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", service, err)
		return 2
	}
	if err := config.BindEnv(fs); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", service, err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(common.LogLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "%s: --log-level: %v\n", service, err)
		return 2
	}
	logger := InstallLogger(level, "service", service)
	shutdown, err := telemetry.SetupTracing(context.Background(), "opensmh-"+service)
	if err != nil {
		// OTEL_* names an exporter or protocol we do not know: a usage error, found after the
		// logger exists.
		logger.Error(service+" stopped", "error", err.Error())
		return 2
	}
	defer shutdown(context.Background())
	if err := runLogged(service, common, logger, run); err != nil {
		logger.Error(service+" stopped", "error", err.Error())
		return 1
	}
	return 0
}

// InstallLogger answers the process's JSON logger on stderr, its records carrying attrs (slog
// key-value pairs), and makes it the default of slog, of the log package and of gRPC's own log,
// so that a logger left unset somewhere, or a library that logs through the log package or
// grpclog, still writes JSON lines instead of text. Call it first thing in main: gRPC's log may
// be replaced only before any gRPC use.
func InstallLogger(level slog.Level, attrs ...any) *slog.Logger {
	logger := telemetry.NewLogger(os.Stderr, level).With(attrs...)
	slog.SetDefault(logger)
	grpcLog := telemetry.ZapLogger(logger.With("component", "grpc"))
	if level > slog.LevelDebug {
		// As gRPC's default log: errors only. Its warnings (a peer not reachable yet, a
		// connection reset) come at every restart of a split deployment.
		grpcLog = grpcLog.WithOptions(zap.IncreaseLevel(zapcore.ErrorLevel))
	}
	grpclog.SetLoggerV2(zapgrpc.NewLogger(grpcLog))
	return logger
}

// runLogged is Main once the logger exists.
func runLogged(service string, common *Common, logger *slog.Logger, run func(Env) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopMetrics, err := telemetry.ServeMetrics(common.MetricsListen, "opensmh-"+service, logger)
	if err != nil {
		return err
	}
	defer stopMetrics(context.Background())
	cli, err := etcdx.Connect(ctx, config.SplitList(common.Etcd), common.Deadlines.Etcd, logger)
	if err != nil {
		return err
	}
	defer cli.Close()
	return run(Env{Ctx: ctx, Logger: logger, Etcd: cli, Deadlines: common.Deadlines})
}

// Dial connects to the live instances of another service through etcd (round robin). Calls
// between services are plain gRPC on the internal network for now.
func (e Env) Dial(service string) (*grpc.ClientConn, error) {
	return discovery.Dial(e.Etcd, service, append(grpcx.ClientOptions(e.Deadlines.GRPC()), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
}

// RequireEnv answers the value of an environment variable that must be set.
func RequireEnv(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("%s must be set", name)
	}
	return v, nil
}
