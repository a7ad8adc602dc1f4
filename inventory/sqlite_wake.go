package inventory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

const wakeJobCols = `id, requested_by, source, schedule_id, fallback, status, created_at, finished_at`

func scanWakeJob(row interface{ Scan(...any) error }) (WakeJob, error) {
	var j WakeJob
	var sched, finished sql.NullInt64
	var created int64
	if err := row.Scan(&j.ID, &j.RequestedBy, &j.Source, &sched, &j.Fallback, &j.Status, &created, &finished); err != nil {
		return WakeJob{}, err
	}
	j.ScheduleID, j.Created, j.Finished = sched.Int64, timeOf(created), nullTime(finished)
	j.Targets = []WakeTarget{}
	return j, nil
}

const wakeTargetCols = `id, job_id, device_id, mac, ip, subnet_id, subnet, route, via, method, status, detail,
	sent_at, confirmed_at, confirmed_by`

type jobTarget struct {
	jobID int64
	t     WakeTarget
}

func scanWakeTarget(row interface{ Scan(...any) error }) (jobTarget, error) {
	var jt jobTarget
	t := &jt.t
	var dev, sn, sent, confirmed sql.NullInt64
	if err := row.Scan(&t.ID, &jt.jobID, &dev, &t.MAC, &t.IP, &sn, &t.Subnet, &t.Route, &t.Via, &t.Method, &t.Status,
		&t.Detail, &sent, &confirmed, &t.ConfirmedBy); err != nil {
		return jobTarget{}, err
	}
	t.DeviceID, t.SubnetID, t.SentAt, t.ConfirmedAt = dev.Int64, sn.Int64, nullTime(sent), nullTime(confirmed)
	return jt, nil
}

// maxWakeTargets bounds one job: a subnet is at most a /16, and one
// request should not queue more packets than that.
const maxWakeTargets = 65536

