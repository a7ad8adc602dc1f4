package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

const typeRuleCols = `id, name, category, position, enabled, source, created_at, updated_at, updated_by`

func scanTypeRule(row interface{ Scan(...any) error }) (TypeRule, error) {
	var r TypeRule
	var created, updated int64
	if err := row.Scan(&r.ID, &r.Name, &r.Category, &r.Position, &r.Enabled, &r.Source, &created, &updated, &r.UpdatedBy); err != nil {
		return TypeRule{}, err
	}
	r.Created, r.Updated = timeOf(created), timeOf(updated)
	return r, nil
}

// TypeRules implements TypeRuleStore.
func (s *SQLite) TypeRules(ctx context.Context) ([]TypeRule, error) {
	out, err := queryAll(ctx, s.r, scanTypeRule, `SELECT `+typeRuleCols+` FROM type_rules ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("list type rules: %w", err)
	}
	return out, nil
}

// TypeRule implements TypeRuleStore.
func (s *SQLite) TypeRule(ctx context.Context, id int64) (TypeRule, error) {
	r, err := queryOne(ctx, s.r, scanTypeRule, `SELECT `+typeRuleCols+` FROM type_rules WHERE id = ?`, id)
	if err != nil {
		return TypeRule{}, fmt.Errorf("get type rule %d: %w", id, err)
	}
	return r, nil
}

// bumpTypeRules moves the rules' version inside a write.
func bumpTypeRules(ctx context.Context, tx wtx) error {
	_, err := tx.ExecContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = 'type_rules'`)
	return err
}

// CreateTypeRule implements TypeRuleStore.
func (s *SQLite) CreateTypeRule(ctx context.Context, r TypeRule) (TypeRule, error) {
	rule, err := ParseTypeRule(r.Source)
	if err != nil {
		return TypeRule{}, fmt.Errorf("create type rule: %w", err)
	}
	if r.Position < 0 {
		return TypeRule{}, fmt.Errorf("create type rule %q: %w: position %d is negative", rule.Name, ErrInvalid, r.Position)
	}
	now := msOf(s.now())
	var id int64
	err = s.write(ctx, func(tx wtx) error {
		pos := r.Position
		if pos == 0 {
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 10 FROM type_rules`).Scan(&pos); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO type_rules (name, category, position, enabled, source, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, rule.Name, rule.Category, pos, r.Enabled, r.Source, now, now, r.UpdatedBy)
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: a type rule named %q exists", ErrConflict, rule.Name)
		}
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return bumpTypeRules(ctx, tx)
	})
	if err != nil {
		return TypeRule{}, fmt.Errorf("create type rule %q: %w", rule.Name, err)
	}
	return s.TypeRule(ctx, id)
}

// UpdateTypeRule implements TypeRuleStore. A zero Position keeps the
// rule's place.
func (s *SQLite) UpdateTypeRule(ctx context.Context, r TypeRule) (TypeRule, error) {
	rule, err := ParseTypeRule(r.Source)
	if err != nil {
		return TypeRule{}, fmt.Errorf("update type rule %d: %w", r.ID, err)
	}
	if r.Position < 0 {
		return TypeRule{}, fmt.Errorf("update type rule %d: %w: position %d is negative", r.ID, ErrInvalid, r.Position)
	}
	err = s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE type_rules SET name = ?, category = ?,
			position = CASE WHEN ? > 0 THEN ? ELSE position END, enabled = ?, source = ?, updated_at = ?, updated_by = ?
			WHERE id = ?`, rule.Name, rule.Category, r.Position, r.Position, r.Enabled, r.Source, msOf(s.now()), r.UpdatedBy, r.ID)
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: a type rule named %q exists", ErrConflict, rule.Name)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return bumpTypeRules(ctx, tx)
	})
	if err != nil {
		return TypeRule{}, fmt.Errorf("update type rule %d: %w", r.ID, err)
	}
	return s.TypeRule(ctx, r.ID)
}

