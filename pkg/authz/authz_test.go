package authz

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
)

func TestImplicationBitsMatchNames(t *testing.T) {
	for name, bit := range map[string]GrantSet{Admin: bitAdmin, SpaceAdmin: bitSpaceAdmin, CreateSpace: bitCreateSpace,
		DeleteSpace: bitDeleteSpace, ACL: bitACL, ReadOnly: bitReadOnly} {
		if b, ok := GrantBit(name); !ok || b != bit {
			t.Errorf("%s: bit %b, constant %b", name, b, bit)
		}
	}
	for i, name := range grantOrder() {
		if b, ok := GrantBit(name); !ok || b != GrantSet(1)<<uint(i) {
			t.Errorf("%s is not at position %d", name, i)
		}
	}
	if _, ok := GrantBit("root"); ok {
		t.Error("unknown grant accepted")
	}
}

func grants(t *testing.T, names ...string) GrantSet {
	t.Helper()
	s, bad, ok := NewGrantSet(names...)
	if !ok {
		t.Fatalf("unknown grant %q", bad)
	}
	return s
}

func TestHasAndRequireAny(t *testing.T) {
	tests := []struct {
		name    string
		grants  []string
		check   []string
		wantHas bool
	}{
		{name: "read only has nothing", grants: nil, check: []string{UploadFile}, wantHas: false},
		{name: "read only needs nothing", grants: nil, check: nil, wantHas: true},
		{name: "explicit grant", grants: []string{UploadFile}, check: []string{UploadFile}, wantHas: true},
		{name: "other grant", grants: []string{UploadFile}, check: []string{UploadFileForce}, wantHas: false},
		{name: "any of several", grants: []string{UploadFileForce}, check: []string{UploadFile, UploadFileForce}, wantHas: true},
		{name: "admin implies create_space", grants: []string{Admin}, check: []string{CreateSpace}, wantHas: true},
		{name: "admin implies delete_history", grants: []string{Admin}, check: []string{DeleteHistory}, wantHas: true},
		{name: "admin is not acl mode", grants: []string{Admin}, check: []string{ACL}, wantHas: false},
		{name: "explicit acl", grants: []string{ACL}, check: []string{ACL}, wantHas: true},
		{name: "space_admin implies upload", grants: []string{SpaceAdmin}, check: []string{UploadFileForce}, wantHas: true},
		{name: "space_admin implies delete_recycled", grants: []string{SpaceAdmin}, check: []string{DeleteRecycled}, wantHas: true},
		{name: "space_admin not create_space", grants: []string{SpaceAdmin}, check: []string{CreateSpace}, wantHas: false},
		{name: "space_admin not delete_space", grants: []string{SpaceAdmin}, check: []string{DeleteSpace}, wantHas: false},
		{name: "space_admin not admin", grants: []string{SpaceAdmin}, check: []string{Admin}, wantHas: false},
		{name: "space_admin with create_space", grants: []string{SpaceAdmin, CreateSpace}, check: []string{CreateSpace}, wantHas: true},
		{name: "unknown name", grants: []string{Admin}, check: []string{"root"}, wantHas: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Principal{Grants: grants(t, tt.grants...)}
			if len(tt.check) == 1 && p.Has(tt.check[0]) != tt.wantHas {
				t.Errorf("Has(%s) = %v", tt.check[0], !tt.wantHas)
			}
			err := p.RequireAny(tt.check...)
			if tt.wantHas && err != nil || !tt.wantHas && !errors.Is(err, ErrNoPermission) {
				t.Errorf("RequireAny(%v) = %v", tt.check, err)
			}
			if err != nil && (smherr.As(err).Status != http.StatusForbidden || smherr.As(err).Code != "NoPermission") {
				t.Errorf("error = %v", err)
			}
		})
	}
}

