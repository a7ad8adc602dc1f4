package inventory

import (
	"context"
	"slices"
	"testing"
)

// TestVendors: one entry per vendor whatever its case, the MAC vendor
// where the classification has none, none for devices without a vendor,
// alphabetical, capped by the limit.
func TestVendors(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.20.0.0/24")
	a := dev("10.20.0.1", "02:00:00:00:14:01", "a", "workstation")
	a.Vendor = "Dell"
	b := dev("10.20.0.2", "02:00:00:00:14:02", "b", "workstation")
	b.Vendor = "DELL"
	c := dev("10.20.0.3", "02:00:00:00:14:03", "c", "switch")
	c.Vendor = "Cisco"
	p := dev("10.20.0.4", "00:04:f2:00:00:04", "p", "phone")
	p.MACVendor = "Polycom"
	n := dev("10.20.0.5", "02:00:00:00:14:05", "n", "unknown")
	scanOnce(t, s, clk, sn.ID, a, b, c, p, n)

	got, err := s.Vendors(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "Cisco" || !slices.Contains([]string{"Dell", "DELL"}, got[1]) || got[2] != "Polycom" {
		t.Errorf("vendors %q, want Cisco, Dell (either case), Polycom", got)
	}
	// Each one finds its devices through the filter it feeds.
	for _, v := range got {
		page, err := s.Devices(ctx, DeviceQuery{Vendor: v})
		if err != nil || page.Total == 0 {
			t.Errorf("vendor %q matches %d devices (%v)", v, page.Total, err)
		}
	}
	if got, err := s.Vendors(ctx, 2); err != nil || len(got) != 2 || got[0] != "Cisco" {
		t.Errorf("limit 2: %q, %v", got, err)
	}
}
