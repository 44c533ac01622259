package e2e

// Issue 10, item 3: custom metadata cannot forge the headers of a download. The attacks are the
// ones reported: a metaData key "location" on ?update made the next download answer with the
// attacker's Location first; x-smh-http-status, etag, x-smh-crc64, x-smh-size and
// x-smh-request-id could be set the same way; a 500 KB x-smh-meta-* header at begin was stored
// and made the file unreadable to curl and Python.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// forgeable are the headers the service sets on a download or HEAD, and a cookie for good measure.
var forgeable = []string{
	"location", "Location", "x-smh-http-status", "etag", "ETag", "x-smh-etag", "x-smh-crc64", "x-smh-size",
	"x-smh-request-id", "x-smh-type", "x-smh-content-type", "x-smh-creation-time", "content-type",
	"content-disposition", "set-cookie", "cache-control", "access-control-allow-origin",
}

// ourHeaders are the x-smh-* headers of a file (3.8, 3.10) a test compares before and after.
var ourHeaders = []string{"x-smh-type", "x-smh-creation-time", "x-smh-content-type", "x-smh-size", "x-smh-etag", "x-smh-crc64"}

// forgeryTarget is a file library holding a.txt with x-smh-meta-color: blue, given at begin.
func forgeryTarget(t *testing.T, s *system) fileAPI {
	t.Helper()
	f := fileLibrary(t, s, nil)
	r := f.doWith("PUT", "a.txt", nil, nil, http.Header{"X-Smh-Meta-Color": {"blue"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("begin: %d %s", r.Status, r.Body)
	}
	var tk ticket
	if err := json.Unmarshal(r.Body, &tk); err != nil {
		t.Fatal(err)
	}
	data := []byte("the file an attacker would like to redirect")
	if put := f.send(tk, "", data); put.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", put.Status, put.Body)
	}
	if c := f.confirm(tk.ConfirmKey, nil, map[string]any{"crc64": crcOf(data)}); c.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", c.Status, c.Body)
	}
	return f
}

// fileHeaders answers the headers a download (GET, a 302) and a HEAD of name carry, having
// checked what must hold whatever was stored: one Location, ours, and one request id, and no
// header outside our own and x-smh-meta-*.
func fileHeaders(t *testing.T, f fileAPI, name string) (get, head http.Header) {
	t.Helper()
	g := f.do("GET", name, nil, nil)
	if g.Status != http.StatusFound {
		t.Fatalf("download: %d %s", g.Status, g.Body)
	}
	if loc := g.Header.Values("Location"); len(loc) != 1 || !strings.HasPrefix(loc[0], f.s.url+"/") {
		t.Fatalf("download Location %q, want exactly one, on %s", loc, f.s.url)
	}
	h := f.do("HEAD", name, nil, nil)
	if h.Status != http.StatusOK {
		t.Fatalf("HEAD: %d", h.Status)
	}
	for method, hdr := range map[string]http.Header{"GET": g.Header, "HEAD": h.Header} {
		if ids := hdr.Values("X-Smh-Request-Id"); len(ids) != 1 || ids[0] == "forged" {
			t.Fatalf("%s request ids %q, want exactly one of ours", method, ids)
		}
		for _, k := range []string{"X-Smh-Http-Status", "Set-Cookie", "Etag"} {
			if v := hdr.Values(k); len(v) != 0 {
				t.Fatalf("%s answered %s: %q", method, k, v)
			}
		}
		for _, k := range ourHeaders {
			if v := hdr.Values(k); len(v) != 1 {
				t.Fatalf("%s %s = %q, want exactly one", method, k, v)
			}
		}
	}
	return g.Header, h.Header
}

// metaHeaders answers the x-smh-meta-* headers of hdr.
func metaHeaders(hdr http.Header) map[string][]string {
	out := map[string][]string{}
	for k, v := range hdr {
		if strings.HasPrefix(strings.ToLower(k), fileattr.MetaPrefix) {
			out[strings.ToLower(k)] = v
		}
	}
	return out
}

