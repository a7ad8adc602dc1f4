package inventory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

func TestIngestEvents(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn, err := s.CreateSubnet(ctx, Subnet{CIDR: "10.0.0.0/24", GoneAfter: 2})
	if err != nil {
		t.Fatal(err)
	}

	printer := withSNMP(dev("10.0.0.20", "00:1B:A9:12:34:56", "printer-2", "printer"), "BRN001BA9", "E123456")
	pc := dev("10.0.0.30", "00-11-22-33-44-55", "pc-30", "")
	run := scanOnce(t, s, clk, sn.ID, printer, pc)
	if run.Status != ScanDone || run.Stats.Recorded != 2 || run.Stats.NewDevices != 2 || run.Stats.Addresses != 254 {
		t.Errorf("first run = %+v", run)
	}
	if got := eventKinds(t, s, EventQuery{}); !slices.Equal(got, []EventKind{EventNewDevice, EventNewDevice}) {
		t.Errorf("events after first scan = %v", got)
	}
	p := deviceByIP(t, s, "10.0.0.20")
	if p.MAC != "00:1b:a9:12:34:56" || p.Category != typing.Printer || p.Name != "BRN001BA9" || p.SNMP == nil ||
		p.SNMP.SysDescr != "test device" || p.Status != NonInventoried || p.State != StateUp {
		t.Errorf("printer = %+v", p)
	}

	cases := []struct {
		name   string
		scan   []scan.Device
		device string      // IP to look at afterwards
		want   []EventKind // events this scan adds, in order
		check  func(t *testing.T, d Device)
	}{
		{
			name:   "same devices again: nothing new",
			scan:   []scan.Device{printer, pc},
			device: "10.0.0.30",
		},
		{
			name:   "IP changed: same MAC, new address",
			scan:   []scan.Device{printer, dev("10.0.0.31", "00:11:22:33:44:55", "pc-30", "")},
			device: "10.0.0.31",
			want:   []EventKind{EventIPChanged},
			check: func(t *testing.T, d Device) {
				if d.ID != p.ID+1 {
					t.Errorf("the PC became device %d, want it kept as %d", d.ID, p.ID+1)
				}
			},
		},
		{
			name:   "SNMP timed out: the printer stays a printer",
			scan:   []scan.Device{dev("10.0.0.20", "00:1b:a9:12:34:56", "", ""), dev("10.0.0.31", "00:11:22:33:44:55", "pc-30", "")},
			device: "10.0.0.20",
			check: func(t *testing.T, d Device) {
				if d.Category != typing.Printer || d.Name != "BRN001BA9" || d.Serial != "E123456" {
					t.Errorf("printer forgot what it was: %+v", d)
				}
			},
		},
		{
			name:   "category changed",
			scan:   []scan.Device{printer, withSNMP(dev("10.0.0.31", "00:11:22:33:44:55", "pc-30", "workstation"), "pc-30", "")},
			device: "10.0.0.31",
			want:   []EventKind{EventCategoryChanged},
			check: func(t *testing.T, d Device) {
				if d.Category != typing.Workstation {
					t.Errorf("category = %s", d.Category)
				}
			},
		},
		{
			name:   "MAC changed: same address, same name, new NIC",
			scan:   []scan.Device{printer, withSNMP(dev("10.0.0.31", "aa:bb:cc:00:00:01", "pc-30", "workstation"), "pc-30", "")},
			device: "10.0.0.31",
			want:   []EventKind{EventMACChanged},
			check: func(t *testing.T, d Device) {
				if d.MAC != "aa:bb:cc:00:00:01" || d.ID != p.ID+1 {
					t.Errorf("device = %+v", d)
				}
			},
		},
		{
			name:   "another machine took the address: a new device",
			scan:   []scan.Device{printer, dev("10.0.0.31", "aa:bb:cc:00:00:02", "laptop-7", "")},
			device: "10.0.0.31",
			want:   []EventKind{EventNewDevice},
			check: func(t *testing.T, _ Device) {
				page, err := s.Devices(ctx, DeviceQuery{Search: "10.0.0.31", Sort: SortLastSeen, Desc: true})
				if err != nil || page.Total != 2 {
					t.Fatalf("devices at 10.0.0.31 = %+v, %v; want the laptop and the PC that left", page, err)
				}
				if d := page.Devices[0]; d.Name != "laptop-7.example.org" || d.MAC != "aa:bb:cc:00:00:02" {
					t.Errorf("newest device at 10.0.0.31 = %+v", d)
				}
			},
		},
		{
			name: "second miss: the PC is gone",
			scan: []scan.Device{printer, dev("10.0.0.31", "aa:bb:cc:00:00:02", "laptop-7", "")},
			want: []EventKind{EventGone},
		},
		{
			name: "the PC is back",
			scan: []scan.Device{printer, withSNMP(dev("10.0.0.31", "aa:bb:cc:00:00:01", "pc-30", "workstation"), "pc-30", "")},
			want: []EventKind{EventReturned},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, err := s.Events(ctx, EventQuery{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			after := int64(0)
			if len(before) > 0 {
				after = before[0].ID
			}
			scanOnce(t, s, clk, sn.ID, tc.scan...)
			evs, err := s.Events(ctx, EventQuery{AfterID: after, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []EventKind
			for _, e := range evs {
				got = append(got, e.Kind)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events = %v, want %v (%+v)", got, tc.want, evs)
			}
			if tc.check != nil {
				tc.check(t, deviceByIP(t, s, tc.device))
			}
		})
	}

	// The gone event names the device and the scan that declared it.
	gone, err := s.Events(ctx, EventQuery{Kinds: []EventKind{EventGone}})
	if err != nil || len(gone) != 1 || gone[0].ScanID == 0 || gone[0].DeviceID == 0 {
		t.Errorf("gone events = %+v, %v", gone, err)
	}
}

func TestIncompleteScanMissesNobody(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn, err := s.CreateSubnet(ctx, Subnet{CIDR: "10.0.0.0/24", GoneAfter: 1})
	if err != nil {
		t.Fatal(err)
	}
	scanOnce(t, s, clk, sn.ID, dev("10.0.0.5", "02:00:00:00:00:05", "", ""), dev("10.0.0.6", "02:00:00:00:00:06", "", ""))

	for _, end := range []ScanEnd{{Incomplete: true}, {Error: "interface went down"}} {
		run, err := s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerAgent, ID: "agent-1"}, "arp")
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		if _, err := s.RecordDevice(ctx, run.ID, dev("10.0.0.5", "02:00:00:00:00:05", "", "")); err != nil {
			t.Fatal(err)
		}
		done, err := s.FinishScan(ctx, run.ID, end)
		if err != nil {
			t.Fatal(err)
		}
		if done.Stats.Gone != 0 {
			t.Errorf("%+v declared %d devices gone", end, done.Stats.Gone)
		}
		if _, err := s.RecordDevice(ctx, run.ID, dev("10.0.0.7", "", "", "")); !errors.Is(err, ErrInvalid) {
			t.Errorf("recording into a finished scan: err = %v, want ErrInvalid", err)
		}
	}
	if d := deviceByIP(t, s, "10.0.0.6"); d.State != StateUp || d.MissedScans != 0 {
		t.Errorf("device missed by incomplete scans = %+v", d)
	}
	run := scanOnce(t, s, clk, sn.ID, dev("10.0.0.5", "02:00:00:00:00:05", "", ""))
	if run.Stats.Gone != 1 || deviceByIP(t, s, "10.0.0.6").State != StateGone {
		t.Errorf("a complete scan must count the miss: %+v", run)
	}
}

func TestIdentityAndSightings(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.2.0.0/24")

	// Seen across a router first (no MAC), then by an agent on the segment.
	run, err := s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerServer, ID: "server"}, "icmp")
	if err != nil {
		t.Fatal(err)
	}
	routed, err := s.RecordDevice(ctx, run.ID, dev("10.2.0.9", "", "nas", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordDevice(ctx, run.ID, dev("10.3.0.9", "", "", "")); !errors.Is(err, ErrInvalid) {
		t.Errorf("address outside the subnet: err = %v, want ErrInvalid", err)
	}
	if _, err := s.RecordDevice(ctx, run.ID, dev("not-an-ip", "", "", "")); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad address: err = %v, want ErrInvalid", err)
	}
	if _, err := s.FinishScan(ctx, run.ID, ScanEnd{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	run2, err := s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerAgent, ID: "agent-7"}, "arp")
	if err != nil {
		t.Fatal(err)
	}
	learnt, err := s.RecordDevice(ctx, run2.ID, dev("10.2.0.9", "00:11:32:aa:bb:cc", "nas", ""))
	if err != nil {
		t.Fatal(err)
	}
	if learnt != routed {
		t.Errorf("MAC-less device %d and its MAC sighting %d should be one device", routed, learnt)
	}
	// The server still sees it without a MAC: same device again.
	if id, err := s.RecordDevice(ctx, run2.ID, dev("10.2.0.9", "", "", "")); err != nil || id != routed {
		t.Errorf("MAC-less sighting of a known address = %d, %v; want %d", id, err, routed)
	}
	det, err := s.Device(ctx, routed)
	if err != nil {
		t.Fatal(err)
	}
	if det.MAC != "00:11:32:aa:bb:cc" {
		t.Errorf("MAC = %q", det.MAC)
	}
	type key struct {
		kind    SightingKind
		value   string
		scanner string
	}
	got := map[key]int{}
	for _, sg := range det.Sightings {
		got[key{sg.Kind, sg.Value, sg.Scanner.ID}] = sg.Count
	}
	want := map[key]int{
		{SightIP, "10.2.0.9", "server"}:            1,
		{SightIP, "10.2.0.9", "agent-7"}:           2,
		{SightMAC, "00:11:32:aa:bb:cc", "agent-7"}: 1,
		{SightName, "nas.example.org", "server"}:   1,
		{SightName, "nas.example.org", "agent-7"}:  1,
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("sighting %v count = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if len(det.Events) == 0 || det.Events[len(det.Events)-1].Kind != EventNewDevice {
		t.Errorf("device history = %+v", det.Events)
	}
}

func TestEvidenceRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.4.0.0/24")
	d := withSNMP(dev("10.4.0.1", "00:00:0c:01:02:03", "", "switch"), "core-1", "FOC1234")
	d.Evidence = snmp.NewEvidence()
	d.Evidence.Add(snmp.Var{Name: "1.3.6.1.2.1.1.2.0", Kind: snmp.ObjectID, OID: "1.3.6.1.4.1.9.1.516"})
	d.Evidence.Add(snmp.Var{Name: "1.3.6.1.2.1.1.5.0", Kind: snmp.OctetString, Bytes: []byte("core-1")})
	scanOnce(t, s, clk, sn.ID, d)
	id := deviceByIP(t, s, "10.4.0.1").ID
	ev, err := s.DeviceEvidence(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ev == nil || ev.ObjectID("1.3.6.1.2.1.1.2.0") != "1.3.6.1.4.1.9.1.516" || ev.Text("1.3.6.1.2.1.1.5.0") != "core-1" {
		t.Errorf("evidence = %+v", ev)
	}
	// A later answer without evidence keeps the stored evidence.
	scanOnce(t, s, clk, sn.ID, withSNMP(dev("10.4.0.1", "00:00:0c:01:02:03", "", "switch"), "core-1", "FOC1234"))
	if ev, err := s.DeviceEvidence(ctx, id); err != nil || ev == nil {
		t.Errorf("evidence after a sparse answer = %v, %v", ev, err)
	}
}

func TestBeginScanSupersedesOwnRun(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t)
	sn := mustSubnet(t, s, "10.7.0.0/24")
	a := Scanner{Kind: ScannerAgent, ID: "a"}
	first, err := s.BeginScan(ctx, sn.ID, a, "arp")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerAgent, ID: "b"}, "arp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginScan(ctx, sn.ID, a, "arp"); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.ScanRun(ctx, first.ID); r.Status != ScanInterrupted {
		t.Errorf("the scanner's abandoned run is %s, want interrupted", r.Status)
	}
	if r, _ := s.ScanRun(ctx, other.ID); r.Status != ScanRunning {
		t.Errorf("another scanner's run is %s, want running", r.Status)
	}
}

