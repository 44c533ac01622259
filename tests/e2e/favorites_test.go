package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// Favorites and recently used files over real HTTPS (SMH API section 11, decision 8,
// docs/favorites.md): per-user lists, add by path or inode, cancel (with and without the
// trailing slash), both pagination modes, deleted targets, isFavorite on listing and info, and
// recent files recorded by real downloads, info calls and overwrite uploads.

func TestFavorites(t *testing.T) {
	onEveryEngine(t, testFavorites)
}

// favAPI addresses one space's favorites and recent files as one token.
type favAPI struct {
	s          *system
	lib, space string
	token      string
}

func (a favAPI) query(kv ...string) url.Values { return q(a.token, kv...) }

func (a favAPI) add(body any) response {
	a.s.t.Helper()
	return a.s.call("POST", "/api/v1/favorite/"+a.lib+"/"+a.space, a.query(), body, nil)
}

func (a favAPI) cancel(body any, trailingSlash bool) response {
	a.s.t.Helper()
	p := "/api/v1/favorite/" + a.lib + "/" + a.space
	if trailingSlash {
		p += "/"
	}
	return a.s.call("POST", p, a.query("cancel", ""), body, nil)
}

func (a favAPI) list(kv ...string) response {
	a.s.t.Helper()
	return a.s.call("GET", "/api/v1/favorite/"+a.lib+"/"+a.space+"/list", a.query(kv...), nil, nil)
}

func (a favAPI) recent(body any) response {
	a.s.t.Helper()
	return a.s.call("POST", "/api/v1/recent/"+a.lib+"/"+a.space+"/recently-used-file", a.query(), body, nil)
}

// addInode adds a favorite and answers the inode of its 200 answer.
func (a favAPI) addInode(t *testing.T, body any) string {
	t.Helper()
	r := a.add(body)
	if r.Status != http.StatusOK {
		t.Fatalf("add %v: %d %s", body, r.Status, r.Body)
	}
	in, _ := r.JSON(t)["inode"].(string)
	if in == "" {
		t.Fatalf("add answer without inode: %s", r.Body)
	}
	return in
}

// itemNames answers the names of a listing's items in order ("" for deleted targets).
func itemNames(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, it := range contents(t, r) {
		out = append(out, it["name"].(string))
	}
	return out
}

