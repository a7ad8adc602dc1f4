package inventory

import (
	"context"
	"testing"

	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/typing"
)

// TestRuleIdentifies: a device an admin type matched counts as identified
// in the subnet's counts, loses the mark when the rule stops matching, and
// a person's identification is never overwritten by a rule.
func TestRuleIdentifies(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.9.0.0/24")

	typed := func(ip, mac, typ string) scan.Device {
		d := dev(ip, mac, "", "printer")
		d.Type = typ
		return d
	}
	counts := func() SubnetCounts {
		t.Helper()
		all, err := s.SubnetCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range all {
			if c.SubnetID == sn.ID {
				return c
			}
		}
		t.Fatalf("no counts for subnet %d", sn.ID)
		return SubnetCounts{}
	}

	scanOnce(t, s, clk, sn.ID, typed("10.9.0.5", "00:11:22:33:44:05", "Label printer"), dev("10.9.0.6", "00:11:22:33:44:06", "", "printer"))
	if c := counts(); c.Identified != 1 || c.NonInventoried != 1 {
		t.Fatalf("after a typed scan: identified %d, non-inventoried %d; want 1 and 1", c.Identified, c.NonInventoried)
	}
	d := deviceByIP(t, s, "10.9.0.5")
	if d.Status != Identified || d.Identification == nil || d.Identification.By != "rule:Label printer" ||
		d.Identification.Category != typing.Printer {
		t.Fatalf("typed device: status %q, identification %+v", d.Status, d.Identification)
	}

	// The rule no longer matches (an admin disabled it): the mark goes.
	clk.Advance(3600e9)
	scanOnce(t, s, clk, sn.ID, typed("10.9.0.5", "00:11:22:33:44:05", ""), dev("10.9.0.6", "00:11:22:33:44:06", "", "printer"))
	if c := counts(); c.Identified != 0 || c.NonInventoried != 2 {
		t.Fatalf("after the rule stopped matching: identified %d, non-inventoried %d; want 0 and 2", c.Identified, c.NonInventoried)
	}

	// A person's identification outlives rules matching or not.
	other := deviceByIP(t, s, "10.9.0.6")
	if err := s.Identify(ctx, other.ID, Identification{Category: typing.Camera, By: "alice"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3600e9)
	scanOnce(t, s, clk, sn.ID, typed("10.9.0.6", "00:11:22:33:44:06", "Label printer"))
	scanOnce(t, s, clk, sn.ID, typed("10.9.0.6", "00:11:22:33:44:06", ""))
	if d := deviceByIP(t, s, "10.9.0.6"); d.Identification == nil || d.Identification.By != "alice" || d.Category != typing.Camera {
		t.Fatalf("hand identification changed by rules: %+v, category %s", d.Identification, d.Category)
	}
}
