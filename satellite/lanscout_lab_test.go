package satellite_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/cli"
	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
	"github.com/lanscout/lanscout/internal/sshtest"
	"github.com/lanscout/lanscout/internal/woltest"
	"github.com/lanscout/lanscout/satellite"
	"github.com/lanscout/lanscout/wol"
)

// TestLanscoutHelperProcess is the lanscout command on the satellite: its
// sshd runs this test binary through sshtest.SelfCommand.
func TestLanscoutHelperProcess(t *testing.T) {
	args, ok := sshtest.HelperArgs()
	if !ok {
		t.Skip("helper: the satellite's sshd runs this binary as lanscout")
	}
	os.Exit(cli.Run(context.Background(), args, os.Stdin, os.Stdout, os.Stderr))
}

// otherInterface returns the name of the interface of ns that is neither
// loopback nor skip.
func otherInterface(t *testing.T, l *lab.Lab, ns, skip string) string {
	t.Helper()
	var name string
	err := l.Do(ns, func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, i := range ifs {
			if i.Flags&net.FlagLoopback == 0 && i.Name != skip {
				name = i.Name
			}
		}
		return nil
	})
	if err != nil || name == "" {
		t.Fatalf("interface of %s: %q %v", ns, name, err)
	}
	return name
}

// TestLabSatelliteLanscoutWake: a satellite with lanscout installed wakes
// with `lanscout wake --iface {iface} {macs}`: raw Ethernet frames on its
// own segment, which a raw sink on the router's leg there receives.
func TestLabSatelliteLanscoutWake(t *testing.T) {
	sshtest.Skip(t)
	lanscoutPath, env := sshtest.SelfCommand(t, "lanscout", "TestLanscoutHelperProcess")
	l := labtest.New(t, lab.Config{Hosts: -1, Routed: &lab.RoutedConfig{ICMPHosts: 1, SilentHosts: -1}})
	r := l.Router
	sshd := sshtest.Start(t, sshtest.Options{Lab: l, Namespace: r.Namespace, Listen: netip.AddrPortFrom(r.ICMPHosts[0], 22),
		HostKeyTypes: []string{"ed25519"},
		Env:          env})
	farIface := otherInterface(t, l, r.Namespace, "")
	rtrLeg := otherInterface(t, l, r.LAN.Namespace, r.LAN.Interface)
	sink := woltest.Listen(t, l, r.LAN.Namespace, rtrLeg)

	cfg := satellite.Config{Name: "branch", Address: r.ICMPHosts[0].String(), User: sshd.User, Signer: sshd.Client,
		HostKey: sshd.HostKeys["ed25519"], Dial: sshtest.DialFrom(l, l.Scanner.Namespace),
		WakeCommand: "lanscout wake --iface {iface} --method raw {macs}"}
	probe, err := satellite.Probe(t.Context(), cfg)
	if err != nil || !probe.LoggedIn || probe.LanscoutPath != lanscoutPath || probe.WakeProgramPath != probe.LanscoutPath {
		t.Fatalf("probe: %+v %v\n%s", probe, err, sshd.Log())
	}
	want := []string{"02:00:5e:60:00:01", "02:00:5e:60:00:02"}
	var res []satellite.Result
	ps, err := sink.SendUntil(20*time.Second, func() error {
		var err error
		res, err = satellite.Wake(t.Context(), cfg, netip.Addr{}, farIface, macs(t, want...))
		return err
	}, func(ps []woltest.Packet) bool { return woltest.HasAll(ps, "raw", want...) })
	if err != nil {
		t.Fatalf("%v: %+v\n%s", err, ps, sshd.Log())
	}
	for _, r := range res {
		if r.Err != nil {
			t.Errorf("%s: %v", r.MAC, r.Err)
		}
	}
	for _, p := range ps {
		if p.To != "ff:ff:ff:ff:ff:ff" {
			t.Errorf("frame %+v not to the broadcast MAC", p)
		}
	}
	// UDP with a SecureOn password and a configured port: lanscout
	// wake carries both (Debian's wakeonlan has no password option).
	udpSink := woltest.Listen(t, l, r.LAN.Namespace, "", satPort)
	bcast, _ := wol.DirectedBroadcast(r.Remote)
	pwCfg := cfg
	pwCfg.WakeCommand = satellite.LanscoutPasswordWakeCommand
	pwCfg.WakePorts = []int{satPort}
	pwCfg.WakePassword = []byte{0xaa, 0xbb, 0xcc, 0x01, 0x02, 0x03}
	pwMAC := "02:00:5e:60:00:04"
	ps, err = udpSink.SendUntil(20*time.Second, func() error {
		var err error
		if res, err = satellite.Wake(t.Context(), pwCfg, bcast, "", macs(t, pwMAC)); err == nil && res[0].Err != nil {
			err = res[0].Err
		}
		return err
	}, func(ps []woltest.Packet) bool { return woltest.Has(ps, "udp", pwMAC) })
	if err != nil {
		t.Fatalf("password wake: %v: %+v\n%s", err, ps, sshd.Log())
	}
	for _, p := range ps {
		if p.MAC == pwMAC && (!bytes.Equal(p.Password, pwCfg.WakePassword) || p.To != fmt.Sprint(satPort)) {
			t.Errorf("packet %+v: want password %x on port %d", p, pwCfg.WakePassword, satPort)
		}
	}

	// A bad interface is refused by lanscout there: the MACs fail with its message.
	res, err = satellite.Wake(t.Context(), cfg, netip.Addr{}, "nosuch0", macs(t, "02:00:5e:60:00:03"))
	if err != nil || len(res) != 1 || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "nosuch0") {
		t.Errorf("bad interface: %+v %v", res, err)
	}
}
