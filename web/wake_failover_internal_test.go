package web

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent"
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

// TestWakeAgentPerMACFailover: when an agent's report fails some of the
// MACs of its task (not the task), those go on to the next online agent
// as a failed task would, naming what failed; the ones it sent stay its
// own. With nowhere further to go, a MAC the last agent failed fails,
// saying what each agent said.
func TestWakeAgentPerMACFailover(t *testing.T) {
	srv, store, first, firstID := agentServer(t, nil)
	ctx := context.Background()
	// The second agent: enrolled over its own TLS listener on the same
	// server, so each client polls as the agent it is.
	ts2 := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(ts2.Close)
	key, _, err := store.CreateEnrollmentKey(ctx, inventory.EnrollmentKey{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := agent.NewClient(ts2.URL, agent.TLSOptions{Fingerprint: fingerprintOf(ts2)}, "test")
	if err != nil {
		t.Fatal(err)
	}
	r, err := second.Enroll(ctx, protocol.EnrollRequest{Key: key, UID: "second"})
	if err != nil {
		t.Fatal(err)
	}
	second.SetToken(r.Token)
	a1, err := store.Agent(ctx, firstID)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := store.Agent(ctx, r.AgentID)
	if err != nil {
		t.Fatal(err)
	}

	const sent, refused, lost = "02:00:00:00:00:21", "02:00:00:00:00:22", "02:00:00:00:00:23"
	subnet := netip.MustParsePrefix("10.49.0.0/24")
	p := chooseWakeRoute(subnet, wakeCandidates{Agents: []inventory.Agent{a1, a2}}, WakeFallbackNone, false)
	if p.Route != inventory.WakeRouteAgent || p.agentID != a1.ID {
		t.Fatalf("plan %+v, want the first agent", p)
	}
	// answer polls cl until it has answered n wake tasks, reporting each
	// MAC with what results says (a MAC it does not name is left out of
	// the report), and then gives the MACs it was asked for.
	answer := func(cl *agent.Client, n int, results map[string]string) <-chan []string {
		got := make(chan []string, 1)
		go func() {
			var asked []string
			defer func() { got <- asked }()
			for n > 0 {
				tasks, err := cl.Tasks(ctx, 20*time.Second)
				if err != nil || len(tasks) == 0 {
					t.Errorf("polling for %d more tasks: %+v %v", n, tasks, err)
					return
				}
				for _, task := range tasks {
					if task.Wake == nil {
						t.Errorf("task %+v, want a wake", task)
						return
					}
					var rep []protocol.WakeSent
					for _, m := range task.Wake.MACs {
						asked = append(asked, m)
						if e, ok := results[m]; ok {
							rep = append(rep, protocol.WakeSent{MAC: m, Method: "raw", Error: e})
						}
					}
					if _, err := cl.Upload(ctx, protocol.TaskResult{TaskID: task.ID, Final: true, Finished: time.Now().UTC(),
						Wake: &protocol.WakeResult{Sent: rep}}); err != nil {
						t.Error(err)
					}
					n--
				}
			}
		}()
		return got
	}
	// The first sends one, refuses one and does not report the third.
	// Those two fail over to the second as two groups, each with its own
	// error (two tasks): it sends the refused one and fails the other.
	firstGot := answer(first, 1, map[string]string{sent: "", refused: "raw socket: operation not permitted"})
	secondGot := answer(second, 2, map[string]string{refused: "", lost: "interface eth1 is down"})
	var lts []*liveTarget
	for _, m := range []string{sent, refused, lost} {
		lts = append(lts, &liveTarget{t: inventory.WakeTarget{MAC: m, Route: p.Route, Via: p.Via, Status: inventory.WakePending}})
	}
	srv.sendWakeGroup(ctx, p, lts)
	if macs := <-firstGot; !slices.Equal(macs, []string{sent, refused, lost}) {
		t.Errorf("first agent was asked for %v, want all three", macs)
	}
	if macs := <-secondGot; !slices.Equal(macs, []string{refused, lost}) {
		t.Errorf("second agent was asked for %v, want the two the first did not send", macs)
	}

	l1, l2 := agentLabel(a1), agentLabel(a2)
	if got := lts[0].t; got.Status != inventory.WakeSent || got.Via != l1 || got.Detail != "" {
		t.Errorf("sent by the first agent: %+v", got)
	}
	if got := lts[1].t; got.Status != inventory.WakeSent || got.Via != l2 || got.Route != inventory.WakeRouteAgent ||
		!strings.Contains(got.Detail, l1+": raw socket: operation not permitted; failed over to agent "+l2) {
		t.Errorf("refused by the first agent: %+v; want sent by %s, naming the first agent's error", got, l2)
	}
	if got := lts[2].t; got.Status != inventory.WakeFailed || got.Via != l2 ||
		!strings.Contains(got.Detail, l1+" did not report this MAC; failed over to agent "+l2) ||
		!strings.Contains(got.Detail, l2+": interface eth1 is down") {
		t.Errorf("unreported by the first agent: %+v; want failed at %s, naming both agents' failures", got, l2)
	}
}
