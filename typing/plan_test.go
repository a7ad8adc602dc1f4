package typing_test

import (
	"context"
	"testing"

	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

// TestDefaultPlanCost keeps the plan cheap: the scalars fit in two Gets,
// vendor Gets are gated, and every walk is capped.
func TestDefaultPlanCost(t *testing.T) {
	p := snmp.DefaultPlan()
	if n := len(p.Scalars); n > 32 {
		t.Errorf("%d scalars need more than two Gets of 16", n)
	}
	for _, g := range p.Gets {
		if g.Gate == (snmp.WalkGate{}) || len(g.OIDs) > 16 {
			t.Errorf("vendor Get %v is ungated or needs more than one request", g.OIDs)
		}
	}
	seen := map[string]bool{}
	for _, oid := range p.Scalars {
		if seen[oid] {
			t.Errorf("scalar %s asked twice", oid)
		}
		seen[oid] = true
		if _, err := snmp.NormalizeOID(oid); err != nil {
			t.Error(err)
		}
	}
	for _, w := range p.Walks {
		if w.Max <= 0 || w.Max > 128 {
			t.Errorf("walk %s is not capped (max %d)", w.Root, w.Max)
		}
		if w.Only != "" && !seen[w.Only] {
			t.Errorf("walk %s is gated on %s, which the plan never asks for", w.Root, w.Only)
		}
	}
	// The plan is a fresh value each time: callers may append to it.
	q := snmp.DefaultPlan()
	q.Scalars[0] = "1.2.3"
	if snmp.DefaultPlan().Scalars[0] == "1.2.3" {
		t.Error("DefaultPlan shares its slices")
	}
}

// TestDefaultPlanGathers runs the plan against a recorded chassis switch
// whose chassis row is not at index 1 and checks what it reads and skips.
func TestDefaultPlanGathers(t *testing.T) {
	vars := []snmp.Var{
		descr("Cisco IOS Software, C3750 Software (C3750-IPSERVICESK9-M), Version 12.2(55)SE"),
		sysOID("1.3.6.1.4.1.9.1.516"), services(2),
		gauge(snmp.OIDDot1dBaseNumPorts, 48),
		num(snmp.OIDEntPhysicalClass+".1001", 3),
		num(snmp.OIDEntPhysicalClass+".1002", 10),
		str(snmp.OIDEntPhysicalModelName+".1001", "WS-C3750G-48TS-S"),
		str(snmp.OIDEntPhysicalSerialNum+".1001", "FOC0000X0YZ"),
		str(snmp.OIDEntPhysicalDescr+".1001", "Cisco Catalyst 3750 48-port switch"),
		// A vendor subtree the plan must neither walk nor get for Cisco.
		str("1.3.6.1.4.1.318.1.1.1.1.1.1.0", "Smart-UPS"),
	}
	vars = append(vars, ifTypes(1, 48, 6)...)
	rec := snmp.NewRecording(vars)
	ev, err := snmp.Gather(context.Background(), rec, snmp.DefaultPlan())
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Text(snmp.OIDEntPhysicalModelName + ".1001"); got != "WS-C3750G-48TS-S" {
		t.Errorf("chassis row not fetched: model %q", got)
	}
	if ev.Has("1.3.6.1.4.1.318.1.1.1.1.1.1.0") {
		t.Error("APC identity asked of a Cisco device")
	}
	if ev.Requests > 12 {
		t.Errorf("%d requests for one switch", ev.Requests)
	}
	c, _ := typing.New(typing.Options{})
	res := c.Classify(typing.Input{Evidence: ev})
	if res.Category != typing.Switch || res.Model != "WS-C3750G-48TS-S" || res.Serial != "FOC0000X0YZ" {
		t.Errorf("got %+v", res)
	}
}

// TestDefaultPlanVendorProbe checks the gated vendor walk: an APC card's
// PowerNet branch is read, and tells a cooling unit from a UPS.
func TestDefaultPlanVendorProbe(t *testing.T) {
	rec := snmp.NewRecording([]snmp.Var{
		descr("APC Web/SNMP Management Card"),
		sysOID("1.3.6.1.4.1.318.1.3.14.6"),
		num("1.3.6.1.4.1.318.1.1.13.3.2.2.2.1.0", 220),
	})
	ev, err := snmp.Gather(context.Background(), rec, snmp.DefaultPlan())
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Has("1.3.6.1.4.1.318.1.1.13") {
		t.Fatal("APC probe did not run")
	}
	c, _ := typing.New(typing.Options{})
	if res := c.Classify(typing.Input{Evidence: ev}); res.Category != typing.Environment {
		t.Errorf("APC cooling unit typed %s: %v", res.Category, res.Reasons)
	}
}

// TestDefaultPlanNetSNMPAppliance checks the vendor Get asked of stock
// net-snmp agents: a Synology NAS names itself there.
func TestDefaultPlanNetSNMPAppliance(t *testing.T) {
	rec := snmp.NewRecording([]snmp.Var{
		descr("Linux nas 4.4.302+ #69057 SMP x86_64"),
		sysOID("1.3.6.1.4.1.8072.3.2.10"),
		str("1.3.6.1.4.1.6574.1.5.1.0", "DS923+"),
	})
	ev, err := snmp.Gather(context.Background(), rec, snmp.DefaultPlan())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := typing.New(typing.Options{})
	if res := c.Classify(typing.Input{Evidence: ev}); res.Category != typing.Storage || res.Model != "DS923+" {
		t.Errorf("got %+v", res)
	}
}
