-- The election of the agents that scan each subnet: the seats as they
-- stand, the admins' pins and "never" marks, how each elected agent's scans
-- of a subnet have been going, and the log of seat changes. The election
-- itself is computed in Go (inventory/election); these tables are its
-- memory between rounds and restarts. Times are Unix milliseconds.
--
-- The agent columns the election reads (capabilities, poll_interval_ms,
-- revoked) belong to the agents feature and are added by 0006.

CREATE TABLE election_seats (
	subnet_id  INTEGER NOT NULL REFERENCES subnets (id) ON DELETE CASCADE,
	agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	elected_at INTEGER NOT NULL,
	score      REAL    NOT NULL DEFAULT 0,
	pinned     INTEGER NOT NULL DEFAULT 0,
	reason     TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (subnet_id, agent_id)
);
CREATE INDEX election_seats_agent ON election_seats (agent_id);

CREATE TABLE election_pins (
	subnet_id INTEGER NOT NULL REFERENCES subnets (id) ON DELETE CASCADE,
	agent_id  INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	pinned_by TEXT    NOT NULL DEFAULT '',
	pinned_at INTEGER NOT NULL,
	PRIMARY KEY (subnet_id, agent_id)
);
CREATE INDEX election_pins_agent ON election_pins (agent_id);

-- "Never": the agent never scans, or the subnet never gets an agent.
CREATE TABLE election_never_agents (
	agent_id  INTEGER PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
	marked_by TEXT    NOT NULL DEFAULT '',
	marked_at INTEGER NOT NULL
);
CREATE TABLE election_never_subnets (
	subnet_id INTEGER PRIMARY KEY REFERENCES subnets (id) ON DELETE CASCADE,
	marked_by TEXT    NOT NULL DEFAULT '',
	marked_at INTEGER NOT NULL
);

-- Failed scans in a row per (subnet, agent), and the cool-down they earned.
CREATE TABLE election_standings (
	subnet_id      INTEGER NOT NULL REFERENCES subnets (id) ON DELETE CASCADE,
	agent_id       INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	failures       INTEGER NOT NULL DEFAULT 0,
	demotions      INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT    NOT NULL DEFAULT '',
	last_at        INTEGER NOT NULL,
	cooldown_until INTEGER,
	PRIMARY KEY (subnet_id, agent_id)
);
CREATE INDEX election_standings_agent ON election_standings (agent_id);

-- Seat changes. Names are copied so the history reads the same after an
-- agent is deleted.
CREATE TABLE election_events (
	id            INTEGER PRIMARY KEY,
	at            INTEGER NOT NULL,
	kind          TEXT    NOT NULL CHECK (kind IN ('elected', 'replaced', 'expired', 'demoted', 'released')),
	subnet_id     INTEGER REFERENCES subnets (id) ON DELETE CASCADE,
	agent_id      INTEGER REFERENCES agents (id) ON DELETE SET NULL,
	agent_name    TEXT    NOT NULL DEFAULT '',
	replaced_id   INTEGER REFERENCES agents (id) ON DELETE SET NULL,
	replaced_name TEXT    NOT NULL DEFAULT '',
	score         REAL    NOT NULL DEFAULT 0,
	old_score     REAL    NOT NULL DEFAULT 0,
	reason        TEXT    NOT NULL DEFAULT '',
	why           TEXT    NOT NULL DEFAULT '' -- what triggered the round: a contact, the timer, an admin
);
CREATE INDEX election_events_subnet ON election_events (subnet_id, id);
CREATE INDEX election_events_agent ON election_events (agent_id, id);
CREATE INDEX election_events_replaced ON election_events (replaced_id);
CREATE INDEX election_events_at ON election_events (at);
