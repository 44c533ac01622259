package console

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/browser"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestSharePage walks through a share link end to end in Chromium, once per namespace store
// engine (SQLite, PostgreSQL: the shares, their tokens and the visitors' listings live there): the
// operator shares a folder and a file from the console's file browser and copies the link; a
// visitor in another browser (a fresh profile: no operator key, no token) opens it, types a wrong
// and then the right extraction code, browses the tree, sees a thumbnail, previews an image, plays
// a video, downloads a file and a folder as a zip, on a phone and in Chinese; the operator goes
// through the share dialog and the shares view in Chinese and on a phone, and turns the share off
// and the visitor's page says so. No page may violate its CSP.
func TestSharePage(t *testing.T) {
	exe := requireChromium(t)
	onEveryStore(t, func(t *testing.T, dsn string) { testSharePageOn(t, exe, dsn) })
}

func testSharePageOn(t *testing.T, exe, dsn string) {
	s := startSystemWith(t, systemOptions{DSN: dsn})
	owner := startBrowser(t, s, exe)
	owner.collectCSPViolations(t)
	lib := s.createLibrary(t, "Holiday", map[string]any{"isFileLibrary": true})
	fx := &shareFixture{s: s, api: &lifecycleAPI{s: s, lib: lib}, files: map[string][]byte{}}
	fx.seed(t)
	fx.visitor = startBrowser(t, s, exe)
	fx.visitor.collectCSPViolations(t)
	steps := []scenario[*shareFixture]{
		{"OwnerCreatesShare", testOwnerCreatesShare},
		{"OwnerChinese", testOwnerSharesChinese},
		{"OwnerPhone", testOwnerSharesPhone},
		{"VisitorNeedsCode", testVisitorNeedsCode},
		{"VisitorBrowses", testVisitorBrowses},
		{"VisitorPreviewsAndPlays", testVisitorPreviewsAndPlays},
		{"VisitorDownloads", testVisitorDownloads},
		{"VisitorPhone", testVisitorPhone},
		{"VisitorChinese", testVisitorChinese},
		{"VisitorReverifies", testVisitorReverifies},
		{"UnknownLink", testUnknownShareLink},
		{"ProblemStates", testShareProblemStates},
		{"Paging", testSharePaging},
		{"OwnerDisables", testOwnerDisablesShare},
	}
	// After every step, neither page may have violated its CSP.
	for i, st := range steps {
		steps[i].run = func(t *testing.T, p *page, fx *shareFixture) {
			st.run(t, p, fx)
			for _, b := range []*chromium{owner, fx.visitor} {
				b.on(t).checkNoCSPViolations()
			}
		}
	}
	runScenarios(t, owner, s, fx, steps)
}

// checkNoCSPViolations fails on the violations the document shown recorded (and clears them),
// and on those Chromium logged for any document of the tab (a "Content Security Policy" error).
func (p *page) checkNoCSPViolations() {
	p.t.Helper()
	if v := query[[]string](p, `(() => { const v = location.href === "about:blank" ? [] : window.__cspViolations || ["the CSP recorder is missing in " + location.href];
		window.__cspViolations = []; return v; })()`); len(v) > 0 {
		p.t.Errorf("CSP violations on %s: %q", query[string](p, "location.href"), v)
	}
	errs, _ := p.messages.snapshot()
	// Each logged error is reported once, by the step that saw it first.
	cspReported.Lock()
	defer cspReported.Unlock()
	for _, e := range errs[cspReported.seen[p.messages]:] {
		if strings.Contains(e, "Content Security Policy") {
			p.t.Errorf("Chromium logged a CSP violation: %s", e)
		}
	}
	cspReported.seen[p.messages] = len(errs)
}

// cspReported counts, per browser, the logged errors checkNoCSPViolations has looked at.
var cspReported = struct {
	sync.Mutex
	seen map[*pageMessages]int
}{seen: map[*pageMessages]int{}}

// shareFixture is the library the test shares from, the link the console made, and the
// visitor's browser.
type shareFixture struct {
	s       *system
	api     *lifecycleAPI
	visitor *chromium
	// files are the bytes uploaded, by path.
	files map[string][]byte
	link  string
	// video is whether a clip was uploaded (ffmpeg present).
	video bool
}

const extractionCode = "k3y9"