func TestRequireSpace(t *testing.T) {
	tests := []struct {
		name  string
		p     Principal
		space string
		ok    bool
	}{
		{name: "listed", p: Principal{SpaceIDs: []string{"a", "b"}}, space: "b", ok: true},
		{name: "not listed", p: Principal{SpaceIDs: []string{"a"}}, space: "c", ok: false},
		{name: "single tenant", p: Principal{SpaceIDs: []string{"-"}}, space: "-", ok: true},
		{name: "management token", p: Principal{}, space: "a", ok: false},
		{name: "all spaces", p: Principal{AllSpaces: true}, space: "z", ok: true},
		{name: "admin grant alone is not all spaces", p: Principal{Grants: bitAdmin, SpaceIDs: []string{"a"}}, space: "b", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.RequireSpace(tt.space)
			if tt.ok != (err == nil) || err != nil && !errors.Is(err, ErrAccessTokenNotMatchSpace) {
				t.Errorf("RequireSpace(%q) = %v", tt.space, err)
			}
		})
	}
}

type fakeTokens map[string]*Principal

func (f fakeTokens) ValidateToken(_ context.Context, libraryID, token string) (*Principal, error) {
	p, ok := f[token]
	if !ok || p.LibraryID != libraryID {
		return nil, ErrInvalidAccessToken
	}
	return p, nil
}

type fakeSecrets map[string]string

var errWrongSecret = smherr.New(http.StatusNotFound, "WrongLibraryIdOrSecret", "wrong library id or secret")

func (f fakeSecrets) VerifyLibrarySecret(_ context.Context, libraryID, secret string) error {
	if s, ok := f[libraryID]; !ok || s != secret {
		return errWrongSecret
	}
	return nil
}

func TestAuthenticate(t *testing.T) {
	adminNoUser := &Principal{LibraryID: "lib", AllSpaces: true, Grants: bitAdmin}
	adminWithUser := &Principal{LibraryID: "lib", UserID: "boss", Grants: bitAdmin}
	plain := &Principal{LibraryID: "lib", SpaceIDs: []string{"s"}, Grants: grants(t, UploadFile)}
	spaceAdmin := &Principal{LibraryID: "lib", SpaceIDs: []string{"s"}, Grants: bitSpaceAdmin}
	az := New(fakeTokens{"t-admin": adminNoUser, "t-boss": adminWithUser, "t-plain": plain, "t-sa": spaceAdmin},
		fakeSecrets{"lib": "sec"})

	tests := []struct {
		name     string
		md       []string
		lib      string
		wantErr  error
		wantUser string
		wantVia  bool
		wantAll  bool
	}{
		{name: "no credentials", md: nil, lib: "lib", wantErr: ErrEmptyAccessToken},
		{name: "empty token", md: []string{reqmeta.AccessToken, ""}, lib: "lib", wantErr: ErrEmptyAccessToken},
		{name: "unknown token", md: []string{reqmeta.AccessToken, "nope"}, lib: "lib", wantErr: ErrInvalidAccessToken},
		{name: "token of another library", md: []string{reqmeta.AccessToken, "t-plain"}, lib: "other", wantErr: ErrInvalidAccessToken},
		{name: "plain token", md: []string{reqmeta.AccessToken, "t-plain"}, lib: "lib"},
		{name: "plain token ignores user_id", md: []string{reqmeta.AccessToken, "t-plain", reqmeta.ActingUser, "x"}, lib: "lib"},
		{name: "space_admin ignores user_id", md: []string{reqmeta.AccessToken, "t-sa", reqmeta.ActingUser, "x"}, lib: "lib"},
		{name: "admin impersonates", md: []string{reqmeta.AccessToken, "t-admin", reqmeta.ActingUser, "alice"}, lib: "lib", wantUser: "alice", wantAll: true},
		{name: "admin without user_id", md: []string{reqmeta.AccessToken, "t-admin"}, lib: "lib", wantAll: true},
		{name: "admin with own user ignores user_id", md: []string{reqmeta.AccessToken, "t-boss", reqmeta.ActingUser, "alice"}, lib: "lib", wantUser: "boss"},
		{name: "library secret", md: []string{reqmeta.LibrarySecret, "sec"}, lib: "lib", wantVia: true, wantAll: true},
		{name: "library secret impersonates", md: []string{reqmeta.LibrarySecret, "sec", reqmeta.ActingUser, "bob"}, lib: "lib", wantUser: "bob", wantVia: true, wantAll: true},
		{name: "secret wins over token", md: []string{reqmeta.LibrarySecret, "sec", reqmeta.AccessToken, "t-plain"}, lib: "lib", wantVia: true, wantAll: true},
		{name: "wrong secret", md: []string{reqmeta.LibrarySecret, "bad"}, lib: "lib", wantErr: errWrongSecret},
		{name: "secret of another library", md: []string{reqmeta.LibrarySecret, "sec"}, lib: "other", wantErr: errWrongSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(tt.md...))
			p, err := az.Authenticate(ctx, tt.lib)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.UserID != tt.wantUser || p.ViaLibrarySecret != tt.wantVia || p.AllSpaces != tt.wantAll || p.LibraryID != tt.lib {
				t.Errorf("principal = %+v", p)
			}
			if tt.wantVia && !p.Has(Admin) {
				t.Error("the library secret must act as admin (decision 4)")
			}
		})
	}
	// Impersonation never writes through the validator's shared principal.
	if adminNoUser.UserID != "" {
		t.Fatal("shared principal modified")
	}
}

