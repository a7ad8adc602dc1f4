package inventory

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Token prefixes make leaked secrets recognisable (and greppable) for
// what they are.
const (
	enrollKeyPrefix  = "lse_"
	agentTokenPrefix = "lsa_"
)

const enrollKeyCols = `k.id, k.name, k.prefix, k.subnets, k.created_by, k.created_at, k.expires_at, k.revoked_at,
	k.uses, k.last_used, (SELECT count(*) FROM agent_tokens t WHERE t.key_id = k.id)`

func scanEnrollKey(row interface{ Scan(...any) error }) (EnrollmentKey, error) {
	var (
		k                        EnrollmentKey
		subnets                  string
		created                  int64
		expires, revoked, usedAt sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Name, &k.Prefix, &subnets, &k.CreatedBy, &created, &expires, &revoked,
		&k.Uses, &usedAt, &k.Agents); err != nil {
		return EnrollmentKey{}, err
	}
	k.Subnets = stringsOf(subnets)
	k.Created, k.Expires, k.Revoked, k.LastUsed = timeOf(created), nullTime(expires), nullTime(revoked), nullTime(usedAt)
	return k, nil
}

// CreateEnrollmentKey implements EnrollmentStore.
func (s *SQLite) CreateEnrollmentKey(ctx context.Context, k EnrollmentKey) (string, EnrollmentKey, error) {
	if err := k.normalize(); err != nil {
		return "", EnrollmentKey{}, fmt.Errorf("create enrollment key: %w", err)
	}
	key, hash, err := newToken(enrollKeyPrefix)
	if err != nil {
		return "", EnrollmentKey{}, fmt.Errorf("create enrollment key: %w", err)
	}
	now := s.now()
	k.Prefix = key[:len(enrollKeyPrefix)+6]
	subnets, _ := json.Marshal(k.Subnets)
	var id int64
	err = s.write(ctx, func(tx wtx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO enrollment_keys (name, key_hash, prefix, subnets, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, k.Name, hash, k.Prefix, string(subnets), k.CreatedBy, msOf(now),
			nullMS(k.Expires)).Scan(&id)
	})
	if err != nil {
		return "", EnrollmentKey{}, fmt.Errorf("create enrollment key %q: %w", k.Name, err)
	}
	created, err := s.EnrollmentKey(ctx, id)
	return key, created, err
}

// EnrollmentKey implements EnrollmentStore.
func (s *SQLite) EnrollmentKey(ctx context.Context, id int64) (EnrollmentKey, error) {
	k, err := queryOne(ctx, s.r, scanEnrollKey, `SELECT `+enrollKeyCols+` FROM enrollment_keys k WHERE k.id = ?`, id)
	if err != nil {
		return EnrollmentKey{}, fmt.Errorf("get enrollment key %d: %w", id, err)
	}
	return k, nil
}