// seed uploads the tree the test shares:
//
//	trip/sunset.png, trip/clip.mp4 (with ffmpeg), trip/notes.bin, trip/day2/a.txt, trip/day2/b.bin, readme.txt
//	private.txt (not shared)
func (fx *shareFixture) seed(t *testing.T) {
	t.Helper()
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	fx.files["trip/sunset.png"] = testPNG(t)
	fx.files["trip/notes.bin"] = random(200_000)
	fx.files["trip/day2/a.txt"] = []byte("day two, first file\n")
	fx.files["trip/day2/b.bin"] = random(70_000)
	fx.files["readme.txt"] = []byte("read me first\n")
	fx.files["private.txt"] = []byte("not shared\n")
	if clip := videoClip(t); clip != "" {
		data, err := os.ReadFile(clip)
		if err != nil {
			t.Fatal(err)
		}
		fx.files["trip/clip.mp4"] = data
		fx.video = true
	}
	fx.api.mkdir(t, "trip/day2")
	fx.api.mkdirs(t, "many/d%02d", 55)
	for path, data := range fx.files {
		fx.api.put(t, path, data)
	}
}

// collectCSPViolations makes every document of the tab record its CSP violations in
// window.__cspViolations (the recorder runs before the page's scripts, outside its CSP).
func (b *chromium) collectCSPViolations(t *testing.T) {
	t.Helper()
	const recorder = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber);
});`
	if _, err := chromedp.Call(b.tab, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: recorder}); err != nil {
		t.Fatalf("install the CSP recorder: %v", err)
	}
}

func testOwnerCreatesShare(t *testing.T, p *page, fx *shareFixture) {
	p.load("/library/" + fx.api.lib.LibraryID)
	p.openShareDialog("trip", "readme.txt")
	p.fill("#share-name", "Summer trip")
	p.fill("#share-code", extractionCode)
	if !query[bool](p, `$("#share-permanent").checked && $("#share-can-preview").checked && $("#share-can-download").checked`) {
		t.Errorf("the share dialog does not start permanent with preview and download allowed")
	}
	p.shot("share-dialog")
	fx.link = p.createShareInDialog(fx.s)
	p.shot("share-created")
	p.click("#share-done")
	p.waitHidden("#share-dialog")

	// The shares view lists it, turned on, with the same link.
	p.click("#shares-open")
	row := shareRowSel(fx.link)
	p.waitVisible(row)
	if st := p.attr(row, "data-enabled"); st != "1" {
		t.Errorf("the new share's row has data-enabled=%q, want 1", st)
	}
	if href := p.attr(row+" a.share-link", "href"); href != fx.link {
		t.Errorf("the shares view links %q, want %q", href, fx.link)
	}
	p.shot("shares-view")
}

// openShareDialog selects the named rows of the file list shown and opens the share dialog.
func (p *page) openShareDialog(names ...string) {
	p.t.Helper()
	p.waitVisible(fileRow(names[0]))
	p.selectRows(names...)
	p.click("#batch-share")
	p.waitVisible("#share-dialog")
}

// createShareInDialog creates the share the open dialog describes, copies its link with the
// dialog's copy button, checks that the clipboard holds it, and answers it.
func (p *page) createShareInDialog(s *system) string {
	p.t.Helper()
	p.click("#share-ok")
	p.waitVisible("#share-result")
	link := query[string](p, `$("#share-link").value`)
	if !strings.HasPrefix(link, s.srv.URL+"/s/") || len(link) == len(s.srv.URL+"/s/") {
		p.t.Fatalf("the share link is %q, want %s/s/<code>", link, s.srv.URL)
	}
	// Copy: the browser lets the console's origin write the clipboard and the test read it.
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(p.tab, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: s.srv.URL,
		}); err != nil {
			p.t.Fatalf("grant %s: %v", name, err)
		}
	}
	p.click("#share-copy")
	p.wait(`#share-copied data-state="ok"`, `$("#share-copied").dataset.state === "ok"`)
	copied := step(p, "read the clipboard", chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if copied != link {
		p.t.Errorf("the clipboard holds %q, want the link %q", copied, link)
	}
	return link
}

// shareRowSel answers the selector of a share's row in the shares view, by its link.
func shareRowSel(link string) string {
	return `#shares-table tr[data-code="` + link[strings.LastIndex(link, "/")+1:] + `"]`
}

