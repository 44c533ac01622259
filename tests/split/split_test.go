// Package split runs OpenSMH as a split deployment: a real etcd process and the library,
// authtoken, namespace, object and gateway binaries as separate processes that find each other
// through etcd.
package split

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/tests/internal/cluster"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// binDir holds the service binaries built once for the package.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(proc.RunWithBinaries(m, &binDir, proc.ServiceCommands...))
}

func TestSplitDeployment(t *testing.T) {
	etcdBin := cluster.EtcdBinary(t)
	tmp := t.TempDir()
	etcdURL := cluster.StartEtcd(t, etcdBin, tmp).ClientURL

	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	adminKey := "split-operator-key-0123456789"
	gwAddr, libAddr, tokAddr, nsAddr := proc.FreeAddr(t), proc.FreeAddr(t), proc.FreeAddr(t), proc.FreeAddr(t)
	objAddr, dataAddr := proc.FreeAddr(t), proc.FreeAddr(t)
	publicURL := "https://" + gwAddr
	// File bytes have an origin of their own (--data-url), as production should have: another
	// host name on the gateway's port.
	_, gwPort, _ := strings.Cut(gwAddr, ":")
	dataHost := "localhost:" + gwPort
	dataURL := "https://" + dataHost
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
	// --public-url: share links name the gateway (issue 13).
	namespace := proc.Start(t, "namespace", env, bin("namespace"), "--listen", nsAddr, "--sql-dsn", filepath.Join(tmp, "namespace.db"),
		"--public-url", publicURL)
	// Tickets and download URLs name the download origin; the gateway proxies the data endpoint
	// there to the object process.
	object := proc.Start(t, "object", env, bin("object"), "--listen", objAddr, "--data-listen", dataAddr, "--domain", dataHost,
		"--sql-dsn", filepath.Join(tmp, "object.db"), "--blob-dir", filepath.Join(tmp, "blobs"))
	gateway := proc.Start(t, "gateway", env, bin("gateway"), "--listen", gwAddr, "--data-dir", filepath.Join(tmp, "gw"),
		"--object-data-url", "http://"+dataAddr, "--data-url", dataURL)

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
	if _, h := call("GET", "/healthz", nil, "", false); fmt.Sprint(h["services"]) != "map[authtoken:serving library:serving namespace:serving object:serving]" {
		t.Fatalf("/healthz: %v", h)
	}

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

	// A secret reset with revokeTokens reaches the namespace process's cache too: a token it
	// has just served is refused there, a token of the new secret is served.
	code, m = call("GET", "/api/v1/token", url.Values{"library_id": {multiID}, "library_secret": {multiSecret}, "grant": {"admin"}}, "", false)
	if code != http.StatusOK {
		t.Fatalf("mint admin token: %d %v", code, m)
	}
	beforeReset := m["accessToken"].(string)
	countSpaces := func(tok string) int {
		code, _ := call("GET", "/api/v1/space/"+multiID+"/count", url.Values{"access_token": {tok}}, "", false)
		return code
	}
	if code := countSpaces(beforeReset); code != http.StatusOK {
		t.Fatalf("count spaces before the reset: %d", code)
	}
	code, reset := call("POST", "/admin/v1/libraries/"+multiID+"/secret:reset", nil, `{"revokeTokens":true}`, true)
	if code != http.StatusOK || reset["librarySecret"] == multiSecret {
		t.Fatalf("reset with revokeTokens: %d %v", code, reset)
	}
	multiSecret = reset["librarySecret"].(string)
	proc.WaitFor(t, "the namespace process to refuse a token of the reset secret", 10*time.Second, func() bool {
		return countSpaces(beforeReset) == http.StatusForbidden
	})
	code, m = call("GET", "/api/v1/token", url.Values{"library_id": {multiID}, "library_secret": {multiSecret}, "grant": {"admin"}}, "", false)
	if code != http.StatusOK {
		t.Fatalf("mint with the new secret: %d %v", code, m)
	}
	if code := countSpaces(m["accessToken"].(string)); code != http.StatusOK {
		t.Fatalf("a token of the new secret: %d", code)
	}

	// Files: the object process takes the bytes through the gateway's port and serves them back.
	fileToken := ""
	t.Run("file round trip through the gateway", func(t *testing.T) {
		code, lib := call("POST", "/admin/v1/libraries", nil, `{"name":"files","libraryExtension":{"isFileLibrary":true}}`, true)
		if code != http.StatusCreated {
			t.Fatalf("create file library: %d %v", code, lib)
		}
		fileLib := lib["libraryId"].(string)
		code, m := call("GET", "/api/v1/token", url.Values{"library_id": {fileLib}, "library_secret": {lib["librarySecret"].(string)},
			"grant": {"admin"}, "user_id": {"carol"}}, "", false)
		if code != http.StatusOK {
			t.Fatalf("mint: %d %v", code, m)
		}
		fileToken = m["accessToken"].(string)
		f := &files{t: t, base: publicURL, data: dataURL, lib: fileLib, token: fileToken,
			http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		simple := randomBytes(t, 1<<20+4321)
		f.upload("simple.bin", simple, false)
		f.expectDownload("simple.bin", simple)
		multi := randomBytes(t, 2<<20+777)
		f.upload("multi.bin", multi, true)
		f.expectDownload("multi.bin", multi)

		// The download origin serves file bytes only, and the API host none.
		resp, _ := f.api("GET", "simple.bin", nil, nil)
		onAPI := strings.Replace(resp.Header.Get("Location"), dataURL, publicURL, 1)
		if resp, body := f.do("GET", onAPI, nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a download on the API host: %d %s, want 404", resp.StatusCode, body)
		}
		for _, path := range []string{"/admin/v1/libraries", "/console/", "/api/v1/file/" + fileLib + "/-/simple.bin?access_token=" + fileToken} {
			if resp, body := f.do("GET", dataURL+path, nil, http.Header{"Authorization": {"Bearer " + adminKey}}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s on the download origin: %d %.200s, want 404", strings.SplitN(path, "?", 2)[0], resp.StatusCode, body)
			}
		}

		// gRPC on the gateway's port reaches the object process too.
		ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-smh-access-token", fileToken), 20*time.Second)
		defer cancel()
		info, err := objectv1.NewObjectServiceClient(conn).GetFileInfo(ctx, &objectv1.GetFileInfoRequest{LibraryId: fileLib, SpaceId: "-", FilePath: "multi.bin"})
		if err != nil {
			t.Fatalf("gRPC GetFileInfo through the gateway: %v", err)
		}
		if got := info.GetInfo().GetSize(); got != int64(len(multi)) || !strings.HasPrefix(info.GetInfo().GetCosUrl(), dataURL+"/data/") {
			t.Fatalf("gRPC GetFileInfo through the gateway: %v", info)
		}
	})

	// The recycle bin and history versions across processes (docs/lifecycle.md): the gateway
	// dispatches to the namespace's RecycleService, and a recycled file's info is the object
	// process's, which asks the namespace process for the item (ResolveRecycledFile); an
	// overwrite confirmed through the object process keeps a version in the namespace process,
	// which a version restore brings back.
	t.Run("recycle bin and versions across processes", func(t *testing.T) {
		code, lib := call("POST", "/admin/v1/libraries", nil, `{"name":"bin","libraryExtension":{"isFileLibrary":true,"useRecycleBin":true,`+
			`"enableFileHistory":true,"fileHistoryCount":5}}`, true)
		if code != http.StatusCreated {
			t.Fatalf("create library: %d %v", code, lib)
		}
		binLib := lib["libraryId"].(string)
		code, m := call("GET", "/api/v1/token", url.Values{"library_id": {binLib}, "library_secret": {lib["librarySecret"].(string)},
			"grant": {"admin"}, "user_id": {"dora"}}, "", false)
		if code != http.StatusOK {
			t.Fatalf("mint: %d %v", code, m)
		}
		binToken := m["accessToken"].(string)
		f := &files{t: t, base: publicURL, data: dataURL, lib: binLib, token: binToken,
			http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		data := randomBytes(t, 70_000)
		f.upload("kept.bin", data, false)
		resp, body := f.api("DELETE", "kept.bin", nil, nil)
		var deleted struct {
			RecycledItemID float64 `json:"recycledItemId"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &deleted) != nil || deleted.RecycledItemID <= 0 {
			t.Fatalf("delete into the bin: %d %s", resp.StatusCode, body)
		}
		item := fmt.Sprint(int64(deleted.RecycledItemID))
		bin := publicURL + "/api/v1/recycled/" + binLib + "/-/" + item + "?access_token=" + url.QueryEscape(binToken)
		resp, body = f.do("GET", bin+"&info", nil, nil)
		var info struct {
			CosURL string `json:"cosUrl"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &info) != nil || !strings.HasPrefix(info.CosURL, dataURL+"/") {
			t.Fatalf("recycled file info: %d %s", resp.StatusCode, body)
		}
		if resp, got := f.do("GET", info.CosURL, nil, nil); resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
			t.Fatalf("the recycled file's bytes: %d, %d bytes", resp.StatusCode, len(got))
		}
		if resp, body := f.do("POST", bin+"&restore", nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("restore: %d %s", resp.StatusCode, body)
		}
		f.expectDownload("kept.bin", data)

		// Overwrite it, find the first content among the versions, make it the latest again.
		newer := randomBytes(t, 50_000)
		f.overwrite = true
		f.upload("kept.bin", newer, false)
		f.overwrite = false
		f.expectDownload("kept.bin", newer)
		history := publicURL + "/api/v1/directory-history/" + binLib + "/-/"
		resp, body = f.do("GET", history+"history-list/kept.bin?access_token="+url.QueryEscape(binToken), nil, nil)
		var versions struct {
			Contents []struct {
				ID              float64 `json:"id"`
				IsLatestVersion bool    `json:"isLatestVersion"`
				Size            float64 `json:"size"`
			} `json:"contents"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &versions) != nil || len(versions.Contents) != 2 ||
			!versions.Contents[0].IsLatestVersion || versions.Contents[1].Size != float64(len(data)) {
			t.Fatalf("versions: %d %s", resp.StatusCode, body)
		}
		first := fmt.Sprint(int64(versions.Contents[1].ID))
		if resp, body := f.do("POST", history+"latest-version/"+first+"?access_token="+url.QueryEscape(binToken), nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("version restore: %d %s", resp.StatusCode, body)
		}
		f.expectDownload("kept.bin", data)
	})

	// ---- issue 13 fetch: a share visit across processes (docs/shares.md). The namespace
	// process keeps the share and judges the visitor; authtoken mints the share access token;
	// the object process asks the namespace's ShareResolverService, signs the URL, and streams
	// the bytes and the zip through the gateway's data proxy.
	t.Run("share visit across processes", func(t *testing.T) {
		code, lib := call("POST", "/admin/v1/libraries", nil, `{"name":"shared","libraryExtension":{"isFileLibrary":true}}`, true)
		if code != http.StatusCreated {
			t.Fatalf("create library: %d %v", code, lib)
		}
		shareLib := lib["libraryId"].(string)
		code, m := call("GET", "/api/v1/token", url.Values{"library_id": {shareLib}, "library_secret": {lib["librarySecret"].(string)},
			"grant": {"admin"}, "user_id": {"erin"}}, "", false)
		if code != http.StatusOK {
			t.Fatalf("mint: %d %v", code, m)
		}
		owner := m["accessToken"].(string)
		f := &files{t: t, base: publicURL, data: dataURL, lib: shareLib, token: owner,
			http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		if code, m := call("PUT", "/api/v1/directory/"+shareLib+"/-/trip/empty", url.Values{"access_token": {owner}}, "", false); code != http.StatusCreated {
			t.Fatalf("mkdir: %d %v", code, m)
		}
		photo, notes := randomBytes(t, 200_000), []byte("day one\n")
		f.upload("trip/photo.bin", photo, false)
		f.upload("trip/notes.txt", notes, false)

		code, share := call("POST", "/api/v1/share/"+shareLib+"/-", url.Values{"access_token": {owner}},
			`{"name":"trip","filePath":["trip"],"config":{"isPermanent":true,"canPreview":true,"canDownload":true}}`, false)
		if code != http.StatusOK || share["code"] == nil {
			t.Fatalf("create share: %d %v", code, share)
		}
		shareCode := share["code"].(string)
		if code, d := call("GET", "/api/v1/share/url-detail/"+shareCode, nil, "", false); code != http.StatusOK || d["name"] != "trip" || d["canDownload"] != true {
			t.Fatalf("url-detail: %d %v", code, d)
		}
		code, v := call("POST", "/api/v1/share/verify/"+shareCode, nil, `{"extractionCode":""}`, false)
		if code != http.StatusOK || v["accessToken"] == nil {
			t.Fatalf("verify: %d %v", code, v)
		}
		visitor := v["accessToken"].(string)
		list := func(chain string) map[string]string {
			t.Helper()
			code, page := call("GET", "/api/v1/share/file/"+shareCode+"/"+url.PathEscape(chain), url.Values{"list": {""}, "access_token": {visitor}}, "", false)
			items, _ := page["contents"].([]any)
			if code != http.StatusOK || len(items) == 0 {
				t.Fatalf("list %q: %d %v", chain, code, page)
			}
			out := map[string]string{}
			for _, it := range items {
				e := it.(map[string]any)
				out[e["name"].(string)] = e["inode"].(string)
			}
			return out
		}
		trip := list("")["trip"]
		inTrip := list(trip)
		visit := func(chain, flag string) []byte {
			t.Helper()
			resp, body := f.do("GET", publicURL+"/api/v1/share/file/"+shareCode+"/"+url.PathEscape(chain)+"?"+flag+"&access_token="+url.QueryEscape(visitor), nil, nil)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, dataURL+"/data/") {
				t.Fatalf("%s %q: %d %s (Location %q)", flag, chain, resp.StatusCode, body, loc)
			}
			resp, got := f.do("GET", loc, nil, nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") != "sandbox" {
				t.Fatalf("GET %s: %d, CSP %q", loc, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
			}
			return got
		}
		if got := visit(trip+"/"+inTrip["photo.bin"], "download"); !bytes.Equal(got, photo) {
			t.Fatalf("shared download: %d bytes, want the %d uploaded", len(got), len(photo))
		}
		archive := visit(trip, "zip")
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			t.Fatalf("zip across processes: %v", err)
		}
		got := map[string][]byte{}
		for _, zf := range zr.File {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			got[zf.Name], err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(got) != 3 || !bytes.Equal(got["photo.bin"], photo) || !bytes.Equal(got["notes.txt"], notes) || got["empty/"] == nil {
			t.Fatalf("zip entries %d: photo %d bytes, notes %q, empty dir %v", len(got), len(got["photo.bin"]), got["notes.txt"], got["empty/"] != nil)
		}
	})
	// ---- end issue 13 fetch

	// A crash of authtoken loses nothing: a new process serves the same tokens.
	authtoken.Kill(t)
	authtoken = proc.Start(t, "authtoken (restarted)", env, bin("authtoken"), tokenArgs...)
	proc.WaitFor(t, "the restarted authtoken", 60*time.Second, func() bool { return renew(survivor) == http.StatusOK })
	if c := renew(tok); c != http.StatusForbidden {
		t.Fatalf("revoked token accepted after restart: %d", c)
	}

	// Clean shutdown: each process exits 0 on SIGTERM.
	for _, p := range []*proc.Proc{gateway, object, namespace, authtoken, library} {
		if code := p.Stop(t, syscall.SIGTERM); code != 0 {
			t.Errorf("%s exit code %d", p.Name, code)
		}
	}
	proc.ExpectNoSecretLogged(t, []*proc.Proc{gateway, object, namespace, authtoken, library}, secret, survivor, tok, adminKey, fileToken)
	// Every line of every binary is a JSON log record (issue 15) naming its service, the
	// namespace's background jobs and the etcd client's and gRPC's own log included.
	for _, p := range []*proc.Proc{gateway, object, namespace, authtoken, library} {
		for _, r := range p.LogRecords(t) {
			if service, _ := r["service"].(string); service == "" || !strings.HasPrefix(p.Name, service) {
				t.Errorf("%s wrote a record without its service: %v", p.Name, r)
			}
		}
	}
}

// files drives the file endpoints of one single-tenant library (SMH API section 3) through the
// gateway: begin, the bytes to the ticket's target, confirm, and downloads by 302.
type files struct {
	t    *testing.T
	base string
	// data is the download origin that tickets and download URLs name.
	data       string
	lib, token string
	http       *http.Client
	// overwrite makes uploads replace a file of the same name (conflict_resolution_strategy).
	overwrite bool
}

func (f *files) do(method, rawURL string, body []byte, header http.Header) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := f.http.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, data
}

// api calls /api/v1/file/{lib}/-/{pathOrKey} with the access token.
func (f *files) api(method, pathOrKey string, q url.Values, body []byte) (*http.Response, []byte) {
	f.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("access_token", f.token)
	return f.do(method, f.base+"/api/v1/file/"+f.lib+"/-/"+url.PathEscape(pathOrKey)+"?"+q.Encode(), body, nil)
}

// upload begins a simple (3.1) or multipart (3.2, 1 MiB parts) upload, sends the bytes to the
// ticket's domain with exactly its headers, and confirms with the crc64 (3.4).
func (f *files) upload(name string, data []byte, multipart bool) {
	f.t.Helper()
	resp, ticket := f.begin(name, multipart)
	if resp.StatusCode != http.StatusCreated {
		f.t.Fatalf("begin %s: %d %s", name, resp.StatusCode, ticket)
	}
	f.sendAndConfirm(name, data, multipart, ticket)
}

// begin asks for the ticket of a simple or multipart upload and answers the response and its
// body whatever the status, for callers that expect a failure.
func (f *files) begin(name string, multipart bool) (*http.Response, []byte) {
	f.t.Helper()
	method, q := "PUT", url.Values{}
	if multipart {
		method, q = "POST", url.Values{"multipart": {""}}
	}
	if f.overwrite {
		q.Set("conflict_resolution_strategy", "overwrite")
	}
	return f.api(method, name, q, nil)
}

// sendAndConfirm sends data to the target of ticket (the body of begin's 201) and confirms the
// upload.
func (f *files) sendAndConfirm(name string, data []byte, multipart bool, ticket []byte) {
	f.t.Helper()
	var tk struct {
		Domain, Path, UploadID, ConfirmKey string
		Headers                            map[string]string
	}
	if err := json.Unmarshal(ticket, &tk); err != nil {
		f.t.Fatal(err)
	}
	if "https://"+tk.Domain != f.data {
		f.t.Fatalf("ticket domain %q is not the download origin %s", tk.Domain, f.data)
	}
	h := http.Header{}
	for k, v := range tk.Headers {
		h.Set(k, v)
	}
	target := "https://" + tk.Domain + tk.Path
	if !multipart {
		if resp, body := f.do("PUT", target, data, h); resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
			f.t.Fatalf("PUT %s: %d %s", name, resp.StatusCode, body)
		}
	}
	for n, off := 1, 0; multipart && off < len(data); n, off = n+1, off+1<<20 {
		part := data[off:min(off+1<<20, len(data))]
		if resp, body := f.do("PUT", fmt.Sprintf("%s?partNumber=%d&uploadId=%s", target, n, tk.UploadID), part, h); resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
			f.t.Fatalf("part %d of %s: %d %s", n, name, resp.StatusCode, body)
		}
	}
	crc := strconv.FormatUint(crc64.Checksum(data, crc64.MakeTable(crc64.ECMA)), 10)
	resp, body := f.api("POST", tk.ConfirmKey, url.Values{"confirm": {""}}, []byte(`{"crc64":"`+crc+`"}`))
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("confirm %s: %d %s", name, resp.StatusCode, body)
	}
	var file map[string]any
	if err := json.Unmarshal(body, &file); err != nil || file["size"] != strconv.Itoa(len(data)) || file["crc64"] != crc {
		f.t.Fatalf("confirm %s answered %s", name, body)
	}
}

// expectDownload follows GET's 302 (3.8) and compares the bytes.
func (f *files) expectDownload(name string, want []byte) {
	f.t.Helper()
	resp, body := f.api("GET", name, nil, nil)
	if resp.StatusCode != http.StatusFound {
		f.t.Fatalf("download %s: %d %s", name, resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, f.data+"/data/") {
		f.t.Fatalf("download %s: Location %q is not the download origin's data endpoint", name, loc)
	}
	resp, got := f.do("GET", loc, nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		f.t.Fatalf("GET %s: %d, %d bytes (want %d, identical)", loc, resp.StatusCode, len(got), len(want))
	}
	// Through the gateway's proxy the object service's headers arrive once each.
	if got := resp.Header.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" || resp.Header.Get("Content-Security-Policy") != "sandbox" ||
		resp.Header.Get("Content-Disposition") == "" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		f.t.Fatalf("GET %s: nosniff %q, CSP %q, disposition %q", name, got, resp.Header.Get("Content-Security-Policy"), resp.Header.Get("Content-Disposition"))
	}
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
