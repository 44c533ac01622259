// Package split runs OpenSMH as a split deployment: a real etcd process and the library,
// authtoken and gateway binaries as separate processes that find each other through etcd.
package split

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// binDir holds the service binaries built once for the package.
var binDir string

func TestMain(m *testing.M) {
	dir, err := proc.Build(
		"github.com/opensmh/opensmh/services/library/cmd/library",
		"github.com/opensmh/opensmh/services/authtoken/cmd/authtoken",
		"github.com/opensmh/opensmh/services/namespace/cmd/namespace",
		"github.com/opensmh/opensmh/services/gateway/cmd/gateway")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestSplitDeployment(t *testing.T) {
	etcdBin, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatalf("the split-deployment test needs an etcd binary on PATH (apt-get install etcd-server): %v", err)
	}
	tmp := t.TempDir()
	etcdURL, peerURL := "http://"+proc.FreeAddr(t), "http://"+proc.FreeAddr(t)
	proc.Start(t, "etcd", nil, etcdBin,
		"--name", "split", "--data-dir", filepath.Join(tmp, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "split="+peerURL)
	proc.WaitFor(t, "etcd", 30*time.Second, func() bool {
		resp, err := http.Get(etcdURL + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	adminKey := "split-operator-key-0123456789"
	gwAddr, libAddr, tokAddr, nsAddr := proc.FreeAddr(t), proc.FreeAddr(t), proc.FreeAddr(t), proc.FreeAddr(t)
	publicURL := "https://" + gwAddr
	env := []string{
		"SMH_ADMIN_KEY=" + adminKey,
		"SMH_SECRET_KEK=" + base64.StdEncoding.EncodeToString(kek),
		"SMH_ETCD_ENDPOINTS=" + etcdURL,
		"SMH_LOG_LEVEL=debug",
	}
	bin := func(name string) string { return filepath.Join(binDir, name) }
	library := proc.Start(t, "library", env, bin("library"), "--listen", libAddr, "--public-url", publicURL)
	tokenArgs := []string{"--listen", tokAddr}
	authtoken := proc.Start(t, "authtoken", env, bin("authtoken"), tokenArgs...)
	namespace := proc.Start(t, "namespace", env, bin("namespace"), "--listen", nsAddr, "--sql-dsn", filepath.Join(tmp, "namespace.db"))
	gateway := proc.Start(t, "gateway", env, bin("gateway"), "--listen", gwAddr, "--data-dir", filepath.Join(tmp, "gw"))

	caFile := filepath.Join(tmp, "gw", "tls", tlsx.CACertFile)
	proc.WaitFor(t, "the gateway's CA certificate", 30*time.Second, func() bool { _, err := os.Stat(caFile); return err == nil })
	pool, err := tlsx.CertPool(caFile)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	call := func(method, path string, q url.Values, body string, admin bool) (int, map[string]any) {
		t.Helper()
		u := publicURL + path
		if q != nil {
			u += "?" + q.Encode()
		}
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, u, rd)
		if admin {
			req.Header.Set("Authorization", "Bearer "+adminKey)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	healthy := func() bool { code, _ := call("GET", "/healthz", nil, "", false); return code == http.StatusOK }
	proc.WaitFor(t, "the gateway to report every service healthy", 60*time.Second, healthy)

	code, lib := call("POST", "/admin/v1/libraries", nil, `{"name":"split"}`, true)
	if code != http.StatusCreated {
		t.Fatalf("create library: %d %v", code, lib)
	}
	libID, secret := lib["libraryId"].(string), lib["librarySecret"].(string)
	mint := func(user string) string {
		t.Helper()
		code, m := call("GET", "/api/v1/token", url.Values{"library_id": {libID}, "library_secret": {secret}, "user_id": {user}}, "", false)
		if code != http.StatusOK {
			t.Fatalf("mint: %d %v", code, m)
		}
		return m["accessToken"].(string)
	}
	renew := func(tok string) int {
		code, _ := call("POST", "/api/v1/token/"+libID+"/"+tok, nil, "", false)
		return code
	}

	// Mint, use, revoke.
	tok := mint("alice")
	if c := renew(tok); c != http.StatusOK {
		t.Fatalf("renew: %d", c)
	}
	if c, m := call("DELETE", "/api/v1/token/"+libID, url.Values{"library_secret": {secret}, "user_id": {"alice"}}, "", false); c != http.StatusNoContent {
		t.Fatalf("revoke alice: %d %v", c, m)
	}
	if c := renew(tok); c != http.StatusForbidden {
		t.Fatalf("revoked token renewed: %d", c)
	}

	// gRPC on the gateway's port reaches the authtoken process through the gateway's proxy.
	survivor := mint("bob")
	conn, err := grpc.NewClient(gwAddr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	renewed, err := tokenv1.NewTokenServiceClient(conn).RenewToken(ctx, &tokenv1.RenewTokenRequest{LibraryId: libID, AccessToken: survivor})
	if err != nil || renewed.GetAccessToken() != survivor {
		t.Fatalf("gRPC renew through the gateway: %v %v", renewed, err)
	}

	// The namespace process serves spaces through the gateway, validating tokens from its own
	// cache that authtoken's revocation stream keeps honest.
	code, multi := call("POST", "/admin/v1/libraries", nil, `{"name":"tenants","libraryExtension":{"isMultiSpace":true}}`, true)
	if code != http.StatusCreated {
		t.Fatalf("create multi-tenant library: %d %v", code, multi)
	}
	multiID, multiSecret := multi["libraryId"].(string), multi["librarySecret"].(string)
	code, m := call("GET", "/api/v1/token", url.Values{"library_id": {multiID}, "library_secret": {multiSecret}, "grant": {"admin"}}, "", false)
	if code != http.StatusOK {
		t.Fatalf("mint admin token: %d %v", code, m)
	}
	spaceAdmin := m["accessToken"].(string)
	if code, m := call("POST", "/api/v1/space/"+multiID, url.Values{"access_token": {spaceAdmin}, "space_id": {"team"}}, "", false); code != http.StatusCreated || m["spaceId"] != "team" {
		t.Fatalf("create space through the split deployment: %d %v", code, m)
	}
	if code, _ := call("DELETE", "/api/v1/token/"+multiID+"/"+spaceAdmin, nil, "", false); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	proc.WaitFor(t, "the namespace process to refuse a revoked token", 10*time.Second, func() bool {
		code, _ := call("GET", "/api/v1/space/"+multiID+"/count", url.Values{"access_token": {spaceAdmin}}, "", false)
		return code == http.StatusForbidden
	})

	// A crash of authtoken loses nothing: a new process serves the same tokens.
	authtoken.Kill(t)
	authtoken = proc.Start(t, "authtoken (restarted)", env, bin("authtoken"), tokenArgs...)
	proc.WaitFor(t, "the restarted authtoken", 60*time.Second, func() bool { return renew(survivor) == http.StatusOK })
	if c := renew(tok); c != http.StatusForbidden {
		t.Fatalf("revoked token accepted after restart: %d", c)
	}

	// Clean shutdown: each process exits 0 on SIGTERM.
	for _, p := range []*proc.Proc{gateway, namespace, authtoken, library} {
		if code := p.Stop(t, syscall.SIGTERM); code != 0 {
			t.Errorf("%s exit code %d", p.Name, code)
		}
	}
	for _, p := range []*proc.Proc{gateway, namespace, authtoken, library} {
		scanner := bufio.NewScanner(strings.NewReader(p.Output()))
		for scanner.Scan() {
			line := scanner.Text()
			if strings.Contains(line, secret) || strings.Contains(line, survivor) || strings.Contains(line, tok) || strings.Contains(line, adminKey) {
				t.Errorf("%s logged a secret or token: %s", p.Name, line)
			}
		}
	}
}
