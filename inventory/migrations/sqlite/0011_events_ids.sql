-- Event ids are never reused. Webhooks follow the event log by id; with a
-- plain INTEGER PRIMARY KEY, deleting a subnet whose events held the
-- highest ids let SQLite hand those ids out again, below the webhooks'
-- cursor, and the new events were never delivered.
CREATE TABLE events_new (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	at        INTEGER NOT NULL,
	kind      TEXT    NOT NULL,
	subnet_id INTEGER REFERENCES subnets (id) ON DELETE CASCADE,
	device_id INTEGER REFERENCES devices (id) ON DELETE CASCADE,
	scan_id   INTEGER REFERENCES scans (id) ON DELETE SET NULL,
	old_value TEXT    NOT NULL DEFAULT '',
	new_value TEXT    NOT NULL DEFAULT '',
	message   TEXT    NOT NULL DEFAULT ''
);
INSERT INTO events_new (id, at, kind, subnet_id, device_id, scan_id, old_value, new_value, message)
	SELECT id, at, kind, subnet_id, device_id, scan_id, old_value, new_value, message FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_device ON events (device_id, id);
CREATE INDEX events_subnet ON events (subnet_id, id);
CREATE INDEX events_at ON events (at);
CREATE INDEX events_scan ON events (scan_id);
-- Ids already handed out (and maybe delivered) stay used.
INSERT INTO sqlite_sequence (name, seq)
	SELECT 'events', max(COALESCE((SELECT max(id) FROM events), 0), COALESCE((SELECT event_id FROM webhook_cursor WHERE id = 1), 0));

-- Scans of closed tasks are looked up when a subnet's scans are deleted.
CREATE INDEX agent_tasks_scan ON agent_tasks (scan_id);

-- A scheduled wake names devices by id: a deleted device leaves the
-- schedule rather than have its id, once reused, wake another machine.
CREATE TRIGGER devices_leave_wake_schedules AFTER DELETE ON devices
WHEN EXISTS (SELECT 1 FROM wake_schedules, json_each(wake_schedules.device_ids) WHERE json_each.value = OLD.id)
BEGIN
	UPDATE wake_schedules SET device_ids = (SELECT json_group_array(value) FROM json_each(wake_schedules.device_ids)
		WHERE value <> OLD.id)
	WHERE EXISTS (SELECT 1 FROM json_each(wake_schedules.device_ids) WHERE value = OLD.id);
END;

-- Networks the election created as "auto" subnets that an admin deleted:
-- the election does not create them again.
CREATE TABLE dismissed_auto_subnets (
	cidr TEXT    PRIMARY KEY,
	at   INTEGER NOT NULL,
	by   TEXT    NOT NULL
);
