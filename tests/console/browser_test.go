package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opensmh/opensmh/tests/internal/hostnet"
	"github.com/opensmh/opensmh/tests/internal/syncbuf"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium (apt-get install chromium; .ci/run installs it).
const chromiumPath = "/usr/bin/chromium"

// actionTimeout bounds each browser step, so that a stuck page fails the step that waited
// instead of the whole test run.
const actionTimeout = 30 * time.Second

// Viewports under test: a laptop and a phone.
const (
	desktopWidth, desktopHeight = 1280, 800
	phoneWidth, phoneHeight     = 390, 844
)

// chromium is one headless Chromium with one tab on the console.
type chromium struct {
	// tab is the tab's context. It has no deadline: each step derives its own.
	tab context.Context
	// consoleURL is the console's address on the system under test.
	consoleURL string
	// shots is the folder screenshots go to.
	shots string
	// output is what Chromium printed; messages is what the page logged (errors and exceptions).
	output   *syncbuf.Buffer
	messages *pageMessages
}

// pageMessages collects the page's console errors and uncaught exceptions.
type pageMessages struct {
	mu         sync.Mutex
	errors     []string
	exceptions []string
}

func (m *pageMessages) add(isException bool, text string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if isException {
		m.exceptions = append(m.exceptions, text)
	} else {
		m.errors = append(m.errors, text)
	}
}

func (m *pageMessages) snapshot() (errs, exceptions []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.errors...), append([]string(nil), m.exceptions...)
}

// requireChromium answers Chromium's path. Without it the test fails when CI is set (a skip must
// never pass for a green run there) and is skipped elsewhere.
func requireChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("the console tests need Debian's chromium at %s (apt-get install chromium; .ci/run installs it): %v", chromiumPath, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return chromiumPath
}

// screenshotDir answers where screenshots go: $SMH_TEST_OUTPUT/console, or testdata/out beside
// this file (ignored by git).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("testdata", "out")
	if base := os.Getenv("SMH_TEST_OUTPUT"); base != "" {
		dir = filepath.Join(base, "console")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatalf("screenshot folder: %v", err)
	}
	return abs
}

// startBrowser starts the headless Chromium exe on a new empty profile that accepts exactly the
// system's certificate key, and opens one tab. Everything is stopped when the test ends.
func startBrowser(t *testing.T, s *system, exe string) *chromium {
	t.Helper()
	// Docker's network changes (tests/compose) abort Chromium's requests: not while it runs.
	hostnet.Hold(t)
	// The profile folder is made before the browser's cleanup is registered, so that the browser
	// has exited when the folder is removed.
	profile := t.TempDir()
	output := &syncbuf.Buffer{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(desktopWidth, desktopHeight),
		// The network here is closed: without these Chromium keeps trying to reach Google's
		// services (component and safe-browsing updates, sync, QUIC probes, domain reliability).
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		// The console's language follows the browser's until the operator picks one.
		chromedp.Flag("lang", "en-US"),
		// Real TLS: the server's certificate comes from its own local CA, which this profile does
		// not trust; accept exactly the server's key instead of ignoring certificate errors.
		chromedp.Flag("ignore-certificate-errors-spki-list", s.spkiHash(t)),
		chromedp.CombinedOutput(output),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	b := &chromium{tab: tab, consoleURL: s.srv.URL + "/console/", shots: screenshotDir(t), output: output, messages: &pageMessages{}}
	// The first step starts the browser; its life is the tab context's, not the step's.
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start %s: %v\n%s", exe, err, output.Tail(4<<10))
	}
	messages := chromedp.Console(tab)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				b.messages.add(m.IsException(), fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line+1))
			}
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chromium output (tail):\n%s", output.Tail(4<<10))
		}
		cancelTab()
		cancelAlloc()
		wg.Wait()
	})
	t.Logf("screenshots go to %s", b.shots)
	return b
}

// page is the browser as one (sub)test drives it: every failure is reported to t.
type page struct {
	t *testing.T
	*chromium
}

func (b *chromium) on(t *testing.T) *page { return &page{t: t, chromium: b} }

// step runs one action with the step timeout.
func step[T any](p *page, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.tab, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("%s: %v%s", what, err, p.diagnose())
	}
	return v
}

