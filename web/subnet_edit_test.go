package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
)

// TestSubnetEditAndDelete: an admin edits every setting the API's PUT
// takes from the subnet's edit page and deletes the subnet after
// confirming; refused input comes back on the form as typed with nothing
// stored; viewers and operators are refused as by the API; every change
// is audited; no page shows a credential's secret.
func TestSubnetEditAndDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.user("admin", inventory.RoleAdmin)
	f.user("oper", inventory.RoleOperator)
	f.user("viewer", inventory.RoleViewer)
	const secret = "s3cret-community-x"
	for _, name := range []string{"campus", "core"} {
		if _, err := f.store.PutCredential(ctx, snmp.Credential{Name: name, Version: snmp.V2c, Community: snmp.Secret(secret)}); err != nil {
			t.Fatal(err)
		}
	}
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.7.0.0/24", Name: "Lab"})
	if err != nil {
		t.Fatal(err)
	}
	seedDevices(t, f.store, sn, scan.Device{IP: "10.7.0.5", MAC: "02:00:00:00:07:05", FoundBy: []string{"tcp/22"}})
	editPath := fmt.Sprintf("/subnets/%d/edit", sn.ID)
	admin := f.loginAlone("admin")
	get := func(c *http.Client, path string) (int, string) {
		t.Helper()
		resp, err := c.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readBody(t, resp)
	}

	code, body := get(admin, fmt.Sprintf("/subnets/%d", sn.ID))
	if code != http.StatusOK || !strings.Contains(body, `href="`+editPath+`"`) {
		t.Errorf("subnet page for an admin: %d, no link to the edit page", code)
	}
	code, body = get(admin, editPath)
	for _, want := range []string{`name="name" value="Lab"`, `name="schedule_kind" value="none" checked`, `value="auto" selected`,
		`value="campus"`, `value="core"`, `name="max_scanners"`, `name="policy"`, "its 1 device,", `name="confirm" value="yes"`} {
		if !strings.Contains(body, want) {
			t.Errorf("edit page lacks %q", want)
		}
	}
	if code != http.StatusOK || strings.Contains(body, secret) {
		t.Errorf("edit page: %d, or it shows a credential's secret", code)
	}

	// Every field, as a browser posts them. The credentials come back in
	// the order ticked, the boxes listing the chosen ones first.
	form := url.Values{"name": {"Lab 2"}, "site": {"B1"}, "tags": {"floor-2, voip ,"}, "schedule_kind": {"every"},
		"schedule_every": {"2h"}, "schedule_at": {""}, "method": {"tcp"}, "credentials": {"core", "campus"}, "policy": {"allow"},
		"gone_after": {"4"}, "max_scanners": {"2"}, "cidr": {"10.99.0.0/24"}}
	resp := f.postForm(admin, editPath, form, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/subnets/%d?done=saved", sn.ID) {
		t.Fatalf("edit: %d to %q, want 303 to the subnet", resp.StatusCode, resp.Header.Get("Location"))
	}
	got, err := f.store.Subnet(ctx, sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CIDR != "10.7.0.0/24" || got.Name != "Lab 2" || got.Site != "B1" || strings.Join(got.Tags, "|") != "floor-2|voip" ||
		got.Schedule != (inventory.Schedule{Every: 2 * time.Hour}) || got.Method != "tcp" || strings.Join(got.Credentials, "|") != "core|campus" ||
		got.Policy != inventory.ScanAllow || got.GoneAfter != 4 || got.MaxScanners != 2 {
		t.Errorf("stored after the edit: %+v", got)
	}
	_, body = get(admin, fmt.Sprintf("/subnets/%d?done=saved", sn.ID))
	if !strings.Contains(body, "Subnet saved.") || !strings.Contains(body, "every 2h<") || !strings.Contains(body, "floor-2, voip") {
		t.Error("subnet page after the edit lacks the notice, the schedule or the tags")
	}
	_, body = get(admin, editPath)
	if i, j := strings.Index(body, `value="core" checked`), strings.Index(body, `value="campus" checked`); i < 0 || j < 0 || i > j {
		t.Error("edit page does not list the chosen credentials first, in their order")
	}
	// A time of day replaces the interval.
	form.Set("schedule_kind", "at")
	form.Set("schedule_at", "03:15")
	resp = f.postForm(admin, editPath, form, "same-origin")
	readBody(t, resp)
	if got, _ := f.store.Subnet(ctx, sn.ID); resp.StatusCode != http.StatusSeeOther || got.Schedule != (inventory.Schedule{At: "03:15"}) {
		t.Errorf("daily at 03:15: %d, stored %+v", resp.StatusCode, got.Schedule)
	}
	saved, _ := f.store.Subnet(ctx, sn.ID)

	// Refused input: 400, the store's (or the API's) reason on the form,
	// what was typed kept, nothing stored.
	for _, tc := range []struct {
		field, value, want string
	}{
		{"schedule_every", "soon", "schedule.every &#34;soon&#34; is not a duration"},
		{"schedule_every", "10s", "shorter than 1m0s"},
		{"schedule_at", "25:00", "is not HH:MM"},
		{"max_scanners", "7", "at most 3 scanners per subnet, not 7"},
		{"gone_after", "many", "gone after &#34;many&#34; is not a number"},
		{"method", "nmap", "scan method &#34;nmap&#34; is not one of"},
		{"policy", "maybe", "policy &#34;maybe&#34; is not allow or deny"},
		{"credentials", "nope", "no SNMP credential is named &#34;nope&#34;"},
		{"schedule_kind", "weekly", "schedule &#34;weekly&#34; is not"},
	} {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("name", "Typed name")
		bad.Set(tc.field, tc.value)
		switch tc.field {
		case "schedule_every":
			bad.Set("schedule_kind", "every")
		case "schedule_at":
			bad.Set("schedule_kind", "at")
		}
		resp = f.postForm(admin, editPath, bad, "same-origin")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) || !strings.Contains(body, `role="alert"`) ||
			!strings.Contains(body, `value="Typed name"`) {
			t.Errorf("%s=%q: %d, want 400 with %q and the typed name kept", tc.field, tc.value, resp.StatusCode, tc.want)
		}
		if now, _ := f.store.Subnet(ctx, sn.ID); !now.Updated.Equal(saved.Updated) || now.Name != saved.Name {
			t.Errorf("%s=%q changed the subnet: %+v", tc.field, tc.value, now)
		}
	}

	// Viewers and operators: the API's PUT and DELETE need admin, and so
	// do the pages.
	for _, name := range []string{"viewer", "oper"} {
		c := f.loginAlone(name)
		if code, body := get(c, fmt.Sprintf("/subnets/%d", sn.ID)); code != http.StatusOK || strings.Contains(body, editPath) {
			t.Errorf("%s: subnet page %d, or it links to the edit page", name, code)
		}
		if code, _ := get(c, editPath); code != http.StatusForbidden {
			t.Errorf("%s: GET edit page: %d, want 403", name, code)
		}
		for _, path := range []string{editPath, fmt.Sprintf("/subnets/%d/delete", sn.ID)} {
			resp := f.postForm(c, path, url.Values{"name": {"hijack"}, "confirm": {"yes"}}, "same-origin")
			readBody(t, resp)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: POST %s: %d, want 403", name, path, resp.StatusCode)
			}
		}
	}
	// A form from another site is refused before any of it is read.
	resp = f.postForm(admin, editPath, url.Values{"name": {"cross"}}, "cross-site")
	readBody(t, resp)
	if now, _ := f.store.Subnet(ctx, sn.ID); resp.StatusCode != http.StatusForbidden || now.Name != saved.Name {
		t.Errorf("cross-site edit: %d, name %q", resp.StatusCode, now.Name)
	}

	// Delete: not without the box ticked.
	delPath := fmt.Sprintf("/subnets/%d/delete", sn.ID)
	resp = f.postForm(admin, delPath, url.Values{}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Tick the box to confirm") {
		t.Errorf("delete unconfirmed: %d", resp.StatusCode)
	}
	if _, err := f.store.Subnet(ctx, sn.ID); err != nil {
		t.Fatalf("an unconfirmed delete removed the subnet: %v", err)
	}
	resp = f.postForm(admin, delPath, url.Values{"confirm": {"yes"}}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/subnets?done=deleted" {
		t.Fatalf("delete: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := f.store.Subnet(ctx, sn.ID); err == nil {
		t.Error("the subnet is still there after the delete")
	}
	if page, _ := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID}); page.Total != 0 {
		t.Errorf("%d devices left of the deleted subnet", page.Total)
	}
	if code, body := get(admin, "/subnets?done=deleted"); code != http.StatusOK || !strings.Contains(body, "Subnet deleted") || strings.Contains(body, "10.7.0.0/24") {
		t.Error("subnets page after the delete")
	}
	if code, _ := get(admin, editPath); code != http.StatusNotFound {
		t.Errorf("edit page of a deleted subnet: %d, want 404", code)
	}

	// Audited: three saves and the delete, by the admin; the refused
	// tries left nothing.
	entries, _, err := f.store.AuditLog(ctx, inventory.AuditQuery{Target: fmt.Sprintf("subnet/%d", sn.ID)})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.Actor != "admin" {
			t.Errorf("audit entry by %q: %+v", e.Actor, e)
		}
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, " ") != "subnet.delete subnet.update subnet.update" {
		t.Errorf("audit log of the subnet: %q", actions)
	}
	if !strings.Contains(entries[2].Details, "schedule every 2h0m0s") || !strings.Contains(entries[2].Details, "max scanners 2") {
		t.Errorf("audit details say what was set: %q", entries[2].Details)
	}
}

