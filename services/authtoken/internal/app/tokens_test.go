package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/authtoken/internal/app"
	"github.com/opensmh/opensmh/services/authtoken/internal/store"
)

const tokensPrefix = "/smh/authtoken/tokens/"

// fakeLibraries is the unit boundary to the library service.
type fakeLibraries map[string]struct {
	secret string
	multi  bool
}

func (f fakeLibraries) VerifySecret(_ context.Context, libraryID, secret string) (app.LibraryFacts, error) {
	l, ok := f[libraryID]
	if !ok || l.secret != secret {
		return app.LibraryFacts{}, smherr.New(http.StatusNotFound, "WrongLibraryIdOrSecret", "wrong library id or secret")
	}
	return app.LibraryFacts{IsMultiSpace: l.multi}, nil
}

func testLibraries() fakeLibraries {
	return fakeLibraries{
		"single": {secret: "s3cret-single"},
		"multi":  {secret: "s3cret-multi", multi: true},
	}
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newTokens(t testing.TB, cli *clientv3.Client, clk clock.Clock) *app.Tokens {
	t.Helper()
	tok := app.New(app.Config{
		Store:      store.NewEtcd(cli),
		Libraries:  testLibraries(),
		Clock:      clk,
		FlushEvery: time.Hour, // tests flush explicitly
	})
	if err := tok.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tok.Close() })
	return tok
}

func mint(t testing.TB, tok *app.Tokens, in app.MintInput) string {
	t.Helper()
	if in.LibraryID == "" {
		in.LibraryID = "single"
	}
	if in.Secret == "" {
		in.Secret = testLibraries()[in.LibraryID].secret
	}
	m, err := tok.Mint(context.Background(), in)
	if err != nil {
		t.Fatalf("mint: %v", err)
	}
	return m.Token
}

func smhCode(err error) string {
	if e := smherr.As(err); e != nil {
		return e.Code
	}
	return ""
}

