package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/wol"
)

// errWakeInvalid marks a request the server cannot act on; its message is
// for the requester.
var errWakeInvalid = errors.New("invalid wake request")

func wakeInvalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errWakeInvalid, fmt.Sprintf(format, args...))
}

// wakeInput is what a wake asks for, from the API, a form or a schedule.
type wakeInput struct {
	DeviceIDs []int64
	MACs      []string
	// Subnet locates MACs the store does not know: a CIDR or a subnet id.
	Subnet    string
	SubnetIDs []int64 // wake every device of these subnets known by MAC
	Fallback  bool
}

// wakeSpec is one target before its route is chosen.
type wakeSpec struct {
	deviceID int64
	mac      string
	ip       string
	subnetID int64
	prefix   netip.Prefix // invalid when unknown
}

// resolveWake turns a request into targets: device ids by their stored
// MAC, address and subnet; raw MACs by the subnet given, else by the
// store's devices with that MAC; subnets into their devices with a MAC.
// Duplicates (one MAC in one subnet) are woken once.
func (s *Server) resolveWake(ctx context.Context, in wakeInput) ([]wakeSpec, error) {
	var out []wakeSpec
	seen := map[string]bool{}
	add := func(sp wakeSpec) {
		k := sp.mac + "|" + sp.prefix.String()
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, sp)
	}
	limit := s.wake.opts.MaxTargets
	subnets := map[int64]inventory.Subnet{}
	subnetOf := func(id int64) (inventory.Subnet, error) {
		if sn, ok := subnets[id]; ok {
			return sn, nil
		}
		sn, err := s.store.Subnet(ctx, id)
		if err != nil {
			return sn, err
		}
		subnets[id] = sn
		return sn, nil
	}
	fromDevice := func(d inventory.Device) (wakeSpec, error) {
		sn, err := subnetOf(d.SubnetID)
		if err != nil {
			return wakeSpec{}, err
		}
		return wakeSpec{deviceID: d.ID, mac: d.MAC, ip: d.IP, subnetID: sn.ID, prefix: sn.Prefix()}, nil
	}
	if len(in.DeviceIDs)+len(in.MACs) > limit {
		return nil, wakeInvalid("%d targets: at most %d per wake", len(in.DeviceIDs)+len(in.MACs), limit)
	}
	for _, id := range in.DeviceIDs {
		if id <= 0 {
			return nil, wakeInvalid("device id %d", id)
		}
		det, err := s.store.Device(ctx, id)
		if errors.Is(err, inventory.ErrNotFound) {
			return nil, wakeInvalid("there is no device %d", id)
		}
		if err != nil {
			return nil, err
		}
		if det.MAC == "" {
			return nil, wakeInvalid("device %d (%s) has no known MAC address: it cannot be woken", id, det.IP)
		}
		sp, err := fromDevice(det.Device)
		if err != nil {
			return nil, err
		}
		add(sp)
	}
	var given netip.Prefix
	var givenID int64
	if in.Subnet != "" {
		var err error
		if given, givenID, err = s.wakeSubnet(ctx, in.Subnet); err != nil {
			return nil, err
		}
	}
	for _, m := range in.MACs {
		hw, err := wol.ParseMAC(m)
		if err != nil {
			return nil, wakeInvalid("%v", err)
		}
		mac := hw.String()
		if given.IsValid() {
			sp := wakeSpec{mac: mac, prefix: given, subnetID: givenID}
			// The store may know the device in that subnet: its address
			// lets the wake be confirmed.
			if ds, err := s.store.DevicesByMAC(ctx, mac); err == nil {
				for _, d := range ds {
					if ip, err := netip.ParseAddr(d.IP); err == nil && given.Contains(ip) {
						sp.deviceID, sp.ip, sp.subnetID = d.ID, d.IP, d.SubnetID
						break
					}
				}
			}
			add(sp)
			continue
		}
		ds, err := s.store.DevicesByMAC(ctx, mac)
		if err != nil {
			return nil, err
		}
		if len(ds) == 0 {
			// Kept as a target with no subnet: the job says why it has
			// no route instead of the whole request failing.
			add(wakeSpec{mac: mac})
			continue
		}
		// A MAC seen in several subnets (a laptop that moved) is woken in
		// each: the store cannot tell where it sleeps.
		for _, d := range ds {
			sp, err := fromDevice(d)
			if err != nil {
				return nil, err
			}
			add(sp)
		}
	}
	for _, id := range in.SubnetIDs {
		sn, err := subnetOf(id)
		if errors.Is(err, inventory.ErrNotFound) {
			return nil, wakeInvalid("there is no subnet %d", id)
		}
		if err != nil {
			return nil, err
		}
		err = s.store.EachDevice(ctx, inventory.DeviceQuery{SubnetID: id}, func(d inventory.Device) error {
			if d.MAC == "" {
				return nil
			}
			if len(out) >= limit {
				return wakeInvalid("subnet %s has more than %d devices to wake", sn.CIDR, limit)
			}
			add(wakeSpec{deviceID: d.ID, mac: d.MAC, ip: d.IP, subnetID: sn.ID, prefix: sn.Prefix()})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		if len(in.SubnetIDs) > 0 {
			return nil, wakeInvalid("no device of the subnet has a known MAC address")
		}
		return nil, wakeInvalid("nothing to wake: give device ids, MACs or a subnet")
	}
	if len(out) > limit {
		return nil, wakeInvalid("%d targets: at most %d per wake", len(out), limit)
	}
	return out, nil
}

// wakeSubnet reads the subnet given for raw MACs: a subnet id or a CIDR
// (which need not be a stored subnet).
func (s *Server) wakeSubnet(ctx context.Context, v string) (netip.Prefix, int64, error) {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "/") {
		var id int64
		if _, err := fmt.Sscan(v, &id); err != nil || id <= 0 || fmt.Sprint(id) != v {
			return netip.Prefix{}, 0, wakeInvalid("subnet %q is not a CIDR or a subnet id", v)
		}
		sn, err := s.store.Subnet(ctx, id)
		if errors.Is(err, inventory.ErrNotFound) {
			return netip.Prefix{}, 0, wakeInvalid("there is no subnet %d", id)
		}
		if err != nil {
			return netip.Prefix{}, 0, err
		}
		return sn.Prefix(), sn.ID, nil
	}
	p, err := netip.ParsePrefix(v)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, 0, wakeInvalid("subnet %q is not an IPv4 CIDR", v)
	}
	p = p.Masked()
	subnets, err := s.store.Subnets(ctx)
	if err != nil {
		return netip.Prefix{}, 0, err
	}
	for _, sn := range subnets {
		if sn.Prefix() == p {
			return p, sn.ID, nil
		}
	}
	for _, sn := range subnets {
		if sp := sn.Prefix(); sp.IsValid() && sp.Bits() <= p.Bits() && sp.Contains(p.Addr()) {
			return p, sn.ID, nil
		}
	}
	// Packets go only into networks of the inventory: otherwise anyone
	// allowed to wake could have the server (or a satellite) send UDP
	// anywhere, with the directed-broadcast fallback.
	return netip.Prefix{}, 0, wakeInvalid("subnet %s is not inside a subnet of lanscout: add the subnet first", p)
}