// TestSubnetCreateFormSchedule: the add form takes a schedule, starts
// from the settings' default one, and an explicit "on demand" wins over
// it.
func TestSubnetCreateFormSchedule(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.user("admin", inventory.RoleAdmin)
	c, resp := f.login("admin", testPassword)
	readBody(t, resp)
	admin := f.tokens[inventory.RoleAdmin]
	if code := f.api(admin, http.MethodPut, "/api/v1/settings", map[string]any{"default_schedule": map[string]string{"every": "6h"}}, nil); code != http.StatusOK {
		t.Fatalf("settings: %d", code)
	}
	resp, _ = c.Get(f.ts.URL + "/subnets")
	if body := readBody(t, resp); !strings.Contains(body, `name="schedule_kind" value="every" checked`) || !strings.Contains(body, `name="schedule_every" value="6h"`) {
		t.Error("the add form does not start from the default schedule")
	}
	for _, tc := range []struct {
		cidr string
		form url.Values
		want inventory.Schedule
	}{
		{"10.8.1.0/24", url.Values{"schedule_kind": {"at"}, "schedule_at": {"01:30"}}, inventory.Schedule{At: "01:30"}},
		{"10.8.2.0/24", url.Values{"schedule_kind": {"none"}, "schedule_every": {"6h"}}, inventory.Schedule{}},
		{"10.8.3.0/24", url.Values{}, inventory.Schedule{Every: 6 * time.Hour}}, // a client that sends no schedule
	} {
		tc.form.Set("cidr", tc.cidr)
		resp := f.postForm(c, "/subnets", tc.form, "same-origin")
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d", tc.cidr, resp.StatusCode)
		}
	}
	subnets, err := f.store.Subnets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]inventory.Schedule{"10.8.1.0/24": {At: "01:30"}, "10.8.2.0/24": {}, "10.8.3.0/24": {Every: 6 * time.Hour}}
	for _, sn := range subnets {
		if sn.Schedule != want[sn.CIDR] {
			t.Errorf("%s: schedule %+v, want %+v", sn.CIDR, sn.Schedule, want[sn.CIDR])
		}
	}
	resp = f.postForm(c, "/subnets", url.Values{"cidr": {"10.8.4.0/24"}, "name": {"Kept"}, "schedule_kind": {"every"}, "schedule_every": {"often"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "is not a duration") ||
		!strings.Contains(body, `value="often"`) || !strings.Contains(body, `value="Kept"`) {
		t.Errorf("bad interval on the add form: %d", resp.StatusCode)
	}
	if subnets, _ := f.store.Subnets(ctx); len(subnets) != 3 {
		t.Errorf("%d subnets after a refused add, want 3", len(subnets))
	}
}

// TestDashboardAPI: GET /api/v1/dashboard says what the dashboard page
// shows, scanners online included, to every role; the subnets list names
// each subnet's elected scanners, linked to the agents.
func TestDashboardAPI(t *testing.T) {
	f := electionFixture(t)
	ctx := context.Background()
	f.user("admin", inventory.RoleAdmin)
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.50.1.0/24", Name: "LAN"})
	if err != nil {
		t.Fatal(err)
	}
	steady := f.addElectionAgent("steady", "wired", "10.50.1.10/24", 60)
	laptop := f.addElectionAgent("laptop", "wireless", "10.50.1.11/24", 60)
	seedDevices(t, f.store, sn,
		scan.Device{IP: "10.50.1.20", MAC: "02:00:00:00:32:14", Category: "printer", Vendor: "Brother", FoundBy: []string{"tcp/9100"}},
		scan.Device{IP: "10.50.1.21", MAC: "02:00:00:00:32:15", Category: "switch", Vendor: "Cisco", FoundBy: []string{"snmp"}})
	// A branch subnet no agent is in, served by a trusted satellite with
	// lanscout; and a satellite nobody confirmed yet.
	if _, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.46.1.0/24", Name: "Branch"}); err != nil {
		t.Fatal(err)
	}
	sat := trustedSatellite(t, f.store, inventory.Satellite{Name: "branch", Address: "192.0.2.1", Port: 22, User: "root",
		Subnets: []string{"10.46.1.0/24"}})
	if err := f.store.SetSatelliteLanscout(ctx, sat.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.CreateSatellite(ctx, inventory.Satellite{Name: "spare", Address: "192.0.2.2", Port: 22, User: "root"}, nil); err != nil {
		t.Fatal(err)
	}
	// Before any login: fixture.login gives the API client a session.
	if code := f.api("", http.MethodGet, "/api/v1/dashboard", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("dashboard without a token: %d", code)
	}
	c, resp := f.login("admin", testPassword)
	readBody(t, resp)
	// Two scanners wanted, set on the edit page: the round runs at once.
	resp = f.postForm(c, fmt.Sprintf("/subnets/%d/edit", sn.ID), url.Values{"name": {"LAN"}, "max_scanners": {"2"}, "schedule_kind": {"none"}}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", resp.StatusCode)
	}

	type dash struct {
		Devices     int `json:"devices"`
		Gone        int `json:"gone"`
		NewThisWeek int `json:"new_this_week"`
		ByCategory  []struct {
			Category string `json:"category"`
			Count    int    `json:"count"`
		} `json:"by_category"`
		NewPerDay []struct {
			Day   time.Time `json:"day"`
			Count int       `json:"count"`
		} `json:"new_per_day"`
		Subnets []struct {
			ID       int64   `json:"id"`
			CIDR     string  `json:"cidr"`
			Coverage float64 `json:"coverage"`
			Counts   struct {
				Up, Inventoried int
				NonInventoried  int `json:"non_inventoried"`
			} `json:"counts"`
			LastScan *struct{ Status string } `json:"last_scan"`
		} `json:"subnets"`
		Scanners struct {
			AgentsOnline      int `json:"agents_online"`
			Agents            int `json:"agents"`
			ElectedAgents     int `json:"elected_agents"`
			SubnetsElected    int `json:"subnets_elected"`
			Satellites        int `json:"satellites"`
			SatellitesTrusted int `json:"satellites_trusted"`
			SatellitesScan    int `json:"satellites_scanning"`
		} `json:"scanners"`
	}
	var d dash
	for _, role := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator, inventory.RoleAdmin} {
		if code := f.api(f.tokens[role], http.MethodGet, "/api/v1/dashboard", nil, &d); code != http.StatusOK {
			t.Fatalf("dashboard as %s: %d", role, code)
		}
	}
	cats := map[string]int{}
	for _, cc := range d.ByCategory {
		cats[cc.Category] = cc.Count
	}
	perDay := 0
	for _, dc := range d.NewPerDay {
		perDay += dc.Count
	}
	if d.Devices != 2 || d.NewThisWeek != 2 || cats["printer"] != 1 || cats["switch"] != 1 || len(d.NewPerDay) != 30 || perDay != 2 {
		t.Errorf("dashboard counts: %+v", d)
	}
	lanSeen := false
	for _, s := range d.Subnets {
		if s.ID == sn.ID {
			lanSeen = s.CIDR == "10.50.1.0/24" && s.Counts.Up == 2 && s.LastScan != nil && s.LastScan.Status == "done"
		}
	}
	if len(d.Subnets) != 2 || !lanSeen {
		t.Errorf("dashboard subnets: %+v", d.Subnets)
	}
	sc := d.Scanners
	if sc.AgentsOnline != 2 || sc.Agents != 2 || sc.ElectedAgents != 2 || sc.SubnetsElected != 1 || sc.Satellites != 2 || sc.SatellitesTrusted != 1 || sc.SatellitesScan != 1 {
		t.Errorf("scanners: %+v", sc)
	}
	// The page shows the same numbers.
	resp, _ = c.Get(f.ts.URL + "/")
	body := readBody(t, resp)
	for _, want := range []string{"Scanners online", `2<span class="muted"> / 2</span>`, "elected scanners", "in 1 subnet<", "1 trusted, 1 scanning"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard page lacks %q", want)
		}
	}
	// The subnets list names the elected agents, linked.
	resp, _ = c.Get(f.ts.URL + "/subnets")
	body = readBody(t, resp)
	for _, id := range []int64{steady, laptop} {
		if !regexp.MustCompile(fmt.Sprintf(`<a href="/agents/%d"[^>]*>(steady|laptop)</a>`, id)).MatchString(body) {
			t.Errorf("subnets list lacks a link to agent %d", id)
		}
	}
	if !regexp.MustCompile(`<span title="[^"]*satellite branch[^"]*">branch</span> <span class="muted small">satellite</span>`).MatchString(body) {
		t.Error("subnets list does not name the satellite that scans the branch subnet")
	}
	// The JSON has no field the schema does not name at the top level.
	var raw map[string]json.RawMessage
	f.api(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/dashboard", nil, &raw)
	for k := range raw {
		switch k {
		case "devices", "gone", "new_this_week", "by_category", "new_per_day", "subnets", "scanners":
		default:
			t.Errorf("dashboard JSON has %q", k)
		}
	}
}

