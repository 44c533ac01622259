package library_test

import (
	"bytes"
	"context"
	"testing"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/pkg/grpcx/grpctest"
	"github.com/opensmh/opensmh/services/library"
)

func TestNewChecksConfig(t *testing.T) {
	cli := etcdtest.New(t)
	good := library.Config{Etcd: cli, AdminKey: "k", SecretKEK: bytes.Repeat([]byte{1}, 32), PublicURL: "https://127.0.0.1:8443"}
	tests := []struct {
		name   string
		change func(*library.Config)
	}{
		{"no etcd", func(c *library.Config) { c.Etcd = nil }},
		{"no admin key", func(c *library.Config) { c.AdminKey = "" }},
		{"short key-encryption key", func(c *library.Config) { c.SecretKEK = c.SecretKEK[:16] }},
		{"no public URL", func(c *library.Config) { c.PublicURL = "" }},
		{"public URL without host", func(c *library.Config) { c.PublicURL = "/relative" }},
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
