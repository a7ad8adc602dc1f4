package web

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
)

// TestPruneHistory: a prune round deletes old closed agent tasks by the
// defaults, keeps election events for 90 days unless told otherwise,
// leaves the audit log alone unless told how long to keep it, and
// records its own shortening of the log.
func TestPruneHistory(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	key, _, err := store.CreateEnrollmentKey(ctx, inventory.EnrollmentKey{})
	if err != nil {
		t.Fatal(err)
	}
	_, a, err := store.EnrollAgent(ctx, inventory.Enrollment{Key: key, UID: "agent-1"})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := store.CreateAgentTask(ctx, inventory.AgentTask{AgentID: a.ID, Kind: "wake", Payload: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.FinishAgentTask(ctx, closed.ID, inventory.TaskDone, "", ""); err != nil {
		t.Fatal(err)
	}
	open, err := store.CreateAgentTask(ctx, inventory.AgentTask{AgentID: a.ID, Kind: "wake", Payload: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Audit(ctx, inventory.AuditEntry{Actor: "alice", Action: "device.identify"}); err != nil {
		t.Fatal(err)
	}

	now := t0.Add(40 * 24 * time.Hour)
	s, err := New(Options{Store: store, Logger: slog.New(slog.DiscardHandler), ScheduleCheck: -1,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.20.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	// Seat changes 40 days and one day old.
	seatChange := func(at time.Time) inventory.ElectionEvent {
		return inventory.ElectionEvent{At: at, Kind: "elected", SubnetID: sn.ID, AgentID: a.ID, Reason: "r", Why: "test"}
	}
	if err := store.SaveElection(ctx, nil, []inventory.ElectionEvent{seatChange(t0), seatChange(now.Add(-24 * time.Hour))}); err != nil {
		t.Fatal(err)
	}
	electionEvents := func() int {
		t.Helper()
		evs, err := store.ElectionEvents(ctx, inventory.ElectionEventQuery{SubnetID: sn.ID})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	s.pruneHistory(ctx)

	if _, err := store.AgentTask(ctx, closed.ID); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("closed task 40 days old: err = %v, want it pruned", err)
	}
	if _, err := store.AgentTask(ctx, open.ID); err != nil {
		t.Errorf("open task: %v, want it kept", err)
	}
	if _, n, err := store.AuditLog(ctx, inventory.AuditQuery{Action: "device.identify"}); err != nil || n != 1 {
		t.Errorf("audit by default: %d entries, %v; want it kept", n, err)
	}
	if n := electionEvents(); n != 2 {
		t.Errorf("election events by default (90 days): %d left, want both kept", n)
	}

	s.opts.Retention.ElectionEvents = 30 * 24 * time.Hour
	s.pruneHistory(ctx)
	if n := electionEvents(); n != 1 {
		t.Errorf("election events kept 30 days: %d left, want only the one a day old", n)
	}

	s.opts.Retention.Audit = 30 * 24 * time.Hour
	s.pruneHistory(ctx)
	if _, n, err := store.AuditLog(ctx, inventory.AuditQuery{Action: "device.identify"}); err != nil || n != 0 {
		t.Errorf("audit kept 30 days: %d old entries left, %v", n, err)
	}
	got, n, err := store.AuditLog(ctx, inventory.AuditQuery{Action: "audit.prune"})
	if err != nil || n != 1 || got[0].Actor != "system" || !strings.Contains(got[0].Details, "entries from before 2026-11-") {
		t.Errorf("audit.prune entries: %+v, %v", got, err)
	}
}