// startWake resolves, routes and stores a wake, then sends and confirms it
// in the background. The job comes back with each target's route.
func (s *Server) startWake(ctx context.Context, actor, source string, scheduleID int64, in wakeInput) (inventory.WakeJob, error) {
	specs, err := s.resolveWake(ctx, in)
	if err != nil {
		return inventory.WakeJob{}, err
	}
	router := s.newWakeRouter()
	job := inventory.WakeJob{RequestedBy: actor, Source: source, ScheduleID: scheduleID, Fallback: in.Fallback}
	plans := make([]wakePlan, len(specs))
	for i, sp := range specs {
		p, err := s.planWake(ctx, router, sp, in.Fallback)
		if err != nil {
			return inventory.WakeJob{}, err
		}
		plans[i] = p
		t := inventory.WakeTarget{DeviceID: sp.deviceID, MAC: sp.mac, IP: sp.ip, SubnetID: sp.subnetID,
			Route: p.Route, Via: p.Via, Status: inventory.WakePending, Detail: p.Detail}
		if sp.prefix.IsValid() {
			t.Subnet = sp.prefix.String()
		}
		if p.Route == inventory.WakeRouteNone {
			t.Status = inventory.WakeNoRoute
		}
		job.Targets = append(job.Targets, t)
	}
	job, err = s.store.CreateWakeJob(ctx, job)
	if err != nil {
		return inventory.WakeJob{}, err
	}
	if err := s.goWake(func(ctx context.Context) { s.runWake(ctx, job, plans) }); err != nil {
		// Nothing was sent; the job must not stay running.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, t := range job.Targets {
			if t.Status == inventory.WakePending {
				t.Status, t.Detail = inventory.WakeFailed, joinDetail(t.Detail, "not sent: "+err.Error())
				if uerr := s.store.UpdateWakeTarget(fctx, job.ID, t); uerr != nil {
					s.log.Error("record wake target", "wake_job", job.ID, "err", uerr)
				}
			}
		}
		if _, ferr := s.store.FinishWakeJob(fctx, job.ID, inventory.WakeJobInterrupted); ferr != nil {
			s.log.Error("finish wake job", "wake_job", job.ID, "err", ferr)
		}
		return inventory.WakeJob{}, err
	}
	return job, nil
}

