package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
)

// seedSwitch records one SNMP-speaking switch in 10.11.0.0/24 and returns
// the subnet and the device.
func seedSwitch(t *testing.T, f *fixture) (inventory.Subnet, inventory.Device) {
	t.Helper()
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.11.0.0/24", Name: "Core", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	seedDevices(t, f.store, sn,
		scan.Device{IP: "10.11.0.2", MAC: "02:00:00:00:11:02", Hostnames: []string{"core-sw.lan"}, FoundBy: []string{"snmp"},
			Category: "switch", Vendor: "Cisco", Model: "C9300", Confidence: 0.9, Reasons: []string{"sysObjectID is a Cisco switch"},
			SNMP: &scan.SNMPInfo{Version: "2c", Credential: "lab", SysName: "core-sw", SysDescr: "Cisco IOS XE", SysObjectID: "1.3.6.1.4.1.9.1.2494",
				SysLocation: "Rack 4"}},
		scan.Device{IP: "10.11.0.9", MAC: "02:00:00:00:11:09", FoundBy: []string{"tcp/9100"}, Category: "printer", Vendor: "Brother"},
	)
	page, err := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID, Search: "10.11.0.2"})
	if err != nil || page.Total != 1 {
		t.Fatalf("seed: %+v %v", page, err)
	}
	return sn, page.Devices[0]
}

