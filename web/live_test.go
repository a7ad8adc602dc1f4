package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/internal/snmptest"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
	"github.com/lanscout/lanscout/web"
)

type sseEvent struct {
	Name string
	Data string
}

// sseStream reads server-sent events from a GET of path.
type sseStream struct {
	t      *testing.T
	resp   *http.Response
	events chan sseEvent
	done   chan error
}

func openEvents(t *testing.T, f *fixture, token, path string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	s := &sseStream{t: t, resp: resp, events: make(chan sseEvent, 100), done: make(chan error, 1)}
	if resp.StatusCode != http.StatusOK {
		return s
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
		close(s.events)
		s.done <- sc.Err()
	}()
	return s
}

// until reads events until one named name arrives, returning every event
// read; it fails the test when the stream ends first.
func (s *sseStream) until(name string) []sseEvent {
	s.t.Helper()
	var got []sseEvent
	for ev := range s.events {
		got = append(got, ev)
		if ev.Name == name {
			return got
		}
	}
	s.t.Fatalf("stream ended without a %q event; got %v", name, got)
	return nil
}

// ended reports whether the server closed the stream after what was read.
func (s *sseStream) ended() bool {
	select {
	case _, open := <-s.events:
		return !open
	case <-time.After(10 * time.Second):
		return false
	}
}

// progressScanner reports sweep progress through the context, streams its
// devices, and waits for release.
type progressScanner struct {
	devices  []scan.Device
	release  chan struct{}
	reported chan struct{}
}

func (p *progressScanner) run(ctx context.Context, sn inventory.Subnet, _ []snmp.Credential, device func(scan.Device)) (*scan.Report, error) {
	progress := web.SweepProgress(ctx)
	if progress == nil {
		return nil, fmt.Errorf("no sweep progress hook in the scan's context")
	}
	progress(discover.Progress{Sent: 100, Total: 254, Pass: 1, Found: 1})
	for _, d := range p.devices {
		device(d)
	}
	progress(discover.Progress{Sent: 254, Total: 254, Pass: 1, Found: len(p.devices)})
	close(p.reported)
	select {
	case <-p.release:
	case <-ctx.Done():
		return &scan.Report{Incomplete: true}, ctx.Err()
	}
	return &scan.Report{Method: sn.Method, Devices: p.devices, Stats: scan.ReportStats{Addresses: 254, Responders: len(p.devices)}}, nil
}

