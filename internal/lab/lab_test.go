package lab_test

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
)

// TestLab builds a lab with every feature, checks each from the scanner's
// namespace with the system's own tools, and checks that Close removes it.
func TestLab(t *testing.T) {
	labtest.Skip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := lab.New(ctx, lab.Config{
		Hosts:          20,
		SourceRouting:  true,
		AnyIP:          true,
		Conflict:       true,
		ProxyARP:       4,
		GratuitousOnly: true,
		Routed:         &lab.RoutedConfig{},
	})
	if err != nil {
		t.Fatalf("build lab: %v", err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			l.Close()
		}
	})
	if len(l.Hosts) != 20 || len(l.Scanner.Interface) > 15 {
		t.Fatalf("lab: %d hosts, scanner interface %q", len(l.Hosts), l.Scanner.Interface)
	}

	ping := func(ip netip.Addr) error {
		_, err := l.Exec(ctx, l.Scanner.Namespace, "ping", "-c", "1", "-W", "1", ip.String())
		return err
	}
	for _, ip := range []netip.Addr{
		l.Hosts[0].IP, l.Hosts[19].IP,
		l.Responder.Range.Addr().Next(), l.Responder.Addr.Addr(),
		l.ProxyARP.IPs[3],
		l.Router.LAN.Addr.Addr(), l.Router.ICMPHosts[0],
	} {
		if err := ping(ip); err != nil {
			t.Errorf("ping %s from the scanner: %v", ip, err)
		}
	}
	if err := ping(l.Router.SilentHosts[0]); err == nil {
		t.Errorf("ping %s (drops ICMP) answered", l.Router.SilentHosts[0])
	}
	if err := ping(l.Quiet.Addr.Addr()); err == nil {
		t.Errorf("ping %s (never answers ARP) answered", l.Quiet.Addr.Addr())
	}

	// The kernel's neighbour table now holds every host's MAC.
	out, err := l.Exec(ctx, l.Scanner.Namespace, "ip", "neigh", "show", l.Hosts[19].IP.String())
	if err != nil || !strings.Contains(string(out), l.Hosts[19].MAC.String()) {
		t.Errorf("neighbour %s: got %q (%v), want MAC %s", l.Hosts[19].IP, out, err, l.Hosts[19].MAC)
	}

	if _, err := os.Stat("/usr/sbin/arp-scan"); err == nil {
		out, err := l.Exec(ctx, l.Scanner.Namespace, "arp-scan", "-I", l.Scanner.Interface,
			l.Conflict.IP.String(), l.ProxyARP.IPs[0].String(), l.ProxyARP.IPs[1].String())
		if err != nil {
			t.Fatalf("arp-scan: %v", err)
		}
		for _, mac := range []string{
			l.Conflict.Endpoints[0].MAC.String(), l.Conflict.Endpoints[1].MAC.String(), l.ProxyARP.MAC.String(),
		} {
			if !strings.Contains(string(out), mac) {
				t.Errorf("arp-scan did not see MAC %s:\n%s", mac, out)
			}
		}
	}

	// Connect to the silent host's listener across the router, from the
	// scanner namespace, with bash's /dev/tcp.
	hp := netip.AddrPortFrom(l.Router.SilentHosts[0], l.Router.TCPPort)
	if _, err := l.Exec(ctx, l.Scanner.Namespace, "bash", "-c",
		"exec 3<>/dev/tcp/"+hp.Addr().String()+"/"+strconv.Itoa(int(hp.Port()))); err != nil {
		t.Errorf("connect to %s: %v", hp, err)
	}

	// Gratuitous ARP: watched with tcpdump on the scanner's interface.
	dump := l.Command(ctx, l.Scanner.Namespace, "tcpdump", "-l", "-n", "-e", "-c", "1", "-i", l.Scanner.Interface, "arp")
	var sb strings.Builder
	dump.Stdout = &sb
	p, err := l.Start(dump)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for done := false; !done && time.Now().Before(deadline); {
		if err := l.SendGratuitousARP(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.Done():
			done = true
		case <-time.After(200 * time.Millisecond):
		}
	}
	p.Stop()
	if !strings.Contains(sb.String(), l.Quiet.MAC.String()) {
		t.Errorf("no gratuitous ARP from %s seen: %q", l.Quiet.MAC, sb.String())
	}

	if err := l.SetLoss(ctx, 50); err != nil {
		t.Fatal(err)
	}
	// Failures are expected: half the frames are dropped.
	_, _ = l.Exec(ctx, l.Scanner.Namespace, "ping", "-c", "20", "-i", "0.01", "-w", "3", l.Hosts[0].IP.String())
	in, outd, err := l.Dropped(ctx)
	if err != nil || in+outd == 0 {
		t.Errorf("after 20 pings at 50%% loss: dropped %d in, %d out, %v", in, outd, err)
	}
	if err := l.SetLoss(ctx, 0); err != nil {
		t.Fatal(err)
	}

	namespaces := listNamespaces(t, l.ID)
	if len(namespaces) == 0 {
		t.Fatal("no namespaces found for the lab")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	closed = true
	if err := l.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if left := listNamespaces(t, l.ID); len(left) > 0 {
		t.Errorf("namespaces left after Close: %v", left)
	}
}

