package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleFinding drives the console's search box, multi-select with batch move, copy and
// delete (with the task view of an asynchronous batch) and the favorites view (issue 12 item 7),
// against the real search, batch, task and favorite routes. docs/console.md describes them.
func TestConsoleFinding(t *testing.T) {
	exe := requireChromium(t)
	s := startSystem(t)
	b := startBrowser(t, s, exe)
	lib := s.createLibrary(t, "Finding", map[string]any{"isFileLibrary": true, "enableSearch": true})
	if !lib.LibraryExtension.EnableSearch {
		t.Fatalf("the library was created without search: %+v", lib.LibraryExtension)
	}
	api := &lifecycleAPI{s: s, lib: lib}
	runScenarios(t, b, s, api, []scenario[*lifecycleAPI]{
		{"SearchOpensFile", testSearchOpensFile},
		{"SearchPaging", testSearchPaging},
		{"SearchNotEnabled", testSearchNotEnabled},
		{"BatchMove", testBatchMove},
		{"BatchCopyPartial", testBatchCopyPartial},
		{"BatchDeleteTask", testBatchDeleteTask},
		{"Favorites", testFavorites},
		{"ChinesePhone", testFindingChinesePhone},
	})
}

// mkdir creates a directory (and its parents) through the API.
func (a *lifecycleAPI) mkdir(t testing.TB, path string) {
	t.Helper()
	if r := a.call(t, "PUT", "directory/{lib}/-/"+escapePath(path), nil, nil); r.Status/100 != 2 {
		t.Fatalf("create the directory %s: %d %s", path, r.Status, r.Body)
	}
}

// mkdirs creates n directories named by format with 0 to n-1.
func (a *lifecycleAPI) mkdirs(t testing.TB, format string, n int) {
	t.Helper()
	for i := range n {
		a.mkdir(t, fmt.Sprintf(format, i))
	}
}

// names answers the names in a directory as the API lists them (every page).
func (a *lifecycleAPI) names(t testing.TB, dir string) []string {
	t.Helper()
	var all []string
	marker := ""
	for {
		q := url.Values{"by-marker": {"1"}, "limit": {"1000"}}
		if marker != "" {
			q.Set("marker", marker)
		}
		r := a.call(t, "GET", "directory/{lib}/-/"+escapePath(dir), q, nil)
		var page struct {
			NextMarker string `json:"nextMarker"`
			Contents   []struct {
				Name string `json:"name"`
			} `json:"contents"`
		}
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &page) != nil {
			t.Fatalf("list %q: %d %s", dir, r.Status, r.Body)
		}
		for _, c := range page.Contents {
			all = append(all, c.Name)
		}
		if page.NextMarker == "" {
			return all
		}
		marker = page.NextMarker
	}
}

// searchRow answers the selector of a search result by its path from the root.
func searchRow(path string) string { return `#search-table tr[data-path="` + path + `"]` }

// search types words into the search box, picks the scope ("here" or "all") and submits.
func (p *page) search(words, scope string) {
	p.t.Helper()
	p.fill("#search-input", words)
	p.choose("#search-scope", scope)
	p.click("#search-submit")
	p.waitVisible("#search-results")
	p.wait("the search to end", `$("#search-results").dataset.state !== "running"`)
	p.idle()
}

