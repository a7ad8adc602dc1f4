package discover_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
)

// routedLab has a router between the scanner and a /24 holding hosts that
// answer ping and hosts that drop it but listen on TCP port 22.
func routedLab(t *testing.T) *lab.Lab {
	t.Helper()
	return labtest.New(t, lab.Config{
		Hosts:  -1,
		Routed: &lab.RoutedConfig{ICMPHosts: 3, SilentHosts: 2, TCPPort: 22},
	})
}

// checkRemote fails unless the sweep found every address of want within
// the remote subnet and nothing else there but optional ones: an address
// nobody owns (the router answers for it with host unreachable) must not
// count.
func checkRemote(t *testing.T, l *lab.Lab, res *labResult, want, optional []netip.Addr) {
	t.Helper()
	found := res.byIP()
	for ip, h := range found {
		if l.Router.Remote.Contains(ip) && !slices.Contains(want, ip) && !slices.Contains(optional, ip) {
			t.Errorf("found %s (by %v), which no remote host owns or this method should not find", ip, h.FoundBy)
		}
	}
	for _, ip := range want {
		if _, ok := found[ip]; !ok {
			t.Errorf("remote host %s not found", ip)
		}
	}
}

// TestLabICMPAcrossRouter pings a routed /24: the hosts that answer ICMP
// are found, the ones that drop it are not.
func TestLabICMPAcrossRouter(t *testing.T) {
	l := routedLab(t)
	res := runSweep(t, l, helperRequest{Targets: []string{l.Router.Remote.String()}, Method: "icmp"})
	// The router's own leg in the subnet answers ping too.
	want := append([]netip.Addr{l.Router.Gateway}, l.Router.ICMPHosts...)
	checkRemote(t, l, res, want, nil)
	for _, ip := range l.Router.ICMPHosts {
		if h, ok := res.byIP()[ip]; ok && !slices.Contains(h.FoundBy, "icmp") {
			t.Errorf("%s found by %v, want icmp", ip, h.FoundBy)
		}
	}
}

// TestLabTCPAcrossRouter connects to a routed /24: the hosts that drop
// ICMP but listen on a TCP port are found. The hosts that answer ping have
// no listener; a refused connection also proves them up, so they may be
// found too.
func TestLabTCPAcrossRouter(t *testing.T) {
	l := routedLab(t)
	res := runSweep(t, l, helperRequest{Targets: []string{l.Router.Remote.String()}, Method: "tcp"})
	optional := append([]netip.Addr{l.Router.Gateway}, l.Router.ICMPHosts...)
	checkRemote(t, l, res, l.Router.SilentHosts, optional)
	for _, ip := range l.Router.SilentHosts {
		h, ok := res.byIP()[ip]
		if !ok {
			continue
		}
		if !slices.ContainsFunc(h.FoundBy, func(s string) bool { return strings.HasPrefix(s, "tcp") }) {
			t.Errorf("%s found by %v, want tcp", ip, h.FoundBy)
		}
	}
	for _, ip := range l.Router.ICMPHosts {
		if _, ok := res.byIP()[ip]; !ok {
			t.Logf("%s (no listener, refuses connections) not reported by the TCP sweep", ip)
		}
	}
}
