package discover

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"golang.org/x/time/rate"
)

var (
	scannerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	timeoutErr = &net.OpError{Op: "read", Net: "packet", Err: os.ErrDeadlineExceeded}
)

// fakeLAN is a net.PacketConn standing for a segment: it records every
// ARP request written to it and answers as answer says, rtt later.
type fakeLAN struct {
	rtt    time.Duration
	answer func(ip netip.Addr, nth int) []net.HardwareAddr // nth request for ip, from 1

	rx chan []byte

	mu       sync.Mutex
	deadline time.Time
	wake     chan struct{}
	sent     []sentRequest
	unicast  int // requests sent to one MAC rather than broadcast
	count    map[netip.Addr]int
	closed   bool
}

type sentRequest struct {
	at     time.Time
	target netip.Addr
	sender netip.Addr
}

func newFakeLAN(rtt time.Duration, answer func(netip.Addr, int) []net.HardwareAddr) *fakeLAN {
	return &fakeLAN{rtt: rtt, answer: answer, rx: make(chan []byte, 1<<16), wake: make(chan struct{}), count: map[netip.Addr]int{}}
}

func (f *fakeLAN) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		f.mu.Lock()
		dl, wake, closed := f.deadline, f.wake, f.closed
		f.mu.Unlock()
		if closed {
			return 0, nil, net.ErrClosed
		}
		var tc <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, nil, timeoutErr
			}
			t := time.NewTimer(d)
			defer t.Stop()
			tc = t.C
		}
		select {
		case fr := <-f.rx:
			return copy(b, fr), nil, nil
		case <-tc:
			return 0, nil, timeoutErr
		case <-wake:
		}
	}
}

func (f *fakeLAN) WriteTo(b []byte, _ net.Addr) (int, error) {
	var fr ethernet.Frame
	if err := fr.UnmarshalBinary(b); err != nil {
		return 0, err
	}
	var p arp.Packet
	if err := p.UnmarshalBinary(fr.Payload); err != nil {
		return 0, err
	}
	f.mu.Lock()
	if !slices.Equal(fr.Destination, ethernet.Broadcast) {
		f.unicast++
	}
	f.count[p.TargetIP]++
	n := f.count[p.TargetIP]
	f.sent = append(f.sent, sentRequest{at: time.Now(), target: p.TargetIP, sender: p.SenderIP})
	f.mu.Unlock()
	for _, mac := range f.answer(p.TargetIP, n) {
		r, err := arp.NewPacket(arp.OperationReply, mac, p.TargetIP, p.SenderHardwareAddr, p.SenderIP)
		if err != nil {
			return 0, err
		}
		pb, _ := r.MarshalBinary()
		fb, _ := (&ethernet.Frame{Destination: p.SenderHardwareAddr, Source: mac, EtherType: ethernet.EtherTypeARP, Payload: pb}).MarshalBinary()
		time.AfterFunc(f.rtt, func() { f.rx <- fb })
	}
	return len(b), nil
}

func (f *fakeLAN) SetReadDeadline(t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deadline = t
	close(f.wake)
	f.wake = make(chan struct{})
	return nil
}

func (f *fakeLAN) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	close(f.wake)
	f.wake = make(chan struct{})
	return nil
}

func (f *fakeLAN) LocalAddr() net.Addr                { return nil }
func (f *fakeLAN) SetDeadline(t time.Time) error      { return f.SetReadDeadline(t) }
func (f *fakeLAN) SetWriteDeadline(t time.Time) error { return nil }

func (f *fakeLAN) requests() []sentRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

func (f *fakeLAN) requestsFor(ip netip.Addr) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[ip]
}

type fakeSweep struct {
	lan     *fakeLAN
	eng     *passEngine
	col     *collector
	started time.Time
	ended   time.Time
}

// runFakeARP sweeps 10.0.0.0/24 minus network and broadcast on lan. The
// link also has 192.168.5.1/24, first, to check the sender address.
func runFakeARP(t *testing.T, ctx context.Context, lan *fakeLAN, lim *rate.Limiter, retries int, timeout time.Duration) (*fakeSweep, error) {
	t.Helper()
	return runFakeARPOn(t, ctx, lan, lim, retries, timeout, netip.MustParsePrefix("10.0.0.254/24"), nil)
}