func TestScanEventsFollowAServerScan(t *testing.T) {
	ps := &progressScanner{release: make(chan struct{}), reported: make(chan struct{}), devices: []scan.Device{
		{IP: "10.7.0.1", MAC: "02:00:00:00:07:01", Category: "switch", Vendor: "Cisco",
			SNMP: &scan.SNMPInfo{SysName: "core-sw", Version: "2c"}, FoundBy: []string{"arp", "snmp"}},
		{IP: "10.7.0.2", MAC: "02:00:00:00:07:02", Category: "unknown", FoundBy: []string{"arp"}},
	}}
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) { o.Scan = ps.run })
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.7.0.0/24", Method: "arp"})
	if err != nil {
		t.Fatal(err)
	}
	viewer := f.tokens[inventory.RoleViewer]
	if code := f.api(viewer, http.MethodGet, fmt.Sprintf("/api/v1/subnets/%d/scan/events", sn.ID), nil, nil); code != http.StatusNotFound {
		t.Errorf("events of a subnet never scanned: %d, want 404", code)
	}
	var run inventory.ScanRun
	if code := f.api(f.tokens[inventory.RoleOperator], http.MethodPost, fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, &run); code != http.StatusAccepted {
		t.Fatalf("scan: %d", code)
	}
	<-ps.reported
	// Two watchers: by run and by subnet; both see the same scan.
	byRun := openEvents(t, f, viewer, fmt.Sprintf("/api/v1/scans/%d/events", run.ID))
	bySubnet := openEvents(t, f, viewer, fmt.Sprintf("/api/v1/subnets/%d/scan/events", sn.ID))
	for _, st := range []*sseStream{byRun, bySubnet} {
		if st.resp.StatusCode != http.StatusOK {
			t.Fatalf("events: %d", st.resp.StatusCode)
		}
	}
	evs := byRun.until("progress")
	var devs []web.LiveDevice
	for _, ev := range evs {
		if ev.Name == "device" {
			var d web.LiveDevice
			if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
				t.Fatal(err)
			}
			devs = append(devs, d)
		}
	}
	if len(devs) != 2 || devs[0].IP != "10.7.0.1" || devs[0].Name != "core-sw" || !devs[0].SNMP || devs[0].ID == 0 ||
		devs[1].SNMP || devs[1].Category != "unknown" {
		t.Errorf("device events %+v", devs)
	}
	var p web.ScanProgress
	if err := json.Unmarshal([]byte(evs[len(evs)-1].Data), &p); err != nil {
		t.Fatal(err)
	}
	if p.RunID != run.ID || p.Phase != "sweep" || p.Sent != 254 || p.Total != 254 || p.Recorded != 2 ||
		p.SNMPAnswered != 1 || p.Status != inventory.ScanRunning || p.Scanner.Kind != inventory.ScannerServer {
		t.Errorf("progress %+v", p)
	}
	close(ps.release)
	for _, st := range []*sseStream{byRun, bySubnet} {
		evs := st.until("end")
		var end inventory.ScanRun
		if err := json.Unmarshal([]byte(evs[len(evs)-1].Data), &end); err != nil {
			t.Fatal(err)
		}
		if end.ID != run.ID || end.Status != inventory.ScanDone || end.Stats.Recorded != 2 {
			t.Errorf("end event %+v", end)
		}
		if !st.ended() {
			t.Error("the stream stays open after the end event")
		}
	}
	// A finished run's stream says how it ended, then closes.
	again := openEvents(t, f, viewer, fmt.Sprintf("/api/v1/scans/%d/events", run.ID))
	evs = again.until("end")
	if len(evs) < 2 {
		t.Fatalf("events of a finished run: %v", evs)
	}
	last := evs[len(evs)-2]
	if err := json.Unmarshal([]byte(last.Data), &p); err != nil || last.Name != "progress" || p.Phase != "ended" || p.Status != inventory.ScanDone {
		t.Errorf("progress before the end of a finished run: %v %+v", last, p)
	}
	if !again.ended() {
		t.Error("a finished run's stream stays open")
	}
	if code := f.api(viewer, http.MethodGet, "/api/v1/scans/999/events", nil, nil); code != http.StatusNotFound {
		t.Errorf("events of no run: %d", code)
	}
	if code := f.api("", http.MethodGet, fmt.Sprintf("/api/v1/scans/%d/events", run.ID), nil, nil); code != http.StatusUnauthorized {
		t.Errorf("events without a token: %d", code)
	}
}

