package web_test

// The wake lab tests run a real server inside the lab's scanner namespace:
// the server picks routes from the interfaces it sees and opens its
// sockets from goroutines a test cannot pin, so the test re-executes its
// own binary under `ip netns exec` as TestWakeLabServerProcess. That
// process serves HTTP on a Unix socket in the test's temporary directory
// (Unix sockets are not in any network namespace), so the test drives the
// real API from outside while packets stay in the lab. Sinks in the
// target namespaces (internal/woltest) see what arrives.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent"
	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
	"github.com/lanscout/lanscout/internal/sshtest"
	"github.com/lanscout/lanscout/internal/woltest"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/web"
	"github.com/lanscout/lanscout/wol"
)

const wakeLabEnv = "LANSCOUT_WAKE_LAB_SERVER"

// labServerConfig is what the re-executed server is told.
type labServerConfig struct {
	Data           string        `json:"data"`
	Socket         string        `json:"socket"`
	Fallback       string        `json:"fallback"`
	Method         string        `json:"method"`
	ConfirmTimeout time.Duration `json:"confirm_timeout"`
	ProbeInterval  time.Duration `json:"probe_interval"`
	// Listen, when set, also serves HTTPS there (for agents) with the
	// certificate and key in CertFile and KeyFile.
	Listen   string `json:"listen,omitempty"`
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	// NoRaw runs the server without CAP_NET_RAW, as a server started
	// without the capability it needs for raw frames.
	NoRaw bool `json:"-"`
}

// TestWakeLabServerProcess is the server of the wake lab tests when the
// test binary is re-executed inside a lab namespace.
func TestWakeLabServerProcess(t *testing.T) {
	raw := os.Getenv(wakeLabEnv)
	if raw == "" {
		t.Skip("helper process for the wake lab tests")
	}
	var cfg labServerConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := inventory.OpenSQLite(ctx, cfg.Data, inventory.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	fb, err := web.ParseWakeFallback(cfg.Fallback)
	if err != nil {
		t.Fatal(err)
	}
	method, err := wol.ParseMethod(cfg.Method)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Options{Store: store, Logger: log, ScheduleCheck: -1, Wake: web.WakeOptions{
		Fallback: fb, Method: method, ConfirmTimeout: cfg.ConfirmTimeout, ProbeInterval: cfg.ProbeInterval,
		ScheduleCheck: -1}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", cfg.Socket)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	if cfg.Listen != "" {
		tln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			t.Fatal(err)
		}
		go hs.ServeTLS(tln, cfg.CertFile, cfg.KeyFile)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	if err := srv.Close(sctx); err != nil {
		t.Error(err)
	}
}

// labServer is a server running in a lab namespace, driven over its
// Unix socket.
type labServer struct {
	t      *testing.T
	client *http.Client
	tokens map[inventory.Role]string
	logs   *syncBuf
	data   string // the store's directory
	proc   *lab.Process
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startLabServer seeds a store with seed, then runs the server in
// namespace ns with cfg's wake settings.
func startLabServer(t *testing.T, l *lab.Lab, ns string, cfg labServerConfig, seed func(context.Context, inventory.Store)) *labServer {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg.Data, cfg.Socket = dir, filepath.Join(dir, "web.sock")
	store, err := inventory.OpenSQLite(ctx, dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ls := &labServer{t: t, tokens: map[inventory.Role]string{}, logs: &syncBuf{}}
	for _, r := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator, inventory.RoleAdmin} {
		tok, _, err := store.CreateAPIToken(ctx, string(r), r, 0, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ls.tokens[r] = tok
	}
	seed(ctx, store)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(cfg)
	argv := []string{os.Args[0], "-test.run=^TestWakeLabServerProcess$"}
	if cfg.NoRaw {
		// Out of the bounding and inheritable sets, root's exec does not
		// get the capability back.
		argv = append([]string{"setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw", "--"}, argv...)
	}
	cmd := l.Command(ctx, ns, argv...)
	cmd.Env = append(os.Environ(), wakeLabEnv+"="+string(raw))
	cmd.Stdout, cmd.Stderr = ls.logs, ls.logs
	p, err := l.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	ls.data, ls.proc = dir, p
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop the lab server: %v", err)
		}
		if t.Failed() {
			t.Logf("lab server log:\n%s", ls.logs.String())
		}
	})
	ls.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", cfg.Socket)
		}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := ls.client.Get("http://lab/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return ls
			}
		}
		select {
		case <-p.Done():
			t.Fatalf("lab server exited at start:\n%s", ls.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab server not answering: %v\n%s", err, ls.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (ls *labServer) api(role inventory.Role, method, path string, body, out any) int {
	ls.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://lab"+path, r)
	if err != nil {
		ls.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ls.tokens[role])
	req.Header.Set("Content-Type", "application/json")
	resp, err := ls.client.Do(req)
	if err != nil {
		ls.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			ls.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func (ls *labServer) wake(role inventory.Role, body any) (wakeJob, int) {
	ls.t.Helper()
	var j wakeJob
	st := ls.api(role, http.MethodPost, "/api/v1/wake", body, &j)
	return j, st
}

func (ls *labServer) waitJob(id int64, timeout time.Duration) wakeJob {
	ls.t.Helper()
	var j wakeJob
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if st := ls.api(inventory.RoleViewer, http.MethodGet, fmt.Sprintf("/api/v1/wake/%d", id), nil, &j); st != http.StatusOK {
			ls.t.Fatalf("GET wake job %d: %d", id, st)
		}
		if j.Status != "running" {
			return j
		}
		time.Sleep(200 * time.Millisecond)
	}
	ls.t.Fatalf("wake job %d still running after %s: %+v", id, timeout, j)
	return j
}

// seedDevices records devices as seen by one complete scan and returns
// their ids by address.
func seedWakeDevices(t *testing.T, ctx context.Context, st inventory.Store, cidr string, ds ...scan.Device) (int64, map[string]int64) {
	t.Helper()
	sn, err := st.CreateSubnet(ctx, inventory.Subnet{CIDR: cidr})
	if err != nil {
		t.Fatal(err)
	}
	run, err := st.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerServer, ID: "server"}, "arp")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, d := range ds {
		id, err := st.RecordDevice(ctx, run.ID, d)
		if err != nil {
			t.Fatal(err)
		}
		ids[d.IP] = id
	}
	if _, err := st.FinishScan(ctx, run.ID, inventory.ScanEnd{}); err != nil {
		t.Fatal(err)
	}
	return sn.ID, ids
}

