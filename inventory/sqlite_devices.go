package inventory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

const deviceCols = `d.id, d.subnet_id, d.ip, d.mac, d.mac_vendor, d.mac_flags, d.name, d.hostnames, d.found_by, d.state, d.category,
	d.vendor, d.class_category, d.class_vendor, d.model, d.serial, d.confidence, d.reasons, d.admin_category,
	d.admin_name, d.admin_notes, d.identified_by, d.identified_at, d.status, d.agent_id, d.match_kind,
	d.missed_scans, d.first_seen, d.last_seen,
	sn.version, sn.credential, sn.sys_name, sn.sys_descr, sn.sys_object_id, sn.sys_location, sn.sys_contact,
	sn.uptime_s, sn.at`

const deviceFrom = ` FROM devices d LEFT JOIN device_snmp sn ON sn.device_id = d.id`

func scanDevice(row interface{ Scan(...any) error }) (Device, error) {
	var (
		d                            Device
		hostnames, foundBy, reasons  string
		macFlags                     string
		adminCat, adminName, notes   string
		identifiedBy                 string
		identifiedAt, agentID        sql.NullInt64
		first, last                  int64
		snVer, snCred, snName        sql.NullString
		snDescr, snOID, snLoc, snCon sql.NullString
		snUp, snAt                   sql.NullInt64
	)
	err := row.Scan(&d.ID, &d.SubnetID, &d.IP, &d.MAC, &d.MACVendor, &macFlags, &d.Name, &hostnames, &foundBy, &d.State,
		&d.Category, &d.Vendor, &d.Classification.Category, &d.Classification.Vendor, &d.Model, &d.Serial,
		&d.Classification.Confidence, &reasons, &adminCat, &adminName, &notes, &identifiedBy, &identifiedAt,
		&d.Status, &agentID, &d.Match, &d.MissedScans, &first, &last,
		&snVer, &snCred, &snName, &snDescr, &snOID, &snLoc, &snCon, &snUp, &snAt)
	if err != nil {
		return Device{}, err
	}
	d.Hostnames, d.FoundBy, d.MACFlags = stringsOf(hostnames), stringsOf(foundBy), stringsOf(macFlags)
	d.Classification.Model, d.Classification.Serial = d.Model, d.Serial
	d.Classification.Reasons = stringsOf(reasons)
	if identifiedBy != "" {
		d.Identification = &Identification{Category: typing.Category(adminCat), Name: adminName, Notes: notes,
			By: identifiedBy, At: nullTime(identifiedAt)}
		if adminCat == "" && strings.HasPrefix(identifiedBy, ruleIDPrefix) {
			// An admin rule typed it: what it is is the classification.
			d.Identification.Category = d.Classification.Category
		}
	}
	d.AgentID = agentID.Int64
	d.FirstSeen, d.LastSeen = timeOf(first), timeOf(last)
	if snAt.Valid {
		d.SNMP = &SNMPFacts{Version: snVer.String, Credential: snCred.String, SysName: snName.String,
			SysDescr: snDescr.String, SysObjectID: snOID.String, SysLocation: snLoc.String, SysContact: snCon.String,
			UptimeS: snUp.Int64, At: timeOf(snAt.Int64)}
	}
	return d, nil
}

var sortCols = map[DeviceSort]string{
	SortIP:        "d.ip_key",
	SortName:      "d.name",
	SortMAC:       "d.mac",
	SortVendor:    "d.vendor",
	SortCategory:  "d.category",
	SortFirstSeen: "d.first_seen",
	SortLastSeen:  "d.last_seen",
}

