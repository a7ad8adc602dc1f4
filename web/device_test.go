package web_test

import (
	"context"
	"fmt"
	"net/http"
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
