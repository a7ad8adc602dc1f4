package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ElectionInput implements ElectionStore. It reads every agent with its
// NICs in two scans of the tables (no per-agent query), so a round over
// 10,000 agents costs a few tens of milliseconds.
func (s *SQLite) ElectionInput(ctx context.Context) (ElectionInput, error) {
	var in ElectionInput
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return in, fmt.Errorf("read election input: %w", err)
	}
	defer tx.Rollback()
	fail := func(what string, err error) (ElectionInput, error) {
		return ElectionInput{}, fmt.Errorf("read election input: %s: %w", what, err)
	}

	seen := map[string][]string{}
	capsOf := func(s string) []string {
		if v, ok := seen[s]; ok {
			return v
		}
		v := stringsOf(s)
		seen[s] = v
		return v
	}
	in.Agents, err = queryAll(ctx, tx, func(row interface{ Scan(...any) error }) (ElectionAgent, error) {
		var (
			a          ElectionAgent
			last, poll int64
			caps       string
			revoked    int
			never      int
		)
		err := row.Scan(&a.ID, &a.UID, &a.Hostname, &a.Kind, &last, &a.Fidelity, &a.Quality, &caps, &poll, &revoked, &never)
		// Most agents have the same few capability lists: decode each
		// distinct one once rather than 10,000 JSON documents a round.
		a.LastContact, a.Capabilities = timeOf(last), capsOf(caps)
		a.PollInterval, a.Revoked, a.Never = time.Duration(poll)*time.Millisecond, revoked != 0, never != 0
		a.NICs = []NIC{}
		return a, err
	}, `SELECT a.id, a.uid, a.hostname, a.kind, a.last_contact, a.fidelity, a.quality, a.capabilities,
		a.poll_interval_ms, a.revoked, n.agent_id IS NOT NULL
		FROM agents a LEFT JOIN election_never_agents n ON n.agent_id = a.id ORDER BY a.id`)
	if err != nil {
		return fail("agents", err)
	}
	idx := make(map[int64]int, len(in.Agents))
	for i, a := range in.Agents {
		idx[a.ID] = i
	}
	rows, err := tx.QueryContext(ctx, `SELECT n.id, n.agent_id, n.name, n.kind, n.state, a.address
		FROM agent_nics n LEFT JOIN agent_addresses a ON a.nic_id = n.id ORDER BY n.agent_id, n.id`)
	if err != nil {
		return fail("NICs", err)
	}
	var lastNIC int64
	for rows.Next() {
		var nicID, agentID int64
		var n NIC
		var addr sql.NullString
		if err := rows.Scan(&nicID, &agentID, &n.Name, &n.Kind, &n.State, &addr); err != nil {
			rows.Close()
			return fail("NICs", err)
		}
		i, ok := idx[agentID]
		if !ok {
			continue
		}
		a := &in.Agents[i]
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
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail("NICs", err)
	}

	if in.Subnets, err = queryAll(ctx, tx, scanSubnet, `SELECT `+subnetCols+` FROM subnets ORDER BY id`); err != nil {
		return fail("subnets", err)
	}
	if in.NeverSubnets, err = queryAll(ctx, tx, func(row interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, row.Scan(&id)
	}, `SELECT subnet_id FROM election_never_subnets ORDER BY subnet_id`); err != nil {
		return fail("never subnets", err)
	}
	if in.Seats, err = queryAll(ctx, tx, func(row interface{ Scan(...any) error }) (ElectionSeat, error) {
		var st ElectionSeat
		var at int64
		err := row.Scan(&st.SubnetID, &st.AgentID, &at, &st.Score, &st.Pinned, &st.Reason)
		st.ElectedAt = timeOf(at)
		return st, err
	}, `SELECT subnet_id, agent_id, elected_at, score, pinned, reason FROM election_seats ORDER BY subnet_id, agent_id`); err != nil {
		return fail("seats", err)
	}
	if in.Pins, err = queryAll(ctx, tx, scanPin,
		`SELECT subnet_id, agent_id, pinned_by, pinned_at FROM election_pins ORDER BY subnet_id, agent_id`); err != nil {
		return fail("pins", err)
	}
	if in.Standings, err = queryAll(ctx, tx, scanStanding, `SELECT `+standingCols+` FROM election_standings
		ORDER BY subnet_id, agent_id`); err != nil {
		return fail("standings", err)
	}
	return in, nil
}

func scanPin(row interface{ Scan(...any) error }) (ElectionPin, error) {
	var p ElectionPin
	var at int64
	err := row.Scan(&p.SubnetID, &p.AgentID, &p.By, &at)
	p.At = timeOf(at)
	return p, err
}

