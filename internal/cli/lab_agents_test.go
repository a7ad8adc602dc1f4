package cli

// Agents end to end in the network lab: a server with a real store and
// the real election listens on the lab LAN; three `lanscout agent`
// processes (this binary, re-executed) run in namespaces of their own, two
// on the hosts' /24 and one on a second /24, and speak to it over real TLS
// with a pinned fingerprint. Each subnet gets one scanner, or two when an
// admin sets subnet A to two; the elected agent's ARP sweep finds the lab
// hosts, recorded as found by that agent; when it stops, the other agent
// of its subnet takes over within max-alive; an agent with a revoked key
// is refused.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/election"
	"github.com/lanscout/lanscout/web"
)

const labAgentHosts = 12

// labAgent is one agent namespace.
type labAgent struct {
	name, ns, ifname string
	addr             netip.Prefix
	root, state      string
	proc             *lab.Process
	out              *syncBuffer
}

func TestLabAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the agents lab in -short mode")
	}
	l := labtest.New(t, lab.Config{Hosts: labAgentHosts, GratuitousOnly: true})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	lanA := netip.PrefixFrom(l.Hosts[0].IP, 24).Masked()
	a4 := lanA.Addr().As4()
	// Subnet B is the LAN's first /24: the server's own address and the
	// quiet host, which only ever announces itself, are there.
	lanB := netip.PrefixFrom(netip.AddrFrom4([4]byte{a4[0], a4[1], 0, 0}), 24)
	at := func(p netip.Prefix, n byte) netip.Prefix {
		b := p.Addr().As4()
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{b[0], b[1], b[2], n}), 24)
	}

	// Three namespaces plugged into the lab's switch. Their addresses are
	// /24s (what the election sees), with a route to the whole LAN, where
	// the server is.
	agents := []*labAgent{
		{name: "a1", addr: at(lanA, 201)},
		{name: "a2", addr: at(lanA, 202)},
		{name: "b1", addr: at(lanB, 201)},
	}
	bridge := "lsl" + l.ID + "-br"
	for _, a := range agents {
		a.ns = "lsl" + l.ID + "-ag" + a.name
		a.ifname = "lsl" + l.ID + a.name
		port := "lsl" + l.ID + "q" + a.name
		if out, err := sh(ctx, "ip", "netns", "add", a.ns); err != nil {
			t.Fatalf("add namespace: %v %s", err, out)
		}
		t.Cleanup(func() { sh(context.Background(), "ip", "netns", "del", a.ns) })
		for _, argv := range [][]string{
			{"ip", "-n", l.Switch, "link", "add", port, "type", "veth", "peer", "name", a.ifname, "netns", a.ns},
			{"ip", "-n", l.Switch, "link", "set", port, "master", bridge, "up"},
			{"ip", "-n", a.ns, "link", "set", "lo", "up"},
			{"ip", "-n", a.ns, "addr", "add", a.addr.String(), "dev", a.ifname},
			{"ip", "-n", a.ns, "link", "set", a.ifname, "up"},
			{"ip", "-n", a.ns, "route", "add", l.Prefix.String(), "dev", a.ifname},
		} {
			if out, err := sh(ctx, argv...); err != nil {
				t.Fatalf("%v: %v %s", argv, err, out)
			}
		}
		// Inside a namespace every NIC is a veth, which the election
		// rightly never seats; the agent reads its NIC kinds from a root
		// that shows this one as a wired NIC, as --root is meant for
		// agents in containers.
		a.root = t.TempDir()
		nic := filepath.Join(a.root, "sys", "class", "net", a.ifname)
		for _, d := range []string{filepath.Join(nic, "device"), filepath.Join(a.root, "proc", "sys", "kernel")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		os.WriteFile(filepath.Join(nic, "operstate"), []byte("up\n"), 0o644)
		os.WriteFile(filepath.Join(nic, "type"), []byte("1\n"), 0o644)
		os.WriteFile(filepath.Join(a.root, "proc", "sys", "kernel", "hostname"), []byte("agent-"+a.name+"\n"), 0o644)
		a.state = t.TempDir()
	}

	// The server, with a real store and the real election, listening on
	// the scanner's LAN address.
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	snA, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: lanA.String(), Name: "lab A", Method: "arp"})
	if err != nil {
		t.Fatal(err)
	}
	snB, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: lanB.String(), Name: "lab B", Method: "arp"})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	srv, err := web.New(web.Options{
		Store:         store,
		Logger:        slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		ScheduleCheck: -1,
		Agents: web.AgentOptions{PollInterval: time.Second, SNMPTimeout: 100 * time.Millisecond, SNMPRetries: 0,
			MaxWait: 5 * time.Second, ListenBetweenSweeps: 20 * time.Second},
		Election: web.ElectionOptions{Config: election.Config{MinContacts: 2}, Interval: 250 * time.Millisecond,
			Coalesce: 10 * time.Millisecond, ServerNetworks: func() ([]netip.Prefix, error) { return nil, nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if err := l.Do(l.Scanner.Namespace, func() error {
		var err error
		ln, err = net.Listen("tcp", netip.AddrPortFrom(l.Scanner.Addr.Addr(), 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Listener.Close()
	ts.Listener = ln
	ts.StartTLS()
	t.Cleanup(func() {
		ts.Close()
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		srv.Close(cctx)
	})
	sum := sha256.Sum256(ts.Certificate().Raw)
	pin := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
	key, _, err := store.CreateEnrollmentKey(ctx, inventory.EnrollmentKey{Name: "lab", Subnets: []string{l.Prefix.String()}})
	if err != nil {
		t.Fatal(err)
	}

	start := func(a *labAgent, key string) {
		t.Helper()
		args, _ := json.Marshal([]string{"agent", "--server", ts.URL, "--enroll-key", key, "--server-fingerprint", pin,
			"--state", a.state, "--root", a.root, "--log-level", "info"})
		cmd := l.Command(ctx, a.ns, os.Args[0], "-test.run=^TestCLIHelperProcess$")
		cmd.Env = append(os.Environ(), cliArgsEnv+"="+string(args))
		a.out = &syncBuffer{}
		cmd.Stdout, cmd.Stderr = a.out, a.out
		p, err := l.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		a.proc = p
	}
	for _, a := range agents {
		start(a, key)
	}
	dump := func() {
		for _, a := range agents {
			t.Logf("agent %s output:\n%s", a.name, a.out.String())
		}
		t.Logf("server log:\n%s", logs.String())
	}

	uidOf := map[string]string{} // agent name → uid, from the state file
	agentIDs := map[int64]string{}
	apiTok, _, err := store.CreateAPIToken(ctx, "lab", inventory.RoleOperator, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// The test process is not in the lab; its API calls dial from the
	// server's namespace.
	client := ts.Client()
	tr := client.Transport.(*http.Transport).Clone()
	tr.DialContext = l.DialFrom(l.Scanner.Namespace)
	// httptest's certificate is for 127.0.0.1; the agents pin it instead.
	tr.TLSClientConfig.ServerName = "127.0.0.1"
	client.Transport = tr
	api := func(method, path string, out any) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+apiTok)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	// elected names the agents the API says scan sn.
	elected := func(sn inventory.Subnet) []string {
		var v struct {
			Scanners []struct{ Kind, ID string } `json:"scanners"`
		}
		if code := api(http.MethodGet, fmt.Sprintf("/api/v1/subnets/%d", sn.ID), &v); code != http.StatusOK {
			t.Fatalf("GET subnet: %d", code)
		}
		var names []string
		for _, sc := range v.Scanners {
			if sc.Kind != "agent" {
				continue
			}
			var id int64
			fmt.Sscan(sc.ID, &id)
			names = append(names, agentIDs[id])
		}
		return names
	}
	waitUntil := func(what string, limit time.Duration, cond func() bool) time.Duration {
		t.Helper()
		begin := time.Now()
		for !cond() {
			if time.Since(begin) > limit {
				dump()
				t.Fatalf("%s: not within %v", what, limit)
			}
			time.Sleep(100 * time.Millisecond)
		}
		return time.Since(begin)
	}
	waitUntil("three agents enrolled and reporting", 60*time.Second, func() bool {
		as, _ := store.Agents(ctx, inventory.AgentQuery{})
		n := 0
		for _, a := range as {
			if len(a.NICs) > 0 {
				n++
			}
		}
		return n == 3
	})
	as, _ := store.Agents(ctx, inventory.AgentQuery{})
	for _, a := range as {
		name := strings.TrimPrefix(a.Hostname, "agent-")
		uidOf[name], agentIDs[a.ID] = a.UID, name
		if !slices.Contains(a.Capabilities, "raw_sockets") {
			t.Errorf("agent %s capabilities %v: it runs as root, it may open raw sockets", name, a.Capabilities)
		}
	}
	// Exactly one scanner per subnet (the default cap), the right ones.
	waitUntil("one scanner per subnet", 60*time.Second, func() bool {
		return len(elected(snA)) == 1 && len(elected(snB)) == 1
	})
	if got := elected(snB); got[0] != "b1" {
		t.Errorf("subnet B scanner %v, want b1 (the only agent there)", got)
	}
	// Each subnet gets exactly its configured number: subnet A set to
	// two scanners seats both its agents, B keeps its one.
	adminTok, _, err := store.CreateAPIToken(ctx, "lab-admin", inventory.RoleAdmin, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	setMax := func(sn inventory.Subnet, n int) {
		t.Helper()
		body, _ := json.Marshal(map[string]int{"max_scanners": n})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, fmt.Sprintf("%s/api/v1/subnets/%d/election", ts.URL, sn.ID),
			strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+adminTok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("set subnet %s to %d scanners: %d", sn.CIDR, n, resp.StatusCode)
		}
	}
	setMax(snA, 2)
	waitUntil("two scanners in subnet A", 30*time.Second, func() bool { return len(elected(snA)) == 2 })
	if got, gotB := elected(snA), elected(snB); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"a1", "a2"}) ||
		!slices.Equal(gotB, []string{"b1"}) {
		t.Errorf("with A set to 2 scanners: A %v, B %v; want [a1 a2] and [b1]", got, gotB)
	}
	setMax(snA, 1)
	waitUntil("one scanner in subnet A again", 30*time.Second, func() bool { return len(elected(snA)) == 1 })
	if got := elected(snB); !slices.Equal(got, []string{"b1"}) {
		t.Errorf("subnet B scanners %v, want [b1]", got)
	}

	scannerA := elected(snA)[0]
	if scannerA != "a1" && scannerA != "a2" {
		t.Fatalf("subnet A scanner %q", scannerA)
	}

	// "Scan now" goes to the elected agent; its ARP sweep finds the hosts.
	var d inventory.ScanRun
	if code := api(http.MethodPost, fmt.Sprintf("/api/v1/subnets/%d/scan", snA.ID), &d); code != http.StatusAccepted {
		dump()
		t.Fatalf("scan now: %d", code)
	}
	if d.Scanner.Kind != inventory.ScannerAgent || d.Scanner.ID != uidOf[scannerA] {
		t.Errorf("scan dispatched to %+v, want agent %s (%s)", d.Scanner, scannerA, uidOf[scannerA])
	}
	waitUntil("the agent's scan ends", 90*time.Second, func() bool {
		r, _ := store.ScanRun(ctx, d.ID)
		return r.Status != inventory.ScanRunning
	})
	run, _ := store.ScanRun(ctx, d.ID)
	if run.Status != inventory.ScanDone {
		dump()
		t.Fatalf("agent scan run: %+v", run)
	}
	page, err := store.Devices(ctx, inventory.DeviceQuery{SubnetID: snA.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byIP := map[string]inventory.Device{}
	for _, dv := range page.Devices {
		byIP[dv.IP] = dv
	}
	for _, h := range l.Hosts {
		dv, ok := byIP[h.IP.String()]
		if !ok || dv.MAC != h.MAC.String() {
			t.Errorf("lab host %s (%s): %+v, want it in the inventory with its MAC", h.IP, h.MAC, dv)
			continue
		}
		det, _ := store.Device(ctx, dv.ID)
		seen := false
		for _, s := range det.Sightings {
			seen = seen || (s.Scanner.Kind == inventory.ScannerAgent && s.Scanner.ID == uidOf[scannerA])
		}
		if !seen {
			t.Errorf("lab host %s sightings %+v, want seen by agent %s", h.IP, det.Sightings, scannerA)
		}
	}
	t.Logf("agent %s swept %s: %d devices recorded (%d lab hosts), scan took %v", scannerA, lanA, run.Stats.Recorded,
		len(l.Hosts), run.Finished.Sub(run.Started).Round(time.Millisecond))

	// Subnet B's agent sweeps it, then listens: the quiet host, which
	// answers no sweep, is recorded when it announces itself.
	var runB inventory.ScanRun
	if code := api(http.MethodPost, fmt.Sprintf("/api/v1/subnets/%d/scan", snB.ID), &runB); code != http.StatusAccepted {
		dump()
		t.Fatalf("scan now B: %d", code)
	}
	quiet := l.Quiet.Addr.Addr().String()
	waitUntil("the quiet host heard by b1's listen task", 60*time.Second, func() bool {
		if err := l.SendGratuitousARP(ctx); err != nil {
			t.Fatal(err)
		}
		page, _ := store.Devices(ctx, inventory.DeviceQuery{SubnetID: snB.ID, Limit: 1000})
		for _, dv := range page.Devices {
			if dv.IP == quiet {
				return true
			}
		}
		return false
	})
	page, _ = store.Devices(ctx, inventory.DeviceQuery{SubnetID: snB.ID, Limit: 1000})
	for _, dv := range page.Devices {
		if dv.IP != quiet {
			continue
		}
		det, _ := store.Device(ctx, dv.ID)
		if dv.MAC != l.Quiet.MAC.String() || !slices.Contains(dv.FoundBy, "passive-arp") {
			t.Errorf("quiet host recorded as %+v, want MAC %s found by passive-arp", dv, l.Quiet.MAC)
		}
		if len(det.Sightings) == 0 || det.Sightings[0].Scanner.ID != uidOf["b1"] {
			t.Errorf("quiet host sightings %+v, want by b1", det.Sightings)
		}
	}

	// Stop the elected agent: the other one of its subnet takes over
	// within max-alive (3 poll intervals of 1s) plus a round.
	var stopped, other *labAgent
	for _, a := range agents {
		switch a.name {
		case scannerA:
			stopped = a
		case "a1", "a2":
			other = a
		}
	}
	if err := stopped.proc.Stop(); err != nil {
		t.Fatal(err)
	}
	took := waitUntil("failover to "+other.name, 30*time.Second, func() bool {
		e := elected(snA)
		return len(e) == 1 && e[0] == other.name
	})
	t.Logf("failover from %s to %s took %v after the stop (max-alive 3s)", stopped.name, other.name, took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Errorf("failover took %v, want within max-alive (3s) plus rounds", took)
	}

	// An agent with a revoked key is refused, and says why.
	revKey, rk, err := store.CreateEnrollmentKey(ctx, inventory.EnrollmentKey{Name: "revoked"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.RevokeEnrollmentKey(ctx, rk.ID, false); err != nil {
		t.Fatal(err)
	}
	bad := &labAgent{name: "x", ns: stopped.ns, root: stopped.root, state: t.TempDir()}
	start(bad, revKey)
	select {
	case <-bad.proc.Done():
	case <-time.After(60 * time.Second):
		t.Fatalf("agent with a revoked key still running:\n%s", bad.out.String())
	}
	if err := bad.proc.Wait(); err == nil || !strings.Contains(bad.out.String(), "revoked") {
		t.Errorf("agent with a revoked key: exit %v, output:\n%s", err, bad.out.String())
	}
	if _, err := os.Stat(filepath.Join(bad.state, "agent.json")); err == nil {
		t.Error("a refused agent kept a state file")
	}
}

// sh runs a command to completion, returning its combined output.
func sh(ctx context.Context, argv ...string) ([]byte, error) {
	return exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
}
