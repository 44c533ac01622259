package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// tokenAnswer checks a 200 token answer and returns accessToken and expiresIn.
func tokenAnswer(t testing.TB, r response) (string, float64) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	tok, ok := m["accessToken"].(string)
	if !ok || tok == "" {
		t.Fatalf("accessToken missing or not a string: %s", r.Body)
	}
	exp, ok := m["expiresIn"].(float64)
	if !ok {
		t.Fatalf("expiresIn missing or not a JSON number: %s", r.Body)
	}
	return tok, exp
}

// alive tells whether a token still renews (200) or is revoked (403 InvalidAccessToken).
func (s *system) alive(t testing.TB, libID, tok string) bool {
	t.Helper()
	r := s.renew(libID, tok)
	switch r.Status {
	case http.StatusOK:
		return true
	case http.StatusForbidden:
		expectError(t, r, http.StatusForbidden, "InvalidAccessToken")
		return false
	}
	t.Fatalf("renew answered %d %s", r.Status, r.Body)
	return false
}

// deleteToken deletes one token.
func (s *system) deleteToken(libID, tok string) response {
	s.t.Helper()
	return s.call("DELETE", "/api/v1/token/"+url.PathEscape(libID)+"/"+url.PathEscape(tok), nil, nil, nil)
}

// sensitive collects secrets and tokens that must never reach the server log.
type sensitive struct {
	mu     sync.Mutex
	values []string
}

func (v *sensitive) add(s ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.values = append(v.values, s...)
}

