package library_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/pkg/grpcx/grpctest"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/library"
)

// noUsage is a usage source with nothing to report.
type noUsage struct{}

func (noUsage) Usage(context.Context, []string) (map[string]library.Usage, error) { return nil, nil }

func TestNewChecksConfig(t *testing.T) {
	cli := etcdtest.New(t)
	good := library.Config{Etcd: cli, AdminKey: "k", SecretKEK: bytes.Repeat([]byte{1}, 32), PublicURL: "https://127.0.0.1:8443", Usage: noUsage{}}
	tests := []struct {
		name   string
		change func(*library.Config)
	}{
		{"no etcd", func(c *library.Config) { c.Etcd = nil }},
		{"no admin key", func(c *library.Config) { c.AdminKey = "" }},
		{"short key-encryption key", func(c *library.Config) { c.SecretKEK = c.SecretKEK[:16] }},
		{"no public URL", func(c *library.Config) { c.PublicURL = "" }},
		{"public URL without host", func(c *library.Config) { c.PublicURL = "/relative" }},
		{"no usage source", func(c *library.Config) { c.Usage = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)
			if _, err := library.New(cfg); err == nil {
				t.Fatal("New accepted a bad config")
			}
		})
	}
	if _, err := library.New(good); err != nil {
		t.Fatalf("New(good) = %v", err)
	}
}

// TestRegister wires the service as the binaries do and creates a library through it.
func TestRegister(t *testing.T) {
	svc, err := library.New(library.Config{
		Etcd: etcdtest.New(t), AdminKey: "k", SecretKEK: bytes.Repeat([]byte{1}, 32), PublicURL: "https://smh.example.com:9443/base",
		Usage: noUsage{},
	})
	if err != nil {
		t.Fatal(err)
	}
	conn := grpctest.Serve(t, svc.Register)
	resp, err := libraryv1.NewLibraryServiceClient(conn).CreateLibrary(adminauth.Outgoing(context.Background(), "k"),
		&libraryv1.CreateLibraryRequest{Name: "photos"})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetLibrary().GetAccessDomain(); got != "smh.example.com:9443" {
		t.Fatalf("accessDomain %q", got)
	}
}

// namespaceStub is the namespace's gRPC client as NamespaceUsage sees it: GetLibrariesUsage
// answers err, or figures for the ids asked, and records the operator key it was sent.
type namespaceStub struct {
	namespacev1.NamespaceServiceClient
	err     error
	authz   []string
	figures map[string]*namespacev1.LibraryUsage
}

func (s *namespaceStub) GetLibrariesUsage(ctx context.Context, req *namespacev1.GetLibrariesUsageRequest, _ ...grpc.CallOption) (*namespacev1.GetLibrariesUsageResponse, error) {
	md, _ := metadata.FromOutgoingContext(ctx)
	s.authz = md.Get("authorization")
	if s.err != nil {
		return nil, s.err
	}
	resp := &namespacev1.GetLibrariesUsageResponse{}
	for _, id := range req.GetLibraryIds() {
		if u, ok := s.figures[id]; ok {
			resp.Usages = append(resp.Usages, u)
		}
	}
	return resp, nil
}

// TestNamespaceUsage wires the service on the namespace client as the binaries do: the admin
// answers carry the namespace's figures, asked with the operator key; a namespace that cannot
// answer makes them 503 ServiceUnavailable, any other refusal InternalError.
func TestNamespaceUsage(t *testing.T) {
	ns := &namespaceStub{}
	svc, err := library.New(library.Config{
		Etcd: etcdtest.New(t), AdminKey: "k", SecretKEK: bytes.Repeat([]byte{1}, 32), PublicURL: "https://127.0.0.1:8443",
		Usage: library.NamespaceUsage(ns, "k"),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := libraryv1.NewLibraryServiceClient(grpctest.Serve(t, svc.Register))
	ctx := adminauth.Outgoing(context.Background(), "k")
	created, err := c.CreateLibrary(ctx, &libraryv1.CreateLibraryRequest{Name: "photos"})
	if err != nil {
		t.Fatal(err)
	}
	id := created.GetLibrary().GetLibraryId()
	ns.figures = map[string]*namespacev1.LibraryUsage{id: {LibraryId: id, Size: 42, DirNum: 2, FileNum: 3}}

	got, err := c.GetLibrary(ctx, &libraryv1.GetLibraryRequest{LibraryId: id})
	if err != nil {
		t.Fatal(err)
	}
	if l := got.GetLibrary(); l.GetSize() != 42 || l.GetDirNum() != 2 || l.GetFileNum() != 3 {
		t.Fatalf("figures %d %d %d, want 42 2 3", l.GetSize(), l.GetDirNum(), l.GetFileNum())
	}
	if fmt.Sprint(ns.authz) != "[Bearer k]" {
		t.Fatalf("the namespace was asked with authorization %q", ns.authz)
	}

	tests := []struct {
		name     string
		err      error
		grpcCode codes.Code
		code     string
	}{
		{"namespace down", status.Error(codes.Unavailable, "connection refused"), codes.Unavailable, "ServiceUnavailable"},
		{"namespace too slow", status.Error(codes.DeadlineExceeded, "deadline"), codes.Unavailable, "ServiceUnavailable"},
		// A client sees a peer's SMH error as a status, as grpc-go and inproc deliver it.
		{"operator key refused", smherr.New(http.StatusUnauthorized, "InvalidAdminKey", "invalid admin key").GRPCStatus().Err(), codes.Internal, "InternalError"},
		{"namespace store failure", status.Error(codes.Internal, "disk on fire"), codes.Internal, "InternalError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns.err = tt.err
			for name, call := range map[string]func() error{
				"get": func() error {
					_, err := c.GetLibrary(ctx, &libraryv1.GetLibraryRequest{LibraryId: id})
					return err
				},
				"list": func() error {
					_, err := c.ListLibraries(ctx, &libraryv1.ListLibrariesRequest{})
					return err
				},
			} {
				err := call()
				if status.Code(err) != tt.grpcCode || smherr.As(err).Code != tt.code {
					t.Fatalf("%s: %v, want %v %s", name, err, tt.grpcCode, tt.code)
				}
				if strings.Contains(err.Error(), "disk on fire") || strings.Contains(err.Error(), "connection refused") {
					t.Fatalf("%s: the namespace's text reached the caller: %v", name, err)
				}
			}
		})
	}
}
