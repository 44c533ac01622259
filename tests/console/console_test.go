package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/tests/internal/testmedia"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestConsole walks through the console as an operator does, in one browser against one system.
// The steps run in order (the empty state comes before any library exists, paging counts what
// the steps before it made); each step makes the libraries it works on.
func TestConsole(t *testing.T) {
	exe := requireChromium(t)
	s := startSystem(t)
	b := startBrowser(t, s, exe)
	runScenarios(t, b, s, s, []scenario[*system]{
		{"SignIn", testSignIn},
		{"EmptyState", testEmptyState},
		{"CreateLibraries", testCreateLibraries},
		{"PhoneWidth", testPhoneWidth},
		{"Paging", testPaging},
		{"Secret", testSecret},
		{"Settings", testSettings},
		{"FileBrowser", testFileBrowser},
		{"MediaThumbnail", testMediaThumbnail},
		{"Spaces", testSpaces},
		{"Language", testLanguage},
		{"APIErrorNotice", testAPIErrorNotice},
		{"DeleteLibrary", testDeleteLibrary},
	})
}

func testSignIn(t *testing.T, p *page, s *system) {
	p.desktop()
	p.do("open the console", chromedp.Navigate(p.consoleURL))
	p.waitVisible("#signin")
	p.waitHidden("#app")
	if typ := p.attr("#signin-key", "type"); typ != "password" {
		t.Errorf("#signin-key type=%q, want password", typ)
	}
	if !query[bool](p, `!!$('label[for="signin-key"]')`) {
		t.Error("#signin-key has no <label for>")
	}
	p.shot("signin")

	p.signIn("not-the-operator-key")
	p.wait("#signin-error to show a message", `visible("#signin-error") && text("#signin-error") !== ""`)
	if p.visible("#app") {
		t.Fatal("#app is shown after a wrong key")
	}

	p.signIn(adminKey)
	p.wait("#signin-error to go", `!visible("#signin-error")`)
	for _, where := range []string{"JSON.stringify(localStorage)", "location.href", "document.cookie"} {
		if v := eval[string](p, where); strings.Contains(v, adminKey) {
			t.Errorf("the operator key is in %s: %q", where, v)
		}
	}

	p.click("#signout")
	p.waitVisible("#signin")
	p.waitHidden("#app")
	if v := eval[string](p, "JSON.stringify(sessionStorage) + JSON.stringify(localStorage)"); strings.Contains(v, adminKey) {
		t.Errorf("the operator key is still stored after signing out: %q", v)
	}
	// A reload after signing out asks for the key again.
	p.do("reload", chromedp.Reload())
	p.waitVisible("#signin")
	p.signIn(adminKey)
}

func testEmptyState(t *testing.T, p *page, s *system) {
	p.load("/libraries?page=1")
	p.waitVisible("#libraries-empty")
	p.waitVisible("#libraries-empty #create-first")
	if n := query[int](p, `$$("#library-table tr[data-library-id]").length`); n != 0 {
		t.Errorf("%d library rows with no library", n)
	}
	p.shot("empty")
	// The empty state's button opens the create dialog; cancelling creates nothing.
	p.click("#create-first")
	p.waitVisible("#create-dialog")
	p.click("#create-cancel")
	p.waitHidden("#create-dialog")
	p.idle()
	if n := s.libraries(t).TotalCount; n != 0 {
		t.Errorf("%d libraries after cancelling the dialog, want 0", n)
	}
}

