package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/web"
)

// These tests never send a packet: their devices live in 198.51.100.0/24
// (TEST-NET-2), where this host has no interface, agent or satellite, so
// every target has no route. The routes that send are tested in the
// network lab (wake_lab_test.go).

type wakeTarget struct {
	ID          int64   `json:"id"`
	DeviceID    int64   `json:"device_id"`
	MAC         string  `json:"mac"`
	IP          string  `json:"ip"`
	Subnet      string  `json:"subnet"`
	Route       string  `json:"route"`
	Via         string  `json:"via"`
	Method      string  `json:"method"`
	Status      string  `json:"status"`
	Detail      string  `json:"detail"`
	TookS       float64 `json:"took_s"`
	ConfirmedBy string  `json:"confirmed_by"`
}

type wakeJob struct {
	ID            int64          `json:"id"`
	RequestedBy   string         `json:"requested_by"`
	Source        string         `json:"source"`
	Status        string         `json:"status"`
	Fallback      bool           `json:"fallback"`
	Counts        map[string]int `json:"counts"`
	Targets       []wakeTarget   `json:"targets"`
	FallbackOffer string         `json:"fallback_offer"`
}

// seedWake stores a subnet with two devices known by MAC and one without.
func seedWake(t *testing.T, f *fixture) (inventory.Subnet, []inventory.Device) {
	t.Helper()
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "198.51.100.0/24", Name: "far office"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := f.store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerServer, ID: "server"}, "arp")
	if err != nil {
		t.Fatal(err)
	}
	var ds []inventory.Device
	for _, d := range []scan.Device{
		{IP: "198.51.100.10", MAC: "02:00:00:00:00:10", Category: "workstation", FoundBy: []string{"arp"}},
		{IP: "198.51.100.11", MAC: "02:00:00:00:00:11", Category: "workstation", FoundBy: []string{"arp"}},
		{IP: "198.51.100.12", Category: "server", FoundBy: []string{"icmp"}},
	} {
		id, err := f.store.RecordDevice(ctx, run.ID, d)
		if err != nil {
			t.Fatal(err)
		}
		det, err := f.store.Device(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, det.Device)
	}
	if _, err := f.store.FinishScan(ctx, run.ID, inventory.ScanEnd{}); err != nil {
		t.Fatal(err)
	}
	return sn, ds
}

func wakeFixture(t *testing.T, fallback web.WakeFallback) *fixture {
	return newFixture(t, func(_ *inventory.Options, o *web.Options) {
		o.Wake = web.WakeOptions{Fallback: fallback, ConfirmTimeout: 5 * time.Second, ProbeInterval: 200 * time.Millisecond,
			ScheduleCheck: -1}
	})
}

