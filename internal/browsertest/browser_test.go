package browsertest

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lanscout/lanscout/internal/cli"
	"github.com/lanscout/lanscout/internal/snmptest"
)

const adminPassword = "browser test password"

// The recordings served as the lab subnet's devices, with the category
// each must be classified as.
var labDevices = []struct{ file, category string }{
	{"canonprinter_lbp.snmprec", "printer"},
	{"dlink_des.snmprec", "switch"},
	{"dlinkap.snmprec", "wireless"},
	{"fs-net-pdu.snmprec", "power"},
}

// TestBrowser walks the UI as an admin would: a wrong password is
// refused; log in; add the lab subnet; scan it and watch its devices
// arrive live; look at the subnet page, the IP map, the devices; open a
// device and identify it; find it by search; log out. Each main page is
// saved as a full-page PNG.
func TestBrowser(t *testing.T) {
	chromium := findChromium(t)
	files := make([]string, len(labDevices))
	for i, d := range labDevices {
		files[i] = snmptest.CorpusFile(t, d.file)
	}
	sim := snmptest.StartSim(t, files, snmptest.SimOptions{})
	shots := screenshotDir(t)
	base := startServer(t, map[string]string{
		"LANSCOUT_ADMIN_PASSWORD": adminPassword,
		"LANSCOUT_SNMP_PORT":      strconv.Itoa(int(sim.Devices[0].Addr.Port())),
		"LANSCOUT_SNMP_TIMEOUT":   "8s", // see the pause below
		"LANSCOUT_SNMP_RETRIES":   "1",
	})
	b := newBrowser(t, chromium, base, shots)
	start := time.Now()

	// A wrong password is refused, and says so.
	b.do(chromedp.Navigate(base + "/login"))
	b.do(chromedp.WaitVisible(chromedp.CSS("#username")))
	b.shot("01-login")
	b.login("admin", "not the password")
	b.waitJS(`document.querySelector('.error[role=alert]') !== null`)
	if msg := b.text(".error"); !strings.Contains(msg, "Wrong username or password") {
		t.Errorf("wrong password: page says %q", msg)
	}
	if p := b.path(); p != "/login" {
		t.Errorf("wrong password: at %s, want /login", p)
	}
	b.shot("02-login-refused")

	// The right one opens the dashboard.
	b.login("admin", adminPassword)
	b.waitPath("/")
	b.waitJS(`document.querySelector('h1') && document.querySelector('h1').textContent === 'Dashboard'`)
	b.shot("03-dashboard-empty")

	// Add the lab subnet from the subnets page.
	b.do(chromedp.Navigate(base + "/subnets"))
	b.do(chromedp.WaitVisible(chromedp.CSS("#cidr")))
	b.do(chromedp.SendKeys(chromedp.CSS("#cidr"), sim.Prefix.String()))
	b.do(chromedp.SendKeys(chromedp.CSS("#name"), "Lab (snmpsim)"))
	b.set("#method", "snmp")
	b.click("form[action='/subnets'] button[type=submit]")
	b.waitJS(`location.search === '?done=created'`)
	b.shot("04-subnets")

	// Its page; scan it and watch the devices arrive.
	b.click("a[href^='/subnets/']:not([href$='/map'])")
	b.waitJS(`/^\/subnets\/\d+$/.test(location.pathname)`)
	subnetPath := b.path()
	// The simulator is stopped (SIGSTOP) while the scan starts: its SNMP
	// requests wait in the socket until it resumes, well within the SNMP
	// timeout, so the scan is seen running, on both pages, before any
	// device arrives.
	if err := sim.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := true
	defer func() {
		if paused {
			sim.Resume()
		}
	}()
	b.click("form.scan-now button")
	b.waitJS(`location.search === '?done=scan'`)
	b.waitJS(`document.querySelector('.live.live-on') !== null`)
	b.waitJS(`document.querySelector('.live-status').textContent.includes('Scanning')`)
	b.shot("05-subnet-scanning")
	b.do(chromedp.Navigate(base + "/subnets"))
	b.waitJS(`document.querySelector('.subnet-live.live-on') !== null`)
	b.shot("05b-subnets-scanning")
	b.do(chromedp.Navigate(base + subnetPath))
	b.waitJS(`document.querySelector('.live.live-on') !== null`)
	if err := sim.Resume(); err != nil {
		t.Fatal(err)
	}
	paused = false
	b.waitJS(fmt.Sprintf(`document.querySelectorAll('#live-devices li').length >= %d`, len(labDevices)))
	b.waitJS(`document.querySelector('.live.live-ended') !== null`)
	if s := b.text(".live-status"); !strings.Contains(s, "Scan done") {
		t.Errorf("live status at the end: %q", s)
	}
	if s := b.evalString(`document.querySelector('.live-announce').textContent`); !strings.HasPrefix(s, "Scan done: 4 devices found") {
		t.Errorf("screen readers hear at the end: %q", s)
	}
	live := b.text("#live-devices")
	for _, d := range sim.Devices {
		if !strings.Contains(live, d.Addr.Addr().String()) {
			t.Errorf("device %s never appeared live; list: %q", d.Addr.Addr(), live)
		}
	}
	t.Logf("scan seen through in %s", time.Since(start).Round(time.Millisecond))

	// The subnet page after the scan.
	b.do(chromedp.Navigate(base + subnetPath))
	b.waitJS(`document.querySelector('#runs-h') !== null`)
	page := b.text("main")
	for _, want := range []string{"Recent scans", "done", "Scanners", "not inventoried"} {
		if !strings.Contains(page, want) {
			t.Errorf("subnet page lacks %q", want)
		}
	}
	b.shot("06-subnet")

	// Change its schedule on its edit page: a bad interval comes back on
	// the form as typed, with the reason; a good one is saved and shown.
	b.click(fmt.Sprintf(`a[href="%s/edit"]`, subnetPath))
	b.waitJS(`/^\/subnets\/\d+\/edit$/.test(location.pathname)`)
	b.click(`input[name=schedule_kind][value=every]`)
	b.set("#e-every", "soon")
	b.click("form.subnet-edit button[type=submit]")
	b.waitJS(`document.querySelector('.error[role=alert]') !== null`)
	if msg := b.text(".error"); !strings.Contains(msg, "is not a duration") {
		t.Errorf("bad interval: page says %q", msg)
	}
	if v := b.evalString(`document.querySelector('#e-every').value`); v != "soon" {
		t.Errorf("bad interval: the field holds %q, want what was typed", v)
	}
	b.shot("06b-subnet-edit-refused")
	b.set("#e-every", "4h")
	b.click("form.subnet-edit button[type=submit]")
	b.waitJS(`location.search === '?done=saved'`)
	if s := b.text("main"); !strings.Contains(s, "Subnet saved.") || !strings.Contains(s, "every 4h") {
		t.Errorf("subnet page after the edit lacks the notice or the schedule: %q", s)
	}
	b.shot("06c-subnet-saved")

	// The IP map: four devices up, each cell focusable by keyboard.
	b.do(chromedp.Navigate(base + subnetPath + "/map"))
	b.waitJS(`document.querySelector('svg.ipmap') !== null`)
	if n := b.evalInt(`document.querySelectorAll('svg.ipmap a.cell-up').length`); n != len(labDevices) {
		t.Errorf("IP map shows %d devices up, want %d", n, len(labDevices))
	}
	if ok := b.evalBool(`(() => { const a = document.querySelector('svg.ipmap a.cell-up'); a.focus(); return document.activeElement === a; })()`); !ok {
		t.Error("an IP map cell cannot take the keyboard focus")
	}
	b.shot("07-ipmap")

	// The devices list, and one device.
	b.do(chromedp.Navigate(base + "/devices"))
	b.waitJS(`document.querySelector('table') !== null`)
	devices := b.text("main")
	for _, d := range labDevices {
		if !strings.Contains(devices, d.category) {
			t.Errorf("devices page lacks a %s", d.category)
		}
	}
	b.shot("08-devices")
	printerIP := sim.Devices[0].Addr.Addr().String()
	b.click("a[href^='/devices/']")
	b.waitJS(`/^\/devices\/\d+$/.test(location.pathname)`)
	b.do(chromedp.Navigate(base + "/devices?q=" + printerIP))
	b.waitJS(`document.querySelector('main table a[href^="/devices/"]') !== null`)
	b.click(`main table a[href^="/devices/"]`)
	b.waitJS(`/^\/devices\/\d+$/.test(location.pathname)`)
	b.waitJS(`document.querySelector('#identify') !== null`)
	if h := b.text("h1"); !strings.Contains(h, printerIP) || !strings.Contains(h, "printer") {
		t.Errorf("device page heading %q, want the printer %s", h, printerIP)
	}
	b.shot("09-device")

	// Identify it by hand.
	b.set("#id-category", "printer")
	b.do(chromedp.SendKeys(chromedp.CSS("#id-name"), "reception-printer"))
	b.click(`form[action$="/identify"] button[type=submit]`)
	b.waitJS(`location.search === '?done=identified'`)
	if n := b.text(".notice"); !strings.Contains(n, "Identification saved") {
		t.Errorf("after identify: %q", n)
	}
	b.shot("10-device-identified")

	// Find it by its new name.
	b.do(chromedp.Navigate(base + "/devices"))
	b.do(chromedp.WaitVisible(chromedp.CSS("input[type=search]")))
	b.do(chromedp.SendKeys(chromedp.CSS("input[type=search]"), "reception"))
	b.do(chromedp.Submit(chromedp.CSS("input[type=search]")))
	b.waitJS(`location.search.includes('q=reception')`)
	b.waitJS(`document.querySelector('main table') !== null`)
	found := b.text("main table tbody")
	if !strings.Contains(found, "reception-printer") || !strings.Contains(found, printerIP) || b.evalInt(`document.querySelectorAll('main table tbody tr').length`) != 1 {
		t.Errorf("search for the new name found: %q", found)
	}
	b.shot("11-devices-search")

	// The dashboard with its pictures.
	b.do(chromedp.Navigate(base + "/"))
	b.waitJS(`document.querySelector('svg.chart.days') !== null`)
	if n := b.evalInt(`document.querySelectorAll('svg.chart:not(.days) rect').length`); n < len(labDevices) {
		t.Errorf("category chart has %d bars, want at least %d", n, len(labDevices))
	}
	b.shot("12-dashboard")

	// Whatever admin and feature pages exist by now.
	for _, p := range []string{"/admin", "/admin/users", "/admin/credentials", "/admin/types", "/admin/audit", "/admin/settings",
		"/admin/tokens", "/admin/satellites", "/agents", "/election", subnetPath + "/election", "/ocs", "/wake", "/monitoring"} {
		b.do(chromedp.Navigate(base + p))
		b.waitJS(`document.readyState === 'complete'`)
		if h := b.text("h1"); h == "Not found" || h == "" {
			continue
		}
		b.shot("20-" + regexp.MustCompile(`\d+`).ReplaceAllString(strings.ReplaceAll(strings.Trim(p, "/"), "/", "-"), "id"))
	}

	// Log out: back to the login page, and pages need a login again.
	b.do(chromedp.Navigate(base + "/"))
	b.click(`form[action="/logout"] button`)
	b.waitPath("/login")
	b.do(chromedp.Navigate(base + "/devices"))
	b.waitPath("/login")
	b.checkConsole()
	t.Logf("browser journey took %s; screenshots in %s", time.Since(start).Round(time.Millisecond), shots)
}

