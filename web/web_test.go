package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/web"
)

const testPassword = "correct horse battery"

// fakeScanner stands in for the engine: it streams the devices it is
// given, then waits for release (or cancellation) before returning.
type fakeScanner struct {
	devices []scan.Device
	release chan struct{}
	panics  bool
	mu      sync.Mutex
	creds   [][]snmp.Credential
}

func (f *fakeScanner) run(ctx context.Context, sn inventory.Subnet, creds []snmp.Credential, device func(scan.Device)) (*scan.Report, error) {
	f.mu.Lock()
	f.creds = append(f.creds, creds)
	f.mu.Unlock()
	for _, d := range f.devices {
		device(d)
	}
	if f.panics {
		panic("engine bug")
	}
	r := &scan.Report{Method: sn.Method, Devices: f.devices, Stats: scan.ReportStats{Addresses: 4, Responders: len(f.devices)}}
	select {
	case <-f.release:
		return r, nil
	case <-ctx.Done():
		r.Incomplete = true
		return r, ctx.Err()
	}
}

type fixture struct {
	t       *testing.T
	store   *inventory.SQLite
	srv     *web.Server
	ts      *httptest.Server
	scanner *fakeScanner
	tokens  map[inventory.Role]string
}

// newFixture starts a server on a fresh store; tune, when given, adjusts
// the options of both.
func newFixture(t *testing.T, tune ...func(*inventory.Options, *web.Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	fs := &fakeScanner{release: make(chan struct{})}
	sopts := inventory.Options{}
	wopts := web.Options{Logger: slog.New(slog.DiscardHandler), Scan: fs.run, ScheduleCheck: -1}
	for _, fn := range tune {
		fn(&sopts, &wopts)
	}
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	wopts.Store = store
	srv, err := web.New(wopts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	f := &fixture{t: t, store: store, srv: srv, ts: ts, scanner: fs, tokens: map[inventory.Role]string{}}
	for _, r := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator, inventory.RoleAdmin} {
		tok, _, err := store.CreateAPIToken(ctx, string(r)+"-token", r, 0, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[r] = tok
	}
	return f
}

// browser returns a client with a cookie jar that does not follow
// redirects, so tests see them.
func (f *fixture) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := f.ts.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func (f *fixture) user(name string, role inventory.Role) {
	f.t.Helper()
	if _, err := f.store.CreateUser(context.Background(), name, testPassword, role); err != nil {
		f.t.Fatal(err)
	}
}

// postForm posts like a browser on the same origin.
func (f *fixture) postForm(c *http.Client, path string, form url.Values, site string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	if site == "same-origin" {
		req.Header.Set("Origin", f.ts.URL)
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp
}

func (f *fixture) login(name, password string) (*http.Client, *http.Response) {
	f.t.Helper()
	c := f.browser()
	resp := f.postForm(c, "/login", url.Values{"username": {name}, "password": {password}}, "same-origin")
	return c, resp
}

// api calls the API with a bearer token ("" for none) and decodes the
// JSON answer into out when given.
func (f *fixture) api(token, method, path string, body any, out any) int {
	f.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.ts.URL+path, r)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusNoContent && !strings.HasPrefix(ct, "application/json") {
		f.t.Errorf("%s %s: Content-Type %q, want JSON (body %s)", method, path, ct, b)
	}
	if resp.StatusCode >= 400 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			f.t.Errorf("%s %s: %d without a JSON error: %s", method, path, resp.StatusCode, b)
		}
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(b, out); err != nil {
			f.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	f.user("alice", inventory.RoleViewer)

	c, resp := f.login("Alice", testPassword)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-lanscout_session" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge <= 0 || cookie.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, Secure, SameSite=Lax, Path=/, with an expiry", cookie)
	}
	resp, err := c.Get(f.ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Devices by category") {
		t.Fatalf("dashboard after login: %d", resp.StatusCode)
	}
	// The session works for the API too.
	resp, err = c.Get(f.ts.URL + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, `"username":"alice"`) || !strings.Contains(body, `"role":"viewer"`) {
		t.Errorf("me: %s", body)
	}

	// Logout is a POST and ends the session on the server.
	resp = f.postForm(c, "/logout", nil, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	resp, err = f.browser().Do(mustReq(t, "GET", f.ts.URL+"/", &http.Cookie{Name: cookie.Name, Value: cookie.Value}))
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("old session after logout: %d to %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A logout by GET changes nothing: no such route.
	resp, err = c.Get(f.ts.URL + "/logout")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout: %d, want 405", resp.StatusCode)
	}
}

func mustReq(t *testing.T, method, u string, ck *http.Cookie) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ck != nil {
		req.AddCookie(ck)
	}
	return req
}

