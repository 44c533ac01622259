package transport_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/pkg/grpcx/grpctest"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
	"github.com/opensmh/opensmh/services/authtoken/internal/store"
	"github.com/opensmh/opensmh/services/authtoken/internal/transport"
)

const adminKey = "operator-key"

type fakeLibraries struct{}

func (fakeLibraries) VerifySecret(_ context.Context, libraryID, secret string) (app.LibraryFacts, error) {
	switch {
	case libraryID == "single" && secret == "sec-single":
		return app.LibraryFacts{}, nil
	case libraryID == "multi" && secret == "sec-multi":
		return app.LibraryFacts{IsMultiSpace: true}, nil
	}
	return app.LibraryFacts{}, smherr.New(http.StatusNotFound, "WrongLibraryIdOrSecret", "wrong library id or secret")
}

func serve(t *testing.T) (tokenv1.TokenServiceClient, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	tokens := app.New(app.Config{Store: store.NewEtcd(etcdtest.New(t)), Libraries: fakeLibraries{}, Clock: clk})
	if err := tokens.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tokens.Close() })
	conn := grpctest.Serve(t, transport.NewHandler(tokens, adminauth.NewChecker(adminKey)).Register)
	return tokenv1.NewTokenServiceClient(conn), clk
}

// asOperator carries the operator key, as the services' validators do (ValidateToken is internal).
func asOperator() context.Context { return adminauth.Outgoing(context.Background(), adminKey) }

func withSecret(secret string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), reqmeta.LibrarySecret, secret)
}

func code(err error) string {
	if err == nil {
		return ""
	}
	st, _ := status.FromError(err)
	e := smherr.FromStatus(st)
	return fmt.Sprintf("%d %s", e.Status, e.Code)
}

func TestCreateToken(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		name   string
		secret string
		req    *tokenv1.CreateTokenRequest
		want   string // "" = success
	}{
		{name: "ok", secret: "sec-single", req: &tokenv1.CreateTokenRequest{LibraryId: "single"}},
		{name: "ok with extension", secret: "sec-multi", req: &tokenv1.CreateTokenRequest{LibraryId: "multi", SpaceId: "a", Grant: "upload_file", Period: "100"}},
		{name: "nothing", req: &tokenv1.CreateTokenRequest{}, want: "400 EmptyLibraryIdOrSecret"},
		{name: "no id", secret: "x", req: &tokenv1.CreateTokenRequest{}, want: "400 EmptyLibraryId"},
		{name: "no secret", req: &tokenv1.CreateTokenRequest{LibraryId: "single"}, want: "400 EmptyLibrarySecret"},
		{name: "secret as field is not read", req: &tokenv1.CreateTokenRequest{LibraryId: "single", LocalSyncId: "sec-single"}, want: "400 EmptyLibrarySecret"},
		{name: "wrong secret", secret: "nope", req: &tokenv1.CreateTokenRequest{LibraryId: "single"}, want: "404 WrongLibraryIdOrSecret"},
		{name: "unknown grant", secret: "sec-single", req: &tokenv1.CreateTokenRequest{LibraryId: "single", Grant: "fly"}, want: "400 ParamInvalid"},
		{name: "bad space single", secret: "sec-single", req: &tokenv1.CreateTokenRequest{LibraryId: "single", SpaceId: "s1"}, want: "400 SpaceIdInvalid"},
		{name: "bad space multi", secret: "sec-multi", req: &tokenv1.CreateTokenRequest{LibraryId: "multi", SpaceId: "a b"}, want: "400 SpaceIdInvalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.secret != "" {
				ctx = withSecret(tt.secret)
			}
			resp, err := c.CreateToken(ctx, tt.req)
			if got := code(err); got != tt.want {
				t.Fatalf("got %q (%v), want %q", got, err, tt.want)
			}
			if err != nil {
				if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
					t.Error("error message carries the secret")
				}
				return
			}
			if resp.GetAccessToken() == "" {
				t.Error("no token")
			}
			want := int32(86400)
			if tt.req.Period == "100" {
				want = 1200
			}
			if resp.GetExpiresIn() != want {
				t.Errorf("expiresIn = %d", resp.GetExpiresIn())
			}
		})
	}
	_, err := c.CreateToken(withSecret("sec-single"), &tokenv1.CreateTokenRequest{LibraryId: "single", Grant: "upload_file,warp_drive"})
	if st, _ := status.FromError(err); !strings.Contains(st.Message(), `"warp_drive"`) {
		t.Errorf("ParamInvalid does not name the grant: %v", err)
	}
}

