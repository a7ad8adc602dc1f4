package web

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/wol"
)

func TestChooseWakeRoute(t *testing.T) {
	subnet := netip.MustParsePrefix("10.20.30.0/24")
	iface := wol.Interface{Name: "eth1", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.20.30.2/24")}}
	local, err := wol.FindRoute([]wol.Interface{iface}, subnet)
	if err != nil {
		t.Fatal(err)
	}
	agent := inventory.Agent{ID: 7, AgentInventory: inventory.AgentInventory{Hostname: "pc7"}}
	bcast := netip.MustParseAddr("10.20.30.255")
	all := []string{"sat-a", "sat-b"}
	cases := []struct {
		name       string
		c          wakeCandidates
		fallback   WakeFallback
		allow      bool
		subnet     netip.Prefix
		route      inventory.WakeRoute
		via        string
		detailHas  string
		agentID    int64
		satellites []string
		localBcast string
	}{
		{name: "server on the segment wins", c: wakeCandidates{Local: &local, Agents: []inventory.Agent{agent}, Satellite: "sat-a"},
			route: inventory.WakeRouteLocal, via: "eth1 (broadcast 10.20.30.255)", localBcast: "10.20.30.255"},
		{name: "agent before satellite", c: wakeCandidates{Agents: []inventory.Agent{agent}, Satellite: "sat-a"},
			route: inventory.WakeRouteAgent, via: "pc7 (agent 7)", agentID: 7},
		{name: "satellite", c: wakeCandidates{Satellite: "sat-a", Satellites: all},
			route: inventory.WakeRouteSatellite, via: "sat-a", satellites: []string{"sat-a"}},
		{name: "nothing, no fallback configured", c: wakeCandidates{Broadcast: bcast}, fallback: WakeFallbackNone, allow: true,
			route: inventory.WakeRouteNone, detailHas: "no fallback is configured"},
		{name: "fallback configured but not asked: offered, not used", c: wakeCandidates{Broadcast: bcast},
			fallback: WakeFallbackDirected, route: inventory.WakeRouteNone, detailHas: `ask for it ("fallback": true)`},
		{name: "directed broadcast asked", c: wakeCandidates{Broadcast: bcast}, fallback: WakeFallbackDirected, allow: true,
			route: inventory.WakeRouteDirected, via: "10.20.30.255", localBcast: "10.20.30.255", detailHas: "fallback"},
		{name: "directed broadcast, subnet without one", c: wakeCandidates{}, fallback: WakeFallbackDirected, allow: true,
			route: inventory.WakeRouteNone, detailHas: "no directed broadcast"},
		{name: "all satellites asked", c: wakeCandidates{Satellites: all}, fallback: WakeFallbackAllSatellites, allow: true,
			route: inventory.WakeRouteAllSatellites, via: "sat-a, sat-b", satellites: all},
		{name: "all satellites, none configured", c: wakeCandidates{}, fallback: WakeFallbackAllSatellites, allow: true,
			route: inventory.WakeRouteNone, detailHas: "no satellite is configured"},
		{name: "a fallback that cannot reach it is not offered", c: wakeCandidates{}, fallback: WakeFallbackAllSatellites,
			route: inventory.WakeRouteNone, detailHas: "no satellite is configured"},
		{name: "unknown subnet never falls back", c: wakeCandidates{}, fallback: WakeFallbackDirected, allow: true,
			subnet: netip.Prefix{}, route: inventory.WakeRouteNone, detailHas: "give the subnet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sn := subnet
			if strings.HasPrefix(tc.name, "unknown subnet") {
				sn = tc.subnet
			}
			p := chooseWakeRoute(sn, tc.c, tc.fallback, tc.allow)
			if p.Route != tc.route || p.Via != tc.via || p.agentID != tc.agentID {
				t.Fatalf("route %s via %q agent %d, want %s via %q agent %d", p.Route, p.Via, p.agentID, tc.route, tc.via, tc.agentID)
			}
			if tc.detailHas != "" && !strings.Contains(p.Detail, tc.detailHas) {
				t.Errorf("detail %q does not say %q", p.Detail, tc.detailHas)
			}
			if strings.Join(p.satellites, ",") != strings.Join(tc.satellites, ",") {
				t.Errorf("satellites %v, want %v", p.satellites, tc.satellites)
			}
			if got := p.local.Broadcast.String(); tc.localBcast != "" && got != tc.localBcast {
				t.Errorf("broadcast %s, want %s", got, tc.localBcast)
			}
		})
	}
}

