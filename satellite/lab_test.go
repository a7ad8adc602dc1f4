package satellite_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
	"github.com/lanscout/lanscout/internal/sshtest"
	"github.com/lanscout/lanscout/internal/woltest"
	"github.com/lanscout/lanscout/satellite"
	"github.com/lanscout/lanscout/wol"
)

// satLab is a routed lab: the "server" is the lab's scanner; the satellite
// is a real sshd (with Debian's wakeonlan) on the remote subnet, which the
// server reaches only through the router, so no broadcast of the server's
// reaches it. The sink listens on the router's leg in the remote subnet,
// on port 9 and on satPort, a port no program sends to by default.
type satLab struct {
	l      *lab.Lab
	sshd   *sshtest.Server
	sink   *woltest.Sink
	bcast  netip.Addr
	server func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newSatLab(t *testing.T) *satLab {
	sshtest.Skip(t)
	l := labtest.New(t, lab.Config{Hosts: -1, Routed: &lab.RoutedConfig{ICMPHosts: 2, SilentHosts: -1}})
	r := l.Router
	sshd := sshtest.Start(t, sshtest.Options{Lab: l, Namespace: r.Namespace, Listen: netip.AddrPortFrom(r.ICMPHosts[0], 22)})
	sink := woltest.Listen(t, l, l.Router.LAN.Namespace, "", 9, satPort)
	bcast, _ := wol.DirectedBroadcast(r.Remote)
	return &satLab{l: l, sshd: sshd, sink: sink, bcast: bcast, server: sshtest.DialFrom(l, l.Scanner.Namespace)}
}

// satPort is the configured wake port of the lab tests.
const satPort = 4009

func (sl *satLab) config(hostKey ssh.PublicKey) satellite.Config {
	return satellite.Config{Name: "branch", Address: sl.sshd.Addr.Addr().String(), Port: int(sl.sshd.Addr.Port()),
		User: sl.sshd.User, Signer: sl.sshd.Client, HostKey: hostKey, Dial: sl.server,
		ConnectTimeout: 5 * time.Second, CommandTimeout: 20 * time.Second}
}

func macs(t *testing.T, ss ...string) []net.HardwareAddr {
	t.Helper()
	hw, err := wol.ParseMACs(ss)
	if err != nil {
		t.Fatal(err)
	}
	return hw
}

func TestLabSatellite(t *testing.T) {
	sl := newSatLab(t)
	ctx := t.Context()
	ecdsa := sl.sshd.HostKeys["ecdsa"]

	t.Run("probe shows the key without trusting it", func(t *testing.T) {
		res, err := satellite.Probe(ctx, sl.config(nil))
		if err != nil {
			t.Fatal(err)
		}
		k, err := satellite.ParseHostKey(res.HostKey)
		if err != nil {
			t.Fatal(err)
		}
		want := sl.sshd.HostKeys[typeName(k)]
		if want == nil || res.Fingerprint != ssh.FingerprintSHA256(want) || res.Trusted || res.Changed || res.LoggedIn {
			t.Errorf("probe = %+v; want an untrusted key of the server's, no login", res)
		}
		if !strings.Contains(sl.sshd.Log(), "Connection closed by") && strings.Contains(sl.sshd.Log(), "Accepted publickey") {
			t.Errorf("the probe logged in to an untrusted host:\n%s", sl.sshd.Log())
		}
	})

	t.Run("dial refuses an unknown host", func(t *testing.T) {
		_, err := satellite.Wake(ctx, sl.config(nil), sl.bcast, "", macs(t, "02:00:5e:30:00:01"))
		if !errors.Is(err, satellite.ErrHostKeyUnknown) {
			t.Errorf("err = %v, want ErrHostKeyUnknown", err)
		}
	})

	t.Run("probe with the trusted key logs in and finds wakeonlan", func(t *testing.T) {
		// ecdsa is trusted while the server also has (and may prefer)
		// ed25519: the client must ask for the trusted type.
		res, err := satellite.Probe(ctx, sl.config(ecdsa))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Trusted || !res.LoggedIn || res.WakeProgram != "wakeonlan" || res.WakeProgramPath != "/usr/bin/wakeonlan" {
			t.Errorf("probe = %+v", res)
		}
	})

	t.Run("wake through the satellite", func(t *testing.T) {
		cfg := sl.config(ecdsa)
		cfg.MaxBatch = 2 // three MACs: two commands
		want := []string{"02:00:5e:30:00:01", "02:00:5e:30:00:02", "02:00:5e:30:00:03"}
		res, err := satellite.Wake(ctx, cfg, sl.bcast, "", macs(t, want...))
		if err != nil {
			t.Fatalf("%v\nsshd log:\n%s", err, sl.sshd.Log())
		}
		if len(res) != 3 {
			t.Fatalf("%d results", len(res))
		}
		for i, r := range res {
			if r.Err != nil || r.MAC.String() != want[i] {
				t.Errorf("result %d: %s %v", i, r.MAC, r.Err)
			}
		}
		ps, err := sl.sink.Wait(10*time.Second, func(ps []woltest.Packet) bool { return woltest.HasAll(ps, "udp", want...) })
		if err != nil {
			t.Fatalf("%v: got %+v", err, ps)
		}
		for _, p := range ps {
			if !strings.HasPrefix(p.From, sl.sshd.Addr.Addr().String()+":") {
				t.Errorf("packet %+v not from the satellite %s", p, sl.sshd.Addr.Addr())
			}
		}
	})

	t.Run("the configured port reaches wakeonlan", func(t *testing.T) {
		cfg := sl.config(ecdsa)
		cfg.WakePorts = []int{satPort}
		want := "02:00:5e:30:00:0a"
		res, err := satellite.Wake(ctx, cfg, sl.bcast, "", macs(t, want))
		if err != nil || len(res) != 1 || res[0].Err != nil {
			t.Fatalf("%+v %v\nsshd log:\n%s", res, err, sl.sshd.Log())
		}
		if _, err := sl.sink.Wait(10*time.Second, func(ps []woltest.Packet) bool {
			for _, p := range ps {
				if p.MAC == want && p.To == fmt.Sprint(satPort) {
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatalf("no packet for %s on port %d: %v; got %+v", want, satPort, err, sl.sink.Packets())
		}
		for _, p := range sl.sink.Packets() {
			if p.MAC == want && p.To != fmt.Sprint(satPort) {
				t.Errorf("packet %+v on another port than the configured %d", p, satPort)
			}
		}
	})

	t.Run("a password wakeonlan cannot carry sends nothing", func(t *testing.T) {
		cfg := sl.config(ecdsa)
		cfg.WakePassword = []byte{1, 2, 3, 4, 5, 6}
		before := len(sl.sink.Packets())
		_, err := satellite.Wake(ctx, cfg, sl.bcast, "", macs(t, "02:00:5e:30:00:0b"))
		if !errors.Is(err, satellite.ErrWakeCommandCannot) {
			t.Fatalf("err = %v, want ErrWakeCommandCannot", err)
		}
		time.Sleep(200 * time.Millisecond)
		if len(sl.sink.Packets()) != before {
			t.Errorf("packets went out without the password: %+v", sl.sink.Packets()[before:])
		}
	})

	t.Run("a failing command fails its MACs", func(t *testing.T) {
		cfg := sl.config(ecdsa)
		cfg.WakeCommand = "no-such-wakeonlan {macs}"
		res, err := satellite.Wake(ctx, cfg, sl.bcast, "", macs(t, "02:00:5e:30:00:04"))
		if err != nil {
			t.Fatal(err)
		}
		var ee *satellite.ExitError
		if len(res) != 1 || !errors.As(res[0].Err, &ee) || ee.Status != 127 || !strings.Contains(ee.Stderr, "not found") {
			t.Errorf("results %+v, want an exit error", res)
		}
	})

	t.Run("a key it does not know is refused with a clear error", func(t *testing.T) {
		cfg := sl.config(ecdsa)
		other, err := ssh.ParsePrivateKey(sl.sshd.ClientPEM) // same key, other user
		if err != nil {
			t.Fatal(err)
		}
		cfg.Signer, cfg.User = other, "nobody"
		_, err = satellite.Wake(ctx, cfg, sl.bcast, "", macs(t, "02:00:5e:30:00:05"))
		if err == nil || !strings.Contains(err.Error(), "refused with this key") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("unreachable satellite fails fast, others still wake", func(t *testing.T) {
		dead := sl.config(ecdsa)
		dead.Name = "dead"
		dead.Address = sl.l.Router.ICMPHosts[1].String() // up, but no sshd
		dead.Port = 2222
		gone := sl.config(ecdsa)
		gone.Name = "gone"
		gone.Address = netip.AddrFrom4([4]byte{sl.bcast.As4()[0], sl.bcast.As4()[1], sl.bcast.As4()[2], 200}).String() // nobody
		gone.ConnectTimeout = 2 * time.Second
		var wg sync.WaitGroup
		var deadErr, goneErr, goodErr error
		start := time.Now()
		var deadTook, goneTook time.Duration
		wg.Go(func() {
			_, deadErr = satellite.Wake(ctx, dead, sl.bcast, "", macs(t, "02:00:5e:30:00:06"))
			deadTook = time.Since(start)
		})
		wg.Go(func() {
			_, goneErr = satellite.Wake(ctx, gone, sl.bcast, "", macs(t, "02:00:5e:30:00:07"))
			goneTook = time.Since(start)
		})
		var good []satellite.Result
		wg.Go(func() {
			good, goodErr = satellite.Wake(ctx, sl.config(ecdsa), sl.bcast, "", macs(t, "02:00:5e:30:00:08"))
		})
		wg.Wait()
		if deadErr == nil || !strings.Contains(deadErr.Error(), "connect to satellite dead") {
			t.Errorf("closed port: %v", deadErr)
		}
		if goneErr == nil || !strings.Contains(goneErr.Error(), "satellite gone") {
			t.Errorf("no host: %v", goneErr)
		}
		t.Logf("closed port failed after %s (%v); missing host after %s (%v)", deadTook, deadErr, goneTook, goneErr)
		// Generous bounds: the point is "not hanging", not a latency.
		if deadTook > 10*time.Second || goneTook > 15*time.Second {
			t.Errorf("unreachable satellites took %s and %s to fail", deadTook, goneTook)
		}
		if goodErr != nil || len(good) != 1 || good[0].Err != nil {
			t.Fatalf("the good satellite: %+v, %v", good, goodErr)
		}
		if _, err := sl.sink.Wait(10*time.Second, func(ps []woltest.Packet) bool { return woltest.Has(ps, "udp", "02:00:5e:30:00:08") }); err != nil {
			t.Error(err)
		}
	})

	// Last: the host gets new keys.
	t.Run("a changed host key is refused", func(t *testing.T) {
		old := ssh.FingerprintSHA256(ecdsa)
		sl.sshd.Restart(t)
		before := len(sl.sink.Packets())
		_, err := satellite.Wake(ctx, sl.config(ecdsa), sl.bcast, "", macs(t, "02:00:5e:30:00:09"))
		var changed *satellite.HostKeyChangedError
		if !errors.As(err, &changed) {
			t.Fatalf("err = %v, want *HostKeyChangedError", err)
		}
		if changed.Want != old || changed.Got != ssh.FingerprintSHA256(sl.sshd.HostKeys["ecdsa"]) {
			t.Errorf("changed %+v: want %s → %s", changed, old, ssh.FingerprintSHA256(sl.sshd.HostKeys["ecdsa"]))
		}
		if !strings.Contains(err.Error(), "HOST KEY CHANGED") {
			t.Errorf("message not loud enough: %v", err)
		}
		if strings.Contains(sl.sshd.Log(), "Accepted publickey") {
			t.Errorf("authenticated to a host whose key changed:\n%s", sl.sshd.Log())
		}
		res, err := satellite.Probe(ctx, sl.config(ecdsa))
		if err != nil || !res.Changed || res.Trusted || res.LoggedIn {
			t.Errorf("probe after the change: %+v, %v", res, err)
		}
		time.Sleep(200 * time.Millisecond)
		if len(sl.sink.Packets()) != before {
			t.Error("packets were sent through a satellite whose key changed")
		}
	})
}

func typeName(k ssh.PublicKey) string {
	switch {
	case k.Type() == ssh.KeyAlgoED25519:
		return "ed25519"
	case strings.HasPrefix(k.Type(), "ecdsa"):
		return "ecdsa"
	case k.Type() == ssh.KeyAlgoRSA:
		return "rsa"
	}
	return k.Type()
}