// unchanged checks that name still answers exactly as before: the same metaData in ?info, the
// same x-smh-* and x-smh-meta-* headers on GET and HEAD, and the same bytes.
func unchanged(t *testing.T, f fileAPI, name string, beforeGet, beforeHead http.Header, beforeMeta any) {
	t.Helper()
	get, head := fileHeaders(t, f, name)
	for _, pair := range [][2]http.Header{{beforeGet, get}, {beforeHead, head}} {
		for _, k := range ourHeaders {
			if !slices.Equal(pair[0].Values(k), pair[1].Values(k)) {
				t.Fatalf("%s was %q, now %q", k, pair[0].Values(k), pair[1].Values(k))
			}
		}
		if !maps.EqualFunc(metaHeaders(pair[0]), metaHeaders(pair[1]), slices.Equal) {
			t.Fatalf("metadata headers were %v, now %v", metaHeaders(pair[0]), metaHeaders(pair[1]))
		}
	}
	if info := f.do("GET", name, q("", "info", ""), nil).JSON(t); fmt.Sprint(info["metaData"]) != fmt.Sprint(beforeMeta) {
		t.Fatalf("metaData was %v, now %v", beforeMeta, info["metaData"])
	}
	if got := f.download(name); string(got) != "the file an attacker would like to redirect" {
		t.Fatalf("download answers %q", got)
	}
}

func TestMetadataCannotForgeHeaders(t *testing.T) { onEveryEngine(t, testMetadataCannotForgeHeaders) }

