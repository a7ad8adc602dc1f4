package discover_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
)

// hostsPrefix is the /24 holding the lab's hosts.
func hostsPrefix(l *lab.Lab) netip.Prefix {
	return netip.PrefixFrom(l.Hosts[0].IP, 24).Masked()
}

// checkAllHosts fails unless every lab host was found with its own MAC and
// nothing else was found in the hosts' /24.
func checkAllHosts(t *testing.T, l *lab.Lab, res *labResult) {
	t.Helper()
	found := res.byIP()
	missing := 0
	for _, h := range l.Hosts {
		got, ok := found[h.IP]
		switch {
		case !ok:
			missing++
			if missing <= 10 {
				t.Errorf("host %s (%s) not found", h.IP, h.MAC)
			}
		case got.MAC != h.MAC.String():
			t.Errorf("host %s: MAC %q, want %s", h.IP, got.MAC, h.MAC)
		}
		delete(found, h.IP)
	}
	if missing > 0 {
		t.Errorf("%d of %d hosts not found", missing, len(l.Hosts))
	}
	for ip, h := range found {
		if hostsPrefix(l).Contains(ip) {
			t.Errorf("found %s (%s), which is not a lab host", ip, h.MAC)
		}
	}
}

// TestLabARPSweep sweeps a /24 of 254 hosts, each with its own MAC.
func TestLabARPSweep(t *testing.T) {
	l := labtest.New(t, lab.Config{})
	res := runSweep(t, l, helperRequest{Targets: []string{hostsPrefix(l).String()}, Method: "arp"})
	checkAllHosts(t, l, res)
	if len(res.Conflicts) > 0 || len(res.ProxyARP) > 0 {
		t.Errorf("conflicts %v, proxy ARP %v on a LAN with neither", res.Conflicts, res.ProxyARP)
	}
}

// TestLabARPSweepUnderLoss drops 1% of the frames each way on the
// scanner's port: retries must still find every host.
func TestLabARPSweepUnderLoss(t *testing.T) {
	l := labtest.New(t, lab.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := l.SetLoss(ctx, 1); err != nil {
		t.Fatal(err)
	}
	res := runSweep(t, l, helperRequest{Targets: []string{hostsPrefix(l).String()}, Method: "arp"})
	if in, out, err := l.Dropped(ctx); err == nil {
		t.Logf("dropped %d frames from the scanner, %d to it", in, out)
	}
	checkAllHosts(t, l, res)
}

// TestLabARPConflictAndProxyARP puts an address owned by two MACs and one
// MAC answering for 20 addresses on the LAN: more than the 16 above which
// one MAC is reported whatever the sweep's size.
func TestLabARPConflictAndProxyARP(t *testing.T) {
	l := labtest.New(t, lab.Config{Hosts: -1, Conflict: true, ProxyARP: 20})
	target := netip.PrefixFrom(l.Scanner.Addr.Addr(), 24).Masked()
	res := runSweep(t, l, helperRequest{Targets: []string{target.String()}, Method: "arp"})

	c := l.Conflict
	var gotConflict bool
	for _, rc := range res.Conflicts {
		if rc.IP != c.IP {
			t.Errorf("conflict reported for %s %v; the only conflict is %s", rc.IP, rc.MACs, c.IP)
			continue
		}
		gotConflict = true
		for _, e := range c.Endpoints {
			if !slices.Contains(rc.MACs, e.MAC.String()) {
				t.Errorf("conflict on %s: MACs %v, missing %s", c.IP, rc.MACs, e.MAC)
			}
		}
	}
	if !gotConflict {
		t.Errorf("conflict on %s (%s, %s) not reported; conflicts: %+v",
			c.IP, c.Endpoints[0].MAC, c.Endpoints[1].MAC, res.Conflicts)
	}
	if h, ok := res.byIP()[c.IP]; !ok {
		t.Errorf("conflicting address %s not among the hosts", c.IP)
	} else if h.MAC != c.Endpoints[0].MAC.String() && h.MAC != c.Endpoints[1].MAC.String() {
		t.Errorf("conflicting address %s: MAC %s is neither owner's", c.IP, h.MAC)
	}

	p := l.ProxyARP
	var gotProxy bool
	for _, rp := range res.ProxyARP {
		if !strings.EqualFold(rp.MAC, p.MAC.String()) {
			continue
		}
		gotProxy = true
		for _, ip := range p.IPs {
			if !slices.Contains(rp.IPs, ip) {
				t.Errorf("proxy ARP by %s: addresses %v, missing %s", p.MAC, rp.IPs, ip)
			}
		}
	}
	if !gotProxy {
		t.Errorf("proxy ARP by %s for %v not reported; proxy ARP: %+v", p.MAC, p.IPs, res.ProxyARP)
	}
	for _, ip := range p.IPs {
		if h, ok := res.byIP()[ip]; !ok || h.MAC != p.MAC.String() {
			t.Errorf("proxy-ARP address %s: found %v as %q, want %s", ip, ok, h.MAC, p.MAC)
		}
	}
}

// TestLabPassiveGratuitousARP: a host that never answers ARP is invisible
// to a sweep, but a passive listener learns it from its gratuitous ARP.
func TestLabPassiveGratuitousARP(t *testing.T) {
	l := labtest.New(t, lab.Config{Hosts: -1, GratuitousOnly: true})
	q := l.Quiet

	res := runSweep(t, l, helperRequest{Targets: []string{q.Addr.Addr().String()}, Method: "arp"})
	if _, ok := res.byIP()[q.Addr.Addr()]; ok {
		t.Fatalf("%s answered a sweep; the lab host should never answer ARP", q.Addr.Addr())
	}

	ls := startListener(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The listener's socket opens at some point after the process starts:
	// announce until it is heard rather than guess when it is ready.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case h, ok := <-ls.found:
			if !ok {
				t.Fatalf("listener exited before seeing %s\nstderr:\n%s", q.Addr.Addr(), tail(ls.stderr.String(), 40))
			}
			if h.IP != q.Addr.Addr() {
				t.Logf("listener saw %s (%s)", h.IP, h.MAC)
				continue
			}
			if h.MAC != q.MAC.String() {
				t.Errorf("listener saw %s with MAC %s, want %s", h.IP, h.MAC, q.MAC)
			}
			if !slices.ContainsFunc(h.FoundBy, func(s string) bool { return strings.HasPrefix(s, "passive") }) {
				t.Errorf("listener saw %s found by %v, want a passive method", h.IP, h.FoundBy)
			}
			return
		case <-tick.C:
			if err := l.SendGratuitousARP(ctx); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatalf("listener did not report %s (%s) after its gratuitous ARPs\nstderr:\n%s",
				q.Addr.Addr(), q.MAC, tail(ls.stderr.String(), 40))
		}
	}
}
