package inventory

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanscout/lanscout/scan"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openTest opens a store in a fresh directory with a fake clock.
func openTest(t testing.TB) (*SQLite, *clock, string) {
	t.Helper()
	dir := t.TempDir()
	clk := newClock()
	s, err := OpenSQLite(context.Background(), dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clk, dir
}

func mustSubnet(t testing.TB, s Store, cidr string) Subnet {
	t.Helper()
	sn, err := s.CreateSubnet(context.Background(), Subnet{CIDR: cidr})
	if err != nil {
		t.Fatalf("create subnet %s: %v", cidr, err)
	}
	return sn
}

func dev(ip, mac, name string, cat string) scan.Device {
	d := scan.Device{IP: ip, MAC: mac, Category: cat, Hostnames: []string{}, FoundBy: []string{"arp"}, Reasons: []string{}}
	if name != "" {
		d.Hostnames = []string{name + ".example.org."}
	}
	if cat == "" {
		d.Category = "unknown"
	}
	return d
}

func withSNMP(d scan.Device, sysName, serial string) scan.Device {
	d.SNMP = &scan.SNMPInfo{Version: "2c", Credential: "public", SysName: sysName, SysDescr: "test device"}
	d.Serial = serial
	return d
}

// scanOnce records ds as one complete scan by the server.
func scanOnce(t testing.TB, s Store, clk *clock, subnetID int64, ds ...scan.Device) ScanRun {
	t.Helper()
	ctx := context.Background()
	run, err := s.BeginScan(ctx, subnetID, Scanner{Kind: ScannerServer, ID: "server"}, "arp")
	if err != nil {
		t.Fatalf("begin scan: %v", err)
	}
	clk.Advance(time.Second)
	for _, d := range ds {
		if _, err := s.RecordDevice(ctx, run.ID, d); err != nil {
			t.Fatalf("record %s: %v", d.IP, err)
		}
	}
	clk.Advance(time.Second)
	end, err := s.FinishScan(ctx, run.ID, ScanEnd{Stats: ScanStats{Addresses: 254, Responders: len(ds)}})
	if err != nil {
		t.Fatalf("finish scan: %v", err)
	}
	clk.Advance(time.Hour)
	return end
}

func deviceByIP(t testing.TB, s Store, ip string) Device {
	t.Helper()
	page, err := s.Devices(context.Background(), DeviceQuery{Search: ip, Limit: 1000})
	if err != nil {
		t.Fatalf("find %s: %v", ip, err)
	}
	for _, d := range page.Devices {
		if d.IP == ip {
			return d
		}
	}
	t.Fatalf("no device at %s", ip)
	return Device{}
}

func eventKinds(t testing.TB, s Store, q EventQuery) []EventKind {
	t.Helper()
	evs, err := s.Events(context.Background(), q)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	var out []EventKind
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		out = append(out, evs[i].Kind)
	}
	return out
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestQueryPlans keeps the hot queries of ingest on indexes: a scan of the
// devices table per recorded device is what makes ingest quadratic.
func TestQueryPlans(t *testing.T) {
	s, _, _ := openTest(t)
	cases := []struct{ name, q string }{
		{"device by MAC", `SELECT id FROM devices WHERE subnet_id = 1 AND mac = 'x' AND mac <> ''`},
		{"device by address", `SELECT id FROM devices WHERE subnet_id = 1 AND ip_key = 'x' ORDER BY (mac = '') DESC, last_seen DESC LIMIT 1`},
		{"agent by NIC MAC", `SELECT agent_id FROM agent_nics WHERE mac = 'x'`},
		{"agent by host", `SELECT id FROM agents WHERE host_key = 'x'`},
		{"agent by serial", `SELECT id FROM agents WHERE serial = 'x'`},
		{"devices of an agent", `SELECT d.id FROM devices d WHERE d.agent_id = 1 OR d.mac IN ('a','b') OR d.host_key = 'h' OR d.serial = 's'`},
		{"subnet of an address", `SELECT id FROM subnets WHERE cidr IN ('10.0.0.0/16', '10.0.0.0/24') LIMIT 1`},
	}
	for _, tc := range cases {
		rows, err := s.r.Query(`EXPLAIN QUERY PLAN ` + tc.q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") {
				t.Errorf("%s: full scan in plan %q", tc.name, plan)
			}
		}
	}
}
