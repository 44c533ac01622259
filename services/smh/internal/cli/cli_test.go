package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/services/smh/server"
)

const testAdminKey = "cli-test-operator-key-0123456789"

// startServer boots the all-in-one on a free port for the CLI to call.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Options{
		DataDir:     t.TempDir(),
		Listen:      "127.0.0.1:0",
		AdminKey:    testAdminKey,
		EtcdNoFsync: true,
		Out:         io.Discard,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return srv
}

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

func run(args ...string) result {
	var out, errOut bytes.Buffer
	code := Main(args, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// ok runs the command, expects exit 0 and decodes stdout when it holds JSON.
func ok(t *testing.T, args ...string) map[string]any {
	t.Helper()
	r := run(args...)
	if r.code != 0 {
		t.Fatalf("smh %s: exit %d\nstdout %s\nstderr %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	if strings.TrimSpace(r.stdout) == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("smh %s: stdout is not a JSON object: %q", strings.Join(args, " "), r.stdout)
	}
	return m
}

// apiFail runs the command and expects exit 1 with the SMH code on stderr.
func apiFail(t *testing.T, code string, args ...string) {
	t.Helper()
	r := run(args...)
	if r.code != 1 {
		t.Fatalf("smh %s: exit %d, want 1\nstdout %s\nstderr %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, code) {
		t.Fatalf("smh %s: stderr %q does not name %s", strings.Join(args, " "), r.stderr, code)
	}
}

var tokenPattern = regexp.MustCompile(`^acctk[0-9a-f]{64}$`)

var idPattern = regexp.MustCompile(`^smh[0-9a-z]{13}$`)

func TestCLI(t *testing.T) {
	srv := startServer(t)
	conn := []string{"--url", srv.URL, "--admin-key", testAdminKey, "--ca-cert", srv.CACert}
	with := func(args ...string) []string { return append(args, conn...) }
	// withTok puts the token last, as the documented form "smh token renew --library ID TOKEN" does.
	withTok := func(tok string, args ...string) []string { return append(with(args...), tok) }

	var libID, secret string
	t.Run("library create", func(t *testing.T) {
		m := ok(t, with("library", "create", "--name", "x", "--remark", "made by the cli")...)
		libID, _ = m["libraryId"].(string)
		secret, _ = m["librarySecret"].(string)
		if !idPattern.MatchString(libID) || secret == "" || m["name"] != "x" || m["remark"] != "made by the cli" {
			t.Fatalf("create printed %v", m)
		}
	})

	t.Run("library create with mode flags and extension", func(t *testing.T) {
		m := ok(t, with("library", "create", "--name", "multi", "--multi-space", "--file-library", "--extension", `{"useRecycleBin":true}`)...)
		ext := m["libraryExtension"].(map[string]any)
		if ext["isMultiSpace"] != true || ext["isFileLibrary"] != true || ext["useRecycleBin"] != true {
			t.Fatalf("extension %v", ext)
		}
	})

	t.Run("library list", func(t *testing.T) {
		m := ok(t, with("library", "list")...)
		if m["totalCount"] != float64(2) {
			t.Fatalf("totalCount %v", m["totalCount"])
		}
		list := m["list"].([]any)
		// Newest first: the library created first is last.
		if len(list) != 2 || list[1].(map[string]any)["libraryId"] != libID {
			t.Fatalf("list %v", list)
		}
		m = ok(t, with("library", "list", "--page", "2", "--page-size", "1")...)
		if l := m["list"].([]any); len(l) != 1 || l[0].(map[string]any)["libraryId"] != libID {
			t.Fatalf("page 2 of 1: %v", m)
		}
	})

	t.Run("library show", func(t *testing.T) {
		m := ok(t, with("library", "show", libID)...)
		if m["libraryId"] != libID || m["name"] != "x" {
			t.Fatalf("show printed %v", m)
		}
		if s, _ := m["librarySecret"].(string); s != "" {
			t.Fatal("show prints the secret")
		}
	})

	t.Run("library update", func(t *testing.T) {
		m := ok(t, with("library", "update", libID, "--name", "renamed")...)
		if m["name"] != "renamed" || m["remark"] != "made by the cli" {
			t.Fatalf("update printed %v", m)
		}
		m = ok(t, with("library", "update", libID, "--extension", `{"enableSearch":true}`)...)
		if m["libraryExtension"].(map[string]any)["enableSearch"] != true {
			t.Fatalf("extension update printed %v", m)
		}
		if m := ok(t, with("library", "show", libID)...); m["name"] != "renamed" {
			t.Fatalf("show after update %v", m)
		}
		apiFail(t, "ImmutableLibraryField", with("library", "update", libID, "--extension", `{"isMultiSpace":true}`)...)
	})

	t.Run("library secret", func(t *testing.T) {
		m := ok(t, with("library", "secret", libID)...)
		if m["libraryId"] != libID || m["librarySecret"] != secret {
			t.Fatalf("secret printed %v", m)
		}
		m = ok(t, with("library", "secret", libID, "--reset")...)
		fresh, _ := m["librarySecret"].(string)
		if fresh == "" || fresh == secret {
			t.Fatalf("reset printed %v", m)
		}
		if m := ok(t, with("library", "secret", libID)...); m["librarySecret"] != fresh {
			t.Fatalf("secret after reset %v", m)
		}
		apiFail(t, "WrongLibraryIdOrSecret", with("token", "create", "--library", libID, "--library-secret", secret)...)
		secret = fresh
	})

	t.Run("library secret --reset --revoke-tokens", func(t *testing.T) {
		tok := ok(t, with("token", "create", "--library", libID, "--library-secret", secret, "--user", "u")...)["accessToken"].(string)
		alive := func(tok string) bool {
			return run(withTok(tok, "token", "renew", "--library", libID)...).code == 0
		}
		if r := run(with("library", "secret", libID, "--revoke-tokens")...); r.code != 2 {
			t.Fatalf("--revoke-tokens without --reset: exit %d %s", r.code, r.stderr)
		}
		m := ok(t, with("library", "secret", libID, "--reset")...)
		secret = m["librarySecret"].(string)
		if !alive(tok) {
			t.Fatal("a reset without --revoke-tokens revoked a token")
		}
		m = ok(t, with("library", "secret", libID, "--reset", "--revoke-tokens")...)
		fresh, _ := m["librarySecret"].(string)
		if fresh == "" || fresh == secret || m["libraryId"] != libID {
			t.Fatalf("reset --revoke-tokens printed %v", m)
		}
		secret = fresh
		apiFail(t, "InvalidAccessToken", withTok(tok, "token", "renew", "--library", libID)...)
		newTok := ok(t, with("token", "create", "--library", libID, "--library-secret", secret)...)["accessToken"].(string)
		if !alive(newTok) {
			t.Fatal("a token of the new secret does not work")
		}
	})

	t.Run("token create, renew, revoke", func(t *testing.T) {
		m := ok(t, with("token", "create", "--library", libID, "--library-secret", secret, "--period", "5000", "--grant", "admin")...)
		tok, _ := m["accessToken"].(string)
		if tok == "" || m["expiresIn"] != float64(5000) {
			t.Fatalf("create printed %v", m)
		}
		m = ok(t, withTok(tok, "token", "renew", "--library", libID)...)
		if m["accessToken"] != tok || m["expiresIn"] != float64(5000) {
			t.Fatalf("renew printed %v", m)
		}
		if r := run(withTok(tok, "token", "revoke", "--library", libID)...); r.code != 0 {
			t.Fatalf("revoke: exit %d %s", r.code, r.stderr)
		}
		apiFail(t, "InvalidAccessToken", withTok(tok, "token", "renew", "--library", libID)...)
		apiFail(t, "InvalidAccessToken", withTok(tok, "token", "revoke", "--library", libID)...)
		apiFail(t, "ParamInvalid", with("token", "create", "--library", libID, "--library-secret", secret, "--grant", "fly")...)
	})

	// The documented form "smh token renew --library ID TOKEN" takes the token as an argument, so
	// a token must never look like a flag: tokens are "acctk" and hex.
	t.Run("tokens never look like flags", func(t *testing.T) {
		for range 50 {
			m := ok(t, with("token", "create", "--library", libID, "--library-secret", secret)...)
			if tok, _ := m["accessToken"].(string); !tokenPattern.MatchString(tok) {
				t.Fatalf("token %q is not acctk + 64 hex characters", tok)
			}
		}
	})

	t.Run("token revoke of a user's tokens", func(t *testing.T) {
		mint := func(extra ...string) string {
			t.Helper()
			m := ok(t, with(append([]string{"token", "create", "--library", libID, "--library-secret", secret}, extra...)...)...)
			return m["accessToken"].(string)
		}
		noClient := mint("--user", "u")
		c1 := mint("--user", "u", "--client", "c1")
		otherUser := mint("--user", "v")
		alive := func(tok string) bool {
			return run(withTok(tok, "token", "renew", "--library", libID)...).code == 0
		}
		// An explicitly empty --client selects the user's tokens minted without a client id.
		if r := run(with("token", "revoke", "--library", libID, "--library-secret", secret, "--user", "u", "--client", "")...); r.code != 0 {
			t.Fatalf("revoke --client \"\": exit %d %s", r.code, r.stderr)
		}
		if alive(noClient) || !alive(c1) || !alive(otherUser) {
			t.Fatalf("after --client \"\": noClient %v c1 %v otherUser %v", alive(noClient), alive(c1), alive(otherUser))
		}
		if r := run(with("token", "revoke", "--library", libID, "--library-secret", secret, "--user", "u")...); r.code != 0 {
			t.Fatalf("revoke --user: exit %d %s", r.code, r.stderr)
		}
		if alive(c1) || !alive(otherUser) {
			t.Fatalf("after --user u: c1 %v otherUser %v", alive(c1), alive(otherUser))
		}
		apiFail(t, "WrongLibraryIdOrSecret", with("token", "revoke", "--library", libID, "--library-secret", "wrong", "--user", "v")...)
		if !alive(otherUser) {
			t.Fatal("a refused revoke deleted a token")
		}
	})

	t.Run("API errors exit 1 with the code", func(t *testing.T) {
		apiFail(t, "LibraryNotFound", with("library", "show", "smh0000000000000")...)
		apiFail(t, "LibraryNotFound", with("library", "delete", "smh0000000000000")...)
		apiFail(t, "InvalidAdminKey", "library", "list", "--url", srv.URL, "--admin-key", "wrong", "--ca-cert", srv.CACert)
	})

	t.Run("usage errors exit 2", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
		}{
			{"unknown flag", with("library", "list", "--no-such-flag")},
			{"unknown flag on root", []string{"--no-such-flag"}},
			{"missing argument", with("library", "show")},
			{"too many arguments", with("library", "show", "a", "b")},
			{"plain http url", []string{"library", "create", "--name", "x", "--url", "http://" + strings.TrimPrefix(srv.URL, "https://"), "--admin-key", testAdminKey}},
			{"url without a scheme", []string{"library", "list", "--url", "127.0.0.1:1", "--admin-key", testAdminKey}},
			{"update with nothing to change", with("library", "update", "smh0000000000000")},
			{"extension not JSON", with("library", "create", "--name", "x", "--extension", "{")},
			// Checked against the contract before anything is sent: a misspelt field is not dropped.
			{"extension field the contract lacks", with("library", "create", "--name", "x", "--extension", `{"useRecycleBn":true}`)},
			{"extension field of the wrong type", with("library", "update", "smh0000000000000", "--extension", `{"enableSearch":"yes"}`)},
			{"token create without a library", with("token", "create", "--library-secret", "s")},
			{"token revoke with neither token nor user", with("token", "revoke", "--library", "smh0000000000000")},
			{"bad integer flag", with("library", "list", "--page", "one")},
			{"unknown command", []string{"no-such-command"}},
			{"unknown library subcommand", with("library", "no-such-command")},
			{"serve with no grace period", []string{"serve", "--gc-grace", "0"}},
			{"serve with cleanup every 0", []string{"serve", "--gc-every", "0"}},
			{"serve with a bad duration", []string{"serve", "--upload-ticket-ttl", "soon"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := run(tt.args...)
				if r.code != 2 {
					t.Fatalf("exit %d, want 2\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
				}
				if strings.TrimSpace(r.stderr) == "" {
					t.Fatal("a usage error printed nothing on stderr")
				}
			})
		}
	})

	t.Run("missing admin key is a usage error", func(t *testing.T) {
		t.Setenv("SMH_ADMIN_KEY", "")
		r := run("library", "list", "--url", srv.URL, "--ca-cert", srv.CACert)
		if r.code != 2 {
			t.Fatalf("exit %d, want 2; stderr %s", r.code, r.stderr)
		}
	})

	t.Run("untrusted server certificate is an error", func(t *testing.T) {
		t.Setenv("SMH_CA_CERT", "")
		r := run("library", "list", "--url", srv.URL, "--admin-key", testAdminKey)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
		}
	})

	t.Run("environment instead of flags", func(t *testing.T) {
		t.Setenv("SMH_URL", srv.URL)
		t.Setenv("SMH_ADMIN_KEY", testAdminKey)
		t.Setenv("SMH_CA_CERT", srv.CACert)
		m := ok(t, "library", "show", libID)
		if m["libraryId"] != libID {
			t.Fatalf("show via env printed %v", m)
		}
		m = ok(t, "token", "create", "--library", libID, "--library-secret", secret)
		if m["accessToken"] == nil {
			t.Fatalf("token via env printed %v", m)
		}
		// Flags win over the environment.
		t.Setenv("SMH_ADMIN_KEY", "wrong")
		ok(t, "library", "show", libID, "--admin-key", testAdminKey)
		apiFail(t, "InvalidAdminKey", "library", "show", libID)
	})

	t.Run("library delete", func(t *testing.T) {
		r := run(with("library", "delete", libID)...)
		if r.code != 0 {
			t.Fatalf("delete: exit %d %s", r.code, r.stderr)
		}
		apiFail(t, "LibraryNotFound", with("library", "show", libID)...)
		apiFail(t, "LibraryNotFound", with("library", "delete", libID)...)
	})

	t.Run("version", func(t *testing.T) {
		r := run("version")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "smh ") || len(strings.TrimSpace(r.stdout)) <= len("smh") {
			t.Fatalf("version: exit %d %q", r.code, r.stdout)
		}
		if r := run("version", "extra"); r.code != 2 {
			t.Fatalf("version with an argument: exit %d", r.code)
		}
	})
}