// planWake chooses the route for one target: what startWake sends by and
// what the route preview (GET /api/v1/wake/routes, the device and subnet
// pages) shows, so both always agree.
func (s *Server) planWake(ctx context.Context, router *wakeRouter, sp wakeSpec, allowFallback bool) (wakePlan, error) {
	if !sp.prefix.IsValid() {
		return chooseWakeRoute(netip.Prefix{}, wakeCandidates{}, s.wake.opts.Fallback, allowFallback), nil
	}
	c, err := router.candidates(ctx, sp.prefix, sp.subnetID)
	if err != nil {
		return wakePlan{}, fmt.Errorf("route wake to %s: %w", sp.prefix, err)
	}
	return chooseWakeRoute(sp.prefix, c, s.wake.opts.Fallback, allowFallback), nil
}

// goWake runs fn under the server's context, tracked like scans, so Close
// waits for wakes to record how they ended.
func (s *Server) goWake(fn func(ctx context.Context)) error {
	j := s.jobs
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return errClosing
	}
	j.wg.Go(func() { fn(j.ctx) })
	return nil
}

// liveTarget is a target being sent and watched; mu guards the target.
type liveTarget struct {
	mu sync.Mutex
	t  inventory.WakeTarget
}

// runWake sends every group of targets, watches for them to come up, and
// records the outcome.
func (s *Server) runWake(ctx context.Context, job inventory.WakeJob, plans []wakePlan) {
	log := s.log.With("wake_job", job.ID)
	// Store writes after shutdown must still land: the outcome is what
	// the audit log keeps.
	wctx := context.WithoutCancel(ctx)
	live := make([]*liveTarget, len(job.Targets))
	groups := map[string][]int{}
	var order []string
	for i, t := range job.Targets {
		live[i] = &liveTarget{t: t}
		if plans[i].Route == inventory.WakeRouteNone {
			continue
		}
		k := plans[i].key()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	update := func(lt *liveTarget) {
		lt.mu.Lock()
		t := lt.t
		lt.mu.Unlock()
		uctx, cancel := context.WithTimeout(wctx, 10*time.Second)
		defer cancel()
		if err := s.store.UpdateWakeTarget(uctx, job.ID, t); err != nil {
			log.Error("record wake target", "mac", t.MAC, "err", err)
		}
	}
	var wg sync.WaitGroup
	for _, k := range order {
		idx := groups[k]
		wg.Go(func() {
			p := plans[idx[0]]
			ts := make([]*liveTarget, len(idx))
			for i, n := range idx {
				ts[i] = live[n]
			}
			s.sendWakeGroup(ctx, p, ts)
			for _, lt := range ts {
				update(lt)
			}
		})
	}
	wg.Wait()
	s.confirmWake(ctx, live, update)

	counts := map[inventory.WakeStatus]int{}
	var lines []string
	for _, lt := range live {
		t := lt.t
		counts[t.Status]++
		s.observeWake(wakeOutcome(t.Status))
		lines = append(lines, wakeTargetSummary(t))
	}
	status := inventory.WakeJobDone
	if ctx.Err() != nil {
		status = inventory.WakeJobInterrupted
	}
	fctx, cancel := context.WithTimeout(wctx, 10*time.Second)
	defer cancel()
	done, err := s.store.FinishWakeJob(fctx, job.ID, status)
	if err != nil {
		log.Error("finish wake job", "err", err)
		return
	}
	details := fmt.Sprintf("wake job %d %s: %s; %s", job.ID, status, wakeCounts(counts), clip(lines, 20))
	if err := s.store.Audit(fctx, inventory.AuditEntry{Actor: job.RequestedBy, Action: "wake.outcome",
		Target: fmt.Sprintf("wake/%d", job.ID), Details: details}); err != nil {
		log.Error("audit", "action", "wake.outcome", "err", err)
	}
	s.emitEvent(fctx, "wake.outcome", s.viewWakeJob(done))
	log.Info("wake finished", "status", status, "outcome", wakeCounts(counts))
}

// wakeOutcome is the metric label of a final target status.
func wakeOutcome(st inventory.WakeStatus) string {
	switch st {
	case inventory.WakeConfirmed:
		return "confirmed"
	case inventory.WakeFailed:
		return "failed"
	case inventory.WakeNoRoute:
		return "no_route"
	}
	return "unconfirmed"
}

// sendWakeGroup sends one group's packets and marks each target sent or
// failed.
func (s *Server) sendWakeGroup(ctx context.Context, p wakePlan, ts []*liveTarget) {
	macs := make([]net.HardwareAddr, len(ts))
	for i, lt := range ts {
		macs[i], _ = net.ParseMAC(lt.t.MAC)
	}
	set, failAll := s.wakeSetters(ts)
	switch p.Route {
	case inventory.WakeRouteLocal, inventory.WakeRouteDirected:
		s.wakeLocal(ctx, p, ts, macs)
	case inventory.WakeRouteAgent:
		failed, err := s.wakeViaAgent(ctx, p, ts, macs, set)
		if err != nil {
			s.wakeFailover(ctx, p, ts, macs, err)
			return
		}
		s.failoverEach(ctx, p, ts, macs, failed)
	case inventory.WakeRouteSatellite, inventory.WakeRouteAllSatellites:
		s.sendViaSatellites(ctx, p, macs, set, failAll)
	default:
		failAll(fmt.Errorf("route %s cannot send", p.Route))
	}
}

// wakeSetters returns how a route records its results for ts: set marks
// target i sent, or failed with err added to its detail (method ""
// keeps the target's); failAll marks every one failed.
func (s *Server) wakeSetters(ts []*liveTarget) (set func(i int, method string, err error), failAll func(error)) {
	set = func(i int, method string, err error) {
		lt := ts[i]
		lt.mu.Lock()
		defer lt.mu.Unlock()
		if method != "" {
			lt.t.Method = method
		}
		if err != nil {
			lt.t.Status, lt.t.Detail = inventory.WakeFailed, joinDetail(lt.t.Detail, err.Error())
			return
		}
		lt.t.Status, lt.t.SentAt = inventory.WakeSent, s.opts.Now()
	}
	failAll = func(err error) {
		for i := range ts {
			set(i, "", err)
		}
	}
	return set, failAll
}

// wakeLocal sends from the server's own interface (or, for the
// directed_broadcast fallback, through the routers). When the server
// cannot send on its segment (no CAP_NET_RAW for raw frames, the
// interface gone or down, a send refused), the targets it failed for go
// on to an agent or satellite in the subnet (wakeFailover), as an agent
// route's would. The fallback has nowhere else to go: it is already the
// last resort.
func (s *Server) wakeLocal(ctx context.Context, p wakePlan, ts []*liveTarget, macs []net.HardwareAddr) {
	set, failAll := s.wakeSetters(ts)
	sender := s.wake.sender
	if p.Route == inventory.WakeRouteDirected {
		sender.Method = wol.MethodUDP
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	res, err := sender.Send(sctx, p.local, macs)
	cancel()
	onward := p.Route == inventory.WakeRouteLocal && (len(p.next) > 0 || p.thenSatellite != "")
	if err != nil {
		err = fmt.Errorf("send from the server via %s: %w", p.Via, err)
		if !onward || ctx.Err() != nil {
			failAll(err)
			return
		}
		s.wakeFailover(ctx, p, ts, macs, err)
		return
	}
	failed := map[int]error{}
	for i, r := range res {
		if r.Err == nil || !onward || ctx.Err() != nil {
			set(i, string(r.Method), r.Err)
			continue
		}
		failed[i] = fmt.Errorf("send from the server via %s: %w", p.Via, r.Err)
	}
	s.failoverEach(ctx, p, ts, macs, failed)
}

// failoverEach sends the targets of ts that failed on their own (index
// into ts -> what failed) on through wakeFailover, as a route failing as a
// whole would, grouped by what failed so that each group's detail says
// its own error.
func (s *Server) failoverEach(ctx context.Context, p wakePlan, ts []*liveTarget, macs []net.HardwareAddr, failed map[int]error) {
	retry := map[string][]int{}
	var order []string
	for i := range ts {
		err, ok := failed[i]
		if !ok {
			continue
		}
		msg := err.Error()
		if _, ok := retry[msg]; !ok {
			order = append(order, msg)
		}
		retry[msg] = append(retry[msg], i)
	}
	for _, msg := range order {
		idx := retry[msg]
		sub, subMACs := make([]*liveTarget, len(idx)), make([]net.HardwareAddr, len(idx))
		for j, i := range idx {
			sub[j], subMACs[j] = ts[i], macs[i]
		}
		s.wakeFailover(ctx, p, sub, subMACs, errors.New(msg))
	}
}

// wakeFailover carries on for targets whose route failed with err: p's
// next online agents in the subnet in turn, then a satellite serving it;
// the targets are marked failed only when none sent. Each target's route
// and via name what finally sent it, and its detail every attempt that
// failed and what it failed over to: never silently another route.
func (s *Server) wakeFailover(ctx context.Context, p wakePlan, ts []*liveTarget, macs []net.HardwareAddr, err error) {
	set, failAll := s.wakeSetters(ts)
	moveTo := func(route inventory.WakeRoute, via string, failed error) {
		s.log.Warn("wake: route failed, trying the next one", "err", failed, "next", string(route)+" "+via)
		for _, lt := range ts {
			lt.mu.Lock()
			lt.t.Route, lt.t.Via = route, via
			lt.t.Detail = joinDetail(lt.t.Detail, fmt.Sprintf("%v; failed over to %s %s", failed, route, via))
			lt.mu.Unlock()
		}
	}
	for k, a := range p.next {
		if ctx.Err() != nil {
			break
		}
		try := p
		try.Route, try.agentID, try.Via = inventory.WakeRouteAgent, a.ID, agentLabel(a)
		moveTo(try.Route, try.Via, err)
		var failed map[int]error
		if failed, err = s.wakeViaAgent(ctx, try, ts, macs, set); err == nil {
			// MACs this agent failed for go on to the agents after it,
			// then the satellite.
			try.next = p.next[k+1:]
			s.failoverEach(ctx, try, ts, macs, failed)
			return
		}
	}
	if p.thenSatellite != "" && ctx.Err() == nil {
		sp := p
		sp.Route, sp.satellites, sp.Via = inventory.WakeRouteSatellite, []string{p.thenSatellite}, p.thenSatellite
		moveTo(sp.Route, sp.Via, err)
		s.sendViaSatellites(ctx, sp, macs, set, failAll)
		return
	}
	failAll(err)
}

// wakeViaAgent hands the MACs of ts to p's agent as one task and waits for
// its report; an error says the task as a whole failed (nothing was set).
// Targets it sent for are set; the ones it failed for, or did not report,
// are returned (index into ts -> what failed, naming the agent) and left
// for the caller to fail over (failoverEach).
// The agent sits on the segment the server usually does not reach, so the
// task asks it to watch the targets' last addresses for the confirm
// window after sending (protocol.WakeTask.Watch): a target it saw is
// confirmed here, dated by the durations it reports, and the others are
// left sent for confirmWake. An agent that does not know watching reports
// at once, as before.
func (s *Server) wakeViaAgent(ctx context.Context, p wakePlan, ts []*liveTarget, macs []net.HardwareAddr, set func(int, string, error)) (map[int]error, error) {
	o := s.wake.opts
	task := protocol.Task{Kind: protocol.TaskWake,
		Wake: &protocol.WakeTask{Subnet: p.subnet.String(), Ports: o.Ports}}
	if len(o.Password) > 0 {
		task.Wake.Password = wol.FormatPassword(o.Password)
	}
	for i, m := range macs {
		task.Wake.MACs = append(task.Wake.MACs, m.String())
		ts[i].mu.Lock()
		ip := ts[i].t.IP
		ts[i].mu.Unlock()
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() && p.subnet.Contains(a) {
			task.Wake.Watch = append(task.Wake.Watch, protocol.WakeWatch{MAC: m.String(), IP: ip})
		}
	}
	var watch time.Duration
	if len(task.Wake.Watch) > 0 && o.ConfirmTimeout > 0 {
		watch = o.ConfirmTimeout
		task.Wake.WatchMS, task.Wake.IntervalMS = watch.Milliseconds(), o.ProbeInterval.Milliseconds()
	} else {
		task.Wake.Watch = nil
	}
	wait := o.AgentTimeout + watch
	task.Deadline = s.opts.Now().Add(wait)
	id, err := s.enqueueAgentTask(ctx, p.agentID, task)
	if err != nil {
		return nil, fmt.Errorf("queue a wake task for %s: %w", p.Via, err)
	}
	actx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if watch > 0 {
		// A watching agent reports late; one that is gone must still
		// fail over after agent_timeout, not agent_timeout plus the watch.
		if err := s.awaitTaskDelivered(actx, id, o.AgentTimeout); err != nil {
			return nil, fmt.Errorf("%s did not pick up the wake task within %s: %w", p.Via, o.AgentTimeout, err)
		}
	}
	res, err := s.awaitAgentTask(actx, id)
	reported := s.opts.Now()
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s did not report the wake task within %s: %w", p.Via, wait, err)
	case res.Error != "":
		return nil, fmt.Errorf("%s: %s", p.Via, res.Error)
	case res.Wake == nil:
		return nil, fmt.Errorf("%s reported no wake result", p.Via)
	}
	done := make([]bool, len(macs))
	failed := map[int]error{}
	for _, sent := range res.Wake.Sent {
		hw, err := net.ParseMAC(sent.MAC)
		if err != nil {
			continue
		}
		for i, m := range macs {
			if done[i] || !slices.Equal(hw, m) {
				continue
			}
			done[i] = true
			if sent.Error != "" {
				failed[i] = fmt.Errorf("%s: %s", p.Via, sent.Error)
				continue
			}
			set(i, sent.Method, nil)
			if res.Wake.WatchedMS > 0 {
				s.agentSaw(ts[i], p.Via, reported, res.Wake.WatchedMS, sent)
			}
		}
	}
	for i, ok := range done {
		if !ok {
			failed[i] = fmt.Errorf("%s did not report this MAC", p.Via)
		}
	}
	return failed, nil
}

// confirmWake watches sent targets until each is seen up or the confirm
// timeout passes: an ARP or ICMP probe of its last address from the
// server, its agent checking in, or a new sighting in the store.
func (s *Server) confirmWake(ctx context.Context, live []*liveTarget, update func(*liveTarget)) {
	o := s.wake.opts
	pending := func() []*liveTarget {
		var out []*liveTarget
		for _, lt := range live {
			if lt.t.Status == inventory.WakeSent {
				out = append(out, lt)
			}
		}
		return out
	}
	if o.ConfirmTimeout < 0 {
		for _, lt := range pending() {
			lt.t.Status, lt.t.Detail = inventory.WakeUnconfirmed, joinDetail(lt.t.Detail, "confirmation is off")
			update(lt)
		}
		return
	}
	// Every target gets the whole window from its own send; one an agent
	// already watched (its SentAt is when the agent sent) has used up
	// that much of it.
	deadline := time.Now().Add(o.ConfirmTimeout)
	if ps := pending(); len(ps) > 0 {
		latest := time.Time{}
		for _, lt := range ps {
			latest = maxTime(latest, lt.t.SentAt)
		}
		// On the server's clock (s.opts.Now), which tests may set.
		if left := latest.Add(o.ConfirmTimeout).Sub(s.opts.Now()); !latest.IsZero() && left < o.ConfirmTimeout {
			deadline = time.Now().Add(left)
		}
	}
	tick := time.NewTicker(o.ProbeInterval)
	defer tick.Stop()
	for {
		ps := pending()
		if len(ps) == 0 {
			return
		}
		for _, lt := range ps {
			if by := s.seenSince(ctx, lt.t); by != "" {
				s.markConfirmed(lt, by)
				update(lt)
			}
		}
		if ps = pending(); len(ps) > 0 {
			for lt, by := range s.probeWake(ctx, ps) {
				s.markConfirmed(lt, by)
				update(lt)
			}
		}
		if len(pending()) == 0 {
			return
		}
		if !time.Now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	why := fmt.Sprintf("not seen up within %s", o.ConfirmTimeout)
	if ctx.Err() != nil {
		why = "the server stopped while it watched for the device"
	}
	for _, lt := range pending() {
		lt.t.Status, lt.t.Detail = inventory.WakeUnconfirmed, joinDetail(lt.t.Detail, why)
		update(lt)
	}
}

// awaitTaskDelivered waits until the agent has fetched task id (or it
// ended), at most within; the store marks delivery on the agent's poll,
// which says nothing to waiters, so this looks every quarter second.
func (s *Server) awaitTaskDelivered(ctx context.Context, id string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		at, err := s.store.AgentTask(ctx, id)
		if err != nil {
			return err
		}
		if at.Status != inventory.TaskPending {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// agentSaw dates a target an agent sent and watched on the server's
// clock: sent WatchedMS before the report, confirmed SeenAfterMS after
// sending when the agent saw it answer.
func (s *Server) agentSaw(lt *liveTarget, via string, reported time.Time, watchedMS int64, sent protocol.WakeSent) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	sentAt := reported.Add(-time.Duration(watchedMS) * time.Millisecond)
	lt.t.SentAt = sentAt
	if sent.SeenAfterMS <= 0 || sent.SeenAfterMS > watchedMS {
		return
	}
	by := "agent"
	if sent.SeenBy != "" {
		by += " " + sent.SeenBy
	}
	lt.t.Status, lt.t.ConfirmedBy = inventory.WakeConfirmed, by
	lt.t.ConfirmedAt = sentAt.Add(time.Duration(sent.SeenAfterMS) * time.Millisecond)
	lt.t.Detail = joinDetail(lt.t.Detail, "seen by "+via+" on its segment")
}

func (s *Server) markConfirmed(lt *liveTarget, by string) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.t.Status, lt.t.ConfirmedAt, lt.t.ConfirmedBy = inventory.WakeConfirmed, s.opts.Now(), by
}

// seenSince says how the store shows the target up since its packet left:
// its agent made contact ("agent") or a scanner saw it ("sighting"); ""
// when neither.
func (s *Server) seenSince(ctx context.Context, t inventory.WakeTarget) string {
	var devs []inventory.Device
	if t.DeviceID != 0 {
		det, err := s.store.Device(ctx, t.DeviceID)
		if err != nil {
			return ""
		}
		devs = append(devs, det.Device)
	} else if ds, err := s.store.DevicesByMAC(ctx, t.MAC); err == nil {
		devs = ds
	}
	for _, d := range devs {
		if d.MAC != t.MAC {
			continue
		}
		if d.State == inventory.StateUp && d.LastSeen.After(t.SentAt) {
			return "sighting"
		}
		if d.AgentID != 0 {
			if a, err := s.store.Agent(ctx, d.AgentID); err == nil && a.LastContact.After(t.SentAt) {
				return "agent"
			}
		}
	}
	return ""
}

// probeWake probes the last addresses of targets once from the server:
// ARP where it sits on the segment, ICMP and TCP elsewhere. An ARP answer
// from another MAC (the address was given to someone else) is not the
// target waking.
func (s *Server) probeWake(ctx context.Context, ts []*liveTarget) map[*liveTarget]string {
	byIP := map[netip.Addr][]*liveTarget{}
	var tokens []string
	for _, lt := range ts {
		ip, err := netip.ParseAddr(lt.t.IP)
		if err != nil || !ip.Is4() {
			continue
		}
		if _, ok := byIP[ip]; !ok {
			tokens = append(tokens, ip.String())
		}
		byIP[ip] = append(byIP[ip], lt)
	}
	if len(tokens) == 0 {
		return nil
	}
	targets, err := discover.ParseTargets(tokens)
	if err != nil {
		return nil
	}
	// The engine's own rates (2,000 ARP requests a second) probe a whole
	// subnet's worth of targets in a couple of seconds; a pass cut short
	// still reports who answered.
	pctx, cancel := context.WithTimeout(ctx, max(3*time.Second, s.wake.opts.ProbeInterval)+time.Duration(len(tokens))*time.Millisecond)
	defer cancel()
	res, err := discover.Sweep(pctx, targets, discover.Options{Method: discover.MethodAuto, Retries: 1,
		Timeout: time.Second, NoDNS: true})
	if err != nil && res == nil {
		s.log.Debug("wake: probe", "err", err)
		return nil
	}
	out := map[*liveTarget]string{}
	for _, h := range res.Hosts {
		for _, lt := range byIP[h.IP] {
			if h.MAC != nil && h.MAC.String() != lt.t.MAC {
				continue
			}
			by := "probe"
			for _, f := range h.FoundBy {
				if f == "arp" || f == "icmp" || strings.HasPrefix(f, "tcp") {
					by = f
					break
				}
			}
			out[lt] = by
		}
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// wakeTargetSummary is one target in the audit log.
func wakeTargetSummary(t inventory.WakeTarget) string {
	who := t.MAC
	if t.DeviceID != 0 {
		who = fmt.Sprintf("device %d %s", t.DeviceID, t.MAC)
	}
	if t.IP != "" {
		who += " (" + t.IP + ")"
	}
	route := string(t.Route)
	if t.Via != "" {
		route += " " + t.Via
	}
	out := fmt.Sprintf("%s via %s: %s", who, route, t.Status)
	if d := t.TookToWake(); d > 0 && t.Status == inventory.WakeConfirmed {
		out += fmt.Sprintf(" in %s by %s", d.Round(100*time.Millisecond), t.ConfirmedBy)
	}
	// A confirmed target keeps its detail too: it names a route that
	// failed before the one that sent, and a fallback taken.
	if t.Detail != "" {
		out += " (" + t.Detail + ")"
	}
	return out
}

func wakeCounts(counts map[inventory.WakeStatus]int) string {
	var parts []string
	for _, st := range []inventory.WakeStatus{inventory.WakeConfirmed, inventory.WakeUnconfirmed, inventory.WakeSent,
		inventory.WakePending, inventory.WakeFailed, inventory.WakeNoRoute} {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(st), "_", " ")))
		}
	}
	return strings.Join(parts, ", ")
}

// clip joins lines, at most n of them, saying how many were left out.
func clip(lines []string, n int) string {
	if len(lines) <= n {
		return strings.Join(lines, "; ")
	}
	return strings.Join(lines[:n], "; ") + fmt.Sprintf("; and %d more", len(lines)-n)
}