// testOwnerSharesChinese goes through the owner's side in Simplified Chinese on a laptop: every
// word the dialog, the shares view and the confirm dialog show is translated.
func testOwnerSharesChinese(t *testing.T, p *page, fx *shareFixture) {
	p.load("/library/" + fx.api.lib.LibraryID)
	p.language("zh-CN")
	defer p.language("en")
	const name = "夏日旅行"
	fx.ownerShareRound(t, p, name, func(where string, roots ...string) {
		fx.checkTranslated(t, p, where, name, roots...)
	})
}

// testOwnerSharesPhone goes through the owner's side on a phone, in English and in Chinese: nothing
// sticks out of the screen sideways, the controls are big enough to touch, and the Chinese words
// (with the column names the phone's card layout shows) are translated.
func testOwnerSharesPhone(t *testing.T, p *page, fx *shareFixture) {
	// The controls of the owner's side; a checkbox's target is its label.
	const controls = `#lang, #shares-open, #batch-bar button, #share-dialog button, #share-dialog input:not([type="checkbox"]),
		#share-dialog label.check, #shares button, #confirm-dialog button`
	p.load("/library/" + fx.api.lib.LibraryID)
	p.phone()
	defer p.desktop()
	defer p.language("en")
	for _, lang := range []string{"en", "zh-CN"} {
		p.language(lang)
		name := "Phone " + lang
		fx.ownerShareRound(t, p, name, func(where string, roots ...string) {
			p.checkPhoneLayout()
			p.checkOnScreen(roots...)
			p.checkTouchTargets(controls)
			if lang != "en" {
				fx.checkTranslated(t, p, where, name, roots...)
			}
			if t.Failed() {
				p.shot("shares-phone-" + lang + "-failed")
			}
		})
	}
}

// language switches the console's language and waits for the page to show it.
func (p *page) language(lang string) {
	p.t.Helper()
	p.choose("#lang", lang)
	p.wait("<html lang="+lang+">", `document.documentElement.lang === `+js(lang))
	p.idle()
}

// ownerShareRound shares trip and readme.txt as name from the file browser shown, in the language
// and on the screen the page has now, and goes through what the owner does with a share; check
// looks at the page at each stop (where names it), given the roots of what is shown there:
//
//   - the batch bar and the toolbar button of the shares view, with two rows selected;
//   - the share dialog as it opens, refusing an empty name, refusing an expiry in the past, and
//     with the link created and copied;
//   - the shares view listing it, after turning it off and on, the confirm dialog of its delete,
//     and the view after the delete (the API agrees that it is gone).
func (fx *shareFixture) ownerShareRound(t *testing.T, p *page, name string, check func(where string, roots ...string)) {
	t.Helper()
	p.waitVisible(fileRow("trip"))
	p.selectRows("trip", "readme.txt")
	check("two rows selected", "#batch-bar", "#shares-open")
	p.click("#batch-share")
	p.waitVisible("#share-dialog")
	check("the share dialog", "#share-dialog")

	p.fill("#share-name", "")
	p.click("#share-ok")
	p.wait("#share-error for an empty name", `text("#share-error") !== ""`)
	check("the share dialog refusing an empty name", "#share-dialog")
	p.fill("#share-name", name)
	p.setChecked("#share-permanent", false)
	p.waitVisible("#share-expire")
	eval[chromedp.Void](p, `(() => { const e = document.getElementById("share-expire"); e.value = "2020-01-01T12:00";
		e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	p.click("#share-ok")
	p.wait("#share-error for an expiry in the past", `text("#share-error") !== ""`)
	check("the share dialog refusing an expiry in the past", "#share-dialog")
	p.setChecked("#share-permanent", true)
	p.waitHidden("#share-expire")

	link := p.createShareInDialog(fx.s)
	check("the share dialog with the link copied", "#share-dialog")
	p.click("#share-done")
	p.waitHidden("#share-dialog")

	row := shareRowSel(link)
	if !p.visible("#shares") {
		p.click("#shares-open")
	} else {
		p.click("#shares-refresh")
	}
	p.waitVisible(row)
	p.idle()
	check("the shares view", "#shares")
	p.click(row + ` [data-action="disable"]`)
	p.wait("the row to show the share off", `$(`+js(row)+`) && $(`+js(row)+`).dataset.enabled === "0" && text("#shares-status") !== ""`)
	p.idle()
	check("the shares view with the share turned off", "#shares")
	p.click(row + ` [data-action="enable"]`)
	p.wait("the row to show the share on", `$(`+js(row)+`) && $(`+js(row)+`).dataset.enabled === "1"`)
	p.idle()
	p.click(row + ` [data-action="delete"]`)
	p.waitVisible("#confirm-dialog")
	check("the confirm dialog of the delete", "#confirm-dialog")
	p.click("#confirm-ok")
	p.wait("the deleted share's row to go", `!$(`+js(row)+`)`)
	p.idle()
	check("the shares view after the delete", "#shares")
	code := link[strings.LastIndex(link, "/")+1:]
	if r := fx.s.call(t, "GET", "/api/v1/share/url-detail/"+code, nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("url-detail of the share deleted in the console: %d %s, want 404", r.Status, r.Body)
	}
	p.click("#shares-close")
	p.click("#batch-clear")
	p.waitHidden("#batch-bar")
}

// checkTranslated fails on each English word left under the roots in a Chinese console: the text
// and the labels (aria-label, placeholder, title, data-label) of what is shown, once the data is
// taken out (links; the names of the library's entries and shares, with the share being worked on,
// which may be deleted already; the shares' creators).
func (fx *shareFixture) checkTranslated(t *testing.T, p *page, where, share string, roots ...string) {
	t.Helper()
	data := []string{share}
	for path := range fx.files {
		data = append(data, strings.Split(path, "/")...)
	}
	r := fx.api.call(t, "GET", "share/{lib}/list", url.Values{"limit": {"100"}}, nil)
	var list struct {
		Contents []struct {
			Name      string `json:"name"`
			CreatorID string `json:"creatorId"`
		} `json:"contents"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &list) != nil {
		t.Fatalf("list the library's shares: %d %s", r.Status, r.Body)
	}
	for _, sh := range list.Contents {
		data = append(data, sh.Name, sh.CreatorID)
	}
	// Longest first, so that a name inside another is not taken out of it first.
	slices.SortFunc(data, func(a, b string) int { return len(b) - len(a) })
	for _, s := range p.untranslated(data, roots...) {
		t.Errorf("%s: English in the Chinese console: %q", where, s)
	}
}