func testCreateLibraries(t *testing.T, p *page, s *system) {
	p.load("/libraries?page=1")
	before := s.libraries(t).TotalCount

	p.openCreateDialog()
	if !query[bool](p, `$("#lib-type-file").checked && !$("#lib-type-media").checked`) {
		t.Error("the file type is not the default")
	}
	if p.visible("#lib-multialbum-row") {
		t.Error("#lib-multialbum-row is shown for a file library")
	}
	if p.text("#create-fixed-note") == "" || !p.visible("#create-fixed-note") {
		t.Error("#create-fixed-note is empty or hidden")
	}

	// An empty name and a 51-character name are refused in the dialog and create nothing.
	p.fill("#lib-name", "")
	p.click("#create-ok")
	p.wait("#lib-name-error for an empty name", `visible("#lib-name-error") && text("#lib-name-error") !== ""`)
	p.idle()
	if !p.visible("#create-dialog") {
		t.Error("the dialog closed on an empty name")
	}
	if n := s.libraries(t).TotalCount; n != before {
		t.Fatalf("%d libraries after an empty name, want %d", n, before)
	}
	long := strings.Repeat("n", 51)
	p.fill("#lib-name", long)
	switch got := query[string](p, `$("#lib-name").value`); len(got) {
	case 51:
		p.click("#create-ok")
		p.wait("#lib-name-error for a 51-character name", `visible("#lib-name-error") && text("#lib-name-error") !== ""`)
		p.idle()
		if !p.visible("#create-dialog") {
			t.Error("the dialog closed on a 51-character name")
		}
	case 50:
		t.Log("#lib-name holds at most 50 characters (maxlength): a 51st cannot be typed")
	default:
		t.Errorf("#lib-name holds %q after typing 51 characters", got)
	}
	if n := s.libraries(t).TotalCount; n != before {
		t.Fatalf("%d libraries after a 51-character name, want %d", n, before)
	}
	p.click("#create-cancel")
	p.waitHidden("#create-dialog")

	file := p.createLibrary(s, newLibrary{name: "Team documents", remark: "made by the console test"}, "create-dialog")
	media := p.createLibrary(s, newLibrary{name: "Holiday albums", remark: "albums", media: true, multiAlbum: true}, "")

	for _, tt := range []struct {
		lib        library
		remark     string
		typ        string
		file       bool
		multiAlbum bool
	}{
		{file, "made by the console test", "file", true, false},
		{media, "albums", "media", false, true},
	} {
		row := rowSel(tt.lib.LibraryID)
		// CONTRACT.md names td.lib-name and td.lib-id; the console puts the name (a.lib-name) and
		// the id in one cell, td.lib-id. Either way: .lib-name is the name, .lib-id shows the id.
		if got := p.text(row + " .lib-name"); got != tt.lib.Name {
			t.Errorf("%s .lib-name %q, want %q", tt.lib.LibraryID, got, tt.lib.Name)
		}
		if got := p.text(row + " .lib-id"); !strings.Contains(got, tt.lib.LibraryID) {
			t.Errorf(".lib-id %q does not show %q", got, tt.lib.LibraryID)
		}
		if got := p.text(row + " td.lib-remark"); got != tt.remark {
			t.Errorf("%s td.lib-remark %q, want %q", tt.lib.Name, got, tt.remark)
		}
		if got := p.text(row + " td.lib-type"); !strings.Contains(strings.ToLower(got), tt.typ) {
			t.Errorf("%s td.lib-type %q, want it to say %s", tt.lib.Name, got, tt.typ)
		}
		if p.text(row+" td.lib-created") == "" {
			t.Errorf("%s td.lib-created is empty", tt.lib.Name)
		}
		ext := tt.lib.LibraryExtension
		if tt.lib.Remark != tt.remark || ext.IsFileLibrary != tt.file || ext.IsMultiAlbum != tt.multiAlbum || ext.IsMultiSpace {
			t.Errorf("admin API: %s remark %q isFileLibrary %v isMultiAlbum %v isMultiSpace %v; want %q %v %v false",
				tt.lib.Name, tt.lib.Remark, ext.IsFileLibrary, ext.IsMultiAlbum, ext.IsMultiSpace, tt.remark, tt.file, tt.multiAlbum)
		}
	}
	if got := p.text(rowSel(file.LibraryID) + " td.lib-type"); got == p.text(rowSel(media.LibraryID)+" td.lib-type") {
		t.Errorf("a file and a media library have the same td.lib-type %q", got)
	}
	if n := s.libraries(t).TotalCount; n != before+2 {
		t.Errorf("%d libraries, want %d", n, before+2)
	}
	p.shot("libraries")
}

// newLibrary is what the create dialog is filled with.
type newLibrary struct {
	name, remark                  string
	media, multiSpace, multiAlbum bool
}

// rowSel answers the selector of a library's row in the library table.
func rowSel(id string) string { return `#library-table tr[data-library-id="` + id + `"]` }

// createLibrary creates a library through the create dialog and answers it as the admin API has
// it. shot, when set, names a screenshot of the filled dialog.
func (p *page) createLibrary(s *system, l newLibrary, shot string) library {
	p.t.Helper()
	p.open("/libraries?page=1")
	p.openCreateDialog()
	p.fill("#lib-name", l.name)
	p.fill("#lib-remark", l.remark)
	p.setChecked("#lib-multispace", l.multiSpace)
	if l.media {
		p.click("#lib-type-media")
		if l.multiSpace {
			p.waitHidden("#lib-multialbum-row")
		} else {
			p.waitVisible("#lib-multialbum-row")
			// Multi-album exists only without multi-tenant mode: ticking it hides the row.
			p.setChecked("#lib-multispace", true)
			p.waitHidden("#lib-multialbum-row")
			p.setChecked("#lib-multispace", false)
			p.waitVisible("#lib-multialbum-row")
			p.setChecked("#lib-multialbum", l.multiAlbum)
		}
	} else {
		p.click("#lib-type-file")
		p.waitHidden("#lib-multialbum-row")
	}
	if shot != "" {
		p.shot(shot)
	}
	p.click("#create-ok")
	p.waitHidden("#create-dialog")
	p.wait(fmt.Sprintf("a row named %q in #library-table", l.name),
		`$$("#library-table tr[data-library-id] .lib-name").some((td) => td.textContent.trim() === `+js(l.name)+`)`)
	lib := s.libraryNamed(p.t, l.name)
	p.waitVisible(rowSel(lib.LibraryID))
	return lib
}