func TestAuthenticateWithoutSecretVerifier(t *testing.T) {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(reqmeta.LibrarySecret, "x"))
	if _, err := New(fakeTokens{}, nil).Authenticate(ctx, "lib"); !errors.Is(err, ErrInvalidAccessToken) {
		t.Fatalf("err = %v", err)
	}
}

// TestShareTokensReachOnlyTheirShare: a share access token is refused by Authenticate (every
// library route) and accepted by AuthenticateShare only for its own share (docs/shares.md).
func TestShareTokensReachOnlyTheirShare(t *testing.T) {
	visitor := &Principal{LibraryID: "lib", ShareID: "sh1"}
	plain := &Principal{LibraryID: "lib", SpaceIDs: []string{"s"}, Grants: grants(t, UploadFile)}
	az := New(fakeTokens{"t-share": visitor, "t-plain": plain}, fakeSecrets{"lib": "sec"})
	ctxOf := func(md ...string) context.Context {
		return metadata.NewIncomingContext(context.Background(), metadata.Pairs(md...))
	}
	if _, err := az.Authenticate(ctxOf(reqmeta.AccessToken, "t-share"), "lib"); !errors.Is(err, ErrInvalidAccessToken) {
		t.Fatalf("library route with a share token: %v, want InvalidAccessToken", err)
	}
	tests := []struct {
		name    string
		md      []string
		share   string
		wantErr error
	}{
		{name: "own share", md: []string{reqmeta.AccessToken, "t-share"}, share: "sh1"},
		{name: "another share", md: []string{reqmeta.AccessToken, "t-share"}, share: "sh2", wantErr: ErrInvalidAccessToken},
		{name: "no share named", md: []string{reqmeta.AccessToken, "t-share"}, share: "", wantErr: ErrInvalidAccessToken},
		{name: "library token", md: []string{reqmeta.AccessToken, "t-plain"}, share: "sh1", wantErr: ErrInvalidAccessToken},
		{name: "library secret", md: []string{reqmeta.LibrarySecret, "sec"}, share: "sh1", wantErr: ErrEmptyAccessToken},
		{name: "no token", share: "sh1", wantErr: ErrEmptyAccessToken},
		{name: "unknown token", md: []string{reqmeta.AccessToken, "nope"}, share: "sh1", wantErr: ErrInvalidAccessToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := az.AuthenticateShare(ctxOf(tt.md...), "lib", tt.share)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || p.ShareID != tt.share {
				t.Fatalf("principal %+v, err %v", p, err)
			}
		})
	}
}

func BenchmarkHas(b *testing.B) {
	p := &Principal{Grants: bitSpaceAdmin}
	for b.Loop() {
		if !p.Has(UploadFile) {
			b.Fatal("no")
		}
	}
}