// untranslated answers the words shown under the roots (text, and the aria-label, placeholder,
// title and data-label of elements shown) that still hold a Latin letter once links and the data
// strings are taken out.
func (p *page) untranslated(data []string, roots ...string) []string {
	p.t.Helper()
	dataJSON, err := json.Marshal(data)
	if err != nil {
		p.t.Fatal(err)
	}
	return query[[]string](p, `(() => {
		const data = `+string(dataJSON)+`;
		const english = (s) => {
			s = s.replace(/https?:\/\/\S+/g, "");
			for (const d of data) { if (d) s = s.split(d).join(""); }
			return /[A-Za-z]/.test(s);
		};
		const out = [];
		for (const root of $$(`+js(strings.Join(roots, ", "))+`)) {
			if (!root.checkVisibility()) continue;
			const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
			for (let n = texts.nextNode(); n; n = texts.nextNode()) {
				const s = n.textContent.trim();
				if (s && n.parentElement.checkVisibility() && english(s)) out.push(s);
			}
			for (const e of [root, ...root.querySelectorAll("*")]) {
				if (!e.checkVisibility()) continue;
				for (const a of ["aria-label", "placeholder", "title", "data-label"]) {
					const v = e.getAttribute(a);
					if (v && english(v)) out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " " + a + "=" + v);
				}
			}
		}
		return out;
	})()`)
}

// visit opens the share link in the visitor's browser and waits for the page to settle.
func (fx *shareFixture) visit(t *testing.T) *page {
	t.Helper()
	v := fx.visitor.on(t)
	v.do("open the share link", chromedp.Navigate(fx.link))
	v.wait("the share page to leave its loading state", `$("#share") && $("#share").dataset.state !== "loading"`)
	v.idle()
	return v
}

func entrySel(name string) string { return `#entries li[data-name="` + name + `"]` }

// need fails a step at once when the owner step made no link (instead of waiting on a page
// that cannot come).
func (fx *shareFixture) need(t *testing.T) {
	t.Helper()
	if fx.link == "" {
		t.Fatal("no share link: the owner step failed")
	}
}

