package cli

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/opensmh/opensmh/pkg/config"
	"github.com/opensmh/opensmh/services/smh/client"
)

// remote is an address of a file or directory on the server: LIBRARY[/SPACE]:path
// (docs/cli.md). Path is relative to the space root, "" for the root.
type remote struct {
	Library, Space, Path string
	// Dir is set when the argument ended in a slash: the address names a directory.
	Dir bool
}

func (r remote) String() string {
	s := r.Library
	if r.Space != "" && r.Space != "-" {
		s += "/" + r.Space
	}
	return s + ":" + r.Path
}

// join answers the address of name inside r.
func (r remote) join(name string) remote {
	r.Path = strings.TrimPrefix(path.Join(r.Path, name), "/")
	r.Dir = false
	return r
}

// remotePattern: a library id (letters, digits, - and _), an optional space id, a colon. A local
// file whose name has a colon before any slash is written ./name.
var remotePattern = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_-]*)(?:/([A-Za-z0-9_-]+))?:(.*)$`)

// parseRemote reads arg as a remote address; ok is false for a local path.
func parseRemote(arg string) (r remote, ok bool, err error) {
	m := remotePattern.FindStringSubmatch(arg)
	if m == nil {
		return remote{}, false, nil
	}
	p := m[3]
	r = remote{Library: m[1], Space: m[2], Dir: p == "" || strings.HasSuffix(p, "/")}
	if r.Space == "" {
		r.Space = "-"
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return remote{}, true, usagef("%q: a remote path has no . or .. segments", arg)
		}
	}
	r.Path = strings.Trim(path.Clean("/"+p), "/")
	return r, true, nil
}

// mustRemote reads arg as a remote address or fails with a usage error.
func mustRemote(arg string) (remote, error) {
	r, ok, err := parseRemote(arg)
	if err != nil {
		return remote{}, err
	}
	if !ok {
		return remote{}, usagef("%q is not a remote address LIBRARY[/SPACE]:path", arg)
	}
	return r, nil
}

// fileFlags are the connection and credential flags of the business commands. The credential is an
// access token, or the library secret, with which the command mints a short-lived admin token for
// itself and revokes it when it ends.
type fileFlags struct {
	url, caCert, token, secret, user string
	json                             bool
}

func (f *fileFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.url, "url", "https://127.0.0.1:8443", "base URL of the server (env SMH_URL)")
	fs.StringVar(&f.caCert, "ca-cert", "", "CA certificate to trust, e.g. data/tls/ca.pem (env SMH_CA_CERT)")
	fs.StringVar(&f.token, "token", "", "access token (env SMH_TOKEN)")
	fs.StringVar(&f.secret, "library-secret", "", "library secret, to mint a token for this command (env SMH_LIBRARY_SECRET)")
	fs.StringVar(&f.user, "user", "", "user id of the token minted with --library-secret (env SMH_USER)")
	fs.BoolVar(&f.json, "json", false, "print JSON for scripts")
	cmd.ValidArgsFunction = f.complete
}

// session is one command's connection: the client and the token it calls with.
type session struct {
	c       *client.Client
	library string
	token   string
	minted  bool
	// stopRenewing ends the renewal of the token.
	stopRenewing context.CancelFunc
}

// renewEvery is how often a session renews its token. Every API call renews a token, but a
// transfer talks to the data endpoint for as long as it takes: without this a token minted for
// 20 minutes would expire under a long upload before its confirm.
const renewEvery = 5 * time.Minute

// open connects for calls to the library of the addresses; all must be in one library.
func (f *fileFlags) open(cmd *cobra.Command, rs ...remote) (*session, error) {
	if err := config.BindEnv(cmd.Flags()); err != nil {
		return nil, usagef("%v", err)
	}
	for _, r := range rs[1:] {
		if r.Library != rs[0].Library {
			return nil, usagef("%s and %s are in different libraries", rs[0], r)
		}
	}
	c, err := newClient(f.url, "", f.caCert)
	if err != nil {
		return nil, err
	}
	s := &session{c: c, library: rs[0].Library, token: f.token}
	if f.token == "" && f.secret != "" {
		t, err := c.MintToken(cmd.Context(), s.library, f.secret, client.TokenRequest{
			Grant: "admin", UserID: f.user, ClientID: "smh-cli", Period: 1200})
		if err != nil {
			return nil, err
		}
		s.token, s.minted = t.AccessToken, true
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	s.stopRenewing = cancel
	if s.token != "" {
		go s.renew(ctx)
	}
	return s, nil
}

// renew keeps the session's token alive until ctx ends; a failed renewal is left to the next
// call to report.
func (s *session) renew(ctx context.Context) {
	t := time.NewTicker(renewEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.c.RenewToken(ctx, s.library, s.token)
		}
	}
}

// close stops the renewal and revokes a token the session minted.
func (s *session) close() {
	s.stopRenewing()
	if !s.minted {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.c.RevokeToken(ctx, s.library, s.token)
}

// space answers the handle on r's space.
func (s *session) space(r remote) *client.Space {
	return s.c.Space(r.Library, r.Space, s.token)
}

// withSession opens a session for the addresses, runs fn and closes it.
func (f *fileFlags) withSession(cmd *cobra.Command, rs []remote, fn func(*session) error) error {
	s, err := f.open(cmd, rs...)
	if err != nil {
		return err
	}
	defer s.close()
	err = fn(s)
	if errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
		return errors.New("interrupted; run the same command again to resume")
	}
	return err
}

// stateDir is where put keeps its resume records (env SMH_STATE_DIR, else the user's cache).
func stateDir() string {
	if d := os.Getenv("SMH_STATE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "smh", "uploads")
	}
	return ""
}

// complete completes an argument of a file command: a remote address LIBRARY[/SPACE]:path by
// listing the directory it names so far (directories end in a slash), anything else as a local
// file. Credentials come from the same flags and environment as the command's.
func (f *fileFlags) complete(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	colon := strings.IndexByte(toComplete, ':')
	if colon < 0 || !remotePattern.MatchString(toComplete) {
		return nil, cobra.ShellCompDirectiveDefault
	}
	typed := toComplete[colon+1:]
	dirPart, namePrefix := "", typed
	if i := strings.LastIndexByte(typed, '/'); i >= 0 {
		dirPart, namePrefix = typed[:i+1], typed[i+1:]
	}
	r, _, err := parseRemote(toComplete[:colon+1] + dirPart)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []string
	err = f.withSession(cmd, []remote{r}, func(s *session) error {
		return s.space(r).List(cmd.Context(), r.Path, func(e client.Entry) error {
			if strings.HasPrefix(e.Name, namePrefix) {
				name := toComplete[:colon+1] + dirPart + e.Name
				if e.IsDir() {
					name += "/"
				}
				out = append(out, name)
			}
			return nil
		})
	})
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}