func testSearchOpensFile(t *testing.T, p *page, api *lifecycleAPI) {
	api.mkdir(t, "reports/2026")
	want := []byte("the numbers of the quarter\n")
	api.put(t, "reports/2026/quarterly-summary.txt", want)
	api.put(t, "reports/annual.txt", []byte("a year\n"))
	api.put(t, "quarterly-notes.md", []byte("notes\n"))

	// From the root, the whole space: both files named "quarterly", not the annual one.
	p.load("/library/" + api.lib.LibraryID)
	p.waitVisible("#search-form")
	p.search("quarterly", "all")
	p.wait(`#search-results data-state="results"`, `$("#search-results").dataset.state === "results"`)
	got := query[[]string](p, `$$("#search-table tbody tr").map((r) => r.dataset.path).sort()`)
	if !slices.Equal(got, []string{"quarterly-notes.md", "reports/2026/quarterly-summary.txt"}) {
		t.Fatalf("the search for quarterly lists %q", got)
	}
	row := searchRow("reports/2026/quarterly-summary.txt")
	if dir := p.text(row + " td.sr-dir"); dir != "/reports/2026" {
		t.Errorf("the result's directory shows %q, want /reports/2026", dir)
	}
	// Its download link answers the file's bytes.
	if data := p.download(row + ` [data-action="download"]`); string(data) != string(want) {
		t.Errorf("the result's download answered %q, want %q", data, want)
	}
	p.shot("search-results")

	// Open: the containing directory, the file picked out.
	p.click(row + ` [data-action="open"]`)
	p.wait("the browser at reports/2026", `decodeURIComponent(location.hash).endsWith("/space/-/reports/2026")`)
	p.waitVisible(fileRow("quarterly-summary.txt") + `[data-highlight="1"]`)
	p.waitHidden("#search-results")
	if n := query[int](p, `$$("#file-table tr[data-highlight]").length`); n != 1 {
		t.Errorf("%d rows picked out, want 1", n)
	}

	// In this directory only: from reports, "quarterly" finds the summary but not the root's notes.
	p.open("/library/" + api.lib.LibraryID + "/space/-/reports")
	p.idle()
	p.waitVisible(fileRow("annual.txt"))
	p.search("quarterly annual", "here")
	got = query[[]string](p, `$$("#search-table tbody tr").map((r) => r.dataset.path).sort()`)
	if !slices.Equal(got, []string{"reports/2026/quarterly-summary.txt", "reports/annual.txt"}) {
		t.Errorf("the search for quarterly or annual in reports lists %q", got)
	}
	// A directory result opens the directory itself.
	p.search("2026", "here")
	p.waitVisible(searchRow("reports/2026") + `[data-kind="dir"]`)
	p.click(searchRow("reports/2026") + ` [data-action="open"]`)
	p.wait("the browser in reports/2026", `decodeURIComponent(location.hash).endsWith("/space/-/reports/2026")`)
	p.waitVisible(fileRow("quarterly-summary.txt"))

	// Nothing found says so.
	p.search("no-such-name-anywhere", "all")
	p.wait(`#search-results data-state="empty"`, `$("#search-results").dataset.state === "empty" && text("#search-status") !== ""`)
	p.click("#search-close")
	p.waitHidden("#search-results")
}

// testSearchPaging: more matches than a page; "load more" follows nextMarker until every match
// is listed once.
func testSearchPaging(t *testing.T, p *page, api *lifecycleAPI) {
	const n = 57
	api.mkdirs(t, "paging/match %02d", n)
	p.load("/library/" + api.lib.LibraryID + "/space/-/paging")
	p.search("match", "here")
	for i := 0; p.visible("#search-more"); i++ {
		if i > n {
			t.Fatal("load more never ends")
		}
		before := query[int](p, `$$("#search-table tbody tr").length`)
		p.click("#search-more")
		p.idle()
		p.wait("more rows or the end", fmt.Sprintf(`$$("#search-table tbody tr").length > %d || !visible("#search-more")`, before))
	}
	got := query[[]string](p, `$$("#search-table tbody tr").map((r) => r.dataset.path)`)
	slices.Sort(got)
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("paging/match %02d", i)
	}
	if !slices.Equal(got, want) {
		t.Errorf("the search lists %d rows\n  %q\nwant every match once\n  %q", len(got), got, want)
	}
	if !strings.Contains(p.text("#search-status"), fmt.Sprint(n)) {
		t.Errorf("#search-status says %q, want the count %d", p.text("#search-status"), n)
	}
}

