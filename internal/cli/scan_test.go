package cli

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/internal/snmptest"
	"github.com/lanscout/lanscout/scan"
)

// TestScanSNMPMethodClassifiesDevCorpus is the end-to-end check of issue
// #3: every dev recording served by a real snmpsim at its own address,
// found by `lanscout scan --method snmp` with no liveness step, and typed
// as its label says.
func TestScanSNMPMethodClassifiesDevCorpus(t *testing.T) {
	dir := snmptest.CorpusDir(t)
	labels, err := snmptest.ReadLabels(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := make([]string, len(labels))
	for i, l := range labels {
		files[i] = filepath.Join(dir, "snmprec", l.File)
	}
	sim := snmptest.StartSim(t, files, snmptest.SimOptions{})
	t.Setenv("LANSCOUT_STATE", t.TempDir())

	port := strconv.Itoa(int(sim.Devices[0].Addr.Port()))
	out := filepath.Join(t.TempDir(), "report.json")
	// snmpsim is one Python process serving 118 agents; on a loaded CI
	// machine it answers late, and this test is about what the answers
	// say, not how fast they come: wait longer and retry more than the
	// defaults do.
	_, stderr, code := runCLI(t, "scan", "--method", "snmp", "--community", "public", "--snmp-port", port,
		"--snmp-timeout", "3s", "--snmp-retries", "3",
		"--no-dns", "--format", "json", "-o", out, sim.Prefix.String())
	if code != 0 {
		t.Fatalf("lanscout scan exited %d: %s", code, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	report, err := scan.ReadReport(f)
	if err != nil {
		t.Fatal(err)
	}
	byIP := map[string]scan.Device{}
	for _, d := range report.Devices {
		byIP[d.IP] = d
	}
	right, scored := 0, 0
	for i, dev := range sim.Devices {
		l := labels[i]
		d, ok := byIP[dev.Addr.Addr().String()]
		if !ok {
			if _, exempt := snmptest.LabelExceptions[l.File]; !exempt {
				t.Errorf("%s at %s: not in the scan report", l.File, dev.Addr.Addr())
			}
			continue
		}
		if d.SNMP == nil || d.SNMP.Credential != "v2c-1" || d.SNMP.Version != "2c" {
			t.Errorf("%s: snmp = %+v, want the v2c credential that answered", l.File, d.SNMP)
		}
		if len(l.Want) == 0 {
			continue
		}
		scored++
		if l.Accepts(d.Category) {
			right++
			continue
		}
		if why, exempt := snmptest.LabelExceptions[l.File]; exempt {
			t.Logf("label exception %s: got %s: %s", l.File, d.Category, why)
			continue
		}
		t.Errorf("%s: scanned as %s (%.2f), want %s; reasons: %s", l.File, d.Category, d.Confidence, l, strings.Join(d.Reasons, "; "))
	}
	for ip := range byIP {
		if !sim.Prefix.Contains(mustAddr(t, ip)) {
			t.Errorf("device %s outside the scanned prefix", ip)
		}
	}
	t.Logf("%d devices reported of %d served; %d/%d scored right; scan took %d ms",
		len(report.Devices), len(sim.Devices), right, scored, report.DurationMS)
}

func TestScanRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan"}, "no targets"},
		{[]string{"scan", "10.0.0.300/24"}, `bad target "10.0.0.300/24"`},
		{[]string{"scan", "--method", "carrier-pigeon", "10.0.0.0/24"}, `unknown --method "carrier-pigeon"`},
		{[]string{"scan", "--format", "xml", "10.0.0.0/24"}, `unknown --format "xml"`},
		{[]string{"scan", "10.0.0.0/8"}, "--force"},
		{[]string{"scan", "--passive", "10s", "10.0.0.0/24"}, "--passive needs --iface"},
		{[]string{"scan", "--method", "snmp", "--no-snmp", "10.0.0.0/24"}, "contradict"},
		{[]string{"scan", "--snmp-v3", "mon:sha:hunter2", "10.0.0.0/24"}, "snmp"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2 (usage); stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not say %q", stderr, tc.want)
			}
			if strings.Contains(stderr, "hunter2") {
				t.Errorf("stderr leaks a secret: %s", stderr)
			}
		})
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
