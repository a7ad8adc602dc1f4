package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
	"github.com/lanscout/lanscout/web"
)

// Secrets the tests set; none may ever come back in a response.
const (
	secretCommunity = "community-Zq8Xw"
	secretAuth      = "auth-pass-K7vR2"
	secretPriv      = "priv-pass-M4nB9"
	newAuth         = "auth-pass-NEW-P3"
)

// bodies calls the API like fixture.api and keeps every response body,
// so a test can check that none carries a secret.
type bodies struct {
	f   *fixture
	all []string
}

func (b *bodies) call(token, method, path string, body any, out any) int {
	b.f.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			b.f.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.f.ts.URL+path, r)
	if err != nil {
		b.f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.f.ts.Client().Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.all = append(b.all, string(raw))
	if out != nil && resp.StatusCode < 300 && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(raw, out); err != nil {
			b.f.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// TestAdminAPIRoles calls every admin endpoint with each role: viewers get
// 403 on every write and on admin-only reads, operators on every admin
// write, and refused calls change nothing, not even the audit log.
func TestAdminAPIRoles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.store.PutCredential(ctx, snmp.Credential{Name: "campus", Version: snmp.V2c, Community: secretCommunity}); err != nil {
		t.Fatal(err)
	}
	u, err := f.store.CreateUser(ctx, "bob", testPassword, inventory.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := f.store.CreateTypeRule(ctx, inventory.TypeRule{Source: "name: Lab PDU\ncategory: power\nwhen:\n  - sysdescr: lab-pdu\n", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := f.store.APITokens(ctx)

	// Reads every role may do.
	for _, path := range []string{"/api/v1/credentials", "/api/v1/credentials/campus", "/api/v1/types", fmt.Sprintf("/api/v1/types/%d", rule.ID)} {
		for _, role := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator, inventory.RoleAdmin} {
			if code := f.api(f.tokens[role], http.MethodGet, path, nil, nil); code != http.StatusOK {
				t.Errorf("%s GET %s: %d, want 200", role, path, code)
			}
		}
		if code := f.api("", http.MethodGet, path, nil, nil); code != http.StatusUnauthorized {
			t.Errorf("anonymous GET %s: %d", path, code)
		}
	}
	// Admin-only reads.
	adminReads := []string{"/api/v1/users", fmt.Sprintf("/api/v1/users/%d", u.ID), "/api/v1/tokens", "/api/v1/audit", "/api/v1/settings"}
	for _, path := range adminReads {
		for _, role := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator} {
			if code := f.api(f.tokens[role], http.MethodGet, path, nil, nil); code != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", role, path, code)
			}
		}
		if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodGet, path, nil, nil); code != http.StatusOK {
			t.Errorf("admin GET %s: %d", path, code)
		}
	}

	type write struct {
		method, path string
		body         any
	}
	writes := []write{
		{http.MethodPost, "/api/v1/credentials", map[string]any{"name": "x", "community": "c"}},
		{http.MethodPut, "/api/v1/credentials/campus", map[string]any{"community": "other"}},
		{http.MethodDelete, "/api/v1/credentials/campus", nil},
		{http.MethodPost, "/api/v1/users", map[string]any{"username": "eve", "password": testPassword, "role": "admin"}},
		{http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", u.ID), map[string]any{"role": "admin"}},
		{http.MethodPut, fmt.Sprintf("/api/v1/users/%d/password", u.ID), map[string]any{"password": "another password"}},
		{http.MethodDelete, fmt.Sprintf("/api/v1/users/%d", u.ID), nil},
		{http.MethodPost, "/api/v1/tokens", map[string]any{"name": "t", "role": "admin"}},
		{http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", toks[0].ID), nil},
		{http.MethodPut, "/api/v1/settings", map[string]any{"default_method": "icmp"}},
		{http.MethodPost, "/api/v1/types", map[string]any{"source": "name: X\ncategory: power\nwhen: [{sysdescr: x}]"}},
		{http.MethodPut, fmt.Sprintf("/api/v1/types/%d", rule.ID), map[string]any{"enabled": false}},
		{http.MethodDelete, fmt.Sprintf("/api/v1/types/%d", rule.ID), nil},
		{http.MethodPost, "/api/v1/types/test", map[string]any{"source": "name: X\ncategory: power\nwhen: [{sysdescr: x}]", "device_id": 1}},
		{http.MethodPost, "/api/v1/types/reclassify", nil},
	}
	snapshot := func() any {
		creds, _ := f.store.Credentials(ctx)
		users, _ := f.store.Users(ctx)
		toks, _ := f.store.APITokens(ctx)
		rules, _ := f.store.TypeRules(ctx)
		st, _ := f.store.Settings(ctx)
		_, audits, _ := f.store.AuditLog(ctx, inventory.AuditQuery{})
		revealed, _ := f.store.RevealCredentials(ctx, []string{"campus"})
		for i := range toks {
			toks[i].LastUsed = time.Time{} // reads note their use
		}
		return []any{creds, users, toks, rules, st, audits, string(revealed[0].Community)}
	}
	before := snapshot()
	for _, w := range writes {
		for _, role := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator} {
			if code := f.api(f.tokens[role], w.method, w.path, w.body, nil); code != http.StatusForbidden {
				t.Errorf("%s %s %s: %d, want 403", role, w.method, w.path, code)
			}
		}
		if code := f.api("", w.method, w.path, w.body, nil); code != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d, want 401", w.method, w.path, code)
		}
	}
	if after := snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatalf("refused writes changed something:\n%v\n%v", before, after)
	}

	// The admin may do each.
	admin := f.tokens[inventory.RoleAdmin]
	seedProbe(t, f)
	wantCodes := []int{201, 200, 204, 201, 200, 204, 204, 201, 204, 200, 201, 200, 204, 200, 200}
	for i, w := range writes {
		body := w.body
		if w.path == "/api/v1/types/test" {
			body = map[string]any{"source": "name: X\ncategory: power\nwhen: [{sysdescr: x}]", "device_id": probeID(t, f)}
		}
		if code := f.api(admin, w.method, w.path, body, nil); code != wantCodes[i] {
			t.Errorf("admin %s %s: %d, want %d", w.method, w.path, code, wantCodes[i])
		}
	}
	entries, _, err := f.store.AuditLog(ctx, inventory.AuditQuery{Actor: "token:admin-token", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range entries {
		got[e.Action]++
	}
	for _, a := range []string{"credential.put", "credential.delete", "user.create", "user.update", "user.password", "user.delete",
		"token.create", "token.revoke", "settings.update", "type.create", "type.update", "type.delete", "type.reclassify"} {
		if got[a] == 0 {
			t.Errorf("no audit entry %s (have %v)", a, got)
		}
	}
}

// seedProbe records a device with SNMP evidence: sysDescr "Acme cold-room
// probe", net-snmp's sysObjectID.
func seedProbe(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.9.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	ev := snmp.NewEvidence()
	ev.Add(snmp.Var{Name: "1.3.6.1.2.1.1.1.0", Kind: snmp.OctetString, Bytes: []byte("Acme cold-room probe 2.1")})
	ev.Add(snmp.Var{Name: "1.3.6.1.2.1.1.2.0", Kind: snmp.ObjectID, OID: "1.3.6.1.4.1.8072.3.2.10"})
	cl, err := typing.New(typing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := cl.Classify(typing.Input{Evidence: ev})
	d := scan.Device{IP: "10.9.0.5", MAC: "02:00:00:00:09:05", FoundBy: []string{"arp", "snmp"},
		SNMP: &scan.SNMPInfo{Version: "2c", Credential: "public", SysName: "probe-1", SysDescr: "Acme cold-room probe 2.1",
			SysObjectID: "1.3.6.1.4.1.8072.3.2.10"}, Evidence: ev,
		Category: string(res.Category), Vendor: res.Vendor, Confidence: res.Confidence, Reasons: res.Reasons}
	seedDevices(t, f.store, sn, d, scan.Device{IP: "10.9.0.6", MAC: "02:00:00:00:09:06", Category: "unknown", FoundBy: []string{"arp"}})
}

func probeID(t *testing.T, f *fixture) int64 {
	t.Helper()
	page, err := f.store.Devices(context.Background(), inventory.DeviceQuery{Search: "10.9.0.5"})
	if err != nil || len(page.Devices) == 0 {
		t.Fatalf("probe: %v %v", page, err)
	}
	return page.Devices[0].ID
}

// TestCredentialSecretsStayWriteOnly creates, lists and replaces
// credentials through the API and the page, and checks that no answer
// ever carries a secret while the store keeps the right ones.
func TestCredentialSecretsStayWriteOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.tokens[inventory.RoleAdmin]
	b := &bodies{f: f}
	var cred inventory.Credential
	if code := b.call(admin, http.MethodPost, "/api/v1/credentials", map[string]any{"name": "campus", "version": "2c",
		"community": secretCommunity}, &cred); code != http.StatusCreated || cred.Name != "campus" || cred.Version != snmp.V2c {
		t.Fatalf("create v2c: %d %+v", code, cred)
	}
	if code := b.call(admin, http.MethodPost, "/api/v1/credentials", map[string]any{"name": "campus", "community": "x"}, nil); code != http.StatusConflict {
		t.Errorf("second create of one name: %d, want 409", code)
	}
	v3 := map[string]any{"name": "core", "version": "3", "user": "mon", "auth_protocol": "SHA-256", "auth_password": secretAuth,
		"priv_protocol": "AES", "priv_password": secretPriv, "context": "vlan1"}
	if code := b.call(admin, http.MethodPut, "/api/v1/credentials/core", v3, &cred); code != http.StatusCreated {
		t.Fatalf("PUT new v3: %d", code)
	}
	// Replace without secrets: only the context changes, the pass phrases stay.
	if code := b.call(admin, http.MethodPut, "/api/v1/credentials/core", map[string]any{"version": "3", "user": "mon",
		"auth_protocol": "SHA-256", "priv_protocol": "AES", "context": "vlan2"}, &cred); code != http.StatusOK || cred.Context != "vlan2" {
		t.Fatalf("replace keeping secrets: %d %+v", code, cred)
	}
	got, err := f.store.RevealCredentials(ctx, []string{"core", "campus"})
	if err != nil {
		t.Fatal(err)
	}
	if string(got[0].AuthPass) != secretAuth || string(got[0].PrivPass) != secretPriv || got[0].Context != "vlan2" || string(got[1].Community) != secretCommunity {
		t.Errorf("stored after a replace without secrets: %#v", got)
	}
	// A new auth pass phrase replaces only that one.
	if code := b.call(admin, http.MethodPut, "/api/v1/credentials/core", map[string]any{"version": "3", "user": "mon",
		"auth_protocol": "SHA-256", "auth_password": newAuth, "priv_protocol": "AES", "context": "vlan2"}, nil); code != http.StatusOK {
		t.Fatalf("replace the auth secret: %d", code)
	}
	got, _ = f.store.RevealCredentials(ctx, []string{"core"})
	if string(got[0].AuthPass) != newAuth || string(got[0].PrivPass) != secretPriv {
		t.Errorf("after a new auth pass phrase: auth kept=%v priv kept=%v", string(got[0].AuthPass) == secretAuth, string(got[0].PrivPass) == secretPriv)
	}
	// A different user does not inherit the old user's pass phrases.
	if code := b.call(admin, http.MethodPut, "/api/v1/credentials/core", map[string]any{"version": "3", "user": "other",
		"auth_protocol": "SHA-256"}, nil); code != http.StatusBadRequest {
		t.Errorf("new user without pass phrase: %d, want 400", code)
	}
	for _, bad := range []map[string]any{
		{"name": "b1", "version": "2c"},
		{"name": "b2", "version": "4", "community": "x"},
		{"name": "b3", "version": "3", "user": "u", "auth_protocol": "ROT13", "auth_password": "longenough"},
		{"name": "b4", "version": "3", "user": "u", "auth_protocol": "SHA", "auth_password": "short"},
		{"name": "b5", "community": "x", "colour": "red"},
		{"name": "", "community": "x"},
	} {
		if code := b.call(admin, http.MethodPost, "/api/v1/credentials", bad, nil); code != http.StatusBadRequest {
			t.Errorf("POST %v: %d, want 400", bad, code)
		}
	}
	// A credential a subnet uses cannot go; the subnet API picks it by name.
	var sn subnetJSON
	if code := b.call(admin, http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.1.0.0/24", "credentials": []string{"core", "campus"}}, &sn); code != http.StatusCreated ||
		!reflect.DeepEqual(sn.Credentials, []string{"core", "campus"}) {
		t.Fatalf("subnet with credentials: %d %+v", code, sn)
	}
	if code := b.call(admin, http.MethodDelete, "/api/v1/credentials/campus", nil, nil); code != http.StatusConflict {
		t.Errorf("delete a used credential: %d, want 409", code)
	}
	var list struct {
		Items []struct {
			Name   string   `json:"name"`
			UsedBy []string `json:"used_by"`
		} `json:"items"`
		Total int `json:"total"`
	}
	b.call(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/credentials", nil, &list)
	if list.Total != 2 || list.Items[0].Name != "campus" || !reflect.DeepEqual(list.Items[0].UsedBy, []string{"10.1.0.0/24"}) {
		t.Errorf("list %+v", list)
	}
	b.call(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/credentials/core", nil, nil)
	b.call(admin, http.MethodGet, "/api/v1/audit", nil, nil)
	b.call(admin, http.MethodGet, "/api/v1/subnets", nil, nil)

	// The page and its form.
	f.user("root", inventory.RoleAdmin)
	c, resp := f.login("root", testPassword)
	readBody(t, resp)
	resp = f.postForm(c, "/admin/credentials", url.Values{"name": {"core"}, "version": {"3"}, "user": {"mon"},
		"auth_protocol": {"SHA-256"}, "priv_protocol": {"AES"}, "context": {"vlan3"}}, "same-origin")
	b.all = append(b.all, readBody(t, resp))
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("form replace keeping secrets: %d", resp.StatusCode)
	}
	// A failing form must not echo the secret typed.
	resp = f.postForm(c, "/admin/credentials", url.Values{"name": {"weak"}, "version": {"3"}, "user": {"mon"},
		"auth_protocol": {"SHA"}, "auth_password": {secretAuth}, "priv_protocol": {"AES"}, "priv_password": {"short"}}, "same-origin")
	body := readBody(t, resp)
	b.all = append(b.all, body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "privacy password must be at least 8") {
		t.Errorf("form with a short privacy pass phrase: %d", resp.StatusCode)
	}
	for _, p := range []string{"/admin/credentials", "/admin/audit", "/subnets", "/admin/settings"} {
		resp, err := c.Get(f.ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b.all = append(b.all, readBody(t, resp))
	}
	resp, err = c.Get(f.ts.URL + "/admin/credentials?edit=core")
	if err != nil {
		t.Fatal(err)
	}
	body = readBody(t, resp)
	b.all = append(b.all, body)
	if !strings.Contains(body, `name="user" value="mon"`) || !strings.Contains(body, `value="vlan3"`) {
		t.Error("?edit does not fill the form with the credential's parameters")
	}
	got, _ = f.store.RevealCredentials(ctx, []string{"core"})
	if got[0].Context != "vlan3" || string(got[0].PrivPass) != secretPriv {
		t.Errorf("after the form: %#v", got[0])
	}

	for i, body := range b.all {
		for _, secret := range []string{secretCommunity, secretAuth, secretPriv, newAuth} {
			if strings.Contains(body, secret) {
				t.Errorf("response %d carries a secret: %.300s", i, body)
			}
		}
	}
	if len(b.all) < 20 {
		t.Errorf("only %d responses checked", len(b.all))
	}
}

// TestUsersAndTokens manages accounts and tokens through the API and the
// pages, including what nobody may do to their own account.
func TestUsersAndTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := f.tokens[inventory.RoleAdmin]
	var u inventory.User
	if code := f.api(admin, http.MethodPost, "/api/v1/users", map[string]any{"username": "Carol", "password": testPassword, "role": "operator"}, &u); code != http.StatusCreated ||
		u.Username != "carol" || u.Role != inventory.RoleOperator {
		t.Fatalf("create: %d %+v", code, u)
	}
	if code := f.api(admin, http.MethodPost, "/api/v1/users", map[string]any{"username": "carol", "password": testPassword, "role": "viewer"}, nil); code != http.StatusConflict {
		t.Errorf("duplicate: %d", code)
	}
	if code := f.api(admin, http.MethodPost, "/api/v1/users", map[string]any{"username": "dan", "password": "short", "role": "viewer"}, nil); code != http.StatusBadRequest {
		t.Errorf("short password: %d", code)
	}
	var list listJSON[inventory.User]
	f.api(admin, http.MethodGet, "/api/v1/users?limit=1&page=1", nil, &list)
	if list.Total != 1 || len(list.Items) != 1 {
		t.Errorf("paged users %+v", list)
	}
	if code := f.api(admin, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", u.ID), map[string]any{"disabled": true}, &u); code != http.StatusOK ||
		!u.Disabled || u.Role != inventory.RoleOperator {
		t.Errorf("disable: %d %+v", code, u)
	}
	if _, resp := f.login("carol", testPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("disabled user logs in: %d", resp.StatusCode)
	}
	if code := f.api(admin, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", u.ID), map[string]any{"disabled": false, "role": "admin"}, &u); code != http.StatusOK || u.Role != inventory.RoleAdmin {
		t.Errorf("promote: %d %+v", code, u)
	}
	if code := f.api(admin, http.MethodPut, fmt.Sprintf("/api/v1/users/%d/password", u.ID), map[string]any{"password": "a new password"}, nil); code != http.StatusNoContent {
		t.Errorf("password: %d", code)
	}
	if _, err := f.store.Authenticate(ctx, "carol", "a new password"); err != nil {
		t.Errorf("new password refused: %v", err)
	}

	// Logged in as carol: she cannot delete, disable or demote herself.
	c, resp := f.login("carol", "a new password")
	readBody(t, resp)
	for _, form := range []struct {
		path string
		v    url.Values
	}{
		{fmt.Sprintf("/admin/users/%d/delete", u.ID), nil},
		{fmt.Sprintf("/admin/users/%d", u.ID), url.Values{"role": {"viewer"}}},
		{fmt.Sprintf("/admin/users/%d", u.ID), url.Values{"role": {"admin"}, "disabled": {"on"}}},
	} {
		resp := f.postForm(c, form.path, form.v, "same-origin")
		if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "your own account") {
			t.Errorf("self %s: %d", form.path, resp.StatusCode)
		}
	}
	if got, _ := f.store.User(ctx, u.ID); got.Role != inventory.RoleAdmin || got.Disabled {
		t.Errorf("carol after refused self changes: %+v", got)
	}
	// She adds and removes another user through the page.
	resp = f.postForm(c, "/admin/users", url.Values{"username": {"dave"}, "role": {"viewer"}, "password": {testPassword}, "password2": {testPassword}}, "same-origin")
	readBody(t, resp)
	dave, err := f.store.UserByName(ctx, "dave")
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("create dave by form: %d %v", resp.StatusCode, err)
	}
	resp = f.postForm(c, "/admin/users", url.Values{"username": {"erin"}, "role": {"viewer"}, "password": {testPassword}, "password2": {"typo"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "passwords differ") {
		t.Errorf("mismatched passwords: %d", resp.StatusCode)
	}
	resp = f.postForm(c, fmt.Sprintf("/admin/users/%d/password", dave.ID), url.Values{"password": {"dave's new pw"}, "password2": {"dave's new pw"}}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("reset dave: %d", resp.StatusCode)
	}
	resp = f.postForm(c, fmt.Sprintf("/admin/users/%d/delete", dave.ID), nil, "same-origin")
	readBody(t, resp)
	if _, err := f.store.User(ctx, dave.ID); resp.StatusCode != http.StatusSeeOther || err == nil {
		t.Errorf("delete dave: %d %v", resp.StatusCode, err)
	}
	// The API refuses to delete the last enabled admin (carol, once she is
	// the only one: there are no other admin users).
	if code := f.api(admin, http.MethodDelete, fmt.Sprintf("/api/v1/users/%d", u.ID), nil, nil); code != http.StatusBadRequest {
		t.Errorf("delete the last admin: %d, want 400", code)
	}

	// Tokens: created once with the token, listed without it.
	var ct struct {
		ID      int64  `json:"id"`
		Token   string `json:"token"`
		Prefix  string `json:"prefix"`
		Expires string `json:"expires"`
	}
	if code := f.api(admin, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "grafana", "role": "viewer", "expires_in": "30d"}, &ct); code != http.StatusCreated ||
		!strings.HasPrefix(ct.Token, "lst_") || !strings.HasPrefix(ct.Token, ct.Prefix) || ct.Expires == "" {
		t.Fatalf("create token: %d %+v", code, ct)
	}
	if code := f.api(ct.Token, http.MethodGet, "/api/v1/me", nil, nil); code != http.StatusOK {
		t.Errorf("the new token does not work: %d", code)
	}
	var noExp struct {
		Token   string `json:"token"`
		Expires string `json:"expires"`
	}
	f.api(admin, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "ci", "role": "operator", "expires_in": "never"}, &noExp)
	if noExp.Expires != "" {
		t.Errorf("never-expiring token expires %q", noExp.Expires)
	}
	if code := f.api(admin, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "x", "role": "viewer", "expires_in": "soon"}, nil); code != http.StatusBadRequest {
		t.Errorf("bad expiry: %d", code)
	}
	resp, err = c.Get(f.ts.URL + "/admin/tokens")
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	for _, tok := range []string{ct.Token, noExp.Token} {
		if strings.Contains(page, tok) {
			t.Error("the tokens page shows a token after its creation")
		}
	}
	req, _ := http.NewRequest(http.MethodGet, f.ts.URL+"/api/v1/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, _ = f.ts.Client().Do(req)
	if body := readBody(t, resp); strings.Contains(body, ct.Token) || strings.Contains(body, admin) {
		t.Error("the token list carries a token")
	}
	if code := f.api(admin, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", ct.ID), nil, nil); code != http.StatusNoContent {
		t.Errorf("revoke: %d", code)
	}
	if code := f.api(ct.Token, http.MethodGet, "/api/v1/me", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("revoked token still works: %d", code)
	}
	if code := f.api(admin, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", ct.ID), nil, nil); code != http.StatusNotFound {
		t.Errorf("second revoke: %d", code)
	}
	// The page creates a token and shows it once, with its copy button.
	resp = f.postForm(c, "/admin/tokens", url.Values{"name": {"from-page"}, "role": {"viewer"}, "expires_in": {"90d"}}, "same-origin")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-copy="token-value"`) || !strings.Contains(body, "lst_") {
		t.Fatalf("token form: %d", resp.StatusCode)
	}
	i := strings.Index(body, `<code id="token-value" class="mono">`) + len(`<code id="token-value" class="mono">`)
	shown := body[i : i+strings.Index(body[i:], "<")]
	if code := f.api(shown, http.MethodGet, "/api/v1/me", nil, nil); code != http.StatusOK {
		t.Errorf("token shown by the page does not work: %d", code)
	}
	toks, _ := f.store.APITokens(ctx)
	last := toks[len(toks)-1]
	if last.Name != "from-page" || last.CreatedBy != u.ID || last.Expires.IsZero() {
		t.Errorf("token from the page: %+v", last)
	}
}

// TestAuditAPIFilters pages and filters the audit log.
func TestAuditAPIFilters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 12 {
		if err := f.store.Audit(ctx, inventory.AuditEntry{Actor: "alice", Action: "device.identify", Target: fmt.Sprintf("device/%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.store.Audit(ctx, inventory.AuditEntry{Actor: "bob", Action: "user.create", Target: "user/9"}); err != nil {
		t.Fatal(err)
	}
	admin := f.tokens[inventory.RoleAdmin]
	var res struct {
		Items []inventory.AuditEntry `json:"items"`
		Total int                    `json:"total"`
		Page  int                    `json:"page"`
		Limit int                    `json:"limit"`
	}
	for _, c := range []struct {
		query      string
		total, len int
	}{
		{"", 13, 13},
		{"?actor=alice&limit=5&page=3", 12, 2},
		{"?action=user.", 1, 1},
		{"?target=device/1", 3, 3}, // device/1, device/10, device/11
		{"?since=2000-01-01&until=2000-01-02", 0, 0},
		{"?since=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), 13, 13},
	} {
		if code := f.api(admin, http.MethodGet, "/api/v1/audit"+c.query, nil, &res); code != http.StatusOK || res.Total != c.total || len(res.Items) != c.len {
			t.Errorf("audit%s: %d total %d items %d, want %d %d", c.query, code, res.Total, len(res.Items), c.total, c.len)
		}
	}
	for _, bad := range []string{"?since=yesterday", "?limit=0", "?page=x"} {
		if code := f.api(admin, http.MethodGet, "/api/v1/audit"+bad, nil, nil); code != http.StatusBadRequest {
			t.Errorf("audit%s: %d, want 400", bad, code)
		}
	}
	f.user("root", inventory.RoleAdmin)
	c, resp := f.login("root", testPassword)
	readBody(t, resp)
	resp, err := c.Get(f.ts.URL + "/admin/audit?actor=bob")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "user/9") || strings.Contains(body, "device/3<") {
		t.Errorf("audit page filtered by actor: %d", resp.StatusCode)
	}
}

// TestSettingsAreNewSubnetDefaults changes the defaults and creates
// subnets through the API and the form.
func TestSettingsAreNewSubnetDefaults(t *testing.T) {
	f := newFixture(t, func(_ *inventory.Options, w *web.Options) {
		w.Admin = web.AdminOptions{Version: "v9.9-test", TLSFingerprints: []string{"SHA256:abc"},
			Config: []web.ConfigSetting{{Name: "listen", Value: ":8443"}}}
	})
	ctx := context.Background()
	if _, err := f.store.PutCredential(ctx, snmp.Credential{Name: "campus", Version: snmp.V2c, Community: secretCommunity}); err != nil {
		t.Fatal(err)
	}
	admin := f.tokens[inventory.RoleAdmin]
	var got struct {
		Settings struct {
			DefaultMethod      string   `json:"default_method"`
			DefaultGoneAfter   int      `json:"default_gone_after"`
			DefaultCredentials []string `json:"default_credentials"`
			TokenExpiry        string   `json:"token_expiry"`
			UpdatedBy          string   `json:"updated_by"`
		} `json:"settings"`
		Server struct {
			Version         string   `json:"version"`
			TLSFingerprints []string `json:"tls_fingerprints"`
			SessionTTL      string   `json:"session_ttl"`
		} `json:"server"`
	}
	f.api(admin, http.MethodGet, "/api/v1/settings", nil, &got)
	if got.Settings.DefaultMethod != "auto" || got.Settings.DefaultGoneAfter != 3 || got.Settings.TokenExpiry != "90d" ||
		got.Server.Version != "v9.9-test" || got.Server.TLSFingerprints[0] != "SHA256:abc" || got.Server.SessionTTL != "12h0m0s" {
		t.Errorf("fresh settings %+v", got)
	}
	if code := f.api(admin, http.MethodPut, "/api/v1/settings", map[string]any{"default_method": "icmp", "default_gone_after": 5,
		"default_schedule": map[string]any{"every": "6h"}, "default_credentials": []string{"campus"}}, &got); code != http.StatusOK ||
		got.Settings.DefaultMethod != "icmp" || got.Settings.UpdatedBy != "token:admin-token" || got.Settings.TokenExpiry != "90d" {
		t.Fatalf("PUT settings: %d %+v", code, got)
	}
	// A default credential deleted later does not block the next save.
	if _, err := f.store.PutCredential(ctx, snmp.Credential{Name: "gone-soon", Version: snmp.V1, Community: "x"}); err != nil {
		t.Fatal(err)
	}
	f.api(admin, http.MethodPut, "/api/v1/settings", map[string]any{"default_credentials": []string{"campus", "gone-soon"}}, nil)
	if err := f.store.DeleteCredential(ctx, "gone-soon"); err != nil {
		t.Fatal(err)
	}
	if code := f.api(admin, http.MethodPut, "/api/v1/settings", map[string]any{"default_method": "icmp"}, &got); code != http.StatusOK ||
		!reflect.DeepEqual(got.Settings.DefaultCredentials, []string{"campus"}) {
		t.Errorf("save after a default credential was deleted: %d %+v", code, got.Settings)
	}
	for _, bad := range []map[string]any{{"default_method": "pigeon"}, {"default_gone_after": 0}, {"default_credentials": []string{"nope"}},
		{"default_schedule": map[string]any{"every": "often"}}, {"token_expiry": "soon"}, {"unknown": 1}} {
		if code := f.api(admin, http.MethodPut, "/api/v1/settings", bad, nil); code != http.StatusBadRequest {
			t.Errorf("PUT %v: %d, want 400", bad, code)
		}
	}
	var sn subnetJSON
	var full struct {
		GoneAfter int `json:"gone_after"`
	}
	f.api(admin, http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.2.0.0/24"}, &sn)
	f.api(admin, http.MethodGet, fmt.Sprintf("/api/v1/subnets/%d", sn.ID), nil, &full)
	if sn.Method != "icmp" || sn.Schedule.Every != "6h0m0s" || !reflect.DeepEqual(sn.Credentials, []string{"campus"}) || full.GoneAfter != 5 {
		t.Errorf("subnet from defaults: %+v gone_after %d", sn, full.GoneAfter)
	}
	sn, full = subnetJSON{}, struct {
		GoneAfter int `json:"gone_after"`
	}{}
	f.api(admin, http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.3.0.0/24", "method": "tcp", "credentials": []string{},
		"schedule": map[string]any{"every": ""}, "gone_after": 2}, &sn)
	f.api(admin, http.MethodGet, fmt.Sprintf("/api/v1/subnets/%d", sn.ID), nil, &full)
	if sn.Method != "tcp" || sn.Schedule.Every != "" || len(sn.Credentials) != 0 || full.GoneAfter != 2 {
		t.Errorf("subnet overriding defaults: %+v gone_after %d", sn, full.GoneAfter)
	}

	// The page shows the defaults and the server's facts; the subnets
	// form starts from the defaults.
	f.user("root", inventory.RoleAdmin)
	c, resp := f.login("root", testPassword)
	readBody(t, resp)
	resp, _ = c.Get(f.ts.URL + "/admin/settings")
	body := readBody(t, resp)
	for _, want := range []string{"v9.9-test", "SHA256:abc", `value="icmp" selected`, `value="campus" checked`, "listen"} {
		if !strings.Contains(body, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	resp, _ = c.Get(f.ts.URL + "/subnets")
	body = readBody(t, resp)
	if !strings.Contains(body, `value="icmp" selected`) || !strings.Contains(body, `name="credentials" value="campus" checked`) {
		t.Errorf("subnets form does not start from the defaults")
	}
	resp = f.postForm(c, "/subnets", url.Values{"cidr": {"10.4.0.0/24"}, "method": {"arp"}, "credentials": {"campus"}}, "same-origin")
	readBody(t, resp)
	subnets, _ := f.store.Subnets(ctx)
	last := subnets[len(subnets)-1]
	if last.CIDR != "10.4.0.0/24" || last.Method != "arp" || last.GoneAfter != 5 || last.Schedule.Every != 6*time.Hour || len(last.Credentials) != 1 {
		t.Errorf("subnet from the form: %+v", last)
	}
	// Saved from the page.
	resp = f.postForm(c, "/admin/settings", url.Values{"default_method": {"snmp"}, "default_gone_after": {"7"}, "schedule_kind": {"at"},
		"schedule_at": {"02:30"}, "schedule_every": {"6h"}, "token_expiry": {"never"}}, "same-origin")
	readBody(t, resp)
	st, _ := f.store.Settings(ctx)
	if resp.StatusCode != http.StatusSeeOther || st.DefaultMethod != "snmp" || st.DefaultGoneAfter != 7 || st.DefaultSchedule.At != "02:30" ||
		st.DefaultSchedule.Every != 0 || len(st.DefaultCredentials) != 0 || st.TokenExpiry != 0 || st.UpdatedBy != "root" {
		t.Errorf("settings form: %d %+v", resp.StatusCode, st)
	}
}

// TestDeviceTypes tries a draft on a stored device, saves it, and
// re-classifies; the device's category follows.
func TestDeviceTypes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	seedProbe(t, f)
	id := probeID(t, f)
	admin := f.tokens[inventory.RoleAdmin]
	draft := "name: Cold room probe\ncategory: environment\nreason: our cold-room probes\nwhen:\n  - sysdescr: '(?i)cold-room'\n  - sysobjectid: [1.3.6.1.4.1.8072]\n"
	var res struct {
		Fired   bool                     `json:"fired"`
		Result  typing.Result            `json:"result"`
		Current inventory.Classification `json:"current"`
	}
	if code := f.api(admin, http.MethodPost, "/api/v1/types/test", map[string]any{"source": draft, "device_id": id}, &res); code != http.StatusOK ||
		!res.Fired || res.Result.Category != typing.Environment || res.Result.Type != "Cold room probe" || res.Current.Category == typing.Environment ||
		!strings.Contains(strings.Join(res.Result.Reasons, " "), "our cold-room probes") {
		t.Fatalf("test: %d %+v", code, res)
	}
	miss := strings.Replace(draft, "(?i)cold-room", "(?i)hot-room", 1)
	if f.api(admin, http.MethodPost, "/api/v1/types/test", map[string]any{"source": miss, "device_id": id}, &res); res.Fired || res.Result.Category == typing.Environment {
		t.Errorf("a draft that does not match fired: %+v", res)
	}
	var other inventory.Device
	page, _ := f.store.Devices(ctx, inventory.DeviceQuery{Search: "10.9.0.6"})
	other = page.Devices[0]
	var apiErr struct{ Error string }
	if code := f.api(admin, http.MethodPost, "/api/v1/types/test", map[string]any{"source": draft, "device_id": other.ID}, &apiErr); code != http.StatusBadRequest ||
		!strings.Contains(apiErr.Error, "never answered SNMP") {
		t.Errorf("test on a device without evidence: %d %q", code, apiErr.Error)
	}
	if code := f.api(admin, http.MethodPost, "/api/v1/types/test", map[string]any{"source": "name: X\ncategory: toaster\nwhen: [{sysdescr: x}]", "device_id": id}, &apiErr); code != http.StatusBadRequest ||
		!strings.Contains(apiErr.Error, "toaster") {
		t.Errorf("test of an invalid draft: %d %q", code, apiErr.Error)
	}

	// Saved, it changes nothing stored until a scan or a re-classify.
	var saved inventory.TypeRule
	if code := f.api(admin, http.MethodPost, "/api/v1/types", map[string]any{"source": draft}, &saved); code != http.StatusCreated || !saved.Enabled || saved.Name != "Cold room probe" {
		t.Fatalf("save: %d %+v", code, saved)
	}
	var st inventory.ReclassifyStats
	if code := f.api(admin, http.MethodPost, "/api/v1/types/reclassify", nil, &st); code != http.StatusOK || st.Checked != 1 || st.CategoryChanged != 1 {
		t.Errorf("reclassify: %d %+v", code, st)
	}
	det, _ := f.store.Device(ctx, id)
	if det.Category != typing.Environment {
		t.Errorf("after reclassify: %+v", det.Device)
	}
	// Disabled, re-classify takes it back.
	if code := f.api(admin, http.MethodPut, fmt.Sprintf("/api/v1/types/%d", saved.ID), map[string]any{"enabled": false}, &saved); code != http.StatusOK || saved.Enabled || saved.Source != draft {
		t.Errorf("disable: %d %+v", code, saved)
	}
	f.api(admin, http.MethodPost, "/api/v1/types/reclassify", nil, &st)
	if det, _ := f.store.Device(ctx, id); det.Category == typing.Environment {
		t.Errorf("disabled rule still applies: %+v", det.Device)
	}
	// Testing a disabled rule's draft in its place still tries it.
	if f.api(admin, http.MethodPost, "/api/v1/types/test", map[string]any{"source": draft, "device_id": id, "rule_id": saved.ID}, &res); !res.Fired {
		t.Errorf("draft of a disabled rule not tried: %+v", res)
	}

	// The pages: editor, test by address, save, list.
	f.user("root", inventory.RoleAdmin)
	c, resp := f.login("root", testPassword)
	readBody(t, resp)
	resp = f.postForm(c, fmt.Sprintf("/admin/types/%d", saved.ID), url.Values{"source": {draft}, "device": {"10.9.0.5"}, "action": {"test"}}, "same-origin")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "This rule matches") || !strings.Contains(body, "our cold-room probes") {
		t.Errorf("test on the page: %d", resp.StatusCode)
	}
	resp = f.postForm(c, "/admin/types/new", url.Values{"source": {"name: Broken\ncategory: power\nwhen:\n  - sysdescr: '(x'\n"}, "action": {"save"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "line 4") {
		t.Errorf("invalid rule on the page: %d", resp.StatusCode)
	}
	resp = f.postForm(c, fmt.Sprintf("/admin/types/%d", saved.ID), url.Values{"source": {draft}, "enabled": {"on"}, "action": {"save"}}, "same-origin")
	readBody(t, resp)
	if r, _ := f.store.TypeRule(ctx, saved.ID); resp.StatusCode != http.StatusSeeOther || !r.Enabled {
		t.Errorf("save on the page: %d %+v", resp.StatusCode, r)
	}
	resp = f.postForm(c, "/admin/types/reclassify", nil, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "1 a new category") {
		t.Errorf("reclassify on the page: %d", resp.StatusCode)
	}
	resp, _ = c.Get(fmt.Sprintf("%s/admin/types/new?device=%d", f.ts.URL, id))
	body = readBody(t, resp)
	if !strings.Contains(body, "1.3.6.1.4.1.8072.3.2.10") {
		t.Errorf("new type from a device does not propose its sysObjectID")
	}
	// The device field suggests the device that answered SNMP, not the other.
	if !strings.Contains(body, `<option value="10.9.0.5">`) || strings.Contains(body, `<option value="10.9.0.6">`) {
		t.Errorf("device suggestions: want 10.9.0.5 only")
	}
	resp = f.postForm(c, fmt.Sprintf("/admin/types/%d/delete", saved.ID), nil, "same-origin")
	readBody(t, resp)
	if _, err := f.store.TypeRule(ctx, saved.ID); resp.StatusCode != http.StatusSeeOther || err == nil {
		t.Errorf("delete on the page: %d %v", resp.StatusCode, err)
	}
}

// TestAdminPages renders every admin page for an admin, refuses them to an
// operator, and shows the Admin link to admins only.
func TestAdminPages(t *testing.T) {
	f := newFixture(t, func(_ *inventory.Options, w *web.Options) {
		w.Admin.FileRules = []typing.Rule{{Name: "From file", Category: typing.Printer}}
	})
	seedProbe(t, f)
	f.user("root", inventory.RoleAdmin)
	f.user("op", inventory.RoleOperator)
	admin := f.loginAlone("root")
	op := f.loginAlone("op")
	pages := map[string]string{
		"/admin": "Recent actions", "/admin/credentials": "Add or replace a credential", "/admin/users": "Add a user",
		"/admin/tokens": "Create a token", "/admin/audit": "entr", "/admin/settings": "Defaults for new subnets",
		"/admin/types": "From file", "/admin/types/new": "Test on device",
	}
	for p, want := range pages {
		resp, err := admin.Get(f.ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) || !strings.Contains(body, `href="/admin" aria-current="page"`) {
			t.Errorf("admin GET %s: %d, want 200 with %q and the Admin tab current", p, resp.StatusCode, want)
		}
		resp, err = op.Get(f.ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
			t.Errorf("operator GET %s: %d, want 403", p, resp.StatusCode)
		}
	}
	resp, _ := op.Get(f.ts.URL + "/")
	if body := readBody(t, resp); strings.Contains(body, `href="/admin"`) {
		t.Error("an operator's nav shows Admin")
	}
	// Forms refuse operators too, before anything changes.
	for _, p := range []string{"/admin/credentials", "/admin/users", "/admin/tokens", "/admin/settings", "/admin/types/new", "/admin/types/reclassify"} {
		resp := f.postForm(op, p, url.Values{"name": {"x"}}, "same-origin")
		if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
			t.Errorf("operator POST %s: %d, want 403", p, resp.StatusCode)
		}
	}
	resp, _ = admin.Get(f.ts.URL + "/admin/types/999")
	if readBody(t, resp); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown type: %d", resp.StatusCode)
	}
}

// loginAlone logs in with a client of its own: fixture.login shares the
// test server's client, so two logins in one test would share one jar.
func (f *fixture) loginAlone(name string) *http.Client {
	f.t.Helper()
	c, resp := f.login(name, testPassword)
	readBody(f.t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("login %s: %d", name, resp.StatusCode)
	}
	own := *c
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(resp.Request.URL, c.Jar.Cookies(resp.Request.URL))
	own.Jar = jar
	return &own
}
