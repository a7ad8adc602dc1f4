package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/export"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/typing"
	"github.com/lanscout/lanscout/web"
)

// seedMonitored records devices through a real scan run: two SNMP devices
// in an office subnet at site HQ, one without SNMP, and one SNMP device
// in a lab subnet.
func seedMonitored(t *testing.T, f *fixture) (office, lab inventory.Subnet) {
	t.Helper()
	ctx := context.Background()
	var err error
	if office, err = f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.1.0.0/24", Name: "office", Site: "HQ"}); err != nil {
		t.Fatal(err)
	}
	if lab, err = f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.2.0.0/24", Name: "lab", Site: "Lab"}); err != nil {
		t.Fatal(err)
	}
	record := func(sn inventory.Subnet, ds ...scan.Device) {
		run, err := f.store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerServer, ID: "server"}, "snmp")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if _, err := f.store.RecordDevice(ctx, run.ID, d); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.store.FinishScan(ctx, run.ID, inventory.ScanEnd{}); err != nil {
			t.Fatal(err)
		}
	}
	snmpOf := func(cred, name string) *scan.SNMPInfo {
		return &scan.SNMPInfo{Version: "2c", Credential: cred, SysName: name, SysDescr: "test"}
	}
	record(office,
		scan.Device{IP: "10.1.0.1", MAC: "00:00:0c:00:00:01", FoundBy: []string{"snmp"}, SNMP: snmpOf("public", "core-sw"),
			Category: "switch", Vendor: "Cisco", Model: "C3750", Confidence: 0.9},
		scan.Device{IP: "10.1.0.2", MAC: "00:00:0c:00:00:02", FoundBy: []string{"snmp"}, SNMP: snmpOf("office-v3", "prn-2"),
			Category: "printer", Vendor: "Brother", Model: "HL", Confidence: 0.9},
		scan.Device{IP: "10.1.0.3", MAC: "00:00:0c:00:00:03", FoundBy: []string{"arp"}, Category: "unknown"})
	record(lab, scan.Device{IP: "10.2.0.9", MAC: "00:c0:b7:00:00:09", FoundBy: []string{"snmp"}, SNMP: snmpOf("public", "ups-9"),
		Category: "power", Vendor: "APC", Model: "Smart-UPS", Confidence: 0.9})
	return office, lab
}

func monitoringOptions(o *web.Options) {
	o.Monitoring.Export = export.Options{Prometheus: export.Prometheus{
		Modules:           map[typing.Category]string{typing.Printer: "printer_mib"},
		CredentialModules: map[string]map[string]string{"power": {"public": "ups_public"}},
		Auths:             map[string]string{"public": "public_v2"},
	}}
}

