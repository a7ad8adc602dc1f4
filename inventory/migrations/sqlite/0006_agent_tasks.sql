-- Agents of our own: what they can do, how often they call, whether they
-- were revoked; the enrollment keys admins hand out, the per-agent tokens
-- they are exchanged for (kept hashed), and the tasks queued for agents
-- with their results. Times are Unix milliseconds.

ALTER TABLE agents ADD COLUMN capabilities TEXT NOT NULL DEFAULT '[]'; -- JSON list, e.g. ["raw_sockets"]
ALTER TABLE agents ADD COLUMN poll_interval_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;

CREATE TABLE enrollment_keys (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL DEFAULT '',
	key_hash   TEXT    NOT NULL UNIQUE, -- SHA-256 of the key, hex
	prefix     TEXT    NOT NULL,        -- the key's first characters, to recognise it
	subnets    TEXT    NOT NULL DEFAULT '[]', -- JSON list of CIDRs; empty: anywhere
	created_by TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	revoked_at INTEGER,
	uses       INTEGER NOT NULL DEFAULT 0,
	last_used  INTEGER
);

-- One token per enrolled agent; re-enrolling replaces it.
CREATE TABLE agent_tokens (
	agent_id       INTEGER PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
	token_hash     TEXT    NOT NULL UNIQUE,
	key_id         INTEGER REFERENCES enrollment_keys (id) ON DELETE SET NULL,
	enrolled_at    INTEGER NOT NULL,
	inventory_hash TEXT    NOT NULL DEFAULT '' -- what the agent said its last stored inventory hashes to
);
CREATE INDEX agent_tokens_key ON agent_tokens (key_id);

CREATE TABLE agent_tasks (
	id           TEXT    PRIMARY KEY, -- random, the idempotency key of uploads
	agent_id     INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	kind         TEXT    NOT NULL,
	subnet_id    INTEGER REFERENCES subnets (id) ON DELETE CASCADE,
	scan_id      INTEGER REFERENCES scans (id) ON DELETE SET NULL,
	payload      TEXT    NOT NULL, -- the task as JSON, never with secrets
	status       TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'done', 'failed', 'expired')),
	next_batch   INTEGER NOT NULL DEFAULT 0, -- the next result batch expected
	created_at   INTEGER NOT NULL,
	delivered_at INTEGER,
	finished_at  INTEGER,
	deadline     INTEGER NOT NULL,
	error        TEXT    NOT NULL DEFAULT '',
	result       TEXT    NOT NULL DEFAULT '' -- the final result as JSON, devices left out
);
CREATE INDEX agent_tasks_agent ON agent_tasks (agent_id, status);
CREATE INDEX agent_tasks_subnet ON agent_tasks (subnet_id, status);
CREATE INDEX agent_tasks_open ON agent_tasks (status, deadline);