func testVisitorNeedsCode(t *testing.T, _ *page, fx *shareFixture) {
	fx.need(t)
	v := fx.visit(t)
	if st := v.attr("#share", "data-state"); st != "code" {
		t.Fatalf("the share page is in state %q, want code (it has an extraction code)", st)
	}
	if title := v.text("#share-title"); title != "Summer trip" {
		t.Errorf("#share-title %q, want the share's name", title)
	}
	v.fill("#code-input", "nope")
	v.click("#code-submit")
	v.wait("#code-error after a wrong code", `text("#code-error") !== ""`)
	v.idle()
	if st := v.attr("#share", "data-state"); st != "code" {
		t.Errorf("after a wrong code the page is in state %q, want code", st)
	}
	v.shot("share-wrong-code")
	v.fill("#code-input", extractionCode)
	v.click("#code-submit")
	v.wait("the tree", `$("#share").dataset.state === "ready"`)
	v.waitVisible(entrySel("trip"))
	v.idle()
	got := query[[]string](v, `$$("#entries li").map((li) => li.dataset.name)`)
	if want := []string{"readme.txt", "trip"}; !slices.Equal(sorted(got), want) {
		t.Errorf("the share root lists %q, want %q", got, want)
	}
	// The token lives in the page's memory only.
	if stored := query[int](v, `localStorage.length + sessionStorage.length + document.cookie.length -
		(localStorage.getItem("opensmh.share.language") === null ? 0 : 1)`); stored != 0 {
		t.Errorf("the page stored something besides the language choice: %s", query[string](v, `JSON.stringify({...localStorage, ...sessionStorage}) + document.cookie`))
	}
}

func testVisitorBrowses(t *testing.T, _ *page, fx *shareFixture) {
	fx.need(t)
	v := fx.visitor.on(t)
	v.click(entrySel("trip") + " button.entry-open")
	v.waitVisible(entrySel("sunset.png"))
	v.idle()
	if crumbs := query[[]string](v, `$$("#crumbs button").map((b) => b.textContent.trim())`); len(crumbs) != 2 || crumbs[1] != "trip" {
		t.Errorf("breadcrumbs %q, want the root and trip", crumbs)
	}
	v.wait("the thumbnail of sunset.png to load", `(() => { const i = $(`+js(entrySel("sunset.png")+" img.thumb")+`); return !!i && i.complete && i.naturalWidth > 0; })()`)
	// Into day2 and back up with the breadcrumbs.
	v.click(entrySel("day2") + " button.entry-open")
	v.waitVisible(entrySel("a.txt"))
	v.click(`#crumbs button[data-depth="1"]`)
	v.waitVisible(entrySel("sunset.png"))
	v.idle()
	v.shot("share-tree")
}

func testVisitorPreviewsAndPlays(t *testing.T, _ *page, fx *shareFixture) {
	fx.need(t)
	v := fx.visitor.on(t)
	v.waitVisible(entrySel("sunset.png"))
	v.click(entrySel("sunset.png") + ` [data-action="preview"]`)
	v.waitVisible("#viewer")
	v.wait("the image preview to load", `$("#viewer-img").complete && $("#viewer-img").naturalWidth > 0`)
	if tag := query[int](v, `document.querySelectorAll("iframe, object, embed").length`); tag != 0 {
		t.Errorf("the page holds %d iframe/object/embed elements: user content must only go in <img>/<video>", tag)
	}
	v.shot("share-preview")
	v.click("#viewer-close")
	v.waitHidden("#viewer")
	if !fx.video {
		return
	}
	// Whatever happens, the viewer must not stay open over the next steps.
	defer func() { eval[chromedp.Void](v, `document.getElementById("viewer").close()`) }()
	v.click(entrySel("clip.mp4") + ` [data-action="play"]`)
	if _, err := poll[bool](v, `return $("#viewer").open && !$("#viewer-video").hidden && $("#viewer-video").src !== "";`); err != nil {
		t.Fatalf("the viewer does not show the video element: %v; %s%s", err, query[string](v, `JSON.stringify({open: $("#viewer").open,
			hidden: $("#viewer-video").hidden, src: $("#viewer-video").src, title: text("#viewer-title"), viewerError: text("#viewer-error"),
			img: $("#viewer-img").hidden})`), v.diagnose())
	}
	eval[chromedp.Void](v, `(() => { const m = document.getElementById("viewer-video"); m.muted = true; m.play().catch(() => {}); })()`)
	if _, err := poll[bool](v, `return $("#viewer-video").readyState >= 2 && $("#viewer-video").currentTime > 0;`); err != nil {
		v.shot("share-video-failed")
		t.Fatalf("the video did not play: %v; video state %s%s", err, query[string](v, `JSON.stringify({readyState: $("#viewer-video").readyState,
			networkState: $("#viewer-video").networkState, currentTime: $("#viewer-video").currentTime, error: $("#viewer-video").error && $("#viewer-video").error.message,
			viewerError: text("#viewer-error"), paused: $("#viewer-video").paused, visible: visible("#viewer-video")})`), v.diagnose())
	}
	if msg := v.text("#viewer-error"); msg != "" {
		t.Errorf("#viewer-error says %q while the video plays", msg)
	}
	v.shot("share-video")
	v.click("#viewer-close")
	v.waitHidden("#viewer")
}

