package export

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/export/exporttest"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/typing"
)

func TestHostNames(t *testing.T) {
	want := map[int64]string{1: "001ba9000001-10.0.0.0-24", 2: "001ba9000002-10.0.0.0-24",
		3: "00c0b7000003-10.0.0.0-24", 4: "00c0b7000004-10.0.0.0-24", 5: "fd00--5"}
	if diff := cmp.Diff(want, HostNames(hostileHosts())); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	// The order devices come in does not change anyone's name.
	rev := hostileHosts()
	slices.Reverse(rev)
	if diff := cmp.Diff(want, HostNames(rev)); diff != "" {
		t.Errorf("reversed order renames (-want +got):\n%s", diff)
	}
	// One MAC in two subnets (an L3 switch's VLAN interfaces) is two
	// devices of the store and two hosts.
	hosts := hostileHosts()
	svi := hosts[0]
	svi.ID, svi.SubnetID, svi.IP = 9, 3, "10.0.3.1"
	svi.Subnet = inventory.Subnet{ID: 3, CIDR: "10.0.3.0/24"}
	if n := HostName(svi); n != "001ba9000001-10.0.3.0-24" {
		t.Errorf("the same MAC in another subnet: %q", n)
	}
	// Two devices of one identity (the store does not forbid two
	// MAC-less devices at one address): the older keeps the name, in
	// whatever order they come.
	twin := hosts[4]
	twin.ID = 8
	for _, list := range [][]Host{{twin, hosts[4]}, {hosts[4], twin}} {
		got := HostNames(list)
		if got[5] != "fd00--5" || got[8] != "fd00--5_8" {
			t.Errorf("same identity: %v", got)
		}
	}
}

// fuzzHost builds a device as the store holds it: a lower-case MAC of six
// bytes or none (mac 0), an address of 4 or 16 bytes in its subnet.
func fuzzHost(id int64, mac uint64, addr []byte, bits uint8) (Host, bool) {
	a, ok := netip.AddrFromSlice(addr)
	if !ok {
		return Host{}, false
	}
	a = a.Unmap()
	p, err := a.Prefix(int(bits) % (a.BitLen() + 1))
	if err != nil {
		return Host{}, false
	}
	h := Host{Device: inventory.Device{ID: id, SubnetID: id, IP: a.String()},
		Subnet: inventory.Subnet{ID: id, CIDR: p.String()}}
	if mac != 0 {
		m := make(net.HardwareAddr, 8)
		binary.BigEndian.PutUint64(m, mac)
		h.MAC = m[2:].String()
	}
	return h, true
}

// FuzzHostName checks that names are valid object names for both tools
// and that devices the store tells apart never share one.
func FuzzHostName(f *testing.F) {
	v4 := func(s string) []byte { a := netip.MustParseAddr(s).As4(); return a[:] }
	v6 := func(s string) []byte { a := netip.MustParseAddr(s).As16(); return a[:] }
	f.Add(uint64(0x001ba9000001), v4("10.0.0.1"), uint8(24), uint64(0), v4("10.0.0.1"), uint8(24))
	f.Add(uint64(0), v6("fd00::5"), uint8(64), uint64(0), v6("fd00::5:0"), uint8(64))
	f.Add(uint64(0x001ba9000001), v4("10.0.0.1"), uint8(24), uint64(0x001ba9000001), v4("10.0.1.1"), uint8(24))
	f.Add(uint64(0x001ba9000001), v6("fd00::1"), uint8(64), uint64(0x001ba9000001), v6("fd00:0:0:1::1"), uint8(64))
	f.Fuzz(func(t *testing.T, mac1 uint64, addr1 []byte, bits1 uint8, mac2 uint64, addr2 []byte, bits2 uint8) {
		a, ok1 := fuzzHost(1, mac1&0xffffffffffff, addr1, bits1)
		b, ok2 := fuzzHost(2, mac2&0xffffffffffff, addr2, bits2)
		if !ok1 || !ok2 {
			t.Skip()
		}
		// Subnets never overlap: overlapping ones are the same subnet.
		pa, pb := netip.MustParsePrefix(a.Subnet.CIDR), netip.MustParsePrefix(b.Subnet.CIDR)
		if pa.Overlaps(pb) {
			if pa != pb {
				t.Skip()
			}
			b.SubnetID, b.Subnet = a.SubnetID, a.Subnet
		}
		sameIdentity := a.SubnetID == b.SubnetID && a.MAC == b.MAC && (a.MAC != "" || a.IP == b.IP)
		na, nb := HostName(a), HostName(b)
		for _, n := range []string{na, nb} {
			if !objectName.MatchString(n) || n == "" || len(n) > maxName || strings.Contains(n, "_") {
				t.Errorf("name %q", n)
			}
		}
		if (na == nb) != sameIdentity {
			t.Errorf("%+v → %q, %+v → %q: same identity %v", a.Device, na, b.Device, nb, sameIdentity)
		}
	})
}

