package adminauth

import (
	"context"
	"net/http"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
)

func TestCheck(t *testing.T) {
	const key = "operator-key"
	c := NewChecker(key)
	withMD := func(kv ...string) context.Context {
		return metadata.NewIncomingContext(context.Background(), metadata.Pairs(kv...))
	}
	tests := []struct {
		name    string
		ctx     context.Context
		wantErr bool
	}{
		{"no metadata", context.Background(), true},
		{"no authorization key", withMD("x-smh-request-id", "r1"), true},
		{"bearer with empty key", withMD(reqmeta.Authorization, "Bearer "), true},
		{"bearer without space", withMD(reqmeta.Authorization, "Bearer"), true},
		{"wrong key", withMD(reqmeta.Authorization, "Bearer not-the-key"), true},
		{"key with a suffix", withMD(reqmeta.Authorization, "Bearer "+key+"x"), true},
		{"lower-case scheme", withMD(reqmeta.Authorization, "bearer "+key), true},
		{"basic scheme", withMD(reqmeta.Authorization, "Basic "+key), true},
		{"bare key", withMD(reqmeta.Authorization, key), true},
		{"right key", withMD(reqmeta.Authorization, "Bearer "+key), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Check(tt.ctx)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Check = nil, want InvalidAdminKey")
			}
			e := smherr.As(err)
			if e.Code != "InvalidAdminKey" || e.Status != http.StatusUnauthorized {
				t.Fatalf("Check = %s (%d), want InvalidAdminKey (401)", e.Code, e.Status)
			}
		})
	}
}

func TestOutgoingIsAcceptedByCheck(t *testing.T) {
	ctx := Outgoing(context.Background(), "k")
	md, ok := metadata.FromOutgoingContext(ctx)
	if !ok {
		t.Fatal("no outgoing metadata")
	}
	if got := md.Get(reqmeta.Authorization); len(got) != 1 || got[0] != "Bearer k" {
		t.Fatalf("authorization = %q, want [\"Bearer k\"]", got)
	}
	// What a client sends is what a server checks.
	in := metadata.NewIncomingContext(context.Background(), md)
	if err := NewChecker("k").Check(in); err != nil {
		t.Fatalf("Check of Outgoing metadata = %v", err)
	}
}
