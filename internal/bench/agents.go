package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/web"
)

// The scale for agents.
const agTargetAgents = 10000

// agSizes are the section's sizes: the issue's, or smaller with -quick.
type agSizes struct {
	agents  int // simulated agents
	hellos  int // hellos in the saturation run
	workers int // concurrent connections of the saturation run
	quick   bool
}

// agentsSection measures the server's side of the agent protocol with a
// load generator speaking the real HTTP API over TLS to the real handler
// (real SQLite store, real election): enrollment of 10,000 agents, their
// first hello and inventory, contact (hello) throughput and latency at
// saturation, the same 10,000 agents each calling at its poll interval
// while holding its long poll open, and the memory those polls cost. It
// needs no lab.
func agentsSection() section {
	return section{
		name: "agents",
		run: func(ctx context.Context, e *env) (string, error) {
			sz := agSizes{agents: agTargetAgents, hellos: 50000, workers: 32}
			if f := flag.Lookup("quick"); f != nil && f.Value.String() == "true" {
				sz = agSizes{agents: 1000, hellos: 5000, workers: 16, quick: true}
			}
			return runAgentsBench(ctx, e, sz)
		},
	}
}

// agLoad is a simulated agent.
type agLoad struct {
	uid, token string
	addr       string
}

// agClient sends agent requests as the real agent does: gzip JSON,
// bearer token, one keep-alive connection pool.
type agClient struct {
	base string
	http *http.Client
}

