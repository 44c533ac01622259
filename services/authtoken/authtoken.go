// Package authtoken is the token service (docs/architecture.md, "Services"): it mints, renews, revokes
// and validates SMH access tokens (SMH API section 1), keeps them in etcd as hashes, and serves
// validation from memory for in-process callers (Validator) and over gRPC (ValidateToken).
package authtoken

import (
	"context"
	"errors"
	"log/slog"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
	"github.com/opensmh/opensmh/services/authtoken/internal/store"
	"github.com/opensmh/opensmh/services/authtoken/internal/transport"
)

// Config wires the service.
type Config struct {
	Etcd      *clientv3.Client
	Libraries libraryv1.LibraryServiceClient // to verify library secrets
	AdminKey  string
	Clock     clock.Clock // nil = real
	// SweepEvery is how often expired tokens are swept out of etcd by the one replica elected to
	// do it: 0 = DefaultSweepEvery, negative = never (another deployment sweeps).
	SweepEvery time.Duration
	// Logger receives background-job logs (sweep counts, never tokens); nil = slog.Default().
	Logger *slog.Logger
}

// Service is a running token service. Its goroutines (etcd watch, renewal flusher, expiry sweep)
// are owned by it and stopped by Close.
type Service struct {
	tokens  *app.Tokens
	handler *transport.Handler
	etcd    *clientv3.Client

	stopSweep func()
}

// New starts the service: it follows token changes in etcd from now on (so deletions made by any
// instance reach this one's cache), flushes throttled renewals in the background, and campaigns
// to sweep expired tokens out of etcd.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Etcd == nil {
		return nil, errors.New("authtoken: no etcd client")
	}
	if cfg.Libraries == nil {
		return nil, errors.New("authtoken: no library service client")
	}
	if cfg.AdminKey == "" {
		return nil, errors.New("authtoken: no operator key")
	}
	tokens := app.New(app.Config{
		Store:     store.NewEtcd(cfg.Etcd),
		Libraries: LibraryVerifierFromClient(cfg.Libraries, cfg.AdminKey),
		Clock:     cfg.Clock,
	})
	if err := tokens.Start(ctx); err != nil {
		return nil, err
	}
	s := &Service{tokens: tokens, handler: transport.NewHandler(tokens, adminauth.NewChecker(cfg.AdminKey)), etcd: cfg.Etcd, stopSweep: func() {}}
	if cfg.SweepEvery >= 0 {
		every := cfg.SweepEvery
		if every == 0 {
			every = DefaultSweepEvery
		}
		log := cfg.Logger
		if log == nil {
			log = slog.Default()
		}
		s.stopSweep = sweepJob(tokens, every, log).Start(ctx, cfg.Etcd)
	}
	return s, nil
}

// Register adds smh.token.v1.TokenService to r.
func (s *Service) Register(r grpc.ServiceRegistrar) { s.handler.Register(r) }

// Probe is the readiness check of the service's store, etcd (pkg/readiness).
func (s *Service) Probe() readiness.Probe {
	return readiness.Probe{Service: tokenv1.TokenService_ServiceDesc.ServiceName, Ping: etcdx.Ping(s.etcd)}
}

// Validator validates tokens in process, from memory: the path services in the same process
// (the all-in-one) use with authz.New. Errors are SMH errors.
func (s *Service) Validator() authz.TokenValidator { return validator{s.tokens} }

// Close stops the goroutines (resigning the sweep election, so another replica takes over at
// once) and writes pending renewals. Safe to call more than once.
func (s *Service) Close() error {
	s.stopSweep()
	return s.tokens.Close()
}

type validator struct{ tokens *app.Tokens }

func (v validator) ValidateToken(ctx context.Context, libraryID, token string) (*authz.Principal, error) {
	p, err := v.tokens.Validate(ctx, libraryID, token)
	if err != nil {
		return nil, transport.ToSMH(err)
	}
	return p, nil
}

// LibraryVerifierFromClient adapts the library service's VerifyLibrarySecret RPC to the use
// cases, calling with the operator key adminKey (the RPC is internal). Its SMH errors (404
// WrongLibraryIdOrSecret, ...) pass through unchanged.
func LibraryVerifierFromClient(c libraryv1.LibraryServiceClient, adminKey string) app.LibraryVerifier {
	return libraryVerifier{c: c, adminKey: adminKey}
}

type libraryVerifier struct {
	c        libraryv1.LibraryServiceClient
	adminKey string
}

func (l libraryVerifier) VerifySecret(ctx context.Context, libraryID, secret string) (app.LibraryFacts, error) {
	resp, err := l.c.VerifyLibrarySecret(adminauth.Outgoing(ctx, l.adminKey), &libraryv1.VerifyLibrarySecretRequest{LibraryId: libraryID, LibrarySecret: secret})
	if err != nil {
		return app.LibraryFacts{}, smherr.As(err)
	}
	return app.LibraryFacts{
		IsMultiSpace:     resp.GetAccess().GetIsMultiSpace(),
		SecretGeneration: resp.GetAccess().GetSecretGeneration(),
	}, nil
}