// waitWake polls a job until it is no longer running.
func (f *fixture) waitWake(id int64) wakeJob {
	f.t.Helper()
	var j wakeJob
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if st := f.api(f.tokens[inventory.RoleViewer], http.MethodGet, fmt.Sprintf("/api/v1/wake/%d", id), nil, &j); st != http.StatusOK {
			f.t.Fatalf("GET wake job %d: %d", id, st)
		}
		if j.Status != "running" {
			return j
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.t.Fatalf("wake job %d still running: %+v", id, j)
	return j
}

func TestWakeRequestValidation(t *testing.T) {
	f := wakeFixture(t, web.WakeFallbackNone)
	sn, ds := seedWake(t, f)
	op := f.tokens[inventory.RoleOperator]
	cases := []struct {
		name string
		body any
		has  string
	}{
		{"empty", map[string]any{}, "nothing to wake"},
		{"unknown field", map[string]any{"device": []int{1}}, "unknown field"},
		{"bad MAC", map[string]any{"macs": []string{"00:11:22:33:44"}}, "MAC"},
		{"broadcast MAC", map[string]any{"macs": []string{"ff:ff:ff:ff:ff:ff"}}, "MAC"},
		{"no such device", map[string]any{"devices": []int64{9999}}, "no device 9999"},
		{"device without MAC", map[string]any{"devices": []int64{ds[2].ID}}, "no known MAC"},
		{"bad subnet", map[string]any{"macs": []string{"02:00:00:00:00:99"}, "subnet": "10.0.0.0/33"}, "not an IPv4 CIDR"},
		{"no such subnet id", map[string]any{"macs": []string{"02:00:00:00:00:99"}, "subnet": "77"}, "no subnet 77"},
		{"no such subnet to wake", map[string]any{"subnets": []int64{77}}, "no subnet 77"},
		{"wrong type", map[string]any{"devices": "all"}, "bad JSON"},
		{"subnet of the wrong type", map[string]any{"macs": []string{"02:00:00:00:00:99"}, "subnet": true}, "want a CIDR or a subnet id"},
		{"subnet id not a whole number", map[string]any{"macs": []string{"02:00:00:00:00:99"}, "subnet": 1.5}, "not a CIDR or a subnet id"},
		// Raw MACs go only into subnets of the inventory: a named network
		// elsewhere would let the fallback send UDP anywhere.
		{"subnet outside the inventory", map[string]any{"macs": []string{"02:00:00:00:00:99"}, "subnet": "203.0.113.0/24", "fallback": true},
			"not inside a subnet of lanscout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e struct{ Error string }
			if st := f.api(op, http.MethodPost, "/api/v1/wake", tc.body, &e); st != http.StatusBadRequest {
				t.Fatalf("status %d (%s), want 400", st, e.Error)
			}
			if !strings.Contains(e.Error, tc.has) {
				t.Errorf("error %q does not say %q", e.Error, tc.has)
			}
		})
	}
	var list struct{ Items []wakeJob }
	f.api(op, http.MethodGet, "/api/v1/wake", nil, &list)
	if len(list.Items) != 0 {
		t.Fatalf("refused requests created jobs: %+v", list.Items)
	}
	_ = sn
}

// TestWakeRoles: a viewer cannot wake (403) and no job is created; an
// operator's request comes back 202 with its job.
func TestWakeRoles(t *testing.T) {
	f := wakeFixture(t, web.WakeFallbackNone)
	_, ds := seedWake(t, f)
	body := map[string]any{"devices": []int64{ds[0].ID}}
	if st := f.api(f.tokens[inventory.RoleViewer], http.MethodPost, "/api/v1/wake", body, nil); st != http.StatusForbidden {
		t.Fatalf("viewer: %d, want 403", st)
	}
	if st := f.api("", http.MethodPost, "/api/v1/wake", body, nil); st != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d, want 401", st)
	}
	var list struct{ Items []wakeJob }
	f.api(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/wake", nil, &list)
	if len(list.Items) != 0 {
		t.Fatalf("a refused wake created jobs: %+v", list.Items)
	}
	for _, role := range []inventory.Role{inventory.RoleOperator, inventory.RoleAdmin} {
		var j wakeJob
		if st := f.api(f.tokens[role], http.MethodPost, "/api/v1/wake", body, &j); st != http.StatusAccepted {
			t.Fatalf("%s: %d, want 202", role, st)
		}
		if j.ID == 0 || j.RequestedBy != "token:"+string(role)+"-token" || len(j.Targets) != 1 {
			t.Fatalf("%s: job %+v", role, j)
		}
	}
}

