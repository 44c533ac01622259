package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// File operations over HTTPS (SMH API 3.12-3.16) on every namespace engine. The subtests
// share one system; each makes its own library.
func TestFileOperations(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *system) {
		for _, tc := range []struct {
			name string
			run  func(t *testing.T, s *system)
		}{
			{"delete", testFileDelete},
			{"copy", testFileCopy},
			{"move", testFileMove},
			{"symlink", testSymlinks},
			{"update and inode", testFileUpdateAndInode},
			{"metadata headers", testMetaHeaders},
			{"names", testFileNames},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.run(t, s.on(t)) })
		}
	})
}

// 3.12: delete answers 204; the file is gone from HEAD, downloads and listings; a missing path
// or a directory is 404 FileNotFound.
func testFileDelete(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	f.dir().mkdirs(t, f.token, []string{"d/sub"})
	f.upload("d/a.txt", []byte("alpha"), nil)
	f.upload("d/b.txt", []byte("beta"), nil)

	r := f.do("DELETE", "d/a.txt", nil, nil)
	if r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if st := f.status("HEAD", "d/a.txt"); st != http.StatusNotFound {
		t.Fatalf("HEAD after delete: %d", st)
	}
	expectError(t, f.do("GET", "d/a.txt", nil, nil), http.StatusNotFound, "FileNotFound")
	expectError(t, f.do("GET", "d/a.txt", q("", "info", ""), nil), http.StatusNotFound, "FileNotFound")
	if names, _ := f.list("d"); !slices.Equal(names, []string{"sub", "b.txt"}) {
		t.Fatalf("listing after delete: %v", names)
	}
	expectError(t, f.do("DELETE", "d/a.txt", nil, nil), http.StatusNotFound, "FileNotFound")
	expectError(t, f.do("DELETE", "no/such/file.txt", nil, nil), http.StatusNotFound, "FileNotFound")
	// A directory is not a file: the file endpoint leaves it alone.
	expectError(t, f.do("DELETE", "d/sub", nil, nil), http.StatusNotFound, "FileNotFound")
	expectError(t, f.do("DELETE", "d", nil, nil), http.StatusNotFound, "FileNotFound")
	expectError(t, f.do("GET", "d/sub", nil, nil), http.StatusNotFound, "FileNotFound")
	if st := f.status("HEAD", "d/sub"); st != http.StatusNotFound {
		t.Fatalf("HEAD of a directory on the file endpoint: %d", st)
	}
	if names, _ := f.list("d"); len(names) != 2 {
		t.Fatalf("listing after refused deletes: %v", names)
	}

	// Grants (3.12): delete_file may delete; a reader or an uploader may not.
	reader := f.as(s.mustMint(f.library, q("", "user_id", "rita")))
	uploader := f.as(s.mustMint(f.library, q("", "grant", "upload_file", "user_id", "ulla")))
	deleter := f.as(s.mustMint(f.library, q("", "grant", "delete_file", "user_id", "dan")))
	expectError(t, reader.do("DELETE", "d/b.txt", nil, nil), http.StatusForbidden, "NoPermission")
	expectError(t, uploader.do("DELETE", "d/b.txt", nil, nil), http.StatusForbidden, "NoPermission")
	// The library's bin is off: permanent=1 is ignored and delete_file suffices (5.10; with the
	// bin on it needs delete_file_permanent, recycle_test.go).
	if r := deleter.do("DELETE", "d/b.txt", q("", "permanent", "1"), nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete_file: %d %s", r.Status, r.Body)
	}
}

// 3.13: copy by body {"copyFrom"}: 200 {"path"}, rename by default, ask and overwrite, shared
// bytes, parents not created, missing source.
func testFileCopy(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	f.dir().mkdirs(t, f.token, []string{"src", "dst/sub"})
	data := randomBytes(t, 50_000)
	f.upload("src/a.txt", data, nil)

	copyTo := func(api fileAPI, dest, from string, qq url.Values) response {
		t.Helper()
		return api.do("PUT", dest, qq, map[string]any{"copyFrom": from})
	}
	r := copyTo(f, "dst/a.txt", "src/a.txt", nil)
	if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"dst", "a.txt"}) {
		t.Fatalf("copy: %d %s", r.Status, r.Body)
	}
	// rename is the default: "a (1).txt".
	r = copyTo(f, "dst/a.txt", "src/a.txt", nil)
	if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"dst", "a (1).txt"}) {
		t.Fatalf("copy onto a taken name: %d %s", r.Status, r.Body)
	}
	expectError(t, copyTo(f, "dst/a.txt", "src/a.txt", q("", "conflict_resolution_strategy", "ask")), http.StatusConflict, "SameNameDirectoryOrFileExists")
	expectError(t, f.do("PUT", "dst/a.txt", nil, map[string]any{"copyFrom": "src/a.txt", "conflictResolutionStrategy": "ask"}), http.StatusConflict, "SameNameDirectoryOrFileExists")

	// The copy shares the source's bytes: one blob, both byte-identical.
	for _, p := range []string{"src/a.txt", "dst/a.txt", "dst/a (1).txt"} {
		if got := f.download(p); !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes differ from the source", p, len(got))
		}
	}
	if keys := s.keysHolding("blobs/", data); len(keys) != 1 {
		t.Fatalf("blobs holding the copied bytes: %v", keys)
	}
	src := f.do("HEAD", "src/a.txt", nil, nil).Header
	cp := f.do("HEAD", "dst/a.txt", nil, nil).Header
	for _, h := range []string{"x-smh-size", "x-smh-crc64", "x-smh-etag", "x-smh-content-type"} {
		if src.Get(h) == "" || src.Get(h) != cp.Get(h) {
			t.Errorf("%s: source %q, copy %q", h, src.Get(h), cp.Get(h))
		}
	}

	// overwrite needs copy_file_force (decision 3); a directory is never overwritten.
	plain := f.as(s.mustMint(f.library, q("", "grant", "copy_file", "user_id", "cleo")))
	force := f.as(s.mustMint(f.library, q("", "grant", "copy_file_force", "user_id", "fred")))
	other := []byte("other bytes")
	f.upload("src/b.txt", other, nil)
	expectError(t, copyTo(plain, "dst/a.txt", "src/b.txt", q("", "conflict_resolution_strategy", "overwrite")), http.StatusForbidden, "NoPermission")
	if r := copyTo(plain, "dst/b.txt", "src/b.txt", nil); r.Status != http.StatusOK {
		t.Fatalf("copy_file to a free name: %d %s", r.Status, r.Body)
	}
	r = copyTo(force, "dst/a.txt", "src/b.txt", q("", "conflict_resolution_strategy", "overwrite"))
	if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"dst", "a.txt"}) {
		t.Fatalf("overwrite with copy_file_force: %d %s", r.Status, r.Body)
	}
	if got := f.download("dst/a.txt"); !bytes.Equal(got, other) {
		t.Fatalf("after overwrite: %q", got)
	}
	expectError(t, copyTo(f, "dst/sub", "src/b.txt", q("", "conflict_resolution_strategy", "overwrite")), http.StatusConflict, "SameNameDirectoryOrFileExists")
	expectError(t, copyTo(f, "dst/a.txt/x.txt", "src/b.txt", nil), http.StatusConflict, "SameNameDirectoryOrFileExists")

	// A copy is its own file: overwriting the source leaves it as it was.
	f.upload("src/a.txt", []byte("new source"), q("", "conflict_resolution_strategy", "overwrite"))
	if got := f.download("dst/a (1).txt"); !bytes.Equal(got, data) {
		t.Fatal("the copy changed with its source")
	}

	// Parents are not created (3.13); sources must exist and be files.
	expectError(t, copyTo(f, "nodir/a.txt", "src/a.txt", nil), http.StatusNotFound, "DirectoryNotFound")
	expectError(t, copyTo(f, "dst/c.txt", "src/missing.txt", nil), http.StatusNotFound, "SourceFileNotFound")
	expectError(t, copyTo(f, "dst/c.txt", "nodir/missing.txt", nil), http.StatusNotFound, "SourceFileNotFound")
	expectError(t, copyTo(f, "dst/c.txt", "", nil), http.StatusBadRequest, "InvalidSourceFile")
	expectError(t, copyTo(f, "dst/c.txt", "dst/sub", nil), http.StatusBadRequest, "InvalidSourceFile")
	expectError(t, copyTo(f.as(s.mustMint(f.library, q("", "user_id", "rita"))), "dst/c.txt", "src/a.txt", nil), http.StatusForbidden, "NoPermission")
	if names, _ := f.list("dst"); !slices.Equal(names, []string{"sub", "a (1).txt", "a.txt", "b.txt"}) {
		t.Fatalf("dst after copies: %v", names)
	}
}

