package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLifecycle drives the lifecycle views of a library's detail page (issue 11 item 5): a
// file's versions (download, restore, delete), the recycle bin (list with paging, restore,
// purge, empty) and the space's quota bar, in English and in Chinese. One library with the bin
// and history on; the steps run in order on it.
func TestLifecycle(t *testing.T) {
	exe := requireChromium(t)
	s := startSystem(t)
	b := startBrowser(t, s, exe)
	lib := s.createLibrary(t, "Lifecycle", map[string]any{
		"isFileLibrary":     true,
		"useRecycleBin":     true,
		"enableFileHistory": true,
		"fileHistoryCount":  10,
	})
	if !lib.LibraryExtension.UseRecycleBin {
		t.Fatalf("the library was created without the recycle bin: %+v", lib.LibraryExtension)
	}
	api := &lifecycleAPI{s: s, lib: lib}
	runScenarios(t, b, s, api, []scenario[*lifecycleAPI]{
		{"Versions", testVersions},
		{"RecycleBin", testRecycleBin},
		{"RecycleBinPaging", testRecycleBinPaging},
		{"Quota", testQuotaBar},
		{"Chinese", testLifecycleChinese},
		{"MultiTenantSpace", testLifecycleSpace},
	})
}

// lifecycleAPI calls the business API of the test's library with an admin token, for setup and
// for checking what the console did.
type lifecycleAPI struct {
	s   *system
	lib library
	tok string
}

func (a *lifecycleAPI) token(t testing.TB) string {
	t.Helper()
	if a.tok == "" {
		st, tok := a.s.mint(t, a.lib.LibraryID, a.s.secret(t, a.lib.LibraryID))
		if st != http.StatusOK {
			t.Fatalf("mint a token: %d", st)
		}
		a.tok = tok
	}
	return a.tok
}

// call sends a business-API call to path (below /api/v1/, with {lib} replaced) with the token
// and query, and a JSON body when body is not nil.
func (a *lifecycleAPI) call(t testing.TB, method, path string, query url.Values, body any) response {
	t.Helper()
	if query == nil {
		query = url.Values{}
	}
	query.Set("access_token", a.token(t))
	path = strings.ReplaceAll(path, "{lib}", a.lib.LibraryID)
	return a.s.call(t, method, "/api/v1/"+path+"?"+query.Encode(), body, nil)
}

// escapePath percent-encodes each segment of a slash-separated path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// put uploads data to path in the space "-": begin with conflict strategy overwrite (so an
// existing file keeps its content as a version), the bytes to the ticket's target, confirm.
func (a *lifecycleAPI) put(t testing.TB, path string, data []byte) {
	t.Helper()
	r := a.call(t, "PUT", "file/{lib}/-/"+escapePath(path), url.Values{
		"conflict_resolution_strategy": {"overwrite"}, "filesize": {fmt.Sprint(len(data))}}, nil)
	var tk struct {
		Domain     string            `json:"domain"`
		Path       string            `json:"path"`
		Headers    map[string]string `json:"headers"`
		ConfirmKey string            `json:"confirmKey"`
	}
	if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &tk) != nil {
		t.Fatalf("begin %s: %d %s", path, r.Status, r.Body)
	}
	req, err := http.NewRequestWithContext(t.Context(), "PUT", "https://"+tk.Domain+tk.Path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range tk.Headers {
		req.Header.Set(k, v)
	}
	resp, err := a.s.http.Do(req)
	if err != nil {
		t.Fatalf("PUT the bytes of %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT the bytes of %s: %d", path, resp.StatusCode)
	}
	if r := a.call(t, "POST", "file/{lib}/-/"+url.PathEscape(tk.ConfirmKey), url.Values{"confirm": {""}}, nil); r.Status != http.StatusOK {
		t.Fatalf("confirm %s: %d %s", path, r.Status, r.Body)
	}
}