func TestTokenMint(t *testing.T) {
	s := startSystem(t)
	var secrets sensitive
	lib := s.createLibrary("tokens", nil)
	other := s.createLibrary("other", nil)
	multi := s.createLibrary("multi", map[string]any{"isMultiSpace": true})
	secrets.add(lib.Secret, other.Secret, multi.Secret)

	t.Run("GET mints with the secret as library_secret query", func(t *testing.T) {
		tok, exp := tokenAnswer(t, s.mint(lib, nil))
		secrets.add(tok)
		if exp != 86400 {
			t.Fatalf("expiresIn %v, want 86400", exp)
		}
		if !s.alive(t, lib.ID, tok) {
			t.Fatal("minted token does not renew")
		}
	})

	t.Run("POST mints, a JSON body is accepted and ignored", func(t *testing.T) {
		q := url.Values{"library_id": {lib.ID}, "library_secret": {lib.Secret}}
		for _, body := range []any{nil, map[string]any{"shareDirectoryIdList": []int{1}}} {
			r := s.call("POST", "/api/v1/token", q, body, http.Header{"Content-Type": {"application/json"}})
			tok, exp := tokenAnswer(t, r)
			secrets.add(tok)
			if exp != 86400 {
				t.Fatalf("expiresIn %v, want 86400", exp)
			}
			if !s.alive(t, lib.ID, tok) {
				t.Fatal("token minted by POST does not renew")
			}
		}
	})

	t.Run("expiresIn is a JSON number in the raw body", func(t *testing.T) {
		r := s.mint(lib, nil)
		if !bytes.Contains(r.Body, []byte(`"expiresIn":86400`)) {
			t.Fatalf("body %s", r.Body)
		}
		secrets.add(r.JSON(t)["accessToken"].(string))
	})

	t.Run("missing and wrong credentials", func(t *testing.T) {
		tests := []struct {
			name   string
			query  url.Values
			status int
			code   string
		}{
			{"nothing", url.Values{}, 400, "EmptyLibraryIdOrSecret"},
			{"both empty", url.Values{"library_id": {""}, "library_secret": {""}}, 400, "EmptyLibraryIdOrSecret"},
			{"secret missing", url.Values{"library_id": {lib.ID}}, 400, "EmptyLibrarySecret"},
			{"secret empty", url.Values{"library_id": {lib.ID}, "library_secret": {""}}, 400, "EmptyLibrarySecret"},
			{"id missing", url.Values{"library_secret": {lib.Secret}}, 400, "EmptyLibraryId"},
			{"id empty", url.Values{"library_id": {""}, "library_secret": {lib.Secret}}, 400, "EmptyLibraryId"},
			{"wrong secret", url.Values{"library_id": {lib.ID}, "library_secret": {"not-the-secret"}}, 404, "WrongLibraryIdOrSecret"},
			{"unknown library", url.Values{"library_id": {"smh0000000000000"}, "library_secret": {lib.Secret}}, 404, "WrongLibraryIdOrSecret"},
			{"malformed library id", url.Values{"library_id": {"nope"}, "library_secret": {lib.Secret}}, 404, "WrongLibraryIdOrSecret"},
			{"secret of another library", url.Values{"library_id": {lib.ID}, "library_secret": {other.Secret}}, 404, "WrongLibraryIdOrSecret"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, method := range []string{"GET", "POST"} {
					expectError(t, s.call(method, "/api/v1/token", tt.query, nil, nil), tt.status, tt.code)
				}
			})
		}
	})

	t.Run("grant", func(t *testing.T) {
		tests := []struct {
			grant string
			ok    bool
		}{
			{"", true},
			{"admin", true},
			{"space_admin", true},
			{"create_space,delete_space", true},
			{"create_directory,delete_directory,delete_directory_permanent,move_directory,copy_directory", true},
			{"upload_file,upload_file_force,begin_upload,begin_upload_force,confirm_upload", true},
			{"create_symlink,create_symlink_force,delete_file,delete_file_permanent", true},
			{"move_file,move_file_force,copy_file,copy_file_force,delete_recycled,restore_recycled", true},
			{"admin,admin", true},
			{"fly", false},
			{"admin,fly", false},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%q", tt.grant), func(t *testing.T) {
				r := s.mint(lib, url.Values{"grant": {tt.grant}})
				if tt.ok {
					tok, _ := tokenAnswer(t, r)
					secrets.add(tok)
					return
				}
				expectError(t, r, 400, "ParamInvalid")
			})
		}
	})

	t.Run("period", func(t *testing.T) {
		tests := []struct {
			period string // "" = omitted
			want   float64
		}{
			{"", 86400},
			{"0", 86400},
			{"-5", 86400},
			{"abc", 86400},
			{"100", 1200},
			{"1199", 1200},
			{"1200", 1200},
			{"5000", 5000},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%q", tt.period), func(t *testing.T) {
				q := url.Values{}
				if tt.period != "" {
					q.Set("period", tt.period)
				}
				tok, exp := tokenAnswer(t, s.mint(lib, q))
				secrets.add(tok)
				if exp != tt.want {
					t.Fatalf("expiresIn %v, want %v", exp, tt.want)
				}
				// Renewal extends by the same period.
				_, exp = tokenAnswer(t, s.renew(lib.ID, tok))
				if exp != tt.want {
					t.Fatalf("renew expiresIn %v, want %v", exp, tt.want)
				}
			})
		}
	})

	t.Run("spaces", func(t *testing.T) {
		tests := []struct {
			name  string
			lib   library
			space *string // nil = omitted
			grant string
			ok    bool
		}{
			{"single-tenant, omitted", lib, nil, "", true},
			{"single-tenant, -", lib, ptr("-"), "", true},
			{"single-tenant, a real id", lib, ptr("a"), "", false},
			{"single-tenant, a list", lib, ptr("-,a"), "", false},
			{"multi-tenant, a,b", multi, ptr("a,b"), "", true},
			{"multi-tenant, one id", multi, ptr("space_1-X"), "", true},
			{"multi-tenant, 64 chars", multi, ptr(strings.Repeat("s", 64)), "", true},
			{"multi-tenant, omitted", multi, nil, "", true},
			{"multi-tenant, omitted, admin", multi, nil, "admin", true},
			{"multi-tenant, -", multi, ptr("-"), "", false},
			{"multi-tenant, a,-", multi, ptr("a,-"), "", false},
			{"multi-tenant, slash", multi, ptr("a/b"), "", false},
			{"multi-tenant, 65 chars", multi, ptr(strings.Repeat("s", 65)), "", false},
			{"multi-tenant, empty item", multi, ptr("a,,b"), "", false},
			{"multi-tenant, dot", multi, ptr("a.b"), "", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q := url.Values{}
				if tt.space != nil {
					q.Set("space_id", *tt.space)
				}
				if tt.grant != "" {
					q.Set("grant", tt.grant)
				}
				r := s.mint(tt.lib, q)
				if tt.ok {
					tok, _ := tokenAnswer(t, r)
					secrets.add(tok)
					return
				}
				expectError(t, r, 400, "SpaceIdInvalid")
			})
		}
	})

	t.Run("no secret or token reaches the log", func(t *testing.T) {
		checkLogs(t, s, &secrets)
	})
}

func ptr(s string) *string { return &s }

func checkLogs(t *testing.T, s *system, secrets *sensitive) {
	t.Helper()
	logs := s.logText()
	if !strings.Contains(logs, `"route":"/api/v1/token`) {
		t.Fatal("the server logged no token request, so the check below would prove nothing")
	}
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	for _, v := range secrets.values {
		if v != "" && strings.Contains(logs, v) {
			t.Errorf("the log holds a secret or token %.8s…", v)
		}
		if esc := url.QueryEscape(v); v != "" && esc != v && strings.Contains(logs, esc) {
			t.Errorf("the log holds an escaped secret or token %.8s…", v)
		}
	}
}

