package inventory

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/lanscout/lanscout/snmp"
)

const userCols = `id, username, role, disabled, created_at, last_login`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created int64
	var lastLogin sql.NullInt64
	if err := row.Scan(&u.ID, &u.Username, &u.Role, &u.Disabled, &created, &lastLogin); err != nil {
		return User{}, err
	}
	u.Created, u.LastLogin = timeOf(created), nullTime(lastLogin)
	return u, nil
}

// CreateUser implements UserStore.
func (s *SQLite) CreateUser(ctx context.Context, username, password string, role Role) (User, error) {
	name, err := normalizeUsername(username)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if !role.Valid() {
		return User{}, fmt.Errorf("create user %s: %w: role %q is not admin, operator or viewer", name, ErrInvalid, role)
	}
	hash, err := hashPassword(password)
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", name, err)
	}
	now := s.now()
	var u User
	err = s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (username, password_hash, role, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?)`, name, string(hash), role, msOf(now), msOf(now))
		if isUniqueViolation(err) {
			return ErrConflict
		}
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		u = User{ID: id, Username: name, Role: role, Created: timeOf(msOf(now))}
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", name, err)
	}
	return u, nil
}

// SetPassword implements UserStore. It ends the user's sessions: whoever
// knew the old password must not stay logged in.
func (s *SQLite) SetPassword(ctx context.Context, userID int64, password string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, err)
	}
	err = s.write(ctx, func(tx wtx) error {
		if err := execOne(ctx, tx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`,
			string(hash), msOf(s.now()), userID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, err)
	}
	return nil
}

// UpdateUser implements UserStore. Disabling a user ends their sessions.
// The last enabled admin cannot be demoted or disabled: nobody could
// administer the appliance afterwards.
func (s *SQLite) UpdateUser(ctx context.Context, userID int64, role Role, disabled bool) (User, error) {
	if !role.Valid() {
		return User{}, fmt.Errorf("update user %d: %w: role %q", userID, ErrInvalid, role)
	}
	var u User
	err := s.write(ctx, func(tx wtx) error {
		if role != RoleAdmin || disabled {
			if err := keepAnAdmin(ctx, tx, userID); err != nil {
				return err
			}
		}
		err := execOne(ctx, tx, `UPDATE users SET role = ?, disabled = ?, updated_at = ? WHERE id = ?`,
			role, disabled, msOf(s.now()), userID)
		if err != nil {
			return err
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
				return err
			}
		}
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, userID))
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %d: %w", userID, err)
	}
	return u, nil
}

// keepAnAdmin fails when userID is the last enabled admin.
func keepAnAdmin(ctx context.Context, tx wtx, userID int64) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?`, userID).Scan(&n)
	if err != nil {
		return err
	}
	var isAdmin int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ? AND role = 'admin' AND disabled = 0`, userID).Scan(&isAdmin); err != nil {
		return err
	}
	if isAdmin > 0 && n == 0 {
		return fmt.Errorf("%w: this is the last enabled admin", ErrInvalid)
	}
	return nil
}

// DeleteUser implements UserStore.
func (s *SQLite) DeleteUser(ctx context.Context, userID int64) error {
	err := s.write(ctx, func(tx wtx) error {
		if err := keepAnAdmin(ctx, tx, userID); err != nil {
			return err
		}
		return execOne(ctx, tx, `DELETE FROM users WHERE id = ?`, userID)
	})
	if err != nil {
		return fmt.Errorf("delete user %d: %w", userID, err)
	}
	return nil
}

