// Package grpcproxy forwards gRPC calls arriving on the gateway's public port to the service that
// owns them, frame by frame, without decoding messages. It is what lets a split deployment keep
// "REST and gRPC on one port" (docs/architecture.md, "The public edge").
package grpcproxy

import (
	"context"
	"errors"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// frame is a message the proxy passes on undecoded.
type frame struct{ payload []byte }

// Codec marshals frames as their raw bytes and everything else as protobuf, so one server can
// host both proxied services and its own (health, reflection). Install it with
// grpc.ForceServerCodec.
type Codec struct{}

var _ encoding.Codec = Codec{}

// Marshal implements encoding.Codec.
func (Codec) Marshal(v any) ([]byte, error) {
	if f, ok := v.(*frame); ok {
		return f.payload, nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return nil, errors.New("grpcproxy: not a proto message")
	}
	return proto.Marshal(m)
}

// Unmarshal implements encoding.Codec.
func (Codec) Unmarshal(data []byte, v any) error {
	if f, ok := v.(*frame); ok {
		f.payload = append(f.payload[:0], data...)
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return errors.New("grpcproxy: not a proto message")
	}
	return proto.Unmarshal(data, m)
}

// Name implements encoding.Codec; it stands in for the default "proto" codec.
func (Codec) Name() string { return "proto" }

// Handler answers calls to services the server does not host itself by forwarding them to
// backends[fully qualified service name].
func Handler(backends map[string]grpc.ClientConnInterface) grpc.StreamHandler {
	return func(_ any, in grpc.ServerStream) error {
		method, ok := grpc.MethodFromServerStream(in)
		if !ok {
			return status.Error(codes.Internal, "no method")
		}
		service, _, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
		conn := backends[service]
		if conn == nil {
			return status.Errorf(codes.Unimplemented, "unknown service %s", service)
		}
		md, _ := metadata.FromIncomingContext(in.Context())
		// Cancelling on return ends the upstream call, and with it the pump below: RecvMsg on the
		// incoming stream returns once this handler has returned.
		ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(in.Context(), md.Copy()))
		defer cancel()
		out, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method,
			grpc.ForceCodec(Codec{}))
		if err != nil {
			return err
		}
		go pump(in.RecvMsg, out.SendMsg, out.CloseSend)

		// Headers first, then every response, then the trailer.
		hdr, err := out.Header()
		if err == nil {
			_ = in.SendHeader(hdr)
		}
		for {
			f := &frame{}
			if err := out.RecvMsg(f); err != nil {
				in.SetTrailer(out.Trailer())
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			if err := in.SendMsg(f); err != nil {
				return err
			}
		}
	}
}

// pump copies client messages upstream until the client half-closes or either side fails; a
// failure surfaces to the caller through the upstream call's status.
func pump(recv func(any) error, send func(any) error, closeSend func() error) {
	for {
		f := &frame{}
		if err := recv(f); err != nil {
			if errors.Is(err, io.EOF) {
				_ = closeSend()
			}
			return
		}
		if err := send(f); err != nil {
			return
		}
	}
}
