-- Admin-defined device types kept in the store, and the settings admins
-- change at runtime.

-- One row per admin type rule. source is the rule in the YAML form of an
-- entry of a --rules file; name and category are copied out of it so the
-- list needs no parsing. Rules are tried in position order, and the first
-- that fires decides, as in a rules file.
CREATE TABLE type_rules (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	category   TEXT    NOT NULL,
	position   INTEGER NOT NULL,
	enabled    INTEGER NOT NULL DEFAULT 1,
	source     TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	updated_by TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX type_rules_position ON type_rules (position, id);

-- Settings as key and JSON value; keys unknown to the code are ignored, so
-- a downgrade keeps working. The typed view is inventory.Settings.
CREATE TABLE settings (
	key        TEXT    PRIMARY KEY,
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	updated_by TEXT    NOT NULL DEFAULT ''
);

-- Change counters: a scan asks for type_rules' before each run and
-- rebuilds its classifier only when it moved.
CREATE TABLE counters (
	name  TEXT    PRIMARY KEY,
	value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('type_rules', 0);
