// Package library wires the library service (docs/architecture.md, "Services"): libraries, their
// settings and secrets, and the admin API of docs/architecture.md, "The admin API". The all-in-one binary and the
// standalone one both build it with New and register it on their gRPC server.
package library

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/services/library/internal/app"
	"github.com/opensmh/opensmh/services/library/internal/store"
	"github.com/opensmh/opensmh/services/library/internal/transport"
)

// Purger removes what another service keeps of a deleted library; DeleteLibrary calls every
// purger after removing the library. It must be idempotent, because a delete interrupted after
// removal calls it again.
type Purger = app.Purger

// TokenRevoker revokes the tokens of a library's earlier secrets; ResetLibrarySecret calls it
// when asked to revoke tokens.
type TokenRevoker = app.TokenRevoker

// UsageSource answers the usage figures (size, dirNum, fileNum) of the admin API's library
// object for a batch of libraries.
type UsageSource = app.UsageSource

// Usage is one library's usage figures.
type Usage = app.Usage

// Config is what the library service needs.
type Config struct {
	Etcd *clientv3.Client
	// AdminKey is the operator key that admin and internal RPCs must present.
	AdminKey string
	// SecretKEK is the 32-byte AES-256 key-encryption key for library secrets.
	SecretKEK []byte
	// PublicURL is the base of the public API, e.g. "https://127.0.0.1:8443"; its host[:port]
	// is every library's accessDomain.
	PublicURL string
	// Purgers run on delete (authtoken's tokens, the namespace's tree); none in unit tests.
	Purgers []Purger
	// Tokens revokes the tokens of earlier secrets on a reset with revokeTokens: TokenRevoker in
	// the binaries; nil refuses such resets.
	Tokens TokenRevoker
	// Usage answers the libraries' usage figures: NamespaceUsage in the binaries.
	Usage UsageSource
	// Clock is nil for the wall clock.
	Clock clock.Clock
}

// Service is the wired library service.
type Service struct {
	server *transport.Server
	etcd   *clientv3.Client
}

// New checks cfg and wires store, use cases and gRPC handlers.
func New(cfg Config) (*Service, error) {
	if cfg.Etcd == nil {
		return nil, errors.New("library: no etcd client")
	}
	if cfg.AdminKey == "" {
		return nil, errors.New("library: no admin key")
	}
	accessDomain, err := accessDomainOf(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	libs, err := app.New(app.Deps{
		Store:     store.New(cfg.Etcd),
		Purgers:   cfg.Purgers,
		Tokens:    cfg.Tokens,
		Usage:     cfg.Usage,
		SecretKEK: cfg.SecretKEK,
		Clock:     cfg.Clock,
	})
	if err != nil {
		return nil, err
	}
	return &Service{server: transport.New(libs, adminauth.NewChecker(cfg.AdminKey), accessDomain), etcd: cfg.Etcd}, nil
}

// Probe is the readiness check of the service's store, etcd (pkg/readiness).
func (s *Service) Probe() readiness.Probe {
	return readiness.Probe{Service: libraryv1.LibraryService_ServiceDesc.ServiceName, Ping: etcdx.Ping(s.etcd)}
}

// Register registers LibraryService on r.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	libraryv1.RegisterLibraryServiceServer(r, s.server)
}

// accessDomainOf answers the host[:port] of the public URL (docs/architecture.md, "The admin API").
func accessDomainOf(publicURL string) (string, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("library: public URL %q has no host", publicURL)
	}
	return u.Host, nil
}

// TokenPurger answers a Purger that calls authtoken's PurgeLibraryTokens with the operator key,
// as internal calls between services do.
func TokenPurger(c tokenv1.TokenServiceClient, adminKey string) Purger {
	return authtokenClient{client: c, adminKey: adminKey}
}

// TokenRevokerFromClient answers a TokenRevoker that calls authtoken's RevokeLibraryTokens with
// the operator key.
func TokenRevokerFromClient(c tokenv1.TokenServiceClient, adminKey string) TokenRevoker {
	return authtokenClient{client: c, adminKey: adminKey}
}

// NamespacePurger answers a Purger that calls the namespace service's PurgeLibrary.
func NamespacePurger(c namespacev1.NamespaceServiceClient, adminKey string) Purger {
	return namespaceClientPurger{client: c, adminKey: adminKey}
}

type namespaceClientPurger struct {
	client   namespacev1.NamespaceServiceClient
	adminKey string
}

func (p namespaceClientPurger) PurgeLibrary(ctx context.Context, libraryID string) error {
	_, err := p.client.PurgeLibrary(adminauth.Outgoing(ctx, p.adminKey), &namespacev1.PurgeLibraryRequest{LibraryId: libraryID})
	if err != nil {
		return fmt.Errorf("purge spaces of library %s: %w", libraryID, err)
	}
	return nil
}

type authtokenClient struct {
	client   tokenv1.TokenServiceClient
	adminKey string
}

func (p authtokenClient) PurgeLibrary(ctx context.Context, libraryID string) error {
	_, err := p.client.PurgeLibraryTokens(adminauth.Outgoing(ctx, p.adminKey),
		&tokenv1.PurgeLibraryTokensRequest{LibraryId: libraryID})
	if err != nil {
		return fmt.Errorf("purge tokens of library %s: %w", libraryID, err)
	}
	return nil
}

func (p authtokenClient) RevokeTokensBefore(ctx context.Context, libraryID string, secretGeneration int64) error {
	_, err := p.client.RevokeLibraryTokens(adminauth.Outgoing(ctx, p.adminKey),
		&tokenv1.RevokeLibraryTokensRequest{LibraryId: libraryID, BelowSecretGeneration: secretGeneration})
	if err != nil {
		return fmt.Errorf("revoke tokens of earlier secrets of library %s: %w", libraryID, err)
	}
	return nil
}

// NamespaceUsage answers a UsageSource that asks the namespace service's GetLibrariesUsage, with
// the operator key, once per call (an admin list page holds at most 100 libraries, the RPC's
// bound).
func NamespaceUsage(c namespacev1.NamespaceServiceClient, adminKey string) UsageSource {
	return namespaceUsage{client: c, adminKey: adminKey}
}

type namespaceUsage struct {
	client   namespacev1.NamespaceServiceClient
	adminKey string
}

// Usage classifies the namespace's failures: down or too slow (Unavailable, DeadlineExceeded) is
// ErrUsageUnavailable, which the admin API answers 503 ServiceUnavailable; anything else (a
// refused operator key, a namespace store error) is a fault of this deployment and stays an
// InternalError, with the cause in the log.
func (u namespaceUsage) Usage(ctx context.Context, ids []string) (map[string]Usage, error) {
	resp, err := u.client.GetLibrariesUsage(adminauth.Outgoing(ctx, u.adminKey), &namespacev1.GetLibrariesUsageRequest{LibraryIds: ids})
	if err != nil {
		if c := status.Code(err); c == codes.Unavailable || c == codes.DeadlineExceeded {
			return nil, fmt.Errorf("namespace usage: %w: %w", app.ErrUsageUnavailable, err)
		}
		return nil, fmt.Errorf("namespace usage: %w", err)
	}
	out := make(map[string]Usage, len(resp.GetUsages()))
	for _, lu := range resp.GetUsages() {
		out[lu.GetLibraryId()] = Usage{Size: lu.GetSize(), DirNum: lu.GetDirNum(), FileNum: lu.GetFileNum()}
	}
	return out, nil
}