// TestConcurrentLabs builds labs side by side, as test binaries running in
// parallel do.
func TestConcurrentLabs(t *testing.T) {
	for i := 0; i < 3; i++ {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			l := labtest.New(t, lab.Config{Hosts: 5})
			if _, err := l.Exec(context.Background(), l.Scanner.Namespace,
				"ping", "-c", "1", "-W", "2", l.Hosts[4].IP.String()); err != nil {
				t.Errorf("ping: %v", err)
			}
		})
	}
}

func listNamespaces(t *testing.T, id string) []string {
	t.Helper()
	entries, _ := os.ReadDir("/run/netns")
	re := regexp.MustCompile("^lsl" + id + "-")
	var out []string
	for _, e := range entries {
		if re.MatchString(filepath.Base(e.Name())) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestLabScale builds the benchmark's lab: a full /24 of hosts and an AnyIP
// /17, checks the global limits are raised while it lives and restored
// after.
func TestLabScale(t *testing.T) {
	labtest.Skip(t)
	before, _ := os.ReadFile("/proc/sys/net/ipv4/neigh/default/gc_thresh3")
	start := time.Now()
	l, err := lab.New(context.Background(), lab.Config{AnyIP: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d hosts in %v", len(l.Hosts), time.Since(start))
	during, _ := os.ReadFile("/proc/sys/net/ipv4/neigh/default/gc_thresh3")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile("/proc/sys/net/ipv4/neigh/default/gc_thresh3")
	if string(before) != string(after) || string(during) == string(before) {
		t.Errorf("gc_thresh3 before %q, during %q, after %q", before, during, after)
	}
}

// TestOrphanedLabRemoved kills a process that holds a lab, as a test
// binary hitting its -timeout is killed, and checks that the next lab
// removes what it left behind.
func TestOrphanedLabRemoved(t *testing.T) {
	if os.Getenv("LANSCOUT_LAB_ORPHAN") == "1" {
		l, err := lab.New(context.Background(), lab.Config{Hosts: -1})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("LAB %s\n", l.ID)
		select {} // until killed
	}
	labtest.Skip(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestOrphanedLabRemoved$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LANSCOUT_LAB_ORPHAN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var id string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "LAB "); ok {
			id = s
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if id == "" {
		t.Fatal("the child did not build its lab")
	}
	if len(listNamespaces(t, id)) == 0 {
		t.Fatalf("the killed child's lab %s left no namespaces: nothing to test", id)
	}
	labtest.New(t, lab.Config{Hosts: -1})
	if left := listNamespaces(t, id); len(left) > 0 {
		t.Errorf("namespaces of the dead lab %s still there: %v", id, left)
	}
}