func TestTokenLifecycle(t *testing.T) {
	s := startSystem(t)
	var secrets sensitive
	lib := s.createLibrary("life", nil)
	other := s.createLibrary("other", nil)
	secrets.add(lib.Secret, other.Secret)

	t.Run("sliding expiry", func(t *testing.T) {
		tok, exp := tokenAnswer(t, s.mint(lib, url.Values{"period": {"1200"}}))
		secrets.add(tok)
		if exp != 1200 {
			t.Fatalf("expiresIn %v", exp)
		}
		s.fakeClock().Advance(1199 * time.Second)
		got, exp := tokenAnswer(t, s.renew(lib.ID, tok))
		if got != tok || exp != 1200 {
			t.Fatalf("renew answered %q %v; want the same token and 1200", got, exp)
		}
		s.fakeClock().Advance(1199 * time.Second)
		got, exp = tokenAnswer(t, s.renew(lib.ID, tok))
		if got != tok || exp != 1200 {
			t.Fatalf("second renew answered %q %v", got, exp)
		}
		s.fakeClock().Advance(1201 * time.Second)
		expectError(t, s.renew(lib.ID, tok), 403, "InvalidAccessToken")
		// Expired stays expired.
		expectError(t, s.renew(lib.ID, tok), 403, "InvalidAccessToken")
	})

	t.Run("a token not used for its period expires", func(t *testing.T) {
		tok := s.mustMint(lib, nil)
		secrets.add(tok)
		s.fakeClock().Advance(86400*time.Second - time.Second)
		if !s.alive(t, lib.ID, tok) {
			t.Fatal("token expired before its period")
		}
		s.fakeClock().Advance(86401 * time.Second)
		expectError(t, s.renew(lib.ID, tok), 403, "InvalidAccessToken")
	})

	t.Run("renew refusals", func(t *testing.T) {
		good := s.mustMint(lib, nil)
		foreign := s.mustMint(other, nil)
		secrets.add(good, foreign)
		tests := []struct {
			name, lib, tok string
		}{
			{"unknown token", lib.ID, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
			{"malformed token", lib.ID, "!!!"},
			{"token of another library", lib.ID, foreign},
			{"unknown library", "smh0000000000000", good},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				expectError(t, s.renew(tt.lib, tt.tok), 403, "InvalidAccessToken")
			})
		}
		// The refusals touched neither real token.
		if !s.alive(t, lib.ID, good) || !s.alive(t, other.ID, foreign) {
			t.Fatal("a refused renew damaged a valid token")
		}
	})

	t.Run("renew needs no secret", func(t *testing.T) {
		tok := s.mustMint(lib, nil)
		secrets.add(tok)
		r := s.call("POST", "/api/v1/token/"+lib.ID+"/"+url.PathEscape(tok), nil, nil, nil)
		got, _ := tokenAnswer(t, r)
		if got != tok {
			t.Fatal("renew changed the token")
		}
	})

	t.Run("delete one token", func(t *testing.T) {
		tok := s.mustMint(lib, nil)
		keep := s.mustMint(lib, nil)
		secrets.add(tok, keep)
		r := s.deleteToken(lib.ID, tok)
		if r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("delete: %d %q", r.Status, r.Body)
		}
		expectError(t, s.renew(lib.ID, tok), 403, "InvalidAccessToken")
		expectError(t, s.deleteToken(lib.ID, tok), 403, "InvalidAccessToken")
		if !s.alive(t, lib.ID, keep) {
			t.Fatal("deleting one token deleted another")
		}
	})

	t.Run("delete refusals", func(t *testing.T) {
		tok := s.mustMint(lib, nil)
		secrets.add(tok)
		expectError(t, s.deleteToken(other.ID, tok), 403, "InvalidAccessToken")
		expectError(t, s.deleteToken(lib.ID, "!!!"), 403, "InvalidAccessToken")
		if !s.alive(t, lib.ID, tok) {
			t.Fatal("a refused delete removed the token")
		}
	})

	t.Run("secret reset", func(t *testing.T) {
		l := s.createLibrary("reset", nil)
		secrets.add(l.Secret)
		old := s.mustMint(l, nil)
		secrets.add(old)
		r := s.admin("POST", "/admin/v1/libraries/"+l.ID+"/secret:reset", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("reset: %d %s", r.Status, r.Body)
		}
		newSecret, _ := r.JSON(t)["librarySecret"].(string)
		if newSecret == "" || newSecret == l.Secret {
			t.Fatalf("reset answered secret %q", newSecret)
		}
		secrets.add(newSecret)
		expectError(t, s.mint(l, nil), 404, "WrongLibraryIdOrSecret")
		tok := s.mustMint(library{ID: l.ID, Secret: newSecret}, nil)
		secrets.add(tok)
		// Deleting a user's tokens with the old secret is refused too.
		expectError(t, s.call("DELETE", "/api/v1/token/"+l.ID, url.Values{"library_secret": {l.Secret}}, nil, nil), 404, "WrongLibraryIdOrSecret")
	})

	t.Run("library deletion revokes its tokens", func(t *testing.T) {
		l := s.createLibrary("doomed", nil)
		secrets.add(l.Secret)
		a := s.mustMint(l, nil)
		b := s.mustMint(l, url.Values{"user_id": {"u"}, "grant": {"admin"}})
		secrets.add(a, b)
		r := s.admin("DELETE", "/admin/v1/libraries/"+l.ID, nil)
		if r.Status != http.StatusNoContent {
			t.Fatalf("delete library: %d %s", r.Status, r.Body)
		}
		for _, tok := range []string{a, b} {
			expectError(t, s.renew(l.ID, tok), 403, "InvalidAccessToken")
		}
		r = s.mint(l, nil)
		if r.Status != http.StatusNotFound {
			t.Fatalf("mint for a deleted library: %d %s", r.Status, r.Body)
		}
	})

	t.Run("no secret or token reaches the log", func(t *testing.T) {
		checkLogs(t, s, &secrets)
	})
}