// User implements UserStore.
func (s *SQLite) User(ctx context.Context, id int64) (User, error) {
	u, err := queryOne(ctx, s.r, scanUser, `SELECT `+userCols+` FROM users WHERE id = ?`, id)
	if err != nil {
		return User{}, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

// UserByName implements UserStore.
func (s *SQLite) UserByName(ctx context.Context, username string) (User, error) {
	u, err := queryOne(ctx, s.r, scanUser, `SELECT `+userCols+` FROM users WHERE username = ?`,
		strings.ToLower(strings.TrimSpace(username)))
	if err != nil {
		return User{}, fmt.Errorf("get user %s: %w", username, err)
	}
	return u, nil
}

// Users implements UserStore.
func (s *SQLite) Users(ctx context.Context) ([]User, error) {
	out, err := queryAll(ctx, s.r, scanUser, `SELECT `+userCols+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// Authenticate implements UserStore.
func (s *SQLite) Authenticate(ctx context.Context, username, password string) (User, error) {
	name := strings.ToLower(strings.TrimSpace(username))
	var hash string
	var u User
	var created int64
	var lastLogin sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT `+userCols+`, password_hash FROM users WHERE username = ?`, name).Scan(
		&u.ID, &u.Username, &u.Role, &u.Disabled, &created, &lastLogin, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check, so response times do not
		// tell which usernames exist.
		bcrypt.CompareHashAndPassword(s.dummyPasswordHash(), []byte(password))
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate %s: %w", name, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || u.Disabled {
		return User{}, ErrBadCredentials
	}
	now := s.now()
	if _, err := s.w.ExecContext(ctx, `UPDATE users SET last_login = ? WHERE id = ?`, msOf(now), u.ID); err != nil {
		return User{}, fmt.Errorf("authenticate %s: note login: %w", name, err)
	}
	u.Created, u.LastLogin = timeOf(created), timeOf(msOf(now))
	return u, nil
}

// CreateSession implements UserStore.
func (s *SQLite) CreateSession(ctx context.Context, userID int64, ttl time.Duration, meta SessionMeta) (string, Session, error) {
	if ttl <= 0 {
		return "", Session{}, fmt.Errorf("create session for user %d: %w: ttl %s", userID, ErrInvalid, ttl)
	}
	token, hash, err := newToken(sessionTokenPrefix)
	if err != nil {
		return "", Session{}, fmt.Errorf("create session for user %d: %w", userID, err)
	}
	now := s.now()
	sess := Session{UserID: userID, Created: timeOf(msOf(now)), Expires: timeOf(msOf(now.Add(ttl))), SessionMeta: meta}
	err = s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, remote_addr, user_agent)
			VALUES (?, ?, ?, ?, ?, ?)`, hash, userID, msOf(sess.Created), msOf(sess.Expires), meta.RemoteAddr, truncate(meta.UserAgent, 512))
		if err != nil {
			if strings.Contains(err.Error(), "FOREIGN KEY") {
				return ErrNotFound
			}
			return err
		}
		sess.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("create session for user %d: %w", userID, err)
	}
	return token, sess, nil
}

// Session implements UserStore.
func (s *SQLite) Session(ctx context.Context, token string) (Session, User, error) {
	var sess Session
	var created, expires int64
	var u User
	var uCreated int64
	var lastLogin sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.created_at, s.expires_at, s.remote_addr, s.user_agent,
		u.id, u.username, u.role, u.disabled, u.created_at, u.last_login
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, hashToken(token)).Scan(
		&sess.ID, &sess.UserID, &created, &expires, &sess.RemoteAddr, &sess.UserAgent,
		&u.ID, &u.Username, &u.Role, &u.Disabled, &uCreated, &lastLogin)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("session: %w", err)
	}
	sess.Created, sess.Expires = timeOf(created), timeOf(expires)
	if !s.now().Before(sess.Expires) {
		return Session{}, User{}, fmt.Errorf("session: %w", ErrExpired)
	}
	if u.Disabled {
		return Session{}, User{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	u.Created, u.LastLogin = timeOf(uCreated), nullTime(lastLogin)
	return sess, u, nil
}

// DeleteSession implements UserStore (logout). Deleting an unknown
// session is not an error: logging out twice is fine.
func (s *SQLite) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions implements UserStore.
func (s *SQLite) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return nil
}

// PurgeExpiredSessions implements UserStore.
func (s *SQLite) PurgeExpiredSessions(ctx context.Context) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, msOf(s.now()))
	if err != nil {
		return 0, fmt.Errorf("purge expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

const apiTokenCols = `id, name, prefix, role, created_by, created_at, expires_at, last_used, revoked_at`

func scanAPIToken(row interface{ Scan(...any) error }) (APIToken, error) {
	var t APIToken
	var createdBy, expires, lastUsed, revoked sql.NullInt64
	var created int64
	if err := row.Scan(&t.ID, &t.Name, &t.Prefix, &t.Role, &createdBy, &created, &expires, &lastUsed, &revoked); err != nil {
		return APIToken{}, err
	}
	t.CreatedBy, t.Created = createdBy.Int64, timeOf(created)
	t.Expires, t.LastUsed, t.Revoked = nullTime(expires), nullTime(lastUsed), revoked.Valid
	return t, nil
}

// CreateAPIToken implements UserStore. expires may be zero for no expiry.
func (s *SQLite) CreateAPIToken(ctx context.Context, name string, role Role, createdBy int64, expires time.Time) (string, APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 128 {
		return "", APIToken{}, fmt.Errorf("create API token: %w: name must be 1 to 128 characters", ErrInvalid)
	}
	if !role.Valid() {
		return "", APIToken{}, fmt.Errorf("create API token %s: %w: role %q", name, ErrInvalid, role)
	}
	token, hash, err := newToken(apiTokenPrefix)
	if err != nil {
		return "", APIToken{}, fmt.Errorf("create API token %s: %w", name, err)
	}
	now := s.now()
	t := APIToken{Name: name, Prefix: token[:len(apiTokenPrefix)+6], Role: role, CreatedBy: createdBy,
		Created: timeOf(msOf(now)), Expires: nullTime(nullMS(expires))}
	err = s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (name, token_hash, prefix, role, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, name, hash, t.Prefix, role, nullID(createdBy), msOf(now), nullMS(expires))
		if err != nil {
			return err
		}
		t.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return "", APIToken{}, fmt.Errorf("create API token %s: %w", name, err)
	}
	return token, t, nil
}

// lastUsedGranularity bounds how often a token's last use is written:
// an API client polling every second must not turn reads into writes.
const lastUsedGranularity = time.Minute

// AuthenticateAPIToken implements UserStore.
func (s *SQLite) AuthenticateAPIToken(ctx context.Context, token string) (APIToken, error) {
	var hash string
	t, err := scanAPIToken(scanRow{s.r.QueryRowContext(ctx, `SELECT `+apiTokenCols+`, token_hash FROM api_tokens
		WHERE token_hash = ?`, hashToken(token)), []any{&hash}})
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, fmt.Errorf("API token: %w", ErrNotFound)
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("API token: %w", err)
	}
	// The lookup was by hash already; the constant-time compare keeps it
	// honest should the query ever change.
	if subtle.ConstantTimeCompare([]byte(hash), []byte(hashToken(token))) != 1 || t.Revoked {
		return APIToken{}, fmt.Errorf("API token: %w", ErrNotFound)
	}
	now := s.now()
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return APIToken{}, fmt.Errorf("API token %s: %w", t.Name, ErrExpired)
	}
	if now.Sub(t.LastUsed) >= lastUsedGranularity {
		if _, err := s.w.ExecContext(ctx, `UPDATE api_tokens SET last_used = ? WHERE id = ?`, msOf(now), t.ID); err != nil {
			return APIToken{}, fmt.Errorf("API token %s: note use: %w", t.Name, err)
		}
		t.LastUsed = timeOf(msOf(now))
	}
	return t, nil
}

