//go:build linux

package discover_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lanscout/lanscout/discover"
)

// segment is a throw-away Ethernet segment in network namespaces: a
// scanner, a bridge, and hosts with a veth (and a MAC) each.
type segment struct {
	scanner, sw, hosts string // namespace names
	prefix             netip.Prefix
	scannerIP          netip.Addr
	hostIPs            []netip.Addr
	hostMACs           map[netip.Addr]string
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func batch(t *testing.T, ns string, lines []string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"ip", "-batch", f}
	if ns != "" {
		args = []string{"ip", "-n", ns, "-batch", f}
	}
	run(t, args...)
}

// newSegment builds a segment with n hosts in 10.199.X.0/24, torn down
// at cleanup. It skips unless run as root with iproute2.
func newSegment(t *testing.T, n int) *segment {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: building network namespaces needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("skipping: no ip command: %v", err)
	}
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	id := "lsd-" + hex.EncodeToString(rnd[:])
	s := &segment{scanner: id + "-s", sw: id + "-w", hosts: id + "-h", hostMACs: map[netip.Addr]string{}}
	s.prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 199, rnd[0], 0}), 24)
	s.scannerIP = netip.AddrFrom4([4]byte{10, 199, rnd[0], 1})
	for _, ns := range []string{s.scanner, s.sw, s.hosts} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	run(t, "ip", "netns", "exec", s.hosts, "sysctl", "-q", "-w",
		"net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.default.arp_ignore=1",
		"net.ipv4.conf.all.arp_announce=2", "net.ipv4.conf.default.arp_announce=2",
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")

	root := []string{fmt.Sprintf("link add s0 netns %s type veth peer name sp netns %s", s.scanner, s.sw)}
	var sw, hosts []string
	sw = append(sw, "link add br0 type bridge stp_state 0 mcast_snooping 0", "link set br0 up", "link set sp master br0", "link set sp up")
	for i := range n {
		ip := netip.AddrFrom4([4]byte{10, 199, rnd[0], byte(i + 2)})
		mac := fmt.Sprintf("00:00:0c:c7:%02x:%02x", rnd[0], i+2) // Cisco's OUI, to check vendors
		s.hostIPs = append(s.hostIPs, ip)
		s.hostMACs[ip] = mac
		root = append(root, fmt.Sprintf("link add h%d netns %s address %s type veth peer name hp%d netns %s", i, s.hosts, mac, i, s.sw))
		sw = append(sw, fmt.Sprintf("link set hp%d master br0", i), fmt.Sprintf("link set hp%d up", i))
		extra := ""
		if i > 0 {
			extra = " noprefixroute"
		}
		hosts = append(hosts, fmt.Sprintf("addr add %s/24 dev h%d%s", ip, i, extra), fmt.Sprintf("link set h%d up", i))
	}
	batch(t, "", root)
	batch(t, s.sw, sw)
	batch(t, s.hosts, hosts)
	batch(t, s.scanner, []string{fmt.Sprintf("addr add %s/24 dev s0", s.scannerIP), "link set s0 up"})
	// Bridge ports forward once the kernel's link watcher has seen their
	// carrier, up to a second later: wait until the far end answers.
	deadline := time.Now().Add(15 * time.Second)
	for _, ip := range []netip.Addr{s.hostIPs[0], s.hostIPs[len(s.hostIPs)-1]} {
		for exec.Command("ip", "netns", "exec", s.scanner, "ping", "-c", "1", "-W", "1", ip.String()).Run() != nil {
			if time.Now().After(deadline) {
				t.Fatalf("segment %s never came up: %s does not answer", s.prefix, ip)
			}
		}
	}
	return s
}

// inNetns runs fn on a goroutine whose OS thread has joined ns. The thread
// is never unlocked, so the runtime discards it afterwards.
func inNetns(ns string, fn func()) error {
	f, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		return err
	}
	defer f.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		fn()
		errc <- nil
	}()
	return <-errc
}

