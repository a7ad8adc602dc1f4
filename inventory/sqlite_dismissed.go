package inventory

import (
	"context"
	"fmt"
	"net/netip"
)

// DismissAutoSubnet implements ElectionStore.
func (s *SQLite) DismissAutoSubnet(ctx context.Context, cidr netip.Prefix, by string) error {
	if !cidr.IsValid() {
		return fmt.Errorf("dismiss auto subnet: %w: no network", ErrInvalid)
	}
	err := s.write(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO dismissed_auto_subnets (cidr, at, by) VALUES (?, ?, ?)
			ON CONFLICT (cidr) DO UPDATE SET at = excluded.at, by = excluded.by`,
			cidr.Masked().String(), msOf(s.now()), by)
		return err
	})
	if err != nil {
		return fmt.Errorf("dismiss auto subnet %s: %w", cidr, err)
	}
	return nil
}

// DismissedAutoSubnets implements ElectionStore.
func (s *SQLite) DismissedAutoSubnets(ctx context.Context) ([]netip.Prefix, error) {
	out, err := queryAll(ctx, s.r, func(row interface{ Scan(...any) error }) (netip.Prefix, error) {
		var c string
		if err := row.Scan(&c); err != nil {
			return netip.Prefix{}, err
		}
		return netip.ParsePrefix(c)
	}, `SELECT cidr FROM dismissed_auto_subnets ORDER BY cidr`)
	if err != nil {
		return nil, fmt.Errorf("list dismissed auto subnets: %w", err)
	}
	return out, nil
}
