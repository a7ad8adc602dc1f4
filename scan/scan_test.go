package scan_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/internal/snmptest"
	"github.com/lanscout/lanscout/internal/tcptest"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

// recordedProber answers SNMP for some addresses from recordings, through
// the same evidence plan a live probe runs.
type recordedProber struct {
	mu      sync.Mutex
	devices map[netip.Addr]*snmp.Recording
	probed  []netip.Addr
}

func (p *recordedProber) Probe(ctx context.Context, addr netip.Addr) (*snmp.Answer, error) {
	p.mu.Lock()
	p.probed = append(p.probed, addr)
	rec := p.devices[addr]
	p.mu.Unlock()
	if rec == nil {
		return nil, snmp.ErrUnreachable
	}
	ev, err := snmp.Gather(ctx, rec, snmp.DefaultPlan())
	if err != nil {
		return nil, err
	}
	return &snmp.Answer{Credential: "public", Version: "2c", Evidence: ev}, nil
}

func loadRecording(t *testing.T, path string) *snmp.Recording {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := snmp.ParseSnmprec(f)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// countingClassifier counts the classifications it is asked for.
type countingClassifier struct {
	scan.Classifier
	mu    sync.Mutex
	calls int
}

func (c *countingClassifier) Classify(in typing.Input) typing.Result {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Classifier.Classify(in)
}

func classifier(t *testing.T) scan.Classifier {
	t.Helper()
	c, err := typing.New(typing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRunSweepsProbesAndClassifies(t *testing.T) {
	port := tcptest.Listen(t)
	targets, err := discover.ParseTargets([]string{"127.0.0.1-127.0.0.3"})
	if err != nil {
		t.Fatal(err)
	}
	printer := netip.MustParseAddr("127.0.0.1")
	prober := &recordedProber{devices: map[netip.Addr]*snmp.Recording{printer: loadRecording(t, "testdata/printer.snmprec")}}
	var streamed []scan.Device
	counting := &countingClassifier{Classifier: classifier(t)}
	report, err := scan.Run(context.Background(), scan.Config{
		Targets:    targets,
		Discover:   discover.Options{Method: discover.MethodTCP, TCPPorts: []uint16{port}, NoDNS: true},
		Prober:     prober,
		Classifier: counting,
		Device:     func(d scan.Device) { streamed = append(streamed, d) },
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := len(report.Devices); got != 3 {
		t.Fatalf("found %d devices, want 3: %+v", got, report.Devices)
	}
	if len(streamed) != 3 {
		t.Errorf("streamed %d devices, want 3", len(streamed))
	}
	if counting.calls != 3 {
		t.Errorf("classified %d times, want each device once (the report reuses what was streamed)", counting.calls)
	}
	if len(prober.probed) != 3 {
		t.Errorf("probed %d addresses over SNMP, want each responder once: %v", len(prober.probed), prober.probed)
	}
	byIP := map[string]scan.Device{}
	for _, d := range report.Devices {
		byIP[d.IP] = d
	}
	p := byIP["127.0.0.1"]
	if p.Category != "printer" || p.SNMP == nil || p.SNMP.SysName != "NPI1A2B3C" || p.SNMP.UptimeS != 86400 {
		t.Errorf("printer = %+v (snmp %+v), want category printer with its system group", p, p.SNMP)
	}
	if len(p.Reasons) == 0 || p.Confidence <= 0 {
		t.Errorf("printer has no reasons or confidence: %+v", p)
	}
	other := byIP["127.0.0.2"]
	if other.Category != "unknown" || other.SNMP != nil || other.SNMPError == "" {
		t.Errorf("silent host = %+v, want unknown with an snmp_error", other)
	}
	if report.Stats.SNMPProbed != 3 || report.Stats.SNMPAnswered != 1 {
		t.Errorf("stats = %+v", report.Stats)
	}
}

func TestRunSNMPMethodKeepsOnlyAnsweringAddresses(t *testing.T) {
	targets, err := discover.ParseTargets([]string{"127.0.9.0/29"})
	if err != nil {
		t.Fatal(err)
	}
	printer := netip.MustParseAddr("127.0.9.3")
	prober := &recordedProber{devices: map[netip.Addr]*snmp.Recording{printer: loadRecording(t, "testdata/printer.snmprec")}}
	report, err := scan.Run(context.Background(), scan.Config{
		Targets:    targets,
		Discover:   discover.Options{Method: discover.MethodSNMP, NoDNS: true},
		Prober:     prober,
		Classifier: classifier(t),
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(report.Devices) != 1 || report.Devices[0].IP != "127.0.9.3" || report.Devices[0].Category != "printer" {
		t.Fatalf("devices = %+v, want only the printer", report.Devices)
	}
	if len(prober.probed) < 6 {
		t.Errorf("probed %d addresses, want every address of the /29", len(prober.probed))
	}
}

func TestRunCancelledReturnsPartialReport(t *testing.T) {
	targets, err := discover.ParseTargets([]string{"127.0.8.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	report, err := scan.Run(ctx, scan.Config{
		Targets:    targets,
		Discover:   discover.Options{Method: discover.MethodTCP, TCPPorts: []uint16{tcptest.Listen(t)}, NoDNS: true},
		Prober:     &recordedProber{},
		Classifier: classifier(t),
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if report == nil || !report.Incomplete {
		t.Fatalf("report = %+v, want an incomplete report", report)
	}
}

func TestReportRoundTripsThroughJSON(t *testing.T) {
	in := &scan.Report{Targets: []string{"10.0.0.0/24"}, Method: "arp", Devices: []scan.Device{{
		IP: "10.0.0.5", MAC: "00:11:22:33:44:55", Hostnames: []string{}, FoundBy: []string{"arp", "snmp"},
		SNMP:     &scan.SNMPInfo{Version: "2c", Credential: "public", SysName: "sw1"},
		Category: "switch", Reasons: []string{"BRIDGE-MIB answers"},
	}}}
	var buf bytes.Buffer
	if err := scan.WriteReport(&buf, "json", in); err != nil {
		t.Fatal(err)
	}
	out, err := scan.ReadReport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if out.Devices[0].SNMP.SysName != "sw1" || out.Devices[0].Category != "switch" {
		t.Errorf("round trip lost data: %+v", out.Devices[0])
	}
}

// TestRunReportsSNMPProgress scans the loopback /28 of a real snmpd, by
// method snmp (every address probed, no sweep) and after a TCP sweep, and
// checks what SNMPProgress saw: counts that never go back, a total that
// never grows for method snmp, and a last call with every probe done.
func TestRunReportsSNMPProgress(t *testing.T) {
	agent := snmptest.StartSnmpd(t, snmptest.SnmpdOptions{SysDescr: "lanscout progress test", SysName: "progress-agent"})
	prefix := netip.PrefixFrom(agent.Addr.Addr(), 28).Masked()
	targets, err := discover.ParseTargets([]string{prefix.String()})
	if err != nil {
		t.Fatal(err)
	}
	tcpPort := tcptest.Listen(t)
	for _, tc := range []struct {
		name      string
		method    discover.Method
		cancelled bool
		// paused stops the agent, so that its probe times out while the
		// others are done: the progress is seen half way.
		paused   bool
		answered int
	}{
		{name: "snmp method", method: discover.MethodSNMP, answered: 1},
		{name: "after a tcp sweep", method: discover.MethodTCP, answered: 1},
		{name: "snmp method, agent paused", method: discover.MethodSNMP, paused: true},
		{name: "tcp sweep, agent paused", method: discover.MethodTCP, paused: true},
		{name: "snmp method cancelled", method: discover.MethodSNMP, cancelled: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.paused {
				if err := agent.Pause(); err != nil {
					t.Fatal(err)
				}
				defer func() {
					if err := agent.Resume(); err != nil {
						t.Fatal(err)
					}
				}()
			}
			prober, err := snmp.NewProber(snmp.ProberOptions{
				Credentials: []snmp.Credential{{Version: snmp.V2c, Community: "public"}},
				Port:        agent.Addr.Port(),
				Timeout:     500 * time.Millisecond,
				Retries:     -1,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelled {
				cancel()
			}
			// No lock: under the race detector two calls at once would
			// be a race on calls, and Run returning orders the last one
			// before the checks.
			var calls []scan.SNMPProgress
			report, err := scan.Run(ctx, scan.Config{
				Targets:      targets,
				Discover:     discover.Options{Method: tc.method, TCPPorts: []uint16{tcpPort}, NoDNS: true},
				Prober:       prober,
				Classifier:   classifier(t),
				SNMPProgress: func(p scan.SNMPProgress) { calls = append(calls, p) },
			})
			if tc.cancelled {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Run: %v, want context.Canceled", err)
				}
			} else if err != nil {
				t.Fatalf("Run: %v", err)
			}
			t.Logf("%d calls: %+v", len(calls), calls)
			if len(calls) == 0 {
				t.Fatal("SNMPProgress never called")
			}
			for i, p := range calls {
				if p.Done > p.Queued || p.Answered > p.Done {
					t.Errorf("call %d: %+v: more done than queued, or more answered than done", i, p)
				}
				if tc.method == discover.MethodSNMP && (!p.AllQueued || p.Queued != report.Stats.Addresses) {
					t.Errorf("call %d: %+v: method snmp reports before its %d addresses are all queued", i, p, report.Stats.Addresses)
				}
				if i == 0 {
					continue
				}
				prev := calls[i-1]
				if p.Queued < prev.Queued || p.Done < prev.Done || p.Answered < prev.Answered || (prev.AllQueued && !p.AllQueued) {
					t.Errorf("call %d went back: %+v after %+v", i, p, prev)
				}
				if p == prev {
					t.Errorf("call %d repeats %+v", i, p)
				}
			}
			last := calls[len(calls)-1]
			if !last.AllQueued || last.Done != last.Queued || last.Queued != 16 || last.Answered != tc.answered {
				t.Errorf("last call %+v, want all 16 addresses of %s queued and done, %d answered", last, prefix, tc.answered)
			}
			if !tc.cancelled && (last.Queued != report.Stats.SNMPProbed || last.Answered != report.Stats.SNMPAnswered) {
				t.Errorf("last call %+v disagrees with the report's stats %+v", last, report.Stats)
			}
		})
	}
}