func TestLoginRefusedAndRateLimited(t *testing.T) {
	f := newFixture(t)
	f.user("bob", inventory.RoleAdmin)

	_, resp := f.login("bob", "wrong password")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong username or password") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-lanscout_session" && ck.Value != "" {
			t.Fatal("a wrong password got a session cookie")
		}
	}
	// Five failures per username in the window; the sixth attempt is
	// refused before the password is even checked, right or wrong.
	for i := 0; i < 4; i++ {
		_, resp = f.login("bob", "wrong password")
		readBody(t, resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+2, resp.StatusCode)
		}
	}
	_, resp = f.login("bob", testPassword)
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed logins") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 5 failures: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Another account from the same address is not locked by bob's.
	f.user("carol", inventory.RoleViewer)
	if _, resp = f.login("carol", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("carol: %d, want 303", resp.StatusCode)
	}
	readBody(t, resp)
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/login", "/api/v1/me", "/static/app.css", "/nowhere"} {
		resp, err := f.ts.Client().Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
			"Referrer-Policy": "same-origin"} {
			if h.Get(k) != want {
				t.Errorf("%s: %s = %q, want %q", path, k, h.Get(k), want)
			}
		}
	}
	// The login page has no script at all, inline or not.
	resp, _ := f.ts.Client().Get(f.ts.URL + "/login")
	if body := readBody(t, resp); strings.Contains(body, "<script") || strings.Contains(body, "style=") {
		t.Error("login page has script or inline style")
	}
}

func TestCrossOriginRefused(t *testing.T) {
	f := newFixture(t)
	f.user("admin", inventory.RoleAdmin)
	c, resp := f.login("admin", testPassword)
	readBody(t, resp)

	// A form posted from another site with the admin's cookie.
	resp = f.postForm(c, "/subnets", url.Values{"cidr": {"10.9.0.0/24"}}, "cross-site")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d %s, want 403", resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("the refusal has no security headers")
	}
	// Same with an Origin header only (older browsers).
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/api/v1/subnets", strings.NewReader(`{"cidr":"10.9.0.0/24"}`))
	req.Header.Set("Origin", "https://evil.example")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin API POST: %d, want 403", resp.StatusCode)
	}
	if subnets, _ := f.store.Subnets(context.Background()); len(subnets) != 0 {
		t.Fatalf("a cross-origin request created %v", subnets)
	}
	// The same form from the page itself works.
	resp = f.postForm(c, "/subnets", url.Values{"cidr": {"10.9.0.0/24"}, "method": {"tcp"}}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin POST: %d, want 303", resp.StatusCode)
	}
}

func TestSubnetFormShowsErrorsInline(t *testing.T) {
	f := newFixture(t)
	f.user("admin", inventory.RoleAdmin)
	f.user("viewer", inventory.RoleViewer)
	c, resp := f.login("admin", testPassword)
	readBody(t, resp)
	for _, tc := range []struct{ cidr, want string }{
		{"10.0.0.5/24", "host bits set; the network is 10.0.0.0/24"},
		{"not a cidr", "CIDR &#34;not a cidr&#34;"},
		{"10.0.0.0/8", "wider than /16"},
	} {
		resp = f.postForm(c, "/subnets", url.Values{"cidr": {tc.cidr}}, "same-origin")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%q: %d, want 400 with %q inline", tc.cidr, resp.StatusCode, tc.want)
		}
	}
	resp = f.postForm(c, "/subnets", url.Values{"cidr": {"10.1.0.0/24"}, "name": {"Office"}}, "same-origin")
	readBody(t, resp)
	resp = f.postForm(c, "/subnets", url.Values{"cidr": {"10.1.0.128/25"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "overlaps subnet 10.1.0.0/24") {
		t.Errorf("overlap: %d", resp.StatusCode)
	}
	resp, _ = c.Get(f.ts.URL + "/subnets")
	if body := readBody(t, resp); !strings.Contains(body, "10.1.0.0/24") || !strings.Contains(body, "Add a subnet") || !strings.Contains(body, "on demand") {
		t.Error("subnets page lacks the new subnet, its next scan or the form")
	}

	// A viewer sees no form and cannot post one.
	vc, resp := f.login("viewer", testPassword)
	readBody(t, resp)
	resp, _ = vc.Get(f.ts.URL + "/subnets")
	if body := readBody(t, resp); strings.Contains(body, "Add a subnet") || strings.Contains(body, "Scan now") {
		t.Error("a viewer is offered forms")
	}
	resp = f.postForm(vc, "/subnets", url.Values{"cidr": {"10.2.0.0/24"}}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer posting a subnet: %d, want 403", resp.StatusCode)
	}
}

// seedDevice records one device in a finished scan of sn.
func seedDevices(t *testing.T, store *inventory.SQLite, sn inventory.Subnet, devs ...scan.Device) {
	t.Helper()
	ctx := context.Background()
	run, err := store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerAgent, ID: "seed"}, "tcp")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if _, err := store.RecordDevice(ctx, run.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.FinishScan(ctx, run.ID, inventory.ScanEnd{}); err != nil {
		t.Fatal(err)
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.user("viewer", inventory.RoleViewer)
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.5.0.0/24", Name: "Lab"})
	if err != nil {
		t.Fatal(err)
	}
	var devs []scan.Device
	for i := 1; i <= 60; i++ {
		cat, vendor := "unknown", ""
		if i%3 == 0 {
			cat, vendor = "printer", "Brother"
		}
		devs = append(devs, scan.Device{IP: fmt.Sprintf("10.5.0.%d", i), MAC: fmt.Sprintf("02:00:00:00:00:%02x", i),
			Category: cat, Vendor: vendor, FoundBy: []string{"tcp/22"}})
	}
	seedDevices(t, f.store, sn, devs...)
	c, resp := f.login("viewer", testPassword)
	readBody(t, resp)

	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return body
	}
	body := get("/")
	for _, want := range []string{`<svg class="chart"`, `class="cat-printer"`, ">20<", "Lab", "new this week"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	body = get("/devices")
	if !strings.Contains(body, "60 devices, page 1 of 2") || !strings.Contains(body, `rel="next"`) || strings.Contains(body, `rel="prev"`) {
		t.Error("devices page 1 is not paginated as 60 devices in 2 pages")
	}
	body = get("/devices?page=2")
	if !strings.Contains(body, "10.5.0.60") || !strings.Contains(body, `rel="prev"`) {
		t.Error("devices page 2 lacks the last device or a link back")
	}
	body = get("/devices?category=printer&subnet=" + fmt.Sprint(sn.ID))
	if !strings.Contains(body, "20 devices") || !strings.Contains(body, `badge cat-printer`) {
		t.Error("category filter")
	}
	body = get("/devices?sort=-ip")
	if i, j := strings.Index(body, "10.5.0.60"), strings.Index(body, "10.5.0.59"); i < 0 || j < 0 || i > j || !strings.Contains(body, `aria-sort="descending"`) {
		t.Error("sort=-ip does not list 10.5.0.60 first, marked descending")
	}
	body = get("/devices?q=10.5.0.42")
	if !strings.Contains(body, "1 device") || !strings.Contains(body, "10.5.0.42") {
		t.Error("search")
	}
	resp, _ = c.Get(f.ts.URL + "/devices?category=toaster")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unknown category") {
		t.Errorf("bad filter: %d", resp.StatusCode)
	}
	// Pages need a session.
	resp, _ = f.browser().Get(f.ts.URL + "/devices")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("devices without a session: %d", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t)
	big := `{"cidr":"10.0.0.0/24","name":"` + strings.Repeat("x", 2<<20) + `"}`
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/api/v1/subnets", strings.NewReader(big))
	req.Header.Set("Authorization", "Bearer "+f.tokens[inventory.RoleAdmin])
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB body: %d, want 413", resp.StatusCode)
	}
}

func TestSessionExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFixture(t, func(so *inventory.Options, wo *web.Options) {
		so.Now = clock
		wo.SessionTTL = time.Hour
	})
	f.user("alice", inventory.RoleViewer)
	c, resp := f.login("alice", testPassword)
	readBody(t, resp)
	resp, _ = c.Get(f.ts.URL + "/devices")
	readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh session: %d", resp.StatusCode)
	}
	mu.Lock()
	now = now.Add(61 * time.Minute)
	mu.Unlock()
	resp, _ = c.Get(f.ts.URL + "/devices")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("expired session: %d, want a redirect to /login", resp.StatusCode)
	}
}

// TestForwardedForIgnored: with no trusted proxy, X-Forwarded-For does not
// change the client address, so rotating it does not dodge the per-address
// login limit.
func TestForwardedForIgnored(t *testing.T) {
	f := newFixture(t, func(_ *inventory.Options, wo *web.Options) { wo.LoginFailuresPerIP = 3 })
	for i := 0; i < 4; i++ {
		req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/login",
			strings.NewReader(url.Values{"username": {fmt.Sprintf("user%d", i)}, "password": {"guess"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		resp, err := f.browser().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		want := http.StatusUnauthorized
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Errorf("attempt %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

func TestScanNowForm(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.3.0.0/24", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	f.user("viewer", inventory.RoleViewer)
	f.user("operator", inventory.RoleOperator)
	path := fmt.Sprintf("/subnets/%d/scan", sn.ID)

	vc, resp := f.login("viewer", testPassword)
	readBody(t, resp)
	resp = f.postForm(vc, path, nil, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer scan: %d, want 403", resp.StatusCode)
	}
	if runs, _ := f.store.ScanRuns(ctx, sn.ID, 10); len(runs) != 0 {
		t.Fatalf("a viewer started %d scans", len(runs))
	}

	oc, resp := f.login("operator", testPassword)
	readBody(t, resp)
	resp = f.postForm(oc, path, nil, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("operator scan: %d, want 303", resp.StatusCode)
	}
	resp, _ = oc.Get(f.ts.URL + "/subnets")
	if body := readBody(t, resp); !strings.Contains(body, "scanning…") {
		t.Error("the subnets page does not show the running scan")
	}
	resp = f.postForm(oc, path, nil, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already running") {
		t.Errorf("second scan from the page: %d", resp.StatusCode)
	}
	close(f.scanner.release)
}