// 3.14: move / rename by body {"from"}: the inode stays, the source is gone; the conflict rules
// are those of copy.
func testFileMove(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	f.dir().mkdirs(t, f.token, []string{"m", "n"})
	data := randomBytes(t, 10_000)
	f.upload("m/a.txt", data, nil)
	inode := f.do("GET", "m/a.txt", q("", "info", "", "with_inode", "1"), nil).JSON(t)["inode"]
	if inode == nil {
		t.Fatal("no inode in ?info&with_inode=1")
	}

	moveTo := func(api fileAPI, dest, from string, qq url.Values) response {
		t.Helper()
		return api.do("PUT", dest, qq, map[string]any{"from": from})
	}
	r := moveTo(f, "n/b.txt", "m/a.txt", nil)
	if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"n", "b.txt"}) {
		t.Fatalf("move: %d %s", r.Status, r.Body)
	}
	if st := f.status("HEAD", "m/a.txt"); st != http.StatusNotFound {
		t.Fatalf("source after move: %d", st)
	}
	if got := f.download("n/b.txt"); !bytes.Equal(got, data) {
		t.Fatal("moved file differs")
	}
	if got := f.do("GET", "n/b.txt", q("", "info", "", "with_inode", "1"), nil).JSON(t)["inode"]; got != inode {
		t.Fatalf("inode %v became %v", inode, got)
	}
	// Rename in place, then onto a taken name: rename by default, ask, overwrite.
	if r := moveTo(f, "n/c.txt", "n/b.txt", nil); r.Status != http.StatusOK {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	f.upload("m/x.txt", []byte("x"), nil)
	r = moveTo(f, "n/c.txt", "m/x.txt", nil)
	if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"n", "c (1).txt"}) {
		t.Fatalf("move onto a taken name: %d %s", r.Status, r.Body)
	}
	f.upload("m/y.txt", []byte("y"), nil)
	expectError(t, moveTo(f, "n/c.txt", "m/y.txt", q("", "conflict_resolution_strategy", "ask")), http.StatusConflict, "SameNameDirectoryOrFileExists")
	mover := f.as(s.mustMint(f.library, q("", "grant", "move_file", "user_id", "mo")))
	expectError(t, moveTo(mover, "n/c.txt", "m/y.txt", q("", "conflict_resolution_strategy", "overwrite")), http.StatusForbidden, "NoPermission")
	if r := moveTo(f, "n/c.txt", "m/y.txt", q("", "conflict_resolution_strategy", "overwrite")); r.Status != http.StatusOK {
		t.Fatalf("overwrite: %d %s", r.Status, r.Body)
	}
	if got := f.download("n/c.txt"); string(got) != "y" {
		t.Fatalf("after overwrite: %q", got)
	}
	if names, _ := f.list("m"); len(names) != 0 {
		t.Fatalf("m after the moves: %v", names)
	}
	expectError(t, moveTo(f, "nodir/c.txt", "n/c.txt", nil), http.StatusNotFound, "DirectoryNotFound")
	expectError(t, moveTo(f, "n/d.txt", "m/gone.txt", nil), http.StatusNotFound, "SourceFileNotFound")
	expectError(t, moveTo(f, "n/d.txt", "", nil), http.StatusBadRequest, "InvalidSourceFile")
	expectError(t, moveTo(f.as(s.mustMint(f.library, q("", "grant", "copy_file", "user_id", "cleo"))), "n/d.txt", "n/c.txt", nil), http.StatusForbidden, "NoPermission")
	if r := moveTo(mover, "m/back.txt", "n/c.txt", nil); r.Status != http.StatusOK {
		t.Fatalf("move_file: %d %s", r.Status, r.Body)
	}
}