// TestDevicesVendorFilter: the devices page offers the known vendors and
// filters by the one chosen, keeping it in the control.
func TestDevicesVendorFilter(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.user("viewer", inventory.RoleViewer)
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.6.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	seedDevices(t, f.store, sn,
		scan.Device{IP: "10.6.0.1", MAC: "02:00:00:00:06:01", Vendor: "Brother", Category: "printer", FoundBy: []string{"tcp/9100"}},
		scan.Device{IP: "10.6.0.2", MAC: "02:00:00:00:06:02", Vendor: "Brother", Category: "printer", FoundBy: []string{"tcp/9100"}},
		scan.Device{IP: "10.6.0.3", MAC: "02:00:00:00:06:03", Vendor: "Cisco", Category: "switch", FoundBy: []string{"snmp"}})
	c, resp := f.login("viewer", testPassword)
	readBody(t, resp)
	resp, _ = c.Get(f.ts.URL + "/devices")
	body := readBody(t, resp)
	if !strings.Contains(body, `<input id="vendor" name="vendor" list="vendors"`) ||
		!strings.Contains(body, `<option value="Brother"></option><option value="Cisco"></option>`) {
		t.Error("devices page lacks the vendor control with the known vendors")
	}
	resp, _ = c.Get(f.ts.URL + "/devices?vendor=brother")
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "2 devices") || strings.Contains(body, "10.6.0.3") ||
		!strings.Contains(body, `name="vendor" list="vendors" placeholder="Any vendor" value="brother"`) {
		t.Errorf("vendor=brother: %d, want the 2 Brother devices and the filter kept", resp.StatusCode)
	}
	// The downloads keep the filter.
	if !strings.Contains(body, `/api/v1/devices.csv?vendor=brother`) {
		t.Error("the CSV link drops the vendor filter")
	}
}