func TestMintAndValidate(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	tok := newTokens(t, cli, clk)

	m, err := tok.Mint(ctx, app.MintInput{LibraryID: "multi", Secret: "s3cret-multi", SpaceID: "sa,sb", UserID: "alice",
		ClientID: "phone", SessionID: "s1", Period: "3600", Grant: "upload_file, delete_file,upload_file"})
	if err != nil {
		t.Fatal(err)
	}
	if m.ExpiresIn != time.Hour {
		t.Errorf("expiresIn = %v", m.ExpiresIn)
	}
	if len(m.Token) < 43 || strings.ContainsAny(m.Token, "+/=%?#&") {
		t.Errorf("token %q is short or needs URL escaping", m.Token)
	}
	p, err := tok.Validate(ctx, "multi", m.Token)
	if err != nil {
		t.Fatal(err)
	}
	if p.LibraryID != "multi" || !slices.Equal(p.SpaceIDs, []string{"sa", "sb"}) || p.AllSpaces || p.UserID != "alice" ||
		p.ClientID != "phone" || p.SessionID != "s1" || !p.Has(authz.UploadFile) || !p.Has(authz.DeleteFile) || p.Has(authz.Admin) {
		t.Errorf("principal = %+v", p)
	}
	v, err := tok.ValidateDetailed(ctx, "multi", m.Token)
	if err != nil || v.Period != time.Hour || !v.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("detailed = %+v, %v", v, err)
	}

	// A second instance loads the token from etcd (cache miss).
	other := newTokens(t, cli, clk)
	if p2, err := other.Validate(ctx, "multi", m.Token); err != nil || p2.UserID != "alice" {
		t.Errorf("other instance: %+v, %v", p2, err)
	}

	// etcd holds the hash, never the value.
	resp, err := cli.Get(ctx, "/smh/authtoken/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 2 {
		t.Errorf("want a record and an index entry, got %d keys", len(resp.Kvs))
	}
	for _, kv := range resp.Kvs {
		if strings.Contains(string(kv.Key), m.Token) || strings.Contains(string(kv.Value), m.Token) {
			t.Fatalf("token value stored in etcd at %s", kv.Key)
		}
	}
	if !strings.Contains(string(resp.Kvs[0].Value), `"grants":["upload_file","delete_file"]`) {
		t.Errorf("record %s: grants not de-duplicated", resp.Kvs[0].Value)
	}

	tests := []struct {
		name, lib, token string
		want             error
	}{
		{"other library", "single", m.Token, app.ErrInvalidAccessToken},
		{"empty", "multi", "", app.ErrEmptyAccessToken},
		{"unknown", "multi", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", app.ErrInvalidAccessToken},
		{"malformed", "multi", "not a token / at all", app.ErrInvalidAccessToken},
		{"huge", "multi", strings.Repeat("x", 10000), app.ErrInvalidAccessToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tok.Validate(ctx, tt.lib, tt.token); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMintSpacesAndErrors(t *testing.T) {
	ctx := context.Background()
	tok := newTokens(t, etcdtest.New(t), clock.NewFake(t0))
	tests := []struct {
		name      string
		in        app.MintInput
		wantErr   error
		wantCode  string
		wantSp    []string
		wantAll   bool
		wantGrant string
	}{
		{name: "missing both", in: app.MintInput{}, wantErr: app.ErrEmptyLibraryIDAndSecret},
		{name: "missing id", in: app.MintInput{Secret: "x"}, wantErr: app.ErrEmptyLibraryID},
		{name: "missing secret", in: app.MintInput{LibraryID: "single"}, wantErr: app.ErrEmptyLibrarySecret},
		{name: "wrong secret", in: app.MintInput{LibraryID: "single", Secret: "nope"}, wantCode: "WrongLibraryIdOrSecret"},
		{name: "unknown library", in: app.MintInput{LibraryID: "ghost", Secret: "x"}, wantCode: "WrongLibraryIdOrSecret"},
		{name: "unknown grant", in: app.MintInput{LibraryID: "single", Secret: "s3cret-single", Grant: "admin,root"}, wantErr: app.ErrUnknownGrant},
		{name: "single no space", in: app.MintInput{LibraryID: "single", Secret: "s3cret-single"}, wantSp: []string{"-"}},
		{name: "single dash", in: app.MintInput{LibraryID: "single", Secret: "s3cret-single", SpaceID: "-"}, wantSp: []string{"-"}},
		{name: "single named space", in: app.MintInput{LibraryID: "single", Secret: "s3cret-single", SpaceID: "abc"}, wantErr: app.ErrSpaceIDInvalid},
		{name: "multi management token", in: app.MintInput{LibraryID: "multi", Secret: "s3cret-multi", Grant: "create_space"}, wantSp: nil, wantGrant: authz.CreateSpace},
		{name: "multi admin all spaces", in: app.MintInput{LibraryID: "multi", Secret: "s3cret-multi", Grant: "admin"}, wantAll: true, wantGrant: authz.Admin},
		{name: "multi dash", in: app.MintInput{LibraryID: "multi", Secret: "s3cret-multi", SpaceID: "-"}, wantErr: app.ErrSpaceIDInvalid},
		{name: "multi bad id", in: app.MintInput{LibraryID: "multi", Secret: "s3cret-multi", SpaceID: "ok,b@d"}, wantErr: app.ErrSpaceIDInvalid},
		{name: "long user id", in: app.MintInput{LibraryID: "single", Secret: "s3cret-single", UserID: strings.Repeat("u", 300)}, wantErr: app.ErrParamInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tok.Mint(ctx, tt.in)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			case tt.wantCode != "":
				if smhCode(err) != tt.wantCode {
					t.Fatalf("err = %v, want %s", err, tt.wantCode)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if m.ExpiresIn != app.DefaultPeriod {
				t.Errorf("expiresIn = %v", m.ExpiresIn)
			}
			p, err := tok.Validate(ctx, tt.in.LibraryID, m.Token)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.SpaceIDs, tt.wantSp) || p.AllSpaces != tt.wantAll {
				t.Errorf("spaces = %v all=%v", p.SpaceIDs, p.AllSpaces)
			}
			if tt.wantGrant == "" && p.Grants != 0 {
				t.Errorf("want read only, got %v", p.Grants.Names())
			}
			if tt.wantGrant != "" && !p.Grants.Contains(tt.wantGrant) {
				t.Errorf("grants = %v", p.Grants.Names())
			}
		})
	}
}

func TestSlidingExpiry(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	tok := newTokens(t, etcdtest.New(t), clk)
	token := mint(t, tok, app.MintInput{Period: "1200"})
	period := 1200 * time.Second

	clk.Advance(period - time.Second)
	if _, err := tok.Validate(ctx, "single", token); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	clk.Advance(period - time.Second)
	if _, err := tok.Validate(ctx, "single", token); err != nil {
		t.Fatalf("use renewed the token, yet: %v", err)
	}
	clk.Advance(period)
	if _, err := tok.Validate(ctx, "single", token); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Fatalf("after a full idle period: %v", err)
	}
	// Refused from memory from now on, and a use of an expired token renews nothing.
	clk.Advance(time.Second)
	if _, err := tok.Validate(ctx, "single", token); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Fatalf("again: %v", err)
	}
	if _, err := tok.Renew(ctx, "single", token); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Fatalf("renew expired: %v", err)
	}
}

