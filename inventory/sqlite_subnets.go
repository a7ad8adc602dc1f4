package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

const subnetCols = `id, cidr, name, site, tags, schedule_every_s, schedule_at, method, credentials,
	policy, gone_after, max_scanners, created_at, updated_at`

func scanSubnet(row interface{ Scan(...any) error }) (Subnet, error) {
	var (
		s                Subnet
		tags, creds      string
		every            int64
		created, updated int64
	)
	err := row.Scan(&s.ID, &s.CIDR, &s.Name, &s.Site, &tags, &every, &s.Schedule.At, &s.Method, &creds,
		&s.Policy, &s.GoneAfter, &s.MaxScanners, &created, &updated)
	if err != nil {
		return Subnet{}, err
	}
	s.Tags, s.Credentials = stringsOf(tags), stringsOf(creds)
	s.Schedule.Every = time.Duration(every) * time.Second
	s.Created, s.Updated = timeOf(created), timeOf(updated)
	return s, nil
}

// CreateSubnet implements SubnetStore.
func (s *SQLite) CreateSubnet(ctx context.Context, sn Subnet) (Subnet, error) {
	if err := sn.Normalize(); err != nil {
		return Subnet{}, fmt.Errorf("create subnet: %w", err)
	}
	now := s.now()
	sn.Created, sn.Updated = now, now
	err := s.write(ctx, func(tx wtx) error {
		if err := checkSubnet(ctx, tx, sn); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO subnets (cidr, name, site, tags, schedule_every_s, schedule_at,
			method, credentials, policy, gone_after, max_scanners, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sn.CIDR, sn.Name, sn.Site, toJSON(sn.Tags), int64(sn.Schedule.Every/time.Second), sn.Schedule.At,
			sn.Method, toJSON(sn.Credentials), sn.Policy, sn.GoneAfter, sn.MaxScanners, msOf(now), msOf(now))
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: subnet %s", ErrConflict, sn.CIDR)
		}
		if err != nil {
			return err
		}
		if sn.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return adoptAgentAddresses(ctx, tx, sn)
	})
	if err != nil {
		return Subnet{}, fmt.Errorf("create subnet %s: %w", sn.CIDR, err)
	}
	return sn, nil
}