// TestScanEventsFollowAnAgentRun: a run the server does not run itself is
// followed from the store until it is closed.
func TestScanEventsFollowAnAgentRun(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.8.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := f.store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerAgent, ID: "pc-1"}, "arp")
	if err != nil {
		t.Fatal(err)
	}
	st := openEvents(t, f, f.tokens[inventory.RoleViewer], fmt.Sprintf("/api/v1/subnets/%d/scan/events", sn.ID))
	evs := st.until("progress")
	var p web.ScanProgress
	if err := json.Unmarshal([]byte(evs[0].Data), &p); err != nil {
		t.Fatal(err)
	}
	if p.Phase != "remote" || p.Status != inventory.ScanRunning || p.Scanner.ID != "pc-1" {
		t.Errorf("agent run progress %+v", p)
	}
	// The subnets list follows it too (the agent's run is the subnet's
	// latest, running).
	f.user("op", inventory.RoleOperator)
	op, _ := f.login("op", testPassword)
	resp, err := op.Get(f.ts.URL + "/subnets")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	resp.Body.Close()
	if want := fmt.Sprintf(`data-events="/api/v1/subnets/%d/scan/events"`, sn.ID); !strings.Contains(b.String(), want) {
		t.Errorf("the subnets list does not follow the agent's run: no %s", want)
	}
	if _, err := f.store.RecordDevices(ctx, run.ID, []scan.Device{{IP: "10.8.0.5", FoundBy: []string{"arp"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.FinishScan(ctx, run.ID, inventory.ScanEnd{}); err != nil {
		t.Fatal(err)
	}
	evs = st.until("end")
	var end inventory.ScanRun
	if err := json.Unmarshal([]byte(evs[len(evs)-1].Data), &end); err != nil {
		t.Fatal(err)
	}
	if end.Status != inventory.ScanDone || end.Stats.Recorded != 1 {
		t.Errorf("end %+v", end)
	}
	// A stopping server ends the streams of runs it does not run itself,
	// or http.Server.Shutdown would wait on them.
	if _, err := f.store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerAgent, ID: "pc-2"}, "arp"); err != nil {
		t.Fatal(err)
	}
	st = openEvents(t, f, f.tokens[inventory.RoleViewer], fmt.Sprintf("/api/v1/subnets/%d/scan/events", sn.ID))
	st.until("progress")
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := f.srv.Close(cctx); err != nil {
		t.Fatal(err)
	}
	if !st.ended() {
		t.Error("a stream outlives the server's Close")
	}
}

func TestSubnetPage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.user("viewer", inventory.RoleViewer)
	f.user("op", inventory.RoleOperator)
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.9.0.0/24", Name: "Office",
		Schedule: inventory.Schedule{Every: 6 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	seedDevices(t, f.store, sn,
		scan.Device{IP: "10.9.0.1", MAC: "02:00:00:00:09:01", Category: "router", FoundBy: []string{"arp"}},
		scan.Device{IP: "10.9.0.20", MAC: "02:00:00:00:09:14", Category: "printer", FoundBy: []string{"arp"}})
	get := func(c *http.Client, path string, want int) string {
		t.Helper()
		resp, err := c.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		if _, err := bufio.NewReader(resp.Body).WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d", path, resp.StatusCode, want)
		}
		return b.String()
	}
	viewer, _ := f.login("viewer", testPassword)
	body := get(viewer, fmt.Sprintf("/subnets/%d", sn.ID), http.StatusOK)
	for _, want := range []string{"10.9.0.0/24", "Office", "every 6h<", `href="/subnets/` + fmt.Sprint(sn.ID) + `/map"`,
		`href="/devices?subnet=` + fmt.Sprint(sn.ID) + `"`, "10.9.0.20", "Recent scans", "agent", "Scanners", "not inventoried"} {
		if !strings.Contains(body, want) {
			t.Errorf("subnet page lacks %q", want)
		}
	}
	if strings.Contains(body, "Scan now") {
		t.Error("a viewer is offered Scan now")
	}
	if !regexp.MustCompile(`<span class="num">2</span><span>up</span>`).MatchString(body) {
		t.Error("subnet page does not count 2 devices up")
	}
	op, _ := f.login("op", testPassword)
	body = get(op, fmt.Sprintf("/subnets/%d", sn.ID), http.StatusOK)
	if !strings.Contains(body, `action="/subnets/`+fmt.Sprint(sn.ID)+`/scan"`) {
		t.Error("an operator is not offered Scan now")
	}
	// Scan now from the subnet page comes back to it, showing the live
	// progress hooks.
	resp := f.postForm(op, fmt.Sprintf("/subnets/%d/scan", sn.ID), map[string][]string{"from": {"subnet"}}, "same-origin")
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != fmt.Sprintf("/subnets/%d?done=scan", sn.ID) {
		t.Fatalf("scan from the subnet page: %d to %q", resp.StatusCode, loc)
	}
	body = get(op, fmt.Sprintf("/subnets/%d?done=scan", sn.ID), http.StatusOK)
	for _, want := range []string{`data-events="/api/v1/scans/`, `<script src="/static/live.js" defer></script>`,
		`http-equiv="refresh"`, "Scan started."} {
		if !strings.Contains(body, want) {
			t.Errorf("subnet page during a scan lacks %q", want)
		}
	}
	body = get(op, "/subnets", http.StatusOK)
	for _, want := range []string{fmt.Sprintf(`data-events="/api/v1/subnets/%d/scan/events"`, sn.ID), fmt.Sprintf(`href="/subnets/%d"`, sn.ID)} {
		if !strings.Contains(body, want) {
			t.Errorf("subnets list during a scan lacks %q", want)
		}
	}
	close(f.scanner.release)
	// The script is served as JavaScript, which nosniff requires.
	resp, err = op.Get(f.ts.URL + "/static/live.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("live.js served as %q", ct)
	}
	get(viewer, "/subnets/999", http.StatusNotFound)
	get(viewer, "/subnets/x", http.StatusNotFound)
}

