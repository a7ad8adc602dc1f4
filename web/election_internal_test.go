package web

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
)

// electionServer starts a Server on a fresh store with the election
// options given; no timer runs unless opts asks.
func electionServer(t *testing.T, opts ElectionOptions, now ...func() time.Time) (*Server, *inventory.SQLite) {
	t.Helper()
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if opts.Interval == 0 {
		opts.Interval = -1
	}
	if opts.ServerNetworks == nil {
		opts.ServerNetworks = func() ([]netip.Prefix, error) { return nil, nil }
	}
	o := Options{Store: store, Logger: slog.New(slog.DiscardHandler), ScheduleCheck: -1, Election: opts}
	if len(now) > 0 {
		o.Now = now[0]
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	return srv, store
}

// electionAgent stores an agent with one NIC holding addr, contacts
// contacts, and (raw) the raw-sockets capability.
func electionAgent(t *testing.T, store *inventory.SQLite, uid, kind, addr string, contacts int, raw bool) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := store.RecordAgentInventory(ctx, inventory.AgentInventory{UID: uid, Hostname: uid,
		NICs: []inventory.NIC{{Name: "eth0", Kind: inventory.NICKind(kind), State: "up", Addresses: []string{addr}}}})
	if err != nil {
		t.Fatal(err)
	}
	for range contacts {
		if _, err := store.RecordAgentContact(ctx, uid, inventory.AgentLanscout); err != nil {
			t.Fatal(err)
		}
	}
	var caps []string
	if raw {
		caps = []string{inventory.CapRawSockets}
	}
	if err := store.SetAgentHello(ctx, a.ID, caps, time.Minute); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// TestReelectCoalesces: a reelect within the coalescing window of the
// last round only marks the election dirty (so a contact costs nothing),
// and the next round picks up what changed.
func TestReelectCoalesces(t *testing.T) {
	ctx := context.Background()
	srv, store := electionServer(t, ElectionOptions{Coalesce: time.Hour})
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.40.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	rounds := srv.election.statsNow().Rounds // the round at start
	if rounds != 1 {
		t.Fatalf("%d rounds at start, want 1", rounds)
	}
	a := electionAgent(t, store, "pc-a", "wired", "10.40.0.5/24", 5, true)
	if err := srv.reelect(ctx, "contact of pc-a"); err != nil {
		t.Fatal(err)
	}
	st := srv.election.statsNow()
	if st.Rounds != 1 || st.Coalesced != 1 || !srv.election.dirty {
		t.Fatalf("reelect within the window: %+v, dirty %v; want it folded", st, srv.election.dirty)
	}
	// What the folded call stood for runs with the next round.
	if err := srv.electNow(ctx, srv.election.why); err != nil {
		t.Fatal(err)
	}
	ids, err := srv.electedAgents(ctx, sn.ID)
	if err != nil || !slices.Equal(ids, []int64{a}) {
		t.Fatalf("elected %v, %v; want [%d]", ids, err, a)
	}
	if st := srv.election.statsNow(); st.LastWhy != "contact of pc-a" || srv.election.dirty {
		t.Errorf("stats %+v dirty %v", st, srv.election.dirty)
	}
	if subs, _ := srv.electedSubnets(ctx, a); !slices.Equal(subs, []int64{sn.ID}) {
		t.Errorf("elected subnets of agent %d: %v", a, subs)
	}
	evs, _ := store.ElectionEvents(ctx, inventory.ElectionEventQuery{SubnetID: sn.ID})
	if len(evs) != 1 || evs[0].Kind != "elected" || evs[0].AgentName != "pc-a" || evs[0].Why != "contact of pc-a" {
		t.Errorf("events %+v", evs)
	}

	// Outside the window (the larger of Coalesce and ten rounds) reelect
	// runs at once.
	var clock atomic.Int64 // Unix nanoseconds; the server's tickers read it too
	clock.Store(time.Now().UnixNano())
	srv2, store2 := electionServer(t, ElectionOptions{Coalesce: time.Second}, func() time.Time { return time.Unix(0, clock.Load()) })
	if _, err := store2.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.40.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	electionAgent(t, store2, "pc-a", "wired", "10.40.0.5/24", 5, true)
	clock.Add(int64(time.Second + 10*srv2.election.statsNow().LastDur))
	if err := srv2.reelect(ctx, "contact"); err != nil {
		t.Fatal(err)
	}
	if st := srv2.election.statsNow(); st.Rounds != 2 || st.Coalesced != 0 {
		t.Errorf("reelect outside the window: %+v, want a round", st)
	}
}

// TestScanFailuresDemote: failed scans reported by the elected agent
// count; at the limit it is demoted there, the runner-up takes the seat
// at once, and the event says why. A success clears the count.
func TestScanFailuresDemote(t *testing.T) {
	ctx := context.Background()
	srv, store := electionServer(t, ElectionOptions{Coalesce: time.Nanosecond})
	srv.election.cfg.FailureLimit = 2
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.41.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	best := electionAgent(t, store, "best", "wired", "10.41.0.5/24", 60, true)
	second := electionAgent(t, store, "second", "wireless", "10.41.0.6/24", 60, true)
	if err := srv.electNow(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	el, err := srv.subnetElection(ctx, sn.ID)
	if err != nil || len(el.Scanners) != 1 || el.Scanners[0].Name != "best" || el.RunnerUp == nil || el.RunnerUp.Name != "second" {
		t.Fatalf("election %+v, %v; want best elected, second runner-up", el, err)
	}
	if err := srv.reportScanOutcome(ctx, best, sn.ID, "no hosts found"); err != nil {
		t.Fatal(err)
	}
	if err := srv.reportScanOutcome(ctx, best, sn.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := srv.reportScanOutcome(ctx, best, sn.ID, "no hosts found"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := srv.electedAgents(ctx, sn.ID); !slices.Equal(ids, []int64{best}) {
		t.Fatalf("after failure, success, failure: elected %v, want best kept", ids)
	}
	if err := srv.reportScanOutcome(ctx, best, sn.ID, "arp: operation not permitted"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := srv.electedAgents(ctx, sn.ID); !slices.Equal(ids, []int64{second}) {
		t.Fatalf("after two failures in a row: elected %v, want the runner-up %d", ids, second)
	}
	evs, _ := store.ElectionEvents(ctx, inventory.ElectionEventQuery{SubnetID: sn.ID, Limit: 2})
	if len(evs) != 2 || evs[1].Kind != "demoted" || evs[1].AgentName != "best" ||
		!strings.Contains(evs[1].Reason, "arp: operation not permitted") || evs[0].Kind != "elected" {
		t.Errorf("events %+v, want best demoted (saying why), then second elected", evs)
	}
	// The demoted agent stays a candidate, shown as not eligible.
	v, err := srv.subnetDetail(ctx, sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Candidates {
		if c.AgentID == best && (c.Eligible || !strings.Contains(c.Reason, "cool-down until")) {
			t.Errorf("demoted candidate %+v", c)
		}
	}
}

// TestServerScansItsOwnSubnet: with no agent, a subnet the server has an
// address in lists the server (kind "server") and still says why no agent
// scans it; electedAgents stays empty.
func TestServerScansItsOwnSubnet(t *testing.T) {
	ctx := context.Background()
	srv, store := electionServer(t, ElectionOptions{ServerNetworks: func() ([]netip.Prefix, error) {
		return []netip.Prefix{netip.MustParsePrefix("10.42.0.0/24")}, nil
	}})
	own, _ := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.42.0.0/24"})
	far, _ := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.43.0.0/24"})
	el, err := srv.subnetElection(ctx, own.ID)
	if err != nil || len(el.Scanners) != 1 || el.Scanners[0].Kind != "server" || el.NoScannerReason == "" {
		t.Errorf("own subnet: %+v, %v", el, err)
	}
	if ids, _ := srv.electedAgents(ctx, own.ID); len(ids) != 0 {
		t.Errorf("elected agents %v, want none", ids)
	}
	el, _ = srv.subnetElection(ctx, far.ID)
	if len(el.Scanners) != 0 || !strings.Contains(el.NoScannerReason, "no agent has a usable address") {
		t.Errorf("far subnet: %+v", el)
	}
	if _, err := srv.subnetElection(ctx, 999); err == nil {
		t.Error("an unknown subnet: no error")
	}
}

// TestAutoSubnets: an allowed network agents sit on becomes a subnet named
// "auto" (audited) and gets its scanner; a public or hotel network does
// not; with NoAutoSubnets nothing is created.
func TestAutoSubnets(t *testing.T) {
	ctx := context.Background()
	for _, auto := range []bool{true, false} {
		srv, store := electionServer(t, ElectionOptions{NoAutoSubnets: !auto})
		lan := electionAgent(t, store, "lan", "wired", "192.168.50.7/24", 5, true)
		electionAgent(t, store, "hotel", "wireless", "100.64.5.77/22", 5, true)
		electionAgent(t, store, "cafe", "wireless", "81.2.3.4/24", 5, true)
		if err := srv.electNow(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		subnets, _ := store.Subnets(ctx)
		if !auto {
			if len(subnets) != 0 {
				t.Errorf("no auto subnets asked, got %+v", subnets)
			}
			continue
		}
		if len(subnets) != 1 || subnets[0].CIDR != "192.168.50.0/24" || subnets[0].Name != "auto" {
			t.Fatalf("subnets %+v, want only 192.168.50.0/24 named auto", subnets)
		}
		if ids, _ := srv.electedAgents(ctx, subnets[0].ID); !slices.Equal(ids, []int64{lan}) {
			t.Errorf("elected %v, want the LAN agent", ids)
		}
		log, _, _ := store.AuditLog(ctx, inventory.AuditQuery{Action: "subnet.create"})
		if len(log) != 1 || log[0].Actor != "system" {
			t.Errorf("audit %+v", log)
		}
	}
}

// TestElectionInputAgents: OCS agents count as raw-socket capable and, not
// saying how often they poll, as polling every PROLOG_FREQ; lanscout
// agents are raw-capable only when they say so.
func TestElectionInputAgents(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	in := inventory.ElectionInput{Agents: []inventory.ElectionAgent{
		{ID: 1, UID: "ocs-1", Kind: inventory.AgentOCS},
		{ID: 2, UID: "ls-2", Hostname: "pc2", Kind: inventory.AgentLanscout, PollInterval: time.Minute},
		{ID: 3, UID: "ls-3", Kind: inventory.AgentLanscout, Capabilities: []string{inventory.CapRawSockets}},
	}, Subnets: []inventory.Subnet{{ID: 1, CIDR: "10.60.0.0/24", Policy: inventory.ScanDeny}, {ID: 2, CIDR: "10.61.0.0/24"}},
		NeverSubnets: []int64{2}}
	out := electionInput(in, now, 24*time.Hour)
	for i, want := range []struct {
		raw  bool
		poll time.Duration
		name string
	}{{true, 24 * time.Hour, "ocs-1"}, {false, time.Minute, "pc2"}, {true, 0, "ls-3"}} {
		a := out.Agents[i]
		if a.RawSockets != want.raw || a.PollInterval != want.poll || a.Name != want.name {
			t.Errorf("agent %d: raw %v poll %s name %q, want %+v", a.ID, a.RawSockets, a.PollInterval, a.Name, want)
		}
	}
	if !out.Subnets[0].Deny || out.Subnets[0].Never || out.Subnets[1].Deny || !out.Subnets[1].Never {
		t.Errorf("subnets %+v", out.Subnets)
	}
}
