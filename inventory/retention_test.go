package inventory

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRetention runs the four prunes on a real database file: old closed
// agent tasks, old finished scan runs, events the webhooks have seen and
// audit entries go; what a page or an agent still needs stays, however
// old.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	key, _, _ := s.CreateEnrollmentKey(ctx, EnrollmentKey{})
	_, a, err := s.EnrollAgent(ctx, Enrollment{Key: key, UID: "agent-1"})
	if err != nil {
		t.Fatal(err)
	}
	subA := mustSubnet(t, s, "10.1.0.0/24")
	subB := mustSubnet(t, s, "10.2.0.0/24")

	begin := func(sn Subnet, scanner string) ScanRun {
		t.Helper()
		r, err := s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerAgent, ID: scanner}, "arp")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	finishRun := func(r ScanRun) {
		t.Helper()
		if _, err := s.FinishScan(ctx, r.ID, ScanEnd{Stats: ScanStats{Addresses: 254}}); err != nil {
			t.Fatal(err)
		}
	}
	task := func(scanID int64, closeAs AgentTaskStatus) AgentTask {
		t.Helper()
		at, err := s.CreateAgentTask(ctx, AgentTask{AgentID: a.ID, Kind: "scan", SubnetID: subA.ID, ScanID: scanID, Payload: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		if closeAs != "" && !closeAs.Open() {
			if _, err := s.FinishAgentTask(ctx, at.ID, closeAs, "", ""); err != nil {
				t.Fatal(err)
			}
		}
		return at
	}

	// Forty days ago.
	rOld := scanOnce(t, s, clk, subA.ID, dev("10.1.0.5", "02:00:00:00:00:05", "old", ""))
	tOld := task(rOld.ID, TaskDone)
	tExpired := task(0, TaskExpired)
	rFed := begin(subA, "agent-1") // finished, but its task is still open
	finishRun(rFed)
	tFeeding := task(rFed.ID, TaskDelivered)
	if _, err := s.ClaimAgentTasks(ctx, a.ID, 10); err != nil {
		t.Fatal(err)
	}
	rOCS := begin(subA, "ocs-1")
	finishRun(rOCS)
	ocsAgent, err := s.RecordAgentContact(ctx, "DESKTOP-1-2026-11-02-09-00-00", AgentOCS)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOCSInventory(ctx, OCSInventory{AgentID: ocsAgent.ID, Discovered: true, ScannedCIDR: subA.CIDR,
		ScannedSubnetID: subA.ID, ScanID: rOCS.ID}); err != nil {
		t.Fatal(err)
	}
	rOnlyB := scanOnce(t, s, clk, subB.ID)
	rNewestDone := scanOnce(t, s, clk, subA.ID)
	rRunning := begin(subA, "agent-2") // still running: the subnet's newest run
	tOfRunning := task(rRunning.ID, TaskFailed)
	oldEvents, err := s.Events(ctx, EventQuery{Limit: 1000})
	if err != nil || len(oldEvents) == 0 {
		t.Fatalf("events: %v, %v", oldEvents, err)
	}
	if err := s.Audit(ctx, AuditEntry{Actor: "admin", Action: "old.one"}); err != nil {
		t.Fatal(err)
	}
	// Many old entries, so that the audit prune takes several batches.
	if _, err := s.w.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO audit_log (at, actor, action) SELECT ?, 'admin', 'bulk' FROM n`, 2*pruneBatch+17, msOf(clk.Now())); err != nil {
		t.Fatal(err)
	}

	clk.Advance(40 * 24 * time.Hour)
	before := clk.Now().Add(-30 * 24 * time.Hour)

	// Events first: none goes before the webhooks' cursor has moved.
	if n, err := s.PruneEvents(ctx, before); err != nil || n != 0 {
		t.Errorf("prune events with the cursor unset: %d, %v; want 0", n, err)
	}
	// The webhooks have seen all old events but the newest.
	newestOld := oldEvents[0].ID
	if _, err := s.QueueDeliveries(ctx, nil, -1, newestOld-1); err != nil {
		t.Fatal(err)
	}

	// Recent: kept whatever else holds.
	tRecent := task(0, TaskDone)
	if err := s.Audit(ctx, AuditEntry{Actor: "admin", Action: "recent.one"}); err != nil {
		t.Fatal(err)
	}

	n, err := s.PruneAgentTasks(ctx, before)
	if err != nil || n != 2 {
		t.Errorf("prune agent tasks: %d, %v; want 2", n, err)
	}
	for _, tc := range []struct {
		name string
		at   AgentTask
		kept bool
	}{{"old done", tOld, false}, {"old expired", tExpired, false}, {"open", tFeeding, true},
		{"closed, scan running", tOfRunning, true}, {"recent", tRecent, true}} {
		_, err := s.AgentTask(ctx, tc.at.ID)
		if kept := err == nil; kept != tc.kept || (err != nil && !errors.Is(err, ErrNotFound)) {
			t.Errorf("task %s: err %v, want kept=%v", tc.name, err, tc.kept)
		}
	}

	if n, err := s.PruneScans(ctx, before); err != nil || n != 1 {
		t.Errorf("prune scans: %d, %v; want 1", n, err)
	}
	for _, tc := range []struct {
		name string
		run  ScanRun
		kept bool
	}{{"old", rOld, false}, {"fed by an open task", rFed, true}, {"an OCS agent's last", rOCS, true},
		{"the only one of its subnet", rOnlyB, true}, {"newest finished of its subnet", rNewestDone, true},
		{"running", rRunning, true}} {
		_, err := s.ScanRun(ctx, tc.run.ID)
		if kept := err == nil; kept != tc.kept || (err != nil && !errors.Is(err, ErrNotFound)) {
			t.Errorf("scan run %s: err %v, want kept=%v", tc.name, err, tc.kept)
		}
	}
	if oa, err := s.OCSAgent(ctx, ocsAgent.ID); err != nil || oa.LastScanID != rOCS.ID {
		t.Errorf("OCS agent after prune: %+v, %v", oa, err)
	}
	// The old run's events stay, without their link to it; its device too.
	linked := 0
	for _, ev := range oldEvents {
		if ev.ScanID == rOld.ID {
			linked++
		}
	}
	afterScans, err := s.Events(ctx, EventQuery{Limit: 1000})
	if err != nil || linked == 0 || len(afterScans) != len(oldEvents) {
		t.Fatalf("events after pruning scans: %d (before %d, %d of the old run), %v", len(afterScans), len(oldEvents), linked, err)
	}
	for _, ev := range afterScans {
		if ev.ScanID == rOld.ID {
			t.Errorf("event %d still names the deleted run %d", ev.ID, rOld.ID)
		}
	}
	deviceByIP(t, s, "10.1.0.5")

	n, err = s.PruneEvents(ctx, before)
	if err != nil || n != len(oldEvents)-1 {
		t.Errorf("prune events: %d, %v; want %d", n, err, len(oldEvents)-1)
	}
	left, err := s.Events(ctx, EventQuery{Limit: 1000})
	if err != nil || len(left) != 1 || left[0].ID != newestOld {
		t.Errorf("events left: %+v, %v; want only %d, past the webhooks' cursor", left, err, newestOld)
	}

	n, err = s.PruneAudit(ctx, before)
	if err != nil || n != 2*pruneBatch+18 {
		t.Errorf("prune audit: %d, %v; want %d", n, err, 2*pruneBatch+18)
	}
	// The prune's cutoff is gone with its transaction: the log is
	// append-only again, old entries included.
	if _, err := s.w.ExecContext(ctx, `DELETE FROM audit_log`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("delete after a prune: err = %v, want the append-only trigger", err)
	}
	entries, total, err := s.AuditLog(ctx, AuditQuery{})
	if err != nil || total != 1 || len(entries) != 1 || entries[0].Action != "recent.one" {
		t.Errorf("audit left: %d %+v, %v", total, entries, err)
	}
}
