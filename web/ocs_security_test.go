package web_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/web"
)

// TestOCSScopeAndRevocation: an OCS agent's IpDiscover results count as a
// full sweep only for the subnet it was asked for; a subnet it holds a
// seat for but was not asked this run is recorded without misses; a
// revoked agent is told to stop and its uploads change nothing.
func TestOCSScopeAndRevocation(t *testing.T) {
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) {
		o.OCS = web.OCSOptions{Enabled: true}
		o.Election.ServerNetworks = func() ([]netip.Prefix, error) { return nil, nil }
	})
	ctx := context.Background()
	admin := f.tokens[inventory.RoleAdmin]
	swept, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: ocsTestSubnet})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.77.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	full := ocsSample(t, "inventory-request.zlib")
	post := f.ocsOK
	post(ocsSample(t, "prolog-request.zlib"))
	post(full) // its machine and NICs; its results are ignored (not asked)
	a, err := f.store.AgentByUID(ctx, sampleDevice)
	if err != nil {
		t.Fatal(err)
	}
	// An admin seats it on the subnet it sweeps; this run it was asked for
	// the other one.
	if code := f.api(admin, http.MethodPut, fmt.Sprintf("/api/v1/subnets/%d/election/pins/%d", swept.ID, a.ID), nil, nil); code != http.StatusOK {
		t.Fatalf("pin: %d", code)
	}
	f.askOCS(sampleDevice, other)
	post(full)
	runs, err := f.store.ScanRuns(ctx, swept.ID, 5)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs of the subnet it holds a seat for: %+v %v", runs, err)
	}
	if r := runs[0]; r.Status != inventory.ScanIncomplete || r.Stats.Recorded != 11 ||
		!strings.Contains(strings.Join(r.Warnings, " "), "not asked to sweep "+ocsTestSubnet) {
		t.Errorf("a sweep it was not asked for: %+v; want incomplete (no misses), 11 recorded, saying why", r)
	}

	// Revoked: PROLOG says STOP, an inventory changes neither the machine
	// nor any subnet.
	if code := f.api(admin, http.MethodPost, fmt.Sprintf("/api/v1/agents/%d/revoke", a.ID), nil, nil); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	if reply := post(ocsSample(t, "prolog-request.zlib")); !strings.Contains(reply, "<RESPONSE>STOP</RESPONSE>") {
		t.Errorf("prolog of a revoked agent: %s; want STOP", reply)
	}
	f.askOCS(sampleDevice, swept)
	before, _ := f.store.Agent(ctx, a.ID)
	post(full)
	if runs, err := f.store.ScanRuns(ctx, swept.ID, 5); err != nil || len(runs) != 1 {
		t.Errorf("a revoked agent's results were recorded: %d runs %v", len(runs), err)
	}
	after, _ := f.store.Agent(ctx, a.ID)
	if !after.LastInventory.Equal(before.LastInventory) {
		t.Errorf("a revoked agent's inventory was stored: last inventory %v, was %v", after.LastInventory, before.LastInventory)
	}
	if st, err := f.store.OCSAgent(ctx, a.ID); err != nil || !strings.Contains(st.Note, "revoked") {
		t.Errorf("OCS state of a revoked agent %+v %v; want a note saying revoked", st, err)
	}
}

// TestOCSConcurrencyLimit: with four requests being read, a fifth is
// refused 503 with Retry-After; once they end, requests are served again.
func TestOCSConcurrencyLimit(t *testing.T) {
	f := newFixture(t, ocsEnabled)
	// Four requests that send their headers and part of their body, then
	// hold: the server is reading them.
	cfg := f.ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	var conns []*tls.Conn
	release := func() {
		for _, c := range conns {
			c.Close()
		}
		conns = nil
	}
	t.Cleanup(release)
	for range 4 {
		c, err := tls.Dial("tcp", f.ts.Listener.Addr().String(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "POST /ocsinventory HTTP/1.1\r\nHost: lanscout\r\nContent-Type: application/x-compress\r\n"+
			"Content-Length: 100000\r\n\r\nx"); err != nil {
			t.Fatal(err)
		}
	}
	prolog := ocsSample(t, "prolog-request.zlib")
	var status int
	var hdr http.Header
	for deadline := time.Now().Add(30 * time.Second); status != http.StatusServiceUnavailable; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("with four requests held open, a fifth got %d, want 503", status)
		}
		status, hdr, _ = f.ocs(ocsCall{body: prolog})
	}
	if hdr.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	release()
	for deadline := time.Now().Add(30 * time.Second); status != http.StatusOK; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after the held requests ended: %d, want 200", status)
		}
		status, _, _ = f.ocs(ocsCall{body: prolog})
	}
}

// TestOCSCannotImpersonateOurAgent: a DEVICEID naming one of our own
// agents is told STOP at PROLOG and its inventory is refused: it would
// rewrite that agent's NICs, and so where it is elected.
func TestOCSCannotImpersonateOurAgent(t *testing.T) {
	f := newFixture(t, ocsEnabled)
	ctx := context.Background()
	key := f.enrollmentKey(map[string]any{"name": "k"})
	f.enroll(key.Key, sampleDevice, "10.1.1.1/24")
	if status, _, reply := f.ocs(ocsCall{body: ocsSample(t, "prolog-request.zlib")}); status != http.StatusOK ||
		!strings.Contains(string(reply), "<RESPONSE>STOP</RESPONSE>") {
		t.Errorf("prolog as our agent: %d %s; want STOP", status, reply)
	}
	if status, _, reply := f.ocs(ocsCall{body: ocsSample(t, "inventory-request.zlib")}); status != http.StatusBadRequest {
		t.Errorf("inventory as our agent: %d %s; want 400", status, reply)
	}
	a, err := f.store.AgentByUID(ctx, sampleDevice)
	if err != nil || a.Kind != inventory.AgentLanscout || a.Hostname == "ocsp-agent" || a.Fidelity != 0 {
		t.Errorf("our agent after OCS calls in its name: %+v %v", a, err)
	}
}