func TestTokenDeleteUserTokens(t *testing.T) {
	s := startSystem(t)
	var secrets sensitive

	type minted struct{ user, client, session string }
	// The same population of tokens is minted in a fresh library for every case.
	population := map[string]minted{
		"u1":       {"u1", "", ""},
		"u1-c1-s1": {"u1", "c1", "s1"},
		"u1-c2-s2": {"u1", "c2", "s2"},
		"u1-c3":    {"u1", "c3", ""},
		"u2-c1":    {"u2", "c1", ""},
		"u3":       {"u3", "", ""},
		"none":     {"", "", ""},
		"none-c1":  {"", "c1", ""},
	}
	all := func(except ...string) []string {
		var out []string
	next:
		for k := range population {
			for _, e := range except {
				if k == e {
					continue next
				}
			}
			out = append(out, k)
		}
		return out
	}
	tests := []struct {
		name    string
		query   url.Values // library_secret is added unless secret is set
		secret  *string
		status  int
		code    string
		revoked []string
	}{
		{name: "user only", query: url.Values{"user_id": {"u1"}}, revoked: []string{"u1", "u1-c1-s1", "u1-c2-s2", "u1-c3"}},
		{name: "one client", query: url.Values{"user_id": {"u1"}, "client_id": {"c1"}}, revoked: []string{"u1-c1-s1"}},
		{name: "explicitly empty client", query: url.Values{"user_id": {"u1"}, "client_id": {""}}, revoked: []string{"u1"}},
		{name: "client list", query: url.Values{"user_id": {"u1"}, "client_id": {"c1,c2"}}, revoked: []string{"u1-c1-s1", "u1-c2-s2"}},
		{name: "session", query: url.Values{"user_id": {"u1"}, "session_id": {"s2"}}, revoked: []string{"u1-c2-s2"}},
		{name: "session list", query: url.Values{"user_id": {"u1"}, "session_id": {"s1,s2"}}, revoked: []string{"u1-c1-s1", "u1-c2-s2"}},
		{name: "explicitly empty session", query: url.Values{"user_id": {"u1"}, "session_id": {""}}, revoked: []string{"u1", "u1-c3"}},
		{name: "client and session", query: url.Values{"user_id": {"u1"}, "client_id": {"c1,c2"}, "session_id": {"s2"}}, revoked: []string{"u1-c2-s2"}},
		{name: "user absent", query: url.Values{}, revoked: []string{"none", "none-c1"}},
		{name: "user empty", query: url.Values{"user_id": {""}}, revoked: []string{"none", "none-c1"}},
		{name: "user empty, client c1", query: url.Values{"user_id": {""}, "client_id": {"c1"}}, revoked: []string{"none-c1"}},
		{name: "user list", query: url.Values{"user_id": {"u1,u2"}}, revoked: []string{"u1", "u1-c1-s1", "u1-c2-s2", "u1-c3", "u2-c1"}},
		{name: "user list and client", query: url.Values{"user_id": {"u1,u2"}, "client_id": {"c1"}}, revoked: []string{"u1-c1-s1", "u2-c1"}},
		{name: "unknown user", query: url.Values{"user_id": {"nobody"}}},
		{name: "wrong secret", query: url.Values{"user_id": {"u1"}}, secret: ptr("wrong"), status: 404, code: "WrongLibraryIdOrSecret"},
		{name: "missing secret", query: url.Values{"user_id": {"u1"}}, secret: ptr(""), status: 400, code: "EmptyLibrarySecret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lib := s.createLibrary("users", nil)
			victim := s.createLibrary("bystander", nil)
			secrets.add(lib.Secret, victim.Secret)
			tokens := map[string]string{}
			for k, m := range population {
				q := url.Values{}
				if m.user != "" {
					q.Set("user_id", m.user)
				}
				if m.client != "" {
					q.Set("client_id", m.client)
				}
				if m.session != "" {
					q.Set("session_id", m.session)
				}
				tokens[k] = s.mustMint(lib, q)
				secrets.add(tokens[k])
			}
			// A token of the same user in another library is never touched.
			bystander := s.mustMint(victim, url.Values{"user_id": {"u1"}})
			bystanderEmpty := s.mustMint(victim, nil)
			secrets.add(bystander, bystanderEmpty)

			q := url.Values{}
			for k, v := range tt.query {
				q[k] = v
			}
			switch {
			case tt.secret == nil:
				q.Set("library_secret", lib.Secret)
			case *tt.secret != "":
				q.Set("library_secret", *tt.secret)
			}
			r := s.call("DELETE", "/api/v1/token/"+lib.ID, q, nil, nil)
			if tt.status != 0 {
				expectError(t, r, tt.status, tt.code)
			} else if r.Status != http.StatusNoContent || len(r.Body) != 0 {
				t.Fatalf("delete: %d %q", r.Status, r.Body)
			}
			revoked := map[string]bool{}
			for _, k := range tt.revoked {
				revoked[k] = true
			}
			for _, k := range all() {
				if got := s.alive(t, lib.ID, tokens[k]); got == revoked[k] {
					t.Errorf("token %s: alive=%v, want alive=%v", k, got, !revoked[k])
				}
			}
			if !s.alive(t, victim.ID, bystander) || !s.alive(t, victim.ID, bystanderEmpty) {
				t.Error("tokens of another library were deleted")
			}
		})
	}

	t.Run("no secret or token reaches the log", func(t *testing.T) {
		checkLogs(t, s, &secrets)
	})
}