// findChromium returns Debian's chromium, skipping the test without it.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browsertest: chromium is not installed (Debian package chromium; make test installs it)")
	return ""
}

// screenshotDir is $LANSCOUT_SCREENSHOTS, or out/screenshots at the
// repository root.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LANSCOUT_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "out", "screenshots")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatalf("screenshots: %v", err)
	}
	return abs
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs `lanscout server` on a free loopback port with a fresh
// data directory until the test ends, and returns its base URL.
func startServer(t *testing.T, vars map[string]string) string {
	t.Helper()
	return startServerIn(t, t.TempDir(), vars)
}

// startServerIn is startServer with the data directory dir.
func startServerIn(t *testing.T, dir string, vars map[string]string) string {
	t.Helper()
	for k, v := range vars {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"server", "--listen", "127.0.0.1:0", "--data", dir, "--log-level", "warn"},
			strings.NewReader(""), io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("server exited %d:\n%s", code, stderr)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("server did not stop:\n%s", stderr)
		}
	})
	re := regexp.MustCompile(`listening on (https://\S+)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return strings.Replace(m[1], "localhost", "127.0.0.1", 1)
		}
		select {
		case code := <-done:
			t.Fatalf("server exited %d:\n%s", code, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// browser is one headless Chromium tab with the test's helpers.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func newBrowser(t *testing.T, exe, base, shots string) *browser {
	t.Helper()
	// The machine's network is closed: everything that phones home is off.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// The server's self-signed certificate; only in this test.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base, shots: shots}
	// Starts the browser; its console is read from then on.
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	// The whole walk must end in time even if a page hangs.
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(3 * time.Minute):
			cancel()
		}
	}()
	return b
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.failPage(err)
	}
}

// failPage ends the test with the error and what the page showed.
func (b *browser) failPage(err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
		_ = os.WriteFile(filepath.Join(b.shots, "failed.png"), png, 0o644)
	}
	b.t.Fatalf("browser: %v\nat %s:\n%s\nconsole: %v", err, loc, text, b.messages())
}

func (b *browser) login(user, password string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS("#username")))
	b.set("#username", "")
	b.do(chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password))
	b.click("form[action='/login'] button[type=submit]")
}

// click clicks the first element sel matches once it is visible. The
// click is the element's own (HTMLElement.click), not a mouse event at
// coordinates measured a moment before, which a late layout shift makes
// miss now and then.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(
		`(() => { const e = document.querySelector(%q); if (!e) { return false; } e.click(); return true; })()`, sel)))
	if err == nil && !ok {
		err = fmt.Errorf("nothing to click at %s", sel)
	}
	if err != nil {
		b.failPage(err)
	}
}

// set sets a form field's value, as picking it would.
func (b *browser) set(sel, value string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		if (!e) { return false; }
		e.value = %q;
		e.dispatchEvent(new Event('change', {bubbles: true}));
		return e.value === %q;
	})()`, sel, value, value)))
	if err == nil && !ok {
		err = fmt.Errorf("no field %s taking %q", sel, value)
	}
	if err != nil {
		b.failPage(err)
	}
}