// APITokens implements UserStore.
func (s *SQLite) APITokens(ctx context.Context) ([]APIToken, error) {
	out, err := queryAll(ctx, s.r, scanAPIToken, `SELECT `+apiTokenCols+` FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken implements UserStore. The row stays, for the audit trail.
func (s *SQLite) RevokeAPIToken(ctx context.Context, id int64) error {
	if err := execOne(ctx, s.w, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, msOf(s.now()), id); err != nil {
		return fmt.Errorf("revoke API token %d: %w", id, err)
	}
	return nil
}

// Audit implements AuditStore.
func (s *SQLite) Audit(ctx context.Context, e AuditEntry) error {
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("audit: %w: actor and action are required", ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, target, details, remote_addr) VALUES (?, ?, ?, ?, ?, ?)`,
		msOf(e.At), e.Actor, e.Action, e.Target, truncate(e.Details, 8192), e.RemoteAddr)
	if err != nil {
		return fmt.Errorf("audit %s by %s: %w", e.Action, e.Actor, err)
	}
	return nil
}

// AuditLog implements AuditStore.
func (s *SQLite) AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, int, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	var where []string
	var args []any
	if q.Actor != "" {
		where, args = append(where, `actor = ?`), append(args, q.Actor)
	}
	if q.Action != "" {
		where, args = append(where, `action LIKE ? ESCAPE '\'`), append(args, likeEscape(q.Action)+"%")
	}
	if !q.Since.IsZero() {
		where, args = append(where, `at >= ?`), append(args, msOf(q.Since))
	}
	if q.Target != "" {
		where, args = append(where, `target LIKE ? ESCAPE '\'`), append(args, likeEscape(q.Target)+"%")
	}
	if !q.Until.IsZero() {
		where, args = append(where, `at < ?`), append(args, msOf(q.Until))
	}
	cond := ""
	if len(where) > 0 {
		cond = ` WHERE ` + strings.Join(where, " AND ")
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit log: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, at, actor, action, target, details, remote_addr FROM audit_log`+cond+
		` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Details, &e.RemoteAddr); err != nil {
			return nil, 0, fmt.Errorf("read audit log: %w", err)
		}
		e.At = timeOf(at)
		out = append(out, e)
	}
	return out, total, rows.Err()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// credentialAD binds a sealed secret to its credential's name.
func credentialAD(name string) []byte { return []byte("lanscout snmp credential\x00" + name) }

const credentialCols = `id, name, version, username, auth_proto, priv_proto, context, updated_at`