// runFakeARPOn sweeps every address of the link prefix p but the network
// and the broadcast.
func runFakeARPOn(t *testing.T, ctx context.Context, lan *fakeLAN, lim *rate.Limiter, retries int, timeout time.Duration, p netip.Prefix, setup func(*passEngine)) (*fakeSweep, error) {
	t.Helper()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface for arp.New: %v", err)
	}
	c, err := arp.New(lo, lan)
	if err != nil {
		t.Skipf("arp.New on lo: %v", err)
	}
	l := &link{Name: "fake0", HW: scannerMAC, Flags: net.FlagUp | net.FlagBroadcast,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("192.168.5.1/24"), p}}
	var addrs []uint32
	first, last := u32(p.Masked().Addr())+1, u32(p.Masked().Addr())|(1<<(32-p.Bits())-1)-1
	for v := first; v <= last; v++ {
		addrs = append(addrs, v)
	}
	fs := &fakeSweep{lan: lan, col: newCollector(nil)}
	fs.eng = newPassEngine(addrs, lim, realClock{}, retries, timeout, 42)
	if setup != nil {
		setup(fs.eng)
	}
	s := &arpSweep{
		job:  &arpJob{link: l, nets: attachments([]link{*l}), addrs: addrs},
		conn: c, hw: scannerMAC, eng: fs.eng, col: fs.col, iface: "fake0",
	}
	fs.started = time.Now()
	err = s.run(ctx)
	fs.ended = time.Now()
	return fs, err
}

func mac(b byte) net.HardwareAddr { return net.HardwareAddr{0x00, 0x00, 0x0c, 0, 0, b} }

func ip4(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestARPSweepFake drives a whole sweep against a segment where .1-.20
// answer at once, .21-.25 only answer their second request, .30 is
// answered by two MACs, .100-.119 by one MAC, and the rest is silent.
func TestARPSweepFake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		proxy := mac(0xee)
		lan := newFakeLAN(200*time.Microsecond, func(ip netip.Addr, nth int) []net.HardwareAddr {
			last := ip.As4()[3]
			switch {
			case last >= 1 && last <= 20:
				return []net.HardwareAddr{mac(last)}
			case last >= 21 && last <= 25:
				if nth >= 2 {
					return []net.HardwareAddr{mac(last)}
				}
			case last == 30:
				return []net.HardwareAddr{mac(0x30), mac(0x31)}
			case last >= 100 && last <= 119:
				return []net.HardwareAddr{proxy}
			}
			return nil
		})
		const retries = 2
		fs, err := runFakeARP(t, t.Context(), lan, newLimiter(2000), retries, 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		hosts := fs.col.result()
		if got, want := len(hosts), 20+5+1+20; got != want {
			t.Fatalf("found %d hosts, want %d", got, want)
		}
		for _, h := range hosts {
			if !slices.Equal(h.FoundBy, []string{"arp"}) || h.Interface != "fake0" || h.MAC == nil {
				t.Errorf("%s: FoundBy %v on %q MAC %v", h.IP, h.FoundBy, h.Interface, h.MAC)
			}
			if h.IP == ip4("10.0.0.5") && (h.MACVendor == "" || h.RTT != 200*time.Microsecond) {
				t.Errorf("%s: vendor %q RTT %v, want Cisco's 00:00:0c and 200µs", h.IP, h.MACVendor, h.RTT)
			}
		}

		// Retries go to non-responders only.
		for ip, want := range map[string]int{"10.0.0.1": 1, "10.0.0.20": 1, "10.0.0.21": 2, "10.0.0.30": 1, "10.0.0.200": 1 + retries} {
			if got := lan.requestsFor(ip4(ip)); got != want {
				t.Errorf("%s was asked %d times, want %d", ip, got, want)
			}
		}
		// 41 answer the first pass, 46 the second.
		if got, want := len(lan.requests()), 254+(254-41)+(254-46); got != want {
			t.Errorf("sent %d requests, want %d", got, want)
		}
		for _, r := range lan.requests() {
			if r.sender != ip4("10.0.0.254") {
				t.Fatalf("request for %s from %s, want our address in the subnet, 10.0.0.254", r.target, r.sender)
			}
		}
		if fs.eng.pass.Load() != 1+retries {
			t.Errorf("ran %d passes, want %d", fs.eng.pass.Load(), 1+retries)
		}

		conflicts, proxies, warnings := fs.col.arpFindings(254)
		if len(conflicts) != 1 || conflicts[0].IP != ip4("10.0.0.30") || len(conflicts[0].MACs) != 2 {
			t.Errorf("conflicts = %+v, want 10.0.0.30 with two MACs", conflicts)
		}
		if len(proxies) != 1 || proxies[0].MAC.String() != proxy.String() || len(proxies[0].IPs) != 20 {
			t.Errorf("proxy ARP = %+v, want %s for 20 addresses", proxies, proxy)
		}
		if len(warnings) != 2 {
			t.Errorf("warnings = %q, want one conflict and one proxy ARP", warnings)
		}
	})
}