// TestWakeNoRoute: with no way into the subnet the job says so, names the
// fallback the request did not ask for, sends nothing, and the audit log
// has the request and the outcome.
func TestWakeNoRoute(t *testing.T) {
	f := wakeFixture(t, web.WakeFallbackDirected)
	sn, ds := seedWake(t, f)
	op := f.tokens[inventory.RoleOperator]
	var j wakeJob
	st := f.api(op, http.MethodPost, "/api/v1/wake", map[string]any{
		"devices": []int64{ds[0].ID},
		"macs":    []string{"02-00-00-00-00-11", "0200.0000.0099"},
	}, &j)
	if st != http.StatusAccepted {
		t.Fatalf("POST: %d", st)
	}
	if len(j.Targets) != 3 {
		t.Fatalf("targets %+v, want the device, the MAC found in the store and the unknown MAC", j.Targets)
	}
	byMAC := map[string]wakeTarget{}
	for _, tg := range j.Targets {
		byMAC[tg.MAC] = tg
		if tg.Route != "none" || tg.Status != "no_route" {
			t.Errorf("target %+v: want no route", tg)
		}
	}
	if tg := byMAC["02:00:00:00:00:11"]; tg.DeviceID != ds[1].ID || tg.Subnet != sn.CIDR || tg.IP != "198.51.100.11" ||
		!strings.Contains(tg.Detail, `"fallback": true`) {
		t.Errorf("MAC known to the store: %+v", tg)
	}
	if tg := byMAC["02:00:00:00:00:99"]; tg.DeviceID != 0 || tg.Subnet != "" || !strings.Contains(tg.Detail, "give the subnet") {
		t.Errorf("unknown MAC: %+v", tg)
	}
	if j.FallbackOffer != "directed_broadcast" {
		t.Errorf("fallback offer %q", j.FallbackOffer)
	}
	done := f.waitWake(j.ID)
	if done.Status != "done" || done.Counts["no_route"] != 3 {
		t.Fatalf("done: %+v", done)
	}
	entries, _, err := f.store.AuditLog(context.Background(), inventory.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var req, outcome string
	for _, e := range entries {
		if e.Target != fmt.Sprintf("wake/%d", j.ID) {
			continue
		}
		switch e.Action {
		case "wake.request":
			req = e.Actor + " " + e.Details
		case "wake.outcome":
			outcome = e.Actor + " " + e.Details
		}
	}
	if !strings.Contains(req, "token:operator-token") || !strings.Contains(req, "02:00:00:00:00:10") || !strings.Contains(req, "no fallback asked") {
		t.Errorf("audit of the request: %q", req)
	}
	if !strings.Contains(outcome, "token:operator-token") || !strings.Contains(outcome, "3 no route") {
		t.Errorf("audit of the outcome: %q", outcome)
	}
	// Each target's outcome is counted for /metrics.
	mreq, _ := http.NewRequest(http.MethodGet, f.ts.URL+"/metrics", nil)
	mreq.Header.Set("Authorization", "Bearer "+f.tokens[inventory.RoleViewer])
	resp, err := f.ts.Client().Do(mreq)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, `lanscout_wakes_total{outcome="no_route"} 3`) {
		t.Errorf("/metrics (%d) does not count the three wakes with no route", resp.StatusCode)
	}

	// A subnet wakes its devices known by MAC, here with no route either;
	// a raw MAC with a subnet given lands in that subnet.
	var j2 wakeJob
	if st := f.api(op, http.MethodPost, "/api/v1/wake", map[string]any{"subnets": []int64{sn.ID},
		"macs": []string{"02:00:00:00:00:aa"}, "subnet": sn.ID}, &j2); st != http.StatusAccepted {
		t.Fatalf("POST subnet: %d", st)
	}
	var macs []string
	for _, tg := range j2.Targets {
		macs = append(macs, tg.MAC+"@"+tg.Subnet)
	}
	if got := strings.Join(macs, " "); got != "02:00:00:00:00:aa@198.51.100.0/24 02:00:00:00:00:10@198.51.100.0/24 02:00:00:00:00:11@198.51.100.0/24" {
		t.Errorf("subnet targets: %s", got)
	}
}

