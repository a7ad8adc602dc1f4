// Package agent is the runtime of `lanscout agent`: it enrolls with a
// server, then calls it (it listens on no port) with jitter and backoff,
// reports its own machine's inventory when it changed, long-polls for
// tasks, carries them out (scan a subnet, listen passively, wake
// machines) and uploads their results in numbered, compressed batches.
//
// It owns the agent's side of the protocol (package protocol) and its
// state directory. How a subnet is scanned is given to it (Options.Scan,
// built by the CLI the same way as `lanscout scan`); it knows nothing of
// the server's store or web handlers.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
)

// ScanFunc runs one scan of a task's subnet with the credentials the task
// carried (none: the defaults) and calls device for each device as it is
// identified, one call at a time.
type ScanFunc func(ctx context.Context, t protocol.ScanTask, creds []snmp.Credential, device func(scan.Device)) (*scan.Report, error)

// Options configure an agent.
type Options struct {
	Server    string // https://HOST:PORT
	EnrollKey string // needed until the agent has a token
	TLS       TLSOptions
	StateDir  string
	Version   string
	Logger    *slog.Logger
	// Scan runs scan tasks; nil: scan tasks fail with a clear error.
	Scan ScanFunc
	// PollInterval is used until the server says otherwise; default 60s.
	PollInterval time.Duration
	// Wait is the long poll the agent asks for; default 25s.
	Wait time.Duration
	// Collector reads the machine's inventory; its zero value reads this
	// machine.
	Collector Collector
	// BatchDevices caps the devices of one upload; default 250.
	BatchDevices int
	// Backoff spaces retries after failures; default 1s to 5 minutes.
	Backoff Backoff
}

// ErrRefused is returned by Run when the server refuses the agent for
// good: its key or token is unknown, expired or revoked. Restarting will
// not help; an admin must act.
var ErrRefused = errors.New("refused by the server")

// Agent is one running agent.
type Agent struct {
	opts   Options
	log    *slog.Logger
	client *Client
	caps   []string

	mu      sync.Mutex
	state   State
	running map[string]bool
	wg      sync.WaitGroup
}

