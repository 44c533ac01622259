package transport_test

import (
	"context"
	"testing"
	"time"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
)

// TestMintShareToken: the operator key is required; the token validates (over gRPC) to a
// principal carrying the share id, with a fixed expiry ten minutes after the mint.
func TestMintShareToken(t *testing.T) {
	c, clk := serve(t)
	req := &tokenv1.MintShareTokenRequest{LibraryId: "single", ShareId: "sh1", UserId: "bob"}
	if _, err := c.MintShareToken(context.Background(), req); code(err) != "401 InvalidAdminKey" {
		t.Errorf("mint without the operator key: %v", err)
	}
	if _, err := c.MintShareToken(adminauth.Outgoing(context.Background(), "wrong"), req); code(err) != "401 InvalidAdminKey" {
		t.Errorf("mint with a wrong key: %v", err)
	}
	if _, err := c.MintShareToken(asOperator(), &tokenv1.MintShareTokenRequest{LibraryId: "single"}); code(err) != "400 ParamInvalid" {
		t.Errorf("mint without a share id: %v", err)
	}
	m, err := c.MintShareToken(asOperator(), req)
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().Add(10 * time.Minute).UnixMilli(); m.GetExpiresAtMs() != want {
		t.Errorf("expires at %d, want %d", m.GetExpiresAtMs(), want)
	}
	clk.Advance(5 * time.Minute)
	v, err := c.ValidateToken(asOperator(), &tokenv1.ValidateTokenRequest{LibraryId: "single", AccessToken: m.GetAccessToken()})
	if err != nil {
		t.Fatal(err)
	}
	p := v.GetPrincipal()
	if p.GetShareId() != "sh1" || p.GetUserId() != "bob" || len(p.GetGrants()) != 0 || len(p.GetSpaceIds()) != 0 {
		t.Errorf("principal = %v", p)
	}
	if p.GetExpiresAtMs() != m.GetExpiresAtMs() {
		t.Errorf("validation moved the expiry: %d, minted %d", p.GetExpiresAtMs(), m.GetExpiresAtMs())
	}
	if _, err := c.RenewToken(context.Background(), &tokenv1.RenewTokenRequest{LibraryId: "single", AccessToken: m.GetAccessToken()}); code(err) != "403 InvalidAccessToken" {
		t.Errorf("renew of a share token: %v", err)
	}
	clk.Advance(5 * time.Minute)
	if _, err := c.ValidateToken(asOperator(), &tokenv1.ValidateTokenRequest{LibraryId: "single", AccessToken: m.GetAccessToken()}); code(err) != "403 InvalidAccessToken" {
		t.Errorf("share token after ten minutes: %v", err)
	}
}
