-- satellites: SSH hosts that send magic packets (and scan) inside subnets
-- the server does not sit on. The private key is sealed like SNMP secrets
-- (AES-256-GCM, bound to the satellite's name); a host key is trusted only
-- once an admin confirmed its fingerprint. Times are Unix milliseconds.

CREATE TABLE satellites (
	id                  INTEGER PRIMARY KEY,
	name                TEXT    NOT NULL UNIQUE,
	address             TEXT    NOT NULL,
	port                INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
	username            TEXT    NOT NULL,
	key_file            TEXT    NOT NULL DEFAULT '',
	private_key         BLOB, -- sealed; NULL when none is stored
	host_key            TEXT    NOT NULL DEFAULT '', -- trusted, authorized_keys form
	host_key_confirmed  INTEGER NOT NULL DEFAULT 0,
	fingerprint         TEXT    NOT NULL DEFAULT '',
	pending_host_key    TEXT    NOT NULL DEFAULT '', -- offered to a test, not confirmed
	pending_fingerprint TEXT    NOT NULL DEFAULT '',
	subnets             TEXT    NOT NULL DEFAULT '[]', -- JSON list of CIDRs
	wake_command        TEXT    NOT NULL,
	iface               TEXT    NOT NULL DEFAULT '', -- the satellite's interface, for {iface}
	has_lanscout        INTEGER NOT NULL DEFAULT 0,
	source              TEXT    NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'config')),
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL
);

-- wake jobs: one row per request, one per target with the route it took
-- and how it ended; scheduled wakes. Times are Unix milliseconds.

CREATE TABLE wake_jobs (
	id           INTEGER PRIMARY KEY,
	requested_by TEXT    NOT NULL,
	source       TEXT    NOT NULL DEFAULT '',
	schedule_id  INTEGER, -- no foreign key: a deleted schedule keeps its history
	fallback     INTEGER NOT NULL DEFAULT 0,
	status       TEXT    NOT NULL CHECK (status IN ('running', 'done', 'interrupted')),
	created_at   INTEGER NOT NULL,
	finished_at  INTEGER
);
CREATE INDEX wake_jobs_status ON wake_jobs (status);
CREATE INDEX wake_jobs_schedule ON wake_jobs (schedule_id, id);

CREATE TABLE wake_targets (
	id           INTEGER PRIMARY KEY,
	job_id       INTEGER NOT NULL REFERENCES wake_jobs (id) ON DELETE CASCADE,
	device_id    INTEGER, -- no foreign key: a deleted device keeps its wake history
	mac          TEXT    NOT NULL,
	ip           TEXT    NOT NULL DEFAULT '',
	subnet_id    INTEGER,
	subnet       TEXT    NOT NULL DEFAULT '',
	route        TEXT    NOT NULL DEFAULT 'none',
	via          TEXT    NOT NULL DEFAULT '',
	method       TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'confirmed', 'unconfirmed', 'failed', 'no_route')),
	detail       TEXT    NOT NULL DEFAULT '',
	sent_at      INTEGER,
	confirmed_at INTEGER,
	confirmed_by TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX wake_targets_job ON wake_targets (job_id, id);

CREATE TABLE wake_schedules (
	id         INTEGER PRIMARY KEY AUTOINCREMENT, -- wake_jobs.schedule_id keeps the history of deleted ones: never reuse
	name       TEXT    NOT NULL,
	at         TEXT    NOT NULL, -- HH:MM, server time zone
	days       TEXT    NOT NULL DEFAULT '[]', -- JSON: "mon".."sun", empty for every day
	device_ids TEXT    NOT NULL DEFAULT '[]', -- JSON list of device ids
	subnet_id  INTEGER REFERENCES subnets (id) ON DELETE CASCADE,
	fallback   INTEGER NOT NULL DEFAULT 0,
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	last_run   INTEGER,
	last_job   INTEGER
);
