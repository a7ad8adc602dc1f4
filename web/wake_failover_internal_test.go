package web

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/wol"
)

// TestWakeAgentFailover: when the agent a wake was routed to does not
// report its task in time, the next online agent in the subnet sends it,
// and the target says so (route and via of the one that sent, detail of
// the one that failed) instead of failing.
func TestWakeAgentFailover(t *testing.T) {
	srv, store, cl, waker := agentServer(t, nil)
	srv.wake.opts.AgentTimeout = 2 * time.Second
	ctx := context.Background()
	silent, err := store.RecordAgentContact(ctx, "silent", inventory.AgentLanscout)
	if err != nil {
		t.Fatal(err)
	}
	silent.Hostname = "silent"
	second, err := store.Agent(ctx, waker)
	if err != nil {
		t.Fatal(err)
	}
	const mac = "02:00:00:00:00:09"
	subnet := netip.MustParsePrefix("10.47.0.0/24")
	p := chooseWakeRoute(subnet, wakeCandidates{Agents: []inventory.Agent{silent, second}}, WakeFallbackNone, false)
	if p.Route != inventory.WakeRouteAgent || p.agentID != silent.ID {
		t.Fatalf("plan %+v, want the silent agent first", p)
	}
	// The second agent answers its task; the silent one never polls.
	answered := make(chan error, 1)
	go func() {
		tasks, err := cl.Tasks(ctx, 20*time.Second)
		if err != nil || len(tasks) != 1 || tasks[0].Wake == nil {
			answered <- err
			return
		}
		_, err = cl.Upload(ctx, protocol.TaskResult{TaskID: tasks[0].ID, Final: true, Finished: time.Now().UTC(),
			Wake: &protocol.WakeResult{Sent: []protocol.WakeSent{{MAC: mac, Method: "raw"}}}})
		answered <- err
	}()
	lt := &liveTarget{t: inventory.WakeTarget{MAC: mac, Route: p.Route, Via: p.Via, Status: inventory.WakePending}}
	srv.sendWakeGroup(ctx, p, []*liveTarget{lt})
	select {
	case err := <-answered:
		if err != nil {
			t.Errorf("second agent: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("the second agent never got the task")
	}
	got := lt.t
	if got.Status != inventory.WakeSent || got.Route != inventory.WakeRouteAgent || got.Via != agentLabel(second) ||
		got.Method != "raw" || !strings.Contains(got.Detail, "did not report the wake task") {
		t.Errorf("target %+v; want sent via %s, saying the first agent did not report", got, agentLabel(second))
	}
}

// TestWakeAgentWatchFailover: a task that asks the agent to watch the
// target (it has a last address) still fails over after agent_timeout
// when the agent never fetches it, not after agent_timeout plus the
// confirm window (an hour here: the test would not end); the agent that
// answers reports the target seen, and it is confirmed by that agent with
// the time it took.
func TestWakeAgentWatchFailover(t *testing.T) {
	srv, store, cl, waker := agentServer(t, nil)
	srv.wake.opts.AgentTimeout = 2 * time.Second
	srv.wake.opts.ConfirmTimeout = time.Hour
	ctx := context.Background()
	silent, err := store.RecordAgentContact(ctx, "silent", inventory.AgentLanscout)
	if err != nil {
		t.Fatal(err)
	}
	second, err := store.Agent(ctx, waker)
	if err != nil {
		t.Fatal(err)
	}
	const mac, ip = "02:00:00:00:00:0a", "10.47.0.10"
	subnet := netip.MustParsePrefix("10.47.0.0/24")
	p := chooseWakeRoute(subnet, wakeCandidates{Agents: []inventory.Agent{silent, second}}, WakeFallbackNone, false)
	answered := make(chan error, 1)
	go func() {
		tasks, err := cl.Tasks(ctx, 20*time.Second)
		if err == nil && (len(tasks) != 1 || tasks[0].Wake == nil || len(tasks[0].Wake.Watch) != 1 ||
			tasks[0].Wake.Watch[0] != (protocol.WakeWatch{MAC: mac, IP: ip}) || tasks[0].Wake.WatchMS != time.Hour.Milliseconds()) {
			err = fmt.Errorf("tasks %+v: want one wake task watching %s at %s for an hour", tasks, mac, ip)
		}
		if err != nil {
			answered <- err
			return
		}
		_, err = cl.Upload(ctx, protocol.TaskResult{TaskID: tasks[0].ID, Final: true, Finished: time.Now().UTC(),
			Wake: &protocol.WakeResult{WatchedMS: 9000,
				Sent: []protocol.WakeSent{{MAC: mac, Method: "raw", SeenAfterMS: 7500, SeenBy: "arp"}}}})
		answered <- err
	}()
	lt := &liveTarget{t: inventory.WakeTarget{MAC: mac, IP: ip, Route: p.Route, Via: p.Via, Status: inventory.WakePending}}
	srv.sendWakeGroup(ctx, p, []*liveTarget{lt})
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	got := lt.t
	if got.Status != inventory.WakeConfirmed || got.ConfirmedBy != "agent arp" || got.Via != agentLabel(second) ||
		got.TookToWake() != 7500*time.Millisecond || !strings.Contains(got.Detail, "did not pick up the wake task") {
		t.Errorf("target %+v (took %s); want confirmed by the second agent's ARP after 7.5s, saying the first did not pick it up",
			got, got.TookToWake())
	}
}

// goneInterface is a route out of an interface the host does not have
// (any more): the sender's raw socket cannot be bound to it, as when the
// interface was removed after the route was chosen. It has no broadcast,
// so the sender cannot fall back to UDP and nothing leaves the host.
func goneInterface(t *testing.T) wol.Route {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	idx := 1
	for _, ifi := range ifs {
		idx = max(idx, ifi.Index+1000)
	}
	return wol.Route{Interface: &wol.Interface{Name: "gone0", Index: idx,
		HardwareAddr: net.HardwareAddr{0x02, 0, 0, 0, 0x60, 0x01}, Flags: net.FlagUp | net.FlagBroadcast}}
}

// TestWakeLocalFailover: when the server cannot send on its own segment
// (here its interface is gone, so the real sender cannot open its
// socket), the target goes to the agent online in the subnet instead of
// failing, and says so: route and via of the agent that sent, a detail
// naming the failed local send and the failover, and the audit's outcome
// line keeps that detail. With nowhere else to go it fails, saying why.
func TestWakeLocalFailover(t *testing.T) {
	srv, store, cl, waker := agentServer(t, nil)
	ctx := context.Background()
	a, err := store.Agent(ctx, waker)
	if err != nil {
		t.Fatal(err)
	}
	const mac = "02:00:00:00:00:0a"
	subnet := netip.MustParsePrefix("10.48.0.0/24")
	local := goneInterface(t)

	lone := chooseWakeRoute(subnet, wakeCandidates{Local: &local}, WakeFallbackNone, false)
	lt := &liveTarget{t: inventory.WakeTarget{MAC: mac, Route: lone.Route, Via: lone.Via, Status: inventory.WakePending}}
	srv.sendWakeGroup(ctx, lone, []*liveTarget{lt})
	if got := lt.t; got.Status != inventory.WakeFailed || got.Route != inventory.WakeRouteLocal ||
		!strings.Contains(got.Detail, "send from the server via gone0") || strings.Contains(got.Detail, "failed over") {
		t.Errorf("with no agent or satellite: %+v; want failed on the local route, saying why", got)
	}

	p := chooseWakeRoute(subnet, wakeCandidates{Local: &local, Agents: []inventory.Agent{a}}, WakeFallbackNone, false)
	if p.Route != inventory.WakeRouteLocal {
		t.Fatalf("plan %+v, want the local route first", p)
	}
	answered := make(chan error, 1)
	go func() {
		tasks, err := cl.Tasks(ctx, 20*time.Second)
		if err != nil || len(tasks) != 1 || tasks[0].Wake == nil {
			answered <- fmt.Errorf("tasks %+v: %v", tasks, err)
			return
		}
		if tasks[0].Wake.Subnet != subnet.String() || len(tasks[0].Wake.MACs) != 1 || tasks[0].Wake.MACs[0] != mac {
			answered <- fmt.Errorf("wake task %+v, want %s in %s", tasks[0].Wake, mac, subnet)
			return
		}
		_, err = cl.Upload(ctx, protocol.TaskResult{TaskID: tasks[0].ID, Final: true, Finished: time.Now().UTC(),
			Wake: &protocol.WakeResult{Sent: []protocol.WakeSent{{MAC: mac, Method: "raw"}}}})
		answered <- err
	}()
	lt = &liveTarget{t: inventory.WakeTarget{MAC: mac, Route: p.Route, Via: p.Via, Status: inventory.WakePending}}
	srv.sendWakeGroup(ctx, p, []*liveTarget{lt})
	select {
	case err := <-answered:
		if err != nil {
			t.Errorf("agent: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("the agent never got the task")
	}
	got := lt.t
	if got.Status != inventory.WakeSent || got.Route != inventory.WakeRouteAgent || got.Via != agentLabel(a) || got.Method != "raw" ||
		!strings.Contains(got.Detail, "send from the server via gone0") ||
		!strings.Contains(got.Detail, "failed over to agent "+agentLabel(a)) {
		t.Errorf("target %+v; want sent via %s, naming the failed local send", got, agentLabel(a))
	}
	line := wakeTargetSummary(got)
	if !strings.Contains(line, "via agent "+agentLabel(a)) || !strings.Contains(line, "send from the server via gone0") {
		t.Errorf("audit line %q does not name both the failed local send and the agent", line)
	}
}