// UpdateSubnet implements SubnetStore. The CIDR cannot change: the devices
// of a subnet are keyed within it. Create another subnet instead.
func (s *SQLite) UpdateSubnet(ctx context.Context, sn Subnet) (Subnet, error) {
	if err := sn.Normalize(); err != nil {
		return Subnet{}, fmt.Errorf("update subnet %d: %w", sn.ID, err)
	}
	err := s.write(ctx, func(tx wtx) error {
		old, err := scanSubnet(tx.QueryRowContext(ctx, `SELECT `+subnetCols+` FROM subnets WHERE id = ?`, sn.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if old.CIDR != sn.CIDR {
			return fmt.Errorf("%w: the CIDR of subnet %s cannot change to %s; create a new subnet", ErrInvalid, old.CIDR, sn.CIDR)
		}
		if err := checkSubnet(ctx, tx, sn); err != nil {
			return err
		}
		sn.Created, sn.Updated = old.Created, s.now()
		_, err = tx.ExecContext(ctx, `UPDATE subnets SET name = ?, site = ?, tags = ?, schedule_every_s = ?,
			schedule_at = ?, method = ?, credentials = ?, policy = ?, gone_after = ?, max_scanners = ?, updated_at = ?
			WHERE id = ?`,
			sn.Name, sn.Site, toJSON(sn.Tags), int64(sn.Schedule.Every/time.Second), sn.Schedule.At, sn.Method,
			toJSON(sn.Credentials), sn.Policy, sn.GoneAfter, sn.MaxScanners, msOf(sn.Updated), sn.ID)
		return err
	})
	if err != nil {
		return Subnet{}, fmt.Errorf("update subnet %s: %w", sn.CIDR, err)
	}
	return sn, nil
}

// checkSubnet refuses overlaps (every device must have one subnet) and
// credentials that do not exist (a typo would make every scan silently
// SNMP-less).
func checkSubnet(ctx context.Context, tx wtx, sn Subnet) error {
	p := sn.Prefix()
	rows, err := tx.QueryContext(ctx, `SELECT id, cidr FROM subnets WHERE id <> ?`, sn.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var cidr string
		if err := rows.Scan(&id, &cidr); err != nil {
			return err
		}
		if q, err := netip.ParsePrefix(cidr); err == nil && q.Overlaps(p) {
			return fmt.Errorf("%w: %s overlaps subnet %s", ErrConflict, sn.CIDR, cidr)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range sn.Credentials {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM snmp_credentials WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: no SNMP credential is named %q", ErrInvalid, name)
		}
	}
	return nil
}

// adoptAgentAddresses attaches to a new subnet the agent NIC addresses
// that fall in it and had no subnet yet.
func adoptAgentAddresses(ctx context.Context, tx wtx, sn Subnet) error {
	p := sn.Prefix()
	rows, err := tx.QueryContext(ctx, `SELECT id, address FROM agent_addresses WHERE subnet_id IS NULL`)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		var addr string
		if err := rows.Scan(&id, &addr); err != nil {
			rows.Close()
			return err
		}
		if a, err := netip.ParsePrefix(addr); err == nil && p.Contains(a.Addr()) {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE agent_addresses SET subnet_id = ? WHERE id = ?`, sn.ID, id); err != nil {
			return err
		}
	}
	return nil
}

// DeleteSubnet implements SubnetStore.
func (s *SQLite) DeleteSubnet(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM subnets WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete subnet %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("delete subnet %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// Subnet implements SubnetStore.
func (s *SQLite) Subnet(ctx context.Context, id int64) (Subnet, error) {
	sn, err := scanSubnet(s.r.QueryRowContext(ctx, `SELECT `+subnetCols+` FROM subnets WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Subnet{}, fmt.Errorf("get subnet %d: %w", id, err)
	}
	return sn, nil
}

// Subnets implements SubnetStore. They come in address order.
func (s *SQLite) Subnets(ctx context.Context) ([]Subnet, error) {
	out, err := queryAll(ctx, s.r, scanSubnet, `SELECT `+subnetCols+` FROM subnets`)
	if err != nil {
		return nil, fmt.Errorf("list subnets: %w", err)
	}
	slices.SortFunc(out, func(a, b Subnet) int {
		if c := a.Prefix().Addr().Compare(b.Prefix().Addr()); c != 0 {
			return c
		}
		return a.Prefix().Bits() - b.Prefix().Bits()
	})
	return out, nil
}

// SubnetCounts implements SubnetStore.
func (s *SQLite) SubnetCounts(ctx context.Context) ([]SubnetCounts, error) {
	counts := map[int64]*SubnetCounts{}
	get := func(id int64) *SubnetCounts {
		c := counts[id]
		if c == nil {
			c = &SubnetCounts{SubnetID: id}
			counts[id] = c
		}
		return c
	}
	ids, err := s.r.QueryContext(ctx, `SELECT id FROM subnets`)
	if err != nil {
		return nil, fmt.Errorf("count subnets: %w", err)
	}
	for ids.Next() {
		var id int64
		if err := ids.Scan(&id); err != nil {
			ids.Close()
			return nil, fmt.Errorf("count subnets: %w", err)
		}
		get(id)
	}
	ids.Close()

	rows, err := s.r.QueryContext(ctx, `SELECT subnet_id, state, status, COUNT(*) FROM devices GROUP BY subnet_id, state, status`)
	if err != nil {
		return nil, fmt.Errorf("count devices per subnet: %w", err)
	}
	for rows.Next() {
		var id int64
		var state DeviceState
		var status Status
		var n int
		if err := rows.Scan(&id, &state, &status, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count devices per subnet: %w", err)
		}
		c := get(id)
		switch {
		case state == StateGone:
			c.Gone += n
		case status == Identified:
			c.Up += n
			c.Identified += n
		case status == NonInventoried:
			c.Up += n
			c.NonInventoried += n
		default:
			c.Up += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count devices per subnet: %w", err)
	}

	// Inventoried counts machines, as OCS does: an agent seen on the subnet
	// and an agent with an address in it are one machine, counted once.
	rows, err = s.r.QueryContext(ctx, `SELECT subnet_id, COUNT(DISTINCT agent_id) FROM (
			SELECT subnet_id, agent_id FROM devices WHERE agent_id IS NOT NULL AND state = 'up'
			UNION
			SELECT subnet_id, agent_id FROM agent_addresses WHERE subnet_id IS NOT NULL
		) AS a GROUP BY subnet_id`)
	if err != nil {
		return nil, fmt.Errorf("count agents per subnet: %w", err)
	}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count agents per subnet: %w", err)
		}
		get(id).Inventoried = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count agents per subnet: %w", err)
	}
	out := make([]SubnetCounts, 0, len(counts))
	for _, c := range counts {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b SubnetCounts) int { return int(a.SubnetID - b.SubnetID) })
	return out, nil
}
