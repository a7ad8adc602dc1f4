-- Webhooks, their deliveries and where the webhook notifier stands in the
-- event log. A delivery keeps the body it sends, so a retry after a restart
-- sends the same bytes. Secrets are sealed like SNMP credentials.

CREATE TABLE webhooks (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	url        TEXT    NOT NULL,
	events     TEXT    NOT NULL DEFAULT '[]', -- event kinds; empty: all
	enabled    INTEGER NOT NULL DEFAULT 1,
	source     TEXT    NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'config')),
	secret     BLOB,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
	id           INTEGER PRIMARY KEY,
	webhook_id   INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	kind         TEXT    NOT NULL,
	event_id     INTEGER NOT NULL DEFAULT 0, -- the events row, 0 for events outside the log
	body         TEXT    NOT NULL,
	status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL,
	last_code    INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_updated ON webhook_deliveries (updated_at);

-- One row: the id of the last event turned into deliveries; -1 until the
-- notifier first runs (it then starts at the log's end, not its start).
CREATE TABLE webhook_cursor (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	event_id INTEGER NOT NULL
);
INSERT INTO webhook_cursor (id, event_id) VALUES (1, -1);
