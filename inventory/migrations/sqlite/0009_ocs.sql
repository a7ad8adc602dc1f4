-- OCS Inventory agents: what the OCS protocol adds to an agent machine.
-- What was asked of the agent and what it did are kept side by side, since
-- the Unix agent sweeps its default-route interface whatever subnet it is
-- named, and the UI says so.

CREATE TABLE ocs_agents (
	agent_id          INTEGER PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
	user_agent        TEXT    NOT NULL DEFAULT '',
	last_prolog       INTEGER,
	last_inventory    INTEGER,
	-- Its default gateway as its last inventory gave it: the Unix agent
	-- sweeps the network of the interface that reaches it.
	gateway           TEXT    NOT NULL DEFAULT '',
	-- The subnet named in the IPDISCOVER option of the last prolog; NULL
	-- and '' when the agent was not asked to scan.
	asked_subnet_id   INTEGER REFERENCES subnets (id) ON DELETE SET NULL,
	asked_cidr        TEXT    NOT NULL DEFAULT '',
	asked_at          INTEGER,
	-- What its last IPDISCOVER results really covered: the network of the
	-- agent's interface holding the addresses it found.
	scanned_cidr      TEXT    NOT NULL DEFAULT '',
	scanned_subnet_id INTEGER REFERENCES subnets (id) ON DELETE SET NULL,
	scanned_at        INTEGER,
	last_scan_id      INTEGER REFERENCES scans (id) ON DELETE SET NULL,
	hosts             INTEGER NOT NULL DEFAULT 0, -- entries recorded
	ignored           INTEGER NOT NULL DEFAULT 0, -- entries refused or outside every subnet
	-- What went differently from what was asked, in plain words; '' when
	-- nothing did.
	note              TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX ocs_agents_asked ON ocs_agents (asked_subnet_id);
CREATE INDEX ocs_agents_scanned ON ocs_agents (scanned_subnet_id);
