package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
)

func mintShare(t *testing.T, tok *app.Tokens, in app.ShareMintInput) app.ShareMinted {
	t.Helper()
	m, err := tok.MintShare(context.Background(), in)
	if err != nil {
		t.Fatalf("mint share token: %v", err)
	}
	return m
}

// TestShareTokenPrincipal: a share access token validates to a principal limited to its share
// (no grants, no spaces), on this instance and on one that loads it from etcd.
func TestShareTokenPrincipal(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	tok := newTokens(t, cli, clk)
	m := mintShare(t, tok, app.ShareMintInput{LibraryID: "multi", ShareID: "sh1", UserID: "bob", ClientID: "web"})
	if !m.ExpiresAt.Equal(t0.Add(app.ShareTokenLife)) || app.ShareTokenLife != 10*time.Minute {
		t.Errorf("expires at %v, want mint + 10 minutes", m.ExpiresAt)
	}
	if !strings.HasPrefix(m.Token, "acctk") || len(m.Token) != 69 {
		t.Errorf("token shape %d chars", len(m.Token))
	}
	for name, inst := range map[string]*app.Tokens{"minting instance": tok, "other instance": newTokens(t, cli, clk)} {
		t.Run(name, func(t *testing.T) {
			p, err := inst.Validate(ctx, "multi", m.Token)
			if err != nil {
				t.Fatal(err)
			}
			if p.ShareID != "sh1" || p.UserID != "bob" || p.ClientID != "web" || p.Grants != 0 || p.AllSpaces || len(p.SpaceIDs) != 0 {
				t.Errorf("principal = %+v", p)
			}
			if p.Has(authz.UploadFile) || p.RequireSpace("any") == nil {
				t.Errorf("share principal has library rights: %+v", p)
			}
			if _, err := inst.Validate(ctx, "single", m.Token); !errors.Is(err, app.ErrInvalidAccessToken) {
				t.Errorf("other library: %v", err)
			}
		})
	}
}

// TestShareTokenDoesNotRenew: use neither extends a share token nor writes a renewal; RenewToken
// refuses it; it lapses ten minutes after the mint and the sweep then removes it.
func TestShareTokenDoesNotRenew(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	tok := newTokens(t, cli, clk)
	m := mintShare(t, tok, app.ShareMintInput{LibraryID: "single", ShareID: "sh1"})
	for range 9 {
		clk.Advance(time.Minute)
		v, err := tok.ValidateDetailed(ctx, "single", m.Token)
		if err != nil {
			t.Fatalf("at %v: %v", clk.Now().Sub(t0), err)
		}
		if !v.ExpiresAt.Equal(m.ExpiresAt) {
			t.Fatalf("use moved the expiry to %v", v.ExpiresAt)
		}
		if err := tok.FlushRenewals(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := versionOf(t, cli); got != 1 {
		t.Errorf("share token record written %d times, want only its creation", got)
	}
	if _, err := tok.Renew(ctx, "single", m.Token); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Errorf("renew of a share token: %v", err)
	}
	clk.Advance(time.Minute) // ten minutes since the mint
	if _, err := tok.Validate(ctx, "single", m.Token); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Fatalf("share token valid past ten minutes: %v", err)
	}
	// Another instance, reading etcd, agrees.
	if _, err := newTokens(t, cli, clk).Validate(ctx, "single", m.Token); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Fatalf("other instance accepts the expired share token: %v", err)
	}
	clk.Advance(10 * time.Minute) // past the sweep's grace
	n, err := tok.SweepExpired(ctx, 0)
	if err != nil || n != 1 {
		t.Fatalf("sweep deleted %d, %v; want the share token", n, err)
	}
	if records, index := storedHashes(t, cli); len(records)+len(index) != 0 {
		t.Errorf("left in etcd: %v %v", records, index)
	}
}

// TestShareTokenLifecycle: share tokens go with their library, survive secret resets (the secret
// never vouched for them) and refuse bad input.
func TestShareTokenLifecycle(t *testing.T) {
	ctx := context.Background()
	tok := newTokens(t, etcdtest.New(t), clock.NewFake(t0))

	// A reset with revokeTokens raises the library's secret floor: share tokens are still minted
	// and kept.
	before := mintShare(t, tok, app.ShareMintInput{LibraryID: "multi", ShareID: "sh1"})
	if err := tok.RevokeSecretGenerations(ctx, "multi", 5); err != nil {
		t.Fatal(err)
	}
	after := mintShare(t, tok, app.ShareMintInput{LibraryID: "multi", ShareID: "sh1"})
	for _, tk := range []string{before.Token, after.Token} {
		if _, err := tok.Validate(ctx, "multi", tk); err != nil {
			t.Errorf("share token after a secret reset: %v", err)
		}
	}

	if err := tok.PurgeLibraryTokens(ctx, "multi"); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{before.Token, after.Token} {
		if _, err := tok.Validate(ctx, "multi", tk); !errors.Is(err, app.ErrInvalidAccessToken) {
			t.Errorf("share token survived its library: %v", err)
		}
	}
	if _, err := tok.MintShare(ctx, app.ShareMintInput{LibraryID: "multi", ShareID: "sh1"}); !errors.Is(err, app.ErrLibraryClosed) {
		t.Errorf("mint for a deleted library: %v", err)
	}

	tests := []struct {
		name string
		in   app.ShareMintInput
		want error
	}{
		{"no library", app.ShareMintInput{ShareID: "sh1"}, app.ErrEmptyLibraryID},
		{"no share", app.ShareMintInput{LibraryID: "single"}, app.ErrParamInvalid},
		{"long share id", app.ShareMintInput{LibraryID: "single", ShareID: strings.Repeat("s", 1000)}, app.ErrParamInvalid},
		{"long user id", app.ShareMintInput{LibraryID: "single", ShareID: "sh1", UserID: strings.Repeat("u", 1000)}, app.ErrParamInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tok.MintShare(ctx, tt.in); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
