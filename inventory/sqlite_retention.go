package inventory

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// pruneBatch is how many rows one retention transaction deletes: agents
// and scans writing meanwhile wait for one batch at most, not for a
// month of history on a server with thousands of agents.
const pruneBatch = 2000

// pruneBatches deletes, batch by batch, the rows of table whose id sel
// (a SELECT of ids, without LIMIT) returns, until a batch comes back
// short. It returns how many it deleted, also when it stops on an error.
func (s *SQLite) pruneBatches(ctx context.Context, table, sel string, args ...any) (int, error) {
	q := `DELETE FROM ` + table + ` WHERE id IN (` + sel + ` LIMIT ?)`
	args = slices.Concat(args, []any{pruneBatch})
	return s.inBatches(ctx, func(tx wtx) (int64, error) {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// inBatches runs del, each time in its own write transaction, until it
// deletes fewer than pruneBatch rows, and adds up what it deleted.
func (s *SQLite) inBatches(ctx context.Context, del func(tx wtx) (int64, error)) (int, error) {
	total := 0
	for {
		var n int64
		err := s.write(ctx, func(tx wtx) error {
			var err error
			n, err = del(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < pruneBatch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// PruneAgentTasks implements EnrollmentStore. Open tasks are never
// deleted, nor a closed one whose scan run is still running: it is what
// says which agent carries that run. The unary + keeps SQLite off the
// status index, which would walk every closed task, and on the
// finished_at one.
func (s *SQLite) PruneAgentTasks(ctx context.Context, before time.Time) (int, error) {
	n, err := s.pruneBatches(ctx, "agent_tasks", `SELECT t.id FROM agent_tasks t
		WHERE t.finished_at < ? AND +t.status IN (?, ?, ?)
		AND NOT EXISTS (SELECT 1 FROM scans r WHERE r.id = t.scan_id AND r.status = ?)`,
		msOf(before), TaskDone, TaskFailed, TaskExpired, ScanRunning)
	if err != nil {
		return n, fmt.Errorf("prune agent tasks: %w", err)
	}
	return n, nil
}

// PruneScans implements ScanStore. What the pages show of a subnet stays:
// its newest run and its newest finished one, whatever their age, as do
// runs an open agent task will still upload to and the last discovery
// run of each OCS agent. Events of a deleted run keep their place in the
// log without it (their scan link is cleared).
func (s *SQLite) PruneScans(ctx context.Context, before time.Time) (int, error) {
	n, err := s.pruneBatches(ctx, "scans", `SELECT r.id FROM scans r
		WHERE r.finished_at < ? AND r.status <> ?
		AND r.id NOT IN (SELECT max(id) FROM scans GROUP BY subnet_id)
		AND r.id NOT IN (SELECT max(id) FROM scans WHERE status <> ? GROUP BY subnet_id)
		AND NOT EXISTS (SELECT 1 FROM agent_tasks t WHERE t.scan_id = r.id AND t.status IN (?, ?))
		AND NOT EXISTS (SELECT 1 FROM ocs_agents o WHERE o.last_scan_id = r.id)`,
		msOf(before), ScanRunning, ScanRunning, TaskPending, TaskDelivered)
	if err != nil {
		return n, fmt.Errorf("prune scan runs: %w", err)
	}
	return n, nil
}

// PruneEvents implements DeviceStore. Events the webhooks have not been
// told of yet (past their cursor) stay, however old.
func (s *SQLite) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	n, err := s.pruneBatches(ctx, "events", `SELECT id FROM events
		WHERE at < ? AND id <= (SELECT event_id FROM webhook_cursor WHERE id = 1)`, msOf(before))
	if err != nil {
		return n, fmt.Errorf("prune events: %w", err)
	}
	return n, nil
}

// PruneAudit implements AuditStore. The log's delete trigger lets only
// entries older than the cutoff this transaction writes to audit_prune
// go, and the cutoff is gone again when the transaction commits.
func (s *SQLite) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	n, err := s.inBatches(ctx, func(tx wtx) (int64, error) {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO audit_prune (id, before) VALUES (1, ?)`, msOf(before)); err != nil {
			return 0, err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? LIMIT ?)`,
			msOf(before), pruneBatch)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM audit_prune`)
		return n, err
	})
	if err != nil {
		return n, fmt.Errorf("prune audit log: %w", err)
	}
	return n, nil
}
