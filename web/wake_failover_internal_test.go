package web

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
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
