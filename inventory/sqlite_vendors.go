package inventory

import (
	"context"
	"fmt"
)

// Vendors implements DeviceStore: the devices' vendors (the classification's
// or, failing it, the MAC's, as the vendor filter matches them), one per
// spelling ignoring case, in alphabetical order, at most limit of them.
// It seeks the vendor index (NOCASE) once per vendor, each time for the
// first one after the last: grouping the index instead read all of it,
// about 50 ms with 100k devices on every devices page.
func (s *SQLite) Vendors(ctx context.Context, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 1000
	}
	vendors, err := queryAll(ctx, s.r, func(row interface{ Scan(...any) error }) (string, error) {
		var v string
		err := row.Scan(&v)
		return v, err
	}, `WITH RECURSIVE v(vendor) AS (
			SELECT MIN(vendor COLLATE NOCASE) FROM devices WHERE vendor COLLATE NOCASE > ''
			UNION ALL
			SELECT (SELECT MIN(d.vendor COLLATE NOCASE) FROM devices d WHERE d.vendor COLLATE NOCASE > v.vendor)
			FROM v WHERE v.vendor IS NOT NULL)
		SELECT vendor FROM v WHERE vendor IS NOT NULL LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list device vendors: %w", err)
	}
	return vendors, nil
}