func testMetadataCannotForgeHeaders(t *testing.T, s *system) {
	f := forgeryTarget(t, s)
	get, head := fileHeaders(t, f, "a.txt")
	if m := metaHeaders(get); len(m) != 1 || m["x-smh-meta-color"][0] != "blue" || head.Get("x-smh-meta-color") != "blue" {
		t.Fatalf("metadata headers %v, HEAD %v", m, metaHeaders(head))
	}
	meta := f.do("GET", "a.txt", q("", "info", ""), nil).JSON(t)["metaData"]
	if fmt.Sprint(meta) != "map[x-smh-meta-color:blue]" {
		t.Fatalf("metaData %v", meta)
	}
	update := func(body any) response {
		t.Helper()
		return f.dir().do("POST", "a.txt", f.query(q("", "update", "")), body)
	}

	t.Run("update with a bare or foreign key", func(t *testing.T) {
		tried := 0
		for _, key := range append(slices.Clone(forgeable), "x-smh-meta-", "x-smh-meta-a_b", "x-smh-meta-a.b", "x-smh-meta-a b",
			"x-smh-meta-a:b", "x-smh-meta-a\r\nlocation", "x-smh-meta-\u212a", "meta-color", "color") {
			for _, directive := range []string{"replace", "merge"} {
				body := map[string]any{"metaData": map[string]string{key: "https://evil.example/x"}, "metaDataDirective": directive}
				expectError(t, update(body), http.StatusBadRequest, "ParamInvalid")
				tried++
			}
		}
		t.Logf("%d forged keys refused", tried)
		unchanged(t, f, "a.txt", get, head, meta)
	})

	t.Run("update with a value that is not header-safe", func(t *testing.T) {
		for _, v := range []string{"v\r\nLocation: https://evil.example/x", "v\nx", "v\rx", "v\x00", "v\tw", "v\x7f", "蓝", "v\u2028"} {
			for _, directive := range []string{"replace", "merge"} {
				expectError(t, update(map[string]any{"metaData": map[string]string{"x-smh-meta-note": v}, "metaDataDirective": directive}),
					http.StatusBadRequest, "ParamInvalid")
			}
		}
		unchanged(t, f, "a.txt", get, head, meta)
	})

	t.Run("update with two spellings of one key", func(t *testing.T) {
		expectError(t, update(map[string]any{"metaData": map[string]string{"x-smh-meta-A": "1", "x-smh-meta-a": "2"}}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, update(map[string]any{"metaData": map[string]any{"X-Smh-Meta-A": "1", "x-smh-meta-a": nil}, "metaDataDirective": "merge"}),
			http.StatusBadRequest, "ParamInvalid")
		unchanged(t, f, "a.txt", get, head, meta)
	})

	t.Run("begin with forged headers", func(t *testing.T) {
		// Headers outside x-smh-meta- are not metadata: begin takes them as any HTTP request's
		// other headers, and the file answers with ours only.
		h := http.Header{"X-Smh-Meta-Color": {"green"}}
		for _, k := range forgeable {
			h.Set(k, "https://evil.example/x")
			h.Set("Grpc-Metadata-"+k, "https://evil.example/x")
		}
		h.Set("Content-Type", "application/json")
		r := f.doWith("PUT", "b.txt", nil, nil, h)
		if r.Status != http.StatusCreated {
			t.Fatalf("begin: %d %s", r.Status, r.Body)
		}
		var tk ticket
		if err := json.Unmarshal(r.Body, &tk); err != nil {
			t.Fatal(err)
		}
		f.send(tk, "", []byte("b"))
		if c := f.confirm(tk.ConfirmKey, nil, nil); c.Status != http.StatusOK || fmt.Sprint(c.JSON(t)["metaData"]) != "map[x-smh-meta-color:green]" {
			t.Fatalf("confirm: %d %s", c.Status, c.Body)
		}
		g, _ := fileHeaders(t, f, "b.txt")
		if m := metaHeaders(g); len(m) != 1 || m["x-smh-meta-color"][0] != "green" {
			t.Fatalf("metadata headers %v", m)
		}
		// x-smh-meta-* headers that break the rules are refused, and begin leaves nothing.
		refused := map[string]http.Header{
			"underscore":       {"X-Smh-Meta-A_b": {"v"}},
			"dot":              {"X-Smh-Meta-A.b": {"v"}},
			"empty name":       {"X-Smh-Meta-": {"v"}},
			"tab in value":     {"X-Smh-Meta-A": {"v\tw"}},
			"UTF-8 in value":   {"X-Smh-Meta-A": {"蓝"}},
			"repeated":         {"X-Smh-Meta-A": {"1", "2"}},
			"over 2 KB":        {"X-Smh-Meta-A": {strings.Repeat("a", fileattr.MaxMetaBytes)}},
			"over 2 KB summed": {"X-Smh-Meta-A": {strings.Repeat("a", 1100)}, "X-Smh-Meta-B": {strings.Repeat("b", 1100)}},
		}
		for name, h := range refused {
			t.Run(name, func(t *testing.T) {
				expectError(t, f.doWith("PUT", "c.txt", nil, nil, h), http.StatusBadRequest, "ParamInvalid")
				expectError(t, f.doWith("POST", "c.txt", q("", "multipart", ""), nil, h), http.StatusBadRequest, "ParamInvalid")
			})
		}
		if names, _ := f.list(""); !slices.Equal(names, []string{"a.txt", "b.txt"}) {
			t.Fatalf("files after refused begins: %v", names)
		}
		unchanged(t, f, "a.txt", get, head, meta)
	})

	t.Run("500 KB header", func(t *testing.T) {
		huge := http.Header{"X-Smh-Meta-Big": {strings.Repeat("a", 500<<10)}}
		expectError(t, f.doWith("PUT", "huge.txt", nil, nil, huge), http.StatusRequestHeaderFieldsTooLarge, "HeaderFieldsTooLarge")
		// The same on every business call, a download of the file included.
		r := f.s.call("GET", f.url("a.txt"), f.query(nil), nil, huge)
		expectError(t, r, http.StatusRequestHeaderFieldsTooLarge, "HeaderFieldsTooLarge")
		if names, _ := f.list(""); slices.Contains(names, "huge.txt") {
			t.Fatalf("files: %v", names)
		}
		unchanged(t, f, "a.txt", get, head, meta)
	})
}

// Bounds of metadata, labels and category at begin, confirm and ?update: at the limit accepted,
// over it 400 ParamInvalid with nothing changed.
func TestFileAttributeBounds(t *testing.T) { onEveryEngine(t, testFileAttributeBounds) }

func testFileAttributeBounds(t *testing.T, s *system) {
	f := fileLibrary(t, s, nil)
	labels := func(n, chars int) []string { return slices.Repeat([]string{strings.Repeat("标", chars)}, n) }
	// metaOf makes one pair whose key and value take n bytes together.
	metaOf := func(n int) map[string]string {
		return map[string]string{"x-smh-meta-big": strings.Repeat("v", n-len("x-smh-meta-big"))}
	}
	atLimit := map[string]any{"labels": labels(fileattr.MaxLabels, fileattr.MaxLabelChars), "category": strings.Repeat("c", fileattr.MaxCategoryBytes)}
	over := map[string]map[string]any{
		"too many labels":   {"labels": labels(fileattr.MaxLabels+1, 1)},
		"too long a label":  {"labels": labels(1, fileattr.MaxLabelChars+1)},
		"empty label":       {"labels": []string{""}},
		"control in label":  {"labels": []string{"a\nb"}},
		"too long category": {"category": strings.Repeat("c", fileattr.MaxCategoryBytes+1)},
		"control category":  {"category": "a\x00"},
	}

	t.Run("begin", func(t *testing.T) {
		for name, body := range over {
			t.Run(name, func(t *testing.T) {
				expectError(t, f.do("PUT", "x.txt", nil, body), http.StatusBadRequest, "ParamInvalid")
				expectError(t, f.do("POST", "x.txt", q("", "multipart", ""), body), http.StatusBadRequest, "ParamInvalid")
			})
		}
		h := http.Header{}
		for k, v := range metaOf(fileattr.MaxMetaBytes) {
			h.Set(k, v)
		}
		r := f.doWith("PUT", "limit.txt", nil, atLimit, h)
		if r.Status != http.StatusCreated {
			t.Fatalf("begin at the limits: %d %s", r.Status, r.Body)
		}
		var tk ticket
		if err := json.Unmarshal(r.Body, &tk); err != nil {
			t.Fatal(err)
		}
		f.send(tk, "", []byte("limit"))
		c := f.confirm(tk.ConfirmKey, nil, nil)
		if c.Status != http.StatusOK {
			t.Fatalf("confirm at the limits: %d %s", c.Status, c.Body)
		}
		m := c.JSON(t)
		if got := m["metaData"].(map[string]any)["x-smh-meta-big"]; got != metaOf(fileattr.MaxMetaBytes)["x-smh-meta-big"] ||
			len(m["labels"].([]any)) != fileattr.MaxLabels || m["category"] != atLimit["category"] {
			t.Fatalf("confirmed at the limits: labels %d, category %v", len(m["labels"].([]any)), m["category"])
		}
		if g := f.do("GET", "limit.txt", nil, nil); g.Header.Get("x-smh-meta-big") == "" {
			t.Fatal("metadata at the limit is not sent")
		}
	})

	t.Run("confirm", func(t *testing.T) {
		tk := f.begin("y.txt", nil, map[string]any{"labels": []string{"from-begin"}})
		f.send(tk, "", []byte("y"))
		for name, body := range over {
			t.Run(name, func(t *testing.T) {
				expectError(t, f.confirm(tk.ConfirmKey, nil, body), http.StatusBadRequest, "ParamInvalid")
			})
		}
		// The confirm body has no metaData (3.4): a client that sends one is told so.
		expectError(t, f.confirm(tk.ConfirmKey, nil, map[string]any{"metaData": map[string]string{"location": "https://evil.example/x"}}),
			http.StatusBadRequest, "ParamInvalid")
		if names, _ := f.list(""); slices.Contains(names, "y.txt") {
			t.Fatalf("a refused confirm made the file: %v", names)
		}
		// The session is still open: a confirm at the limits completes it.
		c := f.confirm(tk.ConfirmKey, nil, atLimit)
		if c.Status != http.StatusOK || len(c.JSON(t)["labels"].([]any)) != fileattr.MaxLabels {
			t.Fatalf("confirm at the limits: %d %s", c.Status, c.Body)
		}
	})

	t.Run("update", func(t *testing.T) {
		update := func(body any) response {
			t.Helper()
			return f.dir().do("POST", "y.txt", f.query(q("", "update", "")), body)
		}
		info := func() map[string]any { return f.do("GET", "y.txt", q("", "info", ""), nil).JSON(t) }
		if r := update(map[string]any{"metaData": metaOf(fileattr.MaxMetaBytes), "labels": labels(fileattr.MaxLabels, fileattr.MaxLabelChars)}); r.Status != http.StatusNoContent {
			t.Fatalf("update at the limits: %d %s", r.Status, r.Body)
		}
		before := info()
		for _, body := range []map[string]any{
			{"metaData": metaOf(fileattr.MaxMetaBytes + 1)},
			{"metaData": metaOf(fileattr.MaxMetaBytes + 1), "metaDataDirective": "merge"},
			// A merge judged on its result: one more byte over what is stored.
			{"metaData": map[string]string{"x-smh-meta-z": ""}, "metaDataDirective": "merge"},
			{"labels": labels(fileattr.MaxLabels+1, 1)},
			{"labels": labels(1, fileattr.MaxLabelChars+1)},
			{"labels": []string{"a\r\nb"}},
		} {
			expectError(t, update(body), http.StatusBadRequest, "ParamInvalid")
		}
		if after := info(); fmt.Sprint(after["metaData"]) != fmt.Sprint(before["metaData"]) || fmt.Sprint(after["labels"]) != fmt.Sprint(before["labels"]) {
			t.Fatalf("refused updates changed the file: %v %v", after["metaData"], after["labels"])
		}
		// Keys arrive folded to lower case, and a merge's null removes a key.
		if r := update(map[string]any{"metaData": map[string]any{"X-SMH-Meta-Big": nil, "X-Smh-Meta-Shade": "teal"}, "metaDataDirective": "merge"}); r.Status != http.StatusNoContent {
			t.Fatalf("merge: %d %s", r.Status, r.Body)
		}
		if m := info()["metaData"]; fmt.Sprint(m) != "map[x-smh-meta-shade:teal]" {
			t.Fatalf("metaData after the merge: %v", m)
		}
	})

	t.Run("directory create", func(t *testing.T) {
		d := f.dir()
		expectError(t, d.do("PUT", "d1", f.query(nil), map[string]any{"metaData": map[string]string{"location": "https://evil.example/x"}}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, d.do("PUT", "d1", f.query(nil), map[string]any{"metaData": metaOf(fileattr.MaxMetaBytes + 1)}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, d.do("PUT", "d1", f.query(nil), map[string]any{"labels": labels(fileattr.MaxLabels+1, 1)}), http.StatusBadRequest, "ParamInvalid")
		if names, _ := f.list(""); slices.Contains(names, "d1") {
			t.Fatalf("a refused create made the directory: %v", names)
		}
		r := d.do("PUT", "d1", f.query(nil), map[string]any{"metaData": map[string]string{"X-Smh-Meta-Owner": "ann"}})
		if r.Status != http.StatusCreated || fmt.Sprint(r.JSON(t)["metaData"]) != "map[x-smh-meta-owner:ann]" {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
	})
}

// A row written before these rules, or behind the API's back, still cannot forge a header: the
// service sends only the pairs that pass them, under x-smh-meta-.
func TestStoredMetadataCannotForgeHeaders(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			s := startSystemOn(t, dsn)
			f := forgeryTarget(t, s)
			get, head := fileHeaders(t, f, "a.txt")

			hostile := map[string]string{
				"location": "https://evil.example/x", "Location": "https://evil.example/y", "x-smh-http-status": "200",
				"etag": `"forged"`, "x-smh-crc64": "1", "x-smh-size": "1", "x-smh-request-id": "forged",
				"set-cookie": "session=forged", "content-type": "text/html",
				"x-smh-meta-crlf": "v\r\nLocation: https://evil.example/z", "x-smh-meta-A": "upper", "x-smh-meta-a_b": "underscore",
				"x-smh-meta-big": strings.Repeat("b", 500<<10), "x-smh-meta-color": "red",
			}
			raw, err := json.Marshal(hostile)
			if err != nil {
				t.Fatal(err)
			}
			db, err := sqldb.Open(t.Context(), dsn, sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.InWrite(t.Context(), func(tx *sqldb.Tx) error {
				res, err := tx.Exec(context.Background(), "UPDATE nodes SET metadata = ? WHERE name = ?", string(raw), "a.txt")
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil || n != 1 {
					return fmt.Errorf("updated %d rows, %v", n, err)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("write the hostile row: %v", err)
			}

			g, h := fileHeaders(t, f, "a.txt")
			for _, hdr := range []http.Header{g, h} {
				if m := metaHeaders(hdr); len(m) != 1 || !slices.Equal(m["x-smh-meta-color"], []string{"red"}) {
					t.Fatalf("metadata headers %v, want only x-smh-meta-color: red", m)
				}
				if ct := hdr.Values("Content-Type"); slices.Contains(ct, "text/html") {
					t.Fatalf("Content-Type %q", ct)
				}
			}
			for _, k := range ourHeaders {
				if !slices.Equal(g.Values(k), get.Values(k)) || !slices.Equal(h.Values(k), head.Values(k)) {
					t.Fatalf("%s was %q, now %q", k, get.Values(k), g.Values(k))
				}
			}
			// The row is the caller's to clean: a replace sets valid metadata again.
			r := f.dir().do("POST", "a.txt", f.query(q("", "update", "")), map[string]any{"metaData": map[string]string{"x-smh-meta-color": "blue"}})
			if r.Status != http.StatusNoContent {
				t.Fatalf("replace: %d %s", r.Status, r.Body)
			}
			if m := metaHeaders(f.do("HEAD", "a.txt", nil, nil).Header); len(m) != 1 || m["x-smh-meta-color"][0] != "blue" {
				t.Fatalf("after the replace: %v", m)
			}
		})
	}
}