// EnrollmentKeys implements EnrollmentStore.
func (s *SQLite) EnrollmentKeys(ctx context.Context) ([]EnrollmentKey, error) {
	out, err := queryAll(ctx, s.r, scanEnrollKey, `SELECT `+enrollKeyCols+` FROM enrollment_keys k ORDER BY k.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list enrollment keys: %w", err)
	}
	return out, nil
}

// RevokeEnrollmentKey implements EnrollmentStore.
func (s *SQLite) RevokeEnrollmentKey(ctx context.Context, id int64, agentsToo bool) (int, error) {
	var n int64
	err := s.write(ctx, func(tx wtx) error {
		if err := execOne(ctx, tx, `UPDATE enrollment_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
			msOf(s.now()), id); err != nil {
			return err
		}
		if !agentsToo {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE agents SET revoked = 1
			WHERE revoked = 0 AND id IN (SELECT agent_id FROM agent_tokens WHERE key_id = ?)`, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke enrollment key %d: %w", id, err)
	}
	return int(n), nil
}

// DeleteEnrollmentKey implements EnrollmentStore. Agents enrolled with it
// keep their tokens.
func (s *SQLite) DeleteEnrollmentKey(ctx context.Context, id int64) error {
	err := s.deleteRow(ctx, "enrollment_keys", id)
	if err != nil {
		return fmt.Errorf("delete enrollment key %d: %w", id, err)
	}
	return nil
}

// EnrollAgent implements EnrollmentStore.
func (s *SQLite) EnrollAgent(ctx context.Context, e Enrollment) (string, Agent, error) {
	e.UID = strings.TrimSpace(e.UID)
	if e.UID == "" || len(e.UID) > 255 {
		return "", Agent{}, fmt.Errorf("enroll agent: %w: UID must be 1 to 255 characters", ErrInvalid)
	}
	if len(e.Hostname) > 255 || len(e.Version) > 64 {
		return "", Agent{}, fmt.Errorf("enroll agent %s: %w: host name or version too long", e.UID, ErrInvalid)
	}
	// An unknown key is refused with a read: the endpoint is open to
	// anyone, and guesses must not queue for the write lock.
	var known int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM enrollment_keys WHERE key_hash = ?`,
		hashToken(e.Key)).Scan(&known); err != nil {
		return "", Agent{}, fmt.Errorf("enroll agent %s: enrollment key: %w", e.UID, err)
	}
	if known == 0 {
		return "", Agent{}, fmt.Errorf("enroll agent %s: enrollment key: %w", e.UID, ErrBadCredentials)
	}
	token, hash, err := newToken(agentTokenPrefix)
	if err != nil {
		return "", Agent{}, fmt.Errorf("enroll agent %s: %w", e.UID, err)
	}
	var agentID int64
	err = s.write(ctx, func(tx wtx) error {
		now := s.now()
		k, err := scanEnrollKey(tx.QueryRowContext(ctx, `SELECT `+enrollKeyCols+` FROM enrollment_keys k WHERE k.key_hash = ?`,
			hashToken(e.Key)))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("enrollment key: %w", ErrBadCredentials)
		}
		if err != nil {
			return err
		}
		switch {
		case !k.Revoked.IsZero():
			return fmt.Errorf("enrollment key %s: %w", k.Prefix, ErrRevoked)
		case !k.Usable(now):
			return fmt.Errorf("enrollment key %s: %w", k.Prefix, ErrExpired)
		case !k.Admits(e.Addresses):
			return fmt.Errorf("enrollment key %s (%s): %w", k.Prefix, strings.Join(k.Subnets, ", "), ErrOutOfScope)
		}
		var (
			revoked, hasToken bool
			kind              AgentKind
		)
		err = tx.QueryRowContext(ctx, `SELECT a.id, a.revoked, a.kind, t.agent_id IS NOT NULL
			FROM agents a LEFT JOIN agent_tokens t ON t.agent_id = a.id WHERE a.uid = ?`, e.UID).Scan(&agentID, &revoked, &kind, &hasToken)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			err = tx.QueryRowContext(ctx, `INSERT INTO agents (uid, kind, hostname, host_key, version, first_contact, last_contact)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.UID, AgentLanscout, e.Hostname, hostKey(e.Hostname), e.Version,
				msOf(now), msOf(now)).Scan(&agentID)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case revoked:
			return fmt.Errorf("agent %s: %w", e.UID, ErrRevoked)
		case hasToken || kind != AgentLanscout:
			// Anyone holding a key could otherwise take over an enrolled
			// agent (or an OCS agent's record) by naming its UID.
			return fmt.Errorf("agent %s: %w: already enrolled; an admin deletes it to enroll it again", e.UID, ErrConflict)
		}
		// The key's subnets are copied: the agent stays limited to them
		// even once the key is deleted.
		scope, _ := json.Marshal(k.Subnets)
		if _, err := tx.ExecContext(ctx, `INSERT INTO agent_tokens (agent_id, token_hash, key_id, enrolled_at, subnets)
			VALUES (?, ?, ?, ?, ?)`, agentID, hash, k.ID, msOf(now), string(scope)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE enrollment_keys SET uses = uses + 1, last_used = ? WHERE id = ?`, msOf(now), k.ID)
		return err
	})
	if err != nil {
		return "", Agent{}, fmt.Errorf("enroll agent %s: %w", e.UID, err)
	}
	a, err := s.Agent(ctx, agentID)
	return token, a, err
}

