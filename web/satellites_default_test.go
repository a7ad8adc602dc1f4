package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
	"github.com/lanscout/lanscout/web"
	"github.com/lanscout/lanscout/wol"
)

// TestSatelliteDefaultWakeCommand: a satellite given no wake command
// stores none and follows the current default when it wakes, so it
// carries the configured wake port (the old copied default, without
// {port}, sent to 9 whatever the port); its page says "default (…)".
func TestSatelliteDefaultWakeCommand(t *testing.T) {
	port, received := udpSink(t)
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) { o.Wake.Ports = []int{port} })
	sshd := loopbackSSHD(t)
	admin := f.tokens[inventory.RoleAdmin]
	body := map[string]any{
		"name": "loop", "address": "127.0.0.1", "port": int(sshd.Addr.Port()), "user": "root",
		"private_key": string(sshd.ClientPEM), "subnets": []string{"127.0.0.0/8"},
		"host_key": string(ssh.MarshalAuthorizedKey(sshd.HostKeys["ed25519"])),
	}
	var sat inventory.Satellite
	if code := f.api(admin, http.MethodPost, "/api/v1/satellites", body, &sat); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	if sat.WakeCommand != "" || !sat.Trusted() {
		t.Fatalf("created %+v: want no wake command of its own, trusted", sat)
	}

	f.user("root-admin", inventory.RoleAdmin)
	c, _ := f.login("root-admin", testPassword)
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/admin/satellites/%d", f.ts.URL, sat.ID), nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := unescape(readBody(t, resp))
	if resp.StatusCode != http.StatusOK || !strings.Contains(b, "default (<span class=\"mono\">"+satellite.DefaultWakeCommand+"</span>)") ||
		!strings.Contains(b, `name="wake_command" value=""`) {
		t.Errorf("satellite page: %d\n%s", resp.StatusCode, b)
	}
	// The form for a new satellite leaves the command empty (the default)
	// rather than writing today's default into the new row.
	req, _ = http.NewRequest(http.MethodGet, f.ts.URL+"/admin/satellites", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := unescape(readBody(t, resp)); !strings.Contains(b, `name="wake_command" value=""`) ||
		!strings.Contains(b, "placeholder=\"default: "+satellite.DefaultWakeCommand+"\"") {
		t.Errorf("new satellite form:\n%s", b)
	}

	macs, _ := wol.ParseMACs([]string{"02:00:5e:40:00:07"})
	res, err := f.srv.WakeViaSatelliteForTest(context.Background(), sat, netip.MustParseAddr("127.255.255.255"), macs)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("wake via satellite: %+v, %v\n%s", res, err, sshd.Log())
	}
	if got := received(1); got[0] != "02:00:5e:40:00:07" {
		t.Errorf("received %v on port %d", got, port)
	}
}