func TestRecordReport(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t)
	sn := mustSubnet(t, s, "10.5.0.0/24")
	rep := &scan.Report{Method: "arp", Devices: []scan.Device{dev("10.5.0.1", "02:00:00:00:05:01", "gw", "router"),
		dev("10.5.0.2", "02:00:00:00:05:02", "", "")}, Warnings: []string{"no SNMP credential answered"},
		Stats: scan.ReportStats{Addresses: 254, Responders: 2, SweepPasses: 3}}
	run, err := RecordReport(ctx, s, sn.ID, Scanner{Kind: ScannerAgent, ID: "a1"}, rep)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != ScanDone || run.Stats.Recorded != 2 || run.Stats.SweepPasses != 3 || len(run.Warnings) != 1 {
		t.Errorf("run = %+v", run)
	}
	// An agent that swept another segment too: the strays are left out
	// and said so.
	rep.Devices = append(rep.Devices, dev("10.6.0.1", "02:00:00:00:06:01", "", ""))
	run, err = RecordReport(ctx, s, sn.ID, Scanner{Kind: ScannerAgent, ID: "a1"}, rep)
	if err != nil || run.Stats.Recorded != 2 || len(run.Warnings) != 2 || !strings.Contains(run.Warnings[1], "1 devices outside 10.5.0.0/24") {
		t.Errorf("report with a stray device: %+v, %v", run, err)
	}
	rep.Incomplete = true
	if run, err = RecordReport(ctx, s, sn.ID, Scanner{Kind: ScannerAgent, ID: "a1"}, rep); err != nil || run.Status != ScanIncomplete {
		t.Errorf("incomplete report: %+v, %v", run, err)
	}
}