func TestWakeSchedulesAPI(t *testing.T) {
	f := wakeFixture(t, web.WakeFallbackNone)
	sn, ds := seedWake(t, f)
	op := f.tokens[inventory.RoleOperator]
	body := map[string]any{"name": "patch night", "at": "22:30", "days": []string{"tue", "thu"},
		"devices": []int64{ds[0].ID}, "subnet": sn.ID}
	if st := f.api(f.tokens[inventory.RoleViewer], http.MethodPost, "/api/v1/wake/schedules", body, nil); st != http.StatusForbidden {
		t.Fatalf("viewer: %d", st)
	}
	for _, bad := range []map[string]any{
		{"at": "24:61", "subnet": sn.ID},
		{"at": "22:30"},
		{"at": "22:30", "devices": []int64{9999}},
		{"at": "22:30", "subnet": sn.ID, "days": []string{"xyz"}},
	} {
		if st := f.api(op, http.MethodPost, "/api/v1/wake/schedules", bad, nil); st != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", bad, st)
		}
	}
	var ws struct {
		ID   int64     `json:"id"`
		At   string    `json:"at"`
		Days []string  `json:"days"`
		Next time.Time `json:"next"`
	}
	if st := f.api(op, http.MethodPost, "/api/v1/wake/schedules", body, &ws); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	if ws.ID == 0 || ws.At != "22:30" || strings.Join(ws.Days, ",") != "tue,thu" || ws.Next.IsZero() {
		t.Fatalf("created %+v", ws)
	}
	if wd := ws.Next.Local().Weekday(); wd != time.Tuesday && wd != time.Thursday {
		t.Errorf("next run on %s", wd)
	}
	var list struct{ Items []struct{ ID int64 } }
	if st := f.api(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/wake/schedules", nil, &list); st != http.StatusOK || len(list.Items) != 1 {
		t.Fatalf("list: %d %+v", st, list)
	}
	if st := f.api(f.tokens[inventory.RoleViewer], http.MethodDelete, fmt.Sprintf("/api/v1/wake/schedules/%d", ws.ID), nil, nil); st != http.StatusForbidden {
		t.Fatalf("viewer delete: %d", st)
	}
	if st := f.api(op, http.MethodDelete, fmt.Sprintf("/api/v1/wake/schedules/%d", ws.ID), nil, nil); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}
	if st := f.api(op, http.MethodDelete, fmt.Sprintf("/api/v1/wake/schedules/%d", ws.ID), nil, nil); st != http.StatusNotFound {
		t.Fatalf("delete again: %d", st)
	}
}

