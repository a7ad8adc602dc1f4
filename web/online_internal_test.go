package web

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
)

// TestOnlineRule: the agents pages, the API and the metrics say online by
// one rule: OfflineAfter poll intervals, an OCS agent's being the OCS
// endpoint's PROLOG_FREQ; revoked agents are never online.
func TestOnlineRule(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	o := Options{}
	o.OCS.PrologFreq = 1 // hours: online for 3h after a contact
	srv, store, _ := dispatchServer(t, &offset, o)
	agent := func(uid string, kind inventory.AgentKind, poll time.Duration) inventory.Agent {
		a, err := store.RecordAgentContact(ctx, uid, kind)
		if err != nil {
			t.Fatal(err)
		}
		if poll > 0 {
			if err := store.SetAgentHello(ctx, a.ID, nil, poll); err != nil {
				t.Fatal(err)
			}
		}
		return a
	}
	ocs := agent("ocs", inventory.AgentOCS, 0)
	slow := agent("slow", inventory.AgentLanscout, time.Hour)
	gone := agent("gone", inventory.AgentLanscout, time.Minute)
	if err := store.SetAgentRevoked(ctx, gone.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		after     time.Duration
		ocs, slow string
		online    int
	}{
		{0, "online", "online", 2},
		{2 * time.Hour, "online", "online", 2},
		{4 * time.Hour, "offline", "offline", 0},
	} {
		offset.Store(int64(tc.after))
		for _, c := range []struct {
			id   int64
			want string
		}{{ocs.ID, tc.ocs}, {slow.ID, tc.slow}, {gone.ID, "revoked"}} {
			a, err := store.Agent(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.agentState(a); got != c.want {
				t.Errorf("%v after contact: %s is %s, want %s", tc.after, a.UID, got, c.want)
			}
		}
		if got := gauge(t, srv, "lanscout_scanners_online", "agent"); got != float64(tc.online) {
			t.Errorf("%v after contact: lanscout_scanners_online{kind=agent} = %v, want %d", tc.after, got, tc.online)
		}
	}
}
