package web

import (
	"context"
	"fmt"
	"time"

	"github.com/lanscout/lanscout/inventory"
)

// RetentionOptions say how long history is kept. Zero means the default.
// Webhook deliveries (MonitoringOptions.WebhookKeep) have their own.
type RetentionOptions struct {
	// AgentTasks is how long closed agent tasks (done, failed, expired)
	// are kept; default 30 days. A closed task whose scan run still runs
	// is kept until the run ends.
	AgentTasks time.Duration
	// ScanRuns is how long finished scan runs are kept; default 90 days.
	// Each subnet's newest run and newest finished run are kept whatever
	// their age, as are runs an open agent task still uploads to and an
	// OCS agent's last discovery run.
	ScanRuns time.Duration
	// Events is how long the device event log is kept; default 365 days.
	// Events the webhooks have not been told of yet stay.
	Events time.Duration
	// Audit is how long the audit log is kept; 0 (the default) keeps it
	// for ever. What a prune deleted is itself audited.
	Audit time.Duration
	// ElectionEvents is how long the election's seat changes are kept;
	// default 90 days.
	ElectionEvents time.Duration
}

// retentionEvery is how often history is pruned, as for webhook
// deliveries.
const retentionEvery = time.Hour

func (s *Server) initRetention() error {
	o := &s.opts.Retention
	if o.AgentTasks < 0 || o.ScanRuns < 0 || o.Events < 0 || o.Audit < 0 || o.ElectionEvents < 0 {
		return fmt.Errorf("web: retention: durations must not be negative")
	}
	if o.AgentTasks == 0 {
		o.AgentTasks = 30 * 24 * time.Hour
	}
	if o.ScanRuns == 0 {
		o.ScanRuns = 90 * 24 * time.Hour
	}
	if o.Events == 0 {
		o.Events = 365 * 24 * time.Hour
	}
	if o.ElectionEvents == 0 {
		o.ElectionEvents = 90 * 24 * time.Hour
	}
	s.jobs.every(retentionEvery, s.pruneHistory)
	return nil
}

// pruneHistory deletes what is older than the retention settings. A
// failed prune is logged and tried again at the next round.
func (s *Server) pruneHistory(ctx context.Context) {
	o := s.opts.Retention
	now := s.opts.Now()
	for _, p := range []struct {
		what    string
		keep    time.Duration
		prune   func(context.Context, time.Time) (int, error)
		audited bool // shortening the audit log is itself on record
	}{
		{"agent tasks", o.AgentTasks, s.store.PruneAgentTasks, false},
		{"scan runs", o.ScanRuns, s.store.PruneScans, false},
		{"events", o.Events, s.store.PruneEvents, false},
		{"audit entries", o.Audit, s.store.PruneAudit, true},
		{"election events", o.ElectionEvents, s.store.PruneElectionEvents, false},
	} {
		if p.keep <= 0 {
			continue // kept for ever
		}
		before := now.Add(-p.keep)
		n, err := p.prune(ctx, before)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("retention: prune "+p.what, "deleted", n, "err", err)
		} else if n > 0 {
			s.log.Info("retention: pruned "+p.what, "count", n, "before", before)
		}
		if n > 0 && p.audited {
			e := inventory.AuditEntry{Actor: "system", Action: "audit.prune",
				Details: fmt.Sprintf("%d entries from before %s deleted (kept for %s)", n, before.UTC().Format(time.RFC3339), p.keep)}
			if err := s.store.Audit(context.WithoutCancel(ctx), e); err != nil {
				s.log.Error("audit", "action", e.Action, "err", err)
			}
		}
	}
}