// DeleteTypeRule implements TypeRuleStore.
func (s *SQLite) DeleteTypeRule(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx wtx) error {
		if err := execOne(ctx, tx, `DELETE FROM type_rules WHERE id = ?`, id); err != nil {
			return err
		}
		return bumpTypeRules(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("delete type rule %d: %w", id, err)
	}
	return nil
}

// TypeRulesVersion implements TypeRuleStore.
func (s *SQLite) TypeRulesVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.r.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'type_rules'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("type rules version: %w", err)
	}
	return v, nil
}

// reclassifyBatch is how many devices one write transaction reclassifies:
// small enough that a scan recording devices waits milliseconds, not
// seconds, for the writer.
const reclassifyBatch = 200

// ReclassifyDevices implements TypeRuleStore. Each batch is read,
// classified and written inside one write transaction, so a scan cannot
// store newer evidence between the read and the write.
func (s *SQLite) ReclassifyDevices(ctx context.Context, classify func(typing.Input) typing.Result) (ReclassifyStats, error) {
	var st ReclassifyStats
	var after int64
	for {
		n := 0
		err := s.write(ctx, func(tx wtx) error {
			var err error
			n, after, err = s.reclassifyBatch(ctx, tx, after, classify, &st)
			return err
		})
		if err != nil {
			return st, fmt.Errorf("reclassify devices: %w", err)
		}
		if n < reclassifyBatch {
			return st, nil
		}
	}
}

type reclassRow struct {
	id, subnetID                        int64
	ip, mac, macVendor                  string
	category, adminCat, classCat        typing.Category
	classVendor, model, serial, reasons string
	confidence                          float64
	evidence, identifiedBy              string
}

func (s *SQLite) reclassifyBatch(ctx context.Context, tx wtx, after int64, classify func(typing.Input) typing.Result, st *ReclassifyStats) (int, int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT d.id, d.subnet_id, d.ip, d.mac, d.mac_vendor, d.category, d.admin_category,
		d.class_category, d.class_vendor, d.model, d.serial, d.reasons, d.confidence, sn.evidence, d.identified_by
		FROM devices d JOIN device_snmp sn ON sn.device_id = d.id
		WHERE sn.evidence IS NOT NULL AND d.id > ? ORDER BY d.id LIMIT ?`, after, reclassifyBatch)
	if err != nil {
		return 0, after, err
	}
	var batch []reclassRow
	for rows.Next() {
		var r reclassRow
		if err := rows.Scan(&r.id, &r.subnetID, &r.ip, &r.mac, &r.macVendor, &r.category, &r.adminCat, &r.classCat,
			&r.classVendor, &r.model, &r.serial, &r.reasons, &r.confidence, &r.evidence, &r.identifiedBy); err != nil {
			rows.Close()
			return 0, after, err
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, after, err
	}
	now := s.now()
	for _, r := range batch {
		after = r.id
		ev := snmp.NewEvidence()
		if err := json.Unmarshal([]byte(r.evidence), ev); err != nil {
			s.log.Warn("reclassify: stored evidence unreadable; device skipped", "device", r.id, "err", err)
			continue
		}
		in := typing.Input{Evidence: ev, MACVendor: r.macVendor}
		if hw, err := net.ParseMAC(r.mac); err == nil {
			in.MAC = hw
		}
		st.Checked++
		res := classify(in)
		if err := ruleIdentify(ctx, tx, r.id, r.identifiedBy, res.Type, msOf(now)); err != nil {
			return 0, after, err
		}
		reasons := toJSON(nonNil(res.Reasons))
		if res.Category == r.classCat && res.Vendor == r.classVendor && res.Model == r.model && res.Serial == r.serial &&
			res.Confidence == r.confidence && reasons == r.reasons {
			continue
		}
		st.Changed++
		eff := res.Category
		if r.adminCat != "" {
			eff = r.adminCat
		}
		vendor := res.Vendor
		if vendor == "" {
			vendor = r.macVendor
		}
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET class_category = ?, class_vendor = ?, model = ?, serial = ?,
			confidence = ?, reasons = ?, category = ?, vendor = ? WHERE id = ?`,
			res.Category, res.Vendor, res.Model, res.Serial, res.Confidence, reasons, eff, vendor, r.id); err != nil {
			return 0, after, err
		}
		if eff != r.category {
			st.CategoryChanged++
			if err := addEvent(ctx, tx, Event{At: now, Kind: EventCategoryChanged, SubnetID: r.subnetID, DeviceID: r.id,
				Old: string(r.category), New: string(eff),
				Message: fmt.Sprintf("%s is now %s (was %s), reclassified with the current type rules", r.ip, eff, r.category)}); err != nil {
				return 0, after, err
			}
		}
	}
	return len(batch), after, nil
}

