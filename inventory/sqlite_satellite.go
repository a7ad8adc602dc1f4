package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// satelliteKeyAD binds a sealed private key to its satellite's name: a
// sealed key copied onto another row fails to open.
func satelliteKeyAD(name string) []byte { return []byte("lanscout satellite key\x00" + name) }

const satelliteCols = `id, name, address, port, username, key_file, private_key IS NOT NULL, host_key, host_key_confirmed,
	fingerprint, pending_host_key, pending_fingerprint, subnets, wake_command, iface, has_lanscout, source, created_at, updated_at`

func scanSatellite(row interface{ Scan(...any) error }) (Satellite, error) {
	var s Satellite
	var subnets string
	var confirmed bool
	var created, updated int64
	if err := row.Scan(&s.ID, &s.Name, &s.Address, &s.Port, &s.User, &s.KeyFile, &s.HasKey, &s.HostKey, &confirmed,
		&s.Fingerprint, &s.PendingHostKey, &s.PendingFingerprint, &subnets, &s.WakeCommand, &s.Interface, &s.HasLanscout, &s.Source,
		&created, &updated); err != nil {
		return Satellite{}, err
	}
	if !confirmed {
		// Never hand out a key nobody confirmed as the trusted one.
		s.HostKey, s.Fingerprint = "", ""
	}
	s.Subnets = stringsOf(subnets)
	s.Created, s.Updated = timeOf(created), timeOf(updated)
	return s, nil
}

func (s *SQLite) sealSatelliteKey(name string, key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, nil
	}
	return s.seal.seal(key, satelliteKeyAD(name))
}

// CreateSatellite implements SatelliteStore.
func (s *SQLite) CreateSatellite(ctx context.Context, sat Satellite, privateKey []byte) (Satellite, error) {
	if err := sat.Normalize(); err != nil {
		return Satellite{}, fmt.Errorf("create satellite: %w", err)
	}
	sealed, err := s.sealSatelliteKey(sat.Name, privateKey)
	if err != nil {
		return Satellite{}, fmt.Errorf("create satellite %s: %w", sat.Name, err)
	}
	now := msOf(s.now())
	var out Satellite
	err = s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO satellites (name, address, port, username, key_file, private_key,
			subnets, wake_command, iface, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sat.Name, sat.Address, sat.Port, sat.User, sat.KeyFile, sealed, toJSON(sat.Subnets), sat.WakeCommand,
			sat.Interface, sat.Source, now, now)
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: a satellite named %s", ErrConflict, sat.Name)
		}
		if err != nil {
			return err
		}
		id, _ := res.LastInsertId()
		out, err = scanSatellite(tx.QueryRowContext(ctx, `SELECT `+satelliteCols+` FROM satellites WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return Satellite{}, fmt.Errorf("create satellite %s: %w", sat.Name, err)
	}
	return out, nil
}

// UpdateSatellite implements SatelliteStore.
func (s *SQLite) UpdateSatellite(ctx context.Context, sat Satellite, privateKey []byte) (Satellite, error) {
	if err := sat.Normalize(); err != nil {
		return Satellite{}, fmt.Errorf("update satellite: %w", err)
	}
	var out Satellite
	err := s.write(ctx, func(tx wtx) error {
		var oldName, oldAddr string
		var oldPort int
		var oldKey []byte
		err := tx.QueryRowContext(ctx, `SELECT name, address, port, private_key FROM satellites WHERE id = ?`, sat.ID).
			Scan(&oldName, &oldAddr, &oldPort, &oldKey)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		sealed := oldKey
		switch {
		case privateKey != nil:
			if sealed, err = s.sealSatelliteKey(sat.Name, privateKey); err != nil {
				return err
			}
		case oldKey != nil && oldName != sat.Name:
			// The sealed key is bound to the name: reseal it under the new one.
			plain, err := s.seal.open(oldKey, satelliteKeyAD(oldName))
			if err != nil {
				return err
			}
			sealed, err = s.sealSatelliteKey(sat.Name, plain)
			clear(plain)
			if err != nil {
				return err
			}
		}
		now := msOf(s.now())
		_, err = tx.ExecContext(ctx, `UPDATE satellites SET name = ?, address = ?, port = ?, username = ?, key_file = ?,
			private_key = ?, subnets = ?, wake_command = ?, iface = ?, source = ?, updated_at = ? WHERE id = ?`,
			sat.Name, sat.Address, sat.Port, sat.User, sat.KeyFile, sealed, toJSON(sat.Subnets), sat.WakeCommand,
			sat.Interface, sat.Source, now, sat.ID)
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: a satellite named %s", ErrConflict, sat.Name)
		}
		if err != nil {
			return err
		}
		if oldAddr != sat.Address || oldPort != sat.Port {
			if _, err := tx.ExecContext(ctx, `UPDATE satellites SET host_key = '', host_key_confirmed = 0, fingerprint = '',
				pending_host_key = '', pending_fingerprint = '', has_lanscout = 0 WHERE id = ?`, sat.ID); err != nil {
				return err
			}
		}
		out, err = scanSatellite(tx.QueryRowContext(ctx, `SELECT `+satelliteCols+` FROM satellites WHERE id = ?`, sat.ID))
		return err
	})
	if err != nil {
		return Satellite{}, fmt.Errorf("update satellite %d: %w", sat.ID, err)
	}
	return out, nil
}

// DeleteSatellite implements SatelliteStore.
func (s *SQLite) DeleteSatellite(ctx context.Context, id int64) error {
	if err := execOne(ctx, s.w, `DELETE FROM satellites WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete satellite %d: %w", id, err)
	}
	return nil
}

