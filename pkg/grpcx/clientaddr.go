package grpcx

import (
	"context"
	"net"
	"net/netip"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/opensmh/opensmh/pkg/reqmeta"
)

// PublicEdgeOptions are the extra options of a gRPC server that answers the public port (the
// all-in-one's public server, the split gateway's proxy): every call's reqmeta.ClientAddress is
// replaced by the peer's IP address, so a caller cannot choose the address that per-address rate
// limits count it under (docs/shares.md). Internal servers do not use them: there the gateway's
// value must pass.
func PublicEdgeOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			return handler(withPeerAddress(ctx), req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			return handler(srv, &contextStream{ServerStream: ss, ctx: withPeerAddress(ss.Context())})
		}),
	}
}

// withPeerAddress answers ctx with its incoming ClientAddress set to the peer's IP (removed when
// the peer is unknown).
func withPeerAddress(ctx context.Context) context.Context {
	md, _ := metadata.FromIncomingContext(ctx)
	md = md.Copy()
	md.Delete(reqmeta.ClientAddress)
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if a, ok := peerIP(p.Addr); ok {
			md.Set(reqmeta.ClientAddress, a.String())
		}
	}
	return metadata.NewIncomingContext(ctx, md)
}

func peerIP(addr net.Addr) (netip.Addr, bool) {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		a, ok := netip.AddrFromSlice(tcp.IP)
		return a.Unmap(), ok
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}