// namesStore is a real store with a clock that moves a second a call,
// so each scan starts after everything the last one saw.
func namesStore(t *testing.T) *inventory.SQLite {
	t.Helper()
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	store, err := inventory.OpenSQLite(context.Background(), t.TempDir(), inventory.Options{Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func scanInto(t *testing.T, store *inventory.SQLite, subnetID int64, ds ...scan.Device) {
	t.Helper()
	ctx := context.Background()
	run, err := store.BeginScan(ctx, subnetID, inventory.Scanner{Kind: inventory.ScannerServer, ID: "server"}, "snmp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.RecordDevices(ctx, run.ID, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := store.FinishScan(ctx, run.ID, inventory.ScanEnd{}); err != nil {
		t.Fatal(err)
	}
}

var (
	icingaHost   = regexp.MustCompile(`(?m)^object Host "([^"]*)" \{$`)
	icingaID     = regexp.MustCompile(`(?m)^  vars\.lanscout_id = "(\d+)"$`)
	nagiosHost   = regexp.MustCompile(`(?m)^  host_name +(\S+)$`)
	nagiosID     = regexp.MustCompile(`(?m)^  _LANSCOUT_ID +(\d+)$`)
	nagiosAnchor = "\ndefine host {\n"
)

// exported writes the store's hosts as Icinga 2 and Nagios files and
// reads back each device's object name from both, which must agree.
func exported(t *testing.T, store *inventory.SQLite, f Filter) (names map[int64]string, icinga, nagios []byte) {
	t.Helper()
	hosts, err := Collect(context.Background(), store, f)
	if err != nil {
		t.Fatal(err)
	}
	var ib, nb bytes.Buffer
	if err := WriteIcinga2(&ib, hosts, Templates{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteNagios(&nb, hosts, Nagios{}); err != nil {
		t.Fatal(err)
	}
	read := func(text string, sep string, name, id *regexp.Regexp) map[int64]string {
		out := map[int64]string{}
		for _, block := range strings.Split(text, sep)[1:] {
			n, i := name.FindStringSubmatch(block), id.FindStringSubmatch(block)
			if n == nil || i == nil {
				t.Fatalf("no name or id in %q", block)
			}
			devID, _ := strconv.ParseInt(i[1], 10, 64)
			out[devID] = n[1]
		}
		return out
	}
	names = read(ib.String(), "\nobject Host ", regexp.MustCompile(`^"([^"]*)" \{`), icingaID)
	if len(icingaHost.FindAllString(ib.String(), -1)) != len(hosts) {
		t.Fatalf("icinga2: not %d hosts:\n%s", len(hosts), ib.String())
	}
	if n := read(nb.String(), nagiosAnchor, nagiosHost, nagiosID); !cmp.Equal(names, n) {
		t.Fatalf("icinga2 and nagios name hosts differently:\n%s", cmp.Diff(names, n))
	}
	return names, ib.Bytes(), nb.Bytes()
}

// only keeps the names of some devices.
func only(names map[int64]string, ids ...int64) map[int64]string {
	out := map[int64]string{}
	for _, id := range ids {
		if n, ok := names[id]; ok {
			out[id] = n
		}
	}
	return out
}

// changedLines returns the lines that differ between two exports of the
// same hosts, which must have as many lines.
func changedLines(t *testing.T, before, after []byte) []string {
	t.Helper()
	b, a := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
	if len(a) != len(b) {
		t.Fatalf("%d lines, then %d:\n%s\n---\n%s", len(b), len(a), before, after)
	}
	var out []string
	for i := range a {
		if a[i] != b[i] {
			out = append(out, strings.Fields(a[i])[0])
		}
	}
	return out
}

// TestHostNamesStayAcrossRuns runs an inventory through what renamed
// hosts under the old name scheme: a second device of the same name, its
// twin going gone, filtered exports, and renames. No host's object name
// may move.
func TestHostNamesStayAcrossRuns(t *testing.T) {
	ctx := context.Background()
	store := namesStore(t)
	office, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.1.0.0/24", Site: "office", GoneAfter: 1})
	if err != nil {
		t.Fatal(err)
	}
	lab, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.2.0.0/24", Site: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	snmpName := func(n string) *scan.SNMPInfo { return &scan.SNMPInfo{Version: "2c", Credential: "public", SysName: n} }
	core := scan.Device{IP: "10.1.0.1", MAC: "02:00:00:00:00:01", Category: "switch", SNMP: snmpName("core")}
	ups1 := scan.Device{IP: "10.1.0.3", MAC: "02:00:00:00:00:03", Category: "power", SNMP: snmpName("ups")}
	ups2 := scan.Device{IP: "10.1.0.4", MAC: "02:00:00:00:00:04", Category: "power", SNMP: snmpName("ups")}
	// Across a router: no MAC, a DNS name.
	printer := scan.Device{IP: "10.1.0.9", Hostnames: []string{"prn-hall.example"}, Category: "printer"}
	// The core switch's interface in the lab VLAN: same MAC, same name.
	coreLab := scan.Device{IP: "10.2.0.1", MAC: "02:00:00:00:00:01", Category: "switch", SNMP: snmpName("core")}

	scanInto(t, store, office.ID, core, ups1, printer)
	scanInto(t, store, lab.ID, coreLab)
	first, _, _ := exported(t, store, DefaultFilter("icinga2"))
	if len(first) != 4 {
		t.Fatalf("%d hosts, want 4: %v", len(first), first)
	}
	ids := map[string]int64{}
	for id, n := range first {
		ids[n] = id
	}
	for _, n := range []string{"020000000001-10.1.0.0-24", "020000000003-10.1.0.0-24", "10.1.0.9", "020000000001-10.2.0.0-24"} {
		if _, ok := ids[n]; !ok {
			t.Errorf("no host %q in %v", n, first)
		}
	}
	coreID, ups1ID, printerID, coreLabID := ids["020000000001-10.1.0.0-24"], ids["020000000003-10.1.0.0-24"], ids["10.1.0.9"], ids["020000000001-10.2.0.0-24"]

	// A second "ups" appears: nobody is renamed.
	scanInto(t, store, office.ID, core, ups1, ups2, printer)
	second, _, _ := exported(t, store, DefaultFilter("icinga2"))
	if len(second) != 5 {
		t.Fatalf("%d hosts, want 5: %v", len(second), second)
	}
	if diff := cmp.Diff(first, only(second, coreID, ups1ID, printerID, coreLabID)); diff != "" {
		t.Errorf("a new device of the same name renamed hosts (-before +after):\n%s", diff)
	}

	// Filtered exports name every device as the full one does.
	for _, f := range []Filter{
		{State: inventory.StateUp, Categories: []typing.Category{typing.Power}},
		{State: inventory.StateUp, Categories: []typing.Category{typing.Power, typing.Printer}},
		{State: inventory.StateUp, Subnets: []string{"10.2.0.0/24"}},
		{State: inventory.StateUp, Sites: []string{"office"}},
	} {
		got, _, _ := exported(t, store, f)
		if len(got) == 0 {
			t.Errorf("filter %+v selects nothing", f)
		}
		for id, n := range got {
			if second[id] != n {
				t.Errorf("filter %+v names device %d %q, the full export %q", f, id, n, second[id])
			}
		}
	}

	// The first ups goes gone: its twin keeps its name.
	scanInto(t, store, office.ID, core, ups2, printer)
	third, icingaBefore, nagiosBefore := exported(t, store, DefaultFilter("icinga2"))
	if _, ok := third[ups1ID]; ok || len(third) != 4 {
		t.Fatalf("the gone ups is still exported: %v", third)
	}
	for id, n := range third {
		if second[id] != n {
			t.Errorf("after a twin went gone, device %d is %q, was %q", id, n, second[id])
		}
	}

	// Renames by SNMP, by DNS and by an admin change display names and
	// nothing else.
	core.SNMP = snmpName("core-renamed")
	printer.Hostnames = []string{"printer-2nd-floor.example"}
	scanInto(t, store, office.ID, core, ups2, printer)
	if err := store.Identify(ctx, coreLabID, inventory.Identification{Name: "Core (lab VLAN)", By: "admin"}); err != nil {
		t.Fatal(err)
	}
	fourth, icingaAfter, nagiosAfter := exported(t, store, DefaultFilter("icinga2"))
	if diff := cmp.Diff(third, fourth); diff != "" {
		t.Errorf("renames renamed hosts (-before +after):\n%s", diff)
	}
	if got, want := changedLines(t, icingaBefore, icingaAfter), []string{
		"display_name", "vars.lanscout_sys_name", // core
		"display_name", // printer
		"display_name", // core's lab interface
	}; !cmp.Equal(got, want) {
		t.Errorf("icinga2 lines changed by renames: %v, want %v\n%s", got, want, icingaAfter)
	}
	if got, want := changedLines(t, nagiosBefore, nagiosAfter), []string{
		"alias", "display_name", "_LANSCOUT_SYS_NAME",
		"alias", "display_name",
		"alias", "display_name",
	}; !cmp.Equal(got, want) {
		t.Errorf("nagios lines changed by renames: %v, want %v\n%s", got, want, nagiosAfter)
	}
	for _, want := range []string{`display_name = "core-renamed"`, `display_name = "printer-2nd-floor.example"`, `display_name = "Core (lab VLAN)"`} {
		if !bytes.Contains(icingaAfter, []byte(want)) {
			t.Errorf("icinga2 export lacks %s", want)
		}
	}

	// And the tools take the result.
	if n := exporttest.Icinga2(t, icingaAfter, templatesOf(Templates{}.Template)); n != len(fourth) {
		t.Errorf("icinga2 counted %d hosts, want %d", n, len(fourth))
	}
	if n, _ := exporttest.Nagios(t, nagiosAfter, templatesOf(Nagios{}.Template)); n != len(fourth) {
		t.Errorf("nagios counted %d hosts, want %d", n, len(fourth))
	}
}

// templatesOf names every category's template, more than an export
// needs, which both tools allow.
func templatesOf(name func(typing.Category) string) []string {
	out := make([]string, len(typing.Categories))
	for i, c := range typing.Categories {
		out[i] = name(c)
	}
	return out
}