func (s *SQLite) satelliteWhere(ctx context.Context, what any, where string, arg any) (Satellite, error) {
	out, err := queryOne(ctx, s.r, scanSatellite, `SELECT `+satelliteCols+` FROM satellites WHERE `+where, arg)
	if err != nil {
		return Satellite{}, fmt.Errorf("satellite %v: %w", what, err)
	}
	return out, nil
}

// Satellite implements SatelliteStore.
func (s *SQLite) Satellite(ctx context.Context, id int64) (Satellite, error) {
	return s.satelliteWhere(ctx, id, `id = ?`, id)
}

// SatelliteByName implements SatelliteStore.
func (s *SQLite) SatelliteByName(ctx context.Context, name string) (Satellite, error) {
	return s.satelliteWhere(ctx, name, `name = ?`, name)
}

// Satellites implements SatelliteStore.
func (s *SQLite) Satellites(ctx context.Context) ([]Satellite, error) {
	out, err := queryAll(ctx, s.r, scanSatellite, `SELECT `+satelliteCols+` FROM satellites ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list satellites: %w", err)
	}
	return out, nil
}

// SatellitePrivateKey implements SatelliteStore.
func (s *SQLite) SatellitePrivateKey(ctx context.Context, id int64) ([]byte, error) {
	var name string
	var sealed []byte
	err := s.r.QueryRowContext(ctx, `SELECT name, private_key FROM satellites WHERE id = ?`, id).Scan(&name, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("satellite %d private key: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("satellite %d private key: %w", id, err)
	}
	if sealed == nil {
		return nil, nil
	}
	plain, err := s.seal.open(sealed, satelliteKeyAD(name))
	if err != nil {
		return nil, fmt.Errorf("satellite %s private key: %w", name, err)
	}
	return plain, nil
}

// SetSatellitePendingKey implements SatelliteStore.
func (s *SQLite) SetSatellitePendingKey(ctx context.Context, id int64, hostKey, fingerprint string) (Satellite, error) {
	if hostKey == "" || fingerprint == "" {
		return Satellite{}, fmt.Errorf("satellite %d pending key: %w: key and fingerprint are required", id, ErrInvalid)
	}
	var out Satellite
	err := s.write(ctx, func(tx wtx) error {
		err := execOne(ctx, tx, `UPDATE satellites SET pending_host_key = ?, pending_fingerprint = ?, updated_at = ?
			WHERE id = ?`, hostKey, fingerprint, msOf(s.now()), id)
		if err != nil {
			return err
		}
		out, err = scanSatellite(tx.QueryRowContext(ctx, `SELECT `+satelliteCols+` FROM satellites WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return Satellite{}, fmt.Errorf("satellite %d pending key: %w", id, err)
	}
	return out, nil
}

// TrustSatelliteKey implements SatelliteStore.
func (s *SQLite) TrustSatelliteKey(ctx context.Context, id int64, fingerprint string) (Satellite, error) {
	var out Satellite
	err := s.write(ctx, func(tx wtx) error {
		var pendingKey, pendingFP string
		err := tx.QueryRowContext(ctx, `SELECT pending_host_key, pending_fingerprint FROM satellites WHERE id = ?`, id).
			Scan(&pendingKey, &pendingFP)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if pendingKey == "" {
			return fmt.Errorf("%w: no key is waiting for confirmation: test the connection first", ErrConflict)
		}
		if fingerprint == "" || pendingFP != fingerprint {
			return fmt.Errorf("%w: the key waiting for confirmation is %s, not %s: test the connection again", ErrConflict, pendingFP, fingerprint)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE satellites SET host_key = pending_host_key, fingerprint = pending_fingerprint,
			host_key_confirmed = 1, pending_host_key = '', pending_fingerprint = '', updated_at = ? WHERE id = ?`,
			msOf(s.now()), id); err != nil {
			return err
		}
		out, err = scanSatellite(tx.QueryRowContext(ctx, `SELECT `+satelliteCols+` FROM satellites WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return Satellite{}, fmt.Errorf("trust satellite %d host key: %w", id, err)
	}
	return out, nil
}

// SetSatelliteLanscout implements SatelliteStore.
func (s *SQLite) SetSatelliteLanscout(ctx context.Context, id int64, has bool) error {
	if err := execOne(ctx, s.w, `UPDATE satellites SET has_lanscout = ? WHERE id = ?`, has, id); err != nil {
		return fmt.Errorf("satellite %d: %w", id, err)
	}
	return nil
}

// SetSatelliteTrustedKey implements SatelliteStore.
func (s *SQLite) SetSatelliteTrustedKey(ctx context.Context, id int64, hostKey, fingerprint string) (Satellite, error) {
	if (hostKey == "") != (fingerprint == "") {
		return Satellite{}, fmt.Errorf("satellite %d host key: %w: key and fingerprint go together", id, ErrInvalid)
	}
	var out Satellite
	err := s.write(ctx, func(tx wtx) error {
		err := execOne(ctx, tx, `UPDATE satellites SET host_key = ?, fingerprint = ?, host_key_confirmed = ?,
			pending_host_key = '', pending_fingerprint = '', updated_at = ? WHERE id = ?`,
			hostKey, fingerprint, hostKey != "", msOf(s.now()), id)
		if err != nil {
			return err
		}
		out, err = scanSatellite(tx.QueryRowContext(ctx, `SELECT `+satelliteCols+` FROM satellites WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return Satellite{}, fmt.Errorf("satellite %d host key: %w", id, err)
	}
	return out, nil
}