// testSearchNotEnabled: a library without enableSearch answers 400 SearchNotEnabled; the
// results panel says so and links to the settings, and the file browser keeps working.
func testSearchNotEnabled(t *testing.T, p *page, api *lifecycleAPI) {
	lib := api.s.createLibrary(t, "No search", map[string]any{"isFileLibrary": true})
	plain := &lifecycleAPI{s: api.s, lib: lib}
	plain.put(t, "present.txt", []byte("here\n"))
	r := plain.call(t, "POST", "search/{lib}/-/search-fs", nil, map[string]any{"type": "filename", "keywords": []string{"present"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "SearchNotEnabled") {
		t.Fatalf("search in a library without enableSearch: %d %s, want 400 SearchNotEnabled", r.Status, r.Body)
	}
	p.load("/library/" + lib.LibraryID)
	p.waitVisible(fileRow("present.txt"))
	p.search("present", "all")
	p.wait(`#search-results data-state="disabled"`, `$("#search-results").dataset.state === "disabled"`)
	if txt := p.text("#search-status"); !strings.Contains(txt, "not enabled") {
		t.Errorf("#search-status says %q: nothing about search not being enabled", txt)
	}
	if p.visible("#notice") {
		t.Errorf("#notice is shown (%q): the missing search switch is explained in the results panel instead", p.text("#notice"))
	}
	if p.visible("#search-table") {
		t.Error("#search-table is shown for a library without search")
	}
	if href := p.attr("#search-enable", "href"); href != "#/library/"+lib.LibraryID+"/settings" {
		t.Errorf("#search-enable links to %q, want the library's settings", href)
	}
	p.shot("search-not-enabled")
	// The browser still works: a directory made from it appears.
	p.click("#mkdir")
	p.waitVisible("#name-dialog")
	p.fill("#name-input", "still works")
	p.click("#name-ok")
	p.waitHidden("#name-dialog")
	p.waitVisible(fileRow("still works"))
	p.click("#search-enable")
	p.waitVisible("#settings-form")
	p.wait("the settings to load", `!$("#set-enableSearch").disabled`)
}

// selectRows checks the boxes of the named rows of the file list.
func (p *page) selectRows(names ...string) {
	p.t.Helper()
	for _, name := range names {
		p.click(fileRow(name) + " input.row-select")
	}
	p.wait(fmt.Sprintf("%d selected", len(names)), fmt.Sprintf(`visible("#batch-bar") && $("#batch-count").dataset.count === "%d"`, len(names)))
}

// chooseTarget answers the target dialog with a directory.
func (p *page) chooseTarget(dir string) {
	p.t.Helper()
	p.waitVisible("#target-dialog")
	p.fill("#target-input", dir)
	p.click("#target-ok")
	p.waitHidden("#target-dialog")
}

func testBatchMove(t *testing.T, p *page, api *lifecycleAPI) {
	api.mkdir(t, "move/into")
	api.put(t, "move/one.txt", []byte("one\n"))
	api.put(t, "move/two.txt", []byte("two\n"))
	api.put(t, "move/stays.txt", []byte("stays\n"))
	p.load("/library/" + api.lib.LibraryID + "/space/-/move")
	p.waitVisible(fileRow("stays.txt"))
	if p.visible("#batch-bar") {
		t.Error("#batch-bar is shown with nothing selected")
	}
	p.selectRows("one.txt", "two.txt")
	if !query[bool](p, `$("#select-all").indeterminate`) {
		t.Error("#select-all is not indeterminate with two of four rows selected")
	}
	p.shot("batch-selected")
	// An invalid target is refused in the dialog; cancel changes nothing.
	p.click("#batch-move")
	p.waitVisible("#target-dialog")
	if v := query[string](p, `$("#target-input").value`); v != "move" {
		t.Errorf("#target-input starts with %q, want the current directory move", v)
	}
	p.fill("#target-input", "move/../etc")
	p.click("#target-ok")
	p.wait("#target-error for a path with ..", `text("#target-error") !== ""`)
	p.click("#target-cancel")
	p.waitHidden("#target-dialog")
	p.click("#batch-move")
	p.chooseTarget("/move/into/")
	p.wait(`#batch-task data-state="done"`, `$("#batch-task").dataset.state === "done"`)
	p.wait("one.txt and two.txt to leave the list", `!$(`+js(fileRow("one.txt"))+`) && !$(`+js(fileRow("two.txt"))+`)`)
	if got := api.names(t, "move/into"); !slices.Equal(sorted(got), []string{"one.txt", "two.txt"}) {
		t.Errorf("move/into holds %q after the move, want one.txt and two.txt", got)
	}
	if got := api.names(t, "move"); !slices.Equal(sorted(got), []string{"into", "stays.txt"}) {
		t.Errorf("move holds %q after the move, want into and stays.txt", got)
	}
	if txt := p.text("#batch-summary"); !strings.Contains(txt, "2") {
		t.Errorf("#batch-summary says %q, want the count 2", txt)
	}
	if p.visible("#batch-bar") {
		t.Error("#batch-bar is still shown after the move (the list was read again)")
	}
	// They appear in the target.
	p.click(fileRow("into") + " button.entry-open")
	p.waitVisible(fileRow("one.txt"))
	p.waitVisible(fileRow("two.txt"))
	if r := api.fileBytes(t, "move/into/two.txt"); r.Status != http.StatusOK || string(r.Body) != "two\n" {
		t.Errorf("move/into/two.txt: %d %q", r.Status, r.Body)
	}
}

// testBatchCopyPartial: a copy where one item fails (a directory of that name exists in the
// target; directories default to "ask", decision 17) answers 207: the view lists the failure
// with its status and code, and the other item is copied.
func testBatchCopyPartial(t *testing.T, p *page, api *lifecycleAPI) {
	api.mkdir(t, "copy/docs")
	api.mkdir(t, "copy/dest/docs")
	api.put(t, "copy/a.txt", []byte("a\n"))
	p.load("/library/" + api.lib.LibraryID + "/space/-/copy")
	p.waitVisible(fileRow("a.txt"))
	p.selectRows("docs", "a.txt")
	p.click("#batch-copy")
	p.chooseTarget("copy/dest")
	p.wait(`#batch-task data-state="partial"`, `$("#batch-task").dataset.state === "partial"`)
	failed := query[[]string](p, `$$("#batch-failures tbody tr").map((r) => r.dataset.path + " " + r.dataset.status + " " + r.dataset.code)`)
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "copy/docs 409 ") {
		t.Errorf("#batch-failures lists %q, want copy/docs with 409 and its code", failed)
	}
	if p.attr("#batch-task", "data-ok") != "1" || p.attr("#batch-task", "data-failed") != "1" {
		t.Errorf("#batch-task data-ok %q data-failed %q, want 1 and 1", p.attr("#batch-task", "data-ok"), p.attr("#batch-task", "data-failed"))
	}
	if got := api.names(t, "copy/dest"); !slices.Equal(sorted(got), []string{"a.txt", "docs"}) {
		t.Errorf("copy/dest holds %q, want a.txt and docs", got)
	}
	if got := api.names(t, "copy"); !slices.Equal(sorted(got), []string{"a.txt", "dest", "docs"}) {
		t.Errorf("copy holds %q after a copy, want a.txt, dest and docs", got)
	}
	p.shot("batch-partial")
	p.click("#batch-dismiss")
	p.waitHidden("#batch-task")
}

// testBatchDeleteTask: a delete of more items than the asynchronous threshold (more than 100,
// decision 7) answers 202 with a task: the task view shows it running, follows it to the end and
// the list is read again. All the rows are selected with "select all" on each page of the list.
func testBatchDeleteTask(t *testing.T, p *page, api *lifecycleAPI) {
	const n = 101
	api.mkdirs(t, "bulk/item %03d", n)
	p.load("/library/" + api.lib.LibraryID + "/space/-/bulk")
	p.waitVisible("#browser-more")
	p.click("#select-all")
	p.wait("the first page selected", `$("#batch-count").dataset.count === String($$("#file-table input.row-select").length)`)
	p.click("#browser-more")
	p.wait(fmt.Sprintf("%d rows", n), fmt.Sprintf(`$$("#file-table tbody tr").length === %d`, n))
	p.wait("#select-all indeterminate after more rows came", `$("#select-all").indeterminate`)
	p.click("#select-all")
	p.wait(fmt.Sprintf("%d selected", n), fmt.Sprintf(`$("#batch-count").dataset.count === "%d"`, n))
	// Record every state the task view goes through.
	eval[chromedp.Void](p, `(() => { window.taskStates = []; const box = document.getElementById("batch-task");
		new MutationObserver(() => { const s = box.dataset.state; if (s && window.taskStates.at(-1) !== s) window.taskStates.push(s); })
			.observe(box, {attributes: true, attributeFilter: ["data-state"]}); })()`)
	p.click("#batch-delete")
	p.waitVisible("#confirm-dialog")
	if txt := p.text("#confirm-text"); !strings.Contains(txt, fmt.Sprint(n)) {
		t.Errorf("the delete dialog says %q: not the count %d", txt, n)
	}
	p.click("#confirm-ok")
	p.waitHidden("#confirm-dialog")
	p.wait(`#batch-task data-state="done"`, `$("#batch-task").dataset.state === "done"`)
	states := query[[]string](p, `window.taskStates`)
	if !slices.Equal(states, []string{"running", "done"}) {
		t.Errorf("the task view went through %q, want running then done", states)
	}
	if id := p.attr("#batch-task", "data-task-id"); id == "" {
		t.Error("#batch-task has no data-task-id: the delete did not run as a task")
	}
	if txt := p.text("#batch-summary"); !strings.Contains(txt, fmt.Sprint(n)) {
		t.Errorf("#batch-summary says %q, want the count %d", txt, n)
	}
	p.waitVisible("#browser-empty")
	if got := api.names(t, "bulk"); len(got) != 0 {
		t.Errorf("bulk still holds %d entries after the batch delete: %q", len(got), got)
	}
	p.shot("batch-task-done")
}

// favorites answers the names of the favorites of a user as the API lists them.
func (a *lifecycleAPI) favorites(t testing.TB, user string) []string {
	t.Helper()
	r := a.call(t, "GET", "favorite/{lib}/-/list", url.Values{"with_path": {"true"}, "limit": {"100"}, "user_id": {user}}, nil)
	var out struct {
		Contents []struct {
			Name string   `json:"name"`
			Path []string `json:"path"`
		} `json:"contents"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &out) != nil {
		t.Fatalf("favorites of %s: %d %s", user, r.Status, r.Body)
	}
	var names []string
	for _, c := range out.Contents {
		names = append(names, strings.Join(c.Path, "/"))
	}
	return names
}

// consoleUser is the user id of the console's tokens (console/static/js/api.js).
const consoleUser = "opensmh-console"

func testFavorites(t *testing.T, p *page, api *lifecycleAPI) {
	api.mkdir(t, "stars")
	api.put(t, "stars/fav.txt", []byte("favorite\n"))
	api.put(t, "stars/plain.txt", []byte("plain\n"))
	p.load("/library/" + api.lib.LibraryID + "/space/-/stars")
	star := fileRow("fav.txt") + ` [data-action="favorite"]`
	p.waitVisible(star)
	if p.attr(star, "aria-pressed") != "false" {
		t.Fatalf("fav.txt is starred before anything was done")
	}
	p.click(star)
	p.wait("fav.txt starred", `$(`+js(star)+`).getAttribute("aria-pressed") === "true"`)
	if got := api.favorites(t, consoleUser); !slices.Equal(got, []string{"stars/fav.txt"}) {
		t.Errorf("the console user's favorites are %q, want stars/fav.txt", got)
	}
	if got := api.favorites(t, "someone-else"); len(got) != 0 {
		t.Errorf("another user's favorites are %q: favorites are per user", got)
	}
	// After a reload the listing (with_favorite_status=1) shows the star.
	p.load("/library/" + api.lib.LibraryID + "/space/-/stars")
	p.waitVisible(star)
	if p.attr(star, "aria-pressed") != "true" || p.attr(fileRow("fav.txt"), "data-favorite") != "1" {
		t.Errorf("after a reload fav.txt shows aria-pressed %q data-favorite %q", p.attr(star, "aria-pressed"), p.attr(fileRow("fav.txt"), "data-favorite"))
	}
	if p.attr(fileRow("plain.txt")+` [data-action="favorite"]`, "aria-pressed") != "false" {
		t.Error("plain.txt shows a star")
	}

	// The favorites view lists it with its path and opens it.
	p.click("#favorites-open")
	p.waitVisible("#favorites")
	favRow := `#favorites-table tr[data-name="fav.txt"]`
	p.waitVisible(favRow)
	if path := p.text(favRow + " td.fav-path"); path != "/stars/fav.txt" {
		t.Errorf("the favorite's path shows %q, want /stars/fav.txt", path)
	}
	if n := query[int](p, `$$("#favorites-table tbody tr").length`); n != 1 {
		t.Errorf("the favorites view lists %d rows, want 1", n)
	}
	p.shot("favorites")
	p.open("/library/" + api.lib.LibraryID)
	p.idle()
	p.click("#favorites-open")
	p.waitVisible(favRow)
	p.click(favRow + ` [data-action="open"]`)
	p.wait("the browser at stars", `decodeURIComponent(location.hash).endsWith("/space/-/stars")`)
	p.waitVisible(fileRow("fav.txt") + `[data-highlight="1"]`)

	// A directory can be a favorite too; unstar from the list, remove from the view.
	p.open("/library/" + api.lib.LibraryID)
	p.idle()
	p.click(fileRow("stars") + ` [data-action="favorite"]`)
	p.wait("stars starred", `$(`+js(fileRow("stars")+` [data-action="favorite"]`)+`).getAttribute("aria-pressed") === "true"`)
	p.click("#favorites-open")
	p.waitVisible(`#favorites-table tr[data-name="stars"][data-kind="dir"]`)
	p.click(`#favorites-table tr[data-name="fav.txt"] [data-action="unfavorite"]`)
	p.wait("fav.txt to leave the favorites view", `!$('#favorites-table tr[data-name="fav.txt"]')`)
	p.idle()
	p.click(fileRow("stars") + ` [data-action="favorite"]`)
	p.wait("stars unstarred", `$(`+js(fileRow("stars")+` [data-action="favorite"]`)+`).getAttribute("aria-pressed") === "false"`)
	p.wait("stars to leave the favorites view", `!$('#favorites-table tr[data-name="stars"]')`)
	p.waitVisible("#favorites-none")
	if got := api.favorites(t, consoleUser); len(got) != 0 {
		t.Errorf("the console user's favorites are %q after removing both", got)
	}
}

// testFindingChinesePhone: the new views in Chinese at phone width.
func testFindingChinesePhone(t *testing.T, p *page, api *lifecycleAPI) {
	api.mkdir(t, "phone")
	api.put(t, "phone/手机文件.txt", []byte("电话\n"))
	p.load("/library/" + api.lib.LibraryID + "/space/-/phone")
	p.choose("#lang", "zh-CN")
	defer p.choose("#lang", "en")
	p.phone()
	defer p.desktop()
	p.waitVisible(fileRow("手机文件.txt"))
	p.selectRows("手机文件.txt")
	for _, sel := range []string{"#batch-count", "#batch-move", "#batch-delete", "#favorites-open", "#search-submit"} {
		p.wait(sel+" in Chinese", `/\p{Script=Han}/u.test(text(`+js(sel)+`))`)
	}
	p.checkPhoneLayout()
	p.shot("batch-selected-phone-zh")
	p.search("手机", "here")
	p.waitVisible(searchRow("phone/手机文件.txt"))
	p.wait("#search-status in Chinese", `/\p{Script=Han}/u.test(text("#search-status"))`)
	p.checkPhoneLayout()
	p.shot("search-phone-zh")
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