// 3.15: a symlink by body {"linkTo"} serves its target's bytes, follows the target's move and
// overwrite, and goes when the target is deleted.
func testSymlinks(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	f.dir().mkdirs(t, f.token, []string{"t", "t2"})
	first, second := randomBytes(t, 20_000), randomBytes(t, 30_000)
	f.upload("t/target.txt", first, nil)

	r := f.do("PUT", "t/link.txt", nil, map[string]any{"linkTo": "t/target.txt"})
	if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"t", "link.txt"}) {
		t.Fatalf("symlink: %d %s", r.Status, r.Body)
	}
	if _, types := f.list("t"); types["link.txt"] != "symlink" || types["target.txt"] != "file" {
		t.Fatalf("listing types %v", types)
	}
	// 4.3: the link's ?info names its target by inode (linkTo).
	target := f.dir().do("GET", "t/target.txt", f.query(q("", "info", "", "with_inode", "1")), nil).JSON(t)
	link := f.dir().do("GET", "t/link.txt", f.query(q("", "info", "", "with_inode", "1")), nil).JSON(t)
	if target["inode"] == nil || link["linkTo"] != target["inode"] || target["linkTo"] != nil {
		t.Fatalf("linkTo: link %v, target %v", link, target)
	}
	if got := f.download("t/link.txt"); !bytes.Equal(got, first) {
		t.Fatal("the link does not serve its target's bytes")
	}
	if h := f.do("HEAD", "t/link.txt", nil, nil); h.Status != http.StatusOK || h.Header.Get("x-smh-size") != "20000" {
		t.Fatalf("HEAD link: %d %v", h.Status, h.Header)
	}
	// The link follows a move of its target...
	if r := f.do("PUT", "t2/moved.txt", nil, map[string]any{"from": "t/target.txt"}); r.Status != http.StatusOK {
		t.Fatalf("move target: %d %s", r.Status, r.Body)
	}
	if got := f.download("t/link.txt"); !bytes.Equal(got, first) {
		t.Fatal("the link lost its moved target")
	}
	// ...and an overwrite of it.
	f.upload("t2/moved.txt", second, q("", "conflict_resolution_strategy", "overwrite"))
	if got := f.download("t/link.txt"); !bytes.Equal(got, second) {
		t.Fatal("the link does not serve its overwritten target's new bytes")
	}
	// ...and a copy or a move onto it with overwrite (3.2 "overwrite": symlinks follow the new
	// content).
	third, fourth := randomBytes(t, 1_000), randomBytes(t, 2_000)
	f.upload("t2/third.txt", third, nil)
	f.upload("t2/fourth.txt", fourth, nil)
	if r := f.do("PUT", "t2/moved.txt", q("", "conflict_resolution_strategy", "overwrite"), map[string]any{"copyFrom": "t2/third.txt"}); r.Status != http.StatusOK {
		t.Fatalf("copy onto the target: %d %s", r.Status, r.Body)
	}
	if got := f.download("t/link.txt"); !bytes.Equal(got, third) {
		t.Fatalf("after a copy onto its target the link serves %d bytes, want the copied %d", len(got), len(third))
	}
	if r := f.do("PUT", "t2/moved.txt", q("", "conflict_resolution_strategy", "overwrite"), map[string]any{"from": "t2/fourth.txt"}); r.Status != http.StatusOK {
		t.Fatalf("move onto the target: %d %s", r.Status, r.Body)
	}
	if got := f.download("t/link.txt"); !bytes.Equal(got, fourth) {
		t.Fatalf("after a move onto its target the link serves %d bytes, want the moved %d", len(got), len(fourth))
	}
	f.upload("t2/moved.txt", second, q("", "conflict_resolution_strategy", "overwrite"))
	// A link to a link points at the file.
	if r := f.do("PUT", "t/link2.txt", nil, map[string]any{"linkTo": "t/link.txt"}); r.Status != http.StatusOK {
		t.Fatalf("link to a link: %d %s", r.Status, r.Body)
	}
	expectError(t, f.do("PUT", "t/dirlink", nil, map[string]any{"linkTo": "t2"}), http.StatusBadRequest, "SymlinkToDirectoryNotAllowed")
	expectError(t, f.do("PUT", "t/dangling", nil, map[string]any{"linkTo": "t/none.txt"}), http.StatusNotFound, "FileNotFound")
	expectError(t, f.do("PUT", "t/link.txt", q("", "conflict_resolution_strategy", "ask"), map[string]any{"linkTo": "t2/moved.txt"}), http.StatusConflict, "SameNameDirectoryOrFileExists")
	expectError(t, f.as(s.mustMint(f.library, q("", "user_id", "rita"))).do("PUT", "t/l3", nil, map[string]any{"linkTo": "t2/moved.txt"}), http.StatusForbidden, "NoPermission")

	// Deleting a link leaves its target.
	if r := f.do("PUT", "t/link3.txt", nil, map[string]any{"linkTo": "t2/moved.txt"}); r.Status != http.StatusOK {
		t.Fatalf("third link: %d %s", r.Status, r.Body)
	}
	if st := f.status("DELETE", "t/link3.txt"); st != http.StatusNoContent {
		t.Fatalf("delete a link: %d", st)
	}
	if got := f.download("t2/moved.txt"); !bytes.Equal(got, second) {
		t.Fatal("deleting a link changed its target")
	}
	// Deleting the target deletes its links.
	if st := f.status("DELETE", "t2/moved.txt"); st != http.StatusNoContent {
		t.Fatalf("delete target: %d", st)
	}
	for _, link := range []string{"t/link.txt", "t/link2.txt"} {
		if st := f.status("HEAD", link); st != http.StatusNotFound {
			t.Fatalf("HEAD %s after its target went: %d", link, st)
		}
	}
	if names, _ := f.list("t"); len(names) != 0 {
		t.Fatalf("t after the target went: %v", names)
	}
}

