package discover

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// testLinks is a host with an Ethernet interface in two subnets, a
// point-to-point tunnel and loopback.
func testLinks() []link {
	up := net.FlagUp | net.FlagBroadcast | net.FlagRunning
	return []link{
		{Index: 1, Name: "lo", Flags: up | net.FlagLoopback, Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		{Index: 2, Name: "eth0", HW: net.HardwareAddr{0, 0x11, 0x22, 0x33, 0x44, 0x55}, Flags: up, Prefixes: []netip.Prefix{
			netip.MustParsePrefix("192.168.1.10/24"), netip.MustParsePrefix("10.10.0.1/16"), netip.MustParsePrefix("10.20.0.0/31"),
		}},
		{Index: 3, Name: "wg0", Flags: up | net.FlagPointToPoint, Prefixes: []netip.Prefix{netip.MustParsePrefix("172.16.9.1/24")}},
		{Index: 4, Name: "eth1", HW: net.HardwareAddr{0, 0x11, 0x22, 0x33, 0x44, 0x66}, Flags: net.FlagBroadcast, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.168.7.1/24")}},
	}
}

func mustPlan(t *testing.T, tokens []string, method Method, iface string) *plan {
	t.Helper()
	ts, err := ParseTargets(tokens)
	if err != nil {
		t.Fatal(err)
	}
	p, err := makePlan(mergeTargets(ts), testLinks(), method, iface)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func addrStrings(vs []uint32) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = addrOf(v).String()
	}
	return out
}

func TestPlanSkipsNetworkAndBroadcastOfAttachedSubnets(t *testing.T) {
	cases := []struct {
		name     string
		tokens   []string
		skipped  []string
		addrsLen int
	}{
		{"attached /24", []string{"192.168.1.0/24"}, []string{"192.168.1.0", "192.168.1.255"}, 254},
		{"wider target than the attached subnet", []string{"192.168.0.0/23"}, []string{"192.168.1.0", "192.168.1.255"}, 510},
		// A /24 inside the attached /16: its .0 and .255 are hosts.
		{"target inside a wider attached subnet", []string{"10.10.5.0/24"}, nil, 256},
		{"attached /16 edges", []string{"10.10.0.0-3", "10.10.255.254-10.10.255.255"}, []string{"10.10.0.0", "10.10.255.255"}, 4},
		{"routed keeps every address", []string{"10.99.0.0/24"}, nil, 256},
		{"attached /31 has no network address", []string{"10.20.0.0/31"}, nil, 2},
		{"down interface is not attached", []string{"192.168.7.0/24"}, nil, 256},
		{"loopback", []string{"127.0.0.0-2"}, []string{"127.0.0.0"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPlan(t, tc.tokens, MethodAuto, "")
			if got := addrStrings(p.skipped); !slices.Equal(got, tc.skipped) && (len(got) > 0 || len(tc.skipped) > 0) {
				t.Errorf("skipped %v, want %v", got, tc.skipped)
			}
			if len(p.addrs) != tc.addrsLen {
				t.Errorf("%d addresses swept, want %d", len(p.addrs), tc.addrsLen)
			}
		})
	}
}

func TestPlanMethods(t *testing.T) {
	p := mustPlan(t, []string{"192.168.1.0/30", "10.10.1.1", "10.99.0.1", "172.16.9.5", "127.0.0.1"}, MethodAuto, "")
	if len(p.arp) != 1 || p.arp[0].link.Name != "eth0" {
		t.Fatalf("arp jobs %+v, want one on eth0", p.arp)
	}
	if got, want := addrStrings(p.arp[0].addrs), []string{"10.10.1.1", "192.168.1.1", "192.168.1.2", "192.168.1.3"}; !slices.Equal(got, want) {
		t.Errorf("arp addresses %v, want %v", got, want)
	}
	// The point-to-point tunnel and loopback are attached but not Ethernet.
	if got, want := addrStrings(p.routed), []string{"10.99.0.1", "127.0.0.1", "172.16.9.5"}; !slices.Equal(got, want) {
		t.Errorf("routed addresses %v, want %v", got, want)
	}
	// The sender address is ours inside the target's subnet.
	j := p.arp[0]
	for target, src := range map[string]string{"192.168.1.3": "192.168.1.10", "10.10.1.1": "10.10.0.1"} {
		if got := j.src(u32(netip.MustParseAddr(target))); got.String() != src {
			t.Errorf("sender for %s = %s, want %s", target, got, src)
		}
	}

	for _, m := range []Method{MethodICMP, MethodTCP} {
		p := mustPlan(t, []string{"192.168.1.1-2", "10.99.0.1"}, m, "")
		if len(p.arp) != 0 || len(p.routed) != 3 {
			t.Errorf("%s: %d arp jobs, %d routed; want 0 and 3", m, len(p.arp), len(p.routed))
		}
	}

	p = mustPlan(t, []string{"192.168.1.1-2", "10.99.0.1"}, MethodARP, "")
	if len(p.arp) != 1 || len(p.routed) != 0 || len(p.warnings) != 1 || !strings.Contains(p.warnings[0], "1 addresses are not on a directly attached") {
		t.Errorf("arp with a routed address: %d jobs, routed %v, warnings %q", len(p.arp), p.routed, p.warnings)
	}

	// A named interface takes foreign addresses for ARP, with a warning.
	p = mustPlan(t, []string{"10.99.0.1"}, MethodARP, "eth0")
	if len(p.arp) != 1 || len(p.warnings) != 1 {
		t.Errorf("arp -i eth0 on a foreign subnet: jobs %d, warnings %q", len(p.arp), p.warnings)
	}
}

func TestPlanErrors(t *testing.T) {
	ts, _ := ParseTargets([]string{"10.99.0.0/24"})
	cases := []struct {
		method Method
		iface  string
		err    string
	}{
		{MethodARP, "", "no target address is on a directly attached Ethernet subnet"},
		{MethodARP, "nosuch0", `interface "nosuch0": no such network interface`},
		{MethodARP, "wg0", "arp sweep on wg0: not an Ethernet interface that is up"},
		{MethodARP, "eth1", "arp sweep on eth1: not an Ethernet interface that is up"},
		{"ping", "", `unknown method "ping"`},
	}
	for _, tc := range cases {
		_, err := makePlan(mergeTargets(ts), testLinks(), tc.method, tc.iface)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s on %q: err = %v, want %q", tc.method, tc.iface, err, tc.err)
		}
	}
}
