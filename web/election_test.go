package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/web"
)

// electionFixture is a server whose election runs only when asked (admin
// changes run it at once), with the server itself on 10.50.9.0/24.
func electionFixture(t *testing.T) *fixture {
	return newFixture(t, func(_ *inventory.Options, o *web.Options) {
		o.Election = web.ElectionOptions{Interval: -1, ServerNetworks: func() ([]netip.Prefix, error) {
			return []netip.Prefix{netip.MustParsePrefix("10.50.9.0/24")}, nil
		}}
	})
}

// addElectionAgent stores an agent on addr with contacts contacts and
// raw sockets.
func (f *fixture) addElectionAgent(uid, kind, addr string, contacts int) int64 {
	f.t.Helper()
	ctx := context.Background()
	a, err := f.store.RecordAgentInventory(ctx, inventory.AgentInventory{UID: uid, Hostname: uid,
		NICs: []inventory.NIC{{Name: "eth0", Kind: inventory.NICKind(kind), State: "up", Addresses: []string{addr}}}})
	if err != nil {
		f.t.Fatal(err)
	}
	for range contacts {
		if _, err := f.store.RecordAgentContact(ctx, uid, inventory.AgentLanscout); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := f.store.SetAgentHello(ctx, a.ID, []string{inventory.CapRawSockets}, time.Minute); err != nil {
		f.t.Fatal(err)
	}
	return a.ID
}

type scannerJSON struct {
	Kind, ID, Name, Reason string
	ElectedAt              time.Time `json:"elected_at"`
	Score                  float64
}

type subnetElectionJSON struct {
	SubnetID        int64  `json:"subnet_id"`
	CIDR            string `json:"cidr"`
	MaxScanners     int    `json:"max_scanners"`
	Never           bool   `json:"never"`
	Scanners        []scannerJSON
	RunnerUp        *scannerJSON `json:"runner_up"`
	NoScannerReason string       `json:"no_scanner_reason"`
	Pins            []struct {
		AgentID int64 `json:"agent_id"`
	}
	Candidates []struct {
		AgentID  int64 `json:"agent_id"`
		Name     string
		Eligible bool
		Elected  bool
		Pinned   bool
		Never    bool
		Score    float64
		Reason   string
	}
	Events []struct {
		Kind      string
		AgentName string `json:"agent_name"`
	}
}

// TestElectionAPI covers the election's API per role: who scans a subnet
// in GET /subnets/{id} ("scanners"), the whole election, events, and the
// admin controls (max scanners, never, pins), audited; viewers and
// operators may read and not write.
func TestElectionAPI(t *testing.T) {
	f := electionFixture(t)
	ctx := context.Background()
	viewer, operator, admin := f.tokens[inventory.RoleViewer], f.tokens[inventory.RoleOperator], f.tokens[inventory.RoleAdmin]
	var lan, own struct{ ID int64 }
	f.api(admin, http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.50.1.0/24"}, &lan)
	f.api(admin, http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.50.9.0/24"}, &own)
	steady := f.addElectionAgent("steady", "wired", "10.50.1.10/24", 60)
	wifi := f.addElectionAgent("laptop", "wireless", "10.50.1.11/24", 60)
	newbie := f.addElectionAgent("newbie", "wired", "10.50.1.12/24", 1)
	lanPath := fmt.Sprintf("/api/v1/subnets/%d", lan.ID)

	// An admin change runs the election at once.
	var got subnetElectionJSON
	if code := f.api(admin, http.MethodPut, lanPath+"/election", map[string]any{"max_scanners": 1}, &got); code != http.StatusOK {
		t.Fatalf("PUT election as admin: %d", code)
	}
	if len(got.Scanners) != 1 || got.Scanners[0].Name != "steady" || got.Scanners[0].Kind != "agent" ||
		got.RunnerUp == nil || got.RunnerUp.Name != "laptop" || len(got.Candidates) != 3 {
		t.Fatalf("election of the LAN: %+v", got)
	}
	for _, c := range got.Candidates {
		if c.AgentID == newbie && (c.Eligible || !strings.Contains(c.Reason, "3 needed before a first election")) {
			t.Errorf("newbie with one contact: %+v", c)
		}
	}

	// GET /subnets/{id} carries the scanners under their stable names.
	var sub struct {
		Scanners []map[string]any `json:"scanners"`
	}
	if code := f.api(viewer, http.MethodGet, lanPath, nil, &sub); code != http.StatusOK || len(sub.Scanners) != 1 {
		t.Fatalf("GET subnet: %d %+v", code, sub)
	}
	for _, k := range []string{"kind", "id", "name", "elected_at", "score", "reason"} {
		if _, ok := sub.Scanners[0][k]; !ok {
			t.Errorf("scanner has no %q: %v", k, sub.Scanners[0])
		}
	}
	if sub.Scanners[0]["id"] != fmt.Sprint(steady) {
		t.Errorf("scanner id %v, want %d", sub.Scanners[0]["id"], steady)
	}
	// The server's own subnet, with no agent: the server scans it.
	f.api(viewer, http.MethodGet, fmt.Sprintf("/api/v1/subnets/%d", own.ID), nil, &sub)
	if len(sub.Scanners) != 1 || sub.Scanners[0]["kind"] != "server" {
		t.Errorf("server's own subnet: %+v", sub.Scanners)
	}
	// The list leaves scanners out.
	var list struct{ Items []map[string]any }
	f.api(viewer, http.MethodGet, "/api/v1/subnets", nil, &list)
	if _, ok := list.Items[0]["scanners"]; ok {
		t.Errorf("subnet list carries scanners: %v", list.Items[0])
	}

	// Reads for everyone; writes for admins only.
	for _, tok := range []string{viewer, operator} {
		if code := f.api(tok, http.MethodGet, "/api/v1/election", nil, nil); code != http.StatusOK {
			t.Errorf("GET /election: %d", code)
		}
		for _, w := range []struct{ method, path string }{
			{http.MethodPut, lanPath + "/election"},
			{http.MethodPut, fmt.Sprintf("%s/election/pins/%d", lanPath, wifi)},
			{http.MethodDelete, fmt.Sprintf("%s/election/pins/%d", lanPath, wifi)},
			{http.MethodPut, fmt.Sprintf("/api/v1/election/agents/%d", wifi)},
		} {
			if code := f.api(tok, w.method, w.path, map[string]any{"never": true}, nil); code != http.StatusForbidden {
				t.Errorf("%s %s below admin: %d, want 403", w.method, w.path, code)
			}
		}
	}
	if code := f.api("", http.MethodGet, "/api/v1/election", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("GET /election without a token: %d", code)
	}

	// Bad input is refused and changes nothing.
	for _, body := range []any{map[string]any{"max_scanners": 4}, map[string]any{"max_scanners": 0},
		map[string]any{"max": 2}, map[string]any{}} {
		if code := f.api(admin, http.MethodPut, lanPath+"/election", body, nil); code != http.StatusBadRequest {
			t.Errorf("PUT %v: %d, want 400", body, code)
		}
	}
	if code := f.api(admin, http.MethodPut, "/api/v1/subnets/999/election", map[string]any{"never": true}, nil); code != http.StatusNotFound {
		t.Errorf("unknown subnet: %d", code)
	}
	if code := f.api(admin, http.MethodPut, "/api/v1/election/agents/999", map[string]any{"never": true}, nil); code != http.StatusNotFound {
		t.Errorf("unknown agent: %d", code)
	}
	if code := f.api(admin, http.MethodPut, fmt.Sprintf("%s/election/pins/999", lanPath), nil, nil); code != http.StatusNotFound {
		t.Errorf("pin an unknown agent: %d", code)
	}

	// Pin the laptop: it takes the seat whatever its score.
	f.api(admin, http.MethodPut, fmt.Sprintf("%s/election/pins/%d", lanPath, wifi), nil, &got)
	if len(got.Scanners) != 1 || got.Scanners[0].Name != "laptop" || len(got.Pins) != 1 || !strings.Contains(got.Scanners[0].Reason, "pinned") {
		t.Errorf("after pinning the laptop: %+v", got)
	}
	// Two seats: the steady agent comes back beside it.
	f.api(admin, http.MethodPut, lanPath+"/election", map[string]any{"max_scanners": 2}, &got)
	if len(got.Scanners) != 2 || got.MaxScanners != 2 {
		t.Errorf("two seats: %+v", got)
	}
	// Mark the laptop never: the pin no longer counts.
	var ag struct {
		Never          bool
		ElectedSubnets []int64 `json:"elected_subnets"`
	}
	f.api(admin, http.MethodPut, fmt.Sprintf("/api/v1/election/agents/%d", wifi), map[string]any{"never": true}, &ag)
	if !ag.Never || len(ag.ElectedSubnets) != 0 {
		t.Errorf("laptop marked never: %+v", ag)
	}
	f.api(admin, http.MethodDelete, fmt.Sprintf("%s/election/pins/%d", lanPath, wifi), nil, &got)
	// Mark the subnet never: nobody scans it, and it says so.
	f.api(admin, http.MethodPut, lanPath+"/election", map[string]any{"never": true}, &got)
	if len(got.Scanners) != 0 || !got.Never || !strings.Contains(got.NoScannerReason, "never") {
		t.Errorf("subnet never: %+v", got)
	}

	var evs struct {
		Items []struct {
			Kind      string
			AgentName string `json:"agent_name"`
		} `json:"items"`
	}
	if code := f.api(viewer, http.MethodGet, fmt.Sprintf("/api/v1/election/events?subnet=%d", lan.ID), nil, &evs); code != http.StatusOK {
		t.Fatalf("events: %d", code)
	}
	var kinds []string
	for _, e := range evs.Items {
		kinds = append(kinds, e.Kind+":"+e.AgentName)
	}
	want := "released:steady released:laptop elected:steady released:steady elected:laptop elected:steady"
	if strings.Join(kinds, " ") != want {
		t.Errorf("events, newest first: %v\nwant %s", kinds, want)
	}
	if code := f.api(viewer, http.MethodGet, "/api/v1/election/events?limit=0", nil, nil); code != http.StatusBadRequest {
		t.Errorf("limit 0: %d", code)
	}
	// A subnet update through the subnet API reaches the election too
	// (coalesced: it may take the next round, within a second or so).
	ownPath := fmt.Sprintf("/api/v1/subnets/%d", own.ID)
	f.addElectionAgent("ownpc", "wired", "10.50.9.20/24", 60)
	if code := f.api(admin, http.MethodPut, ownPath, map[string]any{"max_scanners": 2}, nil); code != http.StatusOK {
		t.Fatalf("PUT subnet: %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.api(viewer, http.MethodGet, ownPath, nil, &sub)
		if len(sub.Scanners) == 1 && sub.Scanners[0]["kind"] == "agent" && sub.Scanners[0]["name"] == "ownpc" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new agent on the server's subnet was not elected after a subnet update: %+v", sub.Scanners)
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _, err := f.store.AuditLog(ctx, inventory.AuditQuery{Action: "election."})
	if err != nil || len(log) != 6 {
		t.Errorf("audit of election changes: %d entries, %v", len(log), err)
	}
}

// TestElectionPages: the overview and a subnet's election page for every
// role, the admin forms, and 403 for forms below admin.
func TestElectionPages(t *testing.T) {
	f := electionFixture(t)
	admin := f.tokens[inventory.RoleAdmin]
	var lan struct{ ID int64 }
	f.api(admin, http.MethodPost, "/api/v1/subnets", map[string]any{"cidr": "10.50.1.0/24", "name": "Office"}, &lan)
	f.addElectionAgent("steady", "wired", "10.50.1.10/24", 60)
	wifi := f.addElectionAgent("laptop", "wireless", "10.50.1.11/24", 60)
	f.api(admin, http.MethodPut, fmt.Sprintf("/api/v1/subnets/%d/election", lan.ID), map[string]any{"max_scanners": 1}, nil)

	f.user("vera", inventory.RoleViewer)
	f.user("adam", inventory.RoleAdmin)
	page := fmt.Sprintf("/subnets/%d/election", lan.ID)
	// One browser at a time: the fixture's clients share one http.Client.
	var adam *http.Client
	for _, name := range []string{"vera", "adam"} {
		c, _ := f.login(name, testPassword)
		resp, err := c.Get(f.ts.URL + "/election")
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		for _, want := range []string{"10.50.1.0/24", "steady", "laptop", "elected"} {
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("/election as %s: %d, no %q", name, resp.StatusCode, want)
			}
		}
		resp, _ = c.Get(f.ts.URL + page)
		body = readBody(t, resp)
		for _, want := range []string{"Who scans 10.50.1.0/24", "Runner-up", "laptop", "reliability"} {
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("%s as %s: %d, no %q", page, name, resp.StatusCode, want)
			}
		}
		if isAdmin := name == "adam"; isAdmin != strings.Contains(body, "Pin here") {
			t.Errorf("%s as %s: pin buttons shown %v", page, name, !isAdmin)
		}
		if name == "adam" {
			adam = c
			continue
		}
		if resp, _ := c.Get(f.ts.URL + "/subnets/999/election"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown subnet page: %d", resp.StatusCode)
		}
		// Forms: viewers are refused.
		resp = f.postForm(c, page+"/pin", url.Values{"agent": {fmt.Sprint(wifi)}, "pin": {"1"}}, "same-origin")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("pin as viewer: %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
	// Admins change things and are sent back.
	for _, tc := range []struct {
		path string
		form url.Values
		to   string
	}{
		{page + "/pin", url.Values{"agent": {fmt.Sprint(wifi)}, "pin": {"1"}}, page + "?done=pinned"},
		{page, url.Values{"max_scanners": {"2"}}, page + "?done=saved"},
		{fmt.Sprintf("/election/agents/%d/never", wifi), url.Values{"never": {"1"}, "subnet": {fmt.Sprint(lan.ID)}}, page + "?done=never"},
	} {
		resp := f.postForm(adam, tc.path, tc.form, "same-origin")
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tc.to {
			t.Errorf("POST %s: %d to %q, want 303 to %s", tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.to)
		}
	}
	resp := f.postForm(adam, page, url.Values{"max_scanners": {"9"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not between 1 and 3") {
		t.Errorf("max scanners 9: %d", resp.StatusCode)
	}
	var got subnetElectionJSON
	f.api(admin, http.MethodGet, fmt.Sprintf("/api/v1/subnets/%d/election", lan.ID), nil, &got)
	if got.MaxScanners != 2 || len(got.Pins) != 1 || len(got.Scanners) != 1 || got.Scanners[0].Name != "steady" {
		t.Errorf("after the forms: %+v", got)
	}
}