// 3.16: labels and metadata of a file through POST /directory/...?update, and GET /inode/.
func testFileUpdateAndInode(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	f.dir().mkdirs(t, f.token, []string{"u", "v"})
	tk := f.begin("u/a.txt", nil, map[string]any{"labels": []string{"one"}})
	f.send(tk, "", []byte("attributes"))
	file := f.confirm(tk.ConfirmKey, q("", "with_inode", "1"), nil).JSON(t)
	inode, _ := file["inode"].(string)
	if inode == "" {
		t.Fatalf("no inode in %v", file)
	}
	inodeURL := "/api/v1/inode/" + f.lib + "/" + f.space + "/" + inode

	m := s.call("GET", inodeURL, q(f.token), nil, nil).JSON(t)
	if m["name"] != "a.txt" || m["type"] != "file" || !slices.Equal(pathOf(m["path"]), []string{"u", "a.txt"}) ||
		m["size"] != "10" || fmt.Sprint(m["labels"]) != "[one]" || m["inode"] != inode || m["userId"] != "alice" {
		t.Fatalf("inode info %v", m)
	}

	upd := func(api fileAPI, path string, body any) response {
		t.Helper()
		return api.dir().do("POST", path, api.query(q("", "update", "")), body)
	}
	r := upd(f, "u/a.txt", map[string]any{"labels": []string{"x", "y"}, "metaData": map[string]string{"x-smh-meta-k": "v"}, "metaDataDirective": "replace"})
	if r.Status != http.StatusNoContent {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	info := f.do("GET", "u/a.txt", q("", "info", ""), nil).JSON(t)
	if fmt.Sprint(info["labels"]) != "[x y]" || fmt.Sprint(info["metaData"]) != "map[x-smh-meta-k:v]" {
		t.Fatalf("info after update: %v", info)
	}
	if h := f.do("HEAD", "u/a.txt", nil, nil).Header; h.Get("x-smh-meta-k") != "v" {
		t.Fatalf("HEAD after update: %v", h)
	}
	if m := s.call("GET", inodeURL, q(f.token), nil, nil).JSON(t); fmt.Sprint(m["labels"]) != "[x y]" || fmt.Sprint(m["metaData"]) != "map[x-smh-meta-k:v]" {
		t.Fatalf("inode info after update: %v", m)
	}
	// merge (3.16): a JSON merge patch over the metadata; null deletes a key.
	r = upd(f, "u/a.txt", map[string]any{"metaData": map[string]any{"x-smh-meta-new": "n", "x-smh-meta-k": nil}, "metaDataDirective": "merge"})
	if r.Status != http.StatusNoContent {
		t.Fatalf("merge update: %d %s", r.Status, r.Body)
	}
	if info := f.do("GET", "u/a.txt", q("", "info", ""), nil).JSON(t); fmt.Sprint(info["metaData"]) != "map[x-smh-meta-new:n]" {
		t.Fatalf("info after merge: %v", info)
	}
	r = upd(f, "u/a.txt", map[string]any{"metaData": map[string]any{"x-smh-meta-k": "v"}, "metaDataDirective": "merge"})
	if info := f.do("GET", "u/a.txt", q("", "info", ""), nil).JSON(t); r.Status != http.StatusNoContent || fmt.Sprint(info["metaData"]) != "map[x-smh-meta-k:v x-smh-meta-new:n]" {
		t.Fatalf("info after second merge: %d %v", r.Status, info)
	}
	expectError(t, upd(f, "u/a.txt", map[string]any{"metaData": map[string]any{}, "metaDataDirective": "append"}), http.StatusBadRequest, "ParamInvalid")
	if r := upd(f, "u/a.txt", map[string]any{"metaData": map[string]any{"x-smh-meta-k": "v"}, "metaDataDirective": "replace"}); r.Status != http.StatusNoContent {
		t.Fatalf("replace back: %d %s", r.Status, r.Body)
	}
	// labels only: metadata stays.
	if r := upd(f, "u/a.txt", map[string]any{"labels": []string{}}); r.Status != http.StatusNoContent {
		t.Fatalf("update labels: %d %s", r.Status, r.Body)
	}
	if info := f.do("GET", "u/a.txt", q("", "info", ""), nil).JSON(t); fmt.Sprint(info["labels"]) != "[]" || fmt.Sprint(info["metaData"]) != "map[x-smh-meta-k:v]" {
		t.Fatalf("info after clearing labels: %v", info)
	}
	expectError(t, upd(f.as(s.mustMint(f.library, q("", "grant", "upload_file", "user_id", "ulla"))), "u/a.txt", map[string]any{"labels": []string{"z"}}), http.StatusForbidden, "NoPermission")

	// The inode follows a move; a deleted file's inode is gone.
	if r := f.do("PUT", "v/b.txt", nil, map[string]any{"from": "u/a.txt"}); r.Status != http.StatusOK {
		t.Fatalf("move: %d %s", r.Status, r.Body)
	}
	if m := s.call("GET", inodeURL, q(f.token), nil, nil).JSON(t); !slices.Equal(pathOf(m["path"]), []string{"v", "b.txt"}) || m["name"] != "b.txt" {
		t.Fatalf("inode info after move: %v", m)
	}
	// Reading by inode needs no grant, only a token of the space.
	if r := s.call("GET", inodeURL, q(s.mustMint(f.library, q("", "user_id", "rita"))), nil, nil); r.Status != http.StatusOK {
		t.Fatalf("reader by inode: %d %s", r.Status, r.Body)
	}
	expectError(t, s.call("GET", inodeURL, nil, nil, nil), http.StatusBadRequest, "EmptyAccessToken")
	if st := f.status("DELETE", "v/b.txt"); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}
	expectError(t, s.call("GET", inodeURL, q(f.token), nil, nil), http.StatusNotFound, "FileNotFound")
	expectError(t, s.call("GET", "/api/v1/inode/"+f.lib+"/-/123456789", q(f.token), nil, nil), http.StatusNotFound, "FileNotFound")
	expectError(t, s.call("GET", "/api/v1/inode/"+f.lib+"/-/abc", q(f.token), nil, nil), http.StatusBadRequest, "ParamInvalid")
}

