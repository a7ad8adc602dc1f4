package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
)

// dispatchServer starts a Server whose own scans (the server path of
// dispatchScan) block until release is closed, sending nothing; its clock
// is the real one shifted by *offset.
func dispatchServer(t *testing.T, offset *atomic.Int64, o Options) (*Server, *inventory.SQLite, chan struct{}) {
	t.Helper()
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	release := make(chan struct{})
	o.Store, o.Logger, o.ScheduleCheck = store, slog.New(slog.DiscardHandler), -1
	o.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	o.Scan = func(ctx context.Context, sn inventory.Subnet, _ []snmp.Credential, _ func(scan.Device)) (*scan.Report, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return &scan.Report{}, nil
	}
	o.Election.Interval, o.Election.Coalesce = -1, time.Nanosecond
	if o.Election.ServerNetworks == nil {
		o.Election.ServerNetworks = func() ([]netip.Prefix, error) { return nil, nil }
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	return srv, store, release
}

// TestDispatchOneScanAtATime: while the server scans a subnet, an agent
// elected meanwhile is not sent to scan it too; while an agent scans it,
// the server does not either, and everything that says "running" (API,
// metrics) sees the agent's run. When the agent loses its seat its open
// scan task is closed at once, so the next scanner is not blocked for
// the scan timeout.
func TestDispatchOneScanAtATime(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	srv, store, release := dispatchServer(t, &offset, Options{})
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.44.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := srv.dispatchScan(ctx, sn)
	if err != nil || d.Scanner.Kind != inventory.ScannerServer {
		t.Fatalf("first scan: %+v, %v; want the server's", d, err)
	}
	agentID := electionAgent(t, store, "pc-a", "wired", "10.44.0.5/24", 5, true)
	if err := srv.electNow(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := srv.electedAgents(ctx, sn.ID); len(ids) != 1 {
		t.Fatalf("elected %v, want pc-a", ids)
	}
	if d2, err := srv.dispatchScan(ctx, sn); !errors.Is(err, errScanRunning) {
		t.Errorf("scan while the server scans: %+v, %v; want errScanRunning", d2, err)
	}
	close(release)
	waitUntil(t, "the server's scan to end", func() bool { return srv.jobs.runningScan(sn.ID) == 0 })

	d, err = srv.dispatchScan(ctx, sn)
	if err != nil || d.Scanner.Kind != inventory.ScannerAgent || len(d.Tasks) != 1 {
		t.Fatalf("scan with an elected agent: %+v, %v", d, err)
	}
	if got := srv.runningRun(ctx, sn.ID); got != d.Run.ID {
		t.Errorf("runningRun = %d, want the agent's run %d", got, d.Run.ID)
	}
	if v := srv.viewSubnet(ctx, sn); v.RunningScan != d.Run.ID {
		t.Errorf("API running_scan = %d, want %d", v.RunningScan, d.Run.ID)
	}
	if got := gauge(t, srv, "lanscout_scans_running", ""); got != 1 {
		t.Errorf("lanscout_scans_running = %v, want 1", got)
	}
	if d2, err := srv.dispatchScan(ctx, sn); !errors.Is(err, errScanRunning) {
		t.Errorf("scan while the agent scans: %+v, %v; want errScanRunning", d2, err)
	}

	// pc-a goes silent: past max-alive it loses the seat, and its task
	// (due only in an hour) closes with the round.
	offset.Store(int64(10 * time.Minute))
	if err := srv.electNow(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	at, err := store.AgentTask(ctx, d.Tasks[0])
	if err != nil {
		t.Fatal(err)
	}
	if at.Status != inventory.TaskFailed || !strings.Contains(at.Error, "no longer elected") {
		t.Errorf("task of the expired agent: %s %q; want failed, no longer elected", at.Status, at.Error)
	}
	if run, _ := store.ScanRun(ctx, d.Run.ID); run.Status == inventory.ScanRunning {
		t.Errorf("the agent's run is still running: %+v", run)
	}
	if st, _ := store.UpdateScanStanding(ctx, sn.ID, agentID, func(c inventory.ScanStanding) inventory.ScanStanding { return c }); st.Failures != 0 {
		t.Errorf("losing the seat counted as a failed scan: %+v", st)
	}
	if d, err = srv.dispatchScan(ctx, sn); err != nil || d.Scanner.Kind != inventory.ScannerServer {
		t.Errorf("scan after the agent lost its seat: %+v, %v; want the server's", d, err)
	}
}

// TestDispatchOpenTaskBlocks: an open agent scan task blocks the server
// path even when its agent is not elected (any more).
func TestDispatchOpenTaskBlocks(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	srv, store, _ := dispatchServer(t, &offset, Options{})
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.45.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	a := electionAgent(t, store, "pc-b", "wired", "192.168.77.5/24", 5, true)
	if _, err := store.CreateAgentTask(ctx, inventory.AgentTask{ID: "t-open", AgentID: a, Kind: string(protocol.TaskScan),
		SubnetID: sn.ID, Payload: "{}", Deadline: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if d, err := srv.dispatchScan(ctx, sn); !errors.Is(err, errScanRunning) {
		t.Errorf("scan with an open agent task: %+v, %v; want errScanRunning", d, err)
	}
}

// waitUntil polls cond for up to 10s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// gauge collects the store metrics and returns the value of name (with
// its first label equal to label, when given); -1 when absent.
func gauge(t *testing.T, srv *Server, name, label string) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1000)
	(&storeCollector{s: srv}).Collect(ch)
	close(ch)
	for m := range ch {
		if !strings.Contains(m.Desc().String(), `"`+name+`"`) {
			continue
		}
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		if label != "" && (len(d.GetLabel()) == 0 || d.GetLabel()[0].GetValue() != label) {
			continue
		}
		return d.GetGauge().GetValue()
	}
	return -1
}

// TestDispatchConcurrentScanNow: several "Scan now" of one subnet at
// once, through the real API handler and store, start exactly one scan;
// every other request gets 409. In the second round an agent is elected
// in each subnet while the requests arrive, so one request may choose the
// server's path and another, after the round, the agent's: still one run
// by one scanner per subnet. The 32 subnets are independent tries at that
// interleaving; without the per-subnet claim in dispatchScan, 3 of 16 to
// 9 of 20 runs of this test (2 busy cores) found a subnet with a server
// scan and an agent task both started.
func TestDispatchConcurrentScanNow(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	srv, store, _ := dispatchServer(t, &offset, Options{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	tok, _, err := store.CreateAPIToken(ctx, "op", inventory.RoleOperator, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	scanNow := func(id int64) (int, string) {
		req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/subnets/%d/scan", ts.URL, id), nil)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const subnets, requests = 32, 6
	for round, elect := range []bool{false, true} {
		sns := make([]inventory.Subnet, subnets)
		for k := range sns {
			sns[k], err = store.CreateSubnet(ctx, inventory.Subnet{CIDR: fmt.Sprintf("10.46.%d.0/24", round*subnets+k)})
			if err != nil {
				t.Fatal(err)
			}
		}
		// The election knows the subnets, with no agent: until the next
		// round, dispatch takes the server's path.
		if err := srv.electNow(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		if elect {
			for k := range sns {
				electionAgent(t, store, fmt.Sprintf("pc-%d", k), "wired", fmt.Sprintf("10.46.%d.5/24", round*subnets+k), 5, true)
			}
		}
		start := make(chan struct{})
		codes, bodies := make([][requests]int, subnets), make([][requests]string, subnets)
		var wg sync.WaitGroup
		for k := range sns {
			for i := range requests {
				wg.Go(func() {
					<-start
					// Subnet after subnet, so that the round ends while
					// some are being dispatched: between two requests'
					// choices of path. No outcome depends on the delays.
					time.Sleep(time.Duration(k) * 40 * time.Microsecond)
					codes[k][i], bodies[k][i] = scanNow(sns[k].ID)
				})
			}
		}
		if elect {
			wg.Go(func() {
				<-start
				// The round starts once the first subnet's scan is under
				// way, so that it ends while the later ones are dispatched.
				for {
					if runs, err := store.ScanRuns(ctx, sns[0].ID, 1); err != nil || len(runs) > 0 {
						break
					}
				}
				if err := srv.electNow(ctx, "test"); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()

		by := map[inventory.ScannerKind]int{}
		for k, sn := range sns {
			accepted := 0
			for i, c := range codes[k] {
				switch {
				case c == http.StatusAccepted:
					accepted++
				case c == http.StatusConflict && strings.Contains(bodies[k][i], "already running"):
				default:
					t.Errorf("round %d, %s: request %d: %d %s; want 202 or 409", round, sn.CIDR, i, c, bodies[k][i])
				}
			}
			if accepted != 1 {
				t.Errorf("round %d, %s: %d requests accepted, want exactly 1 (codes %v)", round, sn.CIDR, accepted, codes[k])
			}
			runs, err := store.ScanRuns(ctx, sn.ID, 50)
			if err != nil {
				t.Fatal(err)
			}
			open, err := store.AgentTasks(ctx, inventory.AgentTaskQuery{SubnetID: sn.ID, Kind: string(protocol.TaskScan), OpenOnly: true, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			serverScans := 0
			if srv.jobs.runningScan(sn.ID) != 0 {
				serverScans = 1
			}
			if len(runs) != 1 || len(open)+serverScans != 1 {
				t.Errorf("round %d, %s: %d runs, %d open agent tasks, %d server scans; want one run by one scanner", round,
					sn.CIDR, len(runs), len(open), serverScans)
				continue
			}
			by[runs[0].Scanner.Kind]++
		}
		t.Logf("round %d: scans by %v", round, by)
	}
}
