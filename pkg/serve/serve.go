// Package serve runs the servers of one process together and stops them together: every binary
// (the split services and smh serve) serves and drains through Run, so they stop in the same
// order, within the same drain timeout, and answer the same errors.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
)

// DefaultDrainTimeout bounds how long a stop waits for in-flight requests.
const DefaultDrainTimeout = 10 * time.Second

// Server is one server of the process.
type Server struct {
	// Name names the server in errors and logs ("grpc", "data endpoint").
	Name string
	// Serve blocks while the server serves. It answers nil once Drain or Stop made it return;
	// anything else is a failure, which stops the other servers.
	Serve func() error
	// Leave, if set, tells the world the server is going (unlists it from discovery, turns its
	// health checks to NOT_SERVING). Every server's Leave runs before any server drains, so
	// that callers move to other instances while in-flight work still finishes.
	Leave func()
	// Drain stops accepting and waits for in-flight work until ctx ends; an error means the
	// wait was cut short.
	Drain func(ctx context.Context) error
	// Stop ends what Drain left: open connections and in-flight work.
	Stop func()
}

// HTTP answers srv serving on lis. Drain is http.Server.Shutdown, Stop http.Server.Close.
func HTTP(name string, srv *http.Server, lis net.Listener) Server {
	return Server{
		Name: name,
		Serve: func() error {
			if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		Drain: srv.Shutdown,
		Stop:  func() { _ = srv.Close() },
	}
}

// GRPC answers srv serving on lis. Drain is grpc.Server.GracefulStop, Stop grpc.Server.Stop.
func GRPC(name string, srv *grpc.Server, lis net.Listener) Server {
	return Server{
		Name: name,
		Serve: func() error {
			// ErrServerStopped: the stop came before Serve began (ctx ended during the start).
			if err := srv.Serve(lis); !errors.Is(err, grpc.ErrServerStopped) {
				return err
			}
			return nil
		},
		Drain: func(ctx context.Context) error {
			stopped := make(chan struct{})
			go func() { srv.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
				return nil
			case <-ctx.Done():
				// Stop ends the GracefulStop above too; the caller's Stop awaits it.
				return ctx.Err()
			}
		},
		Stop: srv.Stop,
	}
}

// Options of Run.
type Options struct {
	// DrainTimeout bounds the drain of every server together; 0 is DefaultDrainTimeout.
	DrainTimeout time.Duration
	// Logger tells of a drain that was cut; nil is slog.Default().
	Logger *slog.Logger
}

// ErrStoppedEarly is answered for a server whose Serve returned nil before it was asked to stop.
var ErrStoppedEarly = errors.New("stopped before it was asked to")

// Run serves every server until ctx ends or one of them fails, then stops them all in this
// order:
//  1. every server's Leave, so that no new calls arrive;
//  2. every server's Drain at once: it stops accepting and finishes in-flight work, all within
//     one DrainTimeout;
//  3. the Stop of each server whose drain was cut, which ends what is left.
//
// Run answers the first failure of a server, nil when ctx ended and every server stopped
// normally. A cut drain is logged, not answered: it happens whenever a long-lived stream (a
// watch, authtoken's revocation stream) stays open, and a stop asked for still succeeded.
func Run(ctx context.Context, o Options, servers ...Server) error {
	if o.DrainTimeout == 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	g, gctx := errgroup.WithContext(ctx)
	var stopping atomic.Bool
	for _, s := range servers {
		g.Go(func() error {
			err := s.Serve()
			switch {
			case err != nil:
				return fmt.Errorf("%s: %w", s.Name, err)
			case !stopping.Load():
				return fmt.Errorf("%s: %w", s.Name, ErrStoppedEarly)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		stopping.Store(true)
		stopAll(o, servers)
		return nil
	})
	return g.Wait()
}

// stopAll is the stop sequence of Run.
func stopAll(o Options, servers []Server) {
	for _, s := range servers {
		if s.Leave != nil {
			s.Leave()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.DrainTimeout)
	defer cancel()
	var drains errgroup.Group
	for _, s := range servers {
		drains.Go(func() error {
			if err := s.Drain(ctx); err != nil {
				o.Logger.Warn("drain cut: in-flight work ended", "server", s.Name, "drain_timeout", o.DrainTimeout.String(), "error", err.Error())
			}
			// Also after a drain that finished: it ends what a Drain may leave behind (the
			// hijacked connections http.Server.Shutdown does not track).
			s.Stop()
			return nil
		})
	}
	_ = drains.Wait()
}