func testVisitorDownloads(t *testing.T, _ *page, fx *shareFixture) {
	fx.need(t)
	v := fx.visitor.on(t)
	v.waitVisible(entrySel("notes.bin"))
	if got := v.download(entrySel("notes.bin") + ` [data-action="download"]`); !bytes.Equal(got, fx.files["trip/notes.bin"]) {
		t.Errorf("the downloaded notes.bin has %d bytes that differ from the %d uploaded", len(got), len(fx.files["trip/notes.bin"]))
	}
	archive := v.download(entrySel("day2") + ` [data-action="zip"]`)
	got := unzipAll(t, archive)
	want := map[string][]byte{"a.txt": fx.files["trip/day2/a.txt"], "b.bin": fx.files["trip/day2/b.bin"]}
	if len(got) != len(want) {
		t.Errorf("the zip holds %d files (%v), want %d", len(got), keys(got), len(want))
	}
	for name, data := range want {
		// The zip may name the folder first; match by the last segment.
		var found []byte
		for n, d := range got {
			if n == name || strings.HasSuffix(n, "/"+name) {
				found = d
			}
		}
		if !bytes.Equal(found, data) {
			t.Errorf("%s in the zip: %d bytes, want the %d uploaded", name, len(found), len(data))
		}
	}
}

// unzipAll answers the files of a zip archive by name.
func unzipAll(t *testing.T, archive []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatalf("the folder download is not a zip (%d bytes): %v", len(archive), err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s in the zip: %v", f.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s in the zip: %v", f.Name, err)
		}
		files[f.Name] = data
	}
	return files
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sorted(out)
}

func testVisitorPhone(t *testing.T, _ *page, fx *shareFixture) {
	fx.need(t)
	v := fx.visitor.on(t)
	v.phone()
	defer v.desktop()
	v.waitVisible(entrySel("sunset.png"))
	v.idle()
	v.checkPhoneLayout()
	// The main actions are on screen horizontally and big enough to touch.
	v.checkTouchTargets("#entries button, #crumbs button, #lang")
	v.click(entrySel("sunset.png") + ` [data-action="preview"]`)
	v.wait("the image preview to load", `$("#viewer-img").complete && $("#viewer-img").naturalWidth > 0`)
	v.checkOnScreen("#viewer")
	v.shot("share-phone-preview")
	v.click("#viewer-close")
	v.waitHidden("#viewer")
	v.shot("share-phone")
}

func testVisitorChinese(t *testing.T, _ *page, fx *shareFixture) {
	fx.need(t)
	v := fx.visitor.on(t)
	english := v.text(`#crumbs button[data-depth="0"]`)
	v.choose("#lang", "zh-CN")
	v.wait("the page in Chinese", `document.documentElement.lang === "zh-CN" && text('#crumbs button[data-depth="0"]') !== `+js(english))
	v.idle()
	if zh := v.text(`#crumbs button[data-depth="0"]`); !han.MatchString(zh) {
		t.Errorf("the root breadcrumb in zh-CN is %q: no Chinese characters", zh)
	}
	if zh := v.text(entrySel("notes.bin") + ` [data-action="download"]`); !han.MatchString(zh) {
		t.Errorf("the download button in zh-CN is %q: no Chinese characters", zh)
	}
	v.shot("share-zh")
	v.choose("#lang", "en")
	v.wait("the page in English", `document.documentElement.lang === "en" && text('#crumbs button[data-depth="0"]') === `+js(english))
	v.idle()
}

