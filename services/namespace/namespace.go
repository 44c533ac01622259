// Package namespace is the namespace service (architecture.md, "Services"): tenant spaces and the
// tree of directories, albums and files, on a SQL store (SQLite in the data dir, or PostgreSQL).
package namespace

import (
	"context"
	"errors"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/internal/store"
	"github.com/opensmh/opensmh/services/namespace/internal/transport"
)

// Config wires the service.
type Config struct {
	// DSN selects the SQL engine: postgres://... for PostgreSQL, otherwise a SQLite file path.
	DSN string
	// Libraries answers library facts (tenancy, public read).
	Libraries libraryv1.LibraryServiceClient
	// Tokens validates access tokens: in process in the all-in-one, through authtoken otherwise.
	Tokens   authz.TokenValidator
	AdminKey string
	Clock    clock.Clock
	// Etcd is unused for now; background jobs (recycle-bin expiry) will elect their runner there.
	Etcd *clientv3.Client
	// AsyncCopyThreshold is decision 7's entry count above which a directory copy answers 202 with a
	// task; 0 = 1,000. Tests lower it.
	AsyncCopyThreshold int
}

// Service is a running namespace service.
type Service struct {
	store  *store.SQL
	ns     *app.Namespace
	server *transport.Server
}

// New opens the store (applying migrations) and builds the service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Libraries == nil || cfg.Tokens == nil || cfg.AdminKey == "" {
		return nil, errors.New("namespace: library client, token validator and operator key are required")
	}
	db, err := store.Open(ctx, cfg.DSN)
	if err != nil {
		return nil, err
	}
	libs := libraryFacts{client: cfg.Libraries, adminKey: cfg.AdminKey}
	ns := app.New(app.Config{
		Store:     db,
		Libraries: libs,
		Auth:      authz.New(cfg.Tokens, authz.LibrarySecrets(cfg.Libraries)),
		Clock:     cfg.Clock,

		AsyncCopyThreshold: int64(cfg.AsyncCopyThreshold),
	})
	return &Service{store: db, ns: ns, server: transport.New(ns, adminauth.NewChecker(cfg.AdminKey))}, nil
}

// Register adds smh.namespace.v1.NamespaceService to r.
func (s *Service) Register(r grpc.ServiceRegistrar) { s.server.Register(r) }

// Close stops the background tasks (waiting for them) and closes the store.
func (s *Service) Close() error {
	s.ns.Close()
	return s.store.Close()
}

// libraryFacts asks the library service (with the operator key) what a library is: its kind and
// tenancy, public read, the name length limit and the upload rules of section S.
type libraryFacts struct {
	client   libraryv1.LibraryServiceClient
	adminKey string
}

func (l libraryFacts) Library(ctx context.Context, id string) (app.Library, error) {
	resp, err := l.client.GetLibrary(adminauth.Outgoing(ctx, l.adminKey), &libraryv1.GetLibraryRequest{LibraryId: id})
	if err != nil {
		if e := smherr.As(err); e != nil && e.Code == "LibraryNotFound" {
			return app.Library{}, app.ErrLibraryNotFound
		}
		return app.Library{}, err
	}
	x := resp.GetLibrary().GetLibraryExtension()
	return app.Library{
		ID: id, IsFileLibrary: x.GetIsFileLibrary(), IsMultiSpace: x.GetIsMultiSpace(),
		IsMultiAlbum: x.GetIsMultiAlbum(), IsPublicRead: x.GetIsPublicRead(),
		MaxNameLength: int(x.GetMaxDirFileNameLength()),
		AllowPhoto:    x.GetAllowPhoto(), AllowVideo: x.GetAllowVideo(),
		AllowPhotoExtname: stringValues(x.GetAllowPhotoExtname()), AllowVideoExtname: stringValues(x.GetAllowVideoExtname()),
		AllowFileExtname: stringValues(x.GetAllowFileExtname()),
	}, nil
}

// stringValues reads a list of strings (non-strings are skipped; the library service stores strings).
func stringValues(l *structpb.ListValue) []string {
	var out []string
	for _, v := range l.GetValues() {
		if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
			out = append(out, s.StringValue)
		}
	}
	return out
}
