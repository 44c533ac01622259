package e2e

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/pkg/authz"
)

// TestShareSaveEdge drives 13.12's route through the gateway on both engines: the body is checked
// first (400 with the SMH body), an unknown share is 404 ShareNotFound, and nothing is saved. The
// full save is TestShareSaveThroughREST.
func TestShareSaveEdge(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *system) {
		lib := s.createLibrary("save-edge", map[string]any{"isFileLibrary": true})
		tok := s.mustMint(lib, url.Values{"grant": {authz.UploadFile}, "user_id": {"bob"}})
		path := "/api/v1/share/file/no-such-share"
		body := map[string]any{"targetSpaceId": "-", "targetPath": "", "sourceInodesPath": "", "inodes": []string{"1"}}
		expectError(t, s.call("POST", path, url.Values{"save": {""}, "access_token": {tok}}, body, nil), http.StatusNotFound, "ShareNotFound")
		for _, bad := range []any{
			map[string]any{"targetSpaceId": "-", "sourceInodesPath": "", "inodes": []string{}},
			map[string]any{"targetSpaceId": "-", "sourceInodesPath": "x", "inodes": []string{"1"}},
			map[string]any{"sourceInodesPath": "", "inodes": []string{"1"}},
			[]any{1},
		} {
			r := s.call("POST", path, url.Values{"save": {""}, "access_token": {tok}, "share_access_token": {"acctk-not-real"}}, bad, nil)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("body %v: %d %s", bad, r.Status, r.Body)
			}
			if j := r.JSON(t); j["code"] == "" || j["requestId"] == "" {
				t.Fatalf("body %v: not an SMH error body: %s", bad, r.Body)
			}
		}
		// The library is the share's, so the share is looked up before the token is judged: a
		// forged token meets the same 404 (a share's existence is no secret from whoever holds
		// its code; 13.8 tells it to anyone). On a real share it is 403 (namespace tests).
		expectError(t, s.call("POST", path, url.Values{"save": {""}, "access_token": {"acctk-forged"}}, body, nil), http.StatusNotFound, "ShareNotFound")
	})
}

// TestShareSaveThroughREST saves from real shares through the gateway on both engines (13.12,
// decision 14, docs/shares.md "Saving from a share"): a file and a directory land in another
// space of the same library byte-identical and over the same blobs (the object store gains no
// object and no byte), a share with a code wants its share access token, conflicts follow the
// strategy with 207 for mixed results, a save over the target's quota is refused whole before
// anything changes, and a share that forbids saving or is disabled refuses.
func TestShareSaveThroughREST(t *testing.T) { onEveryEngine(t, testShareSaveThroughREST) }