// TestSubnetDeleteWaitsForScan: while a scan of the subnet runs, the
// delete is refused on the page (409, the reason shown, the subnet kept)
// as the API refuses it; once the scan ended it goes through.
func TestSubnetDeleteWaitsForScan(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.3.0.0/24", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	f.user("admin", inventory.RoleAdmin)
	c := f.loginAlone("admin")
	resp := f.postForm(c, fmt.Sprintf("/subnets/%d/scan", sn.ID), nil, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("scan: %d", resp.StatusCode)
	}
	delPath := fmt.Sprintf("/subnets/%d/delete", sn.ID)
	resp = f.postForm(c, delPath, url.Values{"confirm": {"yes"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "a scan of this subnet is running") {
		t.Errorf("delete during a scan: %d", resp.StatusCode)
	}
	if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodDelete, fmt.Sprintf("/api/v1/subnets/%d", sn.ID), nil, nil); code != http.StatusConflict {
		t.Errorf("API delete during a scan: %d", code)
	}
	if _, err := f.store.Subnet(ctx, sn.ID); err != nil {
		t.Fatalf("the subnet went during its scan: %v", err)
	}
	close(f.scanner.release)
	// Until the server itself no longer counts the run (running_scan is
	// what the delete checks).
	waitFor(t, func() bool {
		var v struct {
			RunningScan int64 `json:"running_scan"`
		}
		return f.api(f.tokens[inventory.RoleViewer], http.MethodGet, fmt.Sprintf("/api/v1/subnets/%d", sn.ID), nil, &v) == http.StatusOK &&
			v.RunningScan == 0
	})
	resp = f.postForm(c, delPath, url.Values{"confirm": {"yes"}}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("delete after the scan: %d", resp.StatusCode)
	}
}