func TestRenewIsRecordedByTheFlusher(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	a := newTokens(t, cli, clk)
	token := mint(t, a, app.MintInput{Period: "1200"})

	clk.Advance(1000 * time.Second)
	m, err := a.Renew(ctx, "single", token)
	if err != nil {
		t.Fatal(err)
	}
	if m.Token != token || m.ExpiresIn != 1200*time.Second {
		t.Errorf("renew = %+v", m)
	}
	// A renewal is a use: the flusher records it (the minute since the mint has passed).
	if err := a.FlushRenewals(ctx); err != nil {
		t.Fatal(err)
	}
	// A fresh instance knows nothing but etcd: the renewal must be recorded there.
	clk.Advance(1100 * time.Second)
	b := newTokens(t, cli, clk)
	if _, err := b.Validate(ctx, "single", token); err != nil {
		t.Fatalf("renewal not written through: %v", err)
	}
	if _, err := a.Renew(ctx, "multi", token); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Errorf("renew with another library: %v", err)
	}
	if _, err := a.Renew(ctx, "", token); !errors.Is(err, app.ErrEmptyLibraryID) {
		t.Errorf("renew without library: %v", err)
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	tok := newTokens(t, cli, clk)
	token := mint(t, tok, app.MintInput{})
	keep := mint(t, tok, app.MintInput{})

	if err := tok.Revoke(ctx, "multi", token); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Errorf("revoke with another library: %v", err)
	}
	if err := tok.Revoke(ctx, "single", token); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Validate(ctx, "single", token); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Errorf("revoked token validated: %v", err)
	}
	if err := tok.Revoke(ctx, "single", token); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Errorf("second revoke: %v", err)
	}
	if err := tok.Revoke(ctx, "single", ""); !errors.Is(err, app.ErrEmptyAccessToken) {
		t.Errorf("empty: %v", err)
	}
	if _, err := tok.Validate(ctx, "single", keep); err != nil {
		t.Errorf("other token hurt: %v", err)
	}
	resp, _ := cli.Get(ctx, "/smh/authtoken/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if resp.Count != 2 {
		t.Errorf("want 2 keys left (record + index of the kept token), got %d", resp.Count)
	}

	// Expired: deleted all the same, answered as invalid.
	old := mint(t, tok, app.MintInput{Period: "1200"})
	clk.Advance(1300 * time.Second)
	if err := tok.Revoke(ctx, "single", old); !errors.Is(err, app.ErrInvalidAccessToken) {
		t.Errorf("expired: %v", err)
	}
}

