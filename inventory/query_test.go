package inventory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/typing"
)

func TestDeviceQueries(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	a := mustSubnet(t, s, "10.10.0.0/24")
	b := mustSubnet(t, s, "10.10.1.0/24")
	var ds []scan.Device
	for i := 1; i <= 30; i++ {
		d := dev(fmt.Sprintf("10.10.0.%d", i), fmt.Sprintf("02:00:00:00:0a:%02x", i), fmt.Sprintf("host-%02d", i), "workstation")
		d.Vendor = "Dell"
		ds = append(ds, d)
	}
	sw := withSNMP(dev("10.10.0.100", "00:1B:A9:AB:CD:EF", "", "switch"), "core-sw", "")
	sw.Vendor, sw.Model = "Cisco", "WS-C3750"
	ds = append(ds, sw)
	scanOnce(t, s, clk, a.ID, ds...)
	ph := dev("10.10.1.9", "00:04:f2:00:00:09", "phone-9", "phone")
	ph.MACVendor = "Polycom"
	scanOnce(t, s, clk, b.ID, ph)

	cases := []struct {
		name    string
		q       DeviceQuery
		total   int
		firstIP string
	}{
		{"all, IP order", DeviceQuery{}, 32, "10.10.0.1"},
		{"IP order is numeric, not text", DeviceQuery{SubnetID: a.ID, Desc: true}, 31, "10.10.0.100"},
		{"search address", DeviceQuery{Search: "10.10.0.2"}, 11, "10.10.0.2"},
		{"search MAC with colons", DeviceQuery{Search: "00:1b:a9"}, 1, "10.10.0.100"},
		{"search MAC without separators, upper case", DeviceQuery{Search: "001BA9AB"}, 1, "10.10.0.100"},
		{"search MAC with dashes", DeviceQuery{Search: "ab-cd-ef"}, 1, "10.10.0.100"},
		{"search MAC, Cisco style", DeviceQuery{Search: "001b.a9ab"}, 1, "10.10.0.100"},
		{"short search", DeviceQuery{Search: "ef"}, 1, "10.10.0.100"},
		{"search name", DeviceQuery{Search: "CORE-SW"}, 1, "10.10.0.100"},
		{"search model", DeviceQuery{Search: "c3750"}, 1, "10.10.0.100"},
		{"search vendor", DeviceQuery{Search: "cisco"}, 1, "10.10.0.100"},
		{"search MAC vendor", DeviceQuery{Search: "polycom"}, 1, "10.10.1.9"},
		{"search DNS name", DeviceQuery{Search: "phone-9.example"}, 1, "10.10.1.9"},
		{"wildcards are literal", DeviceQuery{Search: "%"}, 0, ""},
		// The index's MATCH phrase must keep substring semantics.
		{"search across a space", DeviceQuery{Search: "cisco ws-c37"}, 1, "10.10.0.100"},
		{"search inside a word", DeviceQuery{Search: "ost-0"}, 9, "10.10.0.1"},
		{"double quotes are literal", DeviceQuery{Search: `"core-sw"`}, 0, ""},
		{"a double quote inside", DeviceQuery{Search: `core"sw`}, 0, ""},
		{"MAC with colons or its hex, uppercase", DeviceQuery{Search: "AB:CD:EF"}, 1, "10.10.0.100"},
		{"category", DeviceQuery{Category: typing.Switch}, 1, "10.10.0.100"},
		{"subnet", DeviceQuery{SubnetID: b.ID}, 1, "10.10.1.9"},
		{"vendor exact, any case", DeviceQuery{Vendor: "dell"}, 30, "10.10.0.1"},
		{"vendor falls back to the MAC vendor", DeviceQuery{Vendor: "Polycom"}, 1, "10.10.1.9"},
		{"state", DeviceQuery{State: StateGone}, 0, ""},
		{"status", DeviceQuery{Status: NonInventoried}, 32, "10.10.0.1"},
		{"sort by name", DeviceQuery{Sort: SortName}, 32, "10.10.0.100"},
		{"sort by name, descending", DeviceQuery{Sort: SortName, Desc: true}, 32, "10.10.1.9"},
		{"page 2", DeviceQuery{Limit: 10, Offset: 10}, 32, "10.10.0.11"},
		{"last page", DeviceQuery{Limit: 10, Offset: 30}, 32, "10.10.0.100"},
		{"combined", DeviceQuery{Search: "host-1", Category: typing.Workstation, SubnetID: a.ID, Limit: 5}, 10, "10.10.0.10"},
		// A search with a filter counts and pages in one statement.
		{"combined, page 2 by name descending", DeviceQuery{Search: "host-1", Category: typing.Workstation, Sort: SortName,
			Desc: true, Limit: 3, Offset: 3}, 10, "10.10.0.16"},
		{"combined, past the end", DeviceQuery{Search: "host-1", Category: typing.Workstation, Limit: 5, Offset: 10}, 10, ""},
		{"combined, no match", DeviceQuery{Search: "host-1", Category: typing.Switch}, 0, ""},
		{"category, newest first", DeviceQuery{Category: typing.Workstation, Sort: SortLastSeen, Desc: true}, 30, "10.10.0.30"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.Devices(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != tc.total {
				t.Errorf("total = %d, want %d", page.Total, tc.total)
			}
			first := ""
			if len(page.Devices) > 0 {
				first = page.Devices[0].IP
			}
			if first != tc.firstIP {
				t.Errorf("first = %q, want %q", first, tc.firstIP)
			}
		})
	}
	if _, err := s.Devices(ctx, DeviceQuery{Sort: "password_hash"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown sort key: err = %v", err)
	}
	if page, _ := s.Devices(ctx, DeviceQuery{Limit: 1, Offset: 1000}); page.Total != 32 || len(page.Devices) != 0 {
		t.Errorf("past the end = %+v", page)
	}

	var exported []string
	err := s.EachDevice(ctx, DeviceQuery{Vendor: "dell", Desc: true, Limit: 1}, func(d Device) error {
		exported = append(exported, d.IP)
		return nil
	})
	if err != nil || len(exported) != 30 || exported[0] != "10.10.0.30" {
		t.Errorf("export = %v, %v", exported, err)
	}
	stop := errors.New("enough")
	if err := s.EachDevice(ctx, DeviceQuery{}, func(Device) error { return stop }); err != stop {
		t.Errorf("export stopped by fn: err = %v", err)
	}
}

func TestIdentify(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.11.0.0/24")
	scanOnce(t, s, clk, sn.ID, dev("10.11.0.5", "02:00:00:00:0b:05", "box", ""))
	d := deviceByIP(t, s, "10.11.0.5")

	if err := s.Identify(ctx, d.ID, Identification{Category: "toaster", By: "admin"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown category: err = %v", err)
	}
	if err := s.Identify(ctx, d.ID, Identification{Category: typing.Camera}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no author: err = %v", err)
	}
	if err := s.Identify(ctx, 9999, Identification{Category: typing.Camera, By: "admin"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown device: err = %v", err)
	}
	if err := s.Identify(ctx, d.ID, Identification{Category: typing.Camera, Name: "lobby cam", Notes: "PoE port 12", By: "alice"}); err != nil {
		t.Fatal(err)
	}
	got := deviceByIP(t, s, "10.11.0.5")
	if got.Category != typing.Camera || got.Name != "lobby cam" || got.Status != Identified || got.Identification == nil ||
		got.Identification.Notes != "PoE port 12" || got.Identification.By != "alice" || got.Identification.At.IsZero() {
		t.Errorf("identified device = %+v (%+v)", got, got.Identification)
	}
	// A later classification does not override the admin, and raises no
	// category event: the effective category did not change.
	scanOnce(t, s, clk, sn.ID, withSNMP(dev("10.11.0.5", "02:00:00:00:0b:05", "box", "server"), "box", ""))
	got = deviceByIP(t, s, "10.11.0.5")
	if got.Category != typing.Camera || got.Classification.Category != typing.Server || got.Name != "lobby cam" {
		t.Errorf("after reclassification = %+v", got)
	}
	kinds := eventKinds(t, s, EventQuery{DeviceID: d.ID})
	if len(kinds) != 2 || kinds[1] != EventCategoryChanged {
		t.Errorf("events = %v, want new_device then one category_changed (by the admin)", kinds)
	}
	// Clearing gives the classification back.
	if err := s.Identify(ctx, d.ID, Identification{}); err != nil {
		t.Fatal(err)
	}
	got = deviceByIP(t, s, "10.11.0.5")
	if got.Category != typing.Server || got.Identification != nil || got.Status != NonInventoried || got.Name != "box" {
		t.Errorf("after clearing = %+v", got)
	}
}

func TestDashboard(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.12.0.0/24")
	scanOnce(t, s, clk, sn.ID, dev("10.12.0.1", "02:00:00:00:0c:01", "", "router"), dev("10.12.0.2", "02:00:00:00:0c:02", "", "printer"))
	clk.Advance(10 * 24 * time.Hour)
	scanOnce(t, s, clk, sn.ID, dev("10.12.0.1", "02:00:00:00:0c:01", "", "router"), dev("10.12.0.3", "02:00:00:00:0c:03", "", "printer"))
	if _, err := s.RecordAgentInventory(ctx, agentInv("u1", "h1", "", nic("eth0", "02:00:00:00:0c:03", NICWired, "10.12.0.3/24"))); err != nil {
		t.Fatal(err)
	}
	db, err := s.Dashboard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cats := map[typing.Category]int{}
	for _, c := range db.ByCategory {
		cats[c.Category] = c.Count
	}
	if db.Devices != 3 || db.Agents != 1 || cats[typing.Router] != 1 || cats[typing.Printer] != 2 || len(db.ByCategory) != len(typing.Categories) {
		t.Errorf("dashboard = %+v", db)
	}
	if db.NewThisWeek != 1 {
		t.Errorf("new this week = %d, want 1", db.NewThisWeek)
	}
	total := 0
	for _, d := range db.NewPerDay {
		total += d.Count
	}
	if len(db.NewPerDay) != 30 || total != 3 || db.NewPerDay[29].Count != 1 {
		t.Errorf("per day = %+v", db.NewPerDay)
	}
	if len(db.Subnets) != 1 || db.Subnets[0].LastScan == nil || db.Subnets[0].Counts.Inventoried != 1 ||
		db.Subnets[0].Counts.NonInventoried != 2 || db.Subnets[0].Coverage < 0.33 || db.Subnets[0].Coverage > 0.34 {
		t.Errorf("subnets = %+v", db.Subnets)
	}
	if len(db.Recent) == 0 {
		t.Error("no recent events")
	}
}

// The search index follows devices through every way they leave: deleted
// one by one, or with their subnet by the foreign key's cascade.
func TestSearchIndexFollowsDeletes(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	a := mustSubnet(t, s, "10.13.0.0/24")
	b := mustSubnet(t, s, "10.13.1.0/24")
	scanOnce(t, s, clk, a.ID, dev("10.13.0.1", "02:00:00:00:0d:01", "alpha", ""), dev("10.13.0.2", "02:00:00:00:0d:02", "beta", ""))
	scanOnce(t, s, clk, b.ID, dev("10.13.1.1", "02:00:00:00:0d:11", "gamma", ""))
	if err := s.DeleteDevice(ctx, deviceByIP(t, s, "10.13.0.2").ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSubnet(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM device_search`).Scan(&n); err != nil || n != 1 {
		t.Errorf("search index holds %d rows, want 1 (%v)", n, err)
	}
	if err := s.Identify(ctx, deviceByIP(t, s, "10.13.0.1").ID, Identification{Name: "renamed-box", By: "admin"}); err != nil {
		t.Fatal(err)
	}
	if page, err := s.Devices(ctx, DeviceQuery{Search: "renamed"}); err != nil || page.Total != 1 {
		t.Errorf("search by the admin's name = %d, %v", page.Total, err)
	}
}