// New checks opts and builds the agent's client; it does not contact
// the server.
func New(opts Options) (*Agent, error) {
	if opts.StateDir == "" {
		return nil, errors.New("agent: no state directory")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Minute
	}
	if opts.Wait <= 0 {
		opts.Wait = 25 * time.Second
	}
	opts.Wait = min(opts.Wait, protocol.MaxWait)
	if opts.BatchDevices <= 0 || opts.BatchDevices > protocol.MaxBatchDevices {
		opts.BatchDevices = 250
	}
	if opts.Backoff.Base <= 0 {
		opts.Backoff.Base = time.Second
	}
	if opts.Backoff.Max <= 0 {
		opts.Backoff.Max = 5 * time.Minute
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	client, err := NewClient(opts.Server, opts.TLS, opts.Version)
	if err != nil {
		return nil, err
	}
	st, err := LoadState(opts.StateDir)
	if err != nil {
		return nil, err
	}
	a := &Agent{opts: opts, log: opts.Logger, client: client, state: st, running: map[string]bool{}}
	a.caps = []string{}
	if canRawSockets() {
		a.caps = append(a.caps, string(protocol.CapRawSockets))
	}
	if raw, known := capNetRawEffective("/proc/self/status"); known {
		a.log.Info("capabilities", "raw_sockets", len(a.caps) > 0, "cap_net_raw_effective", raw)
	}
	return a, nil
}

// Capabilities returns what the agent reports it can do.
func (a *Agent) Capabilities() []string { return slices.Clone(a.caps) }

// Run enrolls when needed, then calls the server until ctx ends. It
// returns nil when ctx ends, an error wrapping ErrRefused when the
// server refuses the agent for good, or a setup error.
func (a *Agent) Run(ctx context.Context) error {
	defer a.wg.Wait()
	defer a.client.CloseIdle()
	bo := a.opts.Backoff
	// Phase one: a token.
	for a.token() == "" || a.state.Server != a.opts.Server {
		err := a.enroll(ctx)
		if err == nil {
			break
		}
		if errors.Is(err, ErrRefused) || ctx.Err() != nil {
			return ctxOr(ctx, err)
		}
		d := bo.Next()
		a.log.Warn("enrollment failed; retrying", "err", err, "in", d.Round(time.Millisecond))
		if !sleep(ctx, d) {
			return nil
		}
	}
	bo.Reset()
	a.client.SetToken(a.token())

	// Phase two: hello, inventory when changed, tasks until the next hello.
	poll := a.opts.PollInterval
	reenrolled := false
	for {
		reply, err := a.hello(ctx, poll)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if statusCode(err) == http.StatusUnauthorized && a.opts.EnrollKey != "" && !reenrolled {
				// The server forgot this agent (deleted by an admin, a
				// new database): with a key at hand, enroll again, once.
				reenrolled = true
				a.log.Warn("the server does not know this agent's token; enrolling again", "err", err)
				if err := a.enroll(ctx); err != nil {
					return ctxOr(ctx, err)
				}
				a.client.SetToken(a.token())
				continue
			}
			if errors.Is(err, ErrRefused) {
				return err
			}
			d := bo.Next()
			a.log.Warn("contact failed; retrying", "err", err, "in", d.Round(time.Millisecond), "failures", bo.Failures())
			if !sleep(ctx, d) {
				return nil
			}
			continue
		}
		bo.Reset()
		if reply.PollIntervalMS > 0 {
			poll = time.Duration(reply.PollIntervalMS) * time.Millisecond
		}
		next := time.Now().Add(Jitter(poll, 0.1, nil))
		if err := a.pollTasks(ctx, next, &bo); err != nil {
			if statusCode(err) == http.StatusUnauthorized && a.opts.EnrollKey != "" && !reenrolled {
				continue // the hello finds out and enrolls again
			}
			return ctxOr(ctx, err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (a *Agent) token() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state.Token
}

// refused turns a 401/403 into ErrRefused with the server's reason.
func refused(err error) error {
	switch statusCode(err) {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return err
}

func (a *Agent) enroll(ctx context.Context) error {
	if a.opts.EnrollKey == "" {
		return fmt.Errorf("%w: this agent has no token for %s; give --enroll-key", ErrRefused, a.opts.Server)
	}
	a.mu.Lock()
	st := a.state
	a.mu.Unlock()
	if st.UID == "" {
		uid, err := newUID()
		if err != nil {
			return err
		}
		st.UID = uid
	}
	inv := a.opts.Collector.Collect(a.opts.Version)
	var addrs []string
	for _, n := range inv.NICs {
		addrs = append(addrs, n.Addresses...)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	reply, err := a.client.Enroll(rctx, protocol.EnrollRequest{Key: a.opts.EnrollKey, UID: st.UID, Hostname: inv.Hostname,
		Version: a.opts.Version, Addresses: addrs})
	if statusCode(err) == http.StatusConflict {
		// Retrying cannot help: the server keeps the first enrollment of
		// a UID until an admin deletes that agent.
		return fmt.Errorf("%w: enroll as %s: the server already has an agent with this UID (this machine's token was lost, or another machine copied its state directory); an admin deletes that agent on the server to enroll it again: %w",
			ErrRefused, st.UID, err)
	}
	if err != nil {
		return refused(fmt.Errorf("enroll: %w", err))
	}
	st.Token, st.AgentID, st.Server, st.InventoryHash = reply.Token, reply.AgentID, a.opts.Server, ""
	if reply.UID != "" {
		st.UID = reply.UID
	}
	if err := SaveState(a.opts.StateDir, st); err != nil {
		return fmt.Errorf("%w: enrolled, but the token cannot be kept: %w", ErrRefused, err)
	}
	a.mu.Lock()
	a.state = st
	a.mu.Unlock()
	a.log.Info("enrolled", "server", a.opts.Server, "agent_id", st.AgentID, "uid", st.UID)
	return nil
}

// hello makes one contact and sends the inventory when the server asks.
func (a *Agent) hello(ctx context.Context, poll time.Duration) (protocol.HelloReply, error) {
	inv := a.opts.Collector.Collect(a.opts.Version)
	a.mu.Lock()
	running := make([]string, 0, len(a.running))
	for id := range a.running {
		running = append(running, id)
	}
	sent := a.state.InventoryHash
	a.mu.Unlock()
	slices.Sort(running)
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	reply, err := a.client.Hello(rctx, protocol.Hello{Version: a.opts.Version, Protocol: protocol.Version,
		Capabilities: a.caps, Interfaces: inv.NICs, InventoryHash: sent, PollIntervalMS: poll.Milliseconds(), Running: running})
	if err != nil {
		return reply, refused(fmt.Errorf("hello: %w", err))
	}
	if reply.SendInventory || inv.Hash != sent {
		if err := a.client.SendInventory(rctx, inv); err != nil {
			return reply, refused(fmt.Errorf("send inventory: %w", err))
		}
		a.mu.Lock()
		a.state.InventoryHash = inv.Hash
		st := a.state
		a.mu.Unlock()
		if err := SaveState(a.opts.StateDir, st); err != nil {
			a.log.Warn("keep inventory hash", "err", err)
		}
		a.log.Info("inventory sent", "hash", inv.Hash, "nics", len(inv.NICs))
	}
	return reply, nil
}

// pollTasks long-polls for tasks until the next hello is due, starting
// each task it gets.
func (a *Agent) pollTasks(ctx context.Context, until time.Time, bo *Backoff) error {
	for {
		left := time.Until(until)
		if left <= 0 || ctx.Err() != nil {
			return nil
		}
		wait := min(left, a.opts.Wait)
		rctx, cancel := context.WithTimeout(ctx, wait+30*time.Second)
		tasks, err := a.client.Tasks(rctx, wait)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if err := refused(err); errors.Is(err, ErrRefused) {
				return err
			}
			d := bo.Next()
			a.log.Warn("fetching tasks failed; retrying", "err", err, "in", d.Round(time.Millisecond))
			if !sleep(ctx, min(d, time.Until(until))) {
				return nil
			}
			continue
		}
		bo.Reset()
		for _, t := range tasks {
			a.start(ctx, t)
		}
	}
}

// start runs a task in the background; a task already running (the
// server handed it out again) is not started twice.
func (a *Agent) start(ctx context.Context, t protocol.Task) {
	a.mu.Lock()
	if a.running[t.ID] {
		a.mu.Unlock()
		return
	}
	a.running[t.ID] = true
	a.mu.Unlock()
	a.wg.Go(func() {
		defer func() {
			a.mu.Lock()
			delete(a.running, t.ID)
			a.mu.Unlock()
		}()
		tctx := ctx
		if !t.Deadline.IsZero() {
			var cancel context.CancelFunc
			tctx, cancel = context.WithDeadline(ctx, t.Deadline)
			defer cancel()
		}
		log := a.log.With("task", t.ID, "kind", t.Kind)
		log.Info("task started")
		up := &uploader{a: a, ctx: ctx, task: t.ID, log: log}
		switch t.Kind {
		case protocol.TaskScan:
			a.runScan(tctx, t, up)
		case protocol.TaskListen:
			a.runListen(tctx, t, up)
		case protocol.TaskWake:
			r := WakeTaskResult(tctx, t, nil, log, time.Now)
			up.final(ctx, r)
		default:
			up.final(ctx, protocol.TaskResult{TaskID: t.ID, Error: fmt.Sprintf("this agent does not know task kind %q", t.Kind)})
		}
		log.Info("task ended")
	})
}

// runScan runs a scan task, streaming devices in batches as they come and
// sending the report's final word with the summary.
func (a *Agent) runScan(ctx context.Context, t protocol.Task, up *uploader) {
	if t.Scan == nil {
		up.final(ctx, protocol.TaskResult{TaskID: t.ID, Error: "scan task without its scan part"})
		return
	}
	if a.opts.Scan == nil {
		up.final(ctx, protocol.TaskResult{TaskID: t.ID, Error: "this agent was built without a scanner"})
		return
	}
	// The credentials live in this function's memory only.
	var creds []snmp.Credential
	for _, w := range t.Scan.SNMP.Credentials {
		c, err := w.Credential()
		if err != nil {
			up.final(ctx, protocol.TaskResult{TaskID: t.ID, Error: fmt.Sprintf("SNMP credential %q: %v", w.Name, err)})
			return
		}
		creds = append(creds, c)
	}
	streamed := map[string]scan.Device{}
	var pending []protocol.Device
	var streamErr error
	device := func(d scan.Device) {
		streamed[d.IP] = d
		pending = append(pending, protocol.Device{Device: d, Evidence: d.Evidence})
		if len(pending) >= a.opts.BatchDevices && streamErr == nil {
			streamErr = up.batch(ctx, pending)
			pending = nil
		}
	}
	report, err := a.opts.Scan(ctx, *t.Scan, creds, device)
	res := protocol.TaskResult{TaskID: t.ID, Scan: &protocol.ScanResult{}}
	if report != nil {
		// The report is authoritative: reverse DNS names and late replies
		// come after a device was first streamed.
		for _, d := range report.Devices {
			if prev, ok := streamed[d.IP]; ok && prev.MAC == d.MAC && slices.Equal(prev.Hostnames, d.Hostnames) &&
				slices.Equal(prev.FoundBy, d.FoundBy) {
				continue
			}
			pending = append(pending, protocol.Device{Device: d, Evidence: d.Evidence})
		}
		res.Scan.Summary = &protocol.ScanSummary{Method: report.Method, DurationMS: report.DurationMS, Stats: report.Stats,
			Warnings: report.Warnings, Incomplete: report.Incomplete}
	}
	switch {
	case streamErr != nil:
		res.Error = "uploading devices: " + streamErr.Error()
	case err != nil:
		res.Error = err.Error()
	case report == nil:
		res.Error = "the scan returned no report"
	}
	if ctx.Err() != nil && res.Error == "" {
		res.Error = "the task's deadline passed during the scan"
	}
	res.Scan.Devices = pending
	up.finalDevices(ctx, res)
}

// runListen listens passively on the interface inside the task's subnet
// and reports each MAC it hears once.
func (a *Agent) runListen(ctx context.Context, t protocol.Task, up *uploader) {
	if t.Listen == nil {
		up.final(ctx, protocol.TaskResult{TaskID: t.ID, Error: "listen task without its listen part"})
		return
	}
	iface, err := interfaceIn(t.Listen.Subnet)
	if err != nil {
		up.final(ctx, protocol.TaskResult{TaskID: t.ID, Error: err.Error()})
		return
	}
	lctx, cancel := context.WithTimeout(ctx, time.Duration(t.Listen.DurationMS)*time.Millisecond)
	defer cancel()
	subnet, _ := netip.ParsePrefix(t.Listen.Subnet)
	var mu sync.Mutex
	heard := map[string]protocol.Heard{}
	err = discover.Listen(lctx, iface, a.log, func(h discover.Host) {
		if h.MAC == nil || (h.IP.IsValid() && !subnet.Contains(h.IP)) {
			return
		}
		by := "arp"
		if slices.Contains(h.FoundBy, "passive-dhcp") {
			by = "dhcp"
		}
		mu.Lock()
		defer mu.Unlock()
		if _, ok := heard[h.MAC.String()]; ok {
			return
		}
		ip := ""
		if h.IP.IsValid() {
			ip = h.IP.String()
		}
		heard[h.MAC.String()] = protocol.Heard{MAC: h.MAC.String(), IP: ip, By: by, Seen: time.Now().UTC()}
	})
	res := protocol.TaskResult{TaskID: t.ID, Listen: &protocol.ListenResult{Heard: []protocol.Heard{}}}
	if err != nil && lctx.Err() == nil {
		res.Error = err.Error()
	}
	mu.Lock()
	for _, h := range heard {
		res.Listen.Heard = append(res.Listen.Heard, h)
	}
	mu.Unlock()
	slices.SortFunc(res.Listen.Heard, func(x, y protocol.Heard) int { return x.Seen.Compare(y.Seen) })
	up.finalHeard(ctx, res)
}

// interfaceIn names the local interface with an address inside cidr.
func interfaceIn(cidr string) (string, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "", fmt.Errorf("subnet %q: %w", cidr, err)
	}
	ifs, err := systemInterfaces()
	if err != nil {
		return "", err
	}
	for _, ifi := range ifs {
		for _, a := range ifi.Addrs {
			if p.Contains(a.Addr()) {
				return ifi.Name, nil
			}
		}
	}
	return "", fmt.Errorf("no local interface has an address in %s", cidr)
}