// deviceWhere turns a query's filters into SQL. Every value is a bound
// parameter; only column names from this file are spliced in.
func deviceWhere(q DeviceQuery) (string, []any, error) {
	var where []string
	var args []any
	if s := strings.TrimSpace(q.Search); s != "" {
		// MACs are matched without separators too, so "00:1B:A9",
		// "001ba9" and "00-1b-a9" all find the same devices.
		hex := strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.ToLower(s))
		macLike := len(hex) >= 2 && isHex(hex) && looksLikeMAC(s)
		terms := []string{strings.ToLower(s)}
		if macLike {
			terms = append(terms, hex)
		}
		if strings.ContainsAny(s, `%_\`) {
			// Wildcards typed by the user are literal: LIKE with ESCAPE,
			// which the trigram index does not serve; rare enough to scan.
			pat := "%" + likeEscape(strings.ToLower(s)) + "%"
			where = append(where, `d.id IN (SELECT rowid FROM device_search WHERE text LIKE ? ESCAPE '\')`)
			args = append(args, pat)
		} else if m, ok := trigramMatch(terms); ok {
			// A quoted trigram phrase is the substring, answered from the
			// index alone. LIKE '%text%' uses the same index but SQLite
			// then checks the pattern against every candidate row's text:
			// for a fragment most devices share ("host-6", "10.2") that
			// was most of the devices page's time with 100k devices.
			where = append(where, `d.id IN (SELECT rowid FROM device_search WHERE device_search MATCH ?)`)
			args = append(args, m)
		} else if macLike {
			where = append(where, `d.id IN (SELECT rowid FROM device_search WHERE text LIKE ?
				UNION SELECT rowid FROM device_search WHERE text LIKE ?)`)
			args = append(args, "%"+strings.ToLower(s)+"%", "%"+hex+"%")
		} else {
			where = append(where, `d.id IN (SELECT rowid FROM device_search WHERE text LIKE ?)`)
			args = append(args, "%"+strings.ToLower(s)+"%")
		}
	}
	if q.SubnetID != 0 {
		where = append(where, `d.subnet_id = ?`)
		args = append(args, q.SubnetID)
	}
	if q.Category != "" {
		where = append(where, `d.category = ?`)
		args = append(args, q.Category)
	}
	if q.State != "" {
		if q.State != StateUp && q.State != StateGone {
			return "", nil, fmt.Errorf("%w: state %q", ErrInvalid, q.State)
		}
		where = append(where, `d.state = ?`)
		args = append(args, q.State)
	}
	if q.Vendor != "" {
		where = append(where, `d.vendor = ? COLLATE NOCASE`)
		args = append(args, q.Vendor)
	}
	if q.Status != "" {
		where = append(where, `d.status = ?`)
		args = append(args, q.Status)
	}
	if q.AgentID != 0 {
		where = append(where, `d.agent_id = ?`)
		args = append(args, q.AgentID)
	}
	if q.AnsweredSNMP {
		where = append(where, `d.id IN (SELECT device_id FROM device_snmp)`)
	}
	if len(where) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(where, " AND "), args, nil
}