// TestNetnsARPSweep sweeps a /24 with 200 hosts on a bridged segment,
// from a thread locked into the scanner's namespace.
func TestNetnsARPSweep(t *testing.T) {
	seg := newSegment(t, 200)
	targets, err := discover.ParseTargets([]string{seg.prefix.String()})
	if err != nil {
		t.Fatal(err)
	}
	var (
		res    *discover.Result
		swErr  error
		mu     sync.Mutex
		found  int
		passes int
	)
	err = inNetns(seg.scanner, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, swErr = discover.Sweep(ctx, targets, discover.Options{
			NoDNS: true,
			Found: func(discover.Host) { mu.Lock(); found++; mu.Unlock() },
			Progress: func(p discover.Progress) {
				mu.Lock()
				passes = max(passes, p.Pass)
				mu.Unlock()
			},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if swErr != nil {
		t.Fatal(swErr)
	}
	t.Logf("swept %s: %d hosts in %v, method %s, stats %+v, warnings %q", seg.prefix, len(res.Hosts), res.Duration, res.Method, res.Stats, res.Warnings)
	if res.Method != discover.MethodARP {
		t.Errorf("auto resolved to %s on an attached Ethernet subnet, want arp", res.Method)
	}
	if res.Stats.Addresses != 254 {
		t.Errorf("%d addresses swept, want 254 (network and broadcast skipped)", res.Stats.Addresses)
	}
	got := map[netip.Addr]discover.Host{}
	for _, h := range res.Hosts {
		got[h.IP] = h
	}
	for _, ip := range seg.hostIPs {
		h, ok := got[ip]
		switch {
		case !ok:
			t.Errorf("host %s not found", ip)
		case h.MAC.String() != seg.hostMACs[ip]:
			t.Errorf("host %s: MAC %s, want %s", ip, h.MAC, seg.hostMACs[ip])
		case h.MACVendor != "Cisco Systems, Inc" || h.FoundBy[0] != "arp" || h.Interface != "s0" || h.RTT <= 0:
			t.Errorf("host %s: %+v", ip, h)
		}
	}
	if me, ok := got[seg.scannerIP]; !ok || me.FoundBy[0] != "local" {
		t.Errorf("the scanner's own address: %+v, want it listed as local", me)
	}
	if len(res.Hosts) != len(seg.hostIPs)+1 {
		t.Errorf("found %d hosts, want %d and the scanner", len(res.Hosts), len(seg.hostIPs))
	}
	if found != len(res.Hosts) {
		t.Errorf("Found called %d times for %d hosts", found, len(res.Hosts))
	}
	if len(res.Conflicts) > 0 || len(res.ProxyARP) > 0 {
		t.Errorf("conflicts %v, proxy ARP %v on a segment with neither", res.Conflicts, res.ProxyARP)
	}
}

// TestNetnsListen listens in the scanner's namespace while a host, its
// ARP cache flushed, pings the scanner and so asks for its MAC.
func TestNetnsListen(t *testing.T) {
	seg := newSegment(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hostIP := seg.hostIPs[0] // the others have no route of their own (noprefixroute)
	seen := make(chan discover.Host, 64)
	done := make(chan error, 1)
	go func() {
		var lerr error
		if err := inNetns(seg.scanner, func() {
			lerr = discover.Listen(ctx, "s0", nil, func(h discover.Host) {
				select {
				case seen <- h:
				default:
				}
			})
		}); err != nil {
			lerr = err
		}
		done <- lerr
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen: %v", err)
		}
	}()
	// Ping until the listener reports the host: the first ping may go
	// out before its socket is open.
	for ctx.Err() == nil {
		_ = exec.Command("ip", "-n", seg.hosts, "neigh", "flush", "all").Run()
		_ = exec.CommandContext(ctx, "ip", "netns", "exec", seg.hosts, "ping", "-c", "1", "-W", "1", "-I", hostIP.String(), seg.scannerIP.String()).Run()
		timeout := time.After(500 * time.Millisecond)
	wait:
		for {
			select {
			case h := <-seen:
				if h.IP != hostIP {
					continue
				}
				if h.MAC.String() != seg.hostMACs[hostIP] || h.FoundBy[0] != "passive-arp" || h.Interface != "s0" {
					t.Errorf("passive sighting %+v, want %s with %s by passive-arp on s0", h, hostIP, seg.hostMACs[hostIP])
				}
				return
			case err := <-done:
				done <- err
				t.Fatalf("Listen ended early: %v", err)
			case <-timeout:
				break wait
			}
		}
	}
	t.Fatalf("host %s never reported: %v", hostIP, ctx.Err())
}

// dropNetRaw removes CAP_NET_RAW from the calling thread's effective set.
// Sockets are created by the thread that asks, so this makes the rest of
// the thread's sweep behave as an unprivileged process would.
func dropNetRaw() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[0].Effective &^= 1 << unix.CAP_NET_RAW
	return unix.Capset(&hdr, &data[0])
}

// TestNetnsWithoutCapNetRaw: without CAP_NET_RAW (and with ping sockets
// disabled, the default in a new namespace) arp, icmp and Listen fail
// with a PrivilegeError, and auto falls back to TCP connects, which find
// the hosts by their RSTs.
func TestNetnsWithoutCapNetRaw(t *testing.T) {
	seg := newSegment(t, 10)
	ts, err := discover.ParseTargets([]string{netip.PrefixFrom(seg.scannerIP, 28).Masked().String()})
	if err != nil {
		t.Fatal(err)
	}
	var (
		arpErr, icmpErr, listenErr, autoErr error
		auto                                *discover.Result
	)
	err = inNetns(seg.scanner, func() {
		if err := dropNetRaw(); err != nil {
			arpErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, arpErr = discover.Sweep(ctx, ts, discover.Options{Method: discover.MethodARP, NoDNS: true})
		_, icmpErr = discover.Sweep(ctx, ts, discover.Options{Method: discover.MethodICMP, NoDNS: true})
		listenErr = discover.Listen(ctx, "s0", nil, func(discover.Host) {})
		auto, autoErr = discover.Sweep(ctx, ts, discover.Options{NoDNS: true, TCPPorts: []uint16{22}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]error{"arp": arpErr, "icmp": icmpErr, "listen": listenErr} {
		var pe *discover.PrivilegeError
		if !errors.As(e, &pe) || !errors.Is(e, os.ErrPermission) || !strings.Contains(e.Error(), "needs CAP_NET_RAW") {
			t.Errorf("%s without CAP_NET_RAW: %v, want a PrivilegeError", name, e)
		}
	}
	if !strings.Contains(fmt.Sprint(icmpErr), "ping_group_range") {
		t.Errorf("icmp error %v does not mention ping_group_range", icmpErr)
	}
	if autoErr != nil {
		t.Fatalf("auto without CAP_NET_RAW: %v", autoErr)
	}
	t.Logf("auto without CAP_NET_RAW: %d hosts, warnings %q", len(auto.Hosts), auto.Warnings)
	if len(auto.Hosts) != 10+1 { // the hosts and the scanner itself, which refuses too
		t.Errorf("auto found %d hosts, want 11", len(auto.Hosts))
	}
	for _, h := range auto.Hosts {
		if !slices.Equal(h.FoundBy, []string{"tcp/22"}) || h.MAC != nil {
			t.Errorf("%s: FoundBy %v MAC %v, want tcp/22 and no MAC", h.IP, h.FoundBy, h.MAC)
		}
	}
	if w := strings.Join(auto.Warnings, "\n"); !strings.Contains(w, "with ICMP and TCP instead") || !strings.Contains(w, "with TCP only") {
		t.Errorf("warnings %q do not explain the fallbacks", auto.Warnings)
	}
}