// seedAgentWake stores d in subnet cidr, as seedWakeDevices does, and an
// enrollment key for that subnet, for a lab agent there to enroll with;
// it returns the device's id and the key.
func seedAgentWake(t *testing.T, ctx context.Context, st inventory.Store, cidr string, d scan.Device) (int64, string) {
	t.Helper()
	_, ids := seedWakeDevices(t, ctx, st, cidr, d)
	key, _, err := st.CreateEnrollmentKey(ctx, inventory.EnrollmentKey{Name: "lab", Subnets: []string{cidr}, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return ids[d.IP], key
}

func target(j wakeJob, mac string) wakeTarget {
	for _, t := range j.Targets {
		if t.MAC == mac {
			return t
		}
	}
	return wakeTarget{}
}

// sleep makes a lab host stop answering ARP, as a machine that is off;
// wakeOnPacket brings it back once the sink sees its magic packet, as the
// card waking the machine would.
func sleepHost(t *testing.T, l *lab.Lab, h lab.Host, asleep bool) {
	t.Helper()
	v := "0" // with the namespace's all=1: answer for its own address
	if asleep {
		v = "8" // never answer
	}
	if _, err := l.Exec(context.Background(), l.HostsNS, "sysctl", "-q", "-w", "net.ipv4.conf."+h.Interface+".arp_ignore="+v); err != nil {
		t.Fatal(err)
	}
}

func wakeOnPacket(t *testing.T, l *lab.Lab, sink *woltest.Sink, h lab.Host) <-chan time.Time {
	woke := make(chan time.Time, 1)
	go func() {
		if _, err := sink.Wait(time.Minute, func(ps []woltest.Packet) bool { return woltest.Has(ps, "", h.MAC.String()) }); err != nil {
			return
		}
		woke <- time.Now()
		if _, err := l.Exec(context.Background(), l.HostsNS, "sysctl", "-q", "-w", "net.ipv4.conf."+h.Interface+".arp_ignore=0"); err != nil {
			t.Errorf("wake %s: %v", h.IP, err)
		}
	}()
	return woke
}

// TestLabWakeLocal: the server sits on the target's segment. It sends raw
// Ethernet (or UDP to the directed broadcast when told to); a viewer's
// request sends nothing; a machine that answers ARP only once its packet
// arrived is confirmed awake, one that never does is not; a target behind
// a router has no route until the request asks for the fallback, then gets
// a directed broadcast that a router forwarding them delivers.
func TestLabWakeLocal(t *testing.T) {
	l := labtest.New(t, lab.Config{Hosts: 4, Routed: &lab.RoutedConfig{ICMPHosts: 1, SilentHosts: -1}})
	hosts := l.Hosts
	mac := func(i int) string { return hosts[i].MAC.String() }
	remoteIP := l.Router.ICMPHosts[0].String()
	const remoteMAC = "02:42:00:00:0f:01" // the remote "machine" behind the router
	var ids map[string]int64
	var remoteIDs map[string]int64
	seed := func(ctx context.Context, st inventory.Store) {
		var ds []scan.Device
		for _, h := range hosts {
			ds = append(ds, scan.Device{IP: h.IP.String(), MAC: h.MAC.String(), Category: "workstation", FoundBy: []string{"arp"}})
		}
		_, ids = seedWakeDevices(t, ctx, st, l.Prefix.String(), ds...)
		_, remoteIDs = seedWakeDevices(t, ctx, st, l.Router.Remote.String(),
			scan.Device{IP: remoteIP, MAC: remoteMAC, Category: "workstation", FoundBy: []string{"icmp"}})
	}
	sink := woltest.Listen(t, l, l.HostsNS, hosts[0].Interface, 9, 7)
	farSink := woltest.Listen(t, l, l.Router.Namespace, "", 9)
	// Hosts 2 and 3 are off: they answer no ARP. Host 3 wakes when its
	// packet arrives; host 2 never does.
	sleepHost(t, l, hosts[2], true)
	sleepHost(t, l, hosts[3], true)
	// The "card" of host 4 listens on its own interface with its own sink
	// (a Sink serves one waiter at a time).
	woke := wakeOnPacket(t, l, woltest.Listen(t, l, l.HostsNS, hosts[3].Interface), hosts[3])

	srv := startLabServer(t, l, l.Scanner.Namespace, labServerConfig{Fallback: "directed_broadcast",
		ConfirmTimeout: 5 * time.Second, ProbeInterval: 500 * time.Millisecond}, seed)

	t.Run("viewer sends nothing", func(t *testing.T) {
		if _, st := srv.wake(inventory.RoleViewer, map[string]any{"devices": []int64{ids[hosts[1].IP.String()]}}); st != http.StatusForbidden {
			t.Fatalf("viewer: %d, want 403", st)
		}
		time.Sleep(2 * time.Second)
		if ps := sink.Packets(); woltest.Has(ps, "", mac(1)) {
			t.Fatalf("a viewer's wake reached the segment: %+v", ps)
		}
	})

	t.Run("raw, confirmed", func(t *testing.T) {
		start := time.Now()
		j, st := srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{ids[hosts[0].IP.String()], ids[hosts[1].IP.String()]}})
		if st != http.StatusAccepted {
			t.Fatalf("POST: %d", st)
		}
		for _, tg := range j.Targets {
			if tg.Route != "local" || !strings.Contains(tg.Via, l.Scanner.Interface) || tg.Subnet != l.Prefix.String() {
				t.Errorf("target %+v: want local via %s", tg, l.Scanner.Interface)
			}
		}
		if _, err := sink.Wait(10*time.Second, func(ps []woltest.Packet) bool { return woltest.HasAll(ps, "raw", mac(0), mac(1)) }); err != nil {
			t.Fatalf("raw magic packets: %v (%+v)", err, sink.Packets())
		}
		done := srv.waitJob(j.ID, 30*time.Second)
		for _, m := range []string{mac(0), mac(1)} {
			tg := target(done, m)
			if tg.Status != "confirmed" || tg.Method != "raw" || tg.ConfirmedBy != "arp" {
				t.Errorf("%s: %+v, want sent raw and confirmed by arp", m, tg)
			}
		}
		if ps := sink.Packets(); woltest.Has(ps, "udp", mac(0)) {
			t.Errorf("raw sending also sent UDP")
		}
		t.Logf("two hosts woken and confirmed in %s", time.Since(start).Round(time.Millisecond))
	})

	t.Run("asleep until the packet arrives", func(t *testing.T) {
		j, st := srv.wake(inventory.RoleOperator, map[string]any{"macs": []string{mac(3), mac(2)}})
		if st != http.StatusAccepted {
			t.Fatalf("POST: %d", st)
		}
		if tg := target(j, mac(3)); tg.DeviceID != ids[hosts[3].IP.String()] || tg.Route != "local" {
			t.Fatalf("MAC not resolved through the store: %+v", tg)
		}
		var wokeAt time.Time
		select {
		case wokeAt = <-woke:
		case <-time.After(15 * time.Second):
			t.Fatalf("host 4 never got its packet: %+v", sink.Packets())
		}
		done := srv.waitJob(j.ID, 30*time.Second)
		up, down := target(done, mac(3)), target(done, mac(2))
		if up.Status != "confirmed" || up.ConfirmedBy != "arp" || up.TookS <= 0 {
			t.Errorf("the host that woke: %+v", up)
		}
		if down.Status != "unconfirmed" || !strings.Contains(down.Detail, "not seen up within 5s") {
			t.Errorf("the host that stayed off: %+v", down)
		}
		if !woltest.Has(sink.Packets(), "raw", mac(2)) {
			t.Errorf("the host that stayed off got no packet")
		}
		t.Logf("woke at %s; confirmed after %.1fs", wokeAt.Format("15:04:05.000"), up.TookS)
	})

	t.Run("behind a router: no route, then the fallback asked for", func(t *testing.T) {
		// A router that forwards directed broadcasts (most do not).
		if _, err := l.Exec(context.Background(), l.Router.LAN.Namespace, "sh", "-c",
			"for f in /proc/sys/net/ipv4/conf/*/bc_forwarding; do echo 1 > $f; done"); err != nil {
			t.Fatal(err)
		}
		dev := remoteIDs[remoteIP]
		j, st := srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{dev}})
		if st != http.StatusAccepted {
			t.Fatalf("POST: %d", st)
		}
		if tg := target(j, remoteMAC); tg.Route != "none" || tg.Status != "no_route" || j.FallbackOffer != "directed_broadcast" {
			t.Fatalf("without fallback: %+v offer %q", tg, j.FallbackOffer)
		}
		time.Sleep(time.Second)
		if woltest.Has(farSink.Packets(), "", remoteMAC) {
			t.Fatalf("a wake with no route sent something")
		}
		j, st = srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{dev}, "fallback": true})
		if st != http.StatusAccepted {
			t.Fatalf("POST with fallback: %d", st)
		}
		bcast, _ := wol.DirectedBroadcast(l.Router.Remote)
		if tg := target(j, remoteMAC); tg.Route != "directed_broadcast" || tg.Via != bcast.String() {
			t.Fatalf("with fallback: %+v", tg)
		}
		if _, err := farSink.Wait(10*time.Second, func(ps []woltest.Packet) bool { return woltest.Has(ps, "udp", remoteMAC) }); err != nil {
			t.Fatalf("directed broadcast did not arrive behind the router: %v", err)
		}
		done := srv.waitJob(j.ID, 30*time.Second)
		// The remote address answers ping: the server confirms over ICMP.
		if tg := target(done, remoteMAC); tg.Status != "confirmed" || tg.Method != "udp" || tg.ConfirmedBy != "icmp" {
			t.Errorf("fallback target: %+v", tg)
		}
	})

	t.Run("server stops while watching", func(t *testing.T) {
		stopSrv := startLabServer(t, l, l.Scanner.Namespace, labServerConfig{ConfirmTimeout: 10 * time.Minute,
			ProbeInterval: 500 * time.Millisecond}, seed)
		j, st := stopSrv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{ids[hosts[2].IP.String()]}})
		if st != http.StatusAccepted {
			t.Fatalf("POST: %d", st)
		}
		var cur wakeJob
		deadline := time.Now().Add(10 * time.Second)
		for target(cur, mac(2)).Status != "sent" {
			if time.Now().After(deadline) {
				t.Fatalf("never sent: %+v", cur)
			}
			time.Sleep(100 * time.Millisecond)
			stopSrv.api(inventory.RoleViewer, http.MethodGet, fmt.Sprintf("/api/v1/wake/%d", j.ID), nil, &cur)
		}
		// SIGTERM: the server closes the job before it exits.
		if err := stopSrv.proc.Stop(); err != nil {
			t.Fatal(err)
		}
		store, err := inventory.OpenSQLite(context.Background(), stopSrv.data, inventory.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		got, err := store.WakeJob(context.Background(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != inventory.WakeJobInterrupted || got.Targets[0].Status != inventory.WakeUnconfirmed ||
			!strings.Contains(got.Targets[0].Detail, "server stopped") {
			t.Fatalf("after a stop: %+v", got)
		}
	})

	t.Run("udp", func(t *testing.T) {
		udpSrv := startLabServer(t, l, l.Scanner.Namespace, labServerConfig{Method: "udp",
			ConfirmTimeout: 5 * time.Second, ProbeInterval: 500 * time.Millisecond}, seed)
		n := len(sink.Packets())
		j, st := udpSrv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{ids[hosts[1].IP.String()]}})
		if st != http.StatusAccepted {
			t.Fatalf("POST: %d", st)
		}
		// One datagram to each default port, 9 and 7.
		ports := func(ps []woltest.Packet) map[string]bool {
			out := map[string]bool{}
			for _, p := range ps[n:] {
				if p.MAC == mac(1) {
					out[p.Method+"/"+p.To] = true
				}
			}
			return out
		}
		ps, err := sink.Wait(10*time.Second, func(ps []woltest.Packet) bool { return ports(ps)["udp/9"] && ports(ps)["udp/7"] })
		if err != nil {
			t.Fatalf("UDP magic packets to ports 9 and 7: %v (%v)", err, ports(sink.Packets()))
		}
		for _, p := range ps[n:] {
			if p.Method == "raw" {
				t.Errorf("udp method sent raw: %+v", p)
			}
		}
		bcast, _ := wol.DirectedBroadcast(l.Prefix)
		done := udpSrv.waitJob(j.ID, 30*time.Second)
		if tg := target(done, mac(1)); tg.Method != "udp" || tg.Status != "confirmed" || !strings.Contains(tg.Via, bcast.String()) {
			t.Errorf("udp target: %+v", tg)
		}
	})
}