func TestIPMapPage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.user("viewer", inventory.RoleViewer)
	small, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.10.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	seedDevices(t, f.store, small,
		scan.Device{IP: "10.10.0.1", MAC: "02:00:00:00:0a:01", Category: "router", Vendor: "Cisco", FoundBy: []string{"arp"},
			SNMP: &scan.SNMPInfo{SysName: "gw-1"}},
		scan.Device{IP: "10.10.0.77", MAC: "02:00:00:00:0a:4d", Category: "printer", FoundBy: []string{"arp"}})
	wide, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.20.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	seedDevices(t, f.store, wide,
		scan.Device{IP: "10.20.0.9", Category: "server", FoundBy: []string{"icmp"}},
		scan.Device{IP: "10.20.5.9", Category: "server", FoundBy: []string{"icmp"}},
		scan.Device{IP: "10.20.5.10", Category: "phone", FoundBy: []string{"icmp"}})
	c, _ := f.login("viewer", testPassword)
	get := func(path string, want int) string {
		t.Helper()
		resp, err := c.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		bufio.NewReader(resp.Body).WriteTo(&b)
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d: %s", path, resp.StatusCode, want, b.String())
		}
		return b.String()
	}
	body := get(fmt.Sprintf("/subnets/%d/map", small.ID), http.StatusOK)
	if n := strings.Count(body, `class="cell cell-`); n != 256 {
		t.Errorf("/24 map has %d cells, want 256", n)
	}
	if n := strings.Count(body, `<a href="/devices/`); n != 4 { // two cells and two rows of the text alternative
		t.Errorf("/24 map links %d times to devices, want 4", n)
	}
	for _, want := range []string{"10.10.0.1 · gw-1 · 02:00:00:00:0a:01 · router, Cisco · up · last seen",
		"10.10.0.0: the subnet&#39;s network address", "10.10.0.255: the subnet&#39;s broadcast address", "10.10.0.2: never seen",
		"2 up · 0 gone · 252 never seen", `aria-label="IP map of 10.10.0.0/24`, "load balancer"} {
		if !strings.Contains(body, want) {
			t.Errorf("/24 map lacks %q", want)
		}
	}
	if strings.Contains(body, `name="block"`) {
		t.Error("a /24 map offers a block picker")
	}
	body = get(fmt.Sprintf("/subnets/%d/map", wide.ID), http.StatusOK)
	for _, want := range []string{"IP map of <span class=\"mono\">10.20.0.0/24", "10.20.0.0/24 — 1 device<", "10.20.5.0/24 — 2 devices<",
		`rel="next"`, "1 up · 0 gone"} {
		if !strings.Contains(body, want) {
			t.Errorf("/16 map lacks %q", want)
		}
	}
	if strings.Contains(body, `rel="prev"`) {
		t.Error("the first block links to a previous one")
	}
	body = get(fmt.Sprintf("/subnets/%d/map?block=10.20.5.0", wide.ID), http.StatusOK)
	if !strings.Contains(body, "2 up · 0 gone · 254 never seen") || !strings.Contains(body, `rel="prev"`) ||
		!strings.Contains(body, `value="10.20.5.0/24" selected`) {
		t.Error("block 10.20.5.0 not drawn")
	}
	body = get(fmt.Sprintf("/subnets/%d/map?block=192.0.2.1", wide.ID), http.StatusBadRequest)
	if !strings.Contains(body, "is not an address inside 10.20.0.0/16") {
		t.Error("a block outside the subnet is not explained")
	}
	get("/subnets/999/map", http.StatusNotFound)
}

func TestDashboardPictures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.user("viewer", inventory.RoleViewer)
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.11.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	seedDevices(t, f.store, sn,
		scan.Device{IP: "10.11.0.1", Category: "router", FoundBy: []string{"arp"}},
		scan.Device{IP: "10.11.0.2", Category: "printer", FoundBy: []string{"arp"}},
		scan.Device{IP: "10.11.0.3", Category: "printer", FoundBy: []string{"arp"}})
	c, _ := f.login("viewer", testPassword)
	resp, err := c.Get(f.ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	body := b.String()
	today := time.Now().UTC().Format("2006-01-02")
	for _, want := range []string{`<svg class="chart days"`, "3 new devices</title>", "<td>" + today + "</td><td>3</td>",
		"3 devices first seen in the last 30 days", "<td>printer</td><td>2</td>", `aria-describedby="cat-table"`,
		fmt.Sprintf(`href="/subnets/%d"`, sn.ID)} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}