// rawCall is a goroutine-safe request (no t.Fatal) answering status and body.
func (s *system) rawCall(method, path string, query url.Values) (int, []byte, error) {
	u := s.url + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func TestTokenConcurrency(t *testing.T) {
	s := startSystem(t)
	lib := s.createLibrary("busy", nil)
	const workers = 32
	const rounds = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*2)
	tokens := make(chan string, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				q := url.Values{"library_id": {lib.ID}, "library_secret": {lib.Secret}, "user_id": {fmt.Sprintf("u%d", w)}, "client_id": {fmt.Sprintf("c%d", i)}}
				status, body, err := s.rawCall("GET", "/api/v1/token", q)
				if err != nil || status != http.StatusOK {
					errs <- fmt.Errorf("mint: %d %s %v", status, body, err)
					continue
				}
				var m struct {
					AccessToken string `json:"accessToken"`
					ExpiresIn   int    `json:"expiresIn"`
				}
				if err := json.Unmarshal(body, &m); err != nil || m.AccessToken == "" || m.ExpiresIn != 86400 {
					errs <- fmt.Errorf("mint body %s", body)
					continue
				}
				tokens <- m.AccessToken
				status, body, err = s.rawCall("POST", "/api/v1/token/"+lib.ID+"/"+url.PathEscape(m.AccessToken), nil)
				if err != nil || status != http.StatusOK {
					errs <- fmt.Errorf("renew: %d %s %v", status, body, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(tokens)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for tok := range tokens {
		if seen[tok] {
			t.Fatal("two mints answered the same token")
		}
		seen[tok] = true
	}
	if len(seen) != workers*rounds {
		t.Fatalf("%d tokens, want %d", len(seen), workers*rounds)
	}
	// Every token is live afterwards.
	for tok := range seen {
		if !s.alive(t, lib.ID, tok) {
			t.Fatal("a concurrently minted token is not alive")
		}
	}
}