func (f *fixture) get(token, path string) (int, http.Header, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.ts.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestPrometheusSD(t *testing.T) {
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) { monitoringOptions(o) })
	viewer := f.tokens[inventory.RoleViewer]

	code, hdr, body := f.get(viewer, "/api/v1/sd/prometheus")
	if code != 200 || strings.TrimSpace(string(body)) != "[]" || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("empty inventory: %d %q %q, want 200 []", code, hdr.Get("Content-Type"), body)
	}
	if code, _, _ := f.get("", "/api/v1/sd/prometheus"); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	office, _ := seedMonitored(t, f)

	targets := func(query string) map[string]map[string]string {
		t.Helper()
		code, _, body := f.get(viewer, "/api/v1/sd/prometheus"+query)
		if code != 200 {
			t.Fatalf("%s: %d %s", query, code, body)
		}
		var groups []export.TargetGroup
		if err := json.Unmarshal(body, &groups); err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]string{}
		for _, g := range groups {
			out[g.Targets[0]] = g.Labels
		}
		return out
	}
	all := targets("")
	if len(all) != 3 {
		t.Fatalf("targets %v, want the 3 SNMP devices", all)
	}
	want := map[string]map[string]string{
		"10.1.0.1": {"__param_module": "if_mib", "__param_auth": "public_v2", "lanscout_category": "switch",
			"lanscout_vendor": "Cisco", "lanscout_model": "C3750", "lanscout_sys_name": "core-sw",
			"lanscout_subnet": "10.1.0.0/24", "lanscout_site": "HQ"},
		"10.1.0.2": {"__param_module": "printer_mib", "__param_auth": "office-v3", "lanscout_category": "printer"},
		"10.2.0.9": {"__param_module": "ups_public", "__param_auth": "public_v2", "lanscout_site": "Lab"},
	}
	for target, labels := range want {
		for k, v := range labels {
			if all[target][k] != v {
				t.Errorf("%s: %s = %q, want %q", target, k, all[target][k], v)
			}
		}
	}
	for q, n := range map[string]int{"?category=switch,printer": 2, "?category=power": 1, "?site=hq": 2,
		"?subnet=10.2.0.0/24": 1, fmt.Sprintf("?subnet=%d", office.ID): 2, "?state=gone": 0, "?state=all": 3} {
		if got := targets(q); len(got) != n {
			t.Errorf("%s: %d targets, want %d", q, len(got), n)
		}
	}
	for _, q := range []string{"?category=toaster", "?state=asleep", "?subnet=nope"} {
		if code, _, _ := f.get(viewer, "/api/v1/sd/prometheus"+q); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
}

