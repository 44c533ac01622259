package e2e

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// Zip preview and uncompress over real HTTPS (SMH API 3.17, decision 26, 7.1, 7.3;
// docs/archives.md): both preview forms, whole and selected extraction, the conflict
// strategies, another space (admin only), the library switch, crafted bombs and path escapes
// (nothing written outside the target, the task reports each failure), and the task queries.

func TestArchives(t *testing.T) { onEveryEngine(t, testArchives) }

type zipEntry struct {
	name string
	body []byte
}

func makeZip(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lyingBomb is a zip whose one entry's headers claim 100 bytes while it expands to 8 MiB of
// zeros (a ratio near 1000).
func lyingBomb(t *testing.T, name string) []byte {
	t.Helper()
	body := make([]byte, 8<<20)
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	_, _ = fw.Write(body)
	_ = fw.Close()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	raw, err := w.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(body),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: 100})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = raw.Write(comp.Bytes())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// archiveTask polls the V2 task query until the task leaves 202 and answers it.
func archiveTask(t *testing.T, s *system, lib, space, token string, id float64) map[string]any {
	t.Helper()
	for {
		r := s.call("GET", fmt.Sprintf("/api/v1/task-result/%s/%s/%d", lib, space, int(id)), q(token), nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("task-result: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		if m["taskType"] != "fileUncompress" || m["taskId"] != fmt.Sprint(int(id)) {
			t.Fatalf("task-result %s", r.Body)
		}
		if m["status"] != float64(202) {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// uncompress starts a task and answers its id, failing unless the answer is 202 {"taskId"}.
func uncompress(t *testing.T, f fileAPI, path string, query url.Values, body map[string]any) float64 {
	t.Helper()
	query = f.query(query)
	query.Set("uncompress", "")
	r := f.s.call("POST", f.url(path), query, body, nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("uncompress %s: %d %s", path, r.Status, r.Body)
	}
	id, ok := r.JSON(t)["taskId"].(float64)
	if !ok || id <= 0 {
		t.Fatalf("uncompress answer %s", r.Body)
	}
	return id
}

// failedKeys answers the keys and codes of a result's failedItems.
func failedKeys(res map[string]any) map[string]string {
	out := map[string]string{}
	items, _ := res["failedItems"].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		out[m["key"].(string)] = m["code"].(string)
	}
	return out
}

// everything lists every path in the space, recursively ("dir/" for directories).
func everything(t *testing.T, f fileAPI, dir string) []string {
	t.Helper()
	names, types := f.list(dir)
	var out []string
	for _, n := range names {
		p := n
		if dir != "" {
			p = dir + "/" + n
		}
		if types[n] == "dir" {
			out = append(out, p+"/")
			out = append(out, everything(t, f, p)...)
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func testArchives(t *testing.T, s *system) {
	lib := s.createLibrary("archives", map[string]any{"isFileLibrary": true, "isMultiSpace": true, "enableFileUncompress": true})
	admin := s.mustMint(lib, q("", "grant", "admin", "user_id", "ann"))
	for _, id := range []string{"alpha", "beta"} {
		if r := s.call("POST", "/api/v1/space/"+lib.ID, q(admin, "space_id", id), nil, nil); r.Status != http.StatusCreated {
			t.Fatalf("space %s: %d %s", id, r.Status, r.Body)
		}
	}
	f := fileAPI{s: s, lib: lib.ID, space: "alpha", token: admin, library: lib}
	beta := fileAPI{s: s, lib: lib.ID, space: "beta", token: admin, library: lib}
	d := f.dir()

	docs := makeZip(t,
		zipEntry{"top/", nil},
		zipEntry{"top/a.txt", []byte("alpha file")},
		zipEntry{"top/sub/b.txt", []byte("beta file")},
		zipEntry{"top/sub/c.txt", []byte("gamma file")},
		zipEntry{"readme.md", []byte("# readme")},
	)
	f.upload("docs.zip", docs, nil)
	f.upload("plain.txt", []byte("not an archive"), nil)
	d.mkdirs(t, admin, []string{"out", "out2", "out3", "sel", "conf"})

	t.Run("preview flat and tree", func(t *testing.T) {
		r := f.do("GET", "docs.zip", q("", "zip-preview", ""), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("preview: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		if m["fileNumber"] != float64(5) || m["isTruncated"] != false {
			t.Fatalf("preview %s", r.Body)
		}
		var keys []string
		for _, it := range m["contents"].([]any) {
			e := it.(map[string]any)
			keys = append(keys, e["key"].(string))
			if e["key"] == "top/a.txt" && (e["uncompressedSize"] != float64(10) || e["lastModified"] != "2026-01-02T03:04:05.000Z") {
				t.Fatalf("flat entry %v", e)
			}
		}
		if !slices.Equal(keys, []string{"top/", "top/a.txt", "top/sub/b.txt", "top/sub/c.txt", "readme.md"}) {
			t.Fatalf("flat keys %q", keys)
		}

		r = f.do("GET", "docs.zip", q("", "zip-preview", "", "format", "tree"), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("tree: %d %s", r.Status, r.Body)
		}
		root := r.JSON(t)["contents"].(map[string]any)
		if root["level"] != float64(0) || root["isDir"] != true || root["key"] != nil {
			t.Fatalf("tree root %v", root)
		}
		kids := root["children"].([]any)
		first, second := kids[0].(map[string]any), kids[1].(map[string]any)
		// Directories before files.
		if first["filename"] != "top" || first["isDir"] != true || second["filename"] != "readme.md" || second["key"] != "readme.md" || second["children"] != nil {
			t.Fatalf("tree children %v", kids)
		}
		sub := first["children"].([]any)[0].(map[string]any)
		if sub["filename"] != "sub" || sub["prename"] != "top" || sub["level"] != float64(2) || len(sub["children"].([]any)) != 2 {
			t.Fatalf("tree sub %v", sub)
		}

		expectError(t, f.do("GET", "docs.zip", q("", "zip-preview", "", "format", "list"), nil), http.StatusBadRequest, "ParamInvalid")
	})

	t.Run("decision 26 order", func(t *testing.T) {
		// Missing source before a bad query; a bad query before the bytes; the bytes before the switch.
		expectError(t, f.do("GET", "none.zip", q("", "zip-preview", "", "format", "list"), nil), http.StatusNotFound, "FileNotFound")
		expectError(t, f.do("GET", "plain.txt", q("", "zip-preview", "", "format", "list"), nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, f.do("GET", "plain.txt", q("", "zip-preview", ""), nil), http.StatusBadRequest, "FileUncompressNotAllowed")
		// A directory is no archive either (3.17).
		expectError(t, f.do("GET", "out", q("", "zip-preview", ""), nil), http.StatusBadRequest, "FileUncompressNotAllowed")
		rq := f.query(q("", "uncompress", ""))
		expectError(t, s.call("POST", f.url("plain.txt"), rq, map[string]any{"targetPath": "out"}, nil), http.StatusBadRequest, "FileUncompressNotAllowed")
		expectError(t, s.call("POST", f.url("none.zip"), rq, map[string]any{"targetPath": "out"}, nil), http.StatusNotFound, "FileNotFound")
		expectError(t, s.call("POST", f.url("docs.zip"), rq, map[string]any{}, nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, s.call("POST", f.url("docs.zip"), rq, map[string]any{"targetPath": "missing/dir"}, nil), http.StatusNotFound, "DirectoryNotFound")
		expectError(t, s.call("POST", f.url("docs.zip"), rq, map[string]any{"targetPath": "../out"}, nil), http.StatusBadRequest, "IllegalFileName")
		expectError(t, s.call("POST", f.url("docs.zip"), rq, map[string]any{"targetPath": "out", "selectedFilePaths": []string{"top/", "top/sub/"}}, nil),
			http.StatusBadRequest, "FileUncompressMultipleDirectoriesNotSupported")
		many := make([]string, 1001)
		for i := range many {
			many[i] = fmt.Sprintf("f%d", i)
		}
		expectError(t, s.call("POST", f.url("docs.zip"), rq, map[string]any{"targetPath": "out", "selectedFilePaths": many}, nil), http.StatusBadRequest, "TooManyItems")

		// Switch off: after the checks before it.
		off := s.createLibrary("archives-off", map[string]any{"isFileLibrary": true})
		offTok := s.mustMint(off, q("", "grant", "admin"))
		fo := fileAPI{s: s, lib: off.ID, space: "-", token: offTok, library: off}
		fo.upload("docs.zip", docs, nil)
		fo.upload("plain.txt", []byte("text"), nil)
		fo.dir().mkdirs(t, offTok, []string{"out"})
		expectError(t, fo.do("GET", "docs.zip", q("", "zip-preview", ""), nil), http.StatusBadRequest, "FunctionNotEnabled")
		expectError(t, fo.do("GET", "plain.txt", q("", "zip-preview", ""), nil), http.StatusBadRequest, "FileUncompressNotAllowed")
		expectError(t, s.call("POST", fo.url("docs.zip"), fo.query(q("", "uncompress", "")), map[string]any{"targetPath": "out"}, nil), http.StatusBadRequest, "FunctionNotEnabled")
		if got := everything(t, fo, "out"); len(got) != 0 {
			t.Fatalf("switched off, yet extracted %q", got)
		}
	})

	t.Run("grants", func(t *testing.T) {
		reader := s.mustMint(lib, q("", "grant", "read_only", "space_id", "alpha", "user_id", "rita"))
		uploader := s.mustMint(lib, q("", "grant", "upload_file", "space_id", "alpha", "user_id", "ulf"))
		both := s.mustMint(lib, q("", "grant", "read_only,upload_file", "space_id", "alpha", "user_id", "bo"))
		spaceAdmin := s.mustMint(lib, q("", "grant", "space_admin", "space_id", "alpha", "user_id", "sam"))
		expectError(t, f.as(reader).do("GET", "docs.zip", q("", "zip-preview", ""), nil), http.StatusForbidden, "NoPermission")
		if r := f.as(spaceAdmin).do("GET", "docs.zip", q("", "zip-preview", ""), nil); r.Status != http.StatusOK {
			t.Fatalf("space_admin preview: %d %s", r.Status, r.Body)
		}
		for _, tok := range []string{reader, uploader} {
			expectError(t, s.call("POST", f.url("docs.zip"), q(tok, "uncompress", ""), map[string]any{"targetPath": "out3"}, nil), http.StatusForbidden, "NoPermission")
		}
		id := uncompress(t, f.as(both), "docs.zip", nil, map[string]any{"targetPath": "out3", "selectedFilePaths": []string{"readme.md"}})
		if res := archiveTask(t, s, lib.ID, "alpha", both, id); res["status"] != float64(200) {
			t.Fatalf("read+upload task %v", res)
		}
		// Another space is for admin only, whatever else the token may do.
		expectError(t, s.call("POST", f.url("docs.zip"), q(spaceAdmin, "uncompress", ""), map[string]any{"targetPath": "/", "targetSpaceId": "beta"}, nil),
			http.StatusForbidden, "NoPermission")
	})

	t.Run("whole archive, then task queries V1 and V2", func(t *testing.T) {
		id := uncompress(t, f, "docs.zip", nil, map[string]any{"targetPath": "out"})
		res := archiveTask(t, s, lib.ID, "alpha", admin, id)
		r := res["fileUncompressResult"].(map[string]any)
		if res["status"] != float64(200) || r["fileCount"] != float64(4) || r["successCount"] != float64(4) || r["failedCount"] != float64(0) || r["outputDir"] != "/out" {
			t.Fatalf("V2 %v", res)
		}
		if _, ok := r["failedItems"]; ok {
			t.Fatalf("failedItems present without failures: %v", r)
		}
		want := []string{"out/readme.md", "out/top/", "out/top/a.txt", "out/top/sub/", "out/top/sub/b.txt", "out/top/sub/c.txt"}
		if got := everything(t, f, "out"); !slices.Equal(got, want) {
			t.Fatalf("extracted %q, want %q", got, want)
		}
		if got := string(f.download("out/top/sub/b.txt")); got != "beta file" {
			t.Fatalf("content %q", got)
		}
		tasks := s.waitTask(t, fmt.Sprintf("/api/v1/task/%s/alpha/%d", lib.ID, int(id)), q(admin), 1)
		if tasks[0]["status"] != float64(200) || tasks[0]["taskId"] != id || tasks[0]["result"].(map[string]any)["successCount"] != float64(4) {
			t.Fatalf("V1 %v", tasks)
		}
	})

	t.Run("selected entries", func(t *testing.T) {
		id := uncompress(t, f, "docs.zip", nil, map[string]any{"targetPath": "sel", "selectedFilePaths": []string{"top/sub/", "readme.md"}})
		if res := archiveTask(t, s, lib.ID, "alpha", admin, id); res["status"] != float64(200) {
			t.Fatalf("selected task %v", res)
		}
		want := []string{"sel/readme.md", "sel/top/", "sel/top/sub/", "sel/top/sub/b.txt", "sel/top/sub/c.txt"}
		if got := everything(t, f, "sel"); !slices.Equal(got, want) {
			t.Fatalf("extracted %q, want %q", got, want)
		}
	})

	t.Run("conflicts: rename, overwrite, ask", func(t *testing.T) {
		sel := map[string]any{"targetPath": "conf", "selectedFilePaths": []string{"readme.md"}}
		archiveTask(t, s, lib.ID, "alpha", admin, uncompress(t, f, "docs.zip", nil, sel))
		id := uncompress(t, f, "docs.zip", nil, sel)
		archiveTask(t, s, lib.ID, "alpha", admin, id)
		if got := everything(t, f, "conf"); !slices.Equal(got, []string{"conf/readme (1).md", "conf/readme.md"}) {
			t.Fatalf("rename: %q", got)
		}
		f.upload("conf/readme.md", []byte("local edit"), q("", "conflict_resolution_strategy", "overwrite"))
		id = uncompress(t, f, "docs.zip", q("", "conflict_resolution_strategy", "overwrite"), sel)
		if res := archiveTask(t, s, lib.ID, "alpha", admin, id); res["status"] != float64(200) || string(f.download("conf/readme.md")) != "# readme" {
			t.Fatalf("overwrite: %v", res)
		}
		id = uncompress(t, f, "docs.zip", q("", "conflict_resolution_strategy", "ask"), sel)
		res := archiveTask(t, s, lib.ID, "alpha", admin, id)
		r := res["fileUncompressResult"].(map[string]any)
		if res["status"] != float64(400) || r["failedCount"] != float64(1) || failedKeys(r)["readme.md"] != "SameNameDirectoryOrFileExists" {
			t.Fatalf("ask: %v", res)
		}
		expectError(t, s.call("POST", f.url("docs.zip"), f.query(q("", "uncompress", "", "conflict_resolution_strategy", "merge")), sel, nil),
			http.StatusBadRequest, "InvalidConflictResolutionStrategy")
	})

	t.Run("into another space (admin)", func(t *testing.T) {
		id := uncompress(t, f, "docs.zip", nil, map[string]any{"targetPath": "/", "targetSpaceId": "beta", "selectedFilePaths": []string{"top/a.txt"}})
		if res := archiveTask(t, s, lib.ID, "alpha", admin, id); res["status"] != float64(200) {
			t.Fatalf("cross-space task %v", res)
		}
		if got := string(beta.download("top/a.txt")); got != "alpha file" {
			t.Fatalf("beta content %q", got)
		}
	})

	t.Run("quota applies to each extracted file (decision 16)", func(t *testing.T) {
		if r := s.call("POST", "/api/v1/space/"+lib.ID, q(admin, "space_id", "gamma"), nil, nil); r.Status != http.StatusCreated {
			t.Fatalf("space gamma: %d %s", r.Status, r.Body)
		}
		if r := s.call("POST", "/api/v1/quota/"+lib.ID, q(admin), map[string]any{"spaces": []string{"gamma"}, "capacity": "15"}, nil); r.Status != http.StatusCreated {
			t.Fatalf("quota: %d %s", r.Status, r.Body)
		}
		// a.txt (10 bytes), b.txt (9) and c.txt (10): any one fits in 15 bytes, no two do. The
		// files are extracted by several workers, so which one lands first is not fixed: exactly
		// one lands and the other two fail on the quota.
		id := uncompress(t, f, "docs.zip", nil, map[string]any{"targetPath": "/", "targetSpaceId": "gamma", "selectedFilePaths": []string{"top/"}})
		res := archiveTask(t, s, lib.ID, "alpha", admin, id)
		r := res["fileUncompressResult"].(map[string]any)
		fails := failedKeys(r)
		if res["status"] != float64(207) || r["successCount"] != float64(1) || len(fails) != 2 {
			t.Fatalf("quota task %v", res)
		}
		gamma := fileAPI{s: s, lib: lib.ID, space: "gamma", token: admin, library: lib}
		got := everything(t, gamma, "")
		var landed []string
		for _, key := range []string{"top/a.txt", "top/sub/b.txt", "top/sub/c.txt"} {
			if code, failed := fails[key]; failed {
				if code != "QuotaLimitReached" {
					t.Errorf("%s failed with %s, want QuotaLimitReached", key, code)
				}
				continue
			}
			landed = append(landed, key)
		}
		if len(landed) != 1 || !slices.Contains(got, landed[0]) || len(got) != 3 {
			t.Fatalf("gamma holds %q; landed %q, failures %v", got, landed, fails)
		}
	})

	t.Run("path escapes and special entries", func(t *testing.T) {
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		for _, name := range []string{"../escape.txt", "ok/../../up.txt", "/abs.txt", `win\evil.txt`, "C:/drive.txt", "nul\x00.txt", "ctl\x01.txt", "fine/good.txt"} {
			fw, err := w.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = fw.Write([]byte("x"))
		}
		lh := &zip.FileHeader{Name: "fine/link"}
		lh.SetMode(0o777 | 1<<27) // a symlink entry
		lw, _ := w.CreateHeader(lh)
		_, _ = lw.Write([]byte("../../../etc/passwd"))
		enc, _ := w.CreateHeader(&zip.FileHeader{Name: "fine/secret.txt", Method: zip.Store, Flags: 0x1})
		_, _ = enc.Write([]byte("cipher"))
		_ = w.Close()
		f.upload("evil.zip", buf.Bytes(), nil)
		d.mkdirs(t, admin, []string{"jail/inner"})
		before := everything(t, f, "")

		id := uncompress(t, f, "evil.zip", q("", "password", "secret"), map[string]any{"targetPath": "jail/inner", "password": "secret"})
		res := archiveTask(t, s, lib.ID, "alpha", admin, id)
		r := res["fileUncompressResult"].(map[string]any)
		if res["status"] != float64(207) || r["successCount"] != float64(1) || r["failedCount"] != float64(9) {
			t.Fatalf("escape task %v", res)
		}
		fails := failedKeys(r)
		for _, k := range []string{"../escape.txt", "ok/../../up.txt", "/abs.txt", `win\evil.txt`, "C:/drive.txt", "nul\x00.txt", "ctl\x01.txt"} {
			if fails[k] != "IllegalFileName" {
				t.Errorf("%q: %q, want IllegalFileName", k, fails[k])
			}
		}
		if fails["fine/link"] != "UnsupportedFileType" || fails["fine/secret.txt"] != "EncryptedFileNotSupported" {
			t.Fatalf("special entries %v", fails)
		}
		after := everything(t, f, "")
		var added []string
		for _, p := range after {
			if !slices.Contains(before, p) {
				added = append(added, p)
			}
		}
		if !slices.Equal(added, []string{"jail/inner/fine/", "jail/inner/fine/good.txt"}) {
			t.Fatalf("written: %q", added)
		}
	})

	t.Run("bombs refused on the bytes read", func(t *testing.T) {
		f.upload("bomb.zip", lyingBomb(t, "zeros.bin"), nil)
		d.mkdirs(t, admin, []string{"boom"})
		// The header's claim is what preview shows; nothing is expanded to list a zip.
		if r := f.do("GET", "bomb.zip", q("", "zip-preview", ""), nil); r.Status != http.StatusOK {
			t.Fatalf("bomb preview: %d %s", r.Status, r.Body)
		}
		id := uncompress(t, f, "bomb.zip", nil, map[string]any{"targetPath": "boom"})
		res := archiveTask(t, s, lib.ID, "alpha", admin, id)
		r := res["fileUncompressResult"].(map[string]any)
		if res["status"] != float64(400) || failedKeys(r)["zeros.bin"] != "FileSizeExceeded" || r["successCount"] != float64(0) {
			t.Fatalf("bomb task %v", res)
		}
		if got := everything(t, f, "boom"); len(got) != 0 {
			t.Fatalf("bomb wrote %q", got)
		}

		// A tar.gz bomb is refused as a whole: listing it expands it.
		var tb bytes.Buffer
		gz := gzip.NewWriter(&tb)
		tw := tar.NewWriter(gz)
		_ = tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: 8 << 20, Typeflag: tar.TypeReg})
		_, _ = tw.Write(make([]byte, 8<<20))
		_ = tw.Close()
		_ = gz.Close()
		f.upload("bomb.tar.gz", tb.Bytes(), nil)
		expectError(t, f.do("GET", "bomb.tar.gz", q("", "zip-preview", ""), nil), http.StatusBadRequest, "FileUncompressNotAllowed")
		id = uncompress(t, f, "bomb.tar.gz", nil, map[string]any{"targetPath": "boom"})
		res = archiveTask(t, s, lib.ID, "alpha", admin, id)
		r, _ = res["fileUncompressResult"].(map[string]any)
		if res["status"] != float64(500) || res["code"] != "FileUncompressNotAllowed" || r["code"] != "FileUncompressNotAllowed" {
			t.Fatalf("tar.gz bomb task %v", res)
		}
		if got := everything(t, f, "boom"); len(got) != 0 {
			t.Fatalf("tar.gz bomb wrote %q", got)
		}
	})

	t.Run("tar archives", func(t *testing.T) {
		var tb bytes.Buffer
		tw := tar.NewWriter(&tb)
		for _, e := range []zipEntry{{"t/one.txt", []byte("one")}, {"t/two.txt", []byte("two")}} {
			_ = tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg})
			_, _ = tw.Write(e.body)
		}
		_ = tw.Close()
		f.upload("t.tar", tb.Bytes(), nil)
		d.mkdirs(t, admin, []string{"tarout"})
		id := uncompress(t, f, "t.tar", nil, map[string]any{"targetPath": "tarout"})
		if res := archiveTask(t, s, lib.ID, "alpha", admin, id); res["status"] != float64(200) {
			t.Fatalf("tar task %v", res)
		}
		if got := everything(t, f, "tarout"); !slices.Equal(got, []string{"tarout/t/", "tarout/t/one.txt", "tarout/t/two.txt"}) {
			t.Fatalf("tar extracted %q", got)
		}
	})

	t.Run("extracted pages never run on the origin", func(t *testing.T) {
		f.upload("page.zip", makeZip(t, zipEntry{"page.html", []byte("<script>alert(document.cookie)</script>")}), nil)
		d.mkdirs(t, admin, []string{"web"})
		id := uncompress(t, f, "page.zip", nil, map[string]any{"targetPath": "web"})
		if res := archiveTask(t, s, lib.ID, "alpha", admin, id); res["status"] != float64(200) {
			t.Fatalf("page task %v", res)
		}
		r := f.do("GET", "web/page.html", nil, nil)
		if r.Status != http.StatusFound {
			t.Fatalf("download: %d %s", r.Status, r.Body)
		}
		got := s.raw("GET", r.Header.Get("Location"), nil, nil)
		if got.Status != http.StatusOK || got.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(got.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("served with %d %v", got.Status, got.Header)
		}
	})

	t.Run("preview truncates at 1000", func(t *testing.T) {
		var entries []zipEntry
		for i := range 1005 {
			entries = append(entries, zipEntry{name: fmt.Sprintf("d/%04d.txt", i)})
		}
		f.upload("many.zip", makeZip(t, entries...), nil)
		r := f.do("GET", "many.zip", q("", "zip-preview", ""), nil)
		m := r.JSON(t)
		if r.Status != http.StatusOK || m["fileNumber"] != float64(1005) || m["isTruncated"] != true || len(m["contents"].([]any)) != 1000 {
			t.Fatalf("truncated preview: %d fileNumber=%v isTruncated=%v", r.Status, m["fileNumber"], m["isTruncated"])
		}
		if !strings.HasPrefix(m["contents"].([]any)[0].(map[string]any)["key"].(string), "d/0000") {
			t.Fatalf("first entry %v", m["contents"].([]any)[0])
		}
	})
}