// testVisitorReverifies revokes the page's share access token behind its back (1.3, as an
// early expiry would): the next listing answers 403 InvalidAccessToken and the page verifies again
// with the code it kept in memory, without asking the visitor.
func testVisitorReverifies(t *testing.T, _ *page, fx *shareFixture) {
	fx.need(t)
	v := fx.visitor.on(t)
	const requests = `performance.getEntriesByType("resource").map((e) => e.name)`
	lastToken := func() string {
		return query[string](v, `(() => { const lists = `+requests+`.filter((u) => u.includes("/api/v1/share/file/") && new URL(u).searchParams.has("list"));
			return lists.length ? new URL(lists.at(-1)).searchParams.get("access_token") : ""; })()`)
	}
	verifies := func() int {
		return query[int](v, requests+`.filter((u) => u.includes("/api/v1/share/verify/")).length`)
	}
	old := lastToken()
	if old == "" {
		t.Fatal("the page made no listing request with a token")
	}
	before := verifies()
	if r := fx.s.call(t, "DELETE", "/api/v1/token/"+fx.api.lib.LibraryID+"/"+old, nil, nil); r.Status/100 != 2 {
		t.Fatalf("revoke the visitor's share token: %d %s", r.Status, r.Body)
	}
	v.click(`#crumbs button[data-depth="0"]`)
	v.waitVisible(entrySel("readme.txt"))
	v.idle()
	if after := verifies(); after != before+1 {
		t.Errorf("the page verified %d times after its token was revoked, want once", after-before)
	}
	if renewed := lastToken(); renewed == "" || renewed == old {
		t.Errorf("the listing after the revocation used token %q, want a new one", renewed)
	}
	if v.visible("#notice") || v.attr("#share", "data-state") != "ready" || v.visible("#code-form") {
		t.Errorf("the visitor saw the renewal: #notice %q, state %q", v.text("#notice"), v.attr("#share", "data-state"))
	}
}

func testUnknownShareLink(t *testing.T, _ *page, fx *shareFixture) {
	v := fx.visitor.on(t)
	v.do("open an unknown share link", chromedp.Navigate(fx.s.srv.URL+"/s/nosuchshare0"))
	v.wait("the not-found state", `$("#share").dataset.state === "notfound" && text("#state-text") !== ""`)
	v.shot("share-not-found")
}

