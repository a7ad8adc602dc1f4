package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/wol"
)

// Wake carries out a wake task on the agent's machine: it finds the
// interface holding an address in the task's subnet and sends one magic
// packet per MAC there, as a raw Ethernet broadcast when the agent may open
// a raw socket, else as UDP to that interface's directed broadcast on the
// task's ports (default 9 and 7).
//
// ifaces are the machine's interfaces; nil means wol.LocalInterfaces(). The
// error is for a task that fails as a whole (a bad subnet or password, no
// interface in the subnet, no socket); it goes into TaskResult.Error.
// Otherwise the result has one entry per distinct MAC, in the task's order,
// with its own error for a MAC that could not be parsed or sent.
func Wake(ctx context.Context, t protocol.WakeTask, ifaces []wol.Interface, log *slog.Logger) (protocol.WakeResult, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	subnet, err := netip.ParsePrefix(t.Subnet)
	if err != nil {
		return protocol.WakeResult{}, fmt.Errorf("wake task: subnet %q: %w", t.Subnet, err)
	}
	password, err := wol.ParsePassword(t.Password)
	if err != nil {
		return protocol.WakeResult{}, fmt.Errorf("wake task: %w", err)
	}
	if ifaces == nil {
		if ifaces, err = wol.LocalInterfaces(); err != nil {
			return protocol.WakeResult{}, fmt.Errorf("wake task: %w", err)
		}
	}
	route, err := wol.FindRoute(ifaces, subnet)
	if err != nil {
		return protocol.WakeResult{}, fmt.Errorf("wake task: %w", err)
	}

	// A bad MAC fails alone: the others of the task are still woken.
	res := protocol.WakeResult{Sent: []protocol.WakeSent{}}
	var macs []wolMAC
	seen := map[string]bool{}
	for _, s := range t.MACs {
		hw, err := wol.ParseMAC(s)
		if err != nil {
			res.Sent = append(res.Sent, protocol.WakeSent{MAC: s, Error: err.Error()})
			continue
		}
		if seen[hw.String()] {
			continue
		}
		seen[hw.String()] = true
		macs = append(macs, wolMAC{index: len(res.Sent), hw: hw.String()})
		res.Sent = append(res.Sent, protocol.WakeSent{MAC: hw.String()})
	}
	if len(macs) == 0 {
		return res, nil
	}
	sender := wol.Sender{Ports: t.Ports, Password: password, Logger: log}
	hws, _ := wol.ParseMACs(macsOf(macs))
	sent, err := sender.Send(ctx, route, hws)
	if err != nil {
		return protocol.WakeResult{}, fmt.Errorf("wake task on %s: %w", route, err)
	}
	for i, r := range sent {
		ws := &res.Sent[macs[i].index]
		ws.Method = string(r.Method)
		if r.Err != nil {
			ws.Error = r.Err.Error()
		}
	}
	if len(t.Watch) > 0 && t.WatchMS > 0 {
		sentAt := time.Now()
		watchWake(ctx, t, subnet, route, &res, sentAt, log)
		res.WatchedMS = max(1, time.Since(sentAt).Milliseconds())
	}
	log.Info("wake task done", "subnet", subnet, "route", route.String(), "macs", len(macs))
	return res, nil
}

// defaultWatchInterval is how often watchWake probes when the task does
// not say.
const defaultWatchInterval = 3 * time.Second

// watchWake probes the last known addresses of the task's targets from
// the agent's own segment every interval until each answered, the task's
// window passed or ctx ended, and records in res when each was seen. ARP
// when the agent may open a raw socket, else ICMP and TCP (the discover
// engine's auto method). An answer from another MAC (the address was given
// to someone else) is not the target waking. Only addresses inside the
// task's subnet are probed, and only for MACs that were sent.
func watchWake(ctx context.Context, t protocol.WakeTask, subnet netip.Prefix, route wol.Route, res *protocol.WakeResult, sentAt time.Time, log *slog.Logger) {
	sent := map[string]*protocol.WakeSent{}
	for i := range res.Sent {
		if res.Sent[i].Error == "" {
			sent[res.Sent[i].MAC] = &res.Sent[i]
		}
	}
	byIP := map[netip.Addr][]*protocol.WakeSent{}
	for _, w := range t.Watch {
		hw, err := wol.ParseMAC(w.MAC)
		if err != nil {
			continue
		}
		ws := sent[hw.String()]
		ip, err := netip.ParseAddr(w.IP)
		if ws == nil || err != nil || !ip.Is4() || !subnet.Contains(ip) {
			continue
		}
		byIP[ip] = append(byIP[ip], ws)
	}
	if len(byIP) == 0 {
		return
	}
	interval := time.Duration(t.IntervalMS) * time.Millisecond
	if interval <= 0 {
		interval = defaultWatchInterval
	}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(t.WatchMS)*time.Millisecond)
	defer cancel()
	opts := discover.Options{Method: discover.MethodAuto, Retries: 0, Timeout: time.Second, NoDNS: true, Logger: log}
	if route.Interface != nil {
		opts.Interface = route.Interface.Name
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		var tokens []string
		for ip := range byIP {
			tokens = append(tokens, ip.String())
		}
		targets, err := discover.ParseTargets(tokens)
		if err != nil {
			log.Warn("wake: watch targets", "err", err)
			return
		}
		r, err := discover.Sweep(wctx, targets, opts)
		if err != nil && r == nil {
			log.Debug("wake: watch probe", "err", err)
		}
		if r != nil {
			for _, h := range r.Hosts {
				var left []*protocol.WakeSent
				for _, ws := range byIP[h.IP] {
					if h.MAC != nil && h.MAC.String() != ws.MAC {
						left = append(left, ws)
						continue
					}
					ws.SeenAfterMS = max(1, time.Since(sentAt).Milliseconds())
					ws.SeenBy = seenBy(h.FoundBy)
				}
				if len(left) == 0 {
					delete(byIP, h.IP)
				} else {
					byIP[h.IP] = left
				}
			}
		}
		if len(byIP) == 0 {
			return
		}
		select {
		case <-wctx.Done():
			return
		case <-tick.C:
		}
	}
}

// seenBy names the probe a host answered.
func seenBy(foundBy []string) string {
	for _, f := range foundBy {
		if f == "arp" || f == "icmp" || strings.HasPrefix(f, "tcp") {
			return f
		}
	}
	return "probe"
}

type wolMAC struct {
	index int
	hw    string
}

func macsOf(ms []wolMAC) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.hw
	}
	return out
}

// errNoWake is returned for a task of another kind.
var errNoWake = errors.New("not a wake task")

// WakeTaskResult runs a protocol.Task of kind wake and wraps the outcome as
// the TaskResult to upload.
func WakeTaskResult(ctx context.Context, task protocol.Task, ifaces []wol.Interface, log *slog.Logger, now func() time.Time) protocol.TaskResult {
	out := protocol.TaskResult{TaskID: task.ID}
	if task.Kind != protocol.TaskWake || task.Wake == nil {
		out.Error = errNoWake.Error()
	} else if r, err := Wake(ctx, *task.Wake, ifaces, log); err != nil {
		out.Error = err.Error()
	} else {
		out.Wake = &r
	}
	out.Finished = now()
	return out
}