// TestLabWakeSatellite: a target behind a router, with a satellite (a real
// OpenSSH server with Debian's wakeonlan) serving its subnet, is woken
// over SSH: the magic packet crosses the remote segment.
func TestLabWakeSatellite(t *testing.T) {
	sshtest.Skip(t)
	if _, err := exec.LookPath("wakeonlan"); err != nil {
		t.Skipf("skipping: Debian's wakeonlan is not installed: %v", err)
	}
	l := labtest.New(t, lab.Config{Hosts: -1, Routed: &lab.RoutedConfig{ICMPHosts: 1, SilentHosts: -1}})
	remoteIP := l.Router.ICMPHosts[0]
	const remoteMAC = "02:42:00:00:0f:02"
	sshd := sshtest.Start(t, sshtest.Options{Lab: l, Namespace: l.Router.Namespace,
		Listen: netip.AddrPortFrom(remoteIP, 22), HostKeyTypes: []string{"ed25519"}})
	// The router sits on the remote segment: what reaches its UDP port 9
	// there went over that wire.
	sink := woltest.Listen(t, l, l.Router.LAN.Namespace, "", 9)
	var dev, lostDev int64
	// A second subnet is served by a satellite that is down (nothing
	// listens where it should): its target fails, fast and saying why,
	// and the other is still woken.
	const lostSubnet, lostIP, lostMAC = "10.254.99.0/24", "10.254.99.7", "02:42:00:00:0f:09"
	// A third subnet nobody serves: only the all_satellites fallback, when
	// asked for, sends there.
	const nobodySubnet, nobodyIP, nobodyMAC = "10.253.5.0/24", "10.253.5.9", "02:42:00:00:0f:0a"
	var nobodyDev int64
	seed := func(ctx context.Context, st inventory.Store) {
		_, ids := seedWakeDevices(t, ctx, st, l.Router.Remote.String(),
			scan.Device{IP: remoteIP.String(), MAC: remoteMAC, Category: "workstation", FoundBy: []string{"icmp"}})
		dev = ids[remoteIP.String()]
		_, ids = seedWakeDevices(t, ctx, st, lostSubnet,
			scan.Device{IP: lostIP, MAC: lostMAC, Category: "workstation", FoundBy: []string{"icmp"}})
		lostDev = ids[lostIP]
		_, ids = seedWakeDevices(t, ctx, st, nobodySubnet,
			scan.Device{IP: nobodyIP, MAC: nobodyMAC, Category: "workstation", FoundBy: []string{"icmp"}})
		nobodyDev = ids[nobodyIP]
		hk := sshd.HostKeys["ed25519"]
		for _, sat := range []inventory.Satellite{
			{Name: "far-sat", Address: remoteIP.String(), Port: 22, User: sshd.User, Subnets: []string{l.Router.Remote.String()}},
			{Name: "down-sat", Address: l.Router.Gateway.String(), Port: 2222, User: sshd.User, Subnets: []string{lostSubnet}},
		} {
			sat, err := st.CreateSatellite(ctx, sat, sshd.ClientPEM)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.SetSatelliteTrustedKey(ctx, sat.ID, satellite.FormatHostKey(hk), satellite.Fingerprint(hk)); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := startLabServer(t, l, l.Scanner.Namespace, labServerConfig{Fallback: "all_satellites", ConfirmTimeout: 4 * time.Second,
		ProbeInterval: 500 * time.Millisecond}, seed)
	start := time.Now()
	j, st := srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{dev, lostDev}})
	if st != http.StatusAccepted {
		t.Fatalf("POST: %d", st)
	}
	if tg := target(j, remoteMAC); tg.Route != "satellite" || tg.Via != "far-sat" {
		t.Fatalf("route %+v, want the satellite", tg)
	}
	if tg := target(j, lostMAC); tg.Route != "satellite" || tg.Via != "down-sat" {
		t.Fatalf("route %+v, want the satellite that is down", tg)
	}
	if _, err := sink.Wait(20*time.Second, func(ps []woltest.Packet) bool { return woltest.Has(ps, "udp", remoteMAC) }); err != nil {
		t.Fatalf("no magic packet on the remote segment: %v\nsshd log:\n%s", err, sshd.Log())
	}
	t.Logf("the packet through the satellite arrived %s after the request", time.Since(start).Round(time.Millisecond))
	done := srv.waitJob(j.ID, 30*time.Second)
	if tg := target(done, remoteMAC); tg.Status != "confirmed" || tg.Method != "ssh" {
		t.Errorf("satellite target: %+v", tg)
	}
	if tg := target(done, lostMAC); tg.Status != "failed" || !strings.Contains(tg.Detail, "down-sat") ||
		!strings.Contains(tg.Detail, "refused") {
		t.Errorf("target of the satellite that is down: %+v", tg)
	}

	// The all_satellites fallback: offered, then used when asked for;
	// the satellite that answers sends the packet on its own segment.
	j, st = srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{nobodyDev}})
	if tg := target(j, nobodyMAC); st != http.StatusAccepted || tg.Status != "no_route" || j.FallbackOffer != "all_satellites" {
		t.Fatalf("without the fallback: %d %+v offer %q", st, tg, j.FallbackOffer)
	}
	j, st = srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{nobodyDev}, "fallback": true})
	if tg := target(j, nobodyMAC); st != http.StatusAccepted || tg.Route != "all_satellites" || tg.Via != "down-sat, far-sat" {
		t.Fatalf("with the fallback: %d %+v", st, tg)
	}
	if _, err := sink.Wait(20*time.Second, func(ps []woltest.Packet) bool { return woltest.Has(ps, "udp", nobodyMAC) }); err != nil {
		t.Fatalf("the fallback sent nothing through the satellite that answers: %v", err)
	}
	// Nothing can see a machine in a subnet nobody reaches: sent, not
	// confirmed.
	if tg := target(srv.waitJob(j.ID, 30*time.Second), nobodyMAC); tg.Method != "ssh" || tg.Status != "unconfirmed" {
		t.Errorf("fallback target: %+v", tg)
	}

	// The satellite is reinstalled (new host keys) or impersonated: its
	// key no longer matches the confirmed one, so nothing is sent through
	// it, the target fails saying why, and the audit log says so loudly.
	sshd.Restart(t)
	j, st = srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{dev}})
	if st != http.StatusAccepted {
		t.Fatalf("POST after the key changed: %d", st)
	}
	if tg := target(srv.waitJob(j.ID, 30*time.Second), remoteMAC); tg.Status != "failed" || !strings.Contains(tg.Detail, "far-sat") ||
		!strings.Contains(strings.ToLower(tg.Detail), "host key") {
		t.Errorf("wake through a satellite whose host key changed: %+v", tg)
	}
	var audit struct {
		Items []inventory.AuditEntry `json:"items"`
	}
	srv.api(inventory.RoleAdmin, http.MethodGet, "/api/v1/audit?limit=100", nil, &audit)
	changed := false
	for _, e := range audit.Items {
		changed = changed || e.Action == "satellite.host_key_changed"
	}
	if !changed {
		t.Errorf("no satellite.host_key_changed in the audit log: %+v", audit.Items)
	}
}