// TestScanEventsShowSNMPProgress runs a real method-snmp scan of a real
// snmpd's loopback /28 through the server's job runner: with no sweep,
// the live feed's progress is the SNMP probes', in phase snmp, counting
// up to every address of the subnet.
func TestScanEventsShowSNMPProgress(t *testing.T) {
	agent := snmptest.StartSnmpd(t, snmptest.SnmpdOptions{SysDescr: "lanscout live test", SysName: "live-agent"})
	classifier, err := typing.New(typing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	prober, err := snmp.NewProber(snmp.ProberOptions{
		Credentials: []snmp.Credential{{Version: snmp.V2c, Community: "public"}},
		Port:        agent.Addr.Port(),
		Timeout:     500 * time.Millisecond,
		Retries:     -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	scanned, release := make(chan struct{}), make(chan struct{})
	// As the server's own ScanFunc builds its scans, then held until the
	// test has read the feed, so the snmp phase is not over before that.
	scanFunc := func(ctx context.Context, sn inventory.Subnet, _ []snmp.Credential, device func(scan.Device)) (*scan.Report, error) {
		targets, err := discover.ParseTargets([]string{sn.CIDR})
		if err != nil {
			return nil, err
		}
		if web.SNMPProgress(ctx) == nil {
			return nil, fmt.Errorf("no SNMP progress hook in the scan's context")
		}
		report, err := scan.Run(ctx, scan.Config{
			Targets:      targets,
			Discover:     discover.Options{Method: discover.Method(sn.Method), NoDNS: true, Progress: web.SweepProgress(ctx)},
			Prober:       prober,
			Classifier:   classifier,
			Device:       device,
			SNMPProgress: web.SNMPProgress(ctx),
		})
		close(scanned)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return report, err
	}
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) { o.Scan = scanFunc })
	ctx := context.Background()
	prefix := netip.PrefixFrom(agent.Addr.Addr(), 28).Masked()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: prefix.String(), Method: "snmp"})
	if err != nil {
		t.Fatal(err)
	}
	var run inventory.ScanRun
	if code := f.api(f.tokens[inventory.RoleOperator], http.MethodPost, fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, &run); code != http.StatusAccepted {
		t.Fatalf("scan: %d", code)
	}
	st := openEvents(t, f, f.tokens[inventory.RoleViewer], fmt.Sprintf("/api/v1/scans/%d/events", run.ID))
	if st.resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %d", st.resp.StatusCode)
	}
	// Read progress until the SNMP phase is complete; each event must
	// only move forward, and method snmp never shows a sweep.
	var last web.ScanProgress
	for done := false; !done; {
		evs := st.until("progress")
		var p web.ScanProgress
		if err := json.Unmarshal([]byte(evs[len(evs)-1].Data), &p); err != nil {
			t.Fatal(err)
		}
		t.Logf("progress %s %d/%d, %d recorded", p.Phase, p.SNMPDone, p.SNMPTotal, p.Recorded)
		switch p.Phase {
		case "starting", "snmp":
		default:
			t.Fatalf("phase %q before the SNMP phase was complete: %+v", p.Phase, p)
		}
		if p.SNMPDone < last.SNMPDone || p.SNMPTotal < last.SNMPTotal || p.SNMPDone > p.SNMPTotal {
			t.Errorf("progress went back or past its total: %+v after %+v", p, last)
		}
		if p.Phase == "snmp" && p.SNMPTotal > 0 && p.SNMPTotal != 16 {
			t.Errorf("snmp phase total %d, want the 16 addresses of %s from the start", p.SNMPTotal, prefix)
		}
		last = p
		done = p.Phase == "snmp" && p.SNMPTotal > 0 && p.SNMPDone == p.SNMPTotal
	}
	<-scanned
	if last.SNMPTotal != 16 || last.Recorded != 1 || last.SNMPAnswered != 1 {
		t.Errorf("complete SNMP phase %+v, want 16 of 16 done and the agent recorded", last)
	}
	close(release)
	evs := st.until("end")
	var end inventory.ScanRun
	if err := json.Unmarshal([]byte(evs[len(evs)-1].Data), &end); err != nil {
		t.Fatal(err)
	}
	if end.Status != inventory.ScanDone || end.Stats.Recorded != 1 || end.Stats.SNMPAnswered != 1 {
		t.Errorf("end %+v", end)
	}
}
