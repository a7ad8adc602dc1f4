package discover_test

import (
	"context"
	"errors"
	"github.com/lanscout/lanscout/internal/tcptest"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/discover"
)

// TestSweepLoopbackTCP probes 127.0.0.1-3 on a port only 127.0.0.1
// listens on: the other two refuse, which proves them alive too.
func TestSweepLoopbackTCP(t *testing.T) {
	port := tcptest.Listen(t)
	targets, err := discover.ParseTargets([]string{"127.0.0.1-3"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var found []netip.Addr
	res, err := discover.Sweep(ctx, targets, discover.Options{
		Method: discover.MethodTCP, TCPPorts: []uint16{port}, NoDNS: true,
		Found: func(h discover.Host) { found = append(found, h.IP) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hosts) != 3 {
		t.Fatalf("found %d hosts, want 3: %+v", len(res.Hosts), res.Hosts)
	}
	by := "tcp/" + strconv.Itoa(int(port))
	for i, h := range res.Hosts {
		if want := netip.AddrFrom4([4]byte{127, 0, 0, byte(i + 1)}); h.IP != want {
			t.Errorf("host %d is %s, want %s", i, h.IP, want)
		}
		if !slices.Equal(h.FoundBy, []string{by}) {
			t.Errorf("%s FoundBy = %v, want [%s]", h.IP, h.FoundBy, by)
		}
		wantOpen := []uint16(nil)
		if i == 0 {
			wantOpen = []uint16{port}
		}
		if !slices.Equal(h.OpenPorts, wantOpen) {
			t.Errorf("%s OpenPorts = %v, want %v", h.IP, h.OpenPorts, wantOpen)
		}
	}
	if len(found) != 3 {
		t.Errorf("Found called %d times, want 3", len(found))
	}
	if res.Method != discover.MethodTCP || res.Stats.Sent != 3 || res.Stats.Passes != 1 {
		t.Errorf("method %s, stats %+v; want tcp, 3 sent in 1 pass", res.Method, res.Stats)
	}
}

func TestSweepLoopbackICMP(t *testing.T) {
	targets, err := discover.ParseTargets([]string{"127.0.0.1,127.0.0.2", "127.0.0.3/32"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := discover.Sweep(ctx, targets, discover.Options{Method: discover.MethodICMP, NoDNS: true})
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skipf("no raw or ping socket here: %v", err)
		}
		t.Fatal(err)
	}
	if len(res.Hosts) != 3 {
		t.Fatalf("found %d hosts, want 3: %+v", len(res.Hosts), res.Hosts)
	}
	for _, h := range res.Hosts {
		if !slices.Equal(h.FoundBy, []string{"icmp"}) || h.RTT <= 0 {
			t.Errorf("%s: FoundBy %v RTT %v, want icmp and an RTT", h.IP, h.FoundBy, h.RTT)
		}
	}
}

// TestSweepLoopbackAuto: loopback is attached but not Ethernet, so auto
// sweeps it with ICMP and TCP together, and a host that answered both
// lists both.
func TestSweepLoopbackAuto(t *testing.T) {
	port := tcptest.Listen(t)
	targets, _ := discover.ParseTargets([]string{"127.0.0.1"})
	var last discover.Progress
	res, err := discover.Sweep(t.Context(), targets, discover.Options{
		TCPPorts: []uint16{port}, NoDNS: true,
		Progress: func(p discover.Progress) { last = p },
	})
	if err != nil {
		t.Fatal(err)
	}
	by := []string{"icmp", "tcp/" + strconv.Itoa(int(port))}
	if strings.Contains(strings.Join(res.Warnings, " "), "TCP only") {
		by = by[1:] // no ICMP socket here
	}
	if res.Method != discover.MethodAuto || len(res.Hosts) != 1 || !slices.Equal(res.Hosts[0].FoundBy, by) {
		t.Fatalf("method %s, hosts %+v; want auto and 127.0.0.1 found by %v", res.Method, res.Hosts, by)
	}
	if last.Total != 1 || last.Sent != 1 || last.Found != 1 || last.Pass != 1 {
		t.Errorf("last progress %+v, want 1 of 1 sent, 1 found, pass 1", last)
	}
}