// Custom metadata (section 3): x-smh-meta-* headers of the begin call come back as metaData in
// confirm and ?info and as headers on HEAD and download.
func testMetaHeaders(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	h := http.Header{"X-Smh-Meta-Color": {"blue"}, "x-smh-meta-owner": {"Ann Lee"}, "X-Smh-Other": {"not metadata"}}
	want := "map[x-smh-meta-color:blue x-smh-meta-owner:Ann Lee]"
	for _, kind := range []string{"simple", "multipart"} {
		name := kind + ".txt"
		data := []byte("metadata via " + kind)
		var r response
		if kind == "simple" {
			r = f.doWith("PUT", name, nil, nil, h)
		} else {
			r = f.doWith("POST", name, q("", "multipart", ""), nil, h)
		}
		if r.Status != http.StatusCreated {
			t.Fatalf("begin %s: %d %s", kind, r.Status, r.Body)
		}
		var tk ticket
		if err := json.Unmarshal(r.Body, &tk); err != nil {
			t.Fatal(err)
		}
		suffix := ""
		if kind == "multipart" {
			suffix = "?partNumber=1&uploadId=" + tk.UploadID
		}
		if put := f.send(tk, suffix, data); put.Status != http.StatusOK {
			t.Fatalf("PUT: %d %s", put.Status, put.Body)
		}
		c := f.confirm(tk.ConfirmKey, nil, nil)
		if c.Status != http.StatusOK || fmt.Sprint(c.JSON(t)["metaData"]) != want {
			t.Fatalf("confirm %s: %d %s", kind, c.Status, c.Body)
		}
		if info := f.do("GET", name, q("", "info", ""), nil).JSON(t); fmt.Sprint(info["metaData"]) != want {
			t.Fatalf("info %s: %v", kind, info)
		}
		for _, method := range []string{"HEAD", "GET"} {
			r := f.do(method, name, nil, nil)
			if r.Header.Get("x-smh-meta-color") != "blue" || r.Header.Get("x-smh-meta-owner") != "Ann Lee" || r.Header.Get("x-smh-other") != "" {
				t.Fatalf("%s %s headers: %d %v", method, kind, r.Status, r.Header)
			}
		}
	}
	// Without metadata: an empty object, no headers.
	f.upload("plain.txt", []byte("plain"), nil)
	if info := f.do("GET", "plain.txt", q("", "info", ""), nil).JSON(t); fmt.Sprint(info["metaData"]) != "map[]" && info["metaData"] != nil {
		t.Fatalf("info without metadata: %v", info["metaData"])
	}
}

// 12.3 and decision 6 for files: "/" as %2F or literal, UTF-8, spaces and reserved characters
// name the same file in every file call.
func testFileNames(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	dir := "目录 a/子 b+c"
	name := dir + "/文件 #1?&=%.txt"
	f.dir().mkdirs(t, f.token, []string{dir, "其他 d"})
	// enc addresses path with "/" as %2F (encodeURIComponent, as the JS SDK does).
	enc := func(path string) string { return "/api/v1/file/" + f.lib + "/" + f.space + "/" + url.PathEscape(path) }
	data := []byte("名前")

	r := s.call("PUT", enc(name), q(f.token), nil, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("begin with %%2F: %d %s", r.Status, r.Body)
	}
	var tk ticket
	_ = json.Unmarshal(r.Body, &tk)
	f.send(tk, "", data)
	file := f.confirm(tk.ConfirmKey, nil, nil).JSON(t)
	if !slices.Equal(pathOf(file["path"]), strings.Split(name, "/")) || file["name"] != "文件 #1?&=%.txt" {
		t.Fatalf("confirmed %v", file)
	}
	if names, _ := f.list(dir); !slices.Equal(names, []string{"文件 #1?&=%.txt"}) {
		t.Fatalf("listing %v", names)
	}
	for _, p := range []string{enc(name), f.url(name)} {
		if r := s.call("HEAD", p, q(f.token), nil, nil); r.Status != http.StatusOK || r.Header.Get("x-smh-size") != strconv.Itoa(len(data)) {
			t.Fatalf("HEAD %s: %d", p, r.Status)
		}
		if r := s.call("GET", p, q(f.token, "info", ""), nil, nil); r.Status != http.StatusOK || r.JSON(t)["size"] != strconv.Itoa(len(data)) {
			t.Fatalf("info %s: %d %s", p, r.Status, r.Body)
		}
	}
	if got := f.download(name); !bytes.Equal(got, data) {
		t.Fatalf("download: %q", got)
	}
	// copy, move and symlink, with %2F destinations and UTF-8 sources.
	r = s.call("PUT", enc("其他 d/副本 1.txt"), q(f.token), map[string]any{"copyFrom": name}, nil)
	if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"其他 d", "副本 1.txt"}) {
		t.Fatalf("copy: %d %s", r.Status, r.Body)
	}
	r = s.call("PUT", enc("其他 d/移动 2.txt"), q(f.token), map[string]any{"from": "其他 d/副本 1.txt"}, nil)
	if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"其他 d", "移动 2.txt"}) {
		t.Fatalf("move: %d %s", r.Status, r.Body)
	}
	r = s.call("PUT", enc("其他 d/链接 3"), q(f.token), map[string]any{"linkTo": name}, nil)
	if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"其他 d", "链接 3"}) {
		t.Fatalf("symlink: %d %s", r.Status, r.Body)
	}
	for _, p := range []string{"其他 d/移动 2.txt", "其他 d/链接 3"} {
		if got := f.download(p); !bytes.Equal(got, data) {
			t.Fatalf("%s: %q", p, got)
		}
	}
	// Names are compared exactly (decision 6): a different normalisation is another file.
	expectError(t, f.do("GET", "其他 d/移动  2.txt", nil, nil), http.StatusNotFound, "FileNotFound")
	for _, bad := range []string{"其他 d/a\\b.txt", "其他 d/x\x01y.txt", "其他 d/.."} {
		expectError(t, s.call("PUT", enc(bad), q(f.token), nil, nil), http.StatusBadRequest, "IllegalFileName")
	}
	expectError(t, f.do("PUT", "其他 d/"+strings.Repeat("名", 256), nil, nil), http.StatusBadRequest, "FileNameLengthExceed")
	expectError(t, s.call("PUT", enc("其他 d/"), q(f.token), nil, nil), http.StatusBadRequest, "EmptyFileName")
	if r := s.call("DELETE", enc(name), q(f.token), nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete with %%2F: %d %s", r.Status, r.Body)
	}
	if st := f.status("HEAD", "其他 d/链接 3"); st != http.StatusNotFound {
		t.Fatalf("link after its target was deleted: %d", st)
	}
}

// TestBlobLifecycle: bytes outlive the entries that share them, and garbage collection removes
// them once the last entry is purged and the grace period has passed; unconfirmed and aborted
// uploads leave nothing behind. testS3BlobStore runs the same flows on S3.
func TestBlobLifecycle(t *testing.T) {
	// A system each, so that the cleanup reports count only the flow's own leftovers.
	t.Run("shared blob", func(t *testing.T) { onEveryEngine(t, testBlobLifecycle) })
	t.Run("expired and aborted uploads", func(t *testing.T) { onEveryEngine(t, testUploadLeftovers) })
}

