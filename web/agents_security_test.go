package web_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
)

// TestAgentEnrollmentScope: an agent enrolled with a key limited to
// 10.9.0.0/16 that later reports a NIC in 10.20.0.0/24 is never a
// candidate there: the address is not stored. The scope is the agent's
// own, so deleting the key does not lift it.
func TestAgentEnrollmentScope(t *testing.T) {
	f := agentFixture(t)
	ctx := context.Background()
	admin := f.tokens[inventory.RoleAdmin]
	var lab, far struct{ ID int64 }
	f.api(admin, http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.9.3.0/24"}, &lab)
	f.api(admin, http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.20.0.0/24"}, &far)
	key := f.enrollmentKey(map[string]any{"name": "lab", "subnets": []string{"10.9.0.0/16"}})
	ok := f.enroll(key.Key, "lab-pc", "10.9.3.4/24")
	hello := mustJSON(t, protocol.Hello{Version: "t", Capabilities: []string{"raw_sockets"}})
	inv := mustJSON(t, protocol.Inventory{Hostname: "lab-pc", Hash: "h1", NICs: []protocol.NIC{
		{Name: "eth0", Kind: "wired", State: "up", Addresses: []string{"10.9.3.4/24"}},
		{Name: "eth1", Kind: "wired", State: "up", Addresses: []string{"10.20.0.5/24"}},
	}})

	check := func(when string) {
		t.Helper()
		if code, body := f.agentCall(http.MethodPost, protocol.PathHello, ok.Token, hello, true); code != http.StatusOK {
			t.Fatalf("%s: hello: %d %s", when, code, body)
		}
		if code, body := f.agentCall(http.MethodPut, protocol.PathInventory, ok.Token, inv, true); code != http.StatusNoContent {
			t.Fatalf("%s: inventory: %d %s", when, code, body)
		}
		a, err := f.store.Agent(ctx, ok.AgentID)
		if err != nil {
			t.Fatal(err)
		}
		var addrs []string
		for _, n := range a.NICs {
			addrs = append(addrs, n.Addresses...)
		}
		if !slices.Contains(addrs, "10.9.3.4/24") || slices.Contains(addrs, "10.20.0.5/24") {
			t.Errorf("%s: stored addresses %v; want 10.9.3.4/24 and not 10.20.0.5/24", when, addrs)
		}
		for _, sn := range []struct {
			id   int64
			want bool
		}{{lab.ID, true}, {far.ID, false}} {
			// The election runs after the inventory, coalesced: wait
			// for the agent in its own subnet, then look at the other.
			var got subnetElectionJSON
			candidate := false
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				if code := f.api(admin, http.MethodGet, fmt.Sprintf("/api/v1/subnets/%d/election", sn.id), nil, &got); code != http.StatusOK {
					t.Fatalf("%s: election of subnet %d: %d", when, sn.id, code)
				}
				candidate = false
				for _, c := range got.Candidates {
					candidate = candidate || c.AgentID == ok.AgentID
				}
				if candidate || !sn.want || time.Now().After(deadline) {
					break
				}
			}
			for _, sc := range got.Scanners {
				if sc.ID == fmt.Sprint(ok.AgentID) && !sn.want {
					t.Errorf("%s: the agent is elected for subnet %d, outside its scope", when, sn.id)
				}
			}
			if candidate != sn.want {
				t.Errorf("%s: agent a candidate of subnet %d: %v, want %v (%+v)", when, sn.id, candidate, sn.want, got.Candidates)
			}
		}
	}
	check("with its key")
	if code := f.api(admin, http.MethodDelete, fmt.Sprintf("/api/v1/enrollment-keys/%d", key.ID), nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete key: %d", code)
	}
	inv = mustJSON(t, protocol.Inventory{Hostname: "lab-pc", Hash: "h2", NICs: []protocol.NIC{
		{Name: "eth0", Kind: "wired", State: "up", Addresses: []string{"10.9.3.4/24"}},
		{Name: "eth1", Kind: "wired", State: "up", Addresses: []string{"10.20.0.5/24"}},
	}})
	check("after its key was deleted")
}

// TestAgentEnrollmentLimits: an enrolled UID cannot be taken over with
// another key (409, audited) until an admin deletes the agent; oversized
// enrollments are refused; unknown-key guesses are rate limited per
// address; the poll interval an agent announces is clamped.
func TestAgentEnrollmentLimits(t *testing.T) {
	f := agentFixture(t)
	ctx := context.Background()
	admin := f.tokens[inventory.RoleAdmin]
	k1 := f.enrollmentKey(map[string]any{"name": "one"})
	k2 := f.enrollmentKey(map[string]any{"name": "two"})
	first := f.enroll(k1.Key, "victim", "10.1.1.1/24")

	code, body := f.agentCall(http.MethodPost, protocol.PathEnroll, "", mustJSON(t, protocol.EnrollRequest{Key: k2.Key, UID: "victim"}), true)
	if code != http.StatusConflict || !strings.Contains(body, "already enrolled; an admin deletes it to enroll it again") {
		t.Errorf("takeover of an enrolled UID: %d %s; want 409", code, body)
	}
	hello := mustJSON(t, protocol.Hello{Version: "t", PollIntervalMS: 1 << 62})
	if code, body := f.agentCall(http.MethodPost, protocol.PathHello, first.Token, hello, true); code != http.StatusOK {
		t.Fatalf("the first token after a refused takeover: %d %s", code, body)
	}
	if a, _ := f.store.Agent(ctx, first.AgentID); a.PollInterval != 24*60*60*1e9 {
		t.Errorf("announced poll interval 2^62 ms stored as %v, want 24h", a.PollInterval)
	}
	f.agentCall(http.MethodPost, protocol.PathHello, first.Token, mustJSON(t, protocol.Hello{Version: "t", PollIntervalMS: 3}), true)
	if a, _ := f.store.Agent(ctx, first.AgentID); a.PollInterval != 1e9 {
		t.Errorf("announced poll interval 3ms stored as %v, want 1s", a.PollInterval)
	}
	entries, _, _ := f.store.AuditLog(ctx, inventory.AuditQuery{})
	audited := false
	for _, e := range entries {
		audited = audited || (e.Action == "agent.enroll" && strings.Contains(e.Details, "already enrolled"))
	}
	if !audited {
		t.Error("the refused takeover is not in the audit log")
	}
	if code := f.api(admin, http.MethodDelete, fmt.Sprintf("/api/v1/agents/%d", first.AgentID), nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete agent: %d", code)
	}
	f.enroll(k2.Key, "victim", "10.1.1.1/24")

	// Too big a body or too many addresses: refused before anything.
	many := make([]string, 1025)
	for i := range many {
		many[i] = fmt.Sprintf("10.2.%d.%d/32", i/256, i%256)
	}
	if code, body := f.agentCall(http.MethodPost, protocol.PathEnroll, "", mustJSON(t, protocol.EnrollRequest{Key: k1.Key, UID: "many", Addresses: many}), true); code != http.StatusBadRequest || !strings.Contains(body, "at most 1024") {
		t.Errorf("1025 addresses: %d %s", code, body)
	}
	big := mustJSON(t, protocol.EnrollRequest{Key: k1.Key, UID: "big", Hostname: strings.Repeat("x", 70<<10)})
	for _, gz := range []bool{false, true} {
		if code, body := f.agentCall(http.MethodPost, protocol.PathEnroll, "", big, gz); code != http.StatusRequestEntityTooLarge {
			t.Errorf("70 KiB enrollment (gzip %v): %d %s; want 413", gz, code, body)
		}
	}
	if _, err := f.store.AgentByUID(ctx, "big"); err == nil {
		t.Error("an oversized enrollment stored an agent")
	}

	// Unknown keys: 401 until the address's budget is spent, then 429
	// with Retry-After, even for a good key.
	guess := mustJSON(t, protocol.EnrollRequest{Key: "lse_guess", UID: "g"})
	var last int
	for range 25 {
		last, _ = f.agentCall(http.MethodPost, protocol.PathEnroll, "", guess, false)
		if last == http.StatusTooManyRequests {
			break
		}
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("25 unknown keys from one address: last %d, want 429", last)
	}
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+protocol.PathEnroll,
		strings.NewReader(string(mustJSON(t, protocol.EnrollRequest{Key: k1.Key, UID: "late"}))))
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("enroll after the guesses: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
