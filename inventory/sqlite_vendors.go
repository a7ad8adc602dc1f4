package inventory

import (
	"context"
	"fmt"
)

// Vendors implements DeviceStore: the devices' vendors (the classification's
// or, failing it, the MAC's, as the vendor filter matches them), one per
// spelling ignoring case, in alphabetical order, at most limit of them.
// It walks the vendor index, so it stays cheap with 100k devices.
func (s *SQLite) Vendors(ctx context.Context, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 1000
	}
	vendors, err := queryAll(ctx, s.r, func(row interface{ Scan(...any) error }) (string, error) {
		var v string
		err := row.Scan(&v)
		return v, err
	}, `SELECT MIN(vendor) FROM devices WHERE vendor <> '' GROUP BY vendor COLLATE NOCASE
		ORDER BY vendor COLLATE NOCASE LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list device vendors: %w", err)
	}
	return vendors, nil
}