// createShare creates a share through the API (13.1) and answers its link.
func (fx *shareFixture) createShare(t *testing.T, body map[string]any) string {
	t.Helper()
	r := fx.api.call(t, "POST", "share/{lib}/-", nil, body)
	var created struct {
		Endpoint string `json:"endpoint"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &created) != nil || created.Endpoint == "" {
		t.Fatalf("create a share %v: %d %s", body, r.Status, r.Body)
	}
	return created.Endpoint
}

// testShareProblemStates: a share that is only for signed-in users, and an expired one, explain
// themselves instead of asking for a code.
func testShareProblemStates(t *testing.T, _ *page, fx *shareFixture) {
	v := fx.visitor.on(t)
	cases := []struct {
		name, state, says string
		config            map[string]any
	}{
		{"signed-in only", "login-required", "app", map[string]any{"isPermanent": true, "canPreview": true, "forbidAnonymousUser": true}},
		{"expired", "expired", "expired", map[string]any{"expireTime": "2020-01-01T00:00:00Z", "canDownload": true}},
	}
	for _, c := range cases {
		link := fx.createShare(t, map[string]any{"name": c.name, "filePath": []string{"readme.txt"}, "config": c.config})
		v.do("open the "+c.name+" share", chromedp.Navigate(link))
		v.wait("the "+c.state+" state", `$("#share").dataset.state === `+js(c.state))
		if txt := v.text("#state-text"); !strings.Contains(txt, c.says) {
			t.Errorf("the %s share's page says %q, want it to mention %q", c.name, txt, c.says)
		}
		if v.visible("#code-form") || v.visible("#tree") {
			t.Errorf("the %s share's page offers the code form or the tree", c.name)
		}
		v.shot("share-" + c.state)
	}
}

// testSharePaging: a folder of 55 entries shows 50, then the rest after "load more".
func testSharePaging(t *testing.T, _ *page, fx *shareFixture) {
	v := fx.visitor.on(t)
	link := fx.createShare(t, map[string]any{"name": "Many", "filePath": []string{"many"}, "config": map[string]any{"isPermanent": true, "canDownload": true}})
	v.do("open the paging share", chromedp.Navigate(link))
	v.waitVisible(entrySel("many"))
	v.click(entrySel("many") + " button.entry-open")
	v.waitVisible(entrySel("d00"))
	v.idle()
	if n := query[int](v, `$$("#entries li").length`); n != 50 {
		t.Errorf("the first page lists %d entries, want 50", n)
	}
	v.click("#more")
	v.wait("55 entries", `$$("#entries li").length === 55`)
	v.idle()
	if v.visible("#more") {
		t.Error("#more is still shown after the last page")
	}
	names := query[[]string](v, `$$("#entries li").map((li) => li.dataset.name)`)
	if len(names) != 55 || len(slices.Compact(sorted(names))) != 55 {
		t.Errorf("the folder lists %d entries (%d distinct), want 55", len(names), len(slices.Compact(sorted(names))))
	}
	// No preview rights: no thumbnails or preview buttons; download rights: zip buttons.
	if n := query[int](v, `$$("#entries img.thumb, #entries [data-action=preview], #entries [data-action=play]").length`); n != 0 {
		t.Errorf("%d preview controls on a share without preview rights", n)
	}
	if n := query[int](v, `$$("#entries [data-action=zip]").length`); n != 55 {
		t.Errorf("%d zip buttons for 55 folders of a share with download rights", n)
	}
}

func testOwnerDisablesShare(t *testing.T, p *page, fx *shareFixture) {
	fx.need(t)
	code := fx.link[strings.LastIndex(fx.link, "/")+1:]
	row := shareRowSel(fx.link)
	if !p.visible(row) {
		p.load("/library/" + fx.api.lib.LibraryID)
		p.click("#shares-open")
		p.waitVisible(row)
	}
	p.click(row + ` [data-action="disable"]`)
	p.wait("the row to show the share off", `$(`+js(row)+`) && $(`+js(row)+`).dataset.enabled === "0"`)
	p.shot("shares-disabled")
	v := fx.visit(t)
	if st := v.attr("#share", "data-state"); st != "disabled" {
		t.Fatalf("after the owner turned the share off the page is in state %q (%q), want disabled", st, v.text("#state-text"))
	}
	if !strings.Contains(strings.ToLower(v.text("#state-text")), "turned off") {
		t.Errorf("#state-text %q does not say the share is turned off", v.text("#state-text"))
	}
	v.shot("share-disabled")

	// Turned on again, the link works with the code again.
	p.click(row + ` [data-action="enable"]`)
	p.wait("the row to show the share on", `$(`+js(row)+`).dataset.enabled === "1"`)
	v = fx.visit(t)
	if st := v.attr("#share", "data-state"); st != "code" {
		t.Errorf("after the owner turned the share on again the page is in state %q, want code", st)
	}

	// Deleted, the link is unknown; the API agrees.
	p.click(row + ` [data-action="delete"]`)
	p.waitVisible("#confirm-dialog")
	p.click("#confirm-ok")
	p.wait("the deleted share's row to go", `!$(`+js(row)+`)`)
	v = fx.visit(t)
	if st := v.attr("#share", "data-state"); st != "notfound" {
		t.Errorf("after the owner deleted the share the page is in state %q, want notfound", st)
	}
	if r := fx.s.call(t, "GET", "/api/v1/share/url-detail/"+code, nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("url-detail of the deleted share: %d %s, want 404", r.Status, r.Body)
	}
}

// checkTouchTargets fails on each shown control matching sel that is less than 44 CSS px high
// (too small for a fingertip) or sticks out of the screen sideways.
func (p *page) checkTouchTargets(sel string) {
	p.t.Helper()
	small := query[[]string](p, `$$(`+js(sel)+`).filter((b) => b.checkVisibility()).filter((b) => {
		const r = b.getBoundingClientRect();
		return r.height < 44 || r.left < 0 || r.right > document.documentElement.clientWidth;
	}).map((b) => b.outerHTML.slice(0, 100) + " " + JSON.stringify(b.getBoundingClientRect()))`)
	for _, s := range small {
		p.t.Errorf("a control is smaller than 44 px or off screen on a phone: %s", s)
	}
}

// checkOnScreen fails when the roots, or anything shown inside them, stick out of the screen
// sideways (also inside a box that scrolls: what is out of sight there is as good as missing).
func (p *page) checkOnScreen(roots ...string) {
	p.t.Helper()
	out := query[[]string](p, `(() => {
		const w = document.documentElement.clientWidth, out = [];
		for (const root of $$(`+js(strings.Join(roots, ", "))+`)) {
			for (const e of [root, ...root.querySelectorAll("*")]) {
				if (!e.checkVisibility()) continue;
				const r = e.getBoundingClientRect();
				if (r.width > 0 && (r.left < -0.5 || r.right > w + 0.5)) {
					out.push(e.outerHTML.slice(0, 100) + " " + JSON.stringify(r));
				}
			}
		}
		return out;
	})()`)
	for _, s := range out {
		p.t.Errorf("sticks out of the %d px wide screen: %s", phoneWidth, s)
	}
}
