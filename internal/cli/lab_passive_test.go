package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
	"github.com/lanscout/lanscout/scan"
)

// cliArgsEnv carries a command line, JSON-encoded, to TestCLIHelperProcess.
const cliArgsEnv = "LANSCOUT_TEST_CLI_ARGS"

// TestCLIHelperProcess runs lanscout itself when the test binary is
// re-executed inside a lab namespace (sockets belong to the namespace of
// the process that opens them).
func TestCLIHelperProcess(t *testing.T) {
	raw := os.Getenv(cliArgsEnv)
	if raw == "" {
		t.Skip("helper process for lab tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(Run(context.Background(), args, os.Stdin, os.Stdout, os.Stderr))
}

// TestLabScanPassive: a host that answers no probe but announces itself
// with gratuitous ARP is reported by `lanscout scan --passive`, next to the
// hosts the sweep found.
func TestLabScanPassive(t *testing.T) {
	l := labtest.New(t, lab.Config{Hosts: 4, GratuitousOnly: true})
	lan := l.Prefix.Addr().As4()
	targets := []string{
		netip.PrefixFrom(netip.AddrFrom4([4]byte{lan[0], lan[1], 0, 0}), 24).String(),
		netip.PrefixFrom(netip.AddrFrom4([4]byte{lan[0], lan[1], 1, 0}), 24).String(),
	}
	args, _ := json.Marshal(append([]string{"scan", "--passive", "4s", "--iface", l.Scanner.Interface,
		"--method", "arp", "--no-snmp", "--no-dns", "--format", "json"}, targets...))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := l.Command(ctx, l.Scanner.Namespace, os.Args[0], "-test.run=^TestCLIHelperProcess$")
	cmd.Env = append(os.Environ(), cliArgsEnv+"="+string(args))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Announce until the scan ends: the listener opens its socket at some
	// point after the process starts.
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			if err := l.SendGratuitousARP(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err != nil {
		t.Fatalf("lanscout scan: %v\nstderr:\n%s", err, stderr.String())
	}
	report, err := scan.ReadReport(&stdout)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	byIP := map[string]scan.Device{}
	for _, d := range report.Devices {
		byIP[d.IP] = d
	}
	for _, h := range l.Hosts {
		d, ok := byIP[h.IP.String()]
		if !ok || d.MAC != h.MAC.String() || !slices.Contains(d.FoundBy, "arp") {
			t.Errorf("host %s (%s): got %+v, want it found by arp with its MAC", h.IP, h.MAC, d)
		}
	}
	q := l.Quiet
	d, ok := byIP[q.Addr.Addr().String()]
	if !ok {
		t.Fatalf("quiet host %s not reported; devices %v", q.Addr.Addr(), report.Devices)
	}
	if d.MAC != q.MAC.String() || !slices.Contains(d.FoundBy, "passive-arp") || slices.Contains(d.FoundBy, "arp") {
		t.Errorf("quiet host reported as %+v, want found by passive-arp only, with MAC %s", d, q.MAC)
	}
}