func testBlobLifecycle(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	data := randomBytes(t, 200_000)
	f.upload("orig.bin", data, nil)
	if r := f.do("PUT", "copy.bin", nil, map[string]any{"copyFrom": "orig.bin"}); r.Status != http.StatusOK {
		t.Fatalf("copy: %d %s", r.Status, r.Body)
	}
	keys := s.keysHolding("blobs/", data)
	if len(keys) != 1 {
		t.Fatalf("blobs holding the bytes: %v", keys)
	}
	if st := f.status("DELETE", "orig.bin"); st != http.StatusNoContent {
		t.Fatalf("delete original: %d", st)
	}
	if got := f.download("copy.bin"); !bytes.Equal(got, data) {
		t.Fatal("the copy lost its bytes with the original")
	}
	// Well past grace and purge age, a live copy keeps the blob.
	s.fakeClock().Advance(2 * time.Hour)
	if purged, r := s.collect(); purged != 1 || r.Blobs != 0 || !slices.Equal(s.keysHolding("blobs/", data), keys) {
		t.Fatalf("2 h after deleting the original: purged %d, %+v", purged, r)
	}
	if got := f.download("copy.bin"); !bytes.Equal(got, data) {
		t.Fatal("the copy lost its bytes to garbage collection")
	}
	cos := f.do("GET", "copy.bin", q("", "info", ""), nil).JSON(t)["cosUrl"].(string)

	if st := f.status("DELETE", "copy.bin"); st != http.StatusNoContent {
		t.Fatalf("delete copy: %d", st)
	}
	// Deleted entries are kept 10 minutes; until they are purged they still reference the blob.
	s.fakeClock().Advance(5 * time.Minute)
	if purged, r := s.collect(); purged != 0 || r.Blobs != 0 || len(s.keysHolding("blobs/", data)) != 1 {
		t.Fatalf("5 min after the last delete: purged %d, %+v", purged, r)
	}
	s.fakeClock().Advance(6 * time.Minute)
	purged, r := s.collect()
	if purged != 1 || r.Blobs != 1 {
		t.Fatalf("11 min after the last delete: purged %d, %+v", purged, r)
	}
	if left := s.keysHolding("blobs/", data); len(left) != 0 {
		t.Fatalf("the bytes are still stored under %v", left)
	}
	if left := s.storedObjects(keys[0]); len(left) != 0 {
		t.Fatalf("the blob %s is still stored", keys[0])
	}
	expectXML(t, s.raw("GET", cos, nil, nil), http.StatusNotFound, "NoSuchKey")
	if _, r := s.collect(); r != (gcReport{}) {
		t.Fatalf("a second run found more: %+v", r)
	}
}

func testUploadLeftovers(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	// Begun and sent, never confirmed: the session lives for the ticket (1 h) and then 24 h.
	data := randomBytes(t, 100_000)
	tk := f.begin("pending.bin", nil, nil)
	if r := f.send(tk, "", data); r.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	if keys := s.keysHolding("blobs/", data); len(keys) != 1 {
		t.Fatalf("blobs holding the sent bytes: %v", keys)
	}

	// Aborted multipart: the parts go at once.
	r := f.do("POST", "abort.bin", q("", "multipart", ""), nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("begin multipart: %d %s", r.Status, r.Body)
	}
	var mp ticket
	_ = json.Unmarshal(r.Body, &mp)
	for n := 1; n <= 2; n++ {
		if put := f.send(mp, fmt.Sprintf("?partNumber=%d&uploadId=%s", n, mp.UploadID), randomBytes(t, 1<<20)); put.Status != http.StatusOK {
			t.Fatalf("part %d: %d %s", n, put.Status, put.Body)
		}
	}
	if parts := s.storedObjects("parts/" + mp.UploadID + "/"); len(parts) != 2 {
		t.Fatalf("%d parts stored, want 2", len(parts))
	}
	if r := f.do("DELETE", mp.ConfirmKey, q("", "upload", ""), nil); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("abort: %d %s", r.Status, r.Body)
	}
	if parts := s.storedObjects("parts/" + mp.UploadID + "/"); len(parts) != 0 {
		t.Fatalf("%d parts left after abort", len(parts))
	}
	expectError(t, f.confirm(mp.ConfirmKey, nil, nil), http.StatusNotFound, "UploadNotFound")
	expectError(t, f.do("GET", mp.ConfirmKey, q("", "upload", ""), nil), http.StatusNotFound, "UploadNotFound")
	expectError(t, f.do("DELETE", mp.ConfirmKey, q("", "upload", ""), nil), http.StatusNotFound, "UploadNotFound")
	expectXML(t, f.send(mp, "?partNumber=3&uploadId="+mp.UploadID, []byte("late")), http.StatusNotFound, "NoSuchUpload")
	if parts := s.storedObjects("parts/"); len(parts) != 0 {
		t.Fatalf("parts stored: %d", len(parts))
	}
	if st := f.status("HEAD", "abort.bin"); st != http.StatusNotFound {
		t.Fatalf("aborted upload visible: %d", st)
	}

	// A multipart confirm refused for its crc64 keeps the parts for a retry and drops the file
	// it composed from them.
	r = f.do("POST", "retry.bin", q("", "multipart", ""), nil)
	var rt ticket
	if err := json.Unmarshal(r.Body, &rt); err != nil || r.Status != http.StatusCreated {
		t.Fatalf("begin multipart: %d %s", r.Status, r.Body)
	}
	whole := randomBytes(t, 1<<20+100)
	for n, part := range [][]byte{whole[:1<<20], whole[1<<20:]} {
		if put := f.send(rt, fmt.Sprintf("?partNumber=%d&uploadId=%s", n+1, rt.UploadID), part); put.Status != http.StatusOK {
			t.Fatalf("part %d: %d %s", n+1, put.Status, put.Body)
		}
	}
	expectError(t, f.confirm(rt.ConfirmKey, nil, map[string]any{"crc64": "1"}), http.StatusBadRequest, "BadCrc64")
	if keys := s.keysHolding("blobs/", whole); len(keys) != 0 {
		t.Fatalf("a refused confirm left its composed file under %v", keys)
	}
	if parts := s.storedObjects("parts/" + rt.UploadID + "/"); len(parts) != 2 {
		t.Fatalf("%d parts after the refused confirm, want 2", len(parts))
	}
	if c := f.confirm(rt.ConfirmKey, nil, map[string]any{"crc64": crcOf(whole)}); c.Status != http.StatusOK {
		t.Fatalf("confirm after BadCrc64: %d %s", c.Status, c.Body)
	}
	if keys := s.keysHolding("blobs/", whole); len(keys) != 1 || len(s.storedObjects("parts/")) != 0 {
		t.Fatalf("after confirm: blobs %v, %d parts", keys, len(s.storedObjects("parts/")))
	}
	if st := f.status("DELETE", "retry.bin"); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}

	// Within the session the unconfirmed bytes stay; the deleted file's go.
	s.fakeClock().Advance(2 * time.Hour)
	if _, r := s.collect(); r.ExpiredUploads != 0 || r.Blobs != 1 || len(s.keysHolding("blobs/", data)) != 1 || len(s.keysHolding("blobs/", whole)) != 0 {
		t.Fatalf("2 h after the upload: %+v", r)
	}
	// Past ticket and session, the cleanup ends the sessions (the unconfirmed, the aborted and
	// the confirmed one, which has answered repeated confirms long enough) and removes the bytes.
	s.fakeClock().Advance(23*time.Hour + time.Minute)
	_, gc := s.collect()
	if gc.ExpiredUploads != 3 || gc.Blobs != 1 {
		t.Fatalf("25 h after the upload: %+v", gc)
	}
	if left := s.keysHolding("blobs/", data); len(left) != 0 {
		t.Fatalf("the unconfirmed bytes are still stored under %v", left)
	}
	if all := s.storedObjects(""); len(all) != 0 {
		keys := make([]string, 0, len(all))
		for k := range all {
			keys = append(keys, k)
		}
		t.Fatalf("the store still holds %v", keys)
	}
	// The token expired with the day (sliding 24 h); a fresh one finds no upload and no file.
	f = f.as(s.mustMint(f.library, q("", "grant", "admin", "user_id", "alice")))
	expectError(t, f.confirm(tk.ConfirmKey, nil, nil), http.StatusNotFound, "UploadNotFound")
	if st := f.status("HEAD", "pending.bin"); st != http.StatusNotFound {
		t.Fatalf("unconfirmed upload visible: %d", st)
	}
}