// openCreateDialog opens the create dialog from the library page: by #new-library, or by the
// empty state's #create-first when there is no library (the console hides #new-library then).
func (p *page) openCreateDialog() {
	p.t.Helper()
	p.wait("the library table or the empty state", `visible("#new-library") || visible("#create-first")`)
	if p.visible("#new-library") {
		p.click("#new-library")
	} else {
		p.click("#create-first")
	}
	p.waitVisible("#create-dialog")
}

// setChecked ticks or unticks a checkbox by clicking it (or its label, when the box itself is
// drawn by CSS).
func (p *page) setChecked(sel string, want bool) {
	p.t.Helper()
	if query[bool](p, `$(`+js(sel)+`).checked`) == want {
		return
	}
	if p.visible(sel) {
		p.click(sel)
	} else {
		p.click(`label[for="` + strings.TrimPrefix(sel, "#") + `"]`)
	}
	p.wait(fmt.Sprintf("%s checked=%v", sel, want), `$(`+js(sel)+`).checked === `+fmt.Sprint(want))
}

func testPhoneWidth(t *testing.T, p *page, s *system) {
	p.load("/libraries?page=1")
	p.phone()
	t.Cleanup(p.desktop)
	p.click("#signout")
	p.waitVisible("#signin")
	p.waitVisible("#signin-submit")
	p.checkPhoneLayout()
	p.shot("phone-signin")

	p.signIn(adminKey)
	p.open("/libraries?page=1")
	p.wait("library rows at phone width", `$$("#library-table tr[data-library-id]").length > 0`)
	p.waitVisible("#library-table")
	p.waitVisible("#new-library")
	first := `#library-table tr[data-library-id]`
	for _, action := range []string{"secret", "configure", "open", "delete"} {
		if !p.visible(first + ` [data-action="` + action + `"]`) {
			t.Errorf("the first row's %s button is not shown at phone width", action)
		}
	}
	p.checkPhoneLayout()
	p.shot("phone-libraries")
}

// checkPhoneLayout checks that the page is laid out for the phone's width (a viewport meta tag)
// and does not scroll sideways; a wide table may scroll inside its own box.
func (p *page) checkPhoneLayout() {
	p.t.Helper()
	if w := eval[int](p, "window.innerWidth"); w != phoneWidth {
		p.t.Errorf("window.innerWidth %d at a %d px wide phone: no <meta name=viewport content=width=device-width>?", w, phoneWidth)
	}
	if w := eval[int](p, "document.documentElement.scrollWidth"); w > phoneWidth {
		p.t.Errorf("the page is %d px wide at a %d px wide phone: it scrolls sideways", w, phoneWidth)
	}
}

func testPaging(t *testing.T, p *page, s *system) {
	const total = 25
	have := s.libraries(t).TotalCount
	if have > total {
		t.Fatalf("%d libraries before paging, want at most %d", have, total)
	}
	for i := have; i < total; i++ {
		s.createLibrary(t, fmt.Sprintf("bulk library %02d", i), nil)
	}
	all := s.libraries(t)
	if all.TotalCount != total || len(all.List) != total {
		t.Fatalf("admin API lists %d (totalCount %d), want %d", len(all.List), all.TotalCount, total)
	}
	for i := 1; i < len(all.List); i++ {
		if all.List[i-1].CreationTime < all.List[i].CreationTime {
			t.Fatalf("admin API order is not newest first: %s before %s", all.List[i-1].CreationTime, all.List[i].CreationTime)
		}
	}
	ids := func(from, to int) []string {
		var out []string
		for _, l := range all.List[from:to] {
			out = append(out, l.LibraryID)
		}
		return out
	}
	p.load("/libraries?page=1")
	p.wait(fmt.Sprintf("#total-count data-total=%d", total), `$("#total-count") && $("#total-count").dataset.total === "`+fmt.Sprint(total)+`"`)
	p.waitPage(1, 3, ids(0, 10))
	p.click("#page-next")
	p.waitPage(2, 3, ids(10, 20))
	p.click("#page-next")
	p.waitPage(3, 3, ids(20, 25))
	p.click(`#page-numbers button[data-page="1"]`)
	p.waitPage(1, 3, ids(0, 10))
	// The route names the page.
	p.open("/libraries?page=3")
	p.waitPage(3, 3, ids(20, 25))
	p.click("#page-prev")
	p.waitPage(2, 3, ids(10, 20))
}

