package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
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
	log.Info("wake task done", "subnet", subnet, "route", route.String(), "macs", len(macs))
	return res, nil
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
