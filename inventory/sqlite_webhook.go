package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

const webhookCols = `id, name, url, events, enabled, source, secret IS NOT NULL AND length(secret) > 0, created_at, updated_at`

// webhookAD binds a sealed webhook secret to its purpose, so it cannot be
// swapped with a credential's sealed secret.
var webhookAD = []byte("lanscout webhook secret")

func scanWebhook(row interface{ Scan(...any) error }) (Webhook, error) {
	var w Webhook
	var events string
	var created, updated int64
	if err := row.Scan(&w.ID, &w.Name, &w.URL, &events, &w.Enabled, &w.Source, &w.HasSecret, &created, &updated); err != nil {
		return Webhook{}, err
	}
	w.Events = stringsOf(events)
	w.Created, w.Updated = timeOf(created), timeOf(updated)
	return w, nil
}

// PutWebhook implements WebhookStore.
func (s *SQLite) PutWebhook(ctx context.Context, w Webhook, secret *string) (Webhook, error) {
	w.Name = strings.TrimSpace(w.Name)
	if w.Source == "" {
		w.Source = WebhookFromAPI
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	if err := w.Validate(); err != nil {
		return Webhook{}, fmt.Errorf("put webhook: %w", err)
	}
	var sealed []byte
	if secret != nil && *secret != "" {
		var err error
		if sealed, err = s.seal.seal([]byte(*secret), webhookAD); err != nil {
			return Webhook{}, fmt.Errorf("put webhook %s: %w", w.Name, err)
		}
	}
	now := msOf(s.now())
	var out Webhook
	err := s.write(ctx, func(tx wtx) error {
		id := w.ID
		if id == 0 {
			res, err := tx.ExecContext(ctx, `INSERT INTO webhooks (name, url, events, enabled, source, secret, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, w.Name, w.URL, toJSON(w.Events), w.Enabled, w.Source, sealed, now, now)
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: a webhook named %q", ErrConflict, w.Name)
			}
			if err != nil {
				return err
			}
			if id, err = res.LastInsertId(); err != nil {
				return err
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE webhooks SET name = ?, url = ?, events = ?, enabled = ?, source = ?,
				updated_at = ? WHERE id = ?`, w.Name, w.URL, toJSON(w.Events), w.Enabled, w.Source, now, id)
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: a webhook named %q", ErrConflict, w.Name)
			}
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
			if secret != nil {
				if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET secret = ? WHERE id = ?`, sealed, id); err != nil {
					return err
				}
			}
		}
		var err error
		out, err = scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return Webhook{}, fmt.Errorf("put webhook %s: %w", w.Name, err)
	}
	return out, nil
}

// DeleteWebhook implements WebhookStore; its deliveries go with it.
func (s *SQLite) DeleteWebhook(ctx context.Context, id int64) error {
	err := s.deleteRow(ctx, "webhooks", id)
	if err != nil {
		return fmt.Errorf("delete webhook %d: %w", id, err)
	}
	return nil
}

// Webhook implements WebhookStore.
func (s *SQLite) Webhook(ctx context.Context, id int64) (Webhook, error) {
	w, err := queryOne(ctx, s.r, scanWebhook, `SELECT `+webhookCols+` FROM webhooks WHERE id = ?`, id)
	if err != nil {
		return Webhook{}, fmt.Errorf("get webhook %d: %w", id, err)
	}
	return w, nil
}

// Webhooks implements WebhookStore.
func (s *SQLite) Webhooks(ctx context.Context) ([]Webhook, error) {
	out, err := queryAll(ctx, s.r, scanWebhook, `SELECT `+webhookCols+` FROM webhooks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// WebhookSecret implements WebhookStore.
func (s *SQLite) WebhookSecret(ctx context.Context, id int64) (string, error) {
	var sealed []byte
	err := s.r.QueryRowContext(ctx, `SELECT secret FROM webhooks WHERE id = ?`, id).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("webhook %d secret: %w", id, err)
	}
	if len(sealed) == 0 {
		return "", nil
	}
	plain, err := s.seal.open(sealed, webhookAD)
	if err != nil {
		return "", fmt.Errorf("webhook %d secret: %w", id, err)
	}
	return string(plain), nil
}

// WebhookCursor implements WebhookStore.
func (s *SQLite) WebhookCursor(ctx context.Context) (int64, error) {
	var id int64
	if err := s.r.QueryRowContext(ctx, `SELECT event_id FROM webhook_cursor WHERE id = 1`).Scan(&id); err != nil {
		return 0, fmt.Errorf("webhook cursor: %w", err)
	}
	return id, nil
}

// WebhookEvents implements WebhookStore.
func (s *SQLite) WebhookEvents(ctx context.Context, afterID int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	out, err := queryAll(ctx, s.r, func(row interface{ Scan(...any) error }) (Event, error) {
		var e Event
		var at int64
		var subnet, device, scanID sql.NullInt64
		if err := row.Scan(&e.ID, &at, &e.Kind, &subnet, &device, &scanID, &e.Old, &e.New, &e.Message); err != nil {
			return Event{}, err
		}
		e.At, e.SubnetID, e.DeviceID, e.ScanID = timeOf(at), subnet.Int64, device.Int64, scanID.Int64
		return e, nil
	}, `SELECT id, at, kind, subnet_id, device_id, scan_id, old_value, new_value, message FROM events
		WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("follow events: %w", err)
	}
	return out, nil
}

const deliveryCols = `d.id, d.webhook_id, w.name, d.kind, d.event_id, d.body, d.status, d.attempts, d.next_attempt,
	d.last_code, d.last_error, d.created_at, d.updated_at`

const deliveryFrom = ` FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id`

func scanDelivery(row interface{ Scan(...any) error }) (WebhookDelivery, error) {
	var d WebhookDelivery
	var next, created, updated int64
	if err := row.Scan(&d.ID, &d.WebhookID, &d.Webhook, &d.Kind, &d.EventID, &d.Body, &d.Status, &d.Attempts, &next,
		&d.LastCode, &d.LastError, &created, &updated); err != nil {
		return WebhookDelivery{}, err
	}
	if d.Status == DeliveryPending {
		d.NextAttempt = timeOf(next)
	}
	d.Created, d.Updated = timeOf(created), timeOf(updated)
	return d, nil
}

// QueueDeliveries implements WebhookStore.
func (s *SQLite) QueueDeliveries(ctx context.Context, ds []WebhookDelivery, from, to int64) ([]WebhookDelivery, error) {
	now := s.now()
	out := make([]WebhookDelivery, 0, len(ds))
	err := s.write(ctx, func(tx wtx) error {
		if to >= 0 {
			res, err := tx.ExecContext(ctx, `UPDATE webhook_cursor SET event_id = ? WHERE id = 1 AND event_id = ?`, to, from)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("%w: the cursor moved from %d", ErrConflict, from)
			}
		}
		for _, d := range ds {
			next := d.NextAttempt
			if next.IsZero() {
				next = now
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, kind, event_id, body, status,
				next_attempt, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`,
				d.WebhookID, d.Kind, d.EventID, d.Body, msOf(next), msOf(now), msOf(now))
			if err != nil {
				return err
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			got, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+deliveryFrom+` WHERE d.id = ?`, id))
			if err != nil {
				return err
			}
			out = append(out, got)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue webhook deliveries: %w", err)
	}
	return out, nil
}

// DueDeliveries implements WebhookStore.
func (s *SQLite) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]WebhookDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := queryAll(ctx, s.r, scanDelivery, `SELECT `+deliveryCols+deliveryFrom+`
		WHERE d.status = 'pending' AND d.next_attempt <= ? AND w.enabled ORDER BY d.next_attempt, d.id LIMIT ?`,
		msOf(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due webhook deliveries: %w", err)
	}
	return out, nil
}

// FinishAttempt implements WebhookStore.
func (s *SQLite) FinishAttempt(ctx context.Context, id int64, a DeliveryAttempt) error {
	switch a.Status {
	case DeliveryPending, DeliveryDelivered, DeliveryFailed:
	default:
		return fmt.Errorf("finish delivery %d: %w: status %q", id, ErrInvalid, a.Status)
	}
	if len(a.Error) > 500 {
		a.Error = a.Error[:500]
	}
	err := s.write(ctx, func(tx wtx) error {
		return execOne(ctx, tx, `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt = ?,
			last_code = ?, last_error = ?, updated_at = ? WHERE id = ?`,
			a.Status, msOf(a.Next), a.Code, a.Error, msOf(s.now()), id)
	})
	if err != nil {
		return fmt.Errorf("finish delivery %d: %w", id, err)
	}
	return nil
}

// WebhookDeliveries implements WebhookStore.
func (s *SQLite) WebhookDeliveries(ctx context.Context, q DeliveryQuery) ([]WebhookDelivery, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	var where []string
	var args []any
	if q.WebhookID != 0 {
		where, args = append(where, `d.webhook_id = ?`), append(args, q.WebhookID)
	}
	if q.Status != "" {
		where, args = append(where, `d.status = ?`), append(args, q.Status)
	}
	query := `SELECT ` + deliveryCols + deliveryFrom
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	out, err := queryAll(ctx, s.r, scanDelivery, query+` ORDER BY d.id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return out, nil
}

// PendingDeliveries implements WebhookStore.
func (s *SQLite) PendingDeliveries(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending webhook deliveries: %w", err)
	}
	return n, nil
}

// PruneDeliveries implements WebhookStore.
func (s *SQLite) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < ?`, msOf(before))
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries: %w", err)
	}
	return int(n), nil
}

// DeviceCounts implements WebhookStore.
func (s *SQLite) DeviceCounts(ctx context.Context) ([]DeviceCount, error) {
	out, err := queryAll(ctx, s.r, func(row interface{ Scan(...any) error }) (DeviceCount, error) {
		var c DeviceCount
		err := row.Scan(&c.SubnetID, &c.Category, &c.State, &c.Count)
		return c, err
	}, `SELECT subnet_id, category, state, COUNT(*) FROM devices GROUP BY subnet_id, category, state ORDER BY subnet_id, category, state`)
	if err != nil {
		return nil, fmt.Errorf("count devices: %w", err)
	}
	return out, nil
}
