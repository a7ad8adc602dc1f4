package web_test

// End to end with the real OCS Inventory agent: Debian's
// ocsinventory-agent 2.10.0 runs inside a lab namespace whose default
// route is on a lab subnet, and reports over HTTPS (trusting the test
// server's certificate with --ca) to a lanscout server listening inside
// that namespace. Nothing of the election is faked: the agent is elected
// by the real election once it has made enough contacts, and then sweeps
// the lab with its own ipdiscover binary.

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent/ocs"
	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/web"
)

// labHosts is how many hosts the agent's sweep should find.
const labHosts = 10

func TestOCSAgentLab(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the real OCS agent in -short mode")
	}
	agentBin, err := exec.LookPath("ocsinventory-agent")
	if err != nil {
		t.Skipf("skipping: Debian's ocsinventory-agent is not installed: %v", err)
	}
	if _, err := exec.LookPath("ipdiscover"); err != nil {
		t.Skipf("skipping: the agent's ipdiscover binary is not installed: %v", err)
	}
	l := labtest.New(t, lab.Config{Hosts: labHosts})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// The agent sits in the scanner namespace, moved onto the hosts' /24
	// with its default route there: its ipdiscover sweeps the network of
	// the default-route interface.
	hostNet := netip.PrefixFrom(l.Hosts[0].IP, 24).Masked()
	// The hosts are numbered from .1; .200 is free.
	b := hostNet.Addr().As4()
	agentAddr := netip.PrefixFrom(netip.AddrFrom4([4]byte{b[0], b[1], b[2], 200}), 24)
	ns, ifname := l.Scanner.Namespace, l.Scanner.Interface
	for _, argv := range [][]string{
		{"ip", "addr", "flush", "dev", ifname},
		{"ip", "addr", "add", agentAddr.String(), "dev", ifname},
		{"ip", "route", "add", "default", "via", l.Hosts[0].IP.String(), "dev", ifname},
	} {
		if out, err := l.Exec(ctx, ns, argv...); err != nil {
			t.Fatalf("%v: %v %s", argv, err, out)
		}
	}

	// Names for the lab hosts, and no unreachable DNS server: ipdiscover
	// resolves every address it finds, and the machine's resolver sits
	// outside the lab (each lookup would time out). `ip netns exec` mounts
	// /etc/netns/NS/* over /etc/* for the namespace's commands.
	etcDir := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(etcDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etcDir) })
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1 localhost\n")
	for i, h := range l.Hosts {
		fmt.Fprintf(&hosts, "%s labhost%02d\n", h.IP, i+1)
	}
	if err := os.WriteFile(filepath.Join(etcDir, "hosts"), []byte(hosts.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etcDir, "resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The server, with a real store and the real election, listening
	// inside the agent's namespace.
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: hostNet.String(), Name: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Options{
		Store:         store,
		Logger:        slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		ScheduleCheck: -1,
		// 10 ms between probes: the lab's /24 in seconds rather than the
		// half minute OCS's default 100 ms takes.
		OCS: web.OCSOptions{Enabled: true, IPDiscoverLatency: 10},
		// The test process's own networks are not the lab's; say so, as
		// the server's configuration would.
		// Every contact runs a round at once rather than within a second.
		Election: web.ElectionOptions{ServerNetworks: func() ([]netip.Prefix, error) { return nil, nil }, Coalesce: time.Nanosecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if err := l.Do(ns, func() error {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ts, caFile := serveOCSTLS(t, srv, ln)
	varDir := t.TempDir()
	url := ts.URL + "/ocsinventory"

	runAgent := func(run int) {
		t.Helper()
		start := time.Now()
		cmd := l.Command(ctx, ns, agentBin, "--nolocal", "--server", url, "--ca", caFile,
			"--basevardir", varDir, "--nosoftware", "--debug")
		cmd.Env = append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("agent run %d: %v\n%s", run, err, out)
		}
		t.Logf("agent run %d took %s", run, time.Since(start).Round(100*time.Millisecond))
		if strings.Contains(string(out), "Cannot establish communication") {
			t.Fatalf("agent run %d could not talk to the server:\n%s", run, out)
		}
	}

	// First run: the agent shows up as a machine with its NIC.
	runAgent(1)
	agents, err := store.Agents(ctx, inventory.AgentQuery{})
	if err != nil || len(agents) != 1 {
		t.Fatalf("agents after the first run: %+v %v", agents, err)
	}
	a := agents[0]
	if a.Kind != inventory.AgentOCS || a.Version != "2.10.0" {
		t.Errorf("agent %+v", a.AgentInventory)
	}
	if _, _, err := ocs.ParseDeviceID(a.UID); err != nil {
		t.Errorf("agent UID %q: %v", a.UID, err)
	}
	var nic *inventory.NIC
	for i := range a.NICs {
		if a.NICs[i].Name == ifname {
			nic = &a.NICs[i]
		}
	}
	if nic == nil || nic.MAC != l.Scanner.MAC.String() || !strings.Contains(strings.Join(nic.Addresses, " "), agentAddr.String()) {
		t.Fatalf("agent NICs %+v: want %s with %s and %s", a.NICs, ifname, l.Scanner.MAC, agentAddr)
	}

	// Then it keeps calling until the election seats it (OCS's rule: a
	// few contacts first); its next run sweeps the lab.
	asked := ""
	for run := 2; run <= 6 && asked == ""; run++ {
		runAgent(run)
		st, err := store.OCSAgent(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		asked = st.AskedCIDR
		if asked != "" {
			t.Logf("elected for %s at run %d (fidelity %d)", asked, run, run)
			if st.ScannedCIDR == "" {
				t.Fatalf("elected agent reported no discovery; note %q", st.Note)
			}
		}
	}
	if asked == "" {
		t.Fatal("the election never elected the OCS agent")
	}
	if asked != hostNet.String() {
		t.Errorf("elected for %s, want %s", asked, hostNet)
	}
	st, err := store.OCSAgent(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.ScannedCIDR != hostNet.String() || st.ScannedSubnetID != sn.ID || st.Note != "" {
		t.Errorf("OCS state %+v", st)
	}
	page, err := store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]inventory.Device{}
	for _, d := range page.Devices {
		found[d.IP] = d
	}
	for i, h := range l.Hosts {
		d, ok := found[h.IP.String()]
		if !ok {
			t.Errorf("lab host %s not discovered", h.IP)
			continue
		}
		if d.MAC != h.MAC.String() || d.Name != fmt.Sprintf("labhost%02d", i+1) || !strings.Contains(strings.Join(d.FoundBy, ","), "ocs-ipdiscover") {
			t.Errorf("lab host %s: %+v", h.IP, d)
		}
		detail, err := store.Device(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		by := false
		for _, s := range detail.Sightings {
			by = by || s.Scanner == (inventory.Scanner{Kind: inventory.ScannerAgent, ID: a.UID})
		}
		if !by {
			t.Errorf("lab host %s not sighted by the agent: %+v", h.IP, detail.Sightings)
		}
	}
	runs, err := store.ScanRuns(ctx, sn.ID, 5)
	if err != nil || len(runs) == 0 {
		t.Fatalf("scan runs %+v %v", runs, err)
	}
	if r := runs[0]; r.Scanner.ID != a.UID || r.Method != "ocs-ipdiscover" || r.Status != inventory.ScanDone {
		t.Errorf("scan run %+v", r)
	}
	t.Logf("the agent found %d devices in %s", page.Total, hostNet)

	// Now the agent also sits on a second subnet, and no agent may scan
	// its default-route one: the election seats it on the second, and it
	// sweeps the first all the same. lanscout records what it really
	// swept and says so.
	b[2]++
	otherNet := netip.PrefixFrom(netip.AddrFrom4([4]byte{b[0], b[1], b[2], 0}), 24)
	otherAddr := netip.PrefixFrom(netip.AddrFrom4([4]byte{b[0], b[1], b[2], 200}), 24)
	for _, argv := range [][]string{
		// A veth pair inside the namespace: this kernel has no dummy
		// interfaces, and the pair goes with the namespace.
		{"ip", "link", "add", "ocs1", "type", "veth", "peer", "name", "ocs1p"},
		{"ip", "addr", "add", otherAddr.String(), "dev", "ocs1"},
		{"ip", "link", "set", "ocs1p", "up"},
		{"ip", "link", "set", "ocs1", "up"},
	} {
		if out, err := l.Exec(ctx, ns, argv...); err != nil {
			t.Fatalf("%v: %v %s", argv, err, out)
		}
	}
	other, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: otherNet.String(), Name: "lab 2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetSubnetNever(ctx, sn.ID, true, "test"); err != nil {
		t.Fatal(err)
	}
	// One run for the election to learn its new interface, one to sweep.
	asked = ""
	for run := 7; run <= 9 && asked != otherNet.String(); run++ {
		runAgent(run)
		if st, err = store.OCSAgent(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		asked = st.AskedCIDR
	}
	if asked != otherNet.String() {
		t.Fatalf("asked to sweep %q, want %s; state %+v", asked, otherNet, st)
	}
	want := fmt.Sprintf("elected for %s but its IpDiscover results were for %s", otherNet, hostNet)
	if st.ScannedCIDR != hostNet.String() || st.ScannedSubnetID != sn.ID || !strings.Contains(st.Note, want) {
		t.Errorf("after the mismatched sweep: %+v, want the note %q", st, want)
	}
	if otherPage, err := store.Devices(ctx, inventory.DeviceQuery{SubnetID: other.ID}); err != nil || otherPage.Total != 0 {
		t.Errorf("devices in %s, which nobody swept: %d %v", otherNet, otherPage.Total, err)
	}
	in, err := store.ElectionInput(ctx)
	if err != nil {
		t.Fatal(err)
	}
	failed := false
	for _, s := range in.Standings {
		failed = failed || s.SubnetID == other.ID && s.AgentID == a.ID && s.Failures == 1 && strings.Contains(s.LastError, want)
	}
	if !failed {
		t.Errorf("the election did not hear of the failed sweep: %+v", in.Standings)
	}
	t.Logf("mismatch recorded: %s", st.Note)
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestOCSAgentBasicAuth: the real agent answers our basic-auth challenge
// when given the user, password and realm, and fails to report (exit 1,
// nothing stored) with a wrong password or another realm. It runs on
// loopback: no lab needed, the agent only inventories this machine.
func TestOCSAgentBasicAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the real OCS agent in -short mode")
	}
	agentBin, err := exec.LookPath("ocsinventory-agent")
	if err != nil {
		t.Skipf("skipping: Debian's ocsinventory-agent is not installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv, err := web.New(web.Options{
		Store:         store,
		Logger:        slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		ScheduleCheck: -1,
		OCS: web.OCSOptions{Enabled: true, Realm: "Lab agents",
			Users: []web.OCSUser{{Name: "agent", Password: "agent secret"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts, caFile := serveOCSTLS(t, srv, nil)
	varDir := t.TempDir()
	run := func(user, password, realm string) (string, error) {
		// Agent 2.10 base64-decodes --user and --password before use
		// (Ocsinventory::Agent::Encrypt::getClearText).
		b64 := base64.StdEncoding.EncodeToString
		cmd := exec.CommandContext(ctx, agentBin, "--nolocal", "--server", ts.URL+"/ocsinventory", "--ca", caFile,
			"--basevardir", varDir, "--nosoftware", "--user", b64([]byte(user)), "--password", b64([]byte(password)), "--realm", realm)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	fidelity := func() int {
		as, err := store.Agents(ctx, inventory.AgentQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(as) == 0 {
			return 0
		}
		return as[0].Fidelity
	}
	for _, c := range []struct{ name, user, password, realm string }{
		{"wrong password", "agent", "agent secre", "Lab agents"},
		{"wrong realm", "agent", "agent secret", "Restricted Area"},
	} {
		out, err := run(c.user, c.password, c.realm)
		if err == nil || !strings.Contains(out, "401") {
			t.Errorf("%s: the agent got through (%v):\n%s", c.name, err, out)
		}
		if f := fidelity(); f != 0 {
			t.Errorf("%s: an agent was stored (fidelity %d)", c.name, f)
		}
	}
	out, err := run("agent", "agent secret", "Lab agents")
	if err != nil {
		t.Fatalf("the agent with the right credentials failed: %v\n%s", err, out)
	}
	as, err := store.Agents(ctx, inventory.AgentQuery{})
	if err != nil || len(as) != 1 || as[0].Kind != inventory.AgentOCS || as[0].Fidelity != 1 || as[0].LastInventory.IsZero() || len(as[0].NICs) == 0 {
		t.Fatalf("agents after an authenticated run: %+v %v\n%s", as, err, out)
	}
}

// serveOCSTLS serves srv over TLS on ln (a loopback port when nil) until
// the test ends, and writes the server's certificate to a file for the
// agent's --ca.
func serveOCSTLS(t *testing.T, srv *web.Server, ln net.Listener) (*httptest.Server, string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(srv.Handler())
	if ln != nil {
		ts.Listener.Close()
		ts.Listener = ln
	}
	ts.StartTLS()
	t.Cleanup(func() {
		ts.Close()
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		srv.Close(cctx)
	})
	caFile := filepath.Join(t.TempDir(), "lanscout-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return ts, caFile
}