func TestExportDownloads(t *testing.T) {
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) { monitoringOptions(o) })
	viewer := f.tokens[inventory.RoleViewer]
	seedMonitored(t, f)
	hosts, err := export.Collect(context.Background(), f.store, export.DefaultFilter("icinga2"))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"icinga2", "nagios"} {
		var want bytes.Buffer
		if err := export.Write(&want, format, hosts, export.Options{}); err != nil {
			t.Fatal(err)
		}
		code, hdr, body := f.get(viewer, "/api/v1/export/"+format)
		if code != 200 || !bytes.Equal(body, want.Bytes()) {
			t.Errorf("%s: %d, body differs from the export package's:\n%s", format, code, body)
		}
		if !strings.Contains(hdr.Get("Content-Disposition"), "attachment") {
			t.Errorf("%s: Content-Disposition %q", format, hdr.Get("Content-Disposition"))
		}
	}
	// The CLI's CSV is the API's devices.csv, byte for byte.
	_, _, apiCSV := f.get(viewer, "/api/v1/devices.csv")
	_, _, exportCSV := f.get(viewer, "/api/v1/export/csv")
	if !bytes.Equal(apiCSV, exportCSV) {
		t.Errorf("export csv differs from devices.csv:\n%s\n---\n%s", exportCSV, apiCSV)
	}
	_, _, icinga := f.get(viewer, "/api/v1/export/icinga2?category=power")
	if bytes.Count(icinga, []byte("object Host ")) != 1 || !bytes.Contains(icinga, []byte(`import "lanscout-power"`)) {
		t.Errorf("filtered icinga2 export:\n%s", icinga)
	}
	if code, _, _ := f.get(viewer, "/api/v1/export/xml"); code != http.StatusNotFound {
		t.Errorf("unknown format: %d, want 404", code)
	}
	// The page links every download and shows the mapping.
	f.user("vera", inventory.RoleViewer)
	c, _ := f.login("vera", testPassword)
	resp, err := c.Get(f.ts.URL + "/monitoring?category=switch")
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	for _, want := range []string{"/api/v1/export/icinga2?category=switch", "/api/v1/export/nagios?category=switch",
		"/api/v1/export/prometheus?category=switch", "/api/v1/devices.csv", "/api/v1/sd/prometheus?category=switch", "printer_mib"} {
		if !strings.Contains(page, want) {
			t.Errorf("monitoring page lacks %q", want)
		}
	}
	if strings.Contains(page, "Add a webhook") {
		t.Error("a viewer sees the webhook form")
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	seedMonitored(t, f)
	if code, _, _ := f.get("", "/metrics"); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d, want 401", code)
	}
	f.get(f.tokens[inventory.RoleViewer], "/api/v1/devices/1")
	code, _, body := f.get(f.tokens[inventory.RoleViewer], "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	for _, want := range []string{
		`lanscout_devices{category="switch",site="HQ",state="up",subnet="10.1.0.0/24"} 1`,
		`lanscout_devices{category="power",site="Lab",state="up",subnet="10.2.0.0/24"} 1`,
		`lanscout_scanners_online{kind="server"} 1`,
		`lanscout_scanners_elected{subnet="10.1.0.0/24"} 0`,
		`lanscout_wakes_total{outcome="confirmed"} 0`,
		`lanscout_http_request_duration_seconds_count{code="200",method="GET",route="/api/v1/devices/:id"} 1`,
		`lanscout_subnet_last_scan_timestamp_seconds{subnet="10.1.0.0/24"}`,
		`lanscout_store_up 1`,
		`lanscout_webhook_deliveries_pending 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The two seeded runs finished after the server started: counted.
	// One more scan through the API makes three.
	if !strings.Contains(string(body), `lanscout_scans_total{scanner="server",status="done"} 2`) {
		t.Errorf("/metrics does not count the two seeded runs:\n%s", grepLines(body, "lanscout_sca"))
	}
	f.scanner.devices = nil
	close(f.scanner.release)
	var sn struct{ ID int64 }
	f.api(f.tokens[inventory.RoleAdmin], "POST", "/api/v1/subnets", map[string]any{"cidr": "10.3.0.0/24"}, &sn)
	var run inventory.ScanRun
	if code := f.api(f.tokens[inventory.RoleOperator], "POST", fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, &run); code != http.StatusAccepted {
		t.Fatalf("scan: %d", code)
	}
	waitUntil(t, 10*time.Second, func() bool {
		_, _, body := f.get(f.tokens[inventory.RoleViewer], "/metrics")
		return strings.Contains(string(body), `lanscout_scans_total{scanner="server",status="done"} 3`) &&
			strings.Contains(string(body), `lanscout_scan_duration_seconds_count{scanner="server"} 3`)
	}, "the finished scan is counted in /metrics")
}

func grepLines(b []byte, prefix string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestMetricsAccess(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		peer     string
		wantCode int
	}{
		{web.MetricsToken, "127.0.0.1:5000", 401},
		{web.MetricsLoopback, "127.0.0.1:5000", 200},
		{web.MetricsLoopback, "[::1]:5000", 200},
		{web.MetricsLoopback, "192.0.2.10:5000", 401},
		{web.MetricsOpen, "192.0.2.10:5000", 200},
	} {
		t.Run(tc.mode+" "+tc.peer, func(t *testing.T) {
			f := newFixture(t, func(_ *inventory.Options, o *web.Options) { o.Monitoring.MetricsAccess = tc.mode })
			req := httptest.NewRequest(http.MethodGet, "https://lanscout.test/metrics", nil)
			req.RemoteAddr = tc.peer
			// A forwarded header must not make a remote peer local.
			req.Header.Set("X-Forwarded-For", "127.0.0.1")
			rec := httptest.NewRecorder()
			f.srv.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.wantCode {
				t.Errorf("%d, want %d: %s", rec.Code, tc.wantCode, rec.Body)
			}
		})
	}
	// Behind a reverse proxy on this machine that is listed as trusted,
	// the forwarded client counts, not the proxy's loopback address.
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) {
		o.Monitoring.MetricsAccess = web.MetricsLoopback
		o.TrustedProxies = []string{"127.0.0.1"}
	})
	for fwd, want := range map[string]int{"192.0.2.10": 401, "127.0.0.1": 200, "": 200} {
		req := httptest.NewRequest(http.MethodGet, "https://lanscout.test/metrics", nil)
		req.RemoteAddr = "127.0.0.1:5000"
		if fwd != "" {
			req.Header.Set("X-Forwarded-For", fwd)
		}
		rec := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("through a trusted local proxy for %q: %d, want %d", fwd, rec.Code, want)
		}
	}
	if _, err := web.New(web.Options{Store: newFixture(t).store, Monitoring: web.MonitoringOptions{MetricsAccess: "everyone"}}); err == nil {
		t.Error("an unknown metrics access mode is accepted")
	}
}

// receiver is a webhook endpoint that fails the first failFirst tries
// of each delivery.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	tries     map[string]int
	got       []received
	srv       *httptest.Server
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	r := &receiver{failFirst: failFirst, tries: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, received{req.Header.Clone(), b})
		id := req.Header.Get(web.DeliveryHeader)
		r.tries[id]++
		if r.tries[id] <= r.failFirst {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func fastWebhooks(o *web.Options) {
	o.Monitoring.WebhookPoll = 20 * time.Millisecond
	o.Monitoring.WebhookRetryBase = 20 * time.Millisecond
	o.Monitoring.WebhookTimeout = 2 * time.Second
}

func waitUntil(t *testing.T, limit time.Duration, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhookDeliverySignatureAndRetry(t *testing.T) {
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) { fastWebhooks(o) })
	admin := f.tokens[inventory.RoleAdmin]
	flaky := newReceiver(t, 2)
	// An endpoint that never answers in time must not hold up the others.
	stuck := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(stuck); hang.Close() })

	if code := f.api(f.tokens[inventory.RoleViewer], "POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": flaky.srv.URL}, nil); code != http.StatusForbidden {
		t.Errorf("viewer creates a webhook: %d", code)
	}
	var hook inventory.Webhook
	if code := f.api(admin, "POST", "/api/v1/webhooks", map[string]any{"name": "chat", "url": flaky.srv.URL,
		"events": []string{"new_device", "ip_changed"}, "secret": "s3cret-hook"}, &hook); code != http.StatusCreated {
		t.Fatalf("create webhook: %d", code)
	}
	if !hook.HasSecret {
		t.Error("has_secret is false")
	}
	code, _, raw := f.get(admin, fmt.Sprintf("/api/v1/webhooks/%d", hook.ID))
	if code != 200 || strings.Contains(string(raw), "s3cret-hook") {
		t.Errorf("GET webhook shows its secret or fails: %d %s", code, raw)
	}
	if code := f.api(admin, "POST", "/api/v1/webhooks", map[string]any{"name": "slow", "url": hang.URL}, nil); code != http.StatusCreated {
		t.Fatalf("create slow webhook: %d", code)
	}
	for _, bad := range []map[string]any{{"name": "b", "url": "ftp://x"}, {"name": "b", "url": flaky.srv.URL, "events": []string{"coffee"}},
		{"name": "chat", "url": flaky.srv.URL}, {"name": "", "url": flaky.srv.URL}} {
		if code := f.api(admin, "POST", "/api/v1/webhooks", bad, nil); code != http.StatusBadRequest && code != http.StatusConflict {
			t.Errorf("bad webhook %v: %d", bad, code)
		}
	}
	// Let the notifier start at the end of the (empty) log, then cause events.
	time.Sleep(100 * time.Millisecond)
	seedMonitored(t, f)

	waitUntil(t, 20*time.Second, func() bool { return len(flaky.requests()) >= 3*4 }, "the four new devices reach the flaky endpoint, third time lucky")
	reqs := flaky.requests()
	first := reqs[0]
	var body struct {
		Kind    string `json:"kind"`
		EventID int64  `json:"event_id"`
		Device  struct{ IP, Category string }
		Subnet  struct{ CIDR string }
	}
	if err := json.Unmarshal(first.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Kind != "new_device" || body.Device.IP != "10.1.0.1" || body.Subnet.CIDR != "10.1.0.0/24" || body.EventID == 0 {
		t.Errorf("first delivery: %s", first.body)
	}
	if err := web.VerifySignature("s3cret-hook", first.header.Get(web.SignatureHeader), first.body, time.Now(), time.Minute); err != nil {
		t.Errorf("signature: %v (header %q)", err, first.header.Get(web.SignatureHeader))
	}
	if err := web.VerifySignature("wrong", first.header.Get(web.SignatureHeader), first.body, time.Now(), time.Minute); err == nil {
		t.Error("a wrong secret verifies")
	}
	if err := web.VerifySignature("s3cret-hook", first.header.Get(web.SignatureHeader), append(first.body, ' '), time.Now(), time.Minute); err == nil {
		t.Error("a changed body verifies")
	}
	// The retries resend the same delivery, same bytes (others may
	// overtake it meanwhile: order is not promised, event_id is).
	firstID := first.header.Get(web.DeliveryHeader)
	same := 0
	for _, r := range reqs {
		if r.header.Get(web.DeliveryHeader) == firstID {
			same++
			if !bytes.Equal(r.body, first.body) {
				t.Errorf("retry of delivery %s sends other bytes: %s", firstID, r.body)
			}
		}
	}
	if same != 3 {
		t.Errorf("delivery %s was sent %d times, want 3 (two 503s, then 204)", firstID, same)
	}
	var log struct{ Items []inventory.WebhookDelivery }
	waitUntil(t, 10*time.Second, func() bool {
		f.api(admin, "GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", hook.ID), nil, &log)
		done := 0
		for _, d := range log.Items {
			if d.Status == inventory.DeliveryDelivered {
				done++
			}
		}
		return done == 4
	}, "four deliveries are marked delivered")
	for _, d := range log.Items {
		if d.Attempts != 3 || d.LastCode != http.StatusNoContent {
			t.Errorf("delivery %d: %d attempts, last code %d; want 3 and 204", d.ID, d.Attempts, d.LastCode)
		}
	}
	// Only subscribed kinds went out: four new devices, nothing else.
	for _, d := range log.Items {
		if d.Kind != "new_device" {
			t.Errorf("delivered a %s event the webhook did not ask for", d.Kind)
		}
	}
	// The UI shows the log to admins.
	f.user("ada", inventory.RoleAdmin)
	c, _ := f.login("ada", testPassword)
	resp, err := c.Get(f.ts.URL + "/monitoring")
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	for _, want := range []string{"Recent deliveries", "delivery-delivered", flaky.srv.URL, "HTTP 204"} {
		if !strings.Contains(page, want) {
			t.Errorf("monitoring page lacks %q", want)
		}
	}
}

func TestWebhookFormsAndConfig(t *testing.T) {
	r := newReceiver(t, 0)
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) {
		fastWebhooks(o)
		o.Monitoring.Webhooks = []web.WebhookConfig{{Name: "from-file", URL: r.srv.URL, Secret: "file-secret", Events: []string{"gone"}}}
	})
	admin := f.tokens[inventory.RoleAdmin]
	var list struct{ Items []inventory.Webhook }
	f.api(admin, "GET", "/api/v1/webhooks", nil, &list)
	if len(list.Items) != 1 || list.Items[0].Source != inventory.WebhookFromConfig || !list.Items[0].HasSecret {
		t.Fatalf("config webhook: %+v", list.Items)
	}
	id := list.Items[0].ID
	if code := f.api(admin, "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", id), nil, nil); code != http.StatusConflict {
		t.Errorf("delete a config webhook: %d, want 409", code)
	}
	// A test delivery goes out whatever events the webhook takes, signed
	// with the secret of the file.
	var ping inventory.WebhookDelivery
	if code := f.api(admin, "POST", fmt.Sprintf("/api/v1/webhooks/%d/test", id), nil, &ping); code != http.StatusAccepted || ping.Kind != "ping" {
		t.Fatalf("test delivery: %d %+v", code, ping)
	}
	waitUntil(t, 10*time.Second, func() bool { return len(r.requests()) == 1 }, "the test delivery arrives")
	got := r.requests()[0]
	if err := web.VerifySignature("file-secret", got.header.Get(web.SignatureHeader), got.body, time.Now(), time.Minute); err != nil ||
		got.header.Get(web.EventHeader) != "ping" {
		t.Errorf("test delivery: %v, event %q", err, got.header.Get(web.EventHeader))
	}
	f.user("ada", inventory.RoleAdmin)
	c, _ := f.login("ada", testPassword)
	resp := f.postForm(c, "/monitoring/webhooks", url.Values{"name": {"team"}, "url": {r.srv.URL}, "secret": {"form-secret"},
		"events": {"category_changed"}}, "same-origin")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create by form: %d %s", resp.StatusCode, readBody(t, resp))
	}
	resp.Body.Close()
	resp = f.postForm(c, "/monitoring/webhooks", url.Values{"name": {"bad"}, "url": {"javascript:alert(1)"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "is not an http") {
		t.Errorf("bad URL by form: %d", resp.StatusCode)
	}
	f.api(admin, "GET", "/api/v1/webhooks", nil, &list)
	if len(list.Items) != 2 {
		t.Fatalf("webhooks: %+v", list.Items)
	}
	var team inventory.Webhook
	for _, w := range list.Items {
		if w.Name == "team" {
			team = w
		}
	}
	// PUT keeps what it does not name; the secret stays write-only.
	var upd inventory.Webhook
	if code := f.api(admin, "PUT", fmt.Sprintf("/api/v1/webhooks/%d", team.ID), map[string]any{"enabled": false}, &upd); code != 200 ||
		upd.Enabled || !upd.HasSecret || upd.URL != r.srv.URL || len(upd.Events) != 1 {
		t.Errorf("PUT enabled=false: %d %+v", code, upd)
	}
	resp = f.postForm(c, fmt.Sprintf("/monitoring/webhooks/%d/delete", team.ID), url.Values{}, "same-origin")
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("delete by form: %d", resp.StatusCode)
	}
	entries, _, err := f.store.AuditLog(context.Background(), inventory.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if strings.Contains(e.Details, "form-secret") {
			t.Errorf("audit log holds the secret: %s", e.Details)
		}
	}
	for _, want := range []string{"webhook.create", "webhook.update", "webhook.delete"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
}

// TestWebhookDeliveriesSurviveRestart queues a delivery while its endpoint
// is down, stops the server, and has a new server on the same store send
// it once the endpoint is up.
func TestWebhookDeliveriesSurviveRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections are refused
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) { fastWebhooks(o) })
	ctx := context.Background()
	if _, err := f.store.PutWebhook(ctx, inventory.Webhook{Name: "later", URL: "http://" + addr + "/hook", Enabled: true}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	seedMonitored(t, f)
	waitUntil(t, 10*time.Second, func() bool {
		ds, _ := f.store.WebhookDeliveries(ctx, inventory.DeliveryQuery{})
		return len(ds) == 4 && ds[0].Attempts >= 1
	}, "deliveries are queued and tried")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := f.srv.Close(sctx); err != nil {
		t.Fatal(err)
	}

	got := make(chan []byte, 10)
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	})}
	go up.Serve(ln)
	t.Cleanup(func() { up.Close() })
	opts := web.Options{Store: f.store, ScheduleCheck: -1}
	fastWebhooks(&opts)
	srv2, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv2.Close(context.Background()) })
	for i := range 4 {
		select {
		case <-got:
		case <-time.After(20 * time.Second):
			t.Fatalf("after the restart only %d of 4 deliveries arrived", i)
		}
	}
	waitUntil(t, 10*time.Second, func() bool {
		ds, _ := f.store.WebhookDeliveries(ctx, inventory.DeliveryQuery{Status: inventory.DeliveryDelivered})
		return len(ds) == 4
	}, "all four are marked delivered")
}
