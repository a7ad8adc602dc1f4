-- Retention: old finished agent tasks, scan runs, events and audit
-- entries are deleted in batches. These indexes find them without a
-- scan of the whole table, and let a deleted scan run clear the OCS
-- agents' link to it (ON DELETE SET NULL) without one per run.
CREATE INDEX agent_tasks_finished ON agent_tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX scans_finished ON scans (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX ocs_agents_last_scan ON ocs_agents (last_scan_id);

-- The audit log stays append-only, except for the one delete a server
-- set to keep it for a limited time makes: that transaction writes its
-- cutoff here, deletes entries older than it, and clears it again, so
-- that no other delete, and none of an entry at or after the cutoff,
-- ever passes the trigger.
CREATE TABLE audit_prune (
	id     INTEGER PRIMARY KEY CHECK (id = 1),
	before INTEGER NOT NULL
);
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.at >= COALESCE((SELECT before FROM audit_prune WHERE id = 1), -9223372036854775807 - 1)
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;
