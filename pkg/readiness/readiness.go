// Package readiness reports whether each service can reach its store over grpc.health.v1, which
// the gateway's /healthz asks: a service whose database or etcd is down reports NOT_SERVING under
// its gRPC service name, and SERVING again once the store answers.
//
// Stores are pinged on a timer, not on each health Check: a load balancer polling /healthz
// every second from several places must not turn into as many database round trips. The empty
// service name "" is left SERVING, as liveness: a store's outage must not have the process
// restarted. docs/operations.md says what each service checks and what the probes ask.
package readiness

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Probe is one service's store check.
type Probe struct {
	// Service is the gRPC service name the status is reported under
	// ("smh.namespace.v1.NamespaceService").
	Service string
	// Ping answers nil while the store serves; it must answer within the ctx it is given.
	Ping func(ctx context.Context) error
}

// Defaults of Options.
const (
	DefaultEvery   = 5 * time.Second
	DefaultTimeout = 2 * time.Second
)

// Options tune the checks.
type Options struct {
	// Every is the pause between two checks of a probe (0 = DefaultEvery).
	Every time.Duration
	// Timeout bounds one ping (0 = DefaultTimeout): a store that does not answer in time is down.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Start checks every probe once (so the first /healthz already tells the truth), reports the
// outcome on each health server, and keeps checking every o.Every until stop is called; stop
// waits for the checking goroutine.
func Start(probes []Probe, o Options, servers ...*health.Server) (stop func()) {
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{probes: probes, opts: o, servers: servers, down: map[string]bool{}}
	w.checkAll(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(o.Every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				w.checkAll(ctx)
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

type watcher struct {
	probes  []Probe
	opts    Options
	servers []*health.Server

	mu sync.Mutex
	// down remembers each service's last outcome, so a change is logged once.
	down map[string]bool
}

// checkAll pings the probes at once (a hung store must not delay the others' report) and
// returns when all have answered.
func (w *watcher) checkAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range w.probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.check(ctx, p)
		}()
	}
	wg.Wait()
}

func (w *watcher) check(ctx context.Context, p Probe) {
	pctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	err := p.Ping(pctx)
	cancel()
	if ctx.Err() != nil {
		return // stopping: the servers are being shut down and report NOT_SERVING themselves
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	status := healthpb.HealthCheckResponse_SERVING
	if err != nil {
		status = healthpb.HealthCheckResponse_NOT_SERVING
	}
	if was, known := w.down[p.Service]; !known || was != (err != nil) {
		if err != nil {
			w.opts.Logger.Error("store unreachable: reporting not serving", "grpc_service", p.Service, "error", err.Error())
		} else if known {
			w.opts.Logger.Info("store reachable again: reporting serving", "grpc_service", p.Service)
		}
	}
	w.down[p.Service] = err != nil
	for _, hs := range w.servers {
		hs.SetServingStatus(p.Service, status)
	}
}