// waitPage waits until the library table shows page n of pages with exactly these rows, in order.
func (p *page) waitPage(n, pages int, ids []string) {
	p.t.Helper()
	want, err := json.Marshal(ids)
	if err != nil {
		p.t.Fatal(err)
	}
	p.wait(fmt.Sprintf("page %d of %d with rows %s", n, pages, want), `(() => {
		const info = $("#page-info");
		const rows = $$("#library-table tr[data-library-id]").map((r) => r.dataset.libraryId);
		return info && info.dataset.page === "`+fmt.Sprint(n)+`" && info.dataset.pages === "`+fmt.Sprint(pages)+`" &&
			JSON.stringify(rows) === `+js(string(want))+`;
	})()`)
}

func testSecret(t *testing.T, p *page, s *system) {
	p.load("/libraries?page=1")
	lib := p.createLibrary(s, newLibrary{name: "Secret keeper"}, "")
	old := s.secret(t, lib.LibraryID)
	p.click(rowSel(lib.LibraryID) + ` [data-action="secret"]`)
	p.waitVisible("#secret-dialog")
	if masked := p.text("#secret-value"); masked == "" || strings.Contains(masked, old) {
		t.Errorf("#secret-value before reveal is %q: want it masked", masked)
	}
	p.shot("secret-dialog")
	p.click("#secret-reveal")
	p.wait("#secret-value to show the secret", `text("#secret-value") === `+js(old))

	// A token minted with the old secret, as an app's user would hold it.
	st, userToken := s.mint(t, lib.LibraryID, old)
	if st != http.StatusOK {
		t.Fatalf("mint with the secret: %d", st)
	}
	tokenAlive := func() bool {
		return s.call(t, "POST", "/api/v1/token/"+lib.LibraryID+"/"+userToken, nil, nil).Status == http.StatusOK
	}

	// The confirmation offers to sign every user out, checked by default, and says what it does.
	// Cancelling keeps the secret and the tokens.
	p.click("#secret-reset")
	p.waitVisible("#confirm-dialog")
	p.waitVisible("#secret-revoke-tokens")
	if !query[bool](p, `document.getElementById("secret-revoke-tokens").checked`) {
		t.Error("#secret-revoke-tokens is not checked by default")
	}
	if help := p.text("#secret-revoke-help"); !strings.Contains(help, "sign in again") {
		t.Errorf("#secret-revoke-help says %q: want it to say what revoking does", help)
	}
	p.shot("secret-reset-confirm")
	p.click("#confirm-cancel")
	p.waitHidden("#confirm-dialog")
	p.idle()
	if got := s.secret(t, lib.LibraryID); got != old {
		t.Fatal("the secret changed although the reset was cancelled")
	}
	if !tokenAlive() {
		t.Fatal("a cancelled reset revoked a token")
	}

	// Unchecked: a new secret, and the tokens live on.
	p.click("#secret-reset")
	p.waitVisible("#secret-revoke-tokens")
	p.click("#secret-revoke-tokens")
	p.wait("#secret-revoke-tokens to be unchecked", `!document.getElementById("secret-revoke-tokens").checked`)
	p.click("#confirm-ok")
	p.waitHidden("#confirm-dialog")
	second := until[string](p, "#secret-value to show a new secret", `const v = text("#secret-value");
		return v !== "" && v !== `+js(old)+` && !v.includes("•") ? v : "";`)
	if !tokenAlive() {
		t.Fatal("a reset with the box unchecked revoked a token")
	}

	// Checked again by default, and this time every earlier token is revoked.
	p.click("#secret-reset")
	p.waitVisible("#secret-revoke-tokens")
	if !query[bool](p, `document.getElementById("secret-revoke-tokens").checked`) {
		t.Error("#secret-revoke-tokens is not checked again on the next reset")
	}
	p.click("#confirm-ok")
	p.waitHidden("#confirm-dialog")
	shown := until[string](p, "#secret-value to show a new secret", `const v = text("#secret-value");
		return v !== "" && v !== `+js(second)+` && !v.includes("•") ? v : "";`)
	if want := s.secret(t, lib.LibraryID); shown != want {
		t.Errorf("#secret-value shows %q after the reset, the admin API has %q", shown, want)
	}
	if r := s.call(t, "POST", "/api/v1/token/"+lib.LibraryID+"/"+userToken, nil, nil); r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "InvalidAccessToken") {
		t.Errorf("the token minted before the reset answers %d %s, want 403 InvalidAccessToken", r.Status, r.Body)
	}
	for _, stale := range []string{old, second} {
		if st, _ := s.mint(t, lib.LibraryID, stale); st == http.StatusOK {
			t.Error("an old secret still mints tokens after the reset")
		}
	}
	if st, tok := s.mint(t, lib.LibraryID, shown); st != http.StatusOK || tok == "" {
		t.Errorf("the new secret shown does not mint a token: %d", st)
	}
	// Copy puts the secret on the clipboard (read back with the permission a person would grant).
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		ctx, cancel := context.WithTimeout(p.tab, actionTimeout)
		_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted,
			Origin: strings.TrimSuffix(s.srv.URL, "/"),
		})
		cancel()
		if err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	p.click("#secret-copy")
	clip := until[string](p, "the clipboard to hold the secret", `return navigator.clipboard.readText().then((v) => v === `+js(shown)+` ? v : "");`)
	if clip != shown {
		t.Errorf("the clipboard holds %q after #secret-copy, want the secret", clip)
	}
	p.click("#secret-close")
	p.waitHidden("#secret-dialog")
}

