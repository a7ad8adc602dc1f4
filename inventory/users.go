package inventory

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a user or API token may do.
type Role string

// The roles: admins do everything, operators scan, identify and wake,
// viewers only read.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleViewer   Role = "viewer"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleOperator || r == RoleViewer
}

// Allows reports whether r includes the rights of want.
func (r Role) Allows(want Role) bool {
	rank := map[Role]int{RoleViewer: 1, RoleOperator: 2, RoleAdmin: 3}
	return rank[r] > 0 && rank[r] >= rank[want]
}

// User is a person who logs in.
type User struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	Role      Role      `json:"role"`
	Disabled  bool      `json:"disabled"`
	Created   time.Time `json:"created"`
	LastLogin time.Time `json:"last_login,omitzero"`
}

// Session is a logged-in browser.
type Session struct {
	ID      int64     `json:"id"`
	UserID  int64     `json:"user_id"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	SessionMeta
}

// SessionMeta is what is worth knowing about where a session comes from.
type SessionMeta struct {
	RemoteAddr string `json:"remote_addr"`
	UserAgent  string `json:"user_agent"`
}

// APIToken is a bearer token for the REST API. The token itself is never
// stored; Prefix (its first characters) lets people tell tokens apart.
type APIToken struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	Role      Role      `json:"role"`
	CreatedBy int64     `json:"created_by,omitempty"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires,omitzero"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	Revoked   bool      `json:"revoked"`
}

// AuditEntry is one action someone took.
type AuditEntry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`  // username, "token:NAME", or "system"
	Action     string    `json:"action"` // e.g. "device.identify", "subnet.create"
	Target     string    `json:"target"` // e.g. "device/42"
	Details    string    `json:"details,omitempty"`
	RemoteAddr string    `json:"remote_addr,omitempty"`
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	Actor  string
	Action string // prefix, e.g. "device."
	Since  time.Time
	Limit  int // default 100
	Offset int
	Target string    // prefix, e.g. "device/42" or "user/"
	Until  time.Time // entries before it
}

// bcryptCost is the work factor for passwords: about 250 ms on the
// appliance's cores, slow for a guesser, bearable at login.
const bcryptCost = 12

// hashPassword checks a password's shape and hashes it.
func hashPassword(password string) ([]byte, error) {
	if len(password) < 8 {
		return nil, fmt.Errorf("%w: password must be at least 8 characters", ErrInvalid)
	}
	// bcrypt reads 72 bytes at most and x/crypto refuses longer input with
	// ErrPasswordTooLong; say it in words the UI can show.
	if len(password) > 72 {
		return nil, fmt.Errorf("%w: password must be at most 72 bytes", ErrInvalid)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// normalizeUsername lower-cases a username and checks its characters, so
// that "Admin" and "admin" are one account on every database.
func normalizeUsername(name string) (string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || len(name) > 64 {
		return "", fmt.Errorf("%w: username must be 1 to 64 characters", ErrInvalid)
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@", r)) {
			return "", fmt.Errorf("%w: username %q may hold letters, digits and . _ - @ only", ErrInvalid, name)
		}
	}
	return name, nil
}

// Token prefixes make leaked tokens recognisable by secret scanners and by
// people reading logs.
const (
	sessionTokenPrefix = "lss_"
	apiTokenPrefix     = "lst_"
)

// newToken returns a random token with 256 bits of entropy and its hash.
func newToken(prefix string) (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate token: %w", err)
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

// hashToken is SHA-256, not bcrypt: tokens are random and long, so a fast
// hash is safe and a lookup by hash stays an index seek.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