// TestARPQuietPeriod: when every address answers, the sweep ends as soon
// as the last answer is in, and with answers arriving the wait after the
// last probe follows their RTT rather than the timeout.
func TestARPQuietPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		all := newFakeLAN(time.Millisecond, func(ip netip.Addr, _ int) []net.HardwareAddr { return []net.HardwareAddr{mac(ip.As4()[3])} })
		fs, err := runFakeARP(t, t.Context(), all, nil, 2, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got := fs.ended.Sub(fs.started); got != time.Millisecond {
			t.Errorf("an all-answering unpaced sweep took %v of fake time, want one RTT (1ms)", got)
		}
		if n := len(all.requests()); n != 254 {
			t.Errorf("sent %d requests, want 254 (no retries)", n)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		// Half answer within 2ms: the wait after each pass is the 50ms
		// floor (4 × 2ms is less), not the 10s timeout.
		half := newFakeLAN(2*time.Millisecond, func(ip netip.Addr, _ int) []net.HardwareAddr {
			if ip.As4()[3]%2 == 0 {
				return []net.HardwareAddr{mac(ip.As4()[3])}
			}
			return nil
		})
		fs, err := runFakeARP(t, t.Context(), half, nil, 2, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// The first window starts at the last answer, 2ms in.
		// The second pass recovers nobody, so there is no third.
		if got, want := fs.ended.Sub(fs.started), 2*time.Millisecond+2*minWait; got != want {
			t.Errorf("sweep took %v of fake time, want %v: two quiet windows of %v", got, want, minWait)
		}
		if n := len(half.requests()); n != 254+127 {
			t.Errorf("sent %d requests, want %d: two passes", n, 254+127)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		// Nothing answers: no RTT is known, each pass waits the timeout.
		none := newFakeLAN(0, func(netip.Addr, int) []net.HardwareAddr { return nil })
		fs, err := runFakeARP(t, t.Context(), none, nil, 1, 300*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fs.ended.Sub(fs.started), 2*300*time.Millisecond; got != want {
			t.Errorf("silent sweep took %v of fake time, want two timeouts (%v)", got, want)
		}
	})
}

// TestARPPacing checks sends against the token bucket: at 100 per second
// with a burst of 1, request n goes out no earlier than (n-1)/100 s after
// the first.
func TestARPPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := newFakeLAN(0, func(netip.Addr, int) []net.HardwareAddr { return nil })
		const pps = 100
		_, err := runFakeARP(t, t.Context(), lan, rate.NewLimiter(pps, 1), 2, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		reqs := lan.requests()
		if len(reqs) != 2*254 {
			t.Fatalf("sent %d requests, want %d: a retry pass that finds nobody is the last", len(reqs), 2*254)
		}
		for n, r := range reqs {
			if min := time.Duration(n) * time.Second / pps; r.at.Sub(reqs[0].at) < min {
				t.Fatalf("request %d sent %v after the first, before the bucket allows (%v)", n, r.at.Sub(reqs[0].at), min)
			}
		}
		// Randomised order: the first pass is not in address order.
		if slices.IsSortedFunc(reqs[:254], func(a, b sentRequest) int { return a.target.Compare(b.target) }) {
			t.Error("first pass sent in address order")
		}
	})
}

// TestARPCancel cancels mid-pass: run returns the context's error and
// what was found before.
func TestARPCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := newFakeLAN(time.Millisecond, func(ip netip.Addr, _ int) []net.HardwareAddr { return []net.HardwareAddr{mac(ip.As4()[3])} })
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		// 254 requests at 200/s take 1.27s; cancel after 0.5s.
		fs, err := runFakeARP(t, ctx, lan, rate.NewLimiter(200, 1), 2, time.Second)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		n := len(fs.col.result())
		if n == 0 || n >= 254 {
			t.Errorf("found %d hosts before the cancel, want some but not all", n)
		}
		if sent := len(lan.requests()); sent >= 254 {
			t.Errorf("sent %d requests after the cancel", sent)
		}
	})
}