func testSettings(t *testing.T, p *page, s *system) {
	p.load("/libraries?page=1")
	lib := p.createLibrary(s, newLibrary{name: "Settings lab", remark: "before"}, "")
	p.click(rowSel(lib.LibraryID) + ` [data-action="configure"]`)
	p.waitVisible("#settings-page")
	p.wait("the form to show the library", `$("#set-name") && $("#set-name").value === `+js(lib.Name))
	p.idle()
	if p.text("#settings-fixed") == "" {
		t.Error("#settings-fixed is empty")
	}
	if query[bool](p, `$("#set-isPublicRead").disabled`) {
		t.Error("#set-isPublicRead is disabled for a single-tenant library")
	}
	p.setChecked("#set-useRecycleBin", true)
	p.fill("#set-autoRemoveRecycledDays", "30")
	p.fill("#set-allowFileExtname", "txt,pdf")
	p.fill("#set-remark", "after")
	p.shot("settings")
	p.click("#settings-save")
	state := until[string](p, "#settings-result data-state", `const r = $("#settings-result"); return r && r.dataset.state;`)
	if state != "ok" {
		t.Fatalf("#settings-result data-state=%q (%q), want ok", state, p.text("#settings-result"))
	}
	var got library
	if st := s.admin(t, "GET", "/admin/v1/libraries/"+lib.LibraryID, nil, &got); st != http.StatusOK {
		t.Fatalf("get library: %d", st)
	}
	ext := got.LibraryExtension
	if !ext.UseRecycleBin || ext.AutoRemoveRecycledDays != 30 || !slices.Equal(ext.AllowFileExtname, []string{"txt", "pdf"}) || got.Remark != "after" {
		t.Errorf("admin API after saving: useRecycleBin %v autoRemoveRecycledDays %d allowFileExtname %q remark %q; want true 30 [txt pdf] after",
			ext.UseRecycleBin, ext.AutoRemoveRecycledDays, ext.AllowFileExtname, got.Remark)
	}

	// Public read is a single-tenant setting: the box is disabled for a multi-tenant library.
	multi := s.createLibrary(t, "Tenants", map[string]any{"isFileLibrary": true, "isMultiSpace": true})
	p.open("/library/" + multi.LibraryID + "/settings")
	p.waitVisible("#settings-page")
	p.wait("the form to show the multi-tenant library", `$("#set-name").value === `+js(multi.Name))
	if !query[bool](p, `$("#set-isPublicRead").disabled`) {
		t.Error("#set-isPublicRead is enabled for a multi-tenant library")
	}
}