// do runs actions that answer nothing, with one step timeout for all.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	step(p, what, chromedp.Steps(actions...))
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	return step(p, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// jsHelpers are small functions the conditions below use, evaluated inside the page.
const jsHelpers = `const $ = (s) => document.querySelector(s);
const $$ = (s) => Array.from(document.querySelectorAll(s));
const visible = (s) => { const e = $(s); return !!e && e.checkVisibility(); };
const text = (s) => { const e = $(s); return e ? e.textContent.trim() : ""; };
`

// until waits for a JavaScript condition (a function body with the helpers above, returning a
// truthy value) and answers its value; it fails naming what it waited for.
func until[T any](p *page, what, body string) T {
	p.t.Helper()
	v, err := poll[T](p, body)
	if err != nil {
		p.t.Fatalf("waiting for %s: %v%s", what, err, p.diagnose())
	}
	return v
}

// poll waits for a JavaScript condition as until does and answers why it did not come.
func poll[T any](p *page, body string) (T, error) {
	fn := "(() => {" + jsHelpers + body + "})()"
	ctx, cancel := context.WithTimeout(p.tab, actionTimeout+5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](fn,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(actionTimeout)))
	if errors.Is(err, chromedp.ErrPollingTimeout) {
		err = fmt.Errorf("timed out after %v", actionTimeout)
	}
	return v, err
}

// wait waits for a boolean condition.
func (p *page) wait(what, cond string) {
	p.t.Helper()
	until[bool](p, what, "return !!("+cond+");")
}

// query evaluates an expression with the helpers, once, and decodes its value.
func query[T any](p *page, expr string) T {
	p.t.Helper()
	return eval[T](p, "(() => {"+jsHelpers+"return ("+expr+");})()")
}

// js quotes a Go string as a JavaScript string literal.
func js(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always marshals
	}
	return string(b)
}