// CreateWakeJob implements WakeStore.
func (s *SQLite) CreateWakeJob(ctx context.Context, j WakeJob) (WakeJob, error) {
	if len(j.Targets) == 0 {
		return WakeJob{}, fmt.Errorf("create wake job: %w: no targets", ErrInvalid)
	}
	if len(j.Targets) > maxWakeTargets {
		return WakeJob{}, fmt.Errorf("create wake job: %w: %d targets, at most %d", ErrInvalid, len(j.Targets), maxWakeTargets)
	}
	if j.Status == "" {
		j.Status = WakeJobRunning
	}
	j.Created = timeOf(msOf(s.now()))
	for i := range j.Targets {
		t := &j.Targets[i]
		mac := normMAC(t.MAC)
		if mac == "" {
			return WakeJob{}, fmt.Errorf("create wake job: %w: target %d: MAC %q", ErrInvalid, i, t.MAC)
		}
		t.MAC = mac
		if t.Status == "" {
			t.Status = WakePending
		}
		if t.Route == "" {
			t.Route = WakeRouteNone
		}
	}
	err := s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO wake_jobs (requested_by, source, schedule_id, fallback, status, created_at, finished_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, j.RequestedBy, j.Source, nullID(j.ScheduleID), j.Fallback, j.Status,
			msOf(j.Created), nullMS(j.Finished))
		if err != nil {
			return err
		}
		if j.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for i := range j.Targets {
			t := &j.Targets[i]
			res, err := tx.ExecContext(ctx, `INSERT INTO wake_targets (job_id, device_id, mac, ip, subnet_id, subnet, route,
				via, method, status, detail, sent_at, confirmed_at, confirmed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				j.ID, nullID(t.DeviceID), t.MAC, t.IP, nullID(t.SubnetID), t.Subnet, t.Route, t.Via, t.Method, t.Status,
				t.Detail, nullMS(t.SentAt), nullMS(t.ConfirmedAt), t.ConfirmedBy)
			if err != nil {
				return err
			}
			if t.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return WakeJob{}, fmt.Errorf("create wake job: %w", err)
	}
	return j, nil
}

// UpdateWakeTarget implements WakeStore.
func (s *SQLite) UpdateWakeTarget(ctx context.Context, jobID int64, t WakeTarget) error {
	err := s.write(ctx, func(tx wtx) error {
		return execOne(ctx, tx, `UPDATE wake_targets SET route = ?, via = ?, method = ?, status = ?, detail = ?,
			sent_at = ?, confirmed_at = ?, confirmed_by = ? WHERE id = ? AND job_id = ?`,
			t.Route, t.Via, t.Method, t.Status, t.Detail, nullMS(t.SentAt), nullMS(t.ConfirmedAt), t.ConfirmedBy, t.ID, jobID)
	})
	if err != nil {
		return fmt.Errorf("update wake job %d target %d: %w", jobID, t.ID, err)
	}
	return nil
}

// FinishWakeJob implements WakeStore.
func (s *SQLite) FinishWakeJob(ctx context.Context, id int64, status WakeJobStatus) (WakeJob, error) {
	if status != WakeJobDone && status != WakeJobInterrupted {
		return WakeJob{}, fmt.Errorf("finish wake job %d: %w: status %q", id, ErrInvalid, status)
	}
	err := s.write(ctx, func(tx wtx) error {
		return execOne(ctx, tx, `UPDATE wake_jobs SET status = ?, finished_at = ? WHERE id = ?`,
			status, msOf(s.now()), id)
	})
	if err != nil {
		return WakeJob{}, fmt.Errorf("finish wake job %d: %w", id, err)
	}
	return s.WakeJob(ctx, id)
}

// WakeJob implements WakeStore.
func (s *SQLite) WakeJob(ctx context.Context, id int64) (WakeJob, error) {
	j, err := queryOne(ctx, s.r, scanWakeJob, `SELECT `+wakeJobCols+` FROM wake_jobs WHERE id = ?`, id)
	if err != nil {
		return WakeJob{}, fmt.Errorf("get wake job %d: %w", id, err)
	}
	js := []WakeJob{j}
	if err := s.loadWakeTargets(ctx, js); err != nil {
		return WakeJob{}, fmt.Errorf("get wake job %d: %w", id, err)
	}
	return js[0], nil
}

// WakeJobs implements WakeStore.
func (s *SQLite) WakeJobs(ctx context.Context, q WakeJobQuery) ([]WakeJob, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	query := `SELECT ` + wakeJobCols + ` FROM wake_jobs`
	var args []any
	if q.ScheduleID != 0 {
		query += ` WHERE schedule_id = ?`
		args = append(args, q.ScheduleID)
	}
	js, err := queryAll(ctx, s.r, scanWakeJob, query+` ORDER BY id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list wake jobs: %w", err)
	}
	if err := s.loadWakeTargets(ctx, js); err != nil {
		return nil, fmt.Errorf("list wake jobs: %w", err)
	}
	return js, nil
}

// loadWakeTargets fills the targets of jobs with one query.
func (s *SQLite) loadWakeTargets(ctx context.Context, js []WakeJob) error {
	if len(js) == 0 {
		return nil
	}
	idx := map[int64]int{}
	args := make([]any, len(js))
	for i, j := range js {
		idx[j.ID], args[i] = i, j.ID
	}
	ts, err := queryAll(ctx, s.r, scanWakeTarget, `SELECT `+wakeTargetCols+` FROM wake_targets WHERE job_id IN (`+
		strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")+`) ORDER BY job_id, id`, args...)
	if err != nil {
		return fmt.Errorf("load wake targets: %w", err)
	}
	for _, jt := range ts {
		j := &js[idx[jt.jobID]]
		j.Targets = append(j.Targets, jt.t)
	}
	return nil
}

// InterruptWakeJobs implements WakeStore.
func (s *SQLite) InterruptWakeJobs(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, func(tx wtx) error {
		const running = `(SELECT id FROM wake_jobs WHERE status = 'running')`
		if _, err := tx.ExecContext(ctx, `UPDATE wake_targets SET status = 'unconfirmed',
			detail = 'lanscout stopped while it watched for the device' WHERE status = 'sent' AND job_id IN `+running); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE wake_targets SET status = 'failed',
			detail = 'lanscout stopped before it was sent' WHERE status = 'pending' AND job_id IN `+running); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE wake_jobs SET status = 'interrupted', finished_at = ? WHERE status = 'running'`,
			msOf(s.now()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("interrupt wake jobs: %w", err)
	}
	return int(n), nil
}

// DevicesByMAC implements WakeStore.
func (s *SQLite) DevicesByMAC(ctx context.Context, mac string) ([]Device, error) {
	hw, err := net.ParseMAC(strings.TrimSpace(mac))
	if err != nil || len(hw) != 6 {
		return nil, fmt.Errorf("devices by MAC: %w: %q is not a MAC address", ErrInvalid, mac)
	}
	ds, err := queryAll(ctx, s.r, scanDevice, `SELECT `+deviceCols+deviceFrom+` WHERE d.mac = ? ORDER BY d.last_seen DESC, d.id`,
		hw.String())
	if err != nil {
		return nil, fmt.Errorf("devices by MAC %s: %w", hw, err)
	}
	return ds, nil
}

const wakeScheduleCols = `id, name, at, days, device_ids, subnet_id, fallback, created_by, created_at, last_run, last_job`

func scanWakeSchedule(row interface{ Scan(...any) error }) (WakeSchedule, error) {
	var ws WakeSchedule
	var days, ids string
	var subnet, lastRun, lastJob sql.NullInt64
	var created int64
	if err := row.Scan(&ws.ID, &ws.Name, &ws.At, &days, &ids, &subnet, &ws.Fallback, &ws.CreatedBy, &created,
		&lastRun, &lastJob); err != nil {
		return WakeSchedule{}, err
	}
	ws.Days = stringsOf(days)
	ws.DeviceIDs = []int64{}
	if err := json.Unmarshal([]byte(ids), &ws.DeviceIDs); err != nil {
		return WakeSchedule{}, fmt.Errorf("wake schedule %d: device ids: %w", ws.ID, err)
	}
	ws.SubnetID, ws.Created, ws.LastRun, ws.LastJob = subnet.Int64, timeOf(created), nullTime(lastRun), lastJob.Int64
	return ws, nil
}

// CreateWakeSchedule implements WakeStore.
func (s *SQLite) CreateWakeSchedule(ctx context.Context, ws WakeSchedule) (WakeSchedule, error) {
	if err := ws.Normalize(); err != nil {
		return WakeSchedule{}, fmt.Errorf("create wake schedule: %w", err)
	}
	ws.Created = timeOf(msOf(s.now()))
	ws.LastRun, ws.LastJob = time.Time{}, 0
	err := s.write(ctx, func(tx wtx) error {
		if ws.SubnetID != 0 {
			if err := exists(ctx, tx, "subnet", `SELECT 1 FROM subnets WHERE id = ?`, ws.SubnetID); err != nil {
				return err
			}
		}
		for _, id := range ws.DeviceIDs {
			if err := exists(ctx, tx, "device", `SELECT 1 FROM devices WHERE id = ?`, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO wake_schedules (name, at, days, device_ids, subnet_id, fallback,
			created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ws.Name, ws.At, toJSON(ws.Days), toJSON(ws.DeviceIDs),
			nullID(ws.SubnetID), ws.Fallback, ws.CreatedBy, msOf(ws.Created))
		if err != nil {
			return err
		}
		ws.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return WakeSchedule{}, fmt.Errorf("create wake schedule: %w", err)
	}
	return ws, nil
}

// exists fails with ErrInvalid (the caller named something that is not
// there) when query finds no row.
func exists(ctx context.Context, tx wtx, what, query string, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, query, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: there is no %s %d", ErrInvalid, what, id)
	}
	return err
}

// DeleteWakeSchedule implements WakeStore. The jobs it ran stay.
func (s *SQLite) DeleteWakeSchedule(ctx context.Context, id int64) error {
	err := s.deleteRow(ctx, "wake_schedules", id)
	if err != nil {
		return fmt.Errorf("delete wake schedule %d: %w", id, err)
	}
	return nil
}

// WakeSchedule implements WakeStore.
func (s *SQLite) WakeSchedule(ctx context.Context, id int64) (WakeSchedule, error) {
	ws, err := queryOne(ctx, s.r, scanWakeSchedule, `SELECT `+wakeScheduleCols+` FROM wake_schedules WHERE id = ?`, id)
	if err != nil {
		return WakeSchedule{}, fmt.Errorf("get wake schedule %d: %w", id, err)
	}
	return ws, nil
}

// WakeSchedules implements WakeStore.
func (s *SQLite) WakeSchedules(ctx context.Context) ([]WakeSchedule, error) {
	out, err := queryAll(ctx, s.r, scanWakeSchedule, `SELECT `+wakeScheduleCols+` FROM wake_schedules ORDER BY at, id`)
	if err != nil {
		return nil, fmt.Errorf("list wake schedules: %w", err)
	}
	return out, nil
}

// MarkWakeScheduleRun implements WakeStore.
func (s *SQLite) MarkWakeScheduleRun(ctx context.Context, id int64, at time.Time, jobID int64) error {
	err := s.write(ctx, func(tx wtx) error {
		return execOne(ctx, tx, `UPDATE wake_schedules SET last_run = ?, last_job = COALESCE(?, last_job) WHERE id = ?`,
			msOf(at), nullID(jobID), id)
	})
	if err != nil {
		return fmt.Errorf("mark wake schedule %d run: %w", id, err)
	}
	return nil
}
