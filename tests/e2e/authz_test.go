package e2e

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
)

// The shared authorization package, as the services that come next will use it: principals from
// real tokens (validated in memory by the running token service) and from the library secret
// (verified by the running library service over gRPC on the public port).
func TestAuthorizationPackage(t *testing.T) {
	s := startSystem(t)
	lib := s.createLibrary("authz", map[string]any{"isMultiSpace": true})
	other := s.createLibrary("other", nil)

	conn := s.grpcConn(t)
	a := authz.New(s.server().Tokens().Validator(), authz.LibrarySecrets(libraryv1.NewLibraryServiceClient(conn), s.adminKey))

	admin := s.mustMint(lib, url.Values{"grant": {"admin"}})
	alice := s.mustMint(lib, url.Values{"user_id": {"alice"}, "client_id": {"phone"}, "space_id": {"s1,s2"}, "grant": {"upload_file,delete_file"}})
	spaceAdmin := s.mustMint(lib, url.Values{"user_id": {"bob"}, "space_id": {"s1"}, "grant": {"space_admin"}})
	revoked := s.mustMint(lib, url.Values{"user_id": {"carol"}})
	if r := s.call("DELETE", "/api/v1/token/"+lib.ID+"/"+revoked, nil, nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}

	withMD := func(kv ...string) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t.Cleanup(cancel)
		return metadata.NewIncomingContext(ctx, metadata.Pairs(kv...))
	}
	tests := []struct {
		name      string
		libraryID string
		md        []string
		wantCode  string // "" = accepted
		wantUser  string
		allSpaces bool
		can       []string
		cannot    []string
		inSpace   string
		notSpace  string
	}{
		{name: "token with grants and spaces", libraryID: lib.ID, md: []string{reqmeta.AccessToken, alice},
			wantUser: "alice", can: []string{"upload_file", "delete_file"}, cannot: []string{"upload_file_force", "create_space", "admin"},
			inSpace: "s2", notSpace: "s3"},
		{name: "user_id is ignored for a token with a user", libraryID: lib.ID, md: []string{reqmeta.AccessToken, alice, reqmeta.ActingUser, "mallory"},
			wantUser: "alice"},
		{name: "admin token with an empty user acts as user_id", libraryID: lib.ID, md: []string{reqmeta.AccessToken, admin, reqmeta.ActingUser, "dave"},
			wantUser: "dave", allSpaces: true, can: []string{"admin", "create_space", "delete_file_permanent"}},
		{name: "space_admin has everything inside its spaces but space management", libraryID: lib.ID, md: []string{reqmeta.AccessToken, spaceAdmin},
			wantUser: "bob", can: []string{"upload_file_force", "delete_directory"}, cannot: []string{"create_space", "delete_space", "admin"},
			inSpace: "s1", notSpace: "s2"},
		{name: "library secret acts as admin with an empty user", libraryID: lib.ID, md: []string{reqmeta.LibrarySecret, lib.Secret},
			wantUser: "", allSpaces: true, can: []string{"admin", "create_space"}},
		{name: "library secret with user_id acts as that user", libraryID: lib.ID, md: []string{reqmeta.LibrarySecret, lib.Secret, reqmeta.ActingUser, "erin"},
			wantUser: "erin", allSpaces: true},
		{name: "secret of another library", libraryID: lib.ID, md: []string{reqmeta.LibrarySecret, other.Secret}, wantCode: "WrongLibraryIdOrSecret"},
		{name: "token of another library", libraryID: other.ID, md: []string{reqmeta.AccessToken, alice}, wantCode: "InvalidAccessToken"},
		{name: "revoked token", libraryID: lib.ID, md: []string{reqmeta.AccessToken, revoked}, wantCode: "InvalidAccessToken"},
		{name: "no credentials", libraryID: lib.ID, md: []string{}, wantCode: "EmptyAccessToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(withMD(tt.md...), tt.libraryID)
			if tt.wantCode != "" {
				if e := smherr.As(err); e == nil || e.Code != tt.wantCode {
					t.Fatalf("error %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.UserID != tt.wantUser || p.AllSpaces != tt.allSpaces || p.LibraryID != tt.libraryID {
				t.Fatalf("principal %+v", p)
			}
			for _, g := range tt.can {
				if err := p.RequireAny(g); err != nil {
					t.Errorf("cannot %s: %v", g, err)
				}
			}
			for _, g := range tt.cannot {
				if e := smherr.As(p.RequireAny(g)); e == nil || e.Code != "NoPermission" {
					t.Errorf("may %s", g)
				}
			}
			if tt.inSpace != "" {
				if err := p.RequireSpace(tt.inSpace); err != nil {
					t.Errorf("space %s refused: %v", tt.inSpace, err)
				}
			}
			if tt.notSpace != "" {
				if e := smherr.As(p.RequireSpace(tt.notSpace)); e == nil || e.Code != "AccessTokenNotMatchSpace" {
					t.Errorf("space %s allowed", tt.notSpace)
				}
			}
		})
	}

	// A reset secret is refused at once.
	if r := s.admin("POST", "/admin/v1/libraries/"+lib.ID+"/secret:reset", nil); r.Status != http.StatusOK {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	if _, err := a.Authenticate(withMD(reqmeta.LibrarySecret, lib.Secret), lib.ID); smherr.As(err).Code != "WrongLibraryIdOrSecret" {
		t.Fatalf("old secret after reset: %v", err)
	}
}
