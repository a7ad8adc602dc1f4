package discover_test

// The lab tests run the sweep inside the lab's scanner namespace: sockets
// belong to the namespace of the thread that creates them, and a sweep
// opens its sockets from goroutines this test cannot pin. So the test
// re-executes its own binary under `ip netns exec`, running only
// TestLabHelperProcess, which reads the request from the environment,
// sweeps (or listens), and prints the result as JSON on stdout.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/internal/lab"
)

// helperEnv carries the JSON helperRequest to the re-executed test binary.
const helperEnv = "LANSCOUT_LAB_HELPER_REQUEST"

// resultPrefix marks the helper's output lines among the test framework's.
const resultPrefix = "LABRESULT "

type helperRequest struct {
	Mode      string        `json:"mode"` // "sweep" or "listen"
	Targets   []string      `json:"targets,omitempty"`
	Method    string        `json:"method,omitempty"`
	Interface string        `json:"interface"`
	Rate      int           `json:"rate,omitempty"`
	Retries   int           `json:"retries,omitempty"`
	Timeout   time.Duration `json:"timeout,omitempty"`
	TCPPorts  []uint16      `json:"tcpPorts,omitempty"`
}

// labHost is discover.Host in a form that survives JSON (net.HardwareAddr
// would be base64).
type labHost struct {
	IP      netip.Addr `json:"ip"`
	MAC     string     `json:"mac,omitempty"`
	FoundBy []string   `json:"foundBy,omitempty"`
}

type labConflict struct {
	IP   netip.Addr `json:"ip"`
	MACs []string   `json:"macs"`
}

type labProxyARP struct {
	MAC string       `json:"mac"`
	IPs []netip.Addr `json:"ips"`
}

type labResult struct {
	Error     string         `json:"error,omitempty"`
	Method    string         `json:"method,omitempty"`
	Hosts     []labHost      `json:"hosts"`
	Conflicts []labConflict  `json:"conflicts,omitempty"`
	ProxyARP  []labProxyARP  `json:"proxyARP,omitempty"`
	Warnings  []string       `json:"warnings,omitempty"`
	Stats     discover.Stats `json:"stats"`
	Duration  time.Duration  `json:"duration"`
	Found     *labHost       `json:"found,omitempty"` // listen mode: one per line
}

// byIP indexes the hosts found.
func (r *labResult) byIP() map[netip.Addr]labHost {
	m := make(map[netip.Addr]labHost, len(r.Hosts))
	for _, h := range r.Hosts {
		m[h.IP] = h
	}
	return m
}

func toLabHost(h discover.Host) labHost {
	lh := labHost{IP: h.IP, FoundBy: h.FoundBy}
	if h.MAC != nil {
		lh.MAC = h.MAC.String()
	}
	return lh
}

func macStrings(ms []net.HardwareAddr) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.String())
	}
	return out
}

// TestLabHelperProcess is not a test: it is the scanner side of the lab
// tests, run in the scanner's namespace by runSweep and startListener.
func TestLabHelperProcess(t *testing.T) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		t.Skip("helper process for the lab tests: runs only when re-executed by them")
	}
	var req helperRequest
	if err := json.Unmarshal([]byte(raw), &req); err != nil {
		t.Fatalf("decode helper request: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	emit := func(r labResult) {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("encode result: %v", err)
		}
		fmt.Printf("%s%s\n", resultPrefix, b)
	}

	switch req.Mode {
	case "sweep":
		targets, err := discover.ParseTargets(req.Targets)
		if err != nil {
			emit(labResult{Error: fmt.Sprintf("parse targets: %v", err)})
			return
		}
		res, err := discover.Sweep(ctx, targets, discover.Options{
			Method:    discover.Method(req.Method),
			Interface: req.Interface,
			Rate:      req.Rate,
			Retries:   req.Retries,
			Timeout:   req.Timeout,
			TCPPorts:  req.TCPPorts,
			NoDNS:     true,
			Logger:    logger,
		})
		if err != nil {
			emit(labResult{Error: fmt.Sprintf("sweep: %v", err)})
			return
		}
		out := labResult{Method: string(res.Method), Warnings: res.Warnings, Stats: res.Stats, Duration: res.Duration}
		for _, h := range res.Hosts {
			out.Hosts = append(out.Hosts, toLabHost(h))
		}
		for _, c := range res.Conflicts {
			out.Conflicts = append(out.Conflicts, labConflict{IP: c.IP, MACs: macStrings(c.MACs)})
		}
		for _, p := range res.ProxyARP {
			out.ProxyARP = append(out.ProxyARP, labProxyARP{MAC: p.MAC.String(), IPs: p.IPs})
		}
		emit(out)
	case "listen":
		err := discover.Listen(ctx, req.Interface, logger, func(h discover.Host) {
			lh := toLabHost(h)
			emit(labResult{Found: &lh})
		})
		if err != nil && ctx.Err() == nil {
			emit(labResult{Error: fmt.Sprintf("listen: %v", err)})
		}
	default:
		t.Fatalf("unknown helper mode %q", req.Mode)
	}
}