// trigramMatch is the FTS5 query finding texts that contain any of terms:
// each a quoted phrase (quotes inside doubled), ORed. It is false when a
// term is shorter than three characters, which a trigram phrase cannot
// match; LIKE finds those by scanning.
func trigramMatch(terms []string) (string, bool) {
	phrases := make([]string, 0, len(terms))
	for _, t := range terms {
		if utf8.RuneCountInString(t) < 3 {
			return "", false
		}
		phrases = append(phrases, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
	}
	return strings.Join(phrases, " OR "), true
}

// looksLikeMAC reports whether a search has MAC separators: colons or
// dashes, or dots between groups of four (Cisco's 001b.a912.3456). Dots
// alone are an address: "10.10.0.2" must not also match MACs with 101002.
func looksLikeMAC(s string) bool {
	if strings.ContainsAny(s, ":-") {
		return true
	}
	for _, part := range strings.Split(s, ".") {
		if len(part) == 4 {
			return strings.Contains(s, ".")
		}
	}
	return false
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// Devices implements DeviceStore.
func (s *SQLite) Devices(ctx context.Context, q DeviceQuery) (DevicePage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 1000)
	q.Offset = max(q.Offset, 0)
	if q.Sort == "" {
		q.Sort = SortIP
	}
	col, ok := sortCols[q.Sort]
	if !ok {
		return DevicePage{}, fmt.Errorf("list devices: %w: sort key %q", ErrInvalid, q.Sort)
	}
	where, args, err := deviceWhere(q)
	if err != nil {
		return DevicePage{}, fmt.Errorf("list devices: %w", err)
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	// One read transaction so the page and its total agree.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return DevicePage{}, fmt.Errorf("list devices: %w", err)
	}
	defer tx.Rollback()
	page := DevicePage{Devices: []Device{}}
	order := " ORDER BY " + col + dir + ", d.id" + dir
	if strings.TrimSpace(q.Search) != "" && searchNarrowed(q) {
		// A search with another filter: the total and the page's ids
		// from one statement, so the search index is read once, not once
		// for the count and again for the page (it was most of the time
		// of a filtered, searched page). Not for a search alone: its
		// matches can be most of the devices, and buffering all of them
		// for the window costs more than reading the index twice.
		ids, total, err := deviceIDsAndTotal(ctx, tx, `SELECT d.id, COUNT(*) OVER () FROM devices d`+where+order+
			` LIMIT ? OFFSET ?`, append(args, q.Limit, q.Offset)...)
		if err != nil {
			return DevicePage{}, fmt.Errorf("list devices: %w", err)
		}
		if len(ids) == 0 && q.Offset > 0 {
			// Past the last page no row carries the total.
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices d`+where, args...).Scan(&total); err != nil {
				return DevicePage{}, fmt.Errorf("count devices: %w", err)
			}
		}
		page.Total = total
		if len(ids) == 0 {
			return page, nil
		}
		page.Devices, err = queryAll(ctx, tx, scanDevice, `SELECT `+deviceCols+deviceFrom+
			` WHERE d.id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`+order, ids...)
		if err != nil {
			return DevicePage{}, fmt.Errorf("list devices: %w", err)
		}
		return page, nil
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices d`+where, args...).Scan(&page.Total); err != nil {
		return DevicePage{}, fmt.Errorf("count devices: %w", err)
	}
	// The page's ids first, then its rows: skipping to page 1000 or
	// sorting a filtered list then walks an index or sorts small keys,
	// not whole rows joined to their SNMP facts, of which all but 50 are
	// thrown away.
	page.Devices, err = queryAll(ctx, tx, scanDevice, `SELECT `+deviceCols+deviceFrom+
		` WHERE d.id IN (SELECT d.id FROM devices d`+where+order+` LIMIT ? OFFSET ?)`+order,
		append(args, q.Limit, q.Offset)...)
	if err != nil {
		return DevicePage{}, fmt.Errorf("list devices: %w", err)
	}
	return page, nil
}

// searchNarrowed reports whether a query filters on more than its search.
func searchNarrowed(q DeviceQuery) bool {
	return q.SubnetID != 0 || q.Category != "" || q.State != "" || q.Vendor != "" || q.Status != "" ||
		q.AgentID != 0 || q.AnsweredSNMP
}

// deviceIDsAndTotal runs a query of (id, total) rows: a page's ids, each
// with the count of all matches.
func deviceIDsAndTotal(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]any, int, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var ids []any
	var total int
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &total); err != nil {
			return nil, 0, err
		}
		ids = append(ids, id)
	}
	return ids, total, rows.Err()
}

// EachDevice implements DeviceStore.
func (s *SQLite) EachDevice(ctx context.Context, q DeviceQuery, fn func(Device) error) error {
	if q.Sort == "" {
		q.Sort = SortIP
	}
	col, ok := sortCols[q.Sort]
	if !ok {
		return fmt.Errorf("export devices: %w: sort key %q", ErrInvalid, q.Sort)
	}
	where, args, err := deviceWhere(q)
	if err != nil {
		return fmt.Errorf("export devices: %w", err)
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+deviceCols+deviceFrom+where+" ORDER BY "+col+dir+", d.id"+dir, args...)
	if err != nil {
		return fmt.Errorf("export devices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return fmt.Errorf("export devices: %w", err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export devices: %w", err)
	}
	return nil
}

