package wol_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
	"github.com/lanscout/lanscout/internal/woltest"
	"github.com/lanscout/lanscout/wol"
)

// TestLabSend sends from the lab's scanner, as the server or an agent on
// that segment would, and checks what a sink on a lab host receives: raw
// frames to the broadcast MAC with EtherType 0x0842, and UDP datagrams to
// the LAN's directed broadcast on each port, each carrying the right MAC.
func TestLabSend(t *testing.T) {
	l := labtest.New(t, lab.Config{Hosts: 2})
	host := l.Hosts[0]
	sink := woltest.Listen(t, l, l.HostsNS, host.Interface, 9, 7, 40009)
	macs, err := wol.ParseMACs([]string{"02:00:5e:10:00:01", "02-00-5E-10-00-02"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"02:00:5e:10:00:01", "02:00:5e:10:00:02"}

	var route wol.Route
	err = l.Do(l.Scanner.Namespace, func() error {
		ifaces, err := wol.LocalInterfaces()
		if err != nil {
			return err
		}
		route, err = wol.FindRoute(ifaces, netip.PrefixFrom(host.IP, 24))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	bcast, _ := wol.DirectedBroadcast(l.Prefix)
	if route.Interface.Name != l.Scanner.Interface || route.Broadcast != bcast {
		t.Fatalf("route %v, want %s and %s", route, l.Scanner.Interface, bcast)
	}

	t.Run("raw", func(t *testing.T) {
		var res []wol.Result
		send := func() error {
			return l.Do(l.Scanner.Namespace, func() error {
				s := wol.Sender{Password: []byte{1, 2, 3, 4, 5, 6}}
				var err error
				res, err = s.Send(t.Context(), route, macs)
				return err
			})
		}
		ps, err := sink.SendUntil(10*time.Second, send, func(ps []woltest.Packet) bool { return woltest.HasAll(ps, "raw", want...) })
		for _, r := range res {
			if r.Err != nil || r.Method != wol.MethodRaw {
				t.Errorf("%s: %v by %q, want sent raw", r.MAC, r.Err, r.Method)
			}
		}
		if err != nil {
			t.Fatalf("%v; received %+v", err, ps)
		}
		for _, p := range ps {
			if p.Method == "raw" && (p.To != "ff:ff:ff:ff:ff:ff" || p.From != l.Scanner.MAC.String() || string(p.Password) != "\x01\x02\x03\x04\x05\x06") {
				t.Errorf("raw packet %+v: want to ff:ff:ff:ff:ff:ff from %s with the password", p, l.Scanner.MAC)
			}
		}
	})

	t.Run("udp", func(t *testing.T) {
		var res []wol.Result
		send := func() error {
			return l.Do(l.Scanner.Namespace, func() error {
				s := wol.Sender{Method: wol.MethodUDP, Ports: []int{9, 7, 40009}}
				var err error
				res, err = s.Send(t.Context(), route, macs)
				return err
			})
		}
		ps, err := sink.SendUntil(10*time.Second, send, func(ps []woltest.Packet) bool {
			for _, port := range []string{"9", "7", "40009"} {
				for _, m := range want {
					found := false
					for _, p := range ps {
						found = found || (p.Method == "udp" && p.To == port && p.MAC == m)
					}
					if !found {
						return false
					}
				}
			}
			return true
		})
		if err != nil {
			t.Fatalf("%v; received %+v", err, ps)
		}
		for _, r := range res {
			if r.Err != nil || r.Method != wol.MethodUDP {
				t.Errorf("%s: %v by %q, want sent udp", r.MAC, r.Err, r.Method)
			}
		}
	})
	if bad := sink.Bad(); len(bad) > 0 {
		t.Errorf("malformed packets: %v", bad)
	}
}