func testFavorites(t *testing.T, s *system) {
	lib := s.createLibrary("favorites", map[string]any{"isFileLibrary": true, "useRecycleBin": true})
	alice := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"alice"}})
	bob := s.mustMint(lib, url.Values{"user_id": {"bob"}}) // read only: reading the space is enough
	noUser := s.mustMint(lib, url.Values{"grant": {"admin"}})
	f := fileAPI{s: s, lib: lib.ID, space: "-", token: alice, library: lib}
	d := dirAPI{s: s, lib: lib.ID, space: "-"}
	fa := favAPI{s: s, lib: lib.ID, space: "-", token: alice}
	fb := favAPI{s: s, lib: lib.ID, space: "-", token: bob}

	d.mkdirs(t, alice, []string{"docs/deep"})
	f.upload("docs/a.txt", []byte("alpha"), nil)
	f.upload("b.pdf", []byte("%PDF-1.4 bee"), nil)
	f.upload("c.docx", []byte("sea"), nil)
	f.upload("plain.txt", []byte("plain"), nil)

	var deepInode, aInode, bInode, cInode string
	t.Run("add by path or inode, 409 on repeat, 400 and 404 on bad targets", func(t *testing.T) {
		deepInode = fa.addInode(t, map[string]any{"path": "docs/deep"})
		aInode = fa.addInode(t, map[string]any{"path": "/docs/a.txt"})
		bInode = fa.addInode(t, map[string]any{"path": "b.pdf"})
		// The inode wins over the path; it may be a string or a number.
		info := s.call("GET", "/api/v1/directory/"+lib.ID+"/-/c.docx", q(alice, "info", "", "with_inode", "1"), nil, nil).JSON(t)
		cInode = info["inode"].(string)
		if got := fa.addInode(t, map[string]any{"inode": cInode, "path": "b.pdf"}); got != cInode {
			t.Fatalf("inode did not win: %s, want %s", got, cInode)
		}
		expectError(t, fa.add(map[string]any{"path": "b.pdf"}), http.StatusConflict, "DuplicateFavoriteRecord")
		expectError(t, fa.add(map[string]any{"inode": mustNumber(t, bInode)}), http.StatusConflict, "DuplicateFavoriteRecord")
		expectError(t, fa.add(map[string]any{}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.add(map[string]any{"path": "/"}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.add(map[string]any{"inode": "x1"}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.add(map[string]any{"inode": true}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.add("not json"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.add(map[string]any{"path": "nope.txt"}), http.StatusNotFound, "PathNotFound")
		expectError(t, fa.add(map[string]any{"inode": "987654321"}), http.StatusNotFound, "PathNotFound")

		// Bob favorites one file himself with a read-only token.
		if got := fb.addInode(t, map[string]any{"path": "plain.txt"}); got == "" {
			t.Fatal("bob's add")
		}
		// A token without a user id has no favorites (11); user_id on an admin token without
		// one names the acting user (decision 21).
		nu := favAPI{s: s, lib: lib.ID, space: "-", token: noUser}
		expectError(t, nu.add(map[string]any{"path": "b.pdf"}), http.StatusForbidden, "NoPermission")
		expectError(t, nu.list(), http.StatusForbidden, "NoPermission")
		expectError(t, nu.recent(nil), http.StatusForbidden, "NoPermission")
		r := s.call("POST", "/api/v1/favorite/"+lib.ID+"/-", q(noUser, "user_id", "carol"), map[string]any{"path": "b.pdf"}, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("add as carol: %d %s", r.Status, r.Body)
		}
		carol := s.call("GET", "/api/v1/favorite/"+lib.ID+"/-/list", q(noUser, "user_id", "carol"), nil, nil)
		if items := contents(t, carol); len(items) != 1 || items[0]["userId"] != "carol" || items[0]["name"] != "b.pdf" {
			t.Fatalf("carol's list %s", carol.Body)
		}
		// No token at all is refused.
		expectError(t, favAPI{s: s, lib: lib.ID, space: "-"}.list(), http.StatusBadRequest, "EmptyAccessToken")
	})

	t.Run("list: per user, both pagination modes, order, with_path", func(t *testing.T) {
		r := fa.list()
		items := contents(t, r)
		// Default: newest first, marker mode.
		if got := itemNames(t, r); !slices.Equal(got, []string{"c.docx", "b.pdf", "a.txt", "deep"}) {
			t.Fatalf("default order %v", got)
		}
		if r.JSON(t)["nextMarker"] != nil || r.JSON(t)["totalNum"] != nil {
			t.Fatalf("single page answered a marker or a total: %s", r.Body)
		}
		c, deep := items[0], items[3]
		if c["inode"] != cInode || c["type"] != "file" || c["size"] != "3" || c["fileType"] != "word" || c["userId"] != "alice" ||
			c["spaceId"] != "-" || c["favoriteTime"] == "" || c["creationTime"] == "" || c["modificationTime"] == "" || c["path"] != nil {
			t.Fatalf("file item %v", c)
		}
		if deep["inode"] != deepInode || deep["type"] != "dir" || deep["size"] != nil || deep["fileType"] != nil || deep["creationTime"] == nil {
			t.Fatalf("directory item %v", deep)
		}
		// Labels for every live target, metadata for files (11.3).
		if r := d.do("POST", "c.docx", q(alice, "update", ""), map[string]any{"labels": []string{"l1"}, "metaData": map[string]string{"x-smh-meta-k": "v"}}); r.Status != http.StatusNoContent {
			t.Fatalf("update c.docx: %d %s", r.Status, r.Body)
		}
		if r := d.do("POST", "docs/deep", q(alice, "update", ""), map[string]any{"labels": []string{"dl"}}); r.Status != http.StatusNoContent {
			t.Fatalf("update docs/deep: %d %s", r.Status, r.Body)
		}
		attrs := contents(t, fa.list())
		c, deep = attrs[0], attrs[3]
		if labels, _ := c["labels"].([]any); len(labels) != 1 || labels[0] != "l1" {
			t.Fatalf("file item labels %v", c)
		}
		if meta, _ := c["metaData"].(map[string]any); meta["x-smh-meta-k"] != "v" {
			t.Fatalf("file item metaData %v", c)
		}
		if labels, _ := deep["labels"].([]any); len(labels) != 1 || labels[0] != "dl" || len(asMap(deep["metaData"])) != 0 {
			t.Fatalf("directory item labels/metaData %v", deep)
		}
		if got := itemNames(t, fa.list("order_by", "favoriteTime", "order_by_type", "asc")); !slices.Equal(got, []string{"deep", "a.txt", "b.pdf", "c.docx"}) {
			t.Fatalf("asc %v", got)
		}
		for _, v := range []string{"true", "1", ""} { // the bare key counts as true
			withPath := contents(t, fa.list("with_path", v, "order_by_type", "asc"))
			if !slices.Equal(pathOf(withPath[0]["path"]), []string{"docs", "deep"}) || !slices.Equal(pathOf(withPath[1]["path"]), []string{"docs", "a.txt"}) {
				t.Fatalf("with_path=%q %v", v, withPath)
			}
		}
		if items := contents(t, fa.list("with_path", "false")); items[0]["path"] != nil {
			t.Fatalf("with_path=false %v", items[0])
		}
		// Marker mode, one per page.
		var got []string
		marker := ""
		for range 10 {
			kv := []string{"limit", "1"}
			if marker != "" {
				kv = append(kv, "marker", marker)
			}
			r := fa.list(kv...)
			got = append(got, itemNames(t, r)...)
			marker, _ = r.JSON(t)["nextMarker"].(string)
			if marker == "" {
				break
			}
		}
		if !slices.Equal(got, []string{"c.docx", "b.pdf", "a.txt", "deep"}) {
			t.Fatalf("marker pages %v", got)
		}
		// Page mode answers totalNum and no marker.
		r = fa.list("page", "2", "page_size", "3")
		if m := r.JSON(t); m["totalNum"] != float64(4) || m["nextMarker"] != nil {
			t.Fatalf("page mode %s", r.Body)
		}
		if got := itemNames(t, r); !slices.Equal(got, []string{"deep"}) {
			t.Fatalf("page 2 %v", got)
		}
		// Another user's favorites never show.
		if got := itemNames(t, fb.list()); !slices.Equal(got, []string{"plain.txt"}) {
			t.Fatalf("bob's list %v", got)
		}
		expectError(t, fa.list("page", "1", "limit", "2"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.list("limit", "0"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.list("page_size", "101"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.list("order_by", "name"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.list("order_by_type", "up"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.list("with_path", "maybe"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.list("marker", "junk"), http.StatusNotFound, "MarkerNotFound")
	})

	t.Run("with_favorite_status on listing, directory info, file info and inode info", func(t *testing.T) {
		status := func(r response) map[string]any {
			t.Helper()
			out := map[string]any{}
			for _, it := range contents(t, r) {
				out[it["name"].(string)] = it["isFavorite"]
			}
			return out
		}
		root := "/api/v1/directory/" + lib.ID + "/-/"
		got := status(s.call("GET", root, q(alice, "with_favorite_status", "1"), nil, nil))
		want := map[string]any{"docs": false, "b.pdf": true, "c.docx": true, "plain.txt": false}
		for name, v := range want {
			if got[name] != v {
				t.Fatalf("alice's root listing: %s isFavorite %v, want %v (%v)", name, got[name], v, got)
			}
		}
		if got := status(s.call("GET", root, q(bob, "with_favorite_status", "1"), nil, nil)); got["plain.txt"] != true || got["b.pdf"] != false {
			t.Fatalf("bob's root listing %v", got)
		}
		if got := status(s.call("GET", root+"docs", q(alice, "with_favorite_status", "1", "by-page", ""), nil, nil)); got["deep"] != true || got["a.txt"] != true {
			t.Fatalf("docs listing %v", got)
		}
		// Without the flag there is no isFavorite.
		if got := status(s.call("GET", root, q(alice), nil, nil)); got["b.pdf"] != nil {
			t.Fatalf("isFavorite without the flag: %v", got)
		}
		if m := s.call("GET", root+"docs/deep", q(alice, "info", "", "with_favorite_status", "1"), nil, nil).JSON(t); m["isFavorite"] != true {
			t.Fatalf("directory info %v", m)
		}
		if m := s.call("GET", root+"docs/deep", q(bob, "info", "", "with_favorite_status", "1"), nil, nil).JSON(t); m["isFavorite"] != false {
			t.Fatalf("bob's directory info %v", m)
		}
		if r := f.do("GET", "b.pdf", q("", "info", "", "with_favorite_status", "1"), nil); r.JSON(t)["isFavorite"] != true {
			t.Fatalf("file info %s", r.Body)
		}
		if r := f.as(bob).do("GET", "b.pdf", q("", "info", "", "with_favorite_status", "1"), nil); r.JSON(t)["isFavorite"] != false {
			t.Fatalf("bob's file info %s", r.Body)
		}
		if r := f.do("GET", "b.pdf", q("", "info", ""), nil); r.JSON(t)["isFavorite"] != nil {
			t.Fatalf("file info without the flag %s", r.Body)
		}
		inodeURL := "/api/v1/inode/" + lib.ID + "/-/" + cInode
		if m := s.call("GET", inodeURL, q(alice, "with_favorite_status", "1"), nil, nil).JSON(t); m["isFavorite"] != true {
			t.Fatalf("inode info %v", m)
		}
		if m := s.call("GET", inodeURL, q(bob, "with_favorite_status", "1"), nil, nil).JSON(t); m["isFavorite"] != false {
			t.Fatalf("bob's inode info %v", m)
		}
	})

	t.Run("deleted targets stay listed; cancel answers 204, then 404", func(t *testing.T) {
		binned(t, d.do("DELETE", "docs", q(alice), nil))
		items := contents(t, fa.list("order_by_type", "asc", "with_path", "1"))
		if len(items) != 4 {
			t.Fatalf("after deleting docs: %v", items)
		}
		for i, in := range []string{deepInode, aInode} {
			it := items[i]
			if it["inode"] != in || it["name"] != "" || it["userId"] != "alice" || it["favoriteTime"] == "" {
				t.Fatalf("deleted target %v", it)
			}
			for _, k := range []string{"type", "size", "fileType", "creationTime", "modificationTime", "path"} {
				if it[k] != nil {
					t.Fatalf("deleted target carries %s: %v", k, it)
				}
			}
		}
		if items[2]["name"] != "b.pdf" || !slices.Equal(pathOf(items[2]["path"]), []string{"b.pdf"}) {
			t.Fatalf("live target %v", items[2])
		}
		// Cancel a deleted target by inode; Android's trailing slash reaches the same route.
		if r := fa.cancel(map[string]any{"inode": deepInode}, false); r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		if r := fa.cancel(map[string]any{"inode": mustNumber(t, aInode)}, true); r.Status != http.StatusNoContent {
			t.Fatalf("cancel with a trailing slash: %d %s", r.Status, r.Body)
		}
		if r := fa.cancel(map[string]any{"path": "b.pdf"}, true); r.Status != http.StatusNoContent {
			t.Fatalf("cancel by path: %d %s", r.Status, r.Body)
		}
		expectError(t, fa.cancel(map[string]any{"path": "b.pdf"}, false), http.StatusNotFound, "FavoriteIdNotFound")
		expectError(t, fa.cancel(map[string]any{"inode": deepInode}, true), http.StatusNotFound, "FavoriteIdNotFound")
		expectError(t, fa.cancel(map[string]any{"path": "docs/a.txt"}, false), http.StatusNotFound, "FavoriteIdNotFound")
		expectError(t, fa.cancel(map[string]any{}, false), http.StatusBadRequest, "ParamInvalid")
		// Bob's favorite of plain.txt is his: alice cannot cancel it.
		expectError(t, fa.cancel(map[string]any{"path": "plain.txt"}, false), http.StatusNotFound, "FavoriteIdNotFound")
		if got := itemNames(t, fa.list()); !slices.Equal(got, []string{"c.docx"}) {
			t.Fatalf("after cancels %v", got)
		}
		if got := itemNames(t, fb.list()); !slices.Equal(got, []string{"plain.txt"}) {
			t.Fatalf("bob's list after alice's cancels %v", got)
		}
	})

	t.Run("recent files: preview by download and info, modify by overwrite", func(t *testing.T) {
		f.upload("notes.txt", []byte("v1"), nil)
		f.upload("sheet.xlsx", []byte("cells"), nil)
		// Not recorded: a plain download, a download for download, info without purpose, pre_check.
		f.download("plain.txt")
		if r := f.do("GET", "plain.txt", q("", "purpose", "download"), nil); r.Status != http.StatusFound {
			t.Fatalf("download: %d", r.Status)
		}
		f.do("GET", "plain.txt", q("", "info", ""), nil)
		f.do("GET", "plain.txt", q("", "info", "", "purpose", "preview", "pre_check", "1"), nil)
		if items := contents(t, fa.recent(nil)); len(items) != 0 {
			t.Fatalf("recorded without purpose=preview: %v", items)
		}
		// Recorded, oldest first: a download for preview, an info for preview, an overwrite. The
		// system's clock is a fake one: each action happens a second after the last.
		if r := f.do("GET", "b.pdf", q("", "purpose", "preview"), nil); r.Status != http.StatusFound {
			t.Fatalf("preview download: %d %s", r.Status, r.Body)
		}
		s.fakeClock().Advance(time.Second)
		if r := f.do("GET", "sheet.xlsx", q("", "info", "", "purpose", "preview"), nil); r.Status != http.StatusOK {
			t.Fatalf("preview info: %d %s", r.Status, r.Body)
		}
		s.fakeClock().Advance(time.Second)
		f.upload("notes.txt", []byte("v2"), q("", "conflict_resolution_strategy", "overwrite"))
		s.fakeClock().Advance(time.Second)
		// Bob previews the pdf too: his list, not alice's.
		if r := f.as(bob).do("GET", "b.pdf", q("", "purpose", "preview"), nil); r.Status != http.StatusFound {
			t.Fatalf("bob's preview: %d", r.Status)
		}
		// A repeat refreshes the entry instead of adding one: b.pdf moves to the top.
		s.fakeClock().Advance(time.Second)
		if r := f.do("GET", "b.pdf", q("", "purpose", "preview"), nil); r.Status != http.StatusFound {
			t.Fatalf("second preview: %d", r.Status)
		}

		r := fa.recent(nil)
		items := contents(t, r)
		if got := itemNames(t, r); !slices.Equal(got, []string{"b.pdf", "notes.txt", "sheet.xlsx"}) {
			t.Fatalf("recent %v", got)
		}
		if items[0]["actionType"] != "preview" || items[1]["actionType"] != "modify" || items[0]["size"] == nil ||
			items[0]["spaceId"] != "-" || items[0]["inode"] != bInode || items[0]["operationTime"] == "" ||
			items[0]["creationTime"] == "" || items[0]["crc64"] == "" || items[0]["path"] != nil || items[1]["size"] != "2" {
			t.Fatalf("recent items %v", items)
		}
		if got := itemNames(t, fb.recent(map[string]any{})); !slices.Equal(got, []string{"b.pdf"}) {
			t.Fatalf("bob's recent %v", got)
		}
		if got := itemNames(t, fa.recent(map[string]any{"filterActionBy": "modify"})); !slices.Equal(got, []string{"notes.txt"}) {
			t.Fatalf("modify only %v", got)
		}
		if got := itemNames(t, fa.recent(map[string]any{"filterActionBy": "preview", "type": "document"})); !slices.Equal(got, []string{"b.pdf", "sheet.xlsx"}) {
			t.Fatalf("documents %v", got)
		}
		if got := itemNames(t, fa.recent(map[string]any{"type": []string{"excel", ".TXT"}})); !slices.Equal(got, []string{"notes.txt", "sheet.xlsx"}) {
			t.Fatalf("excel and .txt %v", got)
		}
		if got := itemNames(t, fa.recent(map[string]any{"type": "pdf", "withPath": true})); !slices.Equal(got, []string{"b.pdf"}) {
			t.Fatalf("pdf %v", got)
		} else if it := contents(t, fa.recent(map[string]any{"type": "pdf", "withPath": true}))[0]; !slices.Equal(pathOf(it["path"]), []string{"b.pdf"}) {
			t.Fatalf("withPath %v", it)
		}
		if items := contents(t, fa.recent(map[string]any{"type": "unheard-of"})); len(items) != 0 {
			t.Fatalf("unknown type matched %v", items)
		}
		// Marker pagination.
		var got []string
		body := map[string]any{"limit": 1}
		for range 10 {
			r := fa.recent(body)
			got = append(got, itemNames(t, r)...)
			m, _ := r.JSON(t)["nextMarker"].(string)
			if m == "" {
				break
			}
			body = map[string]any{"limit": 1, "marker": m}
		}
		if !slices.Equal(got, []string{"b.pdf", "notes.txt", "sheet.xlsx"}) {
			t.Fatalf("recent pages %v", got)
		}
		// A deleted file leaves the list.
		binned(t, f.do("DELETE", "sheet.xlsx", nil, nil))
		if got := itemNames(t, fa.recent(nil)); !slices.Equal(got, []string{"b.pdf", "notes.txt"}) {
			t.Fatalf("after deleting sheet.xlsx %v", got)
		}
		expectError(t, fa.recent(map[string]any{"limit": 0}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.recent(map[string]any{"limit": 101}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.recent(map[string]any{"filterActionBy": "open"}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.recent(map[string]any{"type": 3}), http.StatusBadRequest, "ParamInvalid")
		expectError(t, fa.recent(map[string]any{"marker": "junk"}), http.StatusNotFound, "MarkerNotFound")
		expectError(t, fa.recent("[1,2"), http.StatusBadRequest, "ParamInvalid")
	})
}

// TestSearchFavoriteStatus checks with_favorite_status on search results (8.2): the search use
// case asks the favorites store, for the acting user.
func TestSearchFavoriteStatus(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *system) {
		lib := s.createLibrary("search-favorites", map[string]any{"isFileLibrary": true, "enableSearch": true})
		alice := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"alice"}})
		bob := s.mustMint(lib, url.Values{"user_id": {"bob"}})
		f := fileAPI{s: s, lib: lib.ID, space: "-", token: alice, library: lib}
		f.upload("report-one.txt", []byte("1"), nil)
		f.upload("report-two.txt", []byte("2"), nil)
		favAPI{s: s, lib: lib.ID, space: "-", token: alice}.addInode(t, map[string]any{"path": "report-two.txt"})
		search := func(token string, kv ...string) map[string]any {
			t.Helper()
			r := s.call("POST", "/api/v1/search/"+lib.ID+"/-/search-fs", q(token, kv...), map[string]any{"keywords": []string{"report"}}, nil)
			out := map[string]any{}
			for _, it := range contents(t, r) {
				out[it["name"].(string)] = it["isFavorite"]
			}
			return out
		}
		if got := search(alice, "with_favorite_status", "1"); got["report-two.txt"] != true || got["report-one.txt"] != false {
			t.Fatalf("alice's search %v", got)
		}
		if got := search(bob, "with_favorite_status", "1"); got["report-two.txt"] != false || got["report-one.txt"] != false {
			t.Fatalf("bob's search %v", got)
		}
		if got := search(alice); got["report-two.txt"] != nil {
			t.Fatalf("isFavorite without the flag %v", got)
		}
	})
}

// mustNumber answers a decimal inode as a JSON number.
func mustNumber(t *testing.T, s string) float64 {
	t.Helper()
	var n float64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("inode %q is not decimal", s)
		}
		n = n*10 + float64(c-'0')
	}
	return n
}

// asMap answers v as a JSON object (nil for anything else).
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