func TestProxyARPDoesNotHop(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.8.0.0/24")
	const router = "00:00:5e:00:01:01"
	scanOnce(t, s, clk, sn.ID, dev("10.8.0.1", router, "gw", "router"), dev("10.8.0.50", router, "", ""), dev("10.8.0.51", router, "", ""))
	scanOnce(t, s, clk, sn.ID, dev("10.8.0.51", router, "", ""), dev("10.8.0.50", router, "", ""), dev("10.8.0.1", router, "gw", "router"))
	page, err := s.Devices(ctx, DeviceQuery{SubnetID: sn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 {
		t.Errorf("%d devices, want one per address: %+v", page.Total, page.Devices)
	}
	if got := eventKinds(t, s, EventQuery{Kinds: []EventKind{EventIPChanged, EventMACChanged}}); len(got) != 0 {
		t.Errorf("a proxy-ARP MAC made devices hop: %v", got)
	}
	if d := deviceByIP(t, s, "10.8.0.1"); d.MAC != router {
		t.Errorf("the router's own address lost its MAC: %+v", d)
	}
	det, err := s.Device(ctx, deviceByIP(t, s, "10.8.0.50").ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, sg := range det.Sightings {
		found = found || (sg.Kind == SightMAC && sg.Value == router && sg.Count == 2)
	}
	if !found {
		t.Errorf("alias address keeps no MAC sighting: %+v", det.Sightings)
	}
}

func TestMACFlagsKept(t *testing.T) {
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.9.0.0/24")
	phone := dev("10.9.0.40", "da:a1:19:00:00:40", "", "")
	phone.MACFlags = []string{"locally-administered", "randomized"}
	scanOnce(t, s, clk, sn.ID, phone)
	// Seen across a router next time: no MAC, no flags; what was learnt stays.
	scanOnce(t, s, clk, sn.ID, dev("10.9.0.40", "", "", ""))
	if d := deviceByIP(t, s, "10.9.0.40"); len(d.MACFlags) != 2 || d.MACFlags[1] != "randomized" || d.MAC != "da:a1:19:00:00:40" {
		t.Errorf("device = %+v", d)
	}
}