func testShareSaveThroughREST(t *testing.T, s *system) {
	lib, admin := multiTenantFiles(t, s, nil, "src", "dst", "tight")
	owner := s.mustMint(lib, url.Values{"space_id": {"src"}, "user_id": {"olga"}})
	saver := s.mustMint(lib, url.Values{"grant": {authz.UploadFile}, "space_id": {"dst,tight"}, "user_id": {"bob"}})
	src := fileAPI{s: s, lib: lib.ID, space: "src", token: admin}
	src.dir().mkdirs(t, admin, []string{"docs/sub"})
	bytesA, bytesB, bytesTop := []byte("the a file"), bytes.Repeat([]byte("b"), 4096), []byte("top of the share")
	src.upload("docs/a.txt", bytesA, nil)
	src.upload("docs/sub/b.bin", bytesB, nil)
	src.upload("top.txt", bytesTop, nil)

	sa := shareAPI{s: s, lib: lib.ID}
	share := func(cfg map[string]any) string {
		t.Helper()
		cfg["isPermanent"] = true
		r := sa.create(owner, "src", map[string]any{"name": "to save", "filePath": []string{"docs", "top.txt"}, "config": cfg})
		if r.Status != http.StatusOK {
			t.Fatalf("create share: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)["code"].(string)
	}
	open := share(map[string]any{"canSaveToNetdisk": true})
	coded := share(map[string]any{"canSaveToNetdisk": true, "extractionCode": "k3y"})
	noSave := share(map[string]any{})
	rootInodes := func(code, extraction string) (docs, top string) {
		t.Helper()
		for _, it := range contents(t, sa.files(code, "", sa.token(t, code, extraction))) {
			switch it["name"] {
			case "docs":
				docs = it["inode"].(string)
			case "top.txt":
				top = it["inode"].(string)
			}
		}
		if docs == "" || top == "" {
			t.Fatalf("share %s lists no docs and top.txt", code)
		}
		return docs, top
	}
	docs, top := rootInodes(open, "")
	save := func(code, shareToken, space, strategy string, inodes ...string) response {
		t.Helper()
		qv := q(saver, "save", "")
		if shareToken != "" {
			qv.Set("share_access_token", shareToken)
		}
		body := map[string]any{"targetSpaceId": space, "targetPath": "", "sourceInodesPath": "", "inodes": inodes}
		if strategy != "" {
			body["conflictResolutionStrategy"] = strategy
		}
		return s.call("POST", "/api/v1/share/file/"+code, qv, body, nil)
	}
	objects := func() (n int, size int) {
		for _, b := range s.storedObjects("") {
			n, size = n+1, size+len(b)
		}
		return n, size
	}
	dst := fileAPI{s: s, lib: lib.ID, space: "dst", token: saver}
	nBefore, sizeBefore := objects()

	t.Run("a file and a directory, byte-identical, no new blob", func(t *testing.T) {
		// Batch copy's results (10.2): a directory 204; a file, whose default is rename, 200
		// with the path it took.
		res := results(t, save(open, "", "dst", "", docs, top), http.StatusOK)
		wantItem(t, res[0], 204, "")
		wantItem(t, res[1], 200, "")
		if !slices.Equal(pathOf(res[1]["path"]), []string{"top.txt"}) {
			t.Fatalf("results %v", res)
		}
		if !slices.Equal(pathOf(res[0]["copyFrom"]), []string{"docs"}) || !slices.Equal(pathOf(res[0]["to"]), []string{"docs"}) ||
			!slices.Equal(pathOf(res[1]["copyFrom"]), []string{"top.txt"}) {
			t.Fatalf("results %v", res)
		}
		for path, want := range map[string][]byte{"docs/a.txt": bytesA, "docs/sub/b.bin": bytesB, "top.txt": bytesTop} {
			if got := dst.download(path); !bytes.Equal(got, want) {
				t.Fatalf("%s: %d bytes, want the shared %d", path, len(got), len(want))
			}
		}
		if n, size := objects(); n != nBefore || size != sizeBefore {
			t.Fatalf("the object store went from %d objects (%d bytes) to %d (%d)", nBefore, sizeBefore, n, size)
		}
	})

	t.Run("a code wants the share access token", func(t *testing.T) {
		cDocs, cTop := rootInodes(coded, "k3y")
		expectError(t, save(coded, "", "dst", "rename", cTop), http.StatusForbidden, "InvalidAccessToken")
		otherShareToken := sa.token(t, open, "")
		expectError(t, save(coded, otherShareToken, "dst", "rename", cTop), http.StatusForbidden, "InvalidAccessToken")
		// The saver's own token stays required: the share token alone never writes.
		r := s.call("POST", "/api/v1/share/file/"+coded, q(sa.token(t, coded, "k3y"), "save", ""),
			map[string]any{"targetSpaceId": "dst", "sourceInodesPath": "", "inodes": []string{cTop}}, nil)
		expectError(t, r, http.StatusForbidden, "InvalidAccessToken")
		// Conflicts: rename gives the file a new name beside the first save's (200 with the
		// path it took, as batch copy answers).
		res := results(t, save(coded, sa.token(t, coded, "k3y"), "dst", "rename", cTop), http.StatusOK)
		wantItem(t, res[0], 200, "")
		to := strings.Join(pathOf(res[0]["path"]), "/")
		if to == "top.txt" || to == "" {
			t.Fatalf("a renamed save answered %v", res[0])
		}
		if got := dst.download(to); !bytes.Equal(got, bytesTop) {
			t.Fatalf("%s: %q", to, got)
		}
		// Mixed: the directory asks (its default) and conflicts, the file is renamed: 207.
		res = results(t, save(coded, sa.token(t, coded, "k3y"), "dst", "", cDocs, cTop), http.StatusMultiStatus)
		wantItem(t, res[0], 409, "SameNameDirectoryOrFileExists")
		wantItem(t, res[1], 200, "")
		// ask on a file that exists: its own conflict, nothing written.
		res = results(t, save(coded, sa.token(t, coded, "k3y"), "dst", "ask", cTop), http.StatusMultiStatus)
		wantItem(t, res[0], 409, "SameNameDirectoryOrFileExists")
	})

	t.Run("quota: the whole save or nothing", func(t *testing.T) {
		qa := quotaAPI{s: s, lib: lib.ID, token: admin}
		qa.mustCreate(t, map[string]any{"spaces": []string{"tight"}, "capacity": strconv.Itoa(len(bytesTop) + 1)})
		// top.txt alone fits; with docs (a.txt and b.bin) the save does not: refused before
		// top.txt is written.
		expectError(t, save(open, "", "tight", "", docs, top), http.StatusBadRequest, "QuotaLimitReached")
		tight := fileAPI{s: s, lib: lib.ID, space: "tight", token: admin}
		if names, _ := tight.list(""); len(names) != 0 {
			t.Fatalf("a refused save left %v", names)
		}
		res := results(t, save(open, "", "tight", "", top), http.StatusOK)
		wantItem(t, res[0], 200, "")
	})

	t.Run("refusals of the share", func(t *testing.T) {
		_, nsTop := rootInodes(noSave, "")
		expectError(t, save(noSave, "", "dst", "rename", nsTop), http.StatusForbidden, "CannotSaveToNetDisk")
		id := ""
		for _, it := range contents(t, sa.list(owner, "limit", "100")) {
			if it["code"] == open {
				id, _ = it["id"].(string)
			}
		}
		if id == "" {
			t.Fatal("the owner does not list the open share")
		}
		if r := s.call("POST", "/api/v1/share/"+lib.ID+"/"+id, q(owner, "setEnabled", ""), map[string]any{"ownerEnabled": false}, nil); r.Status >= 300 {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		expectError(t, save(open, "", "dst", "rename", top), http.StatusForbidden, "ShareDisabled")
	})
	if n, size := objects(); n != nBefore || size != sizeBefore {
		t.Fatalf("the object store went from %d objects (%d bytes) to %d (%d)", nBefore, sizeBefore, n, size)
	}
}
