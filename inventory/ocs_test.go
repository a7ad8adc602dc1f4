package inventory

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestOCSAgentState(t *testing.T) {
	s, clk, _ := openTest(t)
	ctx := context.Background()
	sn := mustSubnet(t, s, "10.88.1.0/24")
	a, err := s.RecordAgentContact(ctx, "pc1-2026-11-22-02-31-32", AgentOCS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OCSAgent(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before any prolog: %v, want ErrNotFound", err)
	}
	ua := "OCS-NG_unified_unix_agent_v2.10.0"
	if err := s.RecordOCSProlog(ctx, OCSProlog{AgentID: a.ID, UserAgent: ua, AskedSubnetID: sn.ID, AskedCIDR: sn.CIDR}); err != nil {
		t.Fatal(err)
	}
	asked := clk.Now()
	clk.Advance(time.Minute)
	// An upload without discovery keeps the last discovery's figures but
	// replaces the note.
	if err := s.RecordOCSInventory(ctx, OCSInventory{AgentID: a.ID, UserAgent: ua, Gateway: "10.88.1.1", Note: "no results"}); err != nil {
		t.Fatal(err)
	}
	o, err := s.OCSAgent(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.UID != "pc1-2026-11-22-02-31-32" || o.UserAgent != ua || o.AskedSubnetID != sn.ID || o.AskedCIDR != sn.CIDR ||
		!o.AskedAt.Equal(asked) || !o.LastProlog.Equal(asked) || !o.LastInventory.Equal(clk.Now()) ||
		o.Note != "no results" || o.Gateway != "10.88.1.1" || o.ScannedCIDR != "" || !o.ScannedAt.IsZero() {
		t.Fatalf("state after prolog and empty upload: %+v", o)
	}
	run, err := s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerAgent, ID: o.UID}, "ocs-ipdiscover")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOCSInventory(ctx, OCSInventory{AgentID: a.ID, UserAgent: ua, Discovered: true,
		ScannedCIDR: "10.88.1.0/24", ScannedSubnetID: sn.ID, ScanID: run.ID, Hosts: 11, Ignored: 1}); err != nil {
		t.Fatal(err)
	}
	// A prolog that asks nothing clears what was asked, not what was done.
	if err := s.RecordOCSProlog(ctx, OCSProlog{AgentID: a.ID, UserAgent: ua}); err != nil {
		t.Fatal(err)
	}
	all, err := s.OCSAgents(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("list: %v %v", all, err)
	}
	o = all[0]
	if o.AskedSubnetID != 0 || o.AskedCIDR != "" || !o.AskedAt.IsZero() || o.ScannedSubnetID != sn.ID ||
		o.ScannedCIDR != "10.88.1.0/24" || o.LastScanID != run.ID || o.Hosts != 11 || o.Ignored != 1 || o.Note != "" {
		t.Fatalf("state after discovery and a second prolog: %+v", o)
	}
	// A prolog's note replaces the note; one without keeps it.
	if err := s.RecordOCSProlog(ctx, OCSProlog{AgentID: a.ID, UserAgent: ua, Note: "no inventory followed"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOCSProlog(ctx, OCSProlog{AgentID: a.ID, UserAgent: ua}); err != nil {
		t.Fatal(err)
	}
	if o, err = s.OCSAgent(ctx, a.ID); err != nil || o.Note != "no inventory followed" {
		t.Fatalf("note after a prolog with a note, then one without: %+v %v", o, err)
	}
	// The subnet going takes its references, the agent going its row.
	if err := s.DeleteSubnet(ctx, sn.ID); err != nil {
		t.Fatal(err)
	}
	if o, err = s.OCSAgent(ctx, a.ID); err != nil || o.ScannedSubnetID != 0 || o.LastScanID != 0 {
		t.Fatalf("after the subnet was deleted: %+v %v", o, err)
	}
	if err := s.DeleteAgent(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if all, err := s.OCSAgents(ctx); err != nil || len(all) != 0 {
		t.Fatalf("after the agent was deleted: %v %v", all, err)
	}
}