func scanCredential(row interface{ Scan(...any) error }) (Credential, error) {
	var c Credential
	var updated int64
	if err := row.Scan(&c.ID, &c.Name, &c.Version, &c.User, &c.AuthProtocol, &c.PrivProtocol, &c.Context, &updated); err != nil {
		return Credential{}, err
	}
	c.Updated = timeOf(updated)
	return c, nil
}

// PutCredential implements CredentialStore.
func (s *SQLite) PutCredential(ctx context.Context, c snmp.Credential) (Credential, error) {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" || len(c.Name) > 64 {
		return Credential{}, fmt.Errorf("put credential: %w: name must be 1 to 64 characters", ErrInvalid)
	}
	if err := c.Validate(); err != nil {
		return Credential{}, fmt.Errorf("put credential: %w: %v", ErrInvalid, err)
	}
	plain, err := json.Marshal(sealedSecrets{Community: string(c.Community), AuthPass: string(c.AuthPass), PrivPass: string(c.PrivPass)})
	if err != nil {
		return Credential{}, fmt.Errorf("put credential %s: %w", c.Name, err)
	}
	sealed, err := s.seal.seal(plain, credentialAD(c.Name))
	clear(plain)
	if err != nil {
		return Credential{}, fmt.Errorf("put credential %s: %w", c.Name, err)
	}
	now := msOf(s.now())
	var out Credential
	err = s.write(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO snmp_credentials (name, version, username, auth_proto, priv_proto, context,
			secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET version = excluded.version, username = excluded.username,
			auth_proto = excluded.auth_proto, priv_proto = excluded.priv_proto, context = excluded.context,
			secret = excluded.secret, updated_at = excluded.updated_at`,
			c.Name, int(c.Version), c.User, string(c.Auth), string(c.Priv), c.Context, sealed, now, now)
		if err != nil {
			return err
		}
		out, err = scanCredential(tx.QueryRowContext(ctx, `SELECT `+credentialCols+` FROM snmp_credentials WHERE name = ?`, c.Name))
		return err
	})
	if err != nil {
		return Credential{}, fmt.Errorf("put credential %s: %w", c.Name, err)
	}
	return out, nil
}

// DeleteCredential implements CredentialStore. A credential a subnet uses
// cannot be deleted: its scans would silently lose SNMP.
func (s *SQLite) DeleteCredential(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx wtx) error {
		rows, err := tx.QueryContext(ctx, `SELECT cidr, credentials FROM subnets`)
		if err != nil {
			return err
		}
		var users []string
		for rows.Next() {
			var cidr, creds string
			if err := rows.Scan(&cidr, &creds); err != nil {
				rows.Close()
				return err
			}
			for _, n := range stringsOf(creds) {
				if n == name {
					users = append(users, cidr)
				}
			}
		}
		rows.Close()
		if len(users) > 0 {
			return fmt.Errorf("%w: used by subnet %s", ErrConflict, strings.Join(users, ", "))
		}
		return execOne(ctx, tx, `DELETE FROM snmp_credentials WHERE name = ?`, name)
	})
	if err != nil {
		return fmt.Errorf("delete credential %s: %w", name, err)
	}
	return nil
}

// Credentials implements CredentialStore.
func (s *SQLite) Credentials(ctx context.Context) ([]Credential, error) {
	out, err := queryAll(ctx, s.r, scanCredential, `SELECT `+credentialCols+` FROM snmp_credentials ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return out, nil
}

// RevealCredentials implements CredentialStore.
func (s *SQLite) RevealCredentials(ctx context.Context, names []string) ([]snmp.Credential, error) {
	out := make([]snmp.Credential, 0, len(names))
	for _, name := range names {
		var c Credential
		var sealed []byte
		err := s.r.QueryRowContext(ctx, `SELECT `+credentialCols+`, secret FROM snmp_credentials WHERE name = ?`, name).Scan(
			&c.ID, &c.Name, &c.Version, &c.User, &c.AuthProtocol, &c.PrivProtocol, &c.Context, new(int64), &sealed)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("reveal credential %s: %w", name, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("reveal credential %s: %w", name, err)
		}
		plain, err := s.seal.open(sealed, credentialAD(c.Name))
		if err != nil {
			return nil, fmt.Errorf("reveal credential %s: %w", name, err)
		}
		var sec sealedSecrets
		err = json.Unmarshal(plain, &sec)
		clear(plain)
		if err != nil {
			return nil, fmt.Errorf("reveal credential %s: decode: %w", name, err)
		}
		out = append(out, snmp.Credential{Name: c.Name, Version: c.Version, Community: snmp.Secret(sec.Community),
			User: c.User, Auth: c.AuthProtocol, AuthPass: snmp.Secret(sec.AuthPass), Priv: c.PrivProtocol,
			PrivPass: snmp.Secret(sec.PrivPass), Context: c.Context})
	}
	return out, nil
}
