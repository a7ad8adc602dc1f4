package inventory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/typing"
)

const scanRunCols = `id, subnet_id, scanner_kind, scanner_id, method, status, started_at, finished_at,
	stats, recorded, new_devices, gone, warnings, error`

func scanScanRun(row interface{ Scan(...any) error }) (ScanRun, error) {
	var (
		r                  ScanRun
		started            int64
		finished           sql.NullInt64
		stats, warnings    string
		recorded, nw, gone int
	)
	err := row.Scan(&r.ID, &r.SubnetID, &r.Scanner.Kind, &r.Scanner.ID, &r.Method, &r.Status, &started, &finished,
		&stats, &recorded, &nw, &gone, &warnings, &r.Error)
	if err != nil {
		return ScanRun{}, err
	}
	_ = json.Unmarshal([]byte(stats), &r.Stats)
	r.Stats.Recorded, r.Stats.NewDevices, r.Stats.Gone = recorded, nw, gone
	r.Started, r.Finished = timeOf(started), nullTime(finished)
	r.Warnings = stringsOf(warnings)
	return r, nil
}

// BeginScan implements ScanStore.
func (s *SQLite) BeginScan(ctx context.Context, subnetID int64, by Scanner, method string) (ScanRun, error) {
	switch by.Kind {
	case ScannerServer, ScannerAgent, ScannerSatellite:
	default:
		return ScanRun{}, fmt.Errorf("begin scan of subnet %d: %w: scanner kind %q", subnetID, ErrInvalid, by.Kind)
	}
	if by.ID == "" {
		return ScanRun{}, fmt.Errorf("begin scan of subnet %d: %w: scanner has no id", subnetID, ErrInvalid)
	}
	var run ScanRun
	err := s.write(ctx, func(tx wtx) error {
		var cidr string
		var policy ScanPolicy
		err := tx.QueryRowContext(ctx, `SELECT cidr, policy FROM subnets WHERE id = ?`, subnetID).Scan(&cidr, &policy)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if policy == ScanDeny {
			return fmt.Errorf("%w: subnet %s is denied for scanning", ErrInvalid, cidr)
		}
		now := s.now()
		// A scanner runs one scan of a subnet at a time; a run it left
		// open (its process died, its upload never came) ends here, so it
		// cannot stay "running" forever. Listening passively is not a
		// scan: an agent listens between its sweeps, and neither ends the
		// other.
		if _, err := tx.ExecContext(ctx, `UPDATE scans SET status = ?, finished_at = ?, error = ?
			WHERE subnet_id = ? AND scanner_kind = ? AND scanner_id = ? AND status = ?
			AND (method = ?) = (? = ?)`,
			ScanInterrupted, msOf(now), "superseded by a newer scan by the same scanner",
			subnetID, by.Kind, by.ID, ScanRunning, MethodPassive, method, MethodPassive); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO scans (subnet_id, scanner_kind, scanner_id, method, status, started_at)
			VALUES (?, ?, ?, ?, ?, ?)`, subnetID, by.Kind, by.ID, method, ScanRunning, msOf(now))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		run = ScanRun{ID: id, SubnetID: subnetID, Scanner: by, Method: method, Status: ScanRunning,
			Started: timeOf(msOf(now)), Warnings: []string{}}
		return nil
	})
	if err != nil {
		return ScanRun{}, fmt.Errorf("begin scan of subnet %d: %w", subnetID, err)
	}
	return run, nil
}

// The statements of the ingest path, prepared once at open (hotQueries).
var (
	qLoadRun = `SELECT ` + prefixCols("s", scanRunCols) + `, n.cidr, n.gone_after
		FROM scans s JOIN subnets n ON n.id = s.subnet_id WHERE s.id = ?`
	whereDevByMAC           = `subnet_id = ? AND mac = ? AND mac <> ''` // the partial unique index needs mac <> ''
	whereDevByIPPreferNoMAC = `subnet_id = ? AND ip_key = ? ORDER BY (mac = '') DESC, last_seen DESC LIMIT 1`
	whereDevByIP            = `subnet_id = ? AND ip_key = ? ORDER BY last_seen DESC LIMIT 1`
	whereDevByIPNoMAC       = `subnet_id = ? AND ip_key = ? AND mac = '' ORDER BY last_seen DESC LIMIT 1`
	// An address-keyed device that has been seen answering with the MAC.
	whereAlias = `subnet_id = ? AND ip_key = ? AND mac = '' AND EXISTS (SELECT 1 FROM sightings g
		WHERE g.device_id = devices.id AND g.kind = 'mac' AND g.value = ?) ORDER BY last_seen DESC LIMIT 1`
)

const (
	qInsertDevice = `INSERT INTO devices (subnet_id, ip, ip_key, mac, mac_hex, mac_vendor, mac_flags, name,
		disc_name, hostnames, found_by, state, category, vendor, class_category, class_vendor, model, serial,
		confidence, reasons, status, host_key, first_seen, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'up', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qUpdateDevice = `UPDATE devices SET ip = ?, ip_key = ?, mac = ?, mac_hex = ?, mac_vendor = ?, mac_flags = ?,
		name = ?, disc_name = ?, hostnames = ?, found_by = ?, state = 'up', category = ?, vendor = ?,
		class_category = ?, class_vendor = ?, model = ?, serial = ?, confidence = ?, reasons = ?, host_key = ?,
		missed_scans = 0, last_seen = ? WHERE id = ?`
	qUpsertSNMP = `INSERT INTO device_snmp (device_id, version, credential, sys_name, sys_descr,
		sys_object_id, sys_location, sys_contact, uptime_s, evidence, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_id) DO UPDATE SET version = excluded.version, credential = excluded.credential,
		sys_name = excluded.sys_name, sys_descr = excluded.sys_descr, sys_object_id = excluded.sys_object_id,
		sys_location = excluded.sys_location, sys_contact = excluded.sys_contact, uptime_s = excluded.uptime_s,
		evidence = COALESCE(excluded.evidence, device_snmp.evidence), at = excluded.at`
	qSight = `INSERT INTO sightings (device_id, kind, value, scanner_kind, scanner_id, first_seen, last_seen, count)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (device_id, kind, value, scanner_kind, scanner_id)
		DO UPDATE SET last_seen = excluded.last_seen, count = sightings.count + 1`
	qAddEvent = `INSERT INTO events (at, kind, subnet_id, device_id, scan_id, old_value, new_value, message)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qCountRecorded = `UPDATE scans SET recorded = recorded + ?, new_devices = new_devices + ? WHERE id = ?`
)

// hotQueries are prepared at open; see wtx.
var hotQueries = []string{
	qLoadRun,
	`SELECT ` + devRowCols + ` FROM devices WHERE ` + whereDevByMAC,
	`SELECT ` + devRowCols + ` FROM devices WHERE ` + whereDevByIPPreferNoMAC,
	`SELECT ` + devRowCols + ` FROM devices WHERE ` + whereDevByIP,
	qInsertDevice, qUpdateDevice, qUpsertSNMP, qSight, qAddEvent, qCountRecorded,
	qAgentByNICMAC, qAgentBySerial, qAgentByHost, qSetLink, qAgentHostname,
	qUpsertAgent, qDeleteNICs, qInsertNIC, qInsertAddress, qSubnetOf4, qSubnetOf6,
}

// runInfo is what recording a device needs to know about its run.
type runInfo struct {
	ScanRun
	cidr      string
	prefix    netip.Prefix
	goneAfter int
}

func loadRun(ctx context.Context, tx wtx, scanID int64) (runInfo, error) {
	var ri runInfo
	row := tx.QueryRowContext(ctx, qLoadRun, scanID)
	var err error
	ri.ScanRun, err = scanScanRun(scanRow{row, []any{&ri.cidr, &ri.goneAfter}})
	if errors.Is(err, sql.ErrNoRows) {
		return ri, fmt.Errorf("scan %d: %w", scanID, ErrNotFound)
	}
	if err != nil {
		return ri, fmt.Errorf("scan %d: %w", scanID, err)
	}
	ri.prefix, _ = netip.ParsePrefix(ri.cidr)
	return ri, nil
}

// scanRow appends destinations to a row scan, so one scan function serves
// joins that select a few more columns.
type scanRow struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (r scanRow) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra...)...) }

// prefixCols qualifies a column list with a table alias.
func prefixCols(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// RecordDevice implements ScanStore.
func (s *SQLite) RecordDevice(ctx context.Context, scanID int64, d scan.Device) (int64, error) {
	ids, err := s.RecordDevices(ctx, scanID, []scan.Device{d})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// RecordDevices implements ScanStore.
func (s *SQLite) RecordDevices(ctx context.Context, scanID int64, ds []scan.Device) ([]int64, error) {
	ids := make([]int64, 0, len(ds))
	err := s.write(ctx, func(tx wtx) error {
		ids = ids[:0]
		run, err := loadRun(ctx, tx, scanID)
		if err != nil {
			return fmt.Errorf("record devices: %w", err)
		}
		if run.Status != ScanRunning {
			return fmt.Errorf("record devices: %w: scan %d is %s", ErrInvalid, scanID, run.Status)
		}
		created := 0
		for _, d := range ds {
			id, isNew, err := s.recordOne(ctx, tx, run, d)
			if err != nil {
				return fmt.Errorf("record device %s in subnet %s: %w", d.IP, run.cidr, err)
			}
			ids = append(ids, id)
			if isNew {
				created++
			}
		}
		_, err = tx.ExecContext(ctx, qCountRecorded,
			len(ds), created, scanID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// devRow is the stored state of a device that recording compares against.
type devRow struct {
	id                                int64
	ip, mac                           string
	state                             DeviceState
	category, classCategory           typing.Category
	classVendor, macVendor            string
	model, serial                     string
	confidence                        float64
	reasons, hostnames, foundBy       string
	adminCategory                     typing.Category
	adminName, identifiedBy, discName string
	agentID                           sql.NullInt64
	matchKind                         MatchKind
	lastSeen                          int64
	macFlags                          string
}

const devRowCols = `id, ip, mac, state, category, class_category, class_vendor, mac_vendor, model, serial,
	confidence, reasons, hostnames, found_by, admin_category, admin_name, identified_by, disc_name, agent_id, match_kind,
	last_seen, mac_flags`

func findDev(ctx context.Context, tx wtx, where string, args ...any) (*devRow, error) {
	var r devRow
	err := tx.QueryRowContext(ctx, `SELECT `+devRowCols+` FROM devices WHERE `+where, args...).Scan(
		&r.id, &r.ip, &r.mac, &r.state, &r.category, &r.classCategory, &r.classVendor, &r.macVendor, &r.model,
		&r.serial, &r.confidence, &r.reasons, &r.hostnames, &r.foundBy, &r.adminCategory, &r.adminName,
		&r.identifiedBy, &r.discName, &r.agentID, &r.matchKind, &r.lastSeen, &r.macFlags)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// recordOne merges one scanned device into the subnet's inventory.
func (s *SQLite) recordOne(ctx context.Context, tx wtx, run runInfo, d scan.Device) (id int64, isNew bool, err error) {
	addr, err := netip.ParseAddr(strings.TrimSpace(d.IP))
	if err != nil {
		return 0, false, fmt.Errorf("%w: address %q", ErrInvalid, d.IP)
	}
	addr = addr.Unmap()
	if !run.prefix.Contains(addr) {
		return 0, false, fmt.Errorf("%w: %s is outside the subnet", ErrInvalid, addr)
	}
	ip, key, mac := addr.String(), ipKey(addr), normMAC(d.MAC)

	// Identity: the MAC where known, else the address. A device first seen
	// without a MAC (across a router) learns it when a local scan sees it.
	// An address answered by a new MAC is the same device with a new NIC
	// only when its name or serial says so; otherwise it is a new device
	// that took the address.
	//
	// A MAC answering for several addresses in one run (proxy ARP, a
	// router, secondary addresses) would otherwise make its device hop
	// between them with an "IP changed" event each time; the second and
	// later addresses become devices of their own, keyed by address, with
	// the MAC kept as a sighting.
	var cur *devRow
	var oldMAC string
	seenMAC := mac
	if mac != "" {
		if cur, err = findDev(ctx, tx, whereDevByMAC, run.SubnetID, mac); err != nil {
			return 0, false, err
		}
		if cur != nil && cur.ip != ip {
			alias, err := findDev(ctx, tx, whereAlias, run.SubnetID, key, mac)
			if err != nil {
				return 0, false, err
			}
			switch {
			case alias != nil:
				cur, mac = alias, ""
			case cur.lastSeen >= msOf(run.Started):
				if cur, err = findDev(ctx, tx, whereDevByIPNoMAC, run.SubnetID, key); err != nil {
					return 0, false, err
				}
				mac = ""
			}
		}
		if cur == nil && mac != "" {
			cand, err := findDev(ctx, tx, whereDevByIPPreferNoMAC, run.SubnetID, key)
			if err != nil {
				return 0, false, err
			}
			switch {
			case cand == nil:
			case cand.mac == "":
				cur = cand
			case sameMachine(cand, d):
				cur, oldMAC = cand, cand.mac
			}
		}
	} else if cur, err = findDev(ctx, tx, whereDevByIP, run.SubnetID, key); err != nil {
		return 0, false, err
	}

	now := s.now()
	nowMS := msOf(now)
	in := mergeDevice(cur, d, mac)

	if cur == nil {
		res, err := tx.ExecContext(ctx, qInsertDevice,
			run.SubnetID, ip, key, mac, macHex(mac), in.macVendor, in.macFlags, in.discName, in.discName, in.hostnames,
			in.foundBy, in.classCategory, in.vendor(), in.classCategory, in.classVendor, in.model, in.serial,
			in.confidence, in.reasons, NonInventoried, in.hostKey(), nowMS, nowMS)
		if err != nil {
			return 0, false, err
		}
		if id, err = res.LastInsertId(); err != nil {
			return 0, false, err
		}
		desc := ip
		if mac != "" {
			desc += " (" + mac + ")"
		}
		if in.discName != "" {
			desc += " " + in.discName
		}
		if err := addEvent(ctx, tx, Event{At: now, Kind: EventNewDevice, SubnetID: run.SubnetID, DeviceID: id,
			ScanID: run.ID, New: ip, Message: "new device " + desc}); err != nil {
			return 0, false, err
		}
		isNew = true
	} else {
		id = cur.id
		ev := func(kind EventKind, old, nw, msg string) error {
			return addEvent(ctx, tx, Event{At: now, Kind: kind, SubnetID: run.SubnetID, DeviceID: id, ScanID: run.ID,
				Old: old, New: nw, Message: msg})
		}
		if cur.state == StateGone {
			if err := ev(EventReturned, "", ip, fmt.Sprintf("device %s is back", ip)); err != nil {
				return 0, false, err
			}
		}
		if cur.ip != ip {
			if err := ev(EventIPChanged, cur.ip, ip, fmt.Sprintf("address changed from %s to %s", cur.ip, ip)); err != nil {
				return 0, false, err
			}
		}
		if oldMAC != "" {
			if err := ev(EventMACChanged, oldMAC, mac, fmt.Sprintf("%s changed MAC from %s to %s", ip, oldMAC, mac)); err != nil {
				return 0, false, err
			}
		}
		if eff := in.effectiveCategory(); eff != cur.category {
			if err := ev(EventCategoryChanged, string(cur.category), string(eff),
				fmt.Sprintf("%s is now %s (was %s)", ip, eff, cur.category)); err != nil {
				return 0, false, err
			}
		}
		newMAC := cur.mac
		if mac != "" {
			newMAC = mac
		}
		_, err = tx.ExecContext(ctx, qUpdateDevice,
			ip, key, newMAC, macHex(newMAC), in.macVendor, in.macFlags, in.name(), in.discName, in.hostnames, in.foundBy,
			in.effectiveCategory(), in.vendor(), in.classCategory, in.classVendor, in.model, in.serial, in.confidence,
			in.reasons, in.hostKey(), nowMS, id)
		if err != nil {
			return 0, false, err
		}
	}

	if err := sight(ctx, tx, id, SightIP, ip, run.Scanner, nowMS); err != nil {
		return 0, false, err
	}
	if seenMAC != "" {
		if err := sight(ctx, tx, id, SightMAC, seenMAC, run.Scanner, nowMS); err != nil {
			return 0, false, err
		}
	}
	var names []string
	if d.SNMP != nil && d.SNMP.SysName != "" {
		names = append(names, d.SNMP.SysName)
	}
	for _, h := range d.Hostnames {
		if h = strings.TrimSuffix(h, "."); h != "" && !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	for _, n := range names {
		if err := sight(ctx, tx, id, SightName, n, run.Scanner, nowMS); err != nil {
			return 0, false, err
		}
	}

	if d.SNMP != nil {
		var evidence sql.NullString
		if d.Evidence != nil {
			b, err := json.Marshal(d.Evidence)
			if err != nil {
				return 0, false, fmt.Errorf("encode SNMP evidence: %w", err)
			}
			evidence = sql.NullString{String: string(b), Valid: true}
		}
		sn := d.SNMP
		_, err := tx.ExecContext(ctx, qUpsertSNMP,
			id, sn.Version, sn.Credential, sn.SysName, sn.SysDescr, sn.SysObjectID, sn.SysLocation, sn.SysContact,
			sn.UptimeS, evidence, nowMS)
		if err != nil {
			return 0, false, fmt.Errorf("store SNMP facts: %w", err)
		}
	}

	sysName := ""
	if d.SNMP != nil {
		sysName = d.SNMP.SysName
	}
	hostnames := stringsOf(in.hostnames)
	if len(hostnames) == 0 && sysName == "" && in.discName != "" {
		hostnames = []string{in.discName}
	}
	var curLink linkState
	if cur != nil {
		curLink = linkState{cur.agentID.Int64, cur.matchKind, cur.identifiedBy != ""}
	} else {
		curLink = linkState{}
	}
	mm := mac
	if mm == "" && cur != nil {
		mm = cur.mac
	}
	if err := relink(ctx, tx, now, id, run.SubnetID, curLink, linkKeys{mac: mm, serial: in.serial, sysName: sysName, hostnames: hostnames}); err != nil {
		return 0, false, err
	}
	curBy := ""
	if cur != nil {
		curBy = cur.identifiedBy
	}
	if err := ruleIdentify(ctx, tx, id, curBy, d.Type, nowMS); err != nil {
		return 0, false, err
	}
	return id, isNew, nil
}

// ruleIDPrefix marks an identification an admin rule made, as opposed to
// one a person made by hand.
const ruleIDPrefix = "rule:"

// ruleIdentify keeps a device's "identified" mark in step with the admin
// rules: a device an admin type matched counts as identified (OCS users
// count it so), and loses the mark when the rule stops matching. A
// person's identification is never touched.
func ruleIdentify(ctx context.Context, tx wtx, deviceID int64, curBy, ruleType string, nowMS int64) error {
	if curBy != "" && !strings.HasPrefix(curBy, ruleIDPrefix) {
		return nil
	}
	by := ""
	if ruleType != "" {
		by = ruleIDPrefix + ruleType
	}
	if by == curBy {
		return nil
	}
	var at any
	if by != "" {
		at = nowMS
	}
	_, err := tx.ExecContext(ctx, `UPDATE devices SET identified_by = ?, identified_at = ?,
		status = CASE WHEN agent_id IS NOT NULL THEN 'inventoried' WHEN ? <> '' THEN 'identified' ELSE 'non-inventoried' END
		WHERE id = ?`, by, at, by, deviceID)
	if err != nil {
		return fmt.Errorf("identify by rule: %w", err)
	}
	return nil
}

// sameMachine reports whether a scanned device that answers at cand's
// address with another MAC is cand with a new NIC (dock, USB adapter, new
// board): it must say the same name or serial.
func sameMachine(cand *devRow, d scan.Device) bool {
	if s := usableSerial(d.Serial); s != "" && strings.EqualFold(s, cand.serial) {
		return true
	}
	k := hostKey(d.Name())
	return k != "" && k == hostKey(cand.discName)
}

// merged is a device's stored fields after a sighting.
type merged struct {
	macVendor, macFlags          string
	discName, hostnames, foundBy string
	classCategory                typing.Category
	classVendor, model, serial   string
	confidence                   float64
	reasons                      string
	adminCategory                typing.Category
	adminName                    string
}

// mergeDevice combines what is stored with what a scan saw. A scan that
// learnt less than before (SNMP timed out, DNS failed) does not erase what
// is known: a printer that missed one SNMP poll is still a printer, and
// flipping it to unknown would raise two category events for nothing.
func mergeDevice(cur *devRow, d scan.Device, mac string) merged {
	m := merged{
		macVendor:     d.MACVendor,
		macFlags:      toJSON(nonNil(d.MACFlags)),
		discName:      strings.TrimSuffix(d.Name(), "."),
		hostnames:     toJSON(nonNil(d.Hostnames)),
		foundBy:       toJSON(nonNil(d.FoundBy)),
		classCategory: typing.Category(d.Category),
		classVendor:   d.Vendor,
		model:         d.Model,
		serial:        d.Serial,
		confidence:    d.Confidence,
		reasons:       toJSON(nonNil(d.Reasons)),
	}
	if m.classCategory == "" {
		m.classCategory = typing.Unknown
	}
	if cur == nil {
		return m
	}
	m.adminCategory, m.adminName = cur.adminCategory, cur.adminName
	learnt := d.SNMP != nil || m.classCategory != typing.Unknown
	if !learnt && cur.classCategory != typing.Unknown {
		m.classCategory, m.classVendor, m.model, m.serial = cur.classCategory, cur.classVendor, cur.model, cur.serial
		m.confidence, m.reasons = cur.confidence, cur.reasons
	}
	if mac == "" || mac == cur.mac {
		if m.macVendor == "" {
			m.macVendor = cur.macVendor
		}
		if len(d.MACFlags) == 0 {
			m.macFlags = cur.macFlags
		}
	}
	if m.discName == "" {
		m.discName = cur.discName
	}
	if len(d.Hostnames) == 0 {
		m.hostnames = cur.hostnames
	}
	return m
}

func (m merged) effectiveCategory() typing.Category {
	if m.adminCategory != "" {
		return m.adminCategory
	}
	return m.classCategory
}

func (m merged) name() string {
	if m.adminName != "" {
		return m.adminName
	}
	return m.discName
}

func (m merged) vendor() string {
	if m.classVendor != "" {
		return m.classVendor
	}
	return m.macVendor
}

func (m merged) hostKey() string {
	if k := hostKey(m.discName); k != "" {
		return k
	}
	for _, h := range stringsOf(m.hostnames) {
		if k := hostKey(h); k != "" {
			return k
		}
	}
	return ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func macHex(mac string) string { return strings.ReplaceAll(mac, ":", "") }

func sight(ctx context.Context, tx wtx, deviceID int64, kind SightingKind, value string, by Scanner, nowMS int64) error {
	_, err := tx.ExecContext(ctx, qSight,
		deviceID, kind, value, by.Kind, by.ID, nowMS, nowMS)
	if err != nil {
		return fmt.Errorf("record %s sighting %s: %w", kind, value, err)
	}
	return nil
}

func addEvent(ctx context.Context, tx wtx, e Event) error {
	_, err := tx.ExecContext(ctx, qAddEvent,
		msOf(e.At), e.Kind, nullID(e.SubnetID), nullID(e.DeviceID), nullID(e.ScanID), e.Old, e.New, e.Message)
	if err != nil {
		return fmt.Errorf("record %s event: %w", e.Kind, err)
	}
	return nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// FinishScan implements ScanStore.
func (s *SQLite) FinishScan(ctx context.Context, scanID int64, end ScanEnd) (ScanRun, error) {
	var out ScanRun
	err := s.write(ctx, func(tx wtx) error {
		run, err := loadRun(ctx, tx, scanID)
		if err != nil {
			return err
		}
		if run.Status != ScanRunning {
			return fmt.Errorf("%w: scan %d is already %s", ErrInvalid, scanID, run.Status)
		}
		status := ScanDone
		switch {
		case end.Error != "":
			status = ScanFailed
		case end.Incomplete:
			status = ScanIncomplete
		}
		now := s.now()
		gone := 0
		// Only a complete run says anything about who is missing: a
		// cancelled or failed one would declare half the subnet gone.
		if status == ScanDone {
			if gone, err = s.countMisses(ctx, tx, run, now); err != nil {
				return err
			}
		}
		engine := end.Stats
		engine.Recorded, engine.NewDevices, engine.Gone = 0, 0, 0
		_, err = tx.ExecContext(ctx, `UPDATE scans SET status = ?, finished_at = ?, stats = ?, gone = ?, warnings = ?,
			error = ? WHERE id = ?`, status, msOf(now), toJSON(engine), gone, toJSON(nonNil(end.Warnings)), end.Error, scanID)
		if err != nil {
			return err
		}
		out, err = scanScanRun(tx.QueryRowContext(ctx, `SELECT `+scanRunCols+` FROM scans WHERE id = ?`, scanID))
		return err
	})
	if err != nil {
		return ScanRun{}, fmt.Errorf("finish scan %d: %w", scanID, err)
	}
	return out, nil
}

// countMisses counts a miss for every device up in the subnet that nobody
// saw since the run started, and declares gone those at GoneAfter misses.
func (s *SQLite) countMisses(ctx context.Context, tx wtx, run runInfo, now time.Time) (int, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE devices SET missed_scans = missed_scans + 1
		WHERE subnet_id = ? AND state = 'up' AND last_seen < ?`, run.SubnetID, msOf(run.Started)); err != nil {
		return 0, fmt.Errorf("count missed devices: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, ip, mac, name FROM devices
		WHERE subnet_id = ? AND state = 'up' AND missed_scans >= ?`, run.SubnetID, run.goneAfter)
	if err != nil {
		return 0, fmt.Errorf("find gone devices: %w", err)
	}
	type goneDev struct {
		id            int64
		ip, mac, name string
	}
	var gone []goneDev
	for rows.Next() {
		var g goneDev
		if err := rows.Scan(&g.id, &g.ip, &g.mac, &g.name); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find gone devices: %w", err)
		}
		gone = append(gone, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find gone devices: %w", err)
	}
	for _, g := range gone {
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET state = 'gone' WHERE id = ?`, g.id); err != nil {
			return 0, fmt.Errorf("mark device %s gone: %w", g.ip, err)
		}
		desc := strings.TrimSpace(g.ip + " " + g.name)
		if err := addEvent(ctx, tx, Event{At: now, Kind: EventGone, SubnetID: run.SubnetID, DeviceID: g.id, ScanID: run.ID,
			Old: g.ip, Message: fmt.Sprintf("device %s missed %d scans in a row", desc, run.goneAfter)}); err != nil {
			return 0, err
		}
	}
	return len(gone), nil
}

// ScanRun implements ScanStore.
func (s *SQLite) ScanRun(ctx context.Context, id int64) (ScanRun, error) {
	r, err := scanScanRun(s.r.QueryRowContext(ctx, `SELECT `+scanRunCols+` FROM scans WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return ScanRun{}, fmt.Errorf("get scan %d: %w", id, err)
	}
	return r, nil
}

// ScanRuns implements ScanStore.
func (s *SQLite) ScanRuns(ctx context.Context, subnetID int64, limit int) ([]ScanRun, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT ` + scanRunCols + ` FROM scans`
	args := []any{}
	if subnetID != 0 {
		q += ` WHERE subnet_id = ?`
		args = append(args, subnetID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	out, err := queryAll(ctx, s.r, scanScanRun, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list scans of subnet %d: %w", subnetID, err)
	}
	return out, nil
}