func TestRevokeUserTokens(t *testing.T) {
	ctx := context.Background()
	ptr := func(s string) *string { return &s }
	type tk struct{ user, client, session string }
	all := []tk{
		{"alice", "phone", "s1"}, {"alice", "phone", "s2"}, {"alice", "laptop", "s1"},
		{"alice", "", ""}, {"alice", "", "s1"}, {"bob", "phone", "s1"}, {"", "", ""}, {"", "phone", ""},
	}
	tests := []struct {
		name     string
		users    string
		clients  *string
		sessions *string
		want     []tk // the tokens deleted
	}{
		{name: "one user, any client", users: "alice", want: all[:5]},
		{name: "two users", users: "alice,bob", want: all[:6]},
		{name: "empty user id", users: "", want: all[6:]},
		{name: "client phone", users: "alice", clients: ptr("phone"), want: all[:2]},
		{name: "clients phone,laptop", users: "alice", clients: ptr("phone,laptop"), want: all[:3]},
		{name: "empty client id", users: "alice", clients: ptr(""), want: all[3:5]},
		{name: "empty client id or phone", users: "alice", clients: ptr(",phone"), want: []tk{all[0], all[1], all[3], all[4]}},
		{name: "session s1", users: "alice", sessions: ptr("s1"), want: []tk{all[0], all[2], all[4]}},
		{name: "empty session", users: "alice", sessions: ptr(""), want: []tk{all[3]}},
		{name: "client and session", users: "alice", clients: ptr("phone"), sessions: ptr("s2"), want: []tk{all[1]}},
		{name: "empty client and s1", users: "alice", clients: ptr(""), sessions: ptr("s1"), want: []tk{all[4]}},
		{name: "no match", users: "carol", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := newTokens(t, etcdtest.New(t), clock.NewFake(t0))
			tokens := make(map[tk]string)
			for _, k := range all {
				tokens[k] = mint(t, tok, app.MintInput{LibraryID: "multi", UserID: k.user, ClientID: k.client, SessionID: k.session})
			}
			// A token of another library with the same user must survive.
			otherLib := mint(t, tok, app.MintInput{LibraryID: "single", UserID: "alice"})
			err := tok.RevokeUserTokens(ctx, app.UserTokensFilter{LibraryID: "multi", Secret: "s3cret-multi",
				UserIDs: tt.users, ClientIDs: tt.clients, SessionIDs: tt.sessions})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range all {
				_, err := tok.Validate(ctx, "multi", tokens[k])
				if deleted := slices.Contains(tt.want, k); deleted != errors.Is(err, app.ErrInvalidAccessToken) {
					t.Errorf("token %+v: deleted=%v, validate err=%v", k, deleted, err)
				}
			}
			if _, err := tok.Validate(ctx, "single", otherLib); err != nil {
				t.Errorf("other library's token: %v", err)
			}
		})
	}

	t.Run("credentials", func(t *testing.T) {
		tok := newTokens(t, etcdtest.New(t), clock.NewFake(t0))
		for _, c := range []struct {
			f    app.UserTokensFilter
			want error
			code string
		}{
			{f: app.UserTokensFilter{}, want: app.ErrEmptyLibraryIDAndSecret},
			{f: app.UserTokensFilter{Secret: "x"}, want: app.ErrEmptyLibraryID},
			{f: app.UserTokensFilter{LibraryID: "multi"}, want: app.ErrEmptyLibrarySecret},
			{f: app.UserTokensFilter{LibraryID: "multi", Secret: "wrong"}, code: "WrongLibraryIdOrSecret"},
		} {
			err := tok.RevokeUserTokens(ctx, c.f)
			if c.want != nil && !errors.Is(err, c.want) || c.code != "" && smhCode(err) != c.code {
				t.Errorf("%+v: %v", c.f, err)
			}
		}
	})
}

func TestPurgeLibraryTokens(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	tok := newTokens(t, cli, clock.NewFake(t0))
	var gone []string
	for i := range 150 { // more than one etcd transaction's worth
		gone = append(gone, mint(t, tok, app.MintInput{LibraryID: "multi", UserID: fmt.Sprint("u", i%7)}))
	}
	keep := mint(t, tok, app.MintInput{LibraryID: "single"})
	if err := tok.PurgeLibraryTokens(ctx, "multi"); err != nil {
		t.Fatal(err)
	}
	for _, g := range gone {
		if _, err := tok.Validate(ctx, "multi", g); !errors.Is(err, app.ErrInvalidAccessToken) {
			t.Fatalf("purged token still valid: %v", err)
		}
	}
	if _, err := tok.Validate(ctx, "single", keep); err != nil {
		t.Fatal(err)
	}
	resp, _ := cli.Get(ctx, "/smh/authtoken/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if resp.Count != 3 { // the surviving token, its index entry, and the closed-library marker
		t.Errorf("keys left = %d, want 3", resp.Count)
	}

	// A mint whose secret check passed just before the library was deleted (the fake verifier
	// still says yes) cannot leave a token behind the purge.
	if _, err := tok.Mint(ctx, app.MintInput{LibraryID: "multi", Secret: "s3cret-multi"}); !errors.Is(err, app.ErrLibraryClosed) {
		t.Fatalf("mint after purge: %v", err)
	}
	if err := tok.PurgeLibraryTokens(ctx, "multi"); err != nil {
		t.Fatalf("purge again: %v", err)
	}
	if _, err := tok.Mint(ctx, app.MintInput{LibraryID: "single", Secret: "s3cret-single"}); err != nil {
		t.Fatalf("other libraries are not closed: %v", err)
	}
}

