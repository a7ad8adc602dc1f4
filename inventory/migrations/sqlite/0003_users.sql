-- People and machines allowed in, what they did, and sealed SNMP credentials.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	username      TEXT    NOT NULL UNIQUE, -- lower case
	password_hash TEXT    NOT NULL,
	role          TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	last_login    INTEGER
);

CREATE TABLE sessions (
	id          INTEGER PRIMARY KEY,
	token_hash  TEXT    NOT NULL UNIQUE, -- SHA-256 of the cookie value
	user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	remote_addr TEXT    NOT NULL DEFAULT '',
	user_agent  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	token_hash TEXT    NOT NULL UNIQUE, -- SHA-256 of the token
	prefix     TEXT    NOT NULL,
	role       TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
	created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	last_used  INTEGER,
	revoked_at INTEGER
);

CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	actor       TEXT    NOT NULL,
	action      TEXT    NOT NULL,
	target      TEXT    NOT NULL DEFAULT '',
	details     TEXT    NOT NULL DEFAULT '',
	remote_addr TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
-- Append-only, enforced by the database itself.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TABLE snmp_credentials (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	version    INTEGER NOT NULL CHECK (version IN (1, 2, 3)),
	username   TEXT    NOT NULL DEFAULT '',
	auth_proto TEXT    NOT NULL DEFAULT '',
	priv_proto TEXT    NOT NULL DEFAULT '',
	context    TEXT    NOT NULL DEFAULT '',
	secret     BLOB    NOT NULL, -- AES-256-GCM: nonce || ciphertext || tag
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
