package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// The statements of agent ingest, prepared once at open (hotQueries).
const (
	qAgentByNICMAC = `SELECT agent_id FROM agent_nics WHERE mac = ? LIMIT 4`
	qAgentBySerial = `SELECT id FROM agents WHERE serial = ? LIMIT 2`
	qAgentByHost   = `SELECT id FROM agents WHERE host_key = ? LIMIT 2`
	qSetLink       = `UPDATE devices SET agent_id = ?, match_kind = ?, status = ? WHERE id = ?`
	qAgentHostname = `SELECT hostname FROM agents WHERE id = ?`
	qUpsertAgent   = `INSERT INTO agents (uid, kind, hostname, host_key, os_name, os_version, kernel,
		manufacturer, model, serial, uuid, version, raw, first_contact, last_contact, last_inventory)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (uid) DO UPDATE SET hostname = excluded.hostname,
		host_key = excluded.host_key, os_name = excluded.os_name, os_version = excluded.os_version,
		kernel = excluded.kernel, manufacturer = excluded.manufacturer, model = excluded.model,
		serial = excluded.serial, uuid = excluded.uuid, version = excluded.version, raw = excluded.raw,
		last_contact = excluded.last_contact, last_inventory = excluded.last_inventory
		WHERE agents.kind = excluded.kind
		RETURNING id`
	qDeleteNICs    = `DELETE FROM agent_nics WHERE agent_id = ?`
	qInsertNIC     = `INSERT INTO agent_nics (agent_id, name, mac, kind, state) VALUES (?, ?, ?, ?, ?) RETURNING id`
	qInsertAddress = `INSERT INTO agent_addresses (nic_id, agent_id, address, ip_key, subnet_id) VALUES (?, ?, ?, ?, ?)`
)

var (
	qSubnetOf4 = subnetOfQuery(32 - 16 + 1)
	qSubnetOf6 = subnetOfQuery(128 - 64 + 1)
)

// linkState is a device's current link to an agent machine.
type linkState struct {
	agentID    int64
	kind       MatchKind
	identified bool
}

// linkKeys are what a device offers to be matched with an agent machine.
type linkKeys struct {
	mac, serial, sysName string
	hostnames            []string
}