const wakeLabAgentEnv = "LANSCOUT_WAKE_LAB_AGENT"

// labAgentConfig is what the re-executed agent is told.
type labAgentConfig struct {
	Server      string `json:"server"`
	EnrollKey   string `json:"enroll_key"`
	Fingerprint string `json:"fingerprint"`
	State       string `json:"state"`
}

// TestWakeLabAgentProcess is the real lanscout agent (package agent, as
// `lanscout agent` runs it) when the test binary is re-executed inside a
// lab namespace.
func TestWakeLabAgentProcess(t *testing.T) {
	raw := os.Getenv(wakeLabAgentEnv)
	if raw == "" {
		t.Skip("helper process for the wake lab tests")
	}
	var cfg labAgentConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	a, err := agent.New(agent.Options{Server: cfg.Server, EnrollKey: cfg.EnrollKey, StateDir: cfg.State,
		TLS: agent.TLSOptions{Fingerprint: cfg.Fingerprint}, Version: "test", PollInterval: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(ctx); err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
}

// selfSigned writes a certificate for ip and its key into dir and returns
// their paths and the certificate's fingerprint.
func selfSigned(t *testing.T, dir string, ip netip.Addr) (certFile, keyFile, fingerprint string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lanscout lab"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{ip.AsSlice()}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return certFile, keyFile, "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// startLabAgent runs the real agent in namespace ns, enrolled with
// enrollKey at server (whose certificate has fingerprint fp), and waits
// until srv lists it online with its NICs; it returns the agent's id.
func startLabAgent(t *testing.T, l *lab.Lab, ns string, srv *labServer, server, enrollKey, fp string) int64 {
	t.Helper()
	raw, _ := json.Marshal(labAgentConfig{Server: server, EnrollKey: enrollKey, Fingerprint: fp, State: t.TempDir()})
	cmd := l.Command(context.Background(), ns, os.Args[0], "-test.run=^TestWakeLabAgentProcess$")
	cmd.Env = append(os.Environ(), wakeLabAgentEnv+"="+string(raw))
	agentLog := &syncBuf{}
	cmd.Stdout, cmd.Stderr = agentLog, agentLog
	p, err := l.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop the agent: %v", err)
		}
		if t.Failed() {
			t.Logf("agent log:\n%s", agentLog.String())
		}
	})

	// The agent is usable once it said hello and reported its NICs.
	var agents []struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
		NICs  []struct {
			Addresses []string `json:"addresses"`
		} `json:"nics"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		srv.api(inventory.RoleViewer, http.MethodGet, "/api/v1/agents", nil, &agents)
		if len(agents) == 1 && agents[0].State == "online" && len(agents[0].NICs) > 0 {
			return agents[0].ID
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent never showed up online with its NICs: %+v\nagent log:\n%s", agents, agentLog.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestLabWakeAgent: a target in a subnet the server has no interface in,
// with a real lanscout agent running there: the server hands the agent a
// wake task, the agent sends the packet on its own segment, and the
// target is confirmed.
func TestLabWakeAgent(t *testing.T) {
	l := labtest.New(t, lab.Config{Hosts: -1, Routed: &lab.RoutedConfig{ICMPHosts: 1, SilentHosts: -1}})
	remoteIP := l.Router.ICMPHosts[0]
	const remoteMAC = "02:42:00:00:0f:03"
	// The router's leg on the remote segment: what the agent puts on that
	// wire arrives there.
	rleg := "lsl" + l.ID + "-rtrf"
	sink := woltest.Listen(t, l, l.Router.LAN.Namespace, rleg, 9)
	certDir := t.TempDir()
	listen := netip.AddrPortFrom(l.Scanner.Addr.Addr(), 8443)
	certFile, keyFile, fp := selfSigned(t, certDir, listen.Addr())
	var dev int64
	var enrollKey string
	seed := func(ctx context.Context, st inventory.Store) {
		dev, enrollKey = seedAgentWake(t, ctx, st, l.Router.Remote.String(),
			scan.Device{IP: remoteIP.String(), MAC: remoteMAC, Category: "workstation", FoundBy: []string{"icmp"}})
	}
	srv := startLabServer(t, l, l.Scanner.Namespace, labServerConfig{ConfirmTimeout: 10 * time.Second,
		ProbeInterval: 500 * time.Millisecond, Listen: listen.String(), CertFile: certFile, KeyFile: keyFile}, seed)

	agentID := startLabAgent(t, l, l.Router.Namespace, srv, "https://"+listen.String(), enrollKey, fp)
	start := time.Now()
	j, st := srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{dev}})
	if st != http.StatusAccepted {
		t.Fatalf("POST: %d", st)
	}
	if tg := target(j, remoteMAC); tg.Route != "agent" || !strings.Contains(tg.Via, fmt.Sprintf("agent %d", agentID)) {
		t.Fatalf("route %+v, want the agent", tg)
	}
	if _, err := sink.Wait(20*time.Second, func(ps []woltest.Packet) bool { return woltest.Has(ps, "raw", remoteMAC) }); err != nil {
		t.Fatalf("no magic packet on the agent's segment: %v (%+v)", err, sink.Packets())
	}
	t.Logf("the agent's packet arrived %s after the request", time.Since(start).Round(time.Millisecond))
	done := srv.waitJob(j.ID, 40*time.Second)
	if tg := target(done, remoteMAC); tg.Status != "confirmed" || tg.Method != "raw" {
		t.Errorf("agent target: %+v", tg)
	}
}

// TestLabWakeLocalFailover: the server sits on the target's segment but
// cannot send there: it runs without CAP_NET_RAW and is told to send raw
// frames (wake.method: raw), so the real sender's raw socket is refused.
// A real agent online on that segment is the next route: its packet
// arrives, and the target, its detail and the audit name both the failed
// local send and the agent that sent instead.
func TestLabWakeLocalFailover(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skipf("skipping: setpriv (util-linux) is needed to run the server without CAP_NET_RAW: %v", err)
	}
	l := labtest.New(t, lab.Config{Hosts: 2})
	h := l.Hosts[1] // the target; the agent runs in the hosts' namespace
	certDir := t.TempDir()
	listen := netip.AddrPortFrom(l.Scanner.Addr.Addr(), 8443)
	certFile, keyFile, fp := selfSigned(t, certDir, listen.Addr())
	var dev int64
	var enrollKey string
	seed := func(ctx context.Context, st inventory.Store) {
		dev, enrollKey = seedAgentWake(t, ctx, st, l.Prefix.String(),
			scan.Device{IP: h.IP.String(), MAC: h.MAC.String(), Category: "workstation", FoundBy: []string{"arp"}})
	}
	sink := woltest.Listen(t, l, l.HostsNS, h.Interface)
	srv := startLabServer(t, l, l.Scanner.Namespace, labServerConfig{Method: "raw", NoRaw: true, ConfirmTimeout: -1,
		Listen: listen.String(), CertFile: certFile, KeyFile: keyFile}, seed)
	agentID := startLabAgent(t, l, l.HostsNS, srv, "https://"+listen.String(), enrollKey, fp)
	agentVia := fmt.Sprintf("(agent %d)", agentID)

	start := time.Now()
	j, st := srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{dev}})
	if st != http.StatusAccepted {
		t.Fatalf("POST: %d", st)
	}
	if tg := target(j, h.MAC.String()); tg.Route != "local" || !strings.Contains(tg.Via, l.Scanner.Interface) {
		t.Fatalf("route %+v, want local via %s first", tg, l.Scanner.Interface)
	}
	ps, err := sink.Wait(30*time.Second, func(ps []woltest.Packet) bool { return woltest.Has(ps, "raw", h.MAC.String()) })
	if err != nil {
		t.Fatalf("no magic packet on the segment: %v (%+v)\nserver log:\n%s", err, sink.Packets(), srv.logs.String())
	}
	t.Logf("the agent's packet arrived %s after the request", time.Since(start).Round(time.Millisecond))
	for _, p := range ps {
		if p.From == l.Scanner.MAC.String() {
			t.Errorf("a packet came from the server, which cannot send raw frames: %+v", p)
		}
	}
	done := srv.waitJob(j.ID, 30*time.Second)
	tg := target(done, h.MAC.String())
	if tg.Route != "agent" || !strings.Contains(tg.Via, agentVia) || tg.Method != "raw" || tg.Status != "unconfirmed" {
		t.Errorf("target %+v: want sent raw by the agent %d (unconfirmed: confirmation is off)", tg, agentID)
	}
	t.Logf("target's detail: %s", tg.Detail)
	for _, want := range []string{"send from the server via " + l.Scanner.Interface, "CAP_NET_RAW", "failed over to agent", agentVia} {
		if !strings.Contains(tg.Detail, want) {
			t.Errorf("detail %q does not say %q", tg.Detail, want)
		}
	}
	var audit struct {
		Items []inventory.AuditEntry `json:"items"`
	}
	srv.api(inventory.RoleAdmin, http.MethodGet, "/api/v1/audit?limit=100", nil, &audit)
	var outcome string
	for _, e := range audit.Items {
		if e.Action == "wake.outcome" && e.Target == fmt.Sprintf("wake/%d", j.ID) {
			outcome = e.Details
		}
	}
	if !strings.Contains(outcome, "via agent") || !strings.Contains(outcome, agentVia) || !strings.Contains(outcome, "CAP_NET_RAW") {
		t.Errorf("audit of the outcome %q does not name both the failed local send and the agent", outcome)
	}
}

// TestLabWakeLocalFailoverSatellite: as TestLabWakeLocalFailover, with
// no agent on the segment but a satellite (a real OpenSSH server with
// Debian's wakeonlan) serving it: the wake the server could not send goes
// over SSH, its UDP broadcast crosses the wire to the server's segment,
// and the target names the failed local send and the satellite.
func TestLabWakeLocalFailoverSatellite(t *testing.T) {
	sshtest.Skip(t)
	for _, tool := range []string{"setpriv", "wakeonlan"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s is not installed: %v", tool, err)
		}
	}
	l := labtest.New(t, lab.Config{Hosts: 2})
	satHost, h := l.Hosts[0], l.Hosts[1]
	sshd := sshtest.Start(t, sshtest.Options{Lab: l, Namespace: l.HostsNS,
		Listen: netip.AddrPortFrom(satHost.IP, 22), HostKeyTypes: []string{"ed25519"}})
	var dev int64
	seed := func(ctx context.Context, st inventory.Store) {
		_, ids := seedWakeDevices(t, ctx, st, l.Prefix.String(),
			scan.Device{IP: h.IP.String(), MAC: h.MAC.String(), Category: "workstation", FoundBy: []string{"arp"}})
		dev = ids[h.IP.String()]
		sat, err := st.CreateSatellite(ctx, inventory.Satellite{Name: "lan-sat", Address: satHost.IP.String(), Port: 22,
			User: sshd.User, Subnets: []string{l.Prefix.String()}}, sshd.ClientPEM)
		if err != nil {
			t.Fatal(err)
		}
		hk := sshd.HostKeys["ed25519"]
		if _, err := st.SetSatelliteTrustedKey(ctx, sat.ID, satellite.FormatHostKey(hk), satellite.Fingerprint(hk)); err != nil {
			t.Fatal(err)
		}
	}
	// In the server's namespace: what arrives there crossed the wire
	// from the satellite.
	sink := woltest.Listen(t, l, l.Scanner.Namespace, "", 9)
	srv := startLabServer(t, l, l.Scanner.Namespace, labServerConfig{Method: "raw", NoRaw: true, ConfirmTimeout: -1}, seed)

	j, st := srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{dev}})
	if st != http.StatusAccepted {
		t.Fatalf("POST: %d", st)
	}
	if tg := target(j, h.MAC.String()); tg.Route != "local" {
		t.Fatalf("route %+v, want local first", tg)
	}
	ps, err := sink.Wait(30*time.Second, func(ps []woltest.Packet) bool { return woltest.Has(ps, "udp", h.MAC.String()) })
	if err != nil {
		t.Fatalf("no magic packet from the satellite: %v\nsshd log:\n%s", err, sshd.Log())
	}
	for _, p := range ps {
		if p.MAC == h.MAC.String() && !strings.HasPrefix(p.From, satHost.IP.String()+":") {
			t.Errorf("packet %+v, want it from the satellite %s", p, satHost.IP)
		}
	}
	tg := target(srv.waitJob(j.ID, 30*time.Second), h.MAC.String())
	if tg.Route != "satellite" || tg.Via != "lan-sat" || tg.Method != "ssh" || tg.Status != "unconfirmed" {
		t.Errorf("target %+v: want sent by the satellite lan-sat", tg)
	}
	for _, want := range []string{"send from the server via " + l.Scanner.Interface, "CAP_NET_RAW", "failed over to satellite lan-sat"} {
		if !strings.Contains(tg.Detail, want) {
			t.Errorf("detail %q does not say %q", tg.Detail, want)
		}
	}
}

// TestLabWakeSubnet: "Wake all" on a subnet of 150 machines: one packet
// each, every one confirmed.
func TestLabWakeSubnet(t *testing.T) {
	const n = 150
	l := labtest.New(t, lab.Config{Hosts: n})
	var lan int64
	seed := func(ctx context.Context, st inventory.Store) {
		var ds []scan.Device
		for _, h := range l.Hosts {
			ds = append(ds, scan.Device{IP: h.IP.String(), MAC: h.MAC.String(), Category: "workstation", FoundBy: []string{"arp"}})
		}
		// One machine without a known MAC is left out.
		ds = append(ds, scan.Device{IP: netip.AddrFrom4([4]byte{l.Prefix.Addr().As4()[0], l.Prefix.Addr().As4()[1], 9, 9}).String(),
			Category: "server", FoundBy: []string{"icmp"}})
		lan, _ = seedWakeDevices(t, ctx, st, l.Prefix.String(), ds...)
	}
	sink := woltest.Listen(t, l, l.HostsNS, l.Hosts[0].Interface)
	srv := startLabServer(t, l, l.Scanner.Namespace, labServerConfig{ConfirmTimeout: 30 * time.Second,
		ProbeInterval: time.Second}, seed)
	start := time.Now()
	j, st := srv.wake(inventory.RoleOperator, map[string]any{"subnets": []int64{lan}})
	if st != http.StatusAccepted || len(j.Targets) != n {
		t.Fatalf("POST: %d, %d targets, want %d", st, len(j.Targets), n)
	}
	var macs []string
	for _, h := range l.Hosts {
		macs = append(macs, h.MAC.String())
	}
	if _, err := sink.Wait(20*time.Second, func(ps []woltest.Packet) bool { return woltest.HasAll(ps, "raw", macs...) }); err != nil {
		t.Fatalf("not every machine got its packet: %v (%d packets)", err, len(sink.Packets()))
	}
	sent := time.Since(start)
	done := srv.waitJob(j.ID, time.Minute)
	if done.Counts["confirmed"] != n {
		t.Fatalf("confirmed %v, want all %d", done.Counts, n)
	}
	t.Logf("%d machines: packets on the wire after %s, all confirmed after %s", n, sent.Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond))
}

// TestLabWakeAgentConfirms: the server sits in the remote subnet and the
// agent on the LAN, where a machine answers ARP only once its magic packet
// arrived. The router drops everything the server sends to that machine,
// so neither its probes nor a sighting can confirm it: the agent, which
// watches the machine's last address from its own segment after sending,
// reports it up, and the server records it confirmed, with the time it
// took.
func TestLabWakeAgentConfirms(t *testing.T) {
	l := labtest.New(t, lab.Config{Hosts: 2, Routed: &lab.RoutedConfig{ICMPHosts: 1, SilentHosts: -1}})
	sleeper := l.Hosts[1]
	sleepHost(t, l, sleeper, true)
	woke := wakeOnPacket(t, l, woltest.Listen(t, l, l.HostsNS, sleeper.Interface), sleeper)
	// The router forwards nothing from the server's subnet to the
	// sleeper: the server cannot see it come up.
	rules := fmt.Sprintf("table ip lswake { chain f { type filter hook forward priority 0; policy accept; ip saddr %s ip daddr %s drop; }; }",
		l.Router.Remote, sleeper.IP)
	if out, err := l.Exec(context.Background(), l.Router.LAN.Namespace, "nft", rules); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}

	srvAddr := l.Router.ICMPHosts[0]
	listen := netip.AddrPortFrom(srvAddr, 8443)
	certFile, keyFile, fp := selfSigned(t, t.TempDir(), srvAddr)
	var dev int64
	var enrollKey string
	seed := func(ctx context.Context, st inventory.Store) {
		dev, enrollKey = seedAgentWake(t, ctx, st, l.Prefix.String(),
			scan.Device{IP: sleeper.IP.String(), MAC: sleeper.MAC.String(), Category: "workstation", FoundBy: []string{"arp"}})
	}
	srv := startLabServer(t, l, l.Router.Namespace, labServerConfig{ConfirmTimeout: 20 * time.Second,
		ProbeInterval: time.Second, Listen: listen.String(), CertFile: certFile, KeyFile: keyFile}, seed)
	agentID := startLabAgent(t, l, l.Scanner.Namespace, srv, "https://"+listen.String(), enrollKey, fp)

	j, st := srv.wake(inventory.RoleOperator, map[string]any{"devices": []int64{dev}})
	if st != http.StatusAccepted {
		t.Fatalf("POST: %d", st)
	}
	if tg := target(j, sleeper.MAC.String()); tg.Route != "agent" || !strings.Contains(tg.Via, fmt.Sprintf("agent %d", agentID)) {
		t.Fatalf("route %+v, want the agent", tg)
	}
	select {
	case <-woke:
	case <-time.After(30 * time.Second):
		t.Fatal("the sleeper never got its packet")
	}
	done := srv.waitJob(j.ID, 90*time.Second)
	tg := target(done, sleeper.MAC.String())
	if tg.Status != "confirmed" || tg.ConfirmedBy != "agent arp" || tg.TookS <= 0 || tg.TookS > 20 {
		t.Errorf("target %+v: want confirmed by the agent's ARP probe, with the time it took", tg)
	}
	// The server really cannot reach the machine, now awake.
	if out, err := l.Exec(context.Background(), l.Router.Namespace, "ping", "-c", "1", "-W", "1", sleeper.IP.String()); err == nil {
		t.Errorf("the server's namespace reaches the sleeper, the test proves nothing:\n%s", out)
	}
	t.Logf("confirmed by %s after %.1fs", tg.ConfirmedBy, tg.TookS)
}