// Issue item 8: ~10 concurrent uploads to one name under each conflict strategy, on every
// engine. The begins and PUTs run side by side, then all confirms are released at once.
func TestConcurrentUploadsToOneName(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *system) {
		for _, strategy := range []string{"ask", "rename", "overwrite"} {
			t.Run(strategy, func(t *testing.T) { testConcurrentUploads(t, s.on(t), strategy) })
		}
	})
}

// racer is one of the concurrent uploads.
type racer struct {
	data                  []byte
	key                   string // the confirm key
	begin, put, confirm   response
	err                   error
	beganOK, sentOK, done bool
}

func (r racer) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	return fmt.Sprintf("begin %d, PUT %d, confirm %d %s", r.begin.Status, r.put.Status, r.confirm.Status, r.confirm.Body)
}

func testConcurrentUploads(t *testing.T, s *system, strategy string) {
	const n = 10
	f := fileLibrary(t, s, nil)
	f.dir().mkdirs(t, f.token, []string{"race"})
	const target = "race/a.txt"
	racers := make([]racer, n)
	var ready, done sync.WaitGroup
	ready.Add(n)
	start := make(chan struct{})
	for i := range racers {
		r := &racers[i]
		r.data = []byte(fmt.Sprintf("upload %d under %s", i, strategy))
		done.Go(func() {
			arrived := false
			defer func() {
				if !arrived {
					ready.Done()
				}
			}()
			r.begin, r.err = s.tryCall("PUT", f.url(target), f.query(q("", "conflict_resolution_strategy", strategy)), nil, nil)
			if r.err != nil || r.begin.Status != http.StatusCreated {
				return
			}
			var tk ticket
			if r.err = json.Unmarshal(r.begin.Body, &tk); r.err != nil {
				return
			}
			r.beganOK, r.key = true, tk.ConfirmKey
			h := http.Header{}
			for k, v := range tk.Headers {
				h.Set(k, v)
			}
			r.put, r.err = s.tryRaw("PUT", "https://"+tk.Domain+tk.Path, bytes.NewReader(r.data), h)
			if r.err != nil || r.put.Status != http.StatusOK {
				return
			}
			r.sentOK = true
			arrived = true
			ready.Done()
			<-start
			r.confirm, r.err = s.tryCall("POST", f.url(tk.ConfirmKey), f.query(q("", "confirm", "")), map[string]any{"crc64": crcOf(r.data)}, nil)
			r.done = r.err == nil
		})
	}
	ready.Wait()
	close(start)
	done.Wait()

	report := func() string {
		var b strings.Builder
		for i, r := range racers {
			fmt.Fprintf(&b, "\n  upload %d: %v", i, r)
		}
		return b.String()
	}
	var won, lost []int
	for i, r := range racers {
		if !r.done || !r.beganOK || !r.sentOK {
			t.Fatalf("%s: upload %d failed before its confirm:%s", strategy, i, report())
		}
		switch r.confirm.Status {
		case http.StatusOK:
			won = append(won, i)
		case http.StatusConflict:
			if code, _ := r.confirm.JSON(t)["code"].(string); strategy == "ask" && code == "SameNameDirectoryOrFileExists" {
				lost = append(lost, i)
				continue
			}
			t.Fatalf("%s: upload %d got a conflict:%s", strategy, i, report())
		default:
			t.Fatalf("%s: upload %d failed at confirm:%s", strategy, i, report())
		}
	}
	names, _ := f.list("race")
	switch strategy {
	case "ask":
		if len(won) != 1 || len(lost) != n-1 {
			t.Fatalf("ask: %d confirms won, %d got 409, want 1 and %d:%s", len(won), len(lost), n-1, report())
		}
		if !slices.Equal(names, []string{"a.txt"}) {
			t.Fatalf("ask: listing %v", names)
		}
		if got := f.download(target); !bytes.Equal(got, racers[won[0]].data) {
			t.Fatalf("ask: the file holds %q, the winner sent %q", got, racers[won[0]].data)
		}
	case "rename":
		if len(won) != n {
			t.Fatalf("rename: %d of %d confirms succeeded:%s", len(won), n, report())
		}
		want := []string{"a.txt"}
		for i := 1; i < n; i++ {
			want = append(want, fmt.Sprintf("a (%d).txt", i))
		}
		got := slices.Clone(names)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("rename: names %v, want %v:%s", got, want, report())
		}
		// Each upload's bytes are under the name its confirm answered.
		for i, r := range racers {
			p := pathOf(r.confirm.JSON(t)["path"])
			if data := f.download(strings.Join(p, "/")); !bytes.Equal(data, r.data) {
				t.Fatalf("rename: %v holds %q, upload %d sent %q", p, data, i, r.data)
			}
		}
	case "overwrite":
		if len(won) != n {
			t.Fatalf("overwrite: %d of %d confirms succeeded:%s", len(won), n, report())
		}
		if !slices.Equal(names, []string{"a.txt"}) {
			t.Fatalf("overwrite: listing %v", names)
		}
		got := f.download(target)
		last := slices.IndexFunc(racers, func(r racer) bool { return bytes.Equal(r.data, got) })
		if last < 0 {
			t.Fatalf("overwrite: the file holds %q, which no upload sent", got)
		}
		created := 0
		for _, r := range racers {
			if r.confirm.JSON(t)["isOverwritten"] != true {
				created++
			}
		}
		if created != 1 {
			t.Fatalf("overwrite: %d confirms created the file, want 1:%s", created, report())
		}
		// The replaced bytes are garbage once their entries are purged and the grace is over.
		s.fakeClock().Advance(2 * time.Hour)
		s.collect()
		for i, r := range racers {
			held := len(s.keysHolding("blobs/", r.data))
			if i == last && held != 1 || i != last && held != 0 {
				t.Fatalf("overwrite: upload %d's bytes are stored %d times (upload %d is the file)", i, held, last)
			}
		}
	}
	if strategy == "ask" {
		// A loser's bytes are still there: its confirm may try again with another strategy (3.4).
		loser := racers[lost[0]]
		r := f.confirm(loser.key, q("", "conflict_resolution_strategy", "rename"), nil)
		if r.Status != http.StatusOK || !slices.Equal(pathOf(r.JSON(t)["path"]), []string{"race", "a (1).txt"}) {
			t.Fatalf("ask: the loser's second confirm: %d %s", r.Status, r.Body)
		}
		if got := f.download("race/a (1).txt"); !bytes.Equal(got, loser.data) {
			t.Fatalf("ask: the loser's file holds %q, it sent %q", got, loser.data)
		}
	}
}