// sparseHost numbers the hosts of a sparse /20: every eighth address
// answers, 511 hosts among 4,094 addresses.
func sparseHost(ip netip.Addr) (k int, ok bool) {
	k = int(u32(ip) - u32(ip4("10.0.0.0")))
	return k, k%8 == 0 && k > 0
}

// TestARPNoLossSkipsRetries: on a sparse range over a link that loses
// nothing, the loss probes (unicast, one per sampled responder) all come
// back, so the silent addresses are not broadcast to again.
func TestARPNoLossSkipsRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := newFakeLAN(200*time.Microsecond, func(ip netip.Addr, _ int) []net.HardwareAddr {
			if k, ok := sparseHost(ip); ok {
				return []net.HardwareAddr{mac(byte(k / 8))}
			}
			return nil
		})
		fs, err := runFakeARPOn(t, t.Context(), lan, newLimiter(5000), 2, 500*time.Millisecond, netip.MustParsePrefix("10.0.15.254/20"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(fs.col.result()); got != 511 {
			t.Fatalf("found %d hosts, want 511", got)
		}
		probes, lost, skipped := fs.eng.lossStats()
		if probes != 511 || lost != 0 || skipped != 4094-511 {
			t.Errorf("loss probes %d, lost %d, skipped %d; want 511, 0, %d", probes, lost, skipped, 4094-511)
		}
		if got := len(lan.requests()) - lan.unicast; got != 4094 {
			t.Errorf("broadcast %d requests, want one per address (4094)", got)
		}
		if lan.unicast != 511 {
			t.Errorf("sent %d unicast loss probes, want 511", lan.unicast)
		}
	})
}

// TestARPMeasuredLossRetries: when a loss probe goes unanswered the link
// is losing answers, so the silent addresses are retried, and the hosts
// whose first answer was lost are found.
func TestARPMeasuredLossRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := newFakeLAN(200*time.Microsecond, func(ip netip.Addr, nth int) []net.HardwareAddr {
			k, ok := sparseHost(ip)
			switch {
			case !ok:
				return nil
			case k%400 == 0 && nth == 1: // its first answer is lost
				return nil
			case k%400 == 200 && nth == 2: // its loss probe's answer is lost
				return nil
			}
			return []net.HardwareAddr{mac(byte(k / 8))}
		})
		fs, err := runFakeARPOn(t, t.Context(), lan, newLimiter(5000), 2, 500*time.Millisecond, netip.MustParsePrefix("10.0.15.254/20"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(fs.col.result()); got != 511 {
			t.Fatalf("found %d hosts, want all 511 after retrying", got)
		}
		probes, lost, skipped := fs.eng.lossStats()
		if lost == 0 || skipped != 0 || probes == 0 {
			t.Errorf("loss probes %d, lost %d, skipped %d; want some lost and nothing skipped", probes, lost, skipped)
		}
		if fs.eng.pass.Load() < 2 {
			t.Errorf("ran %d passes, want a retry pass", fs.eng.pass.Load())
		}
	})
}

// TestARPKernelDropsForceRetries: answers the kernel dropped on our socket
// during the pass are loss the loss probes cannot see, so the silent
// addresses are retried even though every loss probe came back.
func TestARPKernelDropsForceRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lan := newFakeLAN(200*time.Microsecond, func(ip netip.Addr, _ int) []net.HardwareAddr {
			if k, ok := sparseHost(ip); ok {
				return []net.HardwareAddr{mac(byte(k / 8))}
			}
			return nil
		})
		fs, err := runFakeARPOn(t, t.Context(), lan, newLimiter(5000), 2, 500*time.Millisecond,
			netip.MustParsePrefix("10.0.15.254/20"), func(e *passEngine) { e.dropped = func() bool { return true } })
		if err != nil {
			t.Fatal(err)
		}
		if _, _, skipped := fs.eng.lossStats(); skipped != 0 {
			t.Errorf("skipped %d retries although the kernel dropped answers", skipped)
		}
		if got := lan.requestsFor(ip4("10.0.0.3")); got != 2 {
			t.Errorf("silent 10.0.0.3 asked %d times, want 2 (a retry pass, then none finding nobody new)", got)
		}
	})
}