// TestScheduledWakeRuns: a schedule due now starts a normal wake job by
// "system" on the next tick, once.
func TestScheduledWakeRuns(t *testing.T) {
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f := newFixture(t, func(so *inventory.Options, o *web.Options) {
		so.Now = func() time.Time { return now.Add(-time.Hour) } // the schedule was created an hour before its slot
		o.Now = clock
		o.Wake = web.WakeOptions{ConfirmTimeout: time.Second, ProbeInterval: 100 * time.Millisecond,
			ScheduleCheck: 50 * time.Millisecond, Location: time.UTC}
	})
	sn, _ := seedWake(t, f)
	ws, err := f.store.CreateWakeSchedule(context.Background(), inventory.WakeSchedule{At: "06:59", SubnetID: sn.ID, CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	var jobs struct{ Items []wakeJob }
	waitFor(t, func() bool {
		f.api(f.tokens[inventory.RoleViewer], http.MethodGet, fmt.Sprintf("/api/v1/wake?schedule=%d", ws.ID), nil, &jobs)
		return len(jobs.Items) == 1 && jobs.Items[0].Status != "running"
	})
	j := jobs.Items[0]
	if j.RequestedBy != "system" || j.Source != "schedule" || len(j.Targets) != 2 {
		t.Fatalf("scheduled job %+v", j)
	}
	// Later ticks do not run the same slot again.
	time.Sleep(300 * time.Millisecond)
	f.api(f.tokens[inventory.RoleViewer], http.MethodGet, fmt.Sprintf("/api/v1/wake?schedule=%d", ws.ID), nil, &jobs)
	if len(jobs.Items) != 1 {
		t.Fatalf("the slot ran %d times", len(jobs.Items))
	}
	got, err := f.store.WakeSchedule(context.Background(), ws.ID)
	if err != nil || got.LastJob != j.ID || !got.LastRun.Equal(time.Date(2026, 11, 23, 6, 59, 0, 0, time.UTC)) {
		t.Fatalf("schedule after its run: %+v, %v", got, err)
	}
}

// TestWakePages: the buttons are there for operators only, and the form
// starts a job and shows it.
func TestWakePages(t *testing.T) {
	f := wakeFixture(t, web.WakeFallbackDirected)
	sn, ds := seedWake(t, f)
	f.user("vera", inventory.RoleViewer)
	f.user("otto", inventory.RoleOperator)
	get := func(c *http.Client, path string) (int, string) {
		resp, err := c.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readBody(t, resp)
	}
	pages := []string{"/wake", fmt.Sprintf("/devices/%d", ds[0].ID), "/devices", "/subnets", fmt.Sprintf("/subnets/%d", sn.ID)}
	// The fixture's browsers share one client: log in one at a time.
	viewer, _ := f.login("vera", testPassword)
	for _, p := range pages {
		if st, body := get(viewer, p); st != http.StatusOK || strings.Contains(body, `action="/wake`) {
			t.Errorf("viewer %s: %d, or a wake form is shown", p, st)
		}
	}
	resp := f.postForm(viewer, "/wake", url.Values{"device": {fmt.Sprint(ds[0].ID)}}, "same-origin")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer POST /wake: %d", resp.StatusCode)
	}
	resp.Body.Close()
	var list struct{ Items []wakeJob }
	f.api(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/wake", nil, &list)
	if len(list.Items) != 0 {
		t.Fatalf("a viewer's form created a job")
	}
	if st, body := get(viewer, "/wake/1"); st != http.StatusNotFound {
		t.Fatalf("missing job page: %d\n%s", st, body)
	}

	operator, _ := f.login("otto", testPassword)
	for _, p := range pages {
		if st, body := get(operator, p); st != http.StatusOK || !strings.Contains(body, `action="/wake`) { // the devices list's asks first: /wake/confirm
			t.Errorf("operator %s: %d, no wake form", p, st)
		}
	}
	if _, body := get(operator, fmt.Sprintf("/devices/%d", ds[2].ID)); strings.Contains(body, `name="device" value="`) {
		t.Errorf("a device without a MAC offers a wake button")
	}
	resp = f.postForm(operator, "/wake", url.Values{"device": {fmt.Sprint(ds[0].ID), fmt.Sprint(ds[1].ID)}}, "same-origin")
	loc := resp.Header.Get("Location")
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/wake/") {
		t.Fatalf("operator POST /wake: %d to %q", resp.StatusCode, loc)
	}
	st, body := get(operator, loc)
	if st != http.StatusOK || !strings.Contains(body, "02:00:00:00:00:10") || !strings.Contains(body, "no route") ||
		!strings.Contains(body, "by the fallback") || !strings.Contains(body, `src="/static/wake.js"`) {
		t.Fatalf("job page %d:\n%s", st, body)
	}
	resp = f.postForm(operator, "/wake", url.Values{"mac": {"nonsense"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "nonsense") {
		t.Fatalf("bad MAC form: %d\n%s", resp.StatusCode, body)
	}
	resp = f.postForm(operator, "/wake/schedules", url.Values{"at": {"05:45"}, "day": {"mon", "fri"},
		"subnet_id": {fmt.Sprint(sn.ID)}}, "same-origin")
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("schedule form: %d", resp.StatusCode)
	}
	if _, body := get(operator, "/wake"); !strings.Contains(body, "05:45 mon,fri") || !strings.Contains(body, "subnet 198.51.100.0/24") {
		t.Fatalf("schedule not listed:\n%s", body)
	}
	st, js := get(operator, "/static/wake.js")
	if st != http.StatusOK || !strings.Contains(js, "/api/v1/wake/") {
		t.Fatalf("wake.js: %d", st)
	}
}
