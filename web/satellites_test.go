package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lanscout/lanscout/internal/sshtest"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
	"github.com/lanscout/lanscout/wol"
)

// loopbackSSHD starts a real sshd on a free loopback port.
func loopbackSSHD(t *testing.T) *sshtest.Server {
	t.Helper()
	sshtest.Skip(t)
	return sshtest.Start(t, sshtest.Options{HostKeyTypes: []string{"ed25519"}})
}

// udpSink listens on a free UDP port on every address (loopback's
// broadcast arrives there) and returns the port and the packets' MACs.
func udpSink(t *testing.T) (int, func(n int) []string) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.LocalAddr().(*net.UDPAddr).Port, func(n int) []string {
		var got []string
		buf := make([]byte, 256)
		for range n {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			k, _, err := c.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("after %v: %v", got, err)
			}
			mac, _, err := wol.ParseMagicPacket(buf[:k])
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, mac.String())
		}
		return got
	}
}

func auditActions(t *testing.T, f *fixture, prefix string) []inventory.AuditEntry {
	t.Helper()
	es, _, err := f.store.AuditLog(context.Background(), inventory.AuditQuery{Action: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestSatellitesAPI(t *testing.T) {
	f := newFixture(t)
	sshd := loopbackSSHD(t)
	admin := f.tokens[inventory.RoleAdmin]
	port, received := udpSink(t)
	pem := string(sshd.ClientPEM)
	body := map[string]any{
		"name": "loop", "address": "127.0.0.1", "port": int(sshd.Addr.Port()), "user": "root", "private_key": pem,
		"subnets": []string{"127.0.0.0/8"},
		// Loopback's broadcast and a port of this test: nothing leaves the host.
		"wake_command": "wakeonlan -i {broadcast} -p " + strconv.Itoa(port) + " {macs}",
	}

	// Viewers and operators can do nothing here; nothing is stored or audited.
	for _, role := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator} {
		for _, w := range []struct{ method, path string }{
			{http.MethodGet, "/api/v1/satellites"}, {http.MethodPost, "/api/v1/satellites"},
			{http.MethodPost, "/api/v1/satellites/1/test"}, {http.MethodPost, "/api/v1/satellites/1/trust"},
			{http.MethodDelete, "/api/v1/satellites/1"},
		} {
			if code := f.api(f.tokens[role], w.method, w.path, body, nil); code != http.StatusForbidden {
				t.Errorf("%s %s %s: %d, want 403", role, w.method, w.path, code)
			}
		}
	}
	if sats, _ := f.store.Satellites(context.Background()); len(sats) != 0 {
		t.Fatalf("refused requests stored %v", sats)
	}

	// Bad input: clear 400s.
	for _, bad := range []map[string]any{
		{"name": "x", "address": "127.0.0.1", "user": "root"},                                                      // no key
		{"name": "x", "address": "127.0.0.1", "user": "root", "private_key": "not a key"},                          // bad key
		{"name": "x", "address": "127.0.0.1", "user": "root", "private_key": pem, "wake_command": "wol {macs};id"}, // shell
		{"name": "x", "address": "127.0.0.1", "user": "root", "private_key": pem, "subnets": []string{"nope"}},
		{"name": "x", "address": "127.0.0.1", "user": "root", "private_key": pem, "host_key": "ssh-rsa garbage"},
		{"name": "x y", "address": "127.0.0.1", "user": "root", "private_key": pem},
	} {
		if code := f.api(admin, http.MethodPost, "/api/v1/satellites", bad, nil); code != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", bad, code)
		}
	}

	var sat inventory.Satellite
	if code := f.api(admin, http.MethodPost, "/api/v1/satellites", body, &sat); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	if !sat.HasKey || sat.Trusted() || sat.Source != "api" {
		t.Errorf("created %+v", sat)
	}
	// The key is write-only: no answer carries it.
	for _, path := range []string{"/api/v1/satellites", fmt.Sprintf("/api/v1/satellites/%d", sat.ID)} {
		req, _ := http.NewRequest(http.MethodGet, f.ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := f.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := readBody(t, resp)
		if strings.Contains(b, "PRIVATE KEY") || strings.Contains(b, "private_key") {
			t.Errorf("GET %s shows the key: %s", path, b)
		}
	}
	if code := f.api(admin, http.MethodPost, "/api/v1/satellites", body, nil); code != http.StatusConflict {
		t.Errorf("duplicate name: %d, want 409", code)
	}

	// An untrusted satellite is never used.
	if _, ok, err := f.srv.SatelliteForTest(context.Background(), netip.MustParsePrefix("127.0.0.0/24")); ok || err != nil {
		t.Errorf("untrusted satellite chosen (%v)", err)
	}

	// Test: the key is shown, waits for confirmation; nothing logged in.
	var tv struct {
		Probe     satellite.ProbeResult
		Satellite inventory.Satellite
		Error     string
	}
	want := ssh.FingerprintSHA256(sshd.HostKeys["ed25519"])
	testPath := fmt.Sprintf("/api/v1/satellites/%d/test", sat.ID)
	if code := f.api(admin, http.MethodPost, testPath, nil, &tv); code != http.StatusOK || tv.Error != "" {
		t.Fatalf("test: %d %s", code, tv.Error)
	}
	if tv.Probe.Fingerprint != want || tv.Probe.Trusted || tv.Probe.LoggedIn || tv.Satellite.PendingFingerprint != want {
		t.Errorf("test of a new satellite: %+v", tv)
	}
	trustPath := fmt.Sprintf("/api/v1/satellites/%d/trust", sat.ID)
	if code := f.api(admin, http.MethodPost, trustPath, map[string]string{"fingerprint": "SHA256:somethingelse"}, nil); code != http.StatusConflict {
		t.Errorf("trust of another fingerprint: %d, want 409", code)
	}
	if code := f.api(admin, http.MethodPost, trustPath, map[string]string{"fingerprint": want}, &sat); code != http.StatusOK || !sat.Trusted() {
		t.Fatalf("trust: %d %+v", code, sat)
	}
	if code := f.api(admin, http.MethodPost, testPath, nil, &tv); code != http.StatusOK || !tv.Probe.Trusted || !tv.Probe.LoggedIn ||
		tv.Probe.WakeProgramPath != "/usr/bin/wakeonlan" {
		t.Fatalf("test of the trusted satellite: %d %+v", code, tv)
	}

	// The wake routes' functions: the satellite serving the subnet, and a
	// wake through it that really sends.
	chosen, ok, err := f.srv.SatelliteForTest(context.Background(), netip.MustParsePrefix("127.0.0.0/24"))
	if err != nil || !ok || chosen.ID != sat.ID {
		t.Fatalf("satelliteFor = %+v %v %v", chosen, ok, err)
	}
	macs, _ := wol.ParseMACs([]string{"02:00:5e:40:00:01", "02:00:5e:40:00:02"})
	res, err := f.srv.WakeViaSatelliteForTest(context.Background(), chosen, netip.MustParseAddr("127.255.255.255"), macs)
	if err != nil || len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("wake via satellite: %+v, %v\n%s", res, err, sshd.Log())
	}
	got := received(2)
	if !(got[0] == "02:00:5e:40:00:01" && got[1] == "02:00:5e:40:00:02") && !(got[1] == "02:00:5e:40:00:01" && got[0] == "02:00:5e:40:00:02") {
		t.Errorf("received %v", got)
	}

	// The host gets new keys: refused, loudly, and audited.
	sshd.Restart(t)
	_, err = f.srv.WakeViaSatelliteForTest(context.Background(), chosen, netip.MustParseAddr("127.255.255.255"), macs)
	var changed *satellite.HostKeyChangedError
	if !errors.As(err, &changed) || changed.Want != want {
		t.Fatalf("after the key changed: %v", err)
	}
	if es := auditActions(t, f, "satellite.host_key_changed"); len(es) != 1 || es[0].Actor != "system" || !strings.Contains(es[0].Details, want) {
		t.Errorf("audit of the changed key: %+v", es)
	}
	if code := f.api(admin, http.MethodPost, testPath, nil, &tv); code != http.StatusOK || !tv.Probe.Changed ||
		tv.Satellite.Fingerprint != want || tv.Satellite.PendingFingerprint != ssh.FingerprintSHA256(sshd.HostKeys["ed25519"]) {
		t.Errorf("test after the change: %d %+v", code, tv)
	}
	if es := auditActions(t, f, "satellite.host_key_changed"); len(es) != 2 {
		t.Errorf("the test's sighting of the changed key not audited: %d entries", len(es))
	}

	// Update keeps the key when none is given; delete.
	var upd inventory.Satellite
	if code := f.api(admin, http.MethodPut, fmt.Sprintf("/api/v1/satellites/%d", sat.ID), map[string]any{"subnets": []string{"127.0.0.0/16"}}, &upd); code != http.StatusOK ||
		!upd.HasKey || upd.Subnets[0] != "127.0.0.0/16" || upd.Fingerprint != want {
		t.Errorf("update: %d %+v", code, upd)
	}
	if code := f.api(admin, http.MethodDelete, fmt.Sprintf("/api/v1/satellites/%d", sat.ID), nil, nil); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	for _, a := range []string{"satellite.create", "satellite.test", "satellite.trust", "satellite.update", "satellite.delete"} {
		es := auditActions(t, f, a)
		if len(es) == 0 {
			t.Errorf("no %s in the audit log", a)
		}
		for _, e := range es {
			if strings.Contains(e.Details, "PRIVATE KEY") {
				t.Errorf("audit %s holds the key", a)
			}
		}
	}
}

// TestSatellitePages walks the pages as an admin: add, test (the
// fingerprint is shown), trust; a viewer is refused.
func TestSatellitePages(t *testing.T) {
	f := newFixture(t)
	sshd := loopbackSSHD(t)
	f.user("root-admin", inventory.RoleAdmin)
	f.user("vera", inventory.RoleViewer)
	c, _ := f.login("root-admin", testPassword)

	resp := f.postForm(c, "/admin/satellites", url.Values{"name": {"loop"}, "address": {"127.0.0.1"},
		"port": {strconv.Itoa(int(sshd.Addr.Port()))}, "user": {"root"}, "private_key": {string(sshd.ClientPEM)},
		"subnets": {"127.0.0.0/8"}, "wake_command": {"wakeonlan -i {broadcast} {macs}"}}, "same-origin")
	loc := resp.Header.Get("Location")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/satellites/") {
		t.Fatalf("add: %d %s", resp.StatusCode, loc)
	}
	page := strings.TrimSuffix(loc, "?done=created")
	resp = f.postForm(c, page+"/test", nil, "same-origin")
	b := unescape(readBody(t, resp))
	want := ssh.FingerprintSHA256(sshd.HostKeys["ed25519"])
	if resp.StatusCode != http.StatusOK || !strings.Contains(b, want) || !strings.Contains(b, "Trust this key") {
		t.Fatalf("test page: %d\n%s", resp.StatusCode, b)
	}
	if strings.Contains(b, "PRIVATE KEY-----\n") || bytes.Contains([]byte(b), sshd.ClientPEM[40:80]) {
		t.Error("the page shows the private key")
	}
	resp = f.postForm(c, page+"/trust", url.Values{"fingerprint": {want}}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("trust: %d", resp.StatusCode)
	}
	resp = f.postForm(c, page+"/test", nil, "same-origin")
	if b := readBody(t, resp); !strings.Contains(b, "/usr/bin/wakeonlan") || !strings.Contains(b, "is the trusted one") {
		t.Errorf("test after trust:\n%s", b)
	}
	req, _ := http.NewRequest(http.MethodGet, f.ts.URL+"/admin/satellites", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := unescape(readBody(t, resp)); resp.StatusCode != http.StatusOK || !strings.Contains(b, want) {
		t.Errorf("list: %d", resp.StatusCode)
	}

	v, _ := f.login("vera", testPassword)
	resp = f.postForm(v, page+"/trust", url.Values{"fingerprint": {want}}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer trust: %d, want 403", resp.StatusCode)
	}
}

// unescape undoes html/template's escaping of the + and = of base64
// fingerprints.
func unescape(s string) string { return html.UnescapeString(s) }
