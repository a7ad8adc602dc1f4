package cli

import (
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/snmptest"
	"github.com/lanscout/lanscout/inventory"
)

// TestStoredTypeChangesScans is the end-to-end check of admin device
// types: a real snmpsim serves a corpus recording (a 3Com switch), the
// server scans it, an admin saves a type through the API after testing it
// on the device, and the next scan stores the admin's category and type
// reason; disabling the type takes it back at the scan after.
func TestStoredTypeChangesScans(t *testing.T) {
	rec := snmptest.CorpusFile(t, "3com.snmprec")
	sim := snmptest.StartSim(t, []string{rec}, snmptest.SimOptions{})
	dev := sim.Devices[0]
	dir := t.TempDir()
	srv := startServer(t, dir, map[string]string{
		"LANSCOUT_ADMIN_PASSWORD": "admin password",
		"LANSCOUT_SNMP_PORT":      fmt.Sprint(dev.Addr.Port()),
		"LANSCOUT_SNMP_TIMEOUT":   "2s",
	})
	token := adminTokenCLI(t, dir, "e2e")
	call := func(method, path string, body, v any) int {
		t.Helper()
		return srv.apiCall(t, token, method, path, body, v)
	}
	// A /30 around the simulated device: SNMP to every address, no sweep.
	cidr := netip.PrefixFrom(dev.Addr.Addr(), 30).Masked().String()
	var sn struct{ ID int64 }
	if code := call("POST", "/api/v1/subnets", map[string]any{"cidr": cidr, "method": "snmp"}, &sn); code != http.StatusCreated {
		t.Fatalf("create subnet: %d", code)
	}
	scanOnce := func() inventory.Device {
		t.Helper()
		run := srv.scanNow(t, token, sn.ID, 90*time.Second)
		if run.Status != inventory.ScanDone {
			t.Fatalf("scan ended %s: %s", run.Status, run.Error)
		}
		var list struct{ Items []inventory.Device }
		call("GET", fmt.Sprintf("/api/v1/devices?subnet=%d", sn.ID), nil, &list)
		for _, d := range list.Items {
			if d.IP == dev.Addr.Addr().String() {
				return d
			}
		}
		t.Fatalf("%s not stored after the scan: %+v", dev.Addr.Addr(), list.Items)
		return inventory.Device{}
	}

	before := scanOnce()
	if before.Category != "switch" && before.Category != "router" {
		t.Fatalf("%s scanned as %s, want switch or router (the corpus label); reasons %v", filepath.Base(rec), before.Category, before.Classification.Reasons)
	}
	const rule = "name: Lab 3Com\ncategory: camera\nreason: the lab's 3Com boxes watch the door\nwhen:\n  - sysobjectid: [1.3.6.1.4.1.43.10.27]\n"
	var test struct {
		Fired  bool `json:"fired"`
		Result struct {
			Category string `json:"category"`
			Type     string `json:"type"`
		} `json:"result"`
	}
	if code := call("POST", "/api/v1/types/test", map[string]any{"source": rule, "device_id": before.ID}, &test); code != http.StatusOK ||
		!test.Fired || test.Result.Category != "camera" || test.Result.Type != "Lab 3Com" {
		t.Fatalf("test of the draft on the scanned device: %d %+v", code, test)
	}
	var saved inventory.TypeRule
	if code := call("POST", "/api/v1/types", map[string]any{"source": rule}, &saved); code != http.StatusCreated {
		t.Fatalf("save the type: %d", code)
	}
	// Saving alone changes nothing stored: the next scan does.
	after := scanOnce()
	if after.Category != "camera" || after.Classification.Category != "camera" ||
		!strings.Contains(strings.Join(after.Classification.Reasons, "; "), `admin rule "Lab 3Com" matched: the lab's 3Com boxes watch the door`) {
		t.Fatalf("after the stored type, scanned as %s: %v", after.Category, after.Classification.Reasons)
	}
	if !strings.Contains(srv.stderr.String(), "device types loaded") {
		t.Errorf("the server did not log loading the stored types")
	}
	if code := call("PUT", fmt.Sprintf("/api/v1/types/%d", saved.ID), map[string]any{"enabled": false}, nil); code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	if again := scanOnce(); again.Category != before.Category {
		t.Errorf("after disabling the type, scanned as %s, want %s again", again.Category, before.Category)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
}
