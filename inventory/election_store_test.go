package inventory

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestElectionStore drives the election's memory against real SQLite:
// the input a round reads (agents with the agent protocol's columns, NICs
// and addresses, never marks, pins, standings), seats replaced wholesale,
// events appended and listed, and the foreign keys when things go away.
func TestElectionStore(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.20.0.0/24")
	other := mustSubnet(t, s, "10.21.0.0/24")
	a, err := s.RecordAgentInventory(ctx, AgentInventory{UID: "pc-1", Hostname: "pc-1", NICs: []NIC{
		{Name: "eth0", MAC: "02:00:00:00:00:01", Kind: NICWired, State: "up", Addresses: []string{"10.20.0.5/24", "10.21.0.5/24"}},
		{Name: "wlan0", MAC: "02:00:00:00:00:02", Kind: NICWireless, State: "down"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.RecordAgentInventory(ctx, AgentInventory{UID: "ocs-2", Kind: AgentOCS, Hostname: "ocs-2"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		clk.Advance(time.Minute)
		if _, err := s.RecordAgentContact(ctx, "pc-1", AgentLanscout); err != nil {
			t.Fatal(err)
		}
	}
	// The agents feature's columns (migration 0006), written here by SQL as
	// its handlers would.
	if _, err := s.w.ExecContext(ctx, `UPDATE agents SET capabilities = '["raw_sockets"]', poll_interval_ms = 60000 WHERE id = ?`, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE agents SET revoked = 1 WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAgentNever(ctx, b.ID, true, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAgentNever(ctx, b.ID, true, "alice"); err != nil {
		t.Fatalf("marking twice: %v", err)
	}
	if err := s.SetSubnetNever(ctx, other.ID, true, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetElectionPin(ctx, sn.ID, a.ID, true, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		s.SetElectionPin(ctx, 999, a.ID, true, "alice"),
		s.SetElectionPin(ctx, sn.ID, 999, true, "alice"),
		s.SetAgentNever(ctx, 999, true, "alice"),
		s.SetSubnetNever(ctx, 999, false, "alice"),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown subnet or agent: %v, want ErrNotFound", err)
		}
	}

	in, err := s.ElectionInput(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Agents) != 2 || len(in.Subnets) != 2 {
		t.Fatalf("%d agents and %d subnets, want 2 and 2", len(in.Agents), len(in.Subnets))
	}
	got := in.Agents[0]
	if got.ID != a.ID || got.Fidelity != 3 || got.Quality <= 0 || !slices.Equal(got.Capabilities, []string{CapRawSockets}) ||
		got.PollInterval != time.Minute || got.Revoked || got.Never || !got.LastContact.Equal(clk.Now()) {
		t.Errorf("agent a: %+v", got)
	}
	if len(got.NICs) != 2 || !slices.Equal(got.NICs[0].Addresses, []string{"10.20.0.5/24", "10.21.0.5/24"}) ||
		got.NICs[0].Kind != NICWired || got.NICs[1].State != "down" || len(got.NICs[1].Addresses) != 0 {
		t.Errorf("agent a NICs: %+v", got.NICs)
	}
	if ob := in.Agents[1]; !ob.Revoked || !ob.Never || ob.Kind != AgentOCS || len(ob.NICs) != 0 {
		t.Errorf("agent b: %+v", ob)
	}
	if !slices.Equal(in.NeverSubnets, []int64{other.ID}) {
		t.Errorf("never subnets %v", in.NeverSubnets)
	}
	if len(in.Pins) != 1 || in.Pins[0].AgentID != a.ID || in.Pins[0].By != "alice" {
		t.Errorf("pins %+v", in.Pins)
	}

	// Seats are replaced wholesale; events pile up, newest first.
	now := clk.Now()
	seat := ElectionSeat{SubnetID: sn.ID, AgentID: a.ID, ElectedAt: now, Score: 0.91, Pinned: true, Reason: "pinned"}
	ev := ElectionEvent{At: now, Kind: "elected", SubnetID: sn.ID, AgentID: a.ID, AgentName: "pc-1", Score: 0.91, Reason: "r", Why: "test"}
	if err := s.SaveElection(ctx, []ElectionSeat{seat, {SubnetID: 999, AgentID: a.ID, ElectedAt: now}}, []ElectionEvent{ev}); err != nil {
		t.Fatalf("a seat on a vanished subnet must be dropped, not fail: %v", err)
	}
	clk.Advance(time.Minute)
	ev2 := ElectionEvent{At: clk.Now(), Kind: "replaced", SubnetID: sn.ID, AgentID: b.ID, AgentName: "ocs-2",
		ReplacedID: a.ID, ReplacedName: "pc-1", Score: 0.95, OldScore: 0.91, Reason: "better", Why: "timer"}
	if err := s.SaveElection(ctx, []ElectionSeat{seat}, []ElectionEvent{ev2}); err != nil {
		t.Fatal(err)
	}
	in, _ = s.ElectionInput(ctx)
	if len(in.Seats) != 1 || !in.Seats[0].ElectedAt.Equal(now) || !in.Seats[0].Pinned || in.Seats[0].Score != 0.91 {
		t.Errorf("seats %+v", in.Seats)
	}
	if err := s.SaveElection(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	if in, _ := s.ElectionInput(ctx); len(in.Seats) != 0 {
		t.Errorf("seats after saving none: %+v", in.Seats)
	}
	if err := s.SaveElection(ctx, []ElectionSeat{seat}, nil); err != nil {
		t.Fatal(err)
	}
	evs, err := s.ElectionEvents(ctx, ElectionEventQuery{SubnetID: sn.ID})
	if err != nil || len(evs) != 2 || evs[0].Kind != "replaced" || evs[0].ReplacedID != a.ID || evs[1].Kind != "elected" {
		t.Fatalf("events %+v, %v", evs, err)
	}
	if evs, _ := s.ElectionEvents(ctx, ElectionEventQuery{AgentID: a.ID, Limit: 1}); len(evs) != 1 || evs[0].Kind != "replaced" {
		t.Errorf("events of agent a (also as the replaced one): %+v", evs)
	}

	// Standings: read-modify-write, atomically.
	inc := func(st ScanStanding) ScanStanding {
		st.Failures++
		st.LastError, st.LastAt = "no hosts", clk.Now()
		st.CooldownUntil = clk.Now().Add(time.Hour)
		return st
	}
	for want := 1; want <= 2; want++ {
		st, err := s.UpdateScanStanding(ctx, sn.ID, a.ID, inc)
		if err != nil || st.Failures != want {
			t.Fatalf("standing %+v, %v; want %d failures", st, err, want)
		}
	}
	if _, err := s.UpdateScanStanding(ctx, sn.ID, 999, inc); !errors.Is(err, ErrNotFound) {
		t.Errorf("standing of an unknown agent: %v", err)
	}
	in, _ = s.ElectionInput(ctx)
	if len(in.Standings) != 1 || in.Standings[0].Failures != 2 || !in.Standings[0].CooldownUntil.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("standings %+v", in.Standings)
	}

	// Deleting the agent drops its seats, pins, marks and standings but
	// keeps the history, by name.
	if err := s.DeleteAgent(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	in, _ = s.ElectionInput(ctx)
	if len(in.Seats)+len(in.Pins)+len(in.Standings) != 0 {
		t.Errorf("after deleting the agent: seats %v pins %v standings %v", in.Seats, in.Pins, in.Standings)
	}
	evs, _ = s.ElectionEvents(ctx, ElectionEventQuery{SubnetID: sn.ID})
	if len(evs) != 2 || evs[1].AgentID != 0 || evs[1].AgentName != "pc-1" {
		t.Errorf("history after deleting the agent: %+v", evs)
	}
	if n, err := s.PruneElectionEvents(ctx, clk.Now()); err != nil || n != 1 {
		t.Errorf("prune: %d, %v; want the older event gone", n, err)
	}
	// Deleting the subnet drops its events and marks.
	if err := s.DeleteSubnet(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if in, _ = s.ElectionInput(ctx); len(in.NeverSubnets) != 0 {
		t.Errorf("never mark of a deleted subnet: %v", in.NeverSubnets)
	}
}