const standingCols = `subnet_id, agent_id, failures, demotions, last_error, last_at, cooldown_until`

func scanStanding(row interface{ Scan(...any) error }) (ScanStanding, error) {
	var st ScanStanding
	var last int64
	var cool sql.NullInt64
	err := row.Scan(&st.SubnetID, &st.AgentID, &st.Failures, &st.Demotions, &st.LastError, &last, &cool)
	st.LastAt, st.CooldownUntil = timeOf(last), nullTime(cool)
	return st, err
}

// SaveElection implements ElectionStore. It writes only the difference
// with the stored seats: a round that moves one seat among 2,000 writes
// one row, not 2,000.
func (s *SQLite) SaveElection(ctx context.Context, seats []ElectionSeat, events []ElectionEvent) error {
	err := s.write(ctx, func(tx wtx) error {
		type key struct{ subnet, agent int64 }
		stored := map[key]bool{} // pinned
		rows, err := tx.QueryContext(ctx, `SELECT subnet_id, agent_id, pinned FROM election_seats`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k key
			var pinned bool
			if err := rows.Scan(&k.subnet, &k.agent, &pinned); err != nil {
				rows.Close()
				return err
			}
			stored[k] = pinned
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, st := range seats {
			k := key{st.SubnetID, st.AgentID}
			pinned, ok := stored[k]
			delete(stored, k)
			if ok && pinned == st.Pinned {
				continue
			}
			// INSERT ... SELECT drops a seat whose subnet or agent went away
			// since the round read its input, instead of failing the lot on
			// the foreign key.
			if _, err := tx.ExecContext(ctx, `INSERT INTO election_seats (subnet_id, agent_id, elected_at, score, pinned, reason)
				SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM subnets WHERE id = ?) AND EXISTS (SELECT 1 FROM agents WHERE id = ?)
				ON CONFLICT (subnet_id, agent_id) DO UPDATE SET elected_at = excluded.elected_at, score = excluded.score,
				pinned = excluded.pinned, reason = excluded.reason`,
				st.SubnetID, st.AgentID, msOf(st.ElectedAt), st.Score, st.Pinned, st.Reason, st.SubnetID, st.AgentID); err != nil {
				return fmt.Errorf("seat of agent %d on subnet %d: %w", st.AgentID, st.SubnetID, err)
			}
		}
		for k := range stored {
			if _, err := tx.ExecContext(ctx, `DELETE FROM election_seats WHERE subnet_id = ? AND agent_id = ?`, k.subnet, k.agent); err != nil {
				return err
			}
		}
		for _, e := range events {
			if _, err := tx.ExecContext(ctx, `INSERT INTO election_events (at, kind, subnet_id, agent_id, agent_name,
				replaced_id, replaced_name, score, old_score, reason, why)
				SELECT ?, ?, ?, (SELECT id FROM agents WHERE id = ?), ?, (SELECT id FROM agents WHERE id = ?), ?, ?, ?, ?, ?
				WHERE EXISTS (SELECT 1 FROM subnets WHERE id = ?)`,
				msOf(e.At), e.Kind, e.SubnetID, e.AgentID, e.AgentName, e.ReplacedID, e.ReplacedName, e.Score, e.OldScore,
				e.Reason, e.Why, e.SubnetID); err != nil {
				return fmt.Errorf("event %s of agent %d on subnet %d: %w", e.Kind, e.AgentID, e.SubnetID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save election: %w", err)
	}
	return nil
}

// ElectionEvents implements ElectionStore.
func (s *SQLite) ElectionEvents(ctx context.Context, q ElectionEventQuery) ([]ElectionEvent, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	var where []string
	var args []any
	if q.SubnetID != 0 {
		where, args = append(where, `subnet_id = ?`), append(args, q.SubnetID)
	}
	if q.AgentID != 0 {
		where, args = append(where, `(agent_id = ? OR replaced_id = ?)`), append(args, q.AgentID, q.AgentID)
	}
	query := `SELECT id, at, kind, COALESCE(subnet_id, 0), COALESCE(agent_id, 0), agent_name, COALESCE(replaced_id, 0),
		replaced_name, score, old_score, reason, why FROM election_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	out, err := queryAll(ctx, s.r, func(row interface{ Scan(...any) error }) (ElectionEvent, error) {
		var e ElectionEvent
		var at int64
		err := row.Scan(&e.ID, &at, &e.Kind, &e.SubnetID, &e.AgentID, &e.AgentName, &e.ReplacedID, &e.ReplacedName,
			&e.Score, &e.OldScore, &e.Reason, &e.Why)
		e.At = timeOf(at)
		return e, err
	}, query, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list election events: %w", err)
	}
	return out, nil
}

// PruneElectionEvents implements ElectionStore.
func (s *SQLite) PruneElectionEvents(ctx context.Context, before time.Time) (int, error) {
	// In batches like the other prunes: a year of a busy election in one
	// DELETE would hold the only writer for seconds.
	n, err := s.pruneBatches(ctx, "election_events", `SELECT id FROM election_events WHERE at < ?`, msOf(before))
	if err != nil {
		return n, fmt.Errorf("prune election events: %w", err)
	}
	return n, nil
}

// mustExist fails with ErrNotFound unless the row of table with id exists.
func mustExist(ctx context.Context, tx wtx, table string, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s %d: %w", strings.TrimSuffix(table, "s"), id, ErrNotFound)
	}
	return nil
}

// SetElectionPin implements ElectionStore.
func (s *SQLite) SetElectionPin(ctx context.Context, subnetID, agentID int64, pinned bool, by string) error {
	err := s.write(ctx, func(tx wtx) error {
		if err := mustExist(ctx, tx, "subnets", subnetID); err != nil {
			return err
		}
		if err := mustExist(ctx, tx, "agents", agentID); err != nil {
			return err
		}
		if !pinned {
			_, err := tx.ExecContext(ctx, `DELETE FROM election_pins WHERE subnet_id = ? AND agent_id = ?`, subnetID, agentID)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO election_pins (subnet_id, agent_id, pinned_by, pinned_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (subnet_id, agent_id) DO NOTHING`, subnetID, agentID, by, msOf(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("pin agent %d to subnet %d: %w", agentID, subnetID, err)
	}
	return nil
}

// SetAgentNever implements ElectionStore.
func (s *SQLite) SetAgentNever(ctx context.Context, agentID int64, never bool, by string) error {
	return s.setNever(ctx, "agents", "election_never_agents", "agent_id", agentID, never, by)
}

// SetSubnetNever implements ElectionStore.
func (s *SQLite) SetSubnetNever(ctx context.Context, subnetID int64, never bool, by string) error {
	return s.setNever(ctx, "subnets", "election_never_subnets", "subnet_id", subnetID, never, by)
}

func (s *SQLite) setNever(ctx context.Context, owner, table, col string, id int64, never bool, by string) error {
	err := s.write(ctx, func(tx wtx) error {
		if err := mustExist(ctx, tx, owner, id); err != nil {
			return err
		}
		if !never {
			_, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+col+` = ?`, id)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (`+col+`, marked_by, marked_at) VALUES (?, ?, ?)
			ON CONFLICT (`+col+`) DO NOTHING`, id, by, msOf(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("mark %s %d never=%v: %w", strings.TrimSuffix(owner, "s"), id, never, err)
	}
	return nil
}

// UpdateScanStanding implements ElectionStore.
func (s *SQLite) UpdateScanStanding(ctx context.Context, subnetID, agentID int64, fn func(ScanStanding) ScanStanding) (ScanStanding, error) {
	var out ScanStanding
	err := s.write(ctx, func(tx wtx) error {
		if err := mustExist(ctx, tx, "subnets", subnetID); err != nil {
			return err
		}
		if err := mustExist(ctx, tx, "agents", agentID); err != nil {
			return err
		}
		cur, err := scanStanding(tx.QueryRowContext(ctx, `SELECT `+standingCols+` FROM election_standings
			WHERE subnet_id = ? AND agent_id = ?`, subnetID, agentID))
		if errors.Is(err, sql.ErrNoRows) {
			cur, err = ScanStanding{SubnetID: subnetID, AgentID: agentID}, nil
		}
		if err != nil {
			return err
		}
		out = fn(cur)
		out.SubnetID, out.AgentID = subnetID, agentID
		_, err = tx.ExecContext(ctx, `INSERT INTO election_standings (`+standingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (subnet_id, agent_id) DO UPDATE SET failures = excluded.failures, demotions = excluded.demotions,
			last_error = excluded.last_error, last_at = excluded.last_at, cooldown_until = excluded.cooldown_until`,
			subnetID, agentID, out.Failures, out.Demotions, out.LastError, msOf(out.LastAt), nullMS(out.CooldownUntil))
		return err
	})
	if err != nil {
		return ScanStanding{}, fmt.Errorf("record scan outcome of agent %d on subnet %d: %w", agentID, subnetID, err)
	}
	return out, nil
}