func TestOnlineAgents(t *testing.T) {
	now := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	subnet := netip.MustParsePrefix("10.1.2.0/24")
	mk := func(id int64, ago time.Duration, addrs ...string) inventory.Agent {
		a := inventory.Agent{ID: id, LastContact: now.Add(-ago)}
		a.Kind = inventory.AgentLanscout
		a.NICs = []inventory.NIC{{Name: "eth0", Addresses: addrs}}
		return a
	}
	ocs := mk(7, time.Second, "10.1.2.14/24")
	ocs.Kind = inventory.AgentOCS
	revoked := mk(8, time.Second, "10.1.2.15/24")
	revoked.Revoked = true
	agents := []inventory.Agent{
		mk(1, 4*time.Minute, "10.1.2.10/24"),
		mk(2, 10*time.Second, "10.1.2.11/24"),
		mk(3, 10*time.Second, "10.9.9.9/24"), // elsewhere
		mk(4, time.Hour, "10.1.2.12/24"),     // offline
		mk(5, 30*time.Second, "192.168.0.2/24", "10.1.2.13"),
		{ID: 6}, // never made contact
		ocs,     // takes no tasks
		revoked,
	}
	online := func(a inventory.Agent) bool { return now.Sub(a.LastContact) <= 5*time.Minute }
	var ids []int64
	for _, a := range onlineAgents(agents, subnet, online) {
		ids = append(ids, a.ID)
	}
	if len(ids) != 3 || ids[0] != 2 || ids[1] != 5 || ids[2] != 1 {
		t.Fatalf("online agents %v, want [2 5 1] (most recent first)", ids)
	}
}

func TestWakeDue(t *testing.T) {
	utc := time.UTC
	created := time.Date(2026, 11, 2, 6, 0, 0, 0, utc) // a Monday
	ws := inventory.WakeSchedule{At: "07:00", Created: created}
	cases := []struct {
		name    string
		lastRun time.Time
		now     time.Time
		want    time.Time
	}{
		{"before the first slot", time.Time{}, time.Date(2026, 11, 2, 6, 59, 0, 0, utc), time.Time{}},
		{"first slot", time.Time{}, time.Date(2026, 11, 2, 7, 0, 30, 0, utc), time.Date(2026, 11, 2, 7, 0, 0, 0, utc)},
		{"handled", time.Date(2026, 11, 2, 7, 0, 0, 0, utc), time.Date(2026, 11, 2, 7, 1, 0, 0, utc), time.Time{}},
		{"next day", time.Date(2026, 11, 2, 7, 0, 0, 0, utc), time.Date(2026, 11, 3, 7, 0, 5, 0, utc),
			time.Date(2026, 11, 3, 7, 0, 0, 0, utc)},
		{"down for days: only the latest slot", time.Date(2026, 11, 2, 7, 0, 0, 0, utc), time.Date(2026, 11, 6, 9, 0, 0, 0, utc),
			time.Date(2026, 11, 6, 7, 0, 0, 0, utc)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := ws
			w.LastRun = tc.lastRun
			if got := wakeDue(w, tc.now, utc); !got.Equal(tc.want) {
				t.Errorf("due %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSatelliteBroadcast(t *testing.T) {
	sat := inventory.Satellite{Name: "s1", Subnets: []string{"10.5.0.0/16", "10.6.1.0/24"}}
	cases := []struct {
		target string
		want   string
	}{
		{"10.5.3.0/24", "10.5.3.255"},   // narrower than what it serves: the target's own
		{"10.6.0.0/16", "10.6.1.255"},   // wider: the segment the satellite knows
		{"10.7.0.0/24", "10.5.255.255"}, // not served: its own first segment (all_satellites)
	}
	for _, tc := range cases {
		got, err := satelliteBroadcast(sat, netip.MustParsePrefix(tc.target))
		if err != nil || got.String() != tc.want {
			t.Errorf("%s: %s, %v; want %s", tc.target, got, err, tc.want)
		}
	}
	if _, err := satelliteBroadcast(inventory.Satellite{Name: "empty"}, netip.MustParsePrefix("10.7.0.0/24")); err == nil {
		t.Error("a satellite serving nothing has a broadcast")
	}
}