// waitJS waits until the expression is true on a parsed page. It asks
// again and again rather than using a page-side poll, which a navigation
// would cut. location changes when a navigation commits, before the new
// document is parsed, so a wait on the address alone let the next step
// read the page too early.
func (b *browser) waitJS(expr string) {
	b.t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	guarded := fmt.Sprintf(`(() => document.readyState !== 'loading' && (%s))()`, expr)
	var lastErr error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](guarded))
		cancel()
		if err == nil && ok {
			return
		}
		if b.ctx.Err() != nil {
			break
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	b.failPage(fmt.Errorf("waiting for %s: %v", expr, lastErr))
}

func (b *browser) waitPath(p string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf(`location.pathname === %q && document.readyState === 'complete'`, p))
}

func (b *browser) path() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	p, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		b.failPage(err)
	}
	return p
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(
		`(() => { const e = document.querySelector(%q); return e ? e.innerText : ''; })()`, sel)))
	if err != nil {
		b.failPage(err)
	}
	return s
}

func (b *browser) evalString(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.failPage(err)
	}
	return v
}

func (b *browser) evalInt(expr string) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		b.failPage(err)
	}
	return n
}

func (b *browser) evalBool(expr string) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		b.failPage(err)
	}
	return v
}

// shot saves a full-page PNG of the page as name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	b.waitJS(`document.readyState === 'complete' && document.body && document.body.clientWidth > 0`)
	// A page still being laid out has no size yet; ask again a moment later.
	var png []byte
	var err error
	for try := 0; try < 5; try++ {
		ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		b.failPage(fmt.Errorf("screenshot %s: %w", name, err))
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) messages() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}

// checkConsole fails on script errors and Content-Security-Policy
// refusals: the pages' own script must run under the strict policy.
// Failed loads are only logged (the refused login answers 401, and there
// is no favicon).
func (b *browser) checkConsole() {
	b.t.Helper()
	for _, m := range b.messages() {
		switch {
		case m.IsException(), strings.Contains(m.Text, "Content Security Policy"), strings.Contains(m.Text, "Refused to"):
			b.t.Errorf("browser console: %s (%s:%d)", m, m.URL, m.Line)
		case m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning:
			b.t.Logf("browser console: %s (%s)", m, m.URL)
		}
	}
}