// The settings' keys. Each is one row of settings holding JSON.
const (
	setDefaultMethod      = "subnet.default_method"
	setDefaultGoneAfter   = "subnet.default_gone_after"
	setDefaultEvery       = "subnet.default_schedule_every"
	setDefaultAt          = "subnet.default_schedule_at"
	setDefaultCredentials = "subnet.default_credentials"
	setTokenExpiry        = "token.default_expiry"
)

// Settings implements TypeRuleStore.
func (s *SQLite) Settings(ctx context.Context) (Settings, error) {
	st := DefaultSettings()
	rows, err := s.r.QueryContext(ctx, `SELECT key, value, updated_at, updated_by FROM settings`)
	if err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, value, by string
		var at int64
		if err := rows.Scan(&key, &value, &at, &by); err != nil {
			return Settings{}, fmt.Errorf("read settings: %w", err)
		}
		var dst any
		var dur int64 // durations are stored as seconds
		switch key {
		case setDefaultMethod:
			dst = &st.DefaultMethod
		case setDefaultGoneAfter:
			dst = &st.DefaultGoneAfter
		case setDefaultEvery, setTokenExpiry:
			dst = &dur
		case setDefaultAt:
			dst = &st.DefaultSchedule.At
		case setDefaultCredentials:
			dst = &st.DefaultCredentials
		default:
			continue // written by a newer lanscout
		}
		if err := json.Unmarshal([]byte(value), dst); err != nil {
			return Settings{}, fmt.Errorf("read setting %s: %w", key, err)
		}
		switch key {
		case setDefaultEvery:
			st.DefaultSchedule.Every = time.Duration(dur) * time.Second
		case setTokenExpiry:
			st.TokenExpiry = time.Duration(dur) * time.Second
		}
		if t := timeOf(at); t.After(st.Updated) {
			st.Updated, st.UpdatedBy = t, by
		}
	}
	if err := rows.Err(); err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	if st.DefaultCredentials == nil {
		st.DefaultCredentials = []string{}
	}
	return st, nil
}

// PutSettings implements TypeRuleStore. Default credentials must exist,
// as they must for a subnet.
func (s *SQLite) PutSettings(ctx context.Context, st Settings, by string) (Settings, error) {
	if err := st.Validate(); err != nil {
		return Settings{}, fmt.Errorf("save settings: %w", err)
	}
	values := map[string]any{
		setDefaultMethod:      st.DefaultMethod,
		setDefaultGoneAfter:   st.DefaultGoneAfter,
		setDefaultEvery:       int64(st.DefaultSchedule.Every / time.Second),
		setDefaultAt:          st.DefaultSchedule.At,
		setDefaultCredentials: st.DefaultCredentials,
		setTokenExpiry:        int64(st.TokenExpiry / time.Second),
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	now := msOf(s.now())
	err := s.write(ctx, func(tx wtx) error {
		var missing []string
		for _, name := range st.DefaultCredentials {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM snmp_credentials WHERE name = ?`, name).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%w: no SNMP credential named %s", ErrInvalid, strings.Join(missing, ", "))
		}
		for _, k := range keys {
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
				updated_by = excluded.updated_by WHERE settings.value <> excluded.value`, k, toJSON(values[k]), now, by)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Settings{}, fmt.Errorf("save settings: %w", err)
	}
	return s.Settings(ctx)
}