// fileBytes answers the status and the bytes of a file (following the redirect to them).
func (a *lifecycleAPI) fileBytes(t testing.TB, path string) response {
	t.Helper()
	return a.call(t, "GET", "file/{lib}/-/"+escapePath(path), nil, nil)
}

// version is a history list item as far as the tests read it.
type version struct {
	ID       *json.Number `json:"id"`
	Version  int          `json:"version"`
	IsLatest bool         `json:"isLatestVersion"`
}

func (a *lifecycleAPI) versions(t testing.TB, path string) []version {
	t.Helper()
	r := a.call(t, "GET", "directory-history/{lib}/-/history-list/"+escapePath(path), url.Values{"limit": {"100"}}, nil)
	var out struct {
		Contents []version `json:"contents"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &out) != nil {
		t.Fatalf("history list of %s: %d %s", path, r.Status, r.Body)
	}
	return out.Contents
}

// binItem is a recycle-bin list item as far as the tests read it.
type binItem struct {
	ID           json.Number `json:"recycledItemId"`
	Name         string      `json:"name"`
	RemovalTime  string      `json:"removalTime"`
	OriginalPath []string    `json:"originalPath"`
}

// bin answers every item of the space's bin, as the API lists them.
func (a *lifecycleAPI) bin(t testing.TB) []binItem {
	t.Helper()
	var all []binItem
	marker := ""
	for {
		q := url.Values{"by-marker": {"1"}, "limit": {"100"}}
		if marker != "" {
			q.Set("marker", marker)
		}
		r := a.call(t, "GET", "recycled/{lib}/-", q, nil)
		var page struct {
			NextMarker string    `json:"nextMarker"`
			Contents   []binItem `json:"contents"`
		}
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &page) != nil {
			t.Fatalf("recycle bin list: %d %s", r.Status, r.Body)
		}
		all = append(all, page.Contents...)
		if page.NextMarker == "" {
			return all
		}
		marker = page.NextMarker
	}
}

func binNames(items []binItem) []string {
	names := make([]string, 0, len(items))
	for _, it := range items {
		names = append(names, it.Name)
	}
	return names
}

// libraryUsage answers the library's size as the admin API reports it (what #usage-size shows).
func (a *lifecycleAPI) libraryUsage(t testing.TB) string {
	t.Helper()
	var out struct {
		Size json.Number `json:"size"`
	}
	if st := a.s.admin(t, "GET", "/admin/v1/libraries/"+a.lib.LibraryID, nil, &out); st != http.StatusOK {
		t.Fatalf("library: %d", st)
	}
	return out.Size.String()
}

// binRow answers the selector of an item's row in the recycle-bin table.
func binRow(name string) string { return `#recycle-table tr[data-name="` + name + `"]` }

// versionRow answers the selector of a version's row in the versions dialog.
func versionRow(n int) string { return fmt.Sprintf(`#versions-table tr[data-version="%d"]`, n) }

func testVersions(t *testing.T, p *page, api *lifecycleAPI) {
	p.load("/library/" + api.lib.LibraryID)
	p.waitVisible("#browser")
	// Version 1 through the console's upload, versions 2 and 3 as overwrites through the API.
	contents := [][]byte{[]byte("first draft\n"), []byte("second draft, longer\n"), []byte("third and final draft\n")}
	local := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(local, contents[0], 0o644); err != nil {
		t.Fatal(err)
	}
	p.upload(local)
	p.waitVisible(fileRow("notes.txt"))
	api.put(t, "notes.txt", contents[1])
	api.put(t, "notes.txt", contents[2])
	if vs := api.versions(t, "notes.txt"); len(vs) != 3 {
		t.Fatalf("the API lists %d versions after two overwrites, want 3: %+v", len(vs), vs)
	}

	// The dialog lists the current version first, then the two older ones.
	p.load("/library/" + api.lib.LibraryID)
	p.click(fileRow("notes.txt") + ` [data-action="versions"]`)
	p.waitVisible("#versions-dialog")
	p.wait("three versions in #versions-table", `$$("#versions-table tbody tr").length === 3`)
	got := query[[]string](p, `$$("#versions-table tbody tr").map((r) => r.dataset.version + ":" + r.dataset.latest)`)
	if !slices.Equal(got, []string{"3:1", "2:0", "1:0"}) {
		t.Errorf("#versions-table rows (version:latest) %q, want 3:1 2:0 1:0", got)
	}
	if p.visible(versionRow(3) + ` [data-action="restore-version"]`) {
		t.Error("the current version offers a restore")
	}
	if txt := p.text("#versions-title"); !strings.Contains(txt, "notes.txt") {
		t.Errorf("#versions-title %q does not name the file", txt)
	}
	p.shot("versions")

	// Download the oldest version in the browser: its bytes, not the current ones.
	if data := p.download(versionRow(1) + ` [data-action="download-version"]`); !bytes.Equal(data, contents[0]) {
		t.Errorf("version 1 downloaded as %q, want %q", data, contents[0])
	}

	// Make version 1 current again: the file answers its bytes, the replaced content is a version.
	p.click(versionRow(1) + ` [data-action="restore-version"]`)
	p.wait("#versions-status to report the restore", `text("#versions-status") !== ""`)
	p.wait("four versions listed after the restore", `$$("#versions-table tbody tr").length === 4`)
	if r := api.fileBytes(t, "notes.txt"); r.Status != http.StatusOK || !bytes.Equal(r.Body, contents[0]) {
		t.Fatalf("after the restore notes.txt answers %d %q, want %q", r.Status, r.Body, contents[0])
	}
	latest := query[string](p, `$("#versions-table tbody tr").dataset.latest`)
	if latest != "1" {
		t.Errorf("the first row after the restore has data-latest=%q, want 1", latest)
	}

	// Delete version 2 (with the confirm dialog, over the versions dialog).
	p.click(versionRow(2) + ` [data-action="delete-version"]`)
	p.waitVisible("#confirm-dialog")
	p.click("#confirm-ok")
	p.waitHidden("#confirm-dialog")
	p.wait("version 2's row to go", `!$(`+js(versionRow(2))+`) && $$("#versions-table tbody tr").length === 3`)
	for _, v := range api.versions(t, "notes.txt") {
		if v.Version == 2 {
			t.Errorf("the API still lists version 2 after its delete: %+v", v)
		}
	}
	p.click("#versions-close")
	p.waitHidden("#versions-dialog")
}

func testRecycleBin(t *testing.T, p *page, api *lifecycleAPI) {
	api.put(t, "draft.txt", []byte("a draft to throw away\n"))
	if r := api.call(t, "PUT", "directory/{lib}/-/old stuff", nil, nil); r.Status/100 != 2 {
		t.Fatalf("create the directory old stuff: %d %s", r.Status, r.Body)
	}
	inner := []byte("kept inside the directory\n")
	api.put(t, "old stuff/inner.txt", inner)
	p.load("/library/" + api.lib.LibraryID)
	p.waitVisible("#recycle")
	p.waitVisible("#recycle-none")
	p.waitVisible(fileRow("draft.txt"))
	usage := api.libraryUsage(t)
	p.wait("#usage-size to show the library's size", `$("#usage-size").dataset.value === `+js(usage))

	// Delete a file and a directory from the browser: the dialog and the status say where they went.
	for _, name := range []string{"draft.txt", "old stuff"} {
		p.click(fileRow(name) + ` [data-action="delete"]`)
		p.waitVisible("#confirm-dialog")
		if txt := p.text("#confirm-text"); !strings.Contains(txt, "recycle bin") {
			t.Errorf("the delete dialog for %s says %q: nothing about the recycle bin", name, txt)
		}
		p.click("#confirm-ok")
		p.waitHidden("#confirm-dialog")
		p.wait(name+"'s file row to go", `!$(`+js(fileRow(name))+`)`)
		p.wait("#browser-status to say "+name+" went to the bin", `text("#browser-status").includes(`+js(name)+`) && text("#browser-status").includes("recycle bin")`)
		p.waitVisible(binRow(name))
	}
	if got := binNames(api.bin(t)); !slices.Equal(got, []string{"old stuff", "draft.txt"}) {
		t.Fatalf("the API's bin lists %q, want old stuff then draft.txt (newest first)", got)
	}
	rows := query[[]string](p, `$$("#recycle-table tbody tr").map((r) => r.dataset.kind + ":" + r.dataset.name)`)
	if !slices.Equal(rows, []string{"dir:old stuff", "file:draft.txt"}) {
		t.Errorf("#recycle-table rows %q, want dir:old stuff, file:draft.txt (newest first)", rows)
	}
	// The API's originalPath ends with the entry's own name (docs/lifecycle.md).
	if path := p.text(binRow("draft.txt") + " td.rb-path"); path != "/draft.txt" {
		t.Errorf("draft.txt's original path shows %q, want /draft.txt", path)
	}
	if size := p.attr(binRow("draft.txt")+" td.rb-size", "data-value"); size != fmt.Sprint(len("a draft to throw away\n")) {
		t.Errorf("draft.txt's size data-value %q", size)
	}
	days := p.attr(binRow("draft.txt")+" td.rb-days", "data-days")
	if days != "-1" || p.text(binRow("draft.txt")+" td.rb-days") != "Kept until purged" {
		t.Errorf("draft.txt's days left: data-days=%q text %q; the library keeps items until purged (-1)", days, p.text(binRow("draft.txt")+" td.rb-days"))
	}
	if p.text(binRow("draft.txt")+" td.rb-removed time") == "" {
		t.Error("draft.txt shows no removal time")
	}
	// The bin counts: usage stays what it was.
	p.wait("#usage-size to still count the binned entries", `$("#usage-size").dataset.value === `+js(usage))
	if now := api.libraryUsage(t); now != usage {
		t.Errorf("the library's size went from %s to %s when two entries went to the bin", usage, now)
	}
	p.shot("recycle-bin")

	// Restore the directory: back in the browser with its file.
	p.click(binRow("old stuff") + ` [data-action="restore"]`)
	p.wait("old stuff's bin row to go", `!$(`+js(binRow("old stuff"))+`)`)
	p.wait("#recycle-status to report the restore", `text("#recycle-status").includes("old stuff")`)
	p.waitVisible(fileRow("old stuff") + `[data-kind="dir"]`)
	if r := api.fileBytes(t, "old stuff/inner.txt"); r.Status != http.StatusOK || !bytes.Equal(r.Body, inner) {
		t.Errorf("old stuff/inner.txt after the restore: %d %q", r.Status, r.Body)
	}

	// Purge the file: cancel first changes nothing, OK removes it from the bin for good.
	p.click(binRow("draft.txt") + ` [data-action="purge"]`)
	p.waitVisible("#confirm-dialog")
	if txt := p.text("#confirm-text"); !strings.Contains(txt, "draft.txt") {
		t.Errorf("the purge dialog says %q: it does not name the item", txt)
	}
	p.click("#confirm-cancel")
	p.waitHidden("#confirm-dialog")
	p.idle()
	if got := binNames(api.bin(t)); !slices.Equal(got, []string{"draft.txt"}) {
		t.Fatalf("after a cancelled purge the bin lists %q, want draft.txt", got)
	}
	p.click(binRow("draft.txt") + ` [data-action="purge"]`)
	p.waitVisible("#confirm-dialog")
	p.click("#confirm-ok")
	p.waitHidden("#confirm-dialog")
	p.wait("draft.txt's bin row to go", `!$(`+js(binRow("draft.txt"))+`)`)
	p.waitVisible("#recycle-none")
	if got := api.bin(t); len(got) != 0 {
		t.Errorf("after the purge the bin lists %q", binNames(got))
	}
	if r := api.fileBytes(t, "draft.txt"); r.Status != http.StatusNotFound {
		t.Errorf("draft.txt answers %d after its purge, want 404", r.Status)
	}
	// Purged bytes no longer count.
	purged := api.libraryUsage(t)
	if purged == usage {
		t.Errorf("the library's size stayed %s after a purge", usage)
	}
	p.wait("#usage-size to drop after the purge", `$("#usage-size").dataset.value === `+js(purged))

	// Empty: two more items, then the whole bin at once.
	for _, name := range []string{"old stuff", "notes.txt"} {
		p.click(fileRow(name) + ` [data-action="delete"]`)
		p.waitVisible("#confirm-dialog")
		p.click("#confirm-ok")
		p.waitHidden("#confirm-dialog")
		p.waitVisible(binRow(name))
	}
	p.click("#recycle-empty")
	p.waitVisible("#confirm-dialog")
	p.click("#confirm-ok")
	p.waitHidden("#confirm-dialog")
	p.waitVisible("#recycle-none")
	p.wait("#recycle-table to have no rows", `$$("#recycle-table tbody tr").length === 0`)
	if got := api.bin(t); len(got) != 0 {
		t.Errorf("after emptying the bin lists %q", binNames(got))
	}
	if !query[bool](p, `$("#recycle-empty").disabled`) {
		t.Error("#recycle-empty is enabled on an empty bin")
	}
}

// testRecycleBinPaging fills the bin beyond a page (50 rows) and loads the rest with "more":
// every item once, newest first.
func testRecycleBinPaging(t *testing.T, p *page, api *lifecycleAPI) {
	const items = 57
	for i := range items {
		path := fmt.Sprintf("dir %02d", i)
		if r := api.call(t, "PUT", "directory/{lib}/-/"+url.PathEscape(path), nil, nil); r.Status/100 != 2 {
			t.Fatalf("create %s: %d %s", path, r.Status, r.Body)
		}
		if r := api.call(t, "DELETE", "directory/{lib}/-/"+url.PathEscape(path), nil, nil); r.Status != http.StatusOK {
			t.Fatalf("delete %s into the bin: %d %s", path, r.Status, r.Body)
		}
	}
	p.load("/library/" + api.lib.LibraryID)
	p.waitVisible("#recycle-more")
	first := query[int](p, `$$("#recycle-table tbody tr").length`)
	if first >= items || first == 0 {
		t.Fatalf("the first page of the bin has %d rows of %d", first, items)
	}
	p.click("#recycle-more")
	p.wait(fmt.Sprintf("%d rows in #recycle-table", items), fmt.Sprintf(`$$("#recycle-table tbody tr").length === %d`, items))
	p.waitHidden("#recycle-more")
	shown := query[[]string](p, `$$("#recycle-table tbody tr").map((r) => r.dataset.name)`)
	want := binNames(api.bin(t))
	if !slices.Equal(shown, want) {
		t.Errorf("#recycle-table lists\n  %q\nthe API lists\n  %q", shown, want)
	}
	// Newest first: the last directory deleted leads.
	if len(shown) > 0 && shown[0] != fmt.Sprintf("dir %02d", items-1) {
		t.Errorf("the bin starts with %q, want the newest item dir %02d", shown[0], items-1)
	}
	p.click("#recycle-empty")
	p.waitVisible("#confirm-dialog")
	p.click("#confirm-ok")
	p.waitHidden("#confirm-dialog")
	p.waitVisible("#recycle-none")
}

// spaceUsage answers the size of the space "-" as 2.9 reports it.
func (a *lifecycleAPI) spaceUsage(t testing.TB) string {
	t.Helper()
	r := a.call(t, "GET", "usage/{lib}/-", nil, nil)
	var out []struct {
		Size json.Number `json:"size"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &out) != nil || len(out) != 1 {
		t.Fatalf("usage of -: %d %s", r.Status, r.Body)
	}
	return out[0].Size.String()
}

func testQuotaBar(t *testing.T, p *page, api *lifecycleAPI) {
	api.put(t, "payload.bin", bytes.Repeat([]byte("q"), 300<<10))
	p.load("/library/" + api.lib.LibraryID)
	p.waitVisible("#quota")
	p.wait(`#quota data-state="none" without a quota`, `$("#quota").dataset.state === "none"`)
	if p.visible("#quota-bar") {
		t.Error("#quota-bar is shown for a space without a quota")
	}

	// A quota set through the API: the bar shows usage against it.
	const capacity = 1 << 20
	r := api.call(t, "POST", "quota/{lib}", nil, map[string]any{"capacity": fmt.Sprint(capacity), "removeWhenExceed": false, "removeAfterDays": 0})
	if r.Status != http.StatusCreated {
		t.Fatalf("create the quota: %d %s", r.Status, r.Body)
	}
	used := api.spaceUsage(t)
	p.load("/library/" + api.lib.LibraryID)
	p.wait(`#quota data-state="quota"`, `$("#quota").dataset.state === "quota"`)
	p.waitVisible("#quota-bar")
	if got := p.attr("#quota-bar", "data-capacity"); got != fmt.Sprint(capacity) {
		t.Errorf("#quota-bar data-capacity %q, want %d", got, capacity)
	}
	if got := p.attr("#quota-bar", "data-used"); got != used {
		t.Errorf("#quota-bar data-used %q, the API's usage is %s", got, used)
	}
	if v := query[float64](p, `$("#quota-bar").value / $("#quota-bar").max`); used != "0" && v <= 0 {
		t.Errorf("#quota-bar is empty (%v) with %s bytes used", v, used)
	}
	p.shot("quota")

	// Change it in the console: 2 MiB.
	p.click("#quota-set")
	p.waitVisible("#quota-dialog")
	p.fill("#quota-capacity", "2")
	p.choose("#quota-unit", "20")
	p.click("#quota-ok")
	p.waitHidden("#quota-dialog")
	p.wait("#quota-bar data-capacity 2 MiB", `$("#quota-bar").dataset.capacity === "`+fmt.Sprint(2<<20)+`"`)
	r = api.call(t, "GET", "space-quota/{lib}/-", nil, nil)
	var q struct {
		Capacity string `json:"capacity"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &q) != nil || q.Capacity != fmt.Sprint(2<<20) {
		t.Errorf("space quota after the change: %d %s, want capacity %d", r.Status, r.Body, 2<<20)
	}
}

func testLifecycleChinese(t *testing.T, p *page, api *lifecycleAPI) {
	api.put(t, "中文文件.txt", []byte("第一版\n"))
	p.load("/library/" + api.lib.LibraryID)
	p.waitVisible("#recycle")
	english := p.text("#recycle-title")
	p.choose("#lang", "zh-CN")
	defer p.choose("#lang", "en")
	p.wait("#recycle-title in Chinese", `document.documentElement.lang === "zh-CN" && text("#recycle-title") !== `+js(english))
	for _, sel := range []string{"#recycle-title", "#quota-title", "#quota-text", "#recycle-empty"} {
		p.wait(sel+" in Chinese", `/\p{Script=Han}/u.test(text(`+js(sel)+`))`)
	}
	p.waitVisible(fileRow("中文文件.txt"))
	p.click(fileRow("中文文件.txt") + ` [data-action="delete"]`)
	p.waitVisible("#confirm-dialog")
	if txt := p.text("#confirm-text"); !strings.Contains(txt, "回收站") {
		t.Errorf("the delete dialog in Chinese says %q: nothing about the recycle bin (回收站)", txt)
	}
	p.click("#confirm-ok")
	p.waitHidden("#confirm-dialog")
	p.wait("#browser-status in Chinese", `text("#browser-status").includes("回收站")`)
	row := binRow("中文文件.txt")
	p.waitVisible(row)
	for _, sel := range []string{row + ` [data-action="restore"]`, row + ` [data-action="purge"]`, row + " td.rb-days"} {
		if txt := p.text(sel); !han.MatchString(txt) {
			t.Errorf("%s in Chinese is %q", sel, txt)
		}
	}
	p.shot("recycle-bin-zh")
	p.click(row + ` [data-action="restore"]`)
	p.wait("the restored file's row", `!!$(`+js(fileRow("中文文件.txt"))+`) && !$(`+js(row)+`)`)
	if r := api.fileBytes(t, "中文文件.txt"); r.Status != http.StatusOK || string(r.Body) != "第一版\n" {
		t.Errorf("中文文件.txt after the restore: %d %q", r.Status, r.Body)
	}
}

// testLifecycleSpace: in a multi-tenant library the views follow the space being browsed: its
// own bin, and a quota the console creates for that space alone.
func testLifecycleSpace(t *testing.T, p *page, api *lifecycleAPI) {
	lib := api.s.createLibrary(t, "Lifecycle tenants", map[string]any{"isMultiSpace": true, "isFileLibrary": true, "useRecycleBin": true})
	tenant := &lifecycleAPI{s: api.s, lib: lib}
	var spaces [2]string
	for i := range spaces {
		r := tenant.call(t, "POST", "space/{lib}", nil, nil)
		var out struct {
			SpaceID string `json:"spaceId"`
		}
		if r.Status/100 != 2 || json.Unmarshal(r.Body, &out) != nil || out.SpaceID == "" {
			t.Fatalf("create a space: %d %s", r.Status, r.Body)
		}
		spaces[i] = out.SpaceID
	}
	// One binned directory in the first space.
	dir := "directory/{lib}/" + spaces[0] + "/gone"
	if r := tenant.call(t, "PUT", dir, nil, nil); r.Status/100 != 2 {
		t.Fatalf("create gone: %d %s", r.Status, r.Body)
	}
	if r := tenant.call(t, "DELETE", dir, nil, nil); r.Status != http.StatusOK {
		t.Fatalf("delete gone into the bin: %d %s", r.Status, r.Body)
	}

	p.load("/library/" + lib.LibraryID + "/space/" + spaces[1])
	p.waitVisible("#recycle")
	p.waitVisible("#recycle-none")
	p.wait(`#quota data-state="none"`, `$("#quota").dataset.state === "none"`)
	p.click("#quota-set")
	p.waitVisible("#quota-dialog")
	p.fill("#quota-capacity", "")
	p.click("#quota-ok")
	p.wait("#quota-error for an empty capacity", `text("#quota-error") !== ""`)
	p.fill("#quota-capacity", "1.5")
	p.choose("#quota-unit", "30")
	p.click("#quota-ok")
	p.waitHidden("#quota-dialog")
	want := fmt.Sprint(3 << 29) // 1.5 GiB
	p.wait("#quota-bar data-capacity 1.5 GiB", `$("#quota-bar").dataset.capacity === `+js(want))
	var q struct {
		Spaces   []string `json:"spaces"`
		Capacity string   `json:"capacity"`
		ID       int64    `json:"id"`
	}
	r := tenant.call(t, "GET", "space-quota/{lib}/"+spaces[1], nil, nil)
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &q) != nil || q.Capacity != want {
		t.Fatalf("quota of %s: %d %s, want capacity %s", spaces[1], r.Status, r.Body, want)
	}
	if r := tenant.call(t, "GET", "space-quota/{lib}/"+spaces[0], nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("the other space %s has a quota too: %d %s", spaces[0], r.Status, r.Body)
	}

	// The first space shows its own bin item and no quota.
	p.click(`#space-list button[data-space-id="` + spaces[0] + `"]`)
	p.waitVisible(binRow("gone"))
	p.wait(`#quota data-state="none" in the other space`, `$("#quota").dataset.state === "none"`)
}