// AuthenticateAgent implements EnrollmentStore. It only reads: agents
// call every few seconds, and their contacts are counted by
// RecordAgentContact on hello.
func (s *SQLite) AuthenticateAgent(ctx context.Context, token string) (AgentAuth, error) {
	if !strings.HasPrefix(token, agentTokenPrefix) {
		return AgentAuth{}, fmt.Errorf("agent token: %w", ErrBadCredentials)
	}
	var (
		a            AgentAuth
		hash         string
		keyID        sql.NullInt64
		subnets      string
		caps         string
		pollMS       int64
		agentRevoked bool
		keyRevoked   sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT t.agent_id, t.token_hash, t.key_id, t.inventory_hash, a.uid, a.capabilities,
		a.poll_interval_ms, a.revoked, t.subnets, k.revoked_at
		FROM agent_tokens t JOIN agents a ON a.id = t.agent_id LEFT JOIN enrollment_keys k ON k.id = t.key_id
		WHERE t.token_hash = ?`, hashToken(token)).Scan(&a.AgentID, &hash, &keyID, &a.InventoryHash, &a.UID, &caps,
		&pollMS, &agentRevoked, &subnets, &keyRevoked)
	if errors.Is(err, sql.ErrNoRows) {
		return AgentAuth{}, fmt.Errorf("agent token: %w", ErrBadCredentials)
	}
	if err != nil {
		return AgentAuth{}, fmt.Errorf("agent token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(hashToken(token))) != 1 {
		return AgentAuth{}, fmt.Errorf("agent token: %w", ErrBadCredentials)
	}
	if agentRevoked {
		return AgentAuth{}, fmt.Errorf("agent %s: %w", a.UID, ErrRevoked)
	}
	a.KeyID = keyID.Int64
	a.Subnets = stringsOf(subnets)
	a.Capabilities = stringsOf(caps)
	a.PollInterval = time.Duration(pollMS) * time.Millisecond
	return a, nil
}

// SetAgentRevoked implements EnrollmentStore. Revoking also fails the
// agent's open tasks: nobody will answer them.
func (s *SQLite) SetAgentRevoked(ctx context.Context, agentID int64, revoked bool) error {
	err := s.write(ctx, func(tx wtx) error {
		return execOne(ctx, tx, `UPDATE agents SET revoked = ? WHERE id = ?`, revoked, agentID)
	})
	if err != nil {
		return fmt.Errorf("revoke agent %d: %w", agentID, err)
	}
	return nil
}

// SetAgentHello implements EnrollmentStore.
func (s *SQLite) SetAgentHello(ctx context.Context, agentID int64, capabilities []string, poll time.Duration) error {
	if capabilities == nil {
		capabilities = []string{}
	}
	caps, _ := json.Marshal(capabilities)
	err := s.write(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, `UPDATE agents SET capabilities = ?, poll_interval_ms = ? WHERE id = ?`,
			string(caps), poll.Milliseconds(), agentID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store hello of agent %d: %w", agentID, err)
	}
	return nil
}

// SetAgentInventoryHash implements EnrollmentStore.
func (s *SQLite) SetAgentInventoryHash(ctx context.Context, agentID int64, hash string) error {
	err := s.write(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, `UPDATE agent_tokens SET inventory_hash = ? WHERE agent_id = ?`, hash, agentID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store inventory hash of agent %d: %w", agentID, err)
	}
	return nil
}

// AgentRaw implements EnrollmentStore.
func (s *SQLite) AgentRaw(ctx context.Context, agentID int64) (string, error) {
	var raw string
	err := s.r.QueryRowContext(ctx, `SELECT raw FROM agents WHERE id = ?`, agentID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("get inventory of agent %d: %w", agentID, err)
	}
	return raw, nil
}

const agentTaskCols = `id, agent_id, kind, subnet_id, scan_id, payload, status, next_batch, created_at, delivered_at,
	finished_at, deadline, error, result`

func scanAgentTask(row interface{ Scan(...any) error }) (AgentTask, error) {
	var (
		t                   AgentTask
		subnet, scanID      sql.NullInt64
		created, deadline   int64
		delivered, finished sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.AgentID, &t.Kind, &subnet, &scanID, &t.Payload, &t.Status, &t.NextBatch, &created,
		&delivered, &finished, &deadline, &t.Error, &t.Result); err != nil {
		return AgentTask{}, err
	}
	t.SubnetID, t.ScanID = subnet.Int64, scanID.Int64
	t.Created, t.Delivered, t.Finished, t.Deadline = timeOf(created), nullTime(delivered), nullTime(finished), timeOf(deadline)
	return t, nil
}

func newTaskID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate task id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// CreateAgentTask implements EnrollmentStore.
func (s *SQLite) CreateAgentTask(ctx context.Context, t AgentTask) (AgentTask, error) {
	if t.ID == "" {
		id, err := newTaskID()
		if err != nil {
			return AgentTask{}, err
		}
		t.ID = id
	}
	if t.Kind == "" || t.AgentID == 0 {
		return AgentTask{}, fmt.Errorf("create agent task: %w: kind and agent required", ErrInvalid)
	}
	now := s.now()
	if t.Deadline.IsZero() {
		t.Deadline = now.Add(time.Hour)
	}
	err := s.write(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO agent_tasks (id, agent_id, kind, subnet_id, scan_id, payload, status, created_at, deadline)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.AgentID, t.Kind, nullID(t.SubnetID), nullID(t.ScanID), t.Payload,
			TaskPending, msOf(now), msOf(t.Deadline))
		return err
	})
	if err != nil {
		return AgentTask{}, fmt.Errorf("create %s task for agent %d: %w", t.Kind, t.AgentID, err)
	}
	return s.AgentTask(ctx, t.ID)
}

// AgentTask implements EnrollmentStore.
func (s *SQLite) AgentTask(ctx context.Context, id string) (AgentTask, error) {
	t, err := queryOne(ctx, s.r, scanAgentTask, `SELECT `+agentTaskCols+` FROM agent_tasks WHERE id = ?`, id)
	if err != nil {
		return AgentTask{}, fmt.Errorf("get agent task %s: %w", id, err)
	}
	return t, nil
}

// AgentTasks implements EnrollmentStore.
func (s *SQLite) AgentTasks(ctx context.Context, q AgentTaskQuery) ([]AgentTask, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 50
	}
	var where []string
	var args []any
	if q.AgentID != 0 {
		where, args = append(where, `agent_id = ?`), append(args, q.AgentID)
	}
	if q.SubnetID != 0 {
		where, args = append(where, `subnet_id = ?`), append(args, q.SubnetID)
	}
	if q.Kind != "" {
		where, args = append(where, `kind = ?`), append(args, q.Kind)
	}
	if q.OpenOnly {
		where, args = append(where, `status IN (?, ?)`), append(args, TaskPending, TaskDelivered)
	}
	query := `SELECT ` + agentTaskCols + ` FROM agent_tasks`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at DESC, rowid DESC LIMIT ?`
	out, err := queryAll(ctx, s.r, scanAgentTask, query, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list agent tasks: %w", err)
	}
	return out, nil
}

// ClaimAgentTasks implements EnrollmentStore.
func (s *SQLite) ClaimAgentTasks(ctx context.Context, agentID int64, limit int) ([]AgentTask, error) {
	var out []AgentTask
	err := s.write(ctx, func(tx wtx) error {
		var err error
		out, err = queryAll(ctx, tx, scanAgentTask, `UPDATE agent_tasks SET status = ?, delivered_at = ?
			WHERE id IN (SELECT id FROM agent_tasks WHERE agent_id = ? AND status = ? ORDER BY created_at, rowid LIMIT ?)
			RETURNING `+agentTaskCols, TaskDelivered, msOf(s.now()), agentID, TaskPending, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim tasks of agent %d: %w", agentID, err)
	}
	// RETURNING gives no order.
	slices.SortStableFunc(out, func(a, b AgentTask) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// AdvanceAgentTask implements EnrollmentStore.
func (s *SQLite) AdvanceAgentTask(ctx context.Context, id string, batch int) error {
	err := s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE agent_tasks SET next_batch = next_batch + 1
			WHERE id = ? AND next_batch = ? AND status IN (?, ?)`, id, batch, TaskPending, TaskDelivered)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return ErrConflict
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("advance agent task %s past batch %d: %w", id, batch, err)
	}
	return nil
}

// FinishAgentTask implements EnrollmentStore.
func (s *SQLite) FinishAgentTask(ctx context.Context, id string, status AgentTaskStatus, errMsg, result string) (AgentTask, error) {
	if status.Open() {
		return AgentTask{}, fmt.Errorf("finish agent task %s: %w: status %q", id, ErrInvalid, status)
	}
	var t AgentTask
	err := s.write(ctx, func(tx wtx) error {
		var err error
		t, err = scanAgentTask(tx.QueryRowContext(ctx, `UPDATE agent_tasks SET status = ?, finished_at = ?, error = ?, result = ?
			WHERE id = ? AND status IN (?, ?) RETURNING `+agentTaskCols, status, msOf(s.now()), errMsg, result, id,
			TaskPending, TaskDelivered))
		if errors.Is(err, sql.ErrNoRows) {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM agent_tasks WHERE id = ?`, id).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return ErrNotFound
			}
			return ErrConflict
		}
		return err
	})
	if err != nil {
		return AgentTask{}, fmt.Errorf("finish agent task %s: %w", id, err)
	}
	return t, nil
}

// ExpiredAgentTasks implements EnrollmentStore.
func (s *SQLite) ExpiredAgentTasks(ctx context.Context, now time.Time) ([]AgentTask, error) {
	out, err := queryAll(ctx, s.r, scanAgentTask, `SELECT `+agentTaskCols+` FROM agent_tasks
		WHERE status IN (?, ?) AND deadline < ? ORDER BY deadline LIMIT 1000`, TaskPending, TaskDelivered, msOf(now))
	if err != nil {
		return nil, fmt.Errorf("list expired agent tasks: %w", err)
	}
	return out, nil
}
