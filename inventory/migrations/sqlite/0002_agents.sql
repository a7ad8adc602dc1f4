-- Agent machines, their NICs and addresses, and the link from a discovered
-- device to the agent machine it is.

CREATE TABLE agents (
	id             INTEGER PRIMARY KEY,
	uid            TEXT    NOT NULL UNIQUE,
	kind           TEXT    NOT NULL DEFAULT 'lanscout',
	hostname       TEXT    NOT NULL DEFAULT '',
	host_key       TEXT    NOT NULL DEFAULT '', -- lower-case short host name, for the fallback match
	os_name        TEXT    NOT NULL DEFAULT '',
	os_version     TEXT    NOT NULL DEFAULT '',
	kernel         TEXT    NOT NULL DEFAULT '',
	manufacturer   TEXT    NOT NULL DEFAULT '',
	model          TEXT    NOT NULL DEFAULT '',
	serial         TEXT    NOT NULL DEFAULT '',
	uuid           TEXT    NOT NULL DEFAULT '',
	version        TEXT    NOT NULL DEFAULT '',
	raw            TEXT    NOT NULL DEFAULT '',
	first_contact  INTEGER NOT NULL,
	last_contact   INTEGER NOT NULL,
	last_inventory INTEGER,
	fidelity       INTEGER NOT NULL DEFAULT 0,
	quality        REAL    NOT NULL DEFAULT 0
);
CREATE INDEX agents_host_key ON agents (host_key);
CREATE INDEX agents_serial ON agents (serial);

CREATE TABLE agent_nics (
	id       INTEGER PRIMARY KEY,
	agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	name     TEXT    NOT NULL DEFAULT '',
	mac      TEXT    NOT NULL DEFAULT '',
	kind     TEXT    NOT NULL DEFAULT '',
	state    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX agent_nics_agent ON agent_nics (agent_id);
CREATE INDEX agent_nics_mac ON agent_nics (mac);

CREATE TABLE agent_addresses (
	id        INTEGER PRIMARY KEY,
	nic_id    INTEGER NOT NULL REFERENCES agent_nics (id) ON DELETE CASCADE,
	agent_id  INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	address   TEXT    NOT NULL, -- with prefix length, "10.0.0.5/24"
	ip_key    TEXT    NOT NULL,
	subnet_id INTEGER REFERENCES subnets (id) ON DELETE SET NULL
);
CREATE INDEX agent_addresses_agent ON agent_addresses (agent_id);
CREATE INDEX agent_addresses_nic ON agent_addresses (nic_id); -- the cascade from agent_nics
CREATE INDEX agent_addresses_subnet ON agent_addresses (subnet_id);

ALTER TABLE devices ADD COLUMN agent_id INTEGER REFERENCES agents (id) ON DELETE SET NULL;
ALTER TABLE devices ADD COLUMN match_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN host_key TEXT NOT NULL DEFAULT '';
CREATE INDEX devices_agent ON devices (agent_id);
CREATE INDEX devices_mac ON devices (mac);
CREATE INDEX devices_host_key ON devices (host_key);
CREATE INDEX devices_serial ON devices (serial);

-- Devices recorded before this migration get their host key now, so the
-- fallback match works for them too. (The short name is computed in Go for
-- new rows; lower() of the name up to its first dot is the same thing.)
UPDATE devices SET host_key = lower(CASE WHEN instr(disc_name, '.') > 0
	THEN substr(disc_name, 1, instr(disc_name, '.') - 1) ELSE disc_name END);