// queryer is what both *sql.DB and *sql.Tx offer for reading.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryAll runs query and reads every row with scan: never nil, so an
// empty list encodes as [] in the API.
func queryAll[T any](ctx context.Context, q queryer, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// queryOne runs query and reads its one row with scan; no row is
// ErrNotFound, for the caller to wrap with what it looked for.
func queryOne[T any](ctx context.Context, q queryer, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return v, err
}

// execer is what *sql.DB and wtx offer for writing.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// execOne runs a statement that names one row (UPDATE or DELETE by id):
// when it changes none, the row is not there and that is ErrNotFound.
func execOne(ctx context.Context, x execer, query string, args ...any) error {
	res, err := x.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// deleteRow deletes the row of table with id in a write transaction of
// its own; ErrNotFound when there is none.
func (s *SQLite) deleteRow(ctx context.Context, table string, id int64) error {
	return s.write(ctx, func(tx wtx) error {
		return execOne(ctx, tx, `DELETE FROM `+table+` WHERE id = ?`, id)
	})
}

// execCount runs a statement in a write transaction of its own and says
// how many rows it changed (prunes and sweeps).
func (s *SQLite) execCount(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// onlyAgent returns the agent a query names when it names exactly one:
// two machines with the same host name or serial (clones, placeholder
// values) match neither.
func onlyAgent(ctx context.Context, q queryer, query string, arg any) (int64, error) {
	rows, err := q.QueryContext(ctx, query, arg)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var found int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return 0, err
		}
		if found != 0 && found != id {
			return 0, nil
		}
		found = id
	}
	return found, rows.Err()
}

// findAgent matches a device to an agent machine, strongest evidence
// first: its MAC on one of the machine's NICs, then (MACs differ behind
// docks, USB NICs and randomised Wi-Fi) the serial, the sysName, a DNS name.
func findAgent(ctx context.Context, q queryer, k linkKeys) (int64, MatchKind, error) {
	if k.mac != "" {
		id, err := onlyAgent(ctx, q, qAgentByNICMAC, k.mac)
		if err != nil || id != 0 {
			return id, MatchMAC, err
		}
	}
	if serial := usableSerial(k.serial); serial != "" {
		id, err := onlyAgent(ctx, q, qAgentBySerial, serial)
		if err != nil || id != 0 {
			return id, MatchSerial, err
		}
	}
	if key := hostKey(k.sysName); key != "" {
		id, err := onlyAgent(ctx, q, qAgentByHost, key)
		if err != nil || id != 0 {
			return id, MatchSysName, err
		}
	}
	for _, h := range k.hostnames {
		if key := hostKey(h); key != "" {
			id, err := onlyAgent(ctx, q, qAgentByHost, key)
			if err != nil || id != 0 {
				return id, MatchHostname, err
			}
		}
	}
	return 0, MatchNone, nil
}

func statusOf(agentID int64, identified bool) Status {
	switch {
	case agentID != 0:
		return Inventoried
	case identified:
		return Identified
	}
	return NonInventoried
}

// relink recomputes a device's agent link and stores it when it changed.
func relink(ctx context.Context, tx wtx, now time.Time, deviceID, subnetID int64, cur linkState, k linkKeys) error {
	agentID, kind, err := findAgent(ctx, tx, k)
	if err != nil {
		return fmt.Errorf("match agent: %w", err)
	}
	if agentID == cur.agentID && kind == cur.kind {
		return nil
	}
	_, err = tx.ExecContext(ctx, qSetLink,
		nullID(agentID), kind, statusOf(agentID, cur.identified), deviceID)
	if err != nil {
		return fmt.Errorf("link agent: %w", err)
	}
	if agentID == 0 || agentID == cur.agentID {
		return nil
	}
	var host string
	if err := tx.QueryRowContext(ctx, qAgentHostname, agentID).Scan(&host); err != nil {
		return fmt.Errorf("link agent: %w", err)
	}
	return addEvent(ctx, tx, Event{At: now, Kind: EventAgentLinked, SubnetID: subnetID, DeviceID: deviceID,
		New: host, Message: fmt.Sprintf("linked to agent machine %s by %s", host, kind)})
}

const agentCols = `id, uid, kind, hostname, os_name, os_version, kernel, manufacturer, model, serial, uuid, version,
	first_contact, last_contact, last_inventory, fidelity, quality, capabilities, poll_interval_ms, revoked`

func scanAgent(row interface{ Scan(...any) error }) (Agent, error) {
	var (
		a             Agent
		first, last   int64
		lastInventory sql.NullInt64
		caps          string
		pollMS        int64
	)
	err := row.Scan(&a.ID, &a.UID, &a.Kind, &a.Hostname, &a.OSName, &a.OSVersion, &a.Kernel, &a.Manufacturer,
		&a.Model, &a.Serial, &a.UUID, &a.Version, &first, &last, &lastInventory, &a.Fidelity, &a.Quality,
		&caps, &pollMS, &a.Revoked)
	if err != nil {
		return Agent{}, err
	}
	a.Capabilities = stringsOf(caps)
	a.PollInterval = time.Duration(pollMS) * time.Millisecond
	a.FirstContact, a.LastContact, a.LastInventory = timeOf(first), timeOf(last), nullTime(lastInventory)
	a.NICs = []NIC{}
	return a, nil
}

// normalizeInventory checks an inventory and puts MACs and addresses in
// canonical form.
func normalizeInventory(inv *AgentInventory) error {
	inv.UID = strings.TrimSpace(inv.UID)
	if inv.UID == "" || len(inv.UID) > 255 {
		return fmt.Errorf("%w: agent UID must be 1 to 255 characters", ErrInvalid)
	}
	switch inv.Kind {
	case "":
		inv.Kind = AgentLanscout
	case AgentLanscout, AgentOCS:
	default:
		return fmt.Errorf("%w: agent %s: kind %q", ErrInvalid, inv.UID, inv.Kind)
	}
	for i := range inv.NICs {
		n := &inv.NICs[i]
		n.MAC = normMAC(n.MAC)
		for j, a := range n.Addresses {
			p, err := netip.ParsePrefix(strings.TrimSpace(a))
			if err != nil {
				addr, err2 := netip.ParseAddr(strings.TrimSpace(a))
				if err2 != nil {
					return fmt.Errorf("%w: agent %s NIC %s: address %q: %v", ErrInvalid, inv.UID, n.Name, a, err)
				}
				p = netip.PrefixFrom(addr, addr.BitLen())
			}
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), max(0, p.Bits()-96))
			}
			n.Addresses[j] = p.String()
		}
	}
	return nil
}

