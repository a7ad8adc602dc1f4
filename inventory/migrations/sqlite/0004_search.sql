-- Device search and the list's common filters on indexes: with 100,000
-- devices a substring search over six columns took most of a second.
--
-- device_search holds one lower-case text per device (address, MAC with and
-- without separators, names, vendors, model, DNS names) in an FTS5 trigram
-- index, which answers LIKE '%text%' from the index for three characters or
-- more. Triggers keep it in step with devices, so no code path can forget
-- it. (PostgreSQL: the same text in a generated column with a pg_trgm GIN
-- index.)

CREATE VIRTUAL TABLE device_search USING fts5(text, tokenize = 'trigram');

CREATE TRIGGER devices_search_insert AFTER INSERT ON devices
BEGIN
	INSERT INTO device_search (rowid, text) VALUES (new.id, lower(new.ip || ' ' || new.mac || ' ' || new.mac_hex || ' ' ||
		new.name || ' ' || new.disc_name || ' ' || new.vendor || ' ' || new.model || ' ' || new.mac_vendor || ' ' || new.hostnames));
END;

CREATE TRIGGER devices_search_update AFTER UPDATE ON devices
WHEN old.ip IS NOT new.ip OR old.mac IS NOT new.mac OR old.name IS NOT new.name OR old.disc_name IS NOT new.disc_name
	OR old.vendor IS NOT new.vendor OR old.model IS NOT new.model OR old.mac_vendor IS NOT new.mac_vendor
	OR old.hostnames IS NOT new.hostnames
BEGIN
	UPDATE device_search SET text = lower(new.ip || ' ' || new.mac || ' ' || new.mac_hex || ' ' ||
		new.name || ' ' || new.disc_name || ' ' || new.vendor || ' ' || new.model || ' ' || new.mac_vendor || ' ' || new.hostnames)
	WHERE rowid = new.id;
END;

CREATE TRIGGER devices_search_delete AFTER DELETE ON devices
BEGIN
	DELETE FROM device_search WHERE rowid = old.id;
END;

INSERT INTO device_search (rowid, text)
SELECT id, lower(ip || ' ' || mac || ' ' || mac_hex || ' ' || name || ' ' || disc_name || ' ' || vendor || ' ' ||
	model || ' ' || mac_vendor || ' ' || hostnames) FROM devices;

-- Filters that come with the default sort by address.
DROP INDEX devices_category;
CREATE INDEX devices_category_ip ON devices (category, ip_key);
DROP INDEX devices_vendor;
CREATE INDEX devices_vendor_ip ON devices (vendor COLLATE NOCASE, ip_key);
CREATE INDEX devices_state_ip ON devices (state, ip_key);
CREATE INDEX devices_status_ip ON devices (status, ip_key);