func testFileBrowser(t *testing.T, p *page, s *system) {
	p.load("/libraries?page=1")
	lib := p.createLibrary(s, newLibrary{name: "File browser"}, "")
	p.click(rowSel(lib.LibraryID) + ` [data-action="open"]`)
	p.waitVisible("#detail-page")
	p.waitVisible("#browser")
	p.waitVisible("#file-table")
	for _, id := range []string{"#usage-size", "#usage-dirs", "#usage-files"} {
		p.wait(id+" data-value to be a number", `$(`+js(id)+`) && /^[0-9]+$/.test($(`+js(id)+`).dataset.value || "")`)
	}
	if !query[bool](p, `!!$('#crumbs a[data-path=""]')`) {
		t.Error(`#crumbs has no root link a[data-path=""]`)
	}

	// A directory, with the name dialog refusing an empty name first.
	p.click("#mkdir")
	p.waitVisible("#name-dialog")
	p.fill("#name-input", "")
	p.click("#name-ok")
	p.wait("#name-error for an empty name", `visible("#name-error") && text("#name-error") !== ""`)
	p.fill("#name-input", "reports 2026")
	p.click("#name-ok")
	p.waitHidden("#name-dialog")
	dir := fileRow("reports 2026")
	p.waitVisible(dir + `[data-kind="dir"]`)

	// Upload 300 KiB of random bytes and read them back through the public API.
	data := make([]byte, 300<<10)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p.upload(local)
	p.waitVisible(fileRow("data.bin") + `[data-kind="file"]`)
	if r := s.fileBytes(t, lib, "data.bin"); r.Status != http.StatusOK || !bytes.Equal(r.Body, data) {
		t.Fatalf("public API answers %d with %d bytes for data.bin, want the %d uploaded", r.Status, len(r.Body), len(data))
	}

	// Into the directory and back by the crumbs.
	p.click(dir + " .entry-open")
	p.waitVisible(`#crumbs a[data-path="reports 2026"]`)
	p.wait("the route to name the directory", `decodeURIComponent(location.hash).endsWith("/space/-/reports 2026")`)
	inner := filepath.Join(t.TempDir(), "inner.txt")
	if err := os.WriteFile(inner, []byte("inside the directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.upload(inner)
	p.waitVisible(fileRow("inner.txt"))
	if r := s.fileBytes(t, lib, "reports 2026/inner.txt"); r.Status != http.StatusOK || string(r.Body) != "inside the directory\n" {
		t.Errorf("public API answers %d %q for reports 2026/inner.txt", r.Status, r.Body)
	}
	p.click(`#crumbs a[data-path=""]`)
	p.waitVisible(fileRow("data.bin"))
	// The usage figures are the library's live counters: one directory, two files.
	wantSize := fmt.Sprint(len(data) + len("inside the directory\n"))
	p.wait("the usage figures to count the uploads", `$("#usage-dirs").dataset.value === "1" && $("#usage-files").dataset.value === "2" && `+
		`$("#usage-size").dataset.value === `+js(wantSize))
	p.shot("files")

	// Download in the browser: the saved file holds the uploaded bytes.
	if got := p.download(fileRow("data.bin") + ` [data-action="download"]`); !bytes.Equal(got, data) {
		t.Errorf("the browser downloaded %d bytes, want the %d uploaded", len(got), len(data))
	}

	// Rename, then delete.
	p.click(fileRow("data.bin") + ` [data-action="rename"]`)
	p.waitVisible("#name-dialog")
	p.fill("#name-input", "renamed.bin")
	p.click("#name-ok")
	p.waitHidden("#name-dialog")
	p.waitVisible(fileRow("renamed.bin"))
	p.wait("the old name's row to go", `!$(`+js(fileRow("data.bin"))+`)`)
	if r := s.fileBytes(t, lib, "renamed.bin"); r.Status != http.StatusOK || !bytes.Equal(r.Body, data) {
		t.Errorf("public API answers %d with %d bytes for renamed.bin", r.Status, len(r.Body))
	}
	if r := s.fileBytes(t, lib, "data.bin"); r.Status != http.StatusNotFound {
		t.Errorf("public API answers %d for data.bin after the rename, want 404", r.Status)
	}
	p.click(fileRow("renamed.bin") + ` [data-action="delete"]`)
	p.waitVisible("#confirm-dialog")
	p.click("#confirm-ok")
	p.waitHidden("#confirm-dialog")
	p.wait("the deleted file's row to go", `!$(`+js(fileRow("renamed.bin"))+`)`)
	if r := s.fileBytes(t, lib, "renamed.bin"); r.Status != http.StatusNotFound {
		t.Errorf("public API answers %d for renamed.bin after the delete, want 404", r.Status)
	}
}

// testSpaces: a multi-tenant library lists its spaces, makes a new one, and browses it.
func testSpaces(t *testing.T, p *page, s *system) {
	p.load("/libraries?page=1")
	lib := p.createLibrary(s, newLibrary{name: "Tenant spaces", multiSpace: true}, "")
	p.click(rowSel(lib.LibraryID) + ` [data-action="open"]`)
	p.waitVisible("#spaces")
	p.waitVisible("#spaces-empty")
	if p.visible("#browser") {
		t.Error("#browser shows before a space is chosen")
	}
	p.click("#new-space")
	p.waitVisible("#space-list button[data-space-id]")
	p.waitVisible("#browser")
	space := p.attr("#space-list button[data-space-id]", "data-space-id")
	if p.attr(`#space-list button[data-space-id="`+space+`"]`, "aria-pressed") != "true" {
		t.Error("the new space is not marked as the one shown")
	}
	p.click("#mkdir")
	p.waitVisible("#name-dialog")
	p.fill("#name-input", "shared")
	p.click("#name-ok")
	p.waitHidden("#name-dialog")
	p.waitVisible(fileRow("shared") + `[data-kind="dir"]`)
	p.shot("spaces")

	// The public API sees the space and the directory in it.
	st, token := s.mint(t, lib.LibraryID, s.secret(t, lib.LibraryID))
	if st != http.StatusOK {
		t.Fatalf("mint: %d", st)
	}
	r := s.call(t, "GET", "/api/v1/space/"+lib.LibraryID+"/list?access_token="+token, nil, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"`+space+`"`) {
		t.Fatalf("space list: %d %s; want %s in it", r.Status, r.Body, space)
	}
	r = s.call(t, "GET", "/api/v1/directory/"+lib.LibraryID+"/"+space+"/shared?info&access_token="+token, nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("directory info of shared in %s: %d %s", space, r.Status, r.Body)
	}
}

// fileRow answers the selector of an entry's row in the file table.
func fileRow(name string) string { return `#file-table tr[data-name="` + name + `"]` }

// upload puts a local file into #upload-input and waits for the upload to finish.
func (p *page) upload(local string) {
	p.t.Helper()
	// A previous upload left data-state="done": mark it, so that only this upload's end counts.
	eval[chromedp.Void](p, `document.getElementById("upload-progress").dataset.state = "before-test-upload"`)
	p.do("choose "+filepath.Base(local), chromedp.SetUploadFiles(chromedp.CSS("#upload-input"), []string{local}))
	state := until[string](p, "#upload-progress data-state done or error for "+filepath.Base(local), `
		const st = $("#upload-progress").dataset.state; return st === "done" || st === "error" ? st : "";`)
	if state != "done" {
		p.t.Fatalf("upload of %s: #upload-progress data-state=%q, #upload-status %q", filepath.Base(local), state, p.text("#upload-status"))
	}
}

// download clicks a download control and answers the bytes the browser saved.
func (p *page) download(sel string) []byte {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.tab, actionTimeout)
	defer cancel()
	return p.saveDownload(ctx, sel, func() { p.click(sel) }, func(err error) {
		p.t.Fatalf("waiting for the download of %s: %v%s", sel, err, p.diagnose())
	})
}

// saveDownload lets the browser save downloads into a folder of the test's, runs start (which
// makes the tab download what), and answers the saved bytes. failed is called when the events
// stop before the download completes (ctx ended); it must end the test.
func (p *page) saveDownload(ctx context.Context, what string, start func(), failed func(error)) []byte {
	p.t.Helper()
	dir := p.t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
	}); err != nil {
		p.t.Fatalf("set the download folder: %v", err)
	}
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	start()
	for ev, err := range progress {
		if err != nil {
			failed(err)
			return nil
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			path := ev.FilePath
			if path == "" {
				path = filepath.Join(dir, ev.GUID)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				p.t.Fatalf("the saved file of %s: %v", what, err)
			}
			return data
		case browser.DownloadProgressStateCanceled:
			p.t.Fatalf("the download of %s was cancelled", what)
		}
	}
	p.t.Fatalf("no download of %s", what)
	return nil
}

func testMediaThumbnail(t *testing.T, p *page, s *system) {
	p.load("/libraries?page=1")
	lib := p.createLibrary(s, newLibrary{name: "Photo wall", media: true}, "")
	p.click(rowSel(lib.LibraryID) + ` [data-action="open"]`)
	p.waitVisible("#browser")
	local := filepath.Join(t.TempDir(), "sunset.png")
	if err := os.WriteFile(local, testPNG(t), 0o644); err != nil {
		t.Fatal(err)
	}
	p.upload(local)
	row := fileRow("sunset.png")
	p.waitVisible(row)
	p.wait("the row's img.thumb to load", `(() => { const i = $(`+js(row+" img.thumb")+`); return !!i && i.complete && i.naturalWidth > 0; })()`)

	// A video's thumbnail is its cover frame, which the server draws with ffmpeg (an optional
	// dependency that CI installs; without it the icon stands in and there is nothing to see).
	clip := videoClip(t)
	if clip == "" {
		return
	}
	p.upload(clip)
	video := fileRow("clip.mp4")
	p.waitVisible(video)
	p.wait("the video row's img.thumb to load", `(() => { const i = $(`+js(video+" img.thumb")+`); return !!i && i.complete && i.naturalWidth > 0; })()`)
	p.shot("media")
}

// videoClip makes a one-second MP4 and answers its path; without ffmpeg it answers "" (and fails
// under CI, which installs it, so the case cannot pass unseen there).
func videoClip(t *testing.T) string {
	t.Helper()
	clip := testmedia.MP4(t)
	if clip == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is not installed: .ci/run installs it for the video cover")
		}
		t.Log("ffmpeg not installed: the video thumbnail is not checked")
	}
	return clip
}

