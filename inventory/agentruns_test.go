package inventory

import (
	"context"
	"testing"
	"time"
)

// TestRestartKeepsAgentRuns: a run an agent is carrying out survives a
// server restart (the agent uploads to it afterwards); the server's own
// run is closed as interrupted.
func TestRestartKeepsAgentRuns(t *testing.T) {
	ctx := context.Background()
	s, clk, dir := openTest(t)
	key, _, _ := s.CreateEnrollmentKey(ctx, EnrollmentKey{})
	_, a, err := s.EnrollAgent(ctx, Enrollment{Key: key, UID: "agent-1"})
	if err != nil {
		t.Fatal(err)
	}
	sn := mustSubnet(t, s, "10.7.0.0/24")
	other := mustSubnet(t, s, "10.8.0.0/24")
	agentRun, err := s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerAgent, ID: a.UID}, "arp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAgentTask(ctx, AgentTask{AgentID: a.ID, Kind: "scan", SubnetID: sn.ID, ScanID: agentRun.ID,
		Payload: "{}", Deadline: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	serverRun, err := s.BeginScan(ctx, other.ID, Scanner{Kind: ScannerServer, ID: "server"}, "arp")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2, err := OpenSQLite(ctx, dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if r, err := s2.ScanRun(ctx, agentRun.ID); err != nil || r.Status != ScanRunning {
		t.Fatalf("agent's run after a restart: %v %v, want still running", r.Status, err)
	}
	if r, err := s2.ScanRun(ctx, serverRun.ID); err != nil || r.Status != ScanInterrupted {
		t.Fatalf("server's run after a restart: %v %v, want interrupted", r.Status, err)
	}
	if _, err := s2.RecordDevices(ctx, agentRun.ID, nil); err != nil {
		t.Fatalf("the agent's upload after the restart is refused: %v", err)
	}
}

// TestListenDoesNotEndSweep: an agent listening between sweeps and its
// next sweep of the same subnet are two runs that do not end each other.
func TestListenDoesNotEndSweep(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t)
	sn := mustSubnet(t, s, "10.7.0.0/24")
	by := Scanner{Kind: ScannerAgent, ID: "agent-1"}
	listen, err := s.BeginScan(ctx, sn.ID, by, MethodPassive)
	if err != nil {
		t.Fatal(err)
	}
	sweep, err := s.BeginScan(ctx, sn.ID, by, "arp")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := s.ScanRun(ctx, listen.ID); r.Status != ScanRunning {
		t.Errorf("listen run after a sweep began: %s, want running", r.Status)
	}
	// A second sweep by the same scanner still supersedes the first.
	if _, err := s.BeginScan(ctx, sn.ID, by, "arp"); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.ScanRun(ctx, sweep.ID); r.Status != ScanInterrupted {
		t.Errorf("first sweep after a second began: %s, want interrupted", r.Status)
	}
	if r, _ := s.ScanRun(ctx, listen.ID); r.Status != ScanRunning {
		t.Errorf("listen run after a second sweep: %s, want running", r.Status)
	}
}
