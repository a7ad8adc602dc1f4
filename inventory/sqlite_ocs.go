package inventory

import (
	"context"
	"database/sql"
	"fmt"
)

// RecordOCSProlog implements OCSStore.
func (s *SQLite) RecordOCSProlog(ctx context.Context, p OCSProlog) error {
	err := s.write(ctx, func(tx wtx) error {
		now := msOf(s.now())
		var askedAt sql.NullInt64
		if p.AskedSubnetID != 0 {
			askedAt = sql.NullInt64{Int64: now, Valid: true}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ocs_agents (agent_id, user_agent, last_prolog, asked_subnet_id, asked_cidr, asked_at, note)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (agent_id) DO UPDATE SET user_agent = excluded.user_agent, last_prolog = excluded.last_prolog,
			asked_subnet_id = excluded.asked_subnet_id, asked_cidr = excluded.asked_cidr, asked_at = excluded.asked_at,
			note = CASE WHEN excluded.note <> '' THEN excluded.note ELSE ocs_agents.note END`,
			p.AgentID, p.UserAgent, now, nullID(p.AskedSubnetID), p.AskedCIDR, askedAt, p.Note)
		return err
	})
	if err != nil {
		return fmt.Errorf("record OCS prolog of agent %d: %w", p.AgentID, err)
	}
	return nil
}

// RecordOCSInventory implements OCSStore.
func (s *SQLite) RecordOCSInventory(ctx context.Context, r OCSInventory) error {
	err := s.write(ctx, func(tx wtx) error {
		now := msOf(s.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO ocs_agents (agent_id, user_agent, last_inventory, gateway, note)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (agent_id) DO UPDATE SET user_agent = excluded.user_agent,
			last_inventory = excluded.last_inventory, gateway = excluded.gateway, note = excluded.note`,
			r.AgentID, r.UserAgent, now, r.Gateway, r.Note); err != nil {
			return err
		}
		if !r.Discovered {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE ocs_agents SET scanned_cidr = ?, scanned_subnet_id = ?, scanned_at = ?,
			last_scan_id = ?, hosts = ?, ignored = ? WHERE agent_id = ?`,
			r.ScannedCIDR, nullID(r.ScannedSubnetID), now, nullID(r.ScanID), r.Hosts, r.Ignored, r.AgentID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record OCS inventory of agent %d: %w", r.AgentID, err)
	}
	return nil
}

const ocsAgentCols = `o.agent_id, a.uid, a.hostname, o.user_agent, o.last_prolog, o.last_inventory, o.gateway,
	o.asked_subnet_id, o.asked_cidr, o.asked_at, o.scanned_cidr, o.scanned_subnet_id, o.scanned_at,
	o.last_scan_id, o.hosts, o.ignored, o.note`

func scanOCSAgent(row interface{ Scan(...any) error }) (OCSAgent, error) {
	var (
		o                                     OCSAgent
		prolog, inventory, askedAt, scannedAt sql.NullInt64
		askedSubnet, scannedSubnet, lastScan  sql.NullInt64
	)
	err := row.Scan(&o.AgentID, &o.UID, &o.Hostname, &o.UserAgent, &prolog, &inventory, &o.Gateway,
		&askedSubnet, &o.AskedCIDR, &askedAt, &o.ScannedCIDR, &scannedSubnet, &scannedAt,
		&lastScan, &o.Hosts, &o.Ignored, &o.Note)
	if err != nil {
		return OCSAgent{}, err
	}
	o.LastProlog, o.LastInventory = nullTime(prolog), nullTime(inventory)
	o.AskedAt, o.ScannedAt = nullTime(askedAt), nullTime(scannedAt)
	o.AskedSubnetID, o.ScannedSubnetID, o.LastScanID = askedSubnet.Int64, scannedSubnet.Int64, lastScan.Int64
	return o, nil
}

// OCSAgent implements OCSStore.
func (s *SQLite) OCSAgent(ctx context.Context, agentID int64) (OCSAgent, error) {
	o, err := queryOne(ctx, s.r, scanOCSAgent, `SELECT `+ocsAgentCols+`
		FROM ocs_agents o JOIN agents a ON a.id = o.agent_id WHERE o.agent_id = ?`, agentID)
	if err != nil {
		return OCSAgent{}, fmt.Errorf("get OCS agent %d: %w", agentID, err)
	}
	return o, nil
}

// OCSAgents implements OCSStore.
func (s *SQLite) OCSAgents(ctx context.Context) ([]OCSAgent, error) {
	out, err := queryAll(ctx, s.r, scanOCSAgent, `SELECT `+ocsAgentCols+`
		FROM ocs_agents o JOIN agents a ON a.id = o.agent_id ORDER BY lower(a.hostname), a.uid`)
	if err != nil {
		return nil, fmt.Errorf("list OCS agents: %w", err)
	}
	return out, nil
}