// testPNG answers a small PNG: a colour gradient the thumbnailer can scale.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for y := range 120 {
		for x := range 160 {
			img.Set(x, y, color.RGBA{R: uint8(x * 255 / 160), G: uint8(y * 255 / 120), B: 128, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// han matches a Chinese character.
var han = regexp.MustCompile(`\p{Han}`)

func testLanguage(t *testing.T, p *page, s *system) {
	p.load("/libraries?page=1")
	p.waitVisible("#new-library")
	if lang := eval[string](p, "document.documentElement.lang"); !strings.HasPrefix(lang, "en") {
		t.Errorf("<html lang=%q> in an English browser, want en", lang)
	}
	english := p.text("#new-library")
	p.choose("#lang", "zh-CN")
	p.wait("<html lang=zh-CN> and #new-library in Chinese",
		`document.documentElement.lang === "zh-CN" && text("#new-library") !== `+js(english))
	if zh := p.text("#new-library"); !han.MatchString(zh) {
		t.Errorf("#new-library in zh-CN is %q: no Chinese characters", zh)
	}
	p.shot("libraries-zh")
	p.choose("#lang", "en")
	p.wait("<html lang=en> and #new-library in English",
		`document.documentElement.lang === "en" && text("#new-library") === `+js(english))
}

func testAPIErrorNotice(t *testing.T, p *page, s *system) {
	const missing = "smhdoesnotexist0" // smh + 13 base36 characters: well formed, never created
	var apiErr struct {
		Code      string `json:"code"`
		RequestID string `json:"requestId"`
	}
	if st := s.admin(t, "GET", "/admin/v1/libraries/"+missing, nil, &apiErr); st != http.StatusNotFound || apiErr.Code != "LibraryNotFound" {
		t.Fatalf("admin API answers %d %q for %s, want 404 LibraryNotFound", st, apiErr.Code, missing)
	}
	p.load("/libraries?page=1")
	p.open("/library/" + missing)
	p.wait("#notice with span.err-code LibraryNotFound and a request id", `visible("#notice") &&
		text("#notice span.err-code").includes("LibraryNotFound") && text("#notice span.err-request-id") !== ""`)
	if id := p.text("#notice span.err-request-id"); id == apiErr.RequestID {
		t.Errorf("the console shows request id %q, the one of this test's own call", id)
	}
}

func testDeleteLibrary(t *testing.T, p *page, s *system) {
	p.load("/libraries?page=1")
	lib := p.createLibrary(s, newLibrary{name: "Short lived"}, "")
	row := rowSel(lib.LibraryID)

	p.click(row + ` [data-action="delete"]`)
	p.waitVisible("#confirm-dialog")
	if txt := p.text("#confirm-text"); !strings.Contains(txt, lib.Name) {
		t.Errorf("#confirm-text %q does not name the library %q", txt, lib.Name)
	}
	p.click("#confirm-cancel")
	p.waitHidden("#confirm-dialog")
	p.idle()
	if st := s.admin(t, "GET", "/admin/v1/libraries/"+lib.LibraryID, nil, nil); st != http.StatusOK {
		t.Fatalf("the library is gone (%d) although the delete was cancelled", st)
	}

	p.click(row + ` [data-action="delete"]`)
	p.waitVisible("#confirm-dialog")
	p.click("#confirm-ok")
	p.waitHidden("#confirm-dialog")
	p.wait("the deleted library's row to go", `!$(`+js(row)+`)`)
	if st := s.admin(t, "GET", "/admin/v1/libraries/"+lib.LibraryID, nil, nil); st != http.StatusNotFound {
		t.Errorf("admin API answers %d for the deleted library, want 404", st)
	}
	total := s.libraries(t).TotalCount
	p.wait(fmt.Sprintf("#total-count data-total=%d", total), `$("#total-count").dataset.total === "`+fmt.Sprint(total)+`"`)
}

// checkOwnOriginOnly fails when the page loaded anything (scripts, styles, fonts, images, API
// calls) from elsewhere than the system under test: the console makes no external requests.
func (p *page) checkOwnOriginOnly(s *system) {
	p.t.Helper()
	urls := query[[]string](p, `[location.href, ...performance.getEntriesByType("resource").map((e) => e.name)]`)
	if len(urls) < 2 {
		p.t.Errorf("the page lists no resources it loaded (%q): the check would see nothing", urls)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, s.srv.URL+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			p.t.Errorf("the page requested %s, which is not the system's origin %s", u, s.srv.URL)
		}
	}
}

// checkControlsNamed fails when a visible control has no accessible name (a label, aria-label
// or aria-labelledby for fields; text or aria-label for buttons and links) or is kept out of the
// keyboard's reach (a negative tabindex).
func (p *page) checkControlsNamed() {
	p.t.Helper()
	unnamed := query[[]string](p, `$$("input:not([type=hidden]), select, textarea, button, a[href], [tabindex]")
		.filter((e) => e.checkVisibility() || (e.labels && [...e.labels].some((l) => l.checkVisibility())))
		.filter((e) => {
			const named = (e.labels && e.labels.length > 0) || e.getAttribute("aria-label") || e.getAttribute("aria-labelledby") ||
				(["BUTTON", "A", "LABEL"].includes(e.tagName) && e.textContent.trim() !== "");
			return !named || e.tabIndex < 0;
		})
		.map((e) => e.outerHTML.slice(0, 120))`)
	for _, u := range unnamed {
		p.t.Errorf("a control without an accessible name or out of keyboard reach: %s", u)
	}
}