// subnetOf finds the subnet holding addr. Subnets are stored in canonical
// form and never overlap, so the candidates are addr's own networks at
// every allowed prefix length: an indexed IN lookup, portable SQL with no
// address arithmetic in the database.
func subnetOf(ctx context.Context, q queryer, addr netip.Addr) (int64, error) {
	lo, query := 16, qSubnetOf4
	if addr.Is6() {
		lo, query = 64, qSubnetOf6
	}
	cands := make([]any, 0, addr.BitLen()-lo+1)
	for bits := lo; bits <= addr.BitLen(); bits++ {
		p, _ := addr.Prefix(bits)
		cands = append(cands, p.String())
	}
	var id int64
	err := q.QueryRowContext(ctx, query, cands...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

func subnetOfQuery(n int) string {
	return `SELECT id FROM subnets WHERE cidr IN (` + strings.TrimSuffix(strings.Repeat("?,", n), ",") + `) LIMIT 1`
}

// RecordAgentInventory implements AgentStore.
func (s *SQLite) RecordAgentInventory(ctx context.Context, inv AgentInventory) (Agent, error) {
	if err := normalizeInventory(&inv); err != nil {
		return Agent{}, fmt.Errorf("record agent inventory: %w", err)
	}
	var id int64
	err := s.write(ctx, func(tx wtx) error {
		now := s.now()
		nowMS := msOf(now)
		err := tx.QueryRowContext(ctx, qUpsertAgent,
			inv.UID, inv.Kind, inv.Hostname, hostKey(inv.Hostname), inv.OSName, inv.OSVersion, inv.Kernel,
			inv.Manufacturer, inv.Model, usableSerial(inv.Serial), inv.UUID, inv.Version, inv.Raw, nowMS, nowMS, nowMS).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			// The UID is there with another kind: the conflict's WHERE
			// left the row alone and returned nothing.
			return ErrUIDTaken
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, qDeleteNICs, id); err != nil {
			return err
		}
		var macs []any
		for _, n := range inv.NICs {
			var nicID int64
			err := tx.QueryRowContext(ctx, qInsertNIC, id, n.Name, n.MAC, n.Kind, n.State).Scan(&nicID)
			if err != nil {
				return fmt.Errorf("store NIC %s: %w", n.Name, err)
			}
			if n.MAC != "" {
				macs = append(macs, n.MAC)
			}
			for _, a := range n.Addresses {
				p := netip.MustParsePrefix(a)
				sub, err := subnetOf(ctx, tx, p.Addr())
				if err != nil {
					return fmt.Errorf("find subnet of %s: %w", a, err)
				}
				if _, err := tx.ExecContext(ctx, qInsertAddress, nicID, id, a, ipKey(p.Addr()), nullID(sub)); err != nil {
					return fmt.Errorf("store address %s: %w", a, err)
				}
			}
		}
		return s.relinkAgent(ctx, tx, now, id, macs, hostKey(inv.Hostname), usableSerial(inv.Serial))
	})
	if err != nil {
		return Agent{}, fmt.Errorf("record inventory of agent %s (%s): %w", inv.UID, inv.Hostname, err)
	}
	return s.Agent(ctx, id)
}

// relinkAgent recomputes the link of every device that is or may be the
// agent's machine: already linked to it, or sharing a MAC, host name or
// serial with it.
func (s *SQLite) relinkAgent(ctx context.Context, tx wtx, now time.Time, agentID int64, macs []any, key, serial string) error {
	conds := []string{`d.agent_id = ?`}
	args := []any{agentID}
	if len(macs) > 0 {
		conds = append(conds, `d.mac IN (`+strings.TrimSuffix(strings.Repeat("?,", len(macs)), ",")+`)`)
		args = append(args, macs...)
	}
	if key != "" {
		conds = append(conds, `d.host_key = ?`)
		args = append(args, key)
	}
	if serial != "" {
		conds = append(conds, `d.serial = ?`)
		args = append(args, serial)
	}
	rows, err := tx.QueryContext(ctx, `SELECT d.id, d.subnet_id, d.mac, d.serial, d.hostnames, d.disc_name,
		d.agent_id, d.match_kind, d.identified_by, COALESCE(sn.sys_name, '')
		FROM devices d LEFT JOIN device_snmp sn ON sn.device_id = d.id WHERE `+strings.Join(conds, " OR "), args...)
	if err != nil {
		return fmt.Errorf("find devices of agent: %w", err)
	}
	type cand struct {
		id, subnetID int64
		cur          linkState
		keys         linkKeys
	}
	var cands []cand
	for rows.Next() {
		var (
			c                   cand
			hostnames, discName string
			agent               sql.NullInt64
			identifiedBy        string
		)
		if err := rows.Scan(&c.id, &c.subnetID, &c.keys.mac, &c.keys.serial, &hostnames, &discName, &agent,
			&c.cur.kind, &identifiedBy, &c.keys.sysName); err != nil {
			rows.Close()
			return fmt.Errorf("find devices of agent: %w", err)
		}
		c.cur.agentID, c.cur.identified = agent.Int64, identifiedBy != ""
		c.keys.hostnames = stringsOf(hostnames)
		if len(c.keys.hostnames) == 0 && c.keys.sysName == "" && discName != "" {
			c.keys.hostnames = []string{discName}
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find devices of agent: %w", err)
	}
	for _, c := range cands {
		if err := relink(ctx, tx, now, c.id, c.subnetID, c.cur, c.keys); err != nil {
			return err
		}
	}
	return nil
}

// RecordAgentContact implements AgentStore. It keeps OCS's measures:
// fidelity f counts contacts, quality q is the running mean of days
// between them, q' = (days since last + q*f) / (f+1).
func (s *SQLite) RecordAgentContact(ctx context.Context, uid string, kind AgentKind) (Agent, error) {
	if kind == "" {
		kind = AgentLanscout
	}
	var id int64
	err := s.write(ctx, func(tx wtx) error {
		now := s.now()
		var last int64
		var f int
		var q float64
		var had AgentKind
		err := tx.QueryRowContext(ctx, `SELECT id, kind, last_contact, fidelity, quality FROM agents WHERE uid = ?`, uid).Scan(&id, &had, &last, &f, &q)
		if errors.Is(err, sql.ErrNoRows) {
			return tx.QueryRowContext(ctx, `INSERT INTO agents (uid, kind, first_contact, last_contact, fidelity, quality)
				VALUES (?, ?, ?, ?, 1, 0) RETURNING id`, uid, kind, msOf(now), msOf(now)).Scan(&id)
		}
		if err != nil {
			return err
		}
		if had != kind {
			// Another kind's contacts would count as this agent's.
			return ErrUIDTaken
		}
		days := max(0, now.Sub(timeOf(last)).Hours()/24)
		q = (days + q*float64(f)) / float64(f+1)
		_, err = tx.ExecContext(ctx, `UPDATE agents SET last_contact = ?, fidelity = ?, quality = ? WHERE id = ?`,
			msOf(now), f+1, q, id)
		return err
	})
	if err != nil {
		return Agent{}, fmt.Errorf("record contact of agent %s: %w", uid, err)
	}
	return s.Agent(ctx, id)
}

// Agent implements AgentStore.
func (s *SQLite) Agent(ctx context.Context, id int64) (Agent, error) {
	a, err := queryOne(ctx, s.r, scanAgent, `SELECT `+agentCols+` FROM agents WHERE id = ?`, id)
	if err != nil {
		return Agent{}, fmt.Errorf("get agent %d: %w", id, err)
	}
	as := []Agent{a}
	if err := loadNICs(ctx, s.r, as); err != nil {
		return Agent{}, fmt.Errorf("get agent %d: %w", id, err)
	}
	return as[0], nil
}

// AgentByUID implements AgentStore.
func (s *SQLite) AgentByUID(ctx context.Context, uid string) (Agent, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT id FROM agents WHERE uid = ?`, uid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Agent{}, fmt.Errorf("get agent %s: %w", uid, err)
	}
	return s.Agent(ctx, id)
}

// Agents implements AgentStore.
func (s *SQLite) Agents(ctx context.Context, q AgentQuery) ([]Agent, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	var where []string
	var args []any
	if q.Search != "" {
		pat := "%" + likeEscape(strings.ToLower(q.Search)) + "%"
		where = append(where, `(lower(hostname) LIKE ? ESCAPE '\' OR lower(serial) LIKE ? ESCAPE '\' OR lower(uid) LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat, pat)
	}
	if q.SubnetID != 0 {
		where = append(where, `id IN (SELECT agent_id FROM agent_addresses WHERE subnet_id = ?)`)
		args = append(args, q.SubnetID)
	}
	query := `SELECT ` + agentCols + ` FROM agents`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY lower(hostname), id LIMIT ? OFFSET ?`
	out, err := queryAll(ctx, s.r, scanAgent, query, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	if err := loadNICs(ctx, s.r, out); err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return out, nil
}

// loadNICs fills the NICs of agents with one query.
func loadNICs(ctx context.Context, q queryer, agents []Agent) error {
	if len(agents) == 0 {
		return nil
	}
	idx := map[int64]int{}
	args := make([]any, len(agents))
	for i, a := range agents {
		idx[a.ID], args[i] = i, a.ID
	}
	rows, err := q.QueryContext(ctx, `SELECT n.id, n.agent_id, n.name, n.mac, n.kind, n.state, a.address
		FROM agent_nics n LEFT JOIN agent_addresses a ON a.nic_id = n.id
		WHERE n.agent_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")+`) ORDER BY n.id, a.id`, args...)
	if err != nil {
		return fmt.Errorf("load NICs: %w", err)
	}
	defer rows.Close()
	var lastNIC int64
	for rows.Next() {
		var nicID, agentID int64
		var n NIC
		var addr sql.NullString
		if err := rows.Scan(&nicID, &agentID, &n.Name, &n.MAC, &n.Kind, &n.State, &addr); err != nil {
			return fmt.Errorf("load NICs: %w", err)
		}
		a := &agents[idx[agentID]]
		if nicID != lastNIC {
			n.Addresses = []string{}
			a.NICs = append(a.NICs, n)
			lastNIC = nicID
		}
		if addr.Valid {
			last := &a.NICs[len(a.NICs)-1]
			last.Addresses = append(last.Addresses, addr.String)
		}
	}
	return rows.Err()
}

// DeleteAgent implements AgentStore. Devices linked to it stay, unlinked.
func (s *SQLite) DeleteAgent(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx wtx) error {
		// Status is derived from the link; fix it before the foreign key
		// clears agent_id.
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET match_kind = '',
			status = CASE WHEN identified_by <> '' THEN 'identified' ELSE 'non-inventoried' END
			WHERE agent_id = ?`, id); err != nil {
			return fmt.Errorf("delete agent %d: %w", id, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM agents WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete agent %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("delete agent %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// likeEscape escapes LIKE's wildcards in user input.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
