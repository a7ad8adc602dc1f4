//go:build linux

package discover_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/lanscout/lanscout/discover"
)

// TestNetnsScaleARP sweeps a /16 in which one responder answers for a /17
// through AnyIP (a local route on its loopback), at the default rate and
// at LANSCOUT_SCALE_RATE if set. It takes about a minute, so it runs only
// with LANSCOUT_SCALE=1.
func TestNetnsScaleARP(t *testing.T) {
	if os.Getenv("LANSCOUT_SCALE") != "1" {
		t.Skip("skipping: a /16 sweep takes a minute; set LANSCOUT_SCALE=1 to run it")
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: building network namespaces needs root")
	}
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	id := "lsd-" + hex.EncodeToString(rnd[:])
	scanner, responder := id+"-s", id+"-r"
	for _, ns := range []string{scanner, responder} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	run(t, "ip", "link", "add", "s0", "netns", scanner, "type", "veth", "peer", "name", "r0", "netns", responder)
	batch(t, scanner, []string{"addr add 10.199.0.1/16 dev s0", "link set s0 up"})
	batch(t, responder, []string{"addr add 10.199.0.2/16 dev r0", "link set r0 up", "route add local 10.199.128.0/17 dev lo"})
	for exec.Command("ip", "netns", "exec", scanner, "ping", "-c", "1", "-W", "1", "10.199.200.1").Run() != nil {
		time.Sleep(100 * time.Millisecond)
	}
	ts, _ := discover.ParseTargets([]string{"10.199.0.0/16"})
	rates := []int{0}
	if r, err := strconv.Atoi(os.Getenv("LANSCOUT_SCALE_RATE")); err == nil {
		rates = append(rates, r)
	}
	for _, rate := range rates {
		var (
			res   *discover.Result
			swErr error
		)
		err := inNetns(scanner, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			res, swErr = discover.Sweep(ctx, ts, discover.Options{
				Rate: rate, NoDNS: true,
				Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
		})
		if err != nil || swErr != nil {
			t.Fatal(err, swErr)
		}
		proxy := 0
		for _, p := range res.ProxyARP {
			proxy += len(p.IPs)
		}
		t.Logf("rate %d: %d hosts in %v, stats %+v, proxy-ARP addresses %d, %d warnings", rate, len(res.Hosts), res.Duration, res.Stats, proxy, len(res.Warnings))
		// 10.199.128.0-10.199.255.255 (minus the attached /16's broadcast),
		// the responder's own address and the scanner's.
		if want := 32768 - 1 + 2; len(res.Hosts) != want {
			t.Errorf("rate %d: found %d hosts, want %d", rate, len(res.Hosts), want)
		}
		if len(res.ProxyARP) != 1 {
			t.Errorf("rate %d: proxy ARP %d MACs, want the responder's", rate, len(res.ProxyARP))
		}
	}
	fmt.Fprintln(os.Stderr)
}
