-- Subnets, scan runs, devices with their sightings and SNMP facts, events.
-- Times are Unix milliseconds (INTEGER here, BIGINT on PostgreSQL); lists
-- and statistics are JSON text. ip_key is the address as 32 hex digits of its
-- 16-byte form, so that text order is address order on every database.

CREATE TABLE subnets (
	id               INTEGER PRIMARY KEY,
	cidr             TEXT    NOT NULL UNIQUE,
	name             TEXT    NOT NULL,
	site             TEXT    NOT NULL DEFAULT '',
	tags             TEXT    NOT NULL DEFAULT '[]',
	schedule_every_s INTEGER NOT NULL DEFAULT 0,
	schedule_at      TEXT    NOT NULL DEFAULT '',
	method           TEXT    NOT NULL DEFAULT 'auto',
	credentials      TEXT    NOT NULL DEFAULT '[]',
	policy           TEXT    NOT NULL DEFAULT 'allow' CHECK (policy IN ('allow', 'deny')),
	gone_after       INTEGER NOT NULL DEFAULT 3,
	max_scanners     INTEGER NOT NULL DEFAULT 1,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);

CREATE TABLE scans (
	id           INTEGER PRIMARY KEY,
	subnet_id    INTEGER NOT NULL REFERENCES subnets (id) ON DELETE CASCADE,
	scanner_kind TEXT    NOT NULL CHECK (scanner_kind IN ('server', 'agent', 'satellite')),
	scanner_id   TEXT    NOT NULL,
	method       TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL,
	started_at   INTEGER NOT NULL,
	finished_at  INTEGER,
	stats        TEXT    NOT NULL DEFAULT '{}',
	recorded     INTEGER NOT NULL DEFAULT 0,
	new_devices  INTEGER NOT NULL DEFAULT 0,
	gone         INTEGER NOT NULL DEFAULT 0,
	warnings     TEXT    NOT NULL DEFAULT '[]',
	error        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX scans_subnet ON scans (subnet_id, id);
CREATE INDEX scans_status ON scans (status);

CREATE TABLE devices (
	id             INTEGER PRIMARY KEY,
	subnet_id      INTEGER NOT NULL REFERENCES subnets (id) ON DELETE CASCADE,
	ip             TEXT    NOT NULL,
	ip_key         TEXT    NOT NULL,
	mac            TEXT    NOT NULL DEFAULT '',
	mac_hex        TEXT    NOT NULL DEFAULT '', -- MAC without separators, for search
	mac_vendor     TEXT    NOT NULL DEFAULT '',
	mac_flags      TEXT    NOT NULL DEFAULT '[]', -- "randomized", "locally-administered", ...
	name           TEXT    NOT NULL DEFAULT '', -- effective: the admin's, else disc_name
	disc_name      TEXT    NOT NULL DEFAULT '', -- sysName, else first DNS name
	hostnames      TEXT    NOT NULL DEFAULT '[]',
	found_by       TEXT    NOT NULL DEFAULT '[]',
	state          TEXT    NOT NULL DEFAULT 'up' CHECK (state IN ('up', 'gone')),
	category       TEXT    NOT NULL DEFAULT 'unknown', -- effective: the admin's, else class_category
	vendor         TEXT    NOT NULL DEFAULT '', -- effective: class_vendor, else mac_vendor
	class_category TEXT    NOT NULL DEFAULT 'unknown',
	class_vendor   TEXT    NOT NULL DEFAULT '',
	model          TEXT    NOT NULL DEFAULT '',
	serial         TEXT    NOT NULL DEFAULT '',
	confidence     REAL    NOT NULL DEFAULT 0,
	reasons        TEXT    NOT NULL DEFAULT '[]',
	admin_category TEXT    NOT NULL DEFAULT '',
	admin_name     TEXT    NOT NULL DEFAULT '',
	admin_notes    TEXT    NOT NULL DEFAULT '',
	identified_by  TEXT    NOT NULL DEFAULT '',
	identified_at  INTEGER,
	status         TEXT    NOT NULL DEFAULT 'non-inventoried',
	missed_scans   INTEGER NOT NULL DEFAULT 0,
	first_seen     INTEGER NOT NULL,
	last_seen      INTEGER NOT NULL
);
-- Identity: one device per MAC in a subnet; MAC-less devices go by address.
-- Partial, so only queries that say mac <> '' themselves can use it.
CREATE UNIQUE INDEX devices_subnet_mac ON devices (subnet_id, mac) WHERE mac <> '';
CREATE INDEX devices_subnet_ip ON devices (subnet_id, ip_key);
CREATE INDEX devices_ip ON devices (ip_key);
CREATE INDEX devices_first_seen ON devices (first_seen);
CREATE INDEX devices_last_seen ON devices (last_seen);
CREATE INDEX devices_category ON devices (category);
CREATE INDEX devices_name ON devices (name);
CREATE INDEX devices_vendor ON devices (vendor);

CREATE TABLE device_snmp (
	device_id     INTEGER PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	version       TEXT    NOT NULL DEFAULT '',
	credential    TEXT    NOT NULL DEFAULT '',
	sys_name      TEXT    NOT NULL DEFAULT '',
	sys_descr     TEXT    NOT NULL DEFAULT '',
	sys_object_id TEXT    NOT NULL DEFAULT '',
	sys_location  TEXT    NOT NULL DEFAULT '',
	sys_contact   TEXT    NOT NULL DEFAULT '',
	uptime_s      INTEGER NOT NULL DEFAULT 0,
	evidence      TEXT, -- JSON of snmp.Evidence, for trying admin rules on a device
	at            INTEGER NOT NULL
);

CREATE TABLE sightings (
	id           INTEGER PRIMARY KEY,
	device_id    INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	kind         TEXT    NOT NULL CHECK (kind IN ('ip', 'mac', 'name')),
	value        TEXT    NOT NULL,
	scanner_kind TEXT    NOT NULL,
	scanner_id   TEXT    NOT NULL,
	first_seen   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	count        INTEGER NOT NULL DEFAULT 1,
	UNIQUE (device_id, kind, value, scanner_kind, scanner_id)
);

CREATE TABLE events (
	id        INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	kind      TEXT    NOT NULL,
	subnet_id INTEGER REFERENCES subnets (id) ON DELETE CASCADE,
	device_id INTEGER REFERENCES devices (id) ON DELETE CASCADE,
	scan_id   INTEGER REFERENCES scans (id) ON DELETE SET NULL,
	old_value TEXT    NOT NULL DEFAULT '',
	new_value TEXT    NOT NULL DEFAULT '',
	message   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_device ON events (device_id, id);
CREATE INDEX events_subnet ON events (subnet_id, id);
CREATE INDEX events_at ON events (at);
CREATE INDEX events_scan ON events (scan_id);