func TestTokenLifecycle(t *testing.T) {
	c, clk := serve(t)
	ctx := context.Background()
	created, err := c.CreateToken(withSecret("sec-multi"), &tokenv1.CreateTokenRequest{
		LibraryId: "multi", Grant: "admin", UserId: "", Period: "1200",
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := created.GetAccessToken()

	v, err := c.ValidateToken(asOperator(), &tokenv1.ValidateTokenRequest{LibraryId: "multi", AccessToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	p := v.GetPrincipal()
	if p.GetLibraryId() != "multi" || len(p.GetSpaceIds()) != 0 || p.GetPeriod() != 1200 ||
		p.GetExpiresAtMs() != clk.Now().Add(1200*time.Second).UnixMilli() || len(p.GetGrants()) != 1 || p.GetGrants()[0] != "admin" {
		t.Errorf("principal = %v", p)
	}
	if got := authz.PrincipalFromProto(p); !got.AllSpaces {
		t.Error("admin without spaces must reach all spaces")
	}
	for name, ctx := range map[string]context.Context{"no key": ctx, "the token's library secret": withSecret("sec-multi"),
		"a wrong key": adminauth.Outgoing(context.Background(), "not-the-key")} {
		if _, err := c.ValidateToken(ctx, &tokenv1.ValidateTokenRequest{LibraryId: "multi", AccessToken: tok}); code(err) != "401 InvalidAdminKey" {
			t.Errorf("validate with %s = %v, want 401 InvalidAdminKey", name, err)
		}
	}
	for _, tc := range []struct {
		lib, token, want string
	}{
		{"single", tok, "403 InvalidAccessToken"},
		{"multi", "", "400 EmptyAccessToken"},
		{"multi", "garbage", "403 InvalidAccessToken"},
	} {
		_, err := c.ValidateToken(asOperator(), &tokenv1.ValidateTokenRequest{LibraryId: tc.lib, AccessToken: tc.token})
		if code(err) != tc.want {
			t.Errorf("validate(%s, %q) = %v, want %s", tc.lib, tc.token, err, tc.want)
		}
	}

	clk.Advance(1100 * time.Second)
	r, err := c.RenewToken(ctx, &tokenv1.RenewTokenRequest{LibraryId: "multi", AccessToken: tok})
	if err != nil || r.GetAccessToken() != tok || r.GetExpiresIn() != 1200 {
		t.Fatalf("renew = %v, %v", r, err)
	}

	var header metadata.MD
	if _, err := c.DeleteToken(ctx, &tokenv1.DeleteTokenRequest{LibraryId: "multi", AccessToken: tok}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := header.Get(reqmeta.HTTPStatus); len(got) != 1 || got[0] != "204" {
		t.Errorf("delete status header = %v", got)
	}
	_, err = c.ValidateToken(asOperator(), &tokenv1.ValidateTokenRequest{LibraryId: "multi", AccessToken: tok})
	if code(err) != "403 InvalidAccessToken" {
		t.Errorf("deleted token: %v", err)
	}
	_, err = c.DeleteToken(ctx, &tokenv1.DeleteTokenRequest{LibraryId: "multi", AccessToken: tok})
	if code(err) != "403 InvalidAccessToken" {
		t.Errorf("delete unknown: %v", err)
	}
	_, err = c.RenewToken(ctx, &tokenv1.RenewTokenRequest{LibraryId: "multi", AccessToken: tok})
	if code(err) != "403 InvalidAccessToken" {
		t.Errorf("renew deleted: %v", err)
	}
}

func TestDeleteUserTokens(t *testing.T) {
	c, _ := serve(t)
	ctx := context.Background()
	mk := func(user, client string) string {
		r, err := c.CreateToken(withSecret("sec-multi"), &tokenv1.CreateTokenRequest{LibraryId: "multi", UserId: user, ClientId: client})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetAccessToken()
	}
	emptyClient, phone, bob := mk("alice", ""), mk("alice", "phone"), mk("bob", "")
	valid := func(tok string) bool {
		_, err := c.ValidateToken(asOperator(), &tokenv1.ValidateTokenRequest{LibraryId: "multi", AccessToken: tok})
		return err == nil
	}

	_, err := c.DeleteUserTokens(ctx, &tokenv1.DeleteUserTokensRequest{LibraryId: "multi", UserId: "alice"})
	if code(err) != "400 EmptyLibrarySecret" {
		t.Errorf("without secret: %v", err)
	}
	_, err = c.DeleteUserTokens(withSecret("bad"), &tokenv1.DeleteUserTokensRequest{LibraryId: "multi", UserId: "alice"})
	if code(err) != "404 WrongLibraryIdOrSecret" {
		t.Errorf("wrong secret: %v", err)
	}

	empty := ""
	var header metadata.MD
	// client_id= present and empty: only alice's token without a client id.
	if _, err := c.DeleteUserTokens(withSecret("sec-multi"), &tokenv1.DeleteUserTokensRequest{LibraryId: "multi", UserId: "alice", ClientId: &empty}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := header.Get(reqmeta.HTTPStatus); len(got) != 1 || got[0] != "204" {
		t.Errorf("status header = %v", got)
	}
	if valid(emptyClient) || !valid(phone) || !valid(bob) {
		t.Errorf("after client_id= : empty=%v phone=%v bob=%v", valid(emptyClient), valid(phone), valid(bob))
	}
	// client_id absent: every client.
	if _, err := c.DeleteUserTokens(withSecret("sec-multi"), &tokenv1.DeleteUserTokensRequest{LibraryId: "multi", UserId: "alice"}); err != nil {
		t.Fatal(err)
	}
	if valid(phone) || !valid(bob) {
		t.Errorf("after absent client_id: phone=%v bob=%v", valid(phone), valid(bob))
	}
}

func TestInternalRPCs(t *testing.T) {
	c, _ := serve(t)
	ctx := context.Background()
	admin := adminauth.Outgoing(ctx, adminKey)

	if _, err := c.PurgeLibraryTokens(ctx, &tokenv1.PurgeLibraryTokensRequest{LibraryId: "multi"}); code(err) != "401 InvalidAdminKey" {
		t.Errorf("purge without key: %v", err)
	}
	stream, err := c.WatchRevocations(adminauth.Outgoing(ctx, "wrong"), &tokenv1.WatchRevocationsRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if code(err) != "401 InvalidAdminKey" {
		t.Errorf("watch with a wrong key: %v", err)
	}

	wctx, cancel := context.WithCancel(admin)
	defer cancel()
	stream, err = c.WatchRevocations(wctx, &tokenv1.WatchRevocationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || len(first.GetTokenHashes()) != 0 {
		t.Fatalf("first message must be an empty confirmation: %v %v", first, err)
	}
	r, err := c.CreateToken(withSecret("sec-multi"), &tokenv1.CreateTokenRequest{LibraryId: "multi"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PurgeLibraryTokens(admin, &tokenv1.PurgeLibraryTokensRequest{LibraryId: "multi"}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%x", authz.HashToken(r.GetAccessToken()))
	got, err := stream.Recv()
	if err != nil || len(got.GetTokenHashes()) != 1 || got.GetTokenHashes()[0] != want {
		t.Fatalf("revocation = %v, %v", got, err)
	}
	if _, err := c.ValidateToken(asOperator(), &tokenv1.ValidateTokenRequest{LibraryId: "multi", AccessToken: r.GetAccessToken()}); code(err) != "403 InvalidAccessToken" {
		t.Errorf("purged token: %v", err)
	}
}