// runSweep sweeps targets from the lab's scanner namespace and returns what
// the sweep found. Errors of the sweep itself fail the test.
func runSweep(t *testing.T, l *lab.Lab, req helperRequest) *labResult {
	t.Helper()
	req.Mode = "sweep"
	if req.Interface == "" {
		req.Interface = l.Scanner.Interface
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find the test binary: %v", err)
	}
	b, _ := json.Marshal(req)
	cmd := l.Command(ctx, l.Scanner.Namespace, exe, "-test.run=^TestLabHelperProcess$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(b))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res *labResult
	for _, line := range strings.Split(stdout.String(), "\n") {
		if s, ok := strings.CutPrefix(line, resultPrefix); ok {
			res = &labResult{}
			if err := json.Unmarshal([]byte(s), res); err != nil {
				t.Fatalf("decode the helper's result: %v\n%s", err, s)
			}
		}
	}
	if res == nil {
		t.Fatalf("sweep %v in %s: no result (%v)\nstdout:\n%s\nstderr (last lines):\n%s",
			req.Targets, l.Scanner.Namespace, runErr, stdout.String(), tail(stderr.String(), 40))
	}
	if res.Error != "" {
		t.Fatalf("sweep %v: %s\nstderr (last lines):\n%s", req.Targets, res.Error, tail(stderr.String(), 40))
	}
	t.Logf("sweep %v by %s: %d hosts, %+v, in %v, warnings %q",
		req.Targets, res.Method, len(res.Hosts), res.Stats, res.Duration, res.Warnings)
	return res
}

// listener is a helper process running discover.Listen in the scanner's
// namespace; hosts it reports arrive on found.
type listener struct {
	found  chan labHost
	stderr *syncBuffer
}

// startListener starts discover.Listen on the scanner's interface. It is
// stopped when the lab closes.
func startListener(t *testing.T, l *lab.Lab) *listener {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find the test binary: %v", err)
	}
	b, _ := json.Marshal(helperRequest{Mode: "listen", Interface: l.Scanner.Interface})
	cmd := l.Command(context.Background(), l.Scanner.Namespace, exe, "-test.run=^TestLabHelperProcess$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(b))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	ls := &listener{found: make(chan labHost, 64), stderr: &syncBuffer{}}
	cmd.Stderr = ls.stderr
	p, err := l.Start(cmd)
	if err != nil {
		t.Fatalf("start the listener: %v", err)
	}
	// The lab stops it too; stopping it here first keeps its output out of
	// later tests' way.
	t.Cleanup(func() { p.Stop() })
	go func() {
		defer close(ls.found)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s, ok := strings.CutPrefix(sc.Text(), resultPrefix)
			if !ok {
				continue
			}
			var r labResult
			if err := json.Unmarshal([]byte(s), &r); err != nil {
				continue
			}
			if r.Error != "" {
				fmt.Fprintf(ls.stderr, "helper: %s\n", r.Error)
				continue
			}
			if r.Found != nil {
				ls.found <- *r.Found
			}
		}
	}()
	return ls
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
