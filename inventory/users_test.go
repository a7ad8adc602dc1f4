package inventory

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/snmp"
)

func TestUsers(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t)

	admin, err := s.CreateUser(ctx, " Admin ", "correct horse battery", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if admin.Username != "admin" {
		t.Errorf("username = %q, want it lower-cased", admin.Username)
	}
	for _, tc := range []struct {
		name, user, pass string
		role             Role
		want             error
	}{
		{"duplicate, other case", "ADMIN", "correct horse battery", RoleViewer, ErrConflict},
		{"short password", "bob", "short", RoleViewer, ErrInvalid},
		{"long password", "bob", strings.Repeat("x", 73), RoleViewer, ErrInvalid},
		{"bad role", "bob", "correct horse battery", "root", ErrInvalid},
		{"bad name", "bob smith", "correct horse battery", RoleViewer, ErrInvalid},
	} {
		if _, err := s.CreateUser(ctx, tc.user, tc.pass, tc.role); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	viewer, err := s.CreateUser(ctx, "viewer", "a viewer password", RoleViewer)
	if err != nil {
		t.Fatal(err)
	}

	if u, err := s.Authenticate(ctx, "ADMIN", "correct horse battery"); err != nil || u.ID != admin.ID || u.LastLogin.IsZero() {
		t.Errorf("good login = %+v, %v", u, err)
	}
	for _, tc := range []struct{ user, pass string }{{"admin", "wrong password"}, {"nobody", "whatever password"}} {
		if _, err := s.Authenticate(ctx, tc.user, tc.pass); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("login %s/%s: err = %v", tc.user, tc.pass, err)
		}
	}

	// The last admin can be neither demoted, disabled nor deleted.
	if _, err := s.UpdateUser(ctx, admin.ID, RoleViewer, false); !errors.Is(err, ErrInvalid) {
		t.Errorf("demote last admin: err = %v", err)
	}
	if err := s.DeleteUser(ctx, admin.ID); !errors.Is(err, ErrInvalid) {
		t.Errorf("delete last admin: err = %v", err)
	}
	if _, err := s.UpdateUser(ctx, viewer.ID, RoleOperator, false); err != nil {
		t.Fatal(err)
	}
	if !RoleAdmin.Allows(RoleOperator) || RoleViewer.Allows(RoleOperator) || Role("x").Allows(RoleViewer) {
		t.Error("role ranks are wrong")
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s, clk, dir := openTest(t)
	u, err := s.CreateUser(ctx, "op", "operator password", RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	token, sess, err := s.CreateSession(ctx, u.ID, time.Hour, SessionMeta{RemoteAddr: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, sessionTokenPrefix) || len(token) < 40 {
		t.Errorf("token %q", token)
	}
	if got, gu, err := s.Session(ctx, token); err != nil || got.ID != sess.ID || gu.Username != "op" || got.RemoteAddr != "192.0.2.1" {
		t.Errorf("Session = %+v %+v %v", got, gu, err)
	}
	if _, _, err := s.Session(ctx, token+"x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown token: err = %v", err)
	}
	assertNotInFiles(t, dir, token)

	clk.Advance(time.Hour)
	if _, _, err := s.Session(ctx, token); !errors.Is(err, ErrExpired) {
		t.Errorf("expired session: err = %v", err)
	}
	if n, err := s.PurgeExpiredSessions(ctx); err != nil || n != 1 {
		t.Errorf("purge = %d, %v", n, err)
	}

	// A password change ends every session of the user.
	token, _, _ = s.CreateSession(ctx, u.ID, time.Hour, SessionMeta{})
	if err := s.SetPassword(ctx, u.ID, "a new operator password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, token); !errors.Is(err, ErrNotFound) {
		t.Errorf("session after password change: err = %v", err)
	}
	// So does disabling the user.
	token, _, _ = s.CreateSession(ctx, u.ID, time.Hour, SessionMeta{})
	if _, err := s.UpdateUser(ctx, u.ID, RoleOperator, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, token); !errors.Is(err, ErrNotFound) {
		t.Errorf("session of a disabled user: err = %v", err)
	}
	if _, err := s.Authenticate(ctx, "op", "a new operator password"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("disabled user logs in: err = %v", err)
	}
	if err := s.DeleteSession(ctx, "never-issued"); err != nil {
		t.Errorf("logging out twice: %v", err)
	}
}

func TestAPITokens(t *testing.T) {
	ctx := context.Background()
	s, clk, dir := openTest(t)
	u, _ := s.CreateUser(ctx, "admin", "admin password", RoleAdmin)
	token, tok, err := s.CreateAPIToken(ctx, "prometheus", RoleViewer, u.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, tok.Prefix) || tok.Role != RoleViewer {
		t.Errorf("token %q / %+v", token, tok)
	}
	assertNotInFiles(t, dir, token)
	got, err := s.AuthenticateAPIToken(ctx, token)
	if err != nil || got.ID != tok.ID || got.LastUsed.IsZero() {
		t.Errorf("authenticate = %+v, %v", got, err)
	}
	if _, err := s.AuthenticateAPIToken(ctx, "lst_forged"); !errors.Is(err, ErrNotFound) {
		t.Errorf("forged token: err = %v", err)
	}

	short, _, err := s.CreateAPIToken(ctx, "ci", RoleOperator, 0, clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour)
	if _, err := s.AuthenticateAPIToken(ctx, short); !errors.Is(err, ErrExpired) {
		t.Errorf("expired token: err = %v", err)
	}
	if err := s.RevokeAPIToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateAPIToken(ctx, token); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked token: err = %v", err)
	}
	list, err := s.APITokens(ctx)
	if err != nil || len(list) != 2 || !list[0].Revoked {
		t.Errorf("tokens = %+v, %v", list, err)
	}
}

func TestAuditAppendOnly(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t)
	for i, a := range []string{"subnet.create", "device.identify", "device.identify"} {
		if err := s.Audit(ctx, AuditEntry{Actor: "alice", Action: a, Target: "device/1", Details: "n=" + string(rune('0'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Audit(ctx, AuditEntry{Action: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no actor: err = %v", err)
	}
	got, total, err := s.AuditLog(ctx, AuditQuery{Action: "device.", Limit: 1})
	if err != nil || total != 2 || len(got) != 1 || got[0].Details != "n=2" {
		t.Errorf("audit log = %+v (total %d), %v", got, total, err)
	}
	for _, q := range []string{`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`} {
		if _, err := s.w.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only trigger", q, err)
		}
	}
}

func TestCredentialsSealed(t *testing.T) {
	ctx := context.Background()
	s, _, dir := openTest(t)
	const community, authPass, privPass = "s3cr3t-community-XYZZY", "auth-pass-PLUGH-42", "priv-pass-FROBOZZ-7"
	if _, err := s.PutCredential(ctx, snmp.Credential{Name: "office", Version: snmp.V2c, Community: community}); err != nil {
		t.Fatal(err)
	}
	c3, err := s.PutCredential(ctx, snmp.Credential{Name: "core-v3", Version: snmp.V3, User: "monitor",
		Auth: snmp.SHA256, AuthPass: authPass, Priv: snmp.AES, PrivPass: privPass, Context: "vlan-10"})
	if err != nil {
		t.Fatal(err)
	}
	if c3.User != "monitor" || c3.AuthProtocol != snmp.SHA256 || c3.Context != "vlan-10" {
		t.Errorf("public view = %+v", c3)
	}
	if _, err := s.PutCredential(ctx, snmp.Credential{Name: "weak", Version: snmp.V3, User: "u", Auth: snmp.SHA, AuthPass: "short"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("short passphrase: err = %v", err)
	}

	got, err := s.RevealCredentials(ctx, []string{"core-v3", "office"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0].AuthPass) != authPass || string(got[0].PrivPass) != privPass ||
		string(got[1].Community) != community || got[0].Priv != snmp.AES {
		t.Errorf("revealed = %#v", got)
	}
	if _, err := s.RevealCredentials(ctx, []string{"missing"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing credential: err = %v", err)
	}

	// On disk: neither the database nor its WAL holds a secret.
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(FULL)`); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{community, authPass, privPass} {
		assertNotInFiles(t, dir, secret)
	}
	st, err := os.Stat(filepath.Join(dir, "credentials.key"))
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() != 32 {
		t.Errorf("key file: %v %v", st, err)
	}

	// A subnet using a credential pins it.
	sn, err := s.CreateSubnet(ctx, Subnet{CIDR: "10.20.0.0/24", Credentials: []string{"office"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCredential(ctx, "office"); !errors.Is(err, ErrConflict) {
		t.Errorf("delete a credential in use: err = %v", err)
	}
	sn.Credentials = nil
	if _, err := s.UpdateSubnet(ctx, sn); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCredential(ctx, "office"); err != nil {
		t.Fatal(err)
	}
	if list, err := s.Credentials(ctx); err != nil || len(list) != 1 {
		t.Errorf("credentials = %+v, %v", list, err)
	}

	// Reopened with another key, the secrets do not open.
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, "credentials.key"), bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenSQLite(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.RevealCredentials(ctx, []string{"core-v3"}); err == nil || !strings.Contains(err.Error(), "wrong key file") {
		t.Errorf("reveal with another key: err = %v", err)
	}
}

// assertNotInFiles fails when secret appears in any file of dir.
func assertNotInFiles(t *testing.T, dir, secret string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds %q in clear", e.Name(), secret)
		}
	}
}
