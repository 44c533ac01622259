package authtoken_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/pkg/grpcx/grpctest"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/authtoken"
)

const adminKey = "operator-key"

// fakeLibraryClient answers VerifyLibrarySecret like the library service; other RPCs are not used.
type fakeLibraryClient struct {
	libraryv1.LibraryServiceClient
}

func (fakeLibraryClient) VerifyLibrarySecret(_ context.Context, in *libraryv1.VerifyLibrarySecretRequest, _ ...grpc.CallOption) (*libraryv1.VerifyLibrarySecretResponse, error) {
	if in.GetLibraryId() != "lib" || in.GetLibrarySecret() != "secret" {
		return nil, smherr.New(http.StatusNotFound, "WrongLibraryIdOrSecret", "wrong library id or secret")
	}
	return &libraryv1.VerifyLibrarySecretResponse{Access: &libraryv1.LibraryAccess{LibraryId: "lib", IsMultiSpace: true}}, nil
}

func start(t testing.TB) (*authtoken.Service, tokenv1.TokenServiceClient) {
	t.Helper()
	svc, err := authtoken.New(context.Background(), authtoken.Config{
		Etcd:      etcdtest.New(t),
		Libraries: fakeLibraryClient{},
		AdminKey:  adminKey,
		Clock:     clock.NewFake(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	})
	conn := grpctest.Serve(t, svc.Register)
	return svc, tokenv1.NewTokenServiceClient(conn)
}

func create(t testing.TB, c tokenv1.TokenServiceClient, req *tokenv1.CreateTokenRequest) string {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(context.Background(), reqmeta.LibrarySecret, "secret")
	r, err := c.CreateToken(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return r.GetAccessToken()
}

func TestServiceWiring(t *testing.T) {
	svc, c := start(t)
	tok := create(t, c, &tokenv1.CreateTokenRequest{LibraryId: "lib", SpaceId: "s1", Grant: "space_admin", UserId: "u"})

	// In process, through the shared authorization path.
	az := authz.New(svc.Validator(), nil)
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(reqmeta.AccessToken, tok, reqmeta.ActingUser, "mallory"))
	p, err := az.Authenticate(ctx, "lib")
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != "u" || p.RequireSpace("s1") != nil || p.RequireAny(authz.UploadFile) != nil || p.RequireAny(authz.CreateSpace) == nil {
		t.Errorf("principal = %+v", p)
	}
	if _, err := svc.Validator().ValidateToken(context.Background(), "other", tok); !errors.Is(err, authz.ErrInvalidAccessToken) {
		t.Errorf("other library: %v", err)
	}
	_, err = c.CreateToken(metadata.AppendToOutgoingContext(context.Background(), reqmeta.LibrarySecret, "bad"), &tokenv1.CreateTokenRequest{LibraryId: "lib"})
	if e := smherr.As(err); e == nil || e.Code != "WrongLibraryIdOrSecret" || e.Status != http.StatusNotFound {
		t.Errorf("library service error not passed through: %v", err)
	}
}

// A service in another process validates through authz.RemoteValidator: cached, and evicted as
// soon as authtoken streams the revocation.
func TestRemoteValidatorFollowsRevocations(t *testing.T) {
	_, c := start(t)
	rv, err := authz.NewRemoteValidator(context.Background(), c, adminKey, authz.WithCacheTTL(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer rv.Close()
	tok := create(t, c, &tokenv1.CreateTokenRequest{LibraryId: "lib", Grant: "admin"})
	ctx := context.Background()
	p, err := rv.ValidateToken(ctx, "lib", tok)
	if err != nil || !p.AllSpaces || !p.Has(authz.DeleteSpace) {
		t.Fatalf("remote principal = %+v, %v", p, err)
	}
	if _, err := rv.ValidateToken(ctx, "other", tok); err == nil || smherr.As(err).Code != "InvalidAccessToken" {
		t.Errorf("other library: %v", err)
	}
	if _, err := c.DeleteToken(ctx, &tokenv1.DeleteTokenRequest{LibraryId: "lib", AccessToken: tok}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := rv.ValidateToken(ctx, "lib", tok)
		if e := smherr.As(err); e != nil && e.Code == "InvalidAccessToken" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote validator still accepts a revoked token: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkValidate measures in-process validation of a cached token (the hot path of every
// authorized request in the all-in-one): hash, shard lookup, expiry check, last-use update.
func BenchmarkValidate(b *testing.B) {
	svc, c := start(b)
	tok := create(b, c, &tokenv1.CreateTokenRequest{LibraryId: "lib", SpaceId: "s1", Grant: "upload_file"})
	v := svc.Validator()
	ctx := context.Background()
	if _, err := v.ValidateToken(ctx, "lib", tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.ValidateToken(ctx, "lib", tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateParallel(b *testing.B) {
	svc, c := start(b)
	tok := create(b, c, &tokenv1.CreateTokenRequest{LibraryId: "lib", SpaceId: "s1"})
	v := svc.Validator()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.ValidateToken(ctx, "lib", tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestShareTokenRefusedByLibraryRoutes: a share access token minted over gRPC is refused by the
// library routes' authentication (authz.Authenticate) in process and through the remote
// validator a split deployment uses, and accepted only by its own share's visitor routes.
func TestShareTokenRefusedByLibraryRoutes(t *testing.T) {
	svc, c := start(t)
	rv, err := authz.NewRemoteValidator(context.Background(), c, adminKey)
	if err != nil {
		t.Fatal(err)
	}
	defer rv.Close()
	m, err := c.MintShareToken(adminauth.Outgoing(context.Background(), adminKey), &tokenv1.MintShareTokenRequest{LibraryId: "lib", ShareId: "sh1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(reqmeta.AccessToken, m.GetAccessToken()))
	for name, v := range map[string]authz.TokenValidator{"in process": svc.Validator(), "remote": rv} {
		t.Run(name, func(t *testing.T) {
			az := authz.New(v, nil)
			if _, err := az.Authenticate(ctx, "lib"); !errors.Is(err, authz.ErrInvalidAccessToken) {
				t.Errorf("library route accepted a share token: %v", err)
			}
			p, err := az.AuthenticateShare(ctx, "lib", "sh1")
			if err != nil || p.ShareID != "sh1" {
				t.Errorf("own share: %+v, %v", p, err)
			}
			if _, err := az.AuthenticateShare(ctx, "lib", "sh2"); !errors.Is(err, authz.ErrInvalidAccessToken) {
				t.Errorf("another share accepted the token: %v", err)
			}
		})
	}
}
