// Package tcpproxy is a TCP proxy a test puts between a server and one of its dependencies, so
// that it can take the dependency away from that server alone: refuse and reset its connections
// (Cut, as a stopped database does), or accept them and never answer (BlackHole, as a hung one
// does), then give it back (Restore). It also counts the bytes it carries each way and can slow
// them (Limit), for tests of what crosses the network.
package tcpproxy

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opensmh/opensmh/tests/internal/proc"
)

type mode int

const (
	forwarding mode = iota
	cut             // no listener: dials are refused
	blackHoled      // connections are accepted and nothing is ever answered
)

// Proxy forwards connections on Addr to a target address.
type Proxy struct {
	t      proc.T
	target string
	// Addr is the loopback address the proxy listens on; it stays the same across Cut and
	// Restore.
	Addr string

	// toTarget and fromTarget count the bytes carried each way; rate bounds each connection's
	// bytes per second each way (0 = unbounded).
	toTarget, fromTarget, rate atomic.Int64

	mu    sync.Mutex
	mode  mode
	ln    net.Listener
	conns map[net.Conn]struct{} // both ends of every open connection
	wg    sync.WaitGroup
}

// Start listens on a free loopback port and forwards to target until the test ends.
func Start(t proc.T, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("a proxy listener: %v", err)
	}
	p := &Proxy{t: t, target: target, Addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.close)
	return p
}

// Cut stops the dependency as a stopped server does: new connections are refused and the open
// ones reset.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = cut
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.resetLocked()
}

// BlackHole makes the dependency hang: connections, open or new, stay open and nothing sent on
// them is ever answered.
func (p *Proxy) BlackHole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = blackHoled
	if p.ln == nil {
		p.listenLocked()
	}
}

// Restore gives the dependency back: the connections opened meanwhile (their conversation lost)
// are reset, and new ones are forwarded again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = forwarding
	p.resetLocked()
	if p.ln == nil {
		p.listenLocked()
	}
}

// Counted answers the bytes carried to the target and back since the proxy started.
func (p *Proxy) Counted() (toTarget, fromTarget int64) {
	return p.toTarget.Load(), p.fromTarget.Load()
}

// Limit bounds every connection to bytesPerSecond each way (0 = unbounded), so a test can act in
// the middle of a transfer that would otherwise end before it looks.
func (p *Proxy) Limit(bytesPerSecond int64) { p.rate.Store(bytesPerSecond) }

func (p *Proxy) listenLocked() {
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		p.t.Errorf("tcpproxy: listen again on %s: %v", p.Addr, err)
		return
	}
	p.serveLocked(ln)
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serveLocked(ln)
}

func (p *Proxy) serveLocked(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Cut or at cleanup
			}
			p.handle(c)
		}
	}()
}

// handle forwards c to a new connection to the target, or holds it unanswered.
func (p *Proxy) handle(client net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[client] = struct{}{}
	if p.mode == blackHoled {
		p.pumpLocked(client, io.Discard, nil)
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		delete(p.conns, client)
		return
	}
	p.conns[server] = struct{}{}
	p.pumpLocked(client, server, &p.toTarget)
	p.pumpLocked(server, client, &p.fromTarget)
}

// pumpLocked copies from src to dst until src fails, adding what it carries to count (when
// non-nil) at the proxy's rate; while the proxy is black-holed, what src sends is dropped.
func (p *Proxy) pumpLocked(src net.Conn, dst io.Writer, count *atomic.Int64) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && p.current() != blackHoled {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
				if count != nil {
					count.Add(int64(n))
				}
				if rate := p.rate.Load(); rate > 0 {
					time.Sleep(time.Duration(int64(n) * int64(time.Second) / rate))
				}
			}
			if err != nil {
				break
			}
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		_ = src.Close()
		delete(p.conns, src)
		if c, ok := dst.(net.Conn); ok {
			_ = c.Close()
			delete(p.conns, c)
		}
	}()
}

func (p *Proxy) current() mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// resetLocked closes every open connection with a TCP reset (no orderly FIN), as a server that
// went away does.
func (p *Proxy) resetLocked() {
	for c := range p.conns {
		if tcp, ok := c.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.mode = cut
	p.resetLocked()
	p.mu.Unlock()
	p.wg.Wait()
}