// Device implements DeviceStore.
func (s *SQLite) Device(ctx context.Context, id int64) (DeviceDetail, error) {
	d, err := scanDevice(s.r.QueryRowContext(ctx, `SELECT `+deviceCols+deviceFrom+` WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return DeviceDetail{}, fmt.Errorf("get device %d: %w", id, err)
	}
	det := DeviceDetail{Device: d, Sightings: []Sighting{}}
	rows, err := s.r.QueryContext(ctx, `SELECT kind, value, scanner_kind, scanner_id, first_seen, last_seen, count
		FROM sightings WHERE device_id = ? ORDER BY kind, last_seen DESC`, id)
	if err != nil {
		return DeviceDetail{}, fmt.Errorf("get sightings of device %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sg Sighting
		var first, last int64
		if err := rows.Scan(&sg.Kind, &sg.Value, &sg.Scanner.Kind, &sg.Scanner.ID, &first, &last, &sg.Count); err != nil {
			return DeviceDetail{}, fmt.Errorf("get sightings of device %d: %w", id, err)
		}
		sg.FirstSeen, sg.LastSeen = timeOf(first), timeOf(last)
		det.Sightings = append(det.Sightings, sg)
	}
	if err := rows.Err(); err != nil {
		return DeviceDetail{}, fmt.Errorf("get sightings of device %d: %w", id, err)
	}
	if det.Events, err = s.Events(ctx, EventQuery{DeviceID: id, Limit: 200}); err != nil {
		return DeviceDetail{}, err
	}
	if d.AgentID != 0 {
		a, err := s.Agent(ctx, d.AgentID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return DeviceDetail{}, err
		}
		if err == nil {
			det.Agent = &a
		}
	}
	return det, nil
}

// DeviceEvidence implements DeviceStore.
func (s *SQLite) DeviceEvidence(ctx context.Context, id int64) (*snmp.Evidence, error) {
	var raw sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT sn.evidence FROM devices d LEFT JOIN device_snmp sn ON sn.device_id = d.id
		WHERE d.id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get evidence of device %d: %w", id, err)
	}
	if !raw.Valid {
		return nil, nil
	}
	ev := snmp.NewEvidence()
	if err := json.Unmarshal([]byte(raw.String), ev); err != nil {
		return nil, fmt.Errorf("decode evidence of device %d: %w", id, err)
	}
	return ev, nil
}

// Identify implements DeviceStore.
func (s *SQLite) Identify(ctx context.Context, deviceID int64, id Identification) error {
	clear := id.Category == "" && id.Name == "" && id.Notes == ""
	if !clear {
		if id.By == "" {
			return fmt.Errorf("identify device %d: %w: who identifies it must be given", deviceID, ErrInvalid)
		}
		if id.Category != "" && !validCategory(id.Category) {
			return fmt.Errorf("identify device %d: %w: category %q", deviceID, ErrInvalid, id.Category)
		}
	}
	err := s.write(ctx, func(tx wtx) error {
		var (
			ip, name, discName string
			cat, classCat      typing.Category
			subnetID           int64
			agentID            sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT ip, name, disc_name, category, class_category, subnet_id, agent_id
			FROM devices WHERE id = ?`, deviceID).Scan(&ip, &name, &discName, &cat, &classCat, &subnetID, &agentID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := s.now()
		newCat, newName := classCat, discName
		if id.Category != "" {
			newCat = id.Category
		}
		if id.Name != "" {
			newName = id.Name
		}
		at := nullMS(now)
		if clear {
			id.By, at = "", sql.NullInt64{}
		}
		_, err = tx.ExecContext(ctx, `UPDATE devices SET admin_category = ?, admin_name = ?, admin_notes = ?,
			identified_by = ?, identified_at = ?, category = ?, name = ?, status = ? WHERE id = ?`,
			id.Category, id.Name, id.Notes, id.By, at, newCat, newName, statusOf(agentID.Int64, !clear), deviceID)
		if err != nil {
			return err
		}
		if newCat != cat {
			return addEvent(ctx, tx, Event{At: now, Kind: EventCategoryChanged, SubnetID: subnetID, DeviceID: deviceID,
				Old: string(cat), New: string(newCat), Message: fmt.Sprintf("%s set %s to %s (was %s)", orSystem(id.By), ip, newCat, cat)})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("identify device %d: %w", deviceID, err)
	}
	return nil
}

func orSystem(by string) string {
	if by == "" {
		return "an admin"
	}
	return by
}

func validCategory(c typing.Category) bool {
	for _, k := range typing.Categories {
		if k == c {
			return true
		}
	}
	return false
}

// DeleteDevice implements DeviceStore.
func (s *SQLite) DeleteDevice(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM devices WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete device %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("delete device %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// Events implements DeviceStore.
func (s *SQLite) Events(ctx context.Context, q EventQuery) ([]Event, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	var where []string
	var args []any
	if q.DeviceID != 0 {
		where, args = append(where, `device_id = ?`), append(args, q.DeviceID)
	}
	if q.SubnetID != 0 {
		where, args = append(where, `subnet_id = ?`), append(args, q.SubnetID)
	}
	if len(q.Kinds) > 0 {
		where = append(where, `kind IN (`+strings.TrimSuffix(strings.Repeat("?,", len(q.Kinds)), ",")+`)`)
		for _, k := range q.Kinds {
			args = append(args, k)
		}
	}
	if !q.Since.IsZero() {
		where, args = append(where, `at >= ?`), append(args, msOf(q.Since))
	}
	if q.AfterID != 0 {
		where, args = append(where, `id > ?`), append(args, q.AfterID)
	}
	query := `SELECT id, at, kind, subnet_id, device_id, scan_id, old_value, new_value, message FROM events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	// A follower (AfterID) reads forward; everyone else wants the latest.
	if q.AfterID != 0 {
		query += ` ORDER BY id ASC LIMIT ?`
	} else {
		query += ` ORDER BY id DESC LIMIT ?`
	}
	rows, err := s.r.QueryContext(ctx, query, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var at int64
		var subnet, device, scanID sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Kind, &subnet, &device, &scanID, &e.Old, &e.New, &e.Message); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		e.At, e.SubnetID, e.DeviceID, e.ScanID = timeOf(at), subnet.Int64, device.Int64, scanID.Int64
		out = append(out, e)
	}
	return out, rows.Err()
}

// Dashboard implements DeviceStore.
func (s *SQLite) Dashboard(ctx context.Context) (Dashboard, error) {
	var db Dashboard
	now := s.now()
	cats := map[typing.Category]int{}
	rows, err := s.r.QueryContext(ctx, `SELECT state, category, COUNT(*) FROM devices GROUP BY state, category`)
	if err != nil {
		return db, fmt.Errorf("dashboard: count categories: %w", err)
	}
	for rows.Next() {
		var state DeviceState
		var cat typing.Category
		var n int
		if err := rows.Scan(&state, &cat, &n); err != nil {
			rows.Close()
			return db, fmt.Errorf("dashboard: count categories: %w", err)
		}
		if state == StateGone {
			db.Gone += n
			continue
		}
		db.Devices += n
		cats[cat] += n
	}
	rows.Close()
	for _, c := range typing.Categories {
		db.ByCategory = append(db.ByCategory, CategoryCount{Category: c, Count: cats[c]})
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM agents`).Scan(&db.Agents); err != nil {
		return db, fmt.Errorf("dashboard: count agents: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices WHERE first_seen >= ?`,
		msOf(now.Add(-7*24*time.Hour))).Scan(&db.NewThisWeek); err != nil {
		return db, fmt.Errorf("dashboard: count new devices: %w", err)
	}

	// Per-day buckets by integer division of milliseconds: no date
	// functions, so the query is the same on PostgreSQL.
	const day = int64(24 * time.Hour / time.Millisecond)
	today := now.UTC().Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, -29)
	perDay := map[int64]int{}
	rows, err = s.r.QueryContext(ctx, `SELECT first_seen / ?, COUNT(*) FROM devices WHERE first_seen >= ? GROUP BY first_seen / ?`,
		day, msOf(start), day)
	if err != nil {
		return db, fmt.Errorf("dashboard: devices per day: %w", err)
	}
	for rows.Next() {
		var d int64
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			rows.Close()
			return db, fmt.Errorf("dashboard: devices per day: %w", err)
		}
		perDay[d] = n
	}
	rows.Close()
	for t := start; !t.After(today); t = t.AddDate(0, 0, 1) {
		db.NewPerDay = append(db.NewPerDay, DayCount{Day: t, Count: perDay[msOf(t)/day]})
	}

	subnets, err := s.Subnets(ctx)
	if err != nil {
		return db, fmt.Errorf("dashboard: %w", err)
	}
	counts, err := s.SubnetCounts(ctx)
	if err != nil {
		return db, fmt.Errorf("dashboard: %w", err)
	}
	byID := map[int64]SubnetCounts{}
	for _, c := range counts {
		byID[c.SubnetID] = c
	}
	runs, err := queryAll(ctx, s.r, scanScanRun, `SELECT `+scanRunCols+` FROM scans WHERE id IN (SELECT MAX(id) FROM scans GROUP BY subnet_id)`)
	if err != nil {
		return db, fmt.Errorf("dashboard: last scans: %w", err)
	}
	last := map[int64]ScanRun{}
	for _, r := range runs {
		last[r.SubnetID] = r
	}
	db.Subnets = []SubnetCoverage{}
	for _, sn := range subnets {
		c := byID[sn.ID]
		c.SubnetID = sn.ID
		cov := SubnetCoverage{Subnet: sn, Counts: c, Coverage: c.Coverage()}
		if r, ok := last[sn.ID]; ok {
			cov.LastScan = &r
		}
		db.Subnets = append(db.Subnets, cov)
	}
	if db.Recent, err = s.Events(ctx, EventQuery{Limit: 20}); err != nil {
		return db, fmt.Errorf("dashboard: %w", err)
	}
	return db, nil
}