// Public read (12.7): on a public-read library, download, ?info, HEAD, preview, info by inode
// and the album cover work without a token; writes still need one.
func TestPublicRead(t *testing.T) {
	s := startSystem(t)
	f := fileLibrary(t, s, map[string]any{"isPublicRead": true})
	pic := pngBytes(t, 64, 32)
	f.upload("pub.png", pic, nil)
	inode, _ := f.do("GET", "pub.png", q("", "info", "", "with_inode", "1"), nil).JSON(t)["inode"].(string)
	anon := f.as("")

	if got := anon.download("pub.png"); !bytes.Equal(got, pic) {
		t.Fatal("anonymous download differs")
	}
	info := anon.do("GET", "pub.png", q("", "info", ""), nil)
	if info.Status != http.StatusOK {
		t.Fatalf("anonymous info: %d %s", info.Status, info.Body)
	}
	if got := s.fetch(info.JSON(t)["cosUrl"].(string)); !bytes.Equal(got, pic) {
		t.Fatal("anonymous cosUrl differs")
	}
	if h := anon.do("HEAD", "pub.png", nil, nil); h.Status != http.StatusOK || h.Header.Get("x-smh-size") != strconv.Itoa(len(pic)) {
		t.Fatalf("anonymous HEAD: %d %v", h.Status, h.Header)
	}
	if _, size := picture(t, s.fetch(anon.redirect("pub.png", q("", "preview", "", "size", "16")))); size.X != 16 || size.Y != 16 {
		t.Fatalf("anonymous preview %v", size)
	}
	if r := s.call("GET", "/api/v1/inode/"+f.lib+"/-/"+inode, nil, nil, nil); r.Status != http.StatusOK || r.JSON(t)["name"] != "pub.png" {
		t.Fatalf("anonymous info by inode: %d %s", r.Status, r.Body)
	}
	if st := anon.status("HEAD", "none.png"); st != http.StatusNotFound {
		t.Fatalf("anonymous HEAD of a missing file: %d", st)
	}

	// Writes need a token.
	expectError(t, anon.do("PUT", "new.png", nil, nil), http.StatusBadRequest, "EmptyAccessToken")
	expectError(t, anon.do("POST", "new.png", q("", "multipart", ""), nil), http.StatusBadRequest, "EmptyAccessToken")
	expectError(t, anon.do("POST", "new.png", nil, nil), http.StatusBadRequest, "EmptyAccessToken")
	expectError(t, anon.do("DELETE", "pub.png", nil, nil), http.StatusBadRequest, "EmptyAccessToken")
	expectError(t, anon.do("PUT", "copy.png", nil, map[string]any{"copyFrom": "pub.png"}), http.StatusBadRequest, "EmptyAccessToken")
	expectError(t, anon.do("PUT", "moved.png", nil, map[string]any{"from": "pub.png"}), http.StatusBadRequest, "EmptyAccessToken")
	expectError(t, anon.do("PUT", "link.png", nil, map[string]any{"linkTo": "pub.png"}), http.StatusBadRequest, "EmptyAccessToken")
	expectError(t, anon.dir().do("POST", "pub.png", q("", "update", ""), map[string]any{"labels": []string{"x"}}), http.StatusBadRequest, "EmptyAccessToken")
	tk := f.begin("pending.png", nil, nil)
	expectError(t, anon.confirm(tk.ConfirmKey, nil, nil), http.StatusBadRequest, "EmptyAccessToken")
	expectError(t, anon.do("DELETE", tk.ConfirmKey, q("", "upload", ""), nil), http.StatusBadRequest, "EmptyAccessToken")
	if st := f.status("HEAD", "pub.png"); st != http.StatusOK {
		t.Fatalf("the file after anonymous writes: %d", st)
	}

	// A library that is not public-read reads nothing without a token.
	private := fileLibrary(t, s, nil)
	private.upload("p.png", pic, nil)
	for _, qq := range []url.Values{nil, q("", "info", ""), q("", "preview", "", "size", "16")} {
		expectError(t, private.as("").do("GET", "p.png", qq, nil), http.StatusBadRequest, "EmptyAccessToken")
	}

	// A public-read media library shows its cover to anyone.
	m := mediaLibrary(t, s, map[string]any{"isPublicRead": true})
	m.upload("cover.png", pic, nil)
	if r := s.call("GET", "/api/v1/album/"+m.lib+"/-/cover", q("", "size", "8"), nil, nil); r.Status != http.StatusFound {
		t.Fatalf("anonymous album cover: %d %s", r.Status, r.Body)
	}
}