func (c agClient) call(ctx context.Context, method, path, token string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := protocol.Encode(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// agRow is one measured step.
type agRow struct {
	label string
	n     int
	wall  time.Duration
	cpu   time.Duration
	lat   invLatency
	note  string
}

// raiseNoFile lifts the open-file limit where it may: the hellos' idle
// keep-alive connections count at both ends in this one process.
func raiseNoFile(want uint64) {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil || rl.Cur >= want {
		return
	}
	rl.Cur = min(want, max(rl.Max, want))
	if rl.Max < rl.Cur {
		rl.Max = rl.Cur
	}
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func runAgentsBench(ctx context.Context, e *env, sz agSizes) (string, error) {
	raiseNoFile(uint64(2*sz.agents + 1024))
	store, done, err := openBenchStore(ctx)
	if err != nil {
		return "", err
	}
	defer done()
	srv, err := web.New(web.Options{Store: store, Logger: slog.New(slog.DiscardHandler), ScheduleCheck: -1,
		Agents: web.AgentOptions{PollInterval: time.Minute}})
	if err != nil {
		return "", err
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer func() {
		ts.Close()
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Close(cctx)
	}()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs},
		MaxIdleConns: sz.agents + 100, MaxIdleConnsPerHost: sz.agents + 100, IdleConnTimeout: 5 * time.Minute}
	cl := agClient{base: ts.URL, http: &http.Client{Transport: tr}}
	defer tr.CloseIdleConnections()
	// The held long polls share HTTP/2 connections (as the agent's client
	// may): one process cannot hold 10,000 sockets at both ends within
	// its open-file limit.
	tr2 := &http.Transport{TLSClientConfig: tr.TLSClientConfig.Clone(), ForceAttemptHTTP2: true, IdleConnTimeout: 5 * time.Minute}
	polling := agClient{base: ts.URL, http: &http.Client{Transport: tr2}}
	defer tr2.CloseIdleConnections()

	key, _, err := store.CreateEnrollmentKey(ctx, inventory.EnrollmentKey{Name: "bench"})
	if err != nil {
		return "", err
	}
	agents := make([]agLoad, sz.agents)
	for i := range agents {
		agents[i] = agLoad{uid: fmt.Sprintf("bench-%05d", i), addr: fmt.Sprintf("10.%d.%d.%d/24", 20+i/65536%200, i/256%256, 1+i%250)}
	}
	var rows []agRow

	// Each step runs fn(i) for i in [0, n) on workers connections and
	// times every call.
	step := func(label string, n, workers int, fn func(ctx context.Context, i int) error) (agRow, error) {
		lat := make([]time.Duration, n)
		var next atomic.Int64
		var firstErr error
		var once sync.Once
		var wg sync.WaitGroup
		cpu0, t0 := invCPU(), time.Now()
		for range workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= n || ctx.Err() != nil {
						return
					}
					s := time.Now()
					if err := fn(ctx, i); err != nil {
						once.Do(func() { firstErr = fmt.Errorf("%s %d: %w", label, i, err) })
						return
					}
					lat[i] = time.Since(s)
				}
			})
		}
		wg.Wait()
		row := agRow{label: label, n: n, wall: time.Since(t0), cpu: invCPU() - cpu0}
		if firstErr != nil {
			return row, firstErr
		}
		row.lat = latencyOf(label, "", n, lat)
		e.logger.Info("agents: "+label, "n", n, "wall", row.wall.Round(time.Millisecond), "p99", row.lat.p99)
		return row, ctx.Err()
	}
	expect := func(code int, body []byte, err error, want int) error {
		if err != nil {
			return err
		}
		if code != want {
			return fmt.Errorf("status %d: %s", code, strings.TrimSpace(string(body)))
		}
		return nil
	}

	r, err := step(fmt.Sprintf("enroll %d agents", sz.agents), sz.agents, sz.workers, func(ctx context.Context, i int) error {
		a := &agents[i]
		code, body, err := cl.call(ctx, http.MethodPost, protocol.PathEnroll, "", protocol.EnrollRequest{Key: key, UID: a.uid,
			Hostname: a.uid, Version: "bench", Addresses: []string{a.addr}})
		if err := expect(code, body, err, http.StatusOK); err != nil {
			return err
		}
		var rep protocol.EnrollReply
		if err := json.Unmarshal(body, &rep); err != nil {
			return err
		}
		a.token = rep.Token
		return nil
	})
	if err != nil {
		return "", err
	}
	r.note = "key checked, agent row and hashed token written"
	rows = append(rows, r)

	inv := func(i int, a agLoad) protocol.Inventory {
		return protocol.Inventory{Hash: "h-" + a.uid, Hostname: a.uid, OSName: "Debian GNU/Linux", OSVersion: "12", Kernel: "6.1.0",
			Manufacturer: "Dell Inc.", Model: "OptiPlex 7090", Serial: "S" + a.uid, Version: "bench",
			NICs: []protocol.NIC{{Name: "eth0", MAC: invMAC(0xa0, i), Kind: "wired", State: "up",
				Addresses: []string{a.addr}}}, Gateways: []string{}, DNS: []string{"10.0.0.53"}}
	}
	hello := func(a agLoad) protocol.Hello {
		return protocol.Hello{Version: "bench", Protocol: protocol.Version, Capabilities: []string{"raw_sockets"},
			InventoryHash: "h-" + a.uid, PollIntervalMS: 60000}
	}
	r, err = step("first contact: hello + inventory", sz.agents, sz.workers, func(ctx context.Context, i int) error {
		a := agents[i]
		code, body, err := cl.call(ctx, http.MethodPost, protocol.PathHello, a.token, hello(a))
		if err := expect(code, body, err, http.StatusOK); err != nil {
			return err
		}
		code, body, err = cl.call(ctx, http.MethodPut, protocol.PathInventory, a.token, inv(i, a))
		return expect(code, body, err, http.StatusNoContent)
	})
	if err != nil {
		return "", err
	}
	r.note = "contact counted, capabilities stored, inventory with one NIC stored and linked"
	rows = append(rows, r)

	r, err = step(fmt.Sprintf("hello at saturation, %d connections", sz.workers), sz.hellos, sz.workers, func(ctx context.Context, i int) error {
		a := agents[i%len(agents)]
		code, body, err := cl.call(ctx, http.MethodPost, protocol.PathHello, a.token, hello(a))
		return expect(code, body, err, http.StatusOK)
	})
	if err != nil {
		return "", err
	}
	r.note = "steady state: one write (contact measures) and an election nudge per hello"
	rows = append(rows, r)

	// Every agent holds its long poll open while each also calls hello
	// once, spread over a few seconds: the server's steady state with all
	// agents online.
	heap0 := heapInUse()
	pctx, stopPolls := context.WithCancel(ctx)
	var polls sync.WaitGroup
	var held atomic.Int64
	var pollErr atomic.Value
	// Started in steps, so that the HTTP/2 transport fills its
	// connections' streams instead of dialling one connection per waiting
	// request.
	for i, a := range agents {
		if i > 0 && i%200 == 0 {
			for wait := time.Now().Add(10 * time.Second); held.Load() < int64(i) && time.Now().Before(wait); {
				time.Sleep(5 * time.Millisecond)
			}
		}
		polls.Go(func() {
			for pctx.Err() == nil {
				// Counted once the request is on the wire, so the hellos
				// below run against polls the server holds.
				var sent atomic.Bool
				tctx := httptrace.WithClientTrace(pctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
					sent.Store(true)
					held.Add(1)
				}})
				code, body, err := polling.call(tctx, http.MethodGet, protocol.PathTasks+"?wait=30s", a.token, nil)
				if sent.Load() {
					held.Add(-1)
				}
				if pctx.Err() != nil {
					return
				}
				if err := expect(code, body, err, http.StatusOK); err != nil {
					pollErr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	deadline := time.Now().Add(2 * time.Minute)
	for held.Load() < int64(len(agents)) && time.Now().Before(deadline) && pollErr.Load() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	holding := held.Load()
	heldHeap := heapInUse()
	r, err = step(fmt.Sprintf("hello while %d long polls are held", holding), sz.agents, sz.workers, func(ctx context.Context, i int) error {
		a := agents[i]
		code, body, err := cl.call(ctx, http.MethodPost, protocol.PathHello, a.token, hello(a))
		return expect(code, body, err, http.StatusOK)
	})
	stopPolls()
	polls.Wait()
	if err != nil {
		return "", err
	}
	if v := pollErr.Load(); v != nil {
		return "", fmt.Errorf("long poll: %v", v)
	}
	perPoll := 0.0
	if holding > 0 && heldHeap > heap0 {
		perPoll = float64(heldHeap-heap0) / float64(holding)
	}
	r.note = fmt.Sprintf("%d polls held (HTTP/2 streams) cost %.1f MB of heap and stacks (both ends, this process): %.1f KB each", holding,
		float64(heldHeap-min(heap0, heldHeap))/1e6, perPoll/1000)
	rows = append(rows, r)
	return renderAgents(sz, rows), nil
}

func renderAgents(sz agSizes, rows []agRow) string {
	var b strings.Builder
	b.WriteString("## Agents: contact handling\n\n")
	fmt.Fprintf(&b, "One server (the real handler over TLS on loopback, a real SQLite store, the real election) and a load generator "+
		"in the same process speaking the agent protocol as %d simulated agents: gzip JSON bodies, bearer tokens, keep-alive "+
		"connections. Latency is per request as the client sees it; CPU is this whole process (server and load generator). "+
		"%d cores.\n\n", sz.agents, runtime.NumCPU())
	if sz.quick {
		b.WriteString("**Quick run: smaller sizes than the issue's; not for comparison.**\n\n")
	}
	b.WriteString("| Step | Requests | Wall | Per second | p50 | p95 | p99 | max | CPU per request | Notes |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %s | %.0f | %s | %s | %s | %s | %s | %s |\n", r.label, r.n, r.wall.Round(time.Millisecond),
			float64(r.n)/r.wall.Seconds(), ms(r.lat.p50), ms(r.lat.p95), ms(r.lat.p99), ms(r.lat.max),
			ms(r.cpu/time.Duration(max(1, r.n))), r.note)
	}
	fmt.Fprintf(&b, "\n%d agents polling every minute make %.0f hellos a second; the saturation row says how many times that the server carries.\n",
		sz.agents, float64(sz.agents)/60)
	return b.String()
}