// diagnose answers what the page shows, for a failure message.
func (p *page) diagnose() string {
	ctx, cancel := context.WithTimeout(p.tab, 5*time.Second)
	defer cancel()
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const t = (s) => { const e = document.querySelector(s); return e ? e.textContent.trim().slice(0, 300) : "(none)"; };
		const b = document.getElementById("busy");
		const libs = Array.from(document.querySelectorAll("#library-table tr[data-library-id]")).map((r) => r.dataset.libraryId);
		const files = Array.from(document.querySelectorAll("#file-table tr[data-name]")).map((r) => r.dataset.kind + ":" + r.dataset.name);
		return "url " + location.href + "; #notice: " + t("#notice") + "; #busy data-busy=" + (b ? b.dataset.busy : "(none)") +
			"; library rows: " + JSON.stringify(libs) + "; file rows: " + JSON.stringify(files);
	})()`))
	if err != nil {
		state = "page state unknown: " + err.Error()
	}
	errs, exceptions := p.messages.snapshot()
	out := "\n  page: " + state
	if len(exceptions) > 0 {
		out += "\n  uncaught exceptions: " + strings.Join(exceptions, "\n    ")
	}
	if len(errs) > 0 {
		out += "\n  console errors: " + strings.Join(errs, "\n    ")
	}
	return out
}

// idle waits until no API call is running (#busy data-busy="0").
func (p *page) idle() {
	p.t.Helper()
	p.wait("the console to be idle (#busy data-busy=0)", `$("#busy") && $("#busy").dataset.busy === "0"`)
}

// point is where a click lands, in CSS pixels of the viewport.
type point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// click clicks the first element matching a CSS selector with a real mouse click at its centre,
// once it is shown, enabled, and on top there (not under a dialog's backdrop). The element is
// found by the page's own querySelector: chromedp's mirror of the DOM tree is not used, so a
// click never waits on the mirror catching up with the console's re-rendering.
func (p *page) click(sel string) {
	p.t.Helper()
	at, err := poll[*point](p, `
		const e = $(`+js(sel)+`);
		if (!e || !e.checkVisibility() || e.disabled) return null;
		e.scrollIntoView({block: "nearest", inline: "nearest"});
		const r = e.getBoundingClientRect();
		const x = r.left + r.width / 2, y = r.top + r.height / 2;
		const hit = document.elementFromPoint(x, y);
		const label = e.id ? document.querySelector('label[for="' + e.id + '"]') : null;
		return hit && (e.contains(hit) || (label && label.contains(hit))) ? {x, y} : null;`)
	if err != nil {
		state := query[string](p, `(() => {
			const e = $(`+js(sel)+`);
			if (!e) return "not in the page";
			const r = e.getBoundingClientRect();
			const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
			const d = e.closest("dialog");
			return "visible " + e.checkVisibility() + ", disabled " + !!e.disabled + ", at " + JSON.stringify(r) +
				", on top there: " + (hit ? hit.outerHTML.slice(0, 120) : "nothing") + (d ? ", in dialog#" + d.id + " open=" + d.open : "");
		})()`)
		p.t.Fatalf("click %s: it was not shown, enabled and on top: %v (%s)%s", sel, err, state, p.diagnose())
	}
	p.do("click "+sel, chromedp.MouseClickXY(at.X, at.Y))
}

// fill empties a text field and types value into it with real key events, as a person would.
func (p *page) fill(sel, value string) {
	p.t.Helper()
	p.waitVisible(sel)
	eval[chromedp.Void](p, `(() => { const e = document.querySelector(`+js(sel)+`); e.focus();
		e.value = ""; e.dispatchEvent(new Event("input", {bubbles: true})); })()`)
	if value != "" {
		p.do("type into "+sel, chromedp.KeyEvent(value))
	}
}

// choose picks an option of a select element, as a person would, firing its change event.
func (p *page) choose(sel, value string) {
	p.t.Helper()
	eval[chromedp.Void](p, `(() => { const e = document.querySelector(`+js(sel)+`); e.value = `+js(value)+`;
		e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); })()`)
}

// waitVisible waits until an element matching a CSS selector is shown.
func (p *page) waitVisible(sel string) {
	p.t.Helper()
	p.wait(sel+" to be visible", "visible("+js(sel)+")")
}

// waitHidden waits until no element matching a CSS selector is shown.
func (p *page) waitHidden(sel string) {
	p.t.Helper()
	p.wait(sel+" to be hidden", "!visible("+js(sel)+")")
}

// visible answers whether an element matching a CSS selector is shown now.
func (p *page) visible(sel string) bool {
	p.t.Helper()
	return query[bool](p, "visible("+js(sel)+")")
}

// text answers the trimmed text of the first element matching a CSS selector ("" if none).
func (p *page) text(sel string) string {
	p.t.Helper()
	return query[string](p, "text("+js(sel)+")")
}

// attr answers an attribute of the first element matching a CSS selector ("" if none).
func (p *page) attr(sel, name string) string {
	p.t.Helper()
	return query[string](p, "($("+js(sel)+") && $("+js(sel)+").getAttribute("+js(name)+")) || \"\"")
}

// open goes to a console route (the part after #) inside the running app, without reloading.
func (p *page) open(route string) {
	p.t.Helper()
	eval[chromedp.Void](p, "location.hash = "+js(route))
}

// load loads the console afresh, signs in if the console asks for the key, and goes to a route.
// It navigates to the console's URL without a fragment: a navigation that only changes the
// fragment would not load the page again.
func (p *page) load(route string) {
	p.t.Helper()
	p.do("load the console", chromedp.Navigate(p.consoleURL))
	p.wait("the console to show the sign-in form or the app", `visible("#signin") || visible("#app")`)
	if p.visible("#signin") {
		p.signIn(adminKey)
	}
	p.waitVisible("#app")
	p.idle()
	p.open(route)
	p.idle()
}

// signIn types a key into the sign-in form and submits it.
func (p *page) signIn(key string) {
	p.t.Helper()
	p.waitVisible("#signin-key")
	p.fill("#signin-key", key)
	p.click("#signin-submit")
	if key == adminKey {
		p.waitVisible("#app")
		p.waitHidden("#signin")
		p.idle()
	}
}

// shot saves a full-page PNG of what the page shows now under name.png.
func (p *page) shot(name string) {
	p.t.Helper()
	png := step(p, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(p.shots, name+".png"), png, 0o644); err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
}

// desktop and phone set the viewport.
func (p *page) desktop() {
	p.t.Helper()
	p.do("desktop viewport", chromedp.EmulateViewport(desktopWidth, desktopHeight))
}

func (p *page) phone() {
	p.t.Helper()
	p.do("phone viewport", chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateScale(2), chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
}

// scenario is one step of a browser test: a subtest on the shared tab with the test's fixture.
type scenario[T any] struct {
	name string
	run  func(t *testing.T, p *page, fixture T)
}

// runScenarios runs the steps in order as subtests on one browser; after each it checks that the
// page reached only its own origin and that its controls are named, and at the end that the
// console threw nothing.
func runScenarios[T any](t *testing.T, b *chromium, s *system, fixture T, steps []scenario[T]) {
	t.Helper()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			p := b.on(t)
			st.run(t, p, fixture)
			p.checkOwnOriginOnly(s)
			p.checkControlsNamed()
		})
	}
	if _, exceptions := b.messages.snapshot(); len(exceptions) > 0 {
		t.Errorf("the console threw %d uncaught exception(s):\n  %s", len(exceptions), strings.Join(exceptions, "\n  "))
	}
}