// versionOf is how many times the token's record was written since it was created.
func versionOf(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	resp, err := cli.Get(context.Background(), tokensPrefix, clientv3.WithPrefix())
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("want one record: %v %d", err, len(resp.Kvs))
	}
	return resp.Kvs[0].Version
}

func TestThrottledRenewalWrites(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	tok := newTokens(t, cli, clk)
	token := mint(t, tok, app.MintInput{Period: "1200"})
	if v := versionOf(t, cli); v != 1 {
		t.Fatalf("version after mint = %d", v)
	}

	// Uses within the first minute after the recorded renewal write nothing.
	for i := range 1000 {
		if _, err := tok.Validate(ctx, "single", token); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			clk.Advance(590 * time.Millisecond) // 100 steps: 59 s in all
			if err := tok.FlushRenewals(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if v := versionOf(t, cli); v != 1 {
		t.Fatalf("writes within the first minute: %d", v-1)
	}

	// 1000 uses in the next fake minute, flushing all the time: exactly one write.
	for i := range 1000 {
		if i%10 == 0 {
			clk.Advance(590 * time.Millisecond)
		}
		if _, err := tok.Validate(ctx, "single", token); err != nil {
			t.Fatal(err)
		}
		if err := tok.FlushRenewals(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v := versionOf(t, cli); v != 2 {
		t.Fatalf("renewal writes in a busy minute = %d, want 1", v-1)
	}

	// The recorded renewal is what another instance judges expiry by.
	resp, _ := cli.Get(ctx, tokensPrefix, clientv3.WithPrefix())
	if !strings.Contains(string(resp.Kvs[0].Value), `"lastRenewedAt":"2026-11-26T12:01:`) {
		t.Errorf("record = %s", resp.Kvs[0].Value)
	}

	// Close writes the last unrecorded use.
	clk.Advance(5 * time.Second)
	if _, err := tok.Validate(ctx, "single", token); err != nil {
		t.Fatal(err)
	}
	if err := tok.Close(); err != nil {
		t.Fatal(err)
	}
	if v := versionOf(t, cli); v != 3 {
		t.Fatalf("Close did not flush: version %d", v)
	}
}

func TestRenewalNeverResurrects(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	a := newTokens(t, cli, clk)
	b := newTokens(t, cli, clk)
	token := mint(t, a, app.MintInput{})
	if _, err := b.Validate(ctx, "single", token); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := b.Validate(ctx, "single", token); err != nil { // b now holds an unwritten use
		t.Fatal(err)
	}
	if err := a.Revoke(ctx, "single", token); err != nil {
		t.Fatal(err)
	}
	if err := b.FlushRenewals(ctx); err != nil {
		t.Fatal(err)
	}
	resp, _ := cli.Get(ctx, tokensPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if resp.Count != 0 {
		t.Fatal("a renewal brought a deleted token back")
	}
}

// poll retries f until it reports true or the generous deadline passes.
func poll(t *testing.T, f func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if f() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return f()
}

func TestRevocationReachesOtherInstance(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	a := newTokens(t, cli, clk)
	b := newTokens(t, cli, clk)
	hashes, cancel := b.SubscribeRevocations()
	defer cancel()

	one := mint(t, a, app.MintInput{LibraryID: "multi", UserID: "u"})
	two := mint(t, a, app.MintInput{LibraryID: "multi", UserID: "v"})
	for _, tk := range []string{one, two} {
		if _, err := b.Validate(ctx, "multi", tk); err != nil { // cached on b
			t.Fatal(err)
		}
	}
	if err := a.Revoke(ctx, "multi", one); err != nil {
		t.Fatal(err)
	}
	if !poll(t, func() bool { _, err := b.Validate(ctx, "multi", one); return errors.Is(err, app.ErrInvalidAccessToken) }) {
		t.Fatal("instance b still accepts a token revoked on a")
	}
	if err := a.RevokeUserTokens(ctx, app.UserTokensFilter{LibraryID: "multi", Secret: "s3cret-multi", UserIDs: "v"}); err != nil {
		t.Fatal(err)
	}
	if !poll(t, func() bool { _, err := b.Validate(ctx, "multi", two); return errors.Is(err, app.ErrInvalidAccessToken) }) {
		t.Fatal("instance b still accepts a user token revoked on a")
	}
	h1, h2 := authz.HashToken(one), authz.HashToken(two)
	want := map[string]bool{fmt.Sprintf("%x", h1): true, fmt.Sprintf("%x", h2): true}
	for len(want) > 0 {
		select {
		case batch := <-hashes:
			for _, h := range batch {
				delete(want, h)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("revocations not published: missing %v", want)
		}
	}
}

func TestRenewalSeenByOtherInstance(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	a := newTokens(t, cli, clk)
	b := newTokens(t, cli, clk)
	token := mint(t, a, app.MintInput{Period: "1200"})
	if _, err := b.Validate(ctx, "single", token); err != nil {
		t.Fatal(err)
	}
	// Used only on a for 30 minutes (> period): a's flushes record it; b must follow.
	for range 30 {
		clk.Advance(time.Minute)
		if _, err := a.Validate(ctx, "single", token); err != nil {
			t.Fatal(err)
		}
		if err := a.FlushRenewals(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Validate(ctx, "single", token); err != nil {
		t.Fatalf("b refused a token kept alive on a: %v", err)
	}
}

func TestConcurrentValidateAndRevoke(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	a := newTokens(t, cli, clk)
	b := newTokens(t, cli, clk)
	const n = 60
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = mint(t, a, app.MintInput{LibraryID: "multi", UserID: fmt.Sprint("u", i%3), Period: "31536000"})
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 8 {
		wg.Go(func() {
			inst := a
			if g%2 == 1 {
				inst = b
			}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := inst.Validate(ctx, "multi", tokens[(i*7+g)%n])
				if err != nil && !errors.Is(err, app.ErrInvalidAccessToken) {
					t.Errorf("validate: %v", err)
					return
				}
				if i%50 == 0 {
					clk.Advance(time.Second)
					_ = inst.FlushRenewals(ctx)
				}
			}
		})
	}
	var revoked []string
	for i := 0; i < n; i += 2 {
		inst := a
		if i%4 == 0 {
			inst = b
		}
		if err := inst.Revoke(ctx, "multi", tokens[i]); err != nil {
			t.Errorf("revoke %d: %v", i, err)
		}
		revoked = append(revoked, tokens[i])
	}
	if err := b.RevokeUserTokens(ctx, app.UserTokensFilter{LibraryID: "multi", Secret: "s3cret-multi", UserIDs: "u1"}); err != nil {
		t.Error(err)
	}
	close(stop)
	wg.Wait()
	for i := 1; i < n; i += 2 {
		if i%3 == 1 {
			revoked = append(revoked, tokens[i])
		}
	}
	for _, inst := range []*app.Tokens{a, b} {
		for _, tk := range revoked {
			if !poll(t, func() bool {
				_, err := inst.Validate(ctx, "multi", tk)
				return errors.Is(err, app.ErrInvalidAccessToken)
			}) {
				t.Fatal("a revoked token is still accepted")
			}
		}
	}
	for i := 1; i < n; i += 2 {
		if i%3 != 1 {
			if _, err := a.Validate(ctx, "multi", tokens[i]); err != nil {
				t.Errorf("token %d: %v", i, err)
			}
		}
	}
}

// Many clients renewing one token at once all succeed: renewals never contend in etcd.
func TestConcurrentRenewalsOfOneToken(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.New(t)
	clk := clock.NewFake(t0)
	a := newTokens(t, cli, clk)
	token := mint(t, a, app.MintInput{Period: "1200"})
	clk.Advance(2 * time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := a.Renew(ctx, "single", token); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent renew: %v", err)
	}
}