func TestDevicePage(t *testing.T) {
	f := newFixture(t)
	_, dev := seedSwitch(t, f)
	f.user("viewer", inventory.RoleViewer)
	c, resp := f.login("viewer", testPassword)
	readBody(t, resp)

	resp, err := c.Get(f.ts.URL + "/devices")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, fmt.Sprintf(`href="/devices/%d"`, dev.ID)) {
		t.Error("the devices list does not link to the device")
	}
	resp, err = c.Get(f.ts.URL + fmt.Sprintf("/devices/%d", dev.ID))
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("device page: %d", resp.StatusCode)
	}
	for _, want := range []string{"core-sw", "10.11.0.2", "02:00:00:00:11:02", "Cisco IOS XE", "1.3.6.1.4.1.9.1.2494", "Rack 4",
		"sysObjectID is a Cisco switch", "90% confidence", `badge cat-switch`, "new_device", "core-sw.lan", "10.11.0.0/24",
		"agent <span class=\"muted\">seed</span>", "No agent machine"} {
		if !strings.Contains(body, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	for _, p := range []string{"/devices/999999", "/devices/x"} {
		resp, _ = c.Get(f.ts.URL + p)
		readBody(t, resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	resp, _ = f.browser().Get(f.ts.URL + fmt.Sprintf("/devices/%d", dev.ID))
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("device page without a session: %d, want a redirect", resp.StatusCode)
	}
}

func TestIdentifyAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, dev := seedSwitch(t, f)
	path := fmt.Sprintf("/api/v1/devices/%d/identify", dev.ID)
	body := map[string]any{"category": "router", "name": "edge-1", "notes": "rack 4, top"}

	for _, method := range []string{http.MethodPut, http.MethodDelete} {
		if code := f.api(f.tokens[inventory.RoleViewer], method, path, body, nil); code != http.StatusForbidden {
			t.Errorf("viewer %s: %d, want 403", method, code)
		}
		if code := f.api("", method, path, body, nil); code != http.StatusUnauthorized {
			t.Errorf("anonymous %s: %d, want 401", method, code)
		}
	}
	after, _ := f.store.Device(ctx, dev.ID)
	if after.Identification != nil || after.Category != "switch" {
		t.Fatalf("a refused identify changed the device: %+v", after.Identification)
	}
	if _, n, _ := f.store.AuditLog(ctx, inventory.AuditQuery{}); n != 0 {
		t.Fatalf("refused writes were audited: %d entries", n)
	}

	op := f.tokens[inventory.RoleOperator]
	for _, bad := range []map[string]any{
		{"category": "toaster"},
		{},
		{"category": "", "name": "  "},
		{"nmae": "typo"},
		{"name": strings.Repeat("x", 201)},
	} {
		if code := f.api(op, http.MethodPut, path, bad, nil); code != http.StatusBadRequest {
			t.Errorf("PUT %v: %d, want 400", bad, code)
		}
	}
	if code := f.api(op, http.MethodPut, "/api/v1/devices/999999/identify", body, nil); code != http.StatusNotFound {
		t.Errorf("PUT on a missing device: %d, want 404", code)
	}
	var got inventory.DeviceDetail
	if code := f.api(op, http.MethodPut, path, body, &got); code != http.StatusOK {
		t.Fatalf("operator PUT: %d", code)
	}
	if got.Category != "router" || got.Name != "edge-1" || got.Identification == nil ||
		got.Identification.Notes != "rack 4, top" || got.Identification.By != "token:operator-token" ||
		got.Classification.Category != "switch" {
		t.Errorf("identified device %+v / %+v", got.Device, got.Identification)
	}
	// An admin may too; a name alone keeps the classification's category.
	got = inventory.DeviceDetail{}
	if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodPut, path, map[string]any{"name": "core"}, &got); code != http.StatusOK {
		t.Fatalf("admin PUT: %d", code)
	}
	if got.Category != "switch" || got.Name != "core" {
		t.Errorf("name-only identification: category %q name %q", got.Category, got.Name)
	}
	got = inventory.DeviceDetail{}
	if code := f.api(op, http.MethodDelete, path, nil, &got); code != http.StatusOK {
		t.Fatalf("operator DELETE: %d", code)
	}
	if got.Identification != nil || got.Category != "switch" || got.Name != "core-sw" {
		t.Errorf("cleared device %+v / %+v", got.Device, got.Identification)
	}

	entries, _, err := f.store.AuditLog(ctx, inventory.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, e := range entries {
		log = append(log, e.Actor+" "+e.Action+" "+e.Target)
	}
	target := fmt.Sprintf("device/%d", dev.ID)
	want := []string{"token:operator-token device.unidentify " + target, "token:admin-token device.identify " + target,
		"token:operator-token device.identify " + target}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	if len(entries) == 3 && !strings.Contains(entries[2].Details, `category "router", name "edge-1"`) {
		t.Errorf("audit details %q", entries[2].Details)
	}
}

func TestIdentifyForm(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, dev := seedSwitch(t, f)
	f.user("viewer", inventory.RoleViewer)
	f.user("operator", inventory.RoleOperator)
	page := fmt.Sprintf("/devices/%d", dev.ID)

	vc, resp := f.login("viewer", testPassword)
	readBody(t, resp)
	resp, _ = vc.Get(f.ts.URL + page)
	if body := readBody(t, resp); strings.Contains(body, "/identify") {
		t.Error("a viewer is offered the identify form")
	}
	for _, p := range []string{page + "/identify", page + "/unidentify"} {
		resp = f.postForm(vc, p, url.Values{"category": {"router"}}, "same-origin")
		readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", p, resp.StatusCode)
		}
	}
	if d, _ := f.store.Device(ctx, dev.ID); d.Identification != nil {
		t.Fatal("a viewer identified the device")
	}

	oc, resp := f.login("operator", testPassword)
	readBody(t, resp)
	resp, _ = oc.Get(f.ts.URL + page)
	if body := readBody(t, resp); !strings.Contains(body, `action="`+page+`/identify"`) || strings.Contains(body, "Clear identification") {
		t.Error("an operator is not offered the identify form, or is offered to clear nothing")
	}
	resp = f.postForm(oc, page+"/identify", url.Values{"category": {"toaster"}, "name": {"keep me"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unknown category") ||
		!strings.Contains(body, `value="keep me"`) {
		t.Errorf("bad category from the form: %d, want 400 with the error and the input kept", resp.StatusCode)
	}
	resp = f.postForm(oc, page+"/identify", url.Values{"category": {"firewall"}, "name": {"fw-1"}, "notes": {"by hand"}}, "cross-site")
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site identify: %d, want 403", resp.StatusCode)
	}
	resp = f.postForm(oc, page+"/identify", url.Values{"category": {"firewall"}, "name": {"fw-1"}, "notes": {"by hand"}}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page+"?done=identified" {
		t.Fatalf("operator identify: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = oc.Get(f.ts.URL + page + "?done=identified")
	body := readBody(t, resp)
	for _, want := range []string{"Identification saved", "Identified by operator", "fw-1", "by hand", `<option value="firewall" selected>`, "Clear identification"} {
		if !strings.Contains(body, want) {
			t.Errorf("identified device page lacks %q", want)
		}
	}
	resp = f.postForm(oc, page+"/unidentify", nil, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("operator clear: %d", resp.StatusCode)
	}
	if d, _ := f.store.Device(ctx, dev.ID); d.Identification != nil || d.Category != "switch" {
		t.Errorf("after clearing: %+v %s", d.Identification, d.Category)
	}
	all, _, _ := f.store.AuditLog(ctx, inventory.AuditQuery{Actor: "operator"})
	var entries []inventory.AuditEntry
	for _, e := range all {
		if strings.HasPrefix(e.Action, "device.") {
			entries = append(entries, e)
		}
	}
	if len(entries) != 2 || entries[0].Action != "device.unidentify" || entries[1].Action != "device.identify" {
		t.Errorf("audit %+v", entries)
	}
}
