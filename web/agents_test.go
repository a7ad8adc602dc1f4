package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanscout/lanscout/agent"
	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/election"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/web"
)

// agentFixture is a server tuned for agents: fast polls, an election that
// seats an agent after one contact, and no server networks of its own.
func agentFixture(t *testing.T, tune ...func(*inventory.Options, *web.Options)) *fixture {
	return newFixture(t, append([]func(*inventory.Options, *web.Options){func(_ *inventory.Options, o *web.Options) {
		o.Agents = web.AgentOptions{PollInterval: time.Second, MaxWait: 3 * time.Second}
		o.Election = web.ElectionOptions{Config: election.Config{MinContacts: 1}, Coalesce: time.Millisecond,
			Interval: 200 * time.Millisecond, ServerNetworks: func() ([]netip.Prefix, error) { return nil, nil }}
	}}, tune...)...)
}

type createdKey struct {
	inventory.EnrollmentKey
	Key string `json:"key"`
}

func (f *fixture) enrollmentKey(in map[string]any) createdKey {
	f.t.Helper()
	var k createdKey
	if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodPost, "/api/v1/enrollment-keys", in, &k); code != http.StatusCreated {
		f.t.Fatalf("create enrollment key: %d", code)
	}
	if !strings.HasPrefix(k.Key, k.Prefix) || k.Key == "" {
		f.t.Fatalf("created key %+v", k)
	}
	return k
}

// agentCall sends a raw agent request: body as given (gzip when asked),
// bearer token when given. It returns the status and the body.
func (f *fixture) agentCall(method, path, token string, body []byte, gzipped bool, hdr ...string) (int, string) {
	f.t.Helper()
	if gzipped {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
	}
	req, err := http.NewRequest(method, f.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		var e protocol.Error
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			f.t.Errorf("%s %s: %d without a JSON error: %s", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, string(b)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) enroll(key, uid string, addrs ...string) protocol.EnrollReply {
	f.t.Helper()
	code, body := f.agentCall(http.MethodPost, protocol.PathEnroll, "", mustJSON(f.t, protocol.EnrollRequest{Key: key, UID: uid,
		Hostname: uid + "-host", Addresses: addrs}), true)
	if code != http.StatusOK {
		f.t.Fatalf("enroll %s: %d %s", uid, code, body)
	}
	var r protocol.EnrollReply
	json.Unmarshal([]byte(body), &r)
	return r
}

// TestAgentEnrollmentAndAuth: keys buy tokens; unknown, revoked, expired
// and out-of-scope keys are refused with what is wrong; agent endpoints
// need an agent token and refuse a revoked agent.
func TestAgentEnrollmentAndAuth(t *testing.T) {
	f := agentFixture(t)
	open := f.enrollmentKey(map[string]any{"name": "office"})
	scoped := f.enrollmentKey(map[string]any{"name": "lab", "subnets": []string{"10.9.0.0/16"}})
	leaked := f.enrollmentKey(map[string]any{"name": "leaked"})
	if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodPost, fmt.Sprintf("/api/v1/enrollment-keys/%d/revoke", leaked.ID), nil, nil); code != http.StatusOK {
		t.Fatalf("revoke key: %d", code)
	}
	hello := mustJSON(t, protocol.Hello{Version: "t", Capabilities: []string{"raw_sockets", "made_up"}})

	cases := []struct {
		name   string
		req    protocol.EnrollRequest
		status int
		msg    string
	}{
		{"unknown key", protocol.EnrollRequest{Key: "lse_nope", UID: "u1"}, 401, "unknown enrollment key"},
		{"revoked key", protocol.EnrollRequest{Key: leaked.Key, UID: "u2"}, 403, "revoked"},
		{"outside the key's subnets", protocol.EnrollRequest{Key: scoped.Key, UID: "u3", Addresses: []string{"10.10.0.5/24"}}, 403, "10.9.0.0/16"},
		{"no uid", protocol.EnrollRequest{Key: open.Key}, 400, "UID"},
	}
	for _, c := range cases {
		code, body := f.agentCall(http.MethodPost, protocol.PathEnroll, "", mustJSON(t, c.req), false)
		if code != c.status || !strings.Contains(body, c.msg) {
			t.Errorf("%s: %d %s; want %d mentioning %q", c.name, code, body, c.status, c.msg)
		}
	}
	agents, _ := f.store.Agents(context.Background(), inventory.AgentQuery{})
	if len(agents) != 0 {
		t.Fatalf("refused enrollments stored agents: %+v", agents)
	}

	ok := f.enroll(scoped.Key, "lab-pc", "10.9.3.4/24")
	if !strings.HasPrefix(ok.Token, "lsa_") || ok.PollIntervalMS != 1000 {
		t.Fatalf("enroll reply %+v", ok)
	}
	// Agent endpoints need the agent's token; API tokens and nothing are
	// not one.
	for _, tok := range []string{"", "lsa_bogus", f.tokens[inventory.RoleAdmin]} {
		if code, _ := f.agentCall(http.MethodPost, protocol.PathHello, tok, hello, true); code != http.StatusUnauthorized {
			t.Errorf("hello with token %q: %d, want 401", tok, code)
		}
	}
	code, body := f.agentCall(http.MethodPost, protocol.PathHello, ok.Token, hello, true)
	if code != http.StatusOK {
		t.Fatalf("hello: %d %s", code, body)
	}
	var hr protocol.HelloReply
	json.Unmarshal([]byte(body), &hr)
	if hr.AgentID != ok.AgentID || !hr.SendInventory {
		t.Errorf("hello reply %+v: want agent %d and an inventory asked for", hr, ok.AgentID)
	}
	a, _ := f.store.Agent(context.Background(), ok.AgentID)
	if fmt.Sprint(a.Capabilities) != "[raw_sockets]" || a.Fidelity != 1 {
		t.Errorf("after hello: capabilities %v fidelity %d; want [raw_sockets] (unknown ones dropped), 1", a.Capabilities, a.Fidelity)
	}
	// A cross-site browser request is refused; agents send no such header.
	if code, _ := f.agentCall(http.MethodPost, protocol.PathHello, ok.Token, hello, true, "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden {
		t.Errorf("cross-site hello: %d, want 403", code)
	}

	// Revoking the key with its agents shuts the agent out.
	var rev struct {
		AgentsRevoked int `json:"agents_revoked"`
	}
	if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodPost, fmt.Sprintf("/api/v1/enrollment-keys/%d/revoke", scoped.ID),
		map[string]any{"agents": true}, &rev); code != http.StatusOK || rev.AgentsRevoked != 1 {
		t.Fatalf("revoke key with agents: %d, %+v", code, rev)
	}
	code, body = f.agentCall(http.MethodPost, protocol.PathHello, ok.Token, hello, true)
	if code != http.StatusForbidden || !strings.Contains(body, "revoked") {
		t.Errorf("revoked agent hello: %d %s; want 403 saying revoked", code, body)
	}
	// Only admins see and make keys; every role sees agents.
	for _, r := range []inventory.Role{inventory.RoleViewer, inventory.RoleOperator} {
		if code := f.api(f.tokens[r], http.MethodGet, "/api/v1/enrollment-keys", nil, nil); code != http.StatusForbidden {
			t.Errorf("%s lists keys: %d", r, code)
		}
		if code := f.api(f.tokens[r], http.MethodPost, "/api/v1/enrollment-keys", map[string]any{}, nil); code != http.StatusForbidden {
			t.Errorf("%s creates a key: %d", r, code)
		}
		if code := f.api(f.tokens[r], http.MethodPost, fmt.Sprintf("/api/v1/agents/%d/reinstate", ok.AgentID), nil, nil); code != http.StatusForbidden {
			t.Errorf("%s reinstates an agent: %d", r, code)
		}
		if code := f.api(f.tokens[r], http.MethodGet, "/api/v1/agents", nil, nil); code != http.StatusOK {
			t.Errorf("%s lists agents: %d", r, code)
		}
	}
	// Admins reinstate; the agent is let in again.
	admin := f.tokens[inventory.RoleAdmin]
	var reinstated struct {
		State   string `json:"state"`
		Revoked bool   `json:"revoked"`
	}
	if code := f.api(admin, http.MethodPost, fmt.Sprintf("/api/v1/agents/%d/reinstate", ok.AgentID), nil, &reinstated); code != http.StatusOK || reinstated.Revoked {
		t.Fatalf("reinstate: %d %+v", code, reinstated)
	}
	if code, body := f.agentCall(http.MethodPost, protocol.PathHello, ok.Token, hello, true); code != http.StatusOK {
		t.Errorf("hello after reinstatement: %d %s", code, body)
	}
	// A malformed inventory is refused and changes nothing.
	for _, bad := range []protocol.Inventory{
		{Hostname: "x", NICs: []protocol.NIC{{Name: "eth0", Addresses: []string{"10.9.3.4/99"}}}},
	} {
		if code, body := f.agentCall(http.MethodPut, protocol.PathInventory, ok.Token, mustJSON(t, bad), true); code != http.StatusBadRequest {
			t.Errorf("bad inventory: %d %s", code, body)
		}
	}
	if code, _ := f.agentCall(http.MethodPut, protocol.PathInventory, ok.Token, []byte(`{"hostname": 5}`), false); code != http.StatusBadRequest {
		t.Errorf("inventory of the wrong shape: %d", code)
	}
	if a, _ := f.store.Agent(context.Background(), ok.AgentID); len(a.NICs) != 0 || !a.LastInventory.IsZero() {
		t.Errorf("a refused inventory was stored: %+v", a)
	}
	var tasks []inventory.AgentTask
	if code := f.api(f.tokens[inventory.RoleViewer], http.MethodGet, fmt.Sprintf("/api/v1/agents/%d/tasks?open=1", ok.AgentID), nil, &tasks); code != http.StatusOK || len(tasks) != 0 {
		t.Errorf("agent tasks: %d %v", code, tasks)
	}
	if code := f.api(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/agents/999", nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown agent: %d", code)
	}
	var one inventory.EnrollmentKey
	if code := f.api(admin, http.MethodGet, fmt.Sprintf("/api/v1/enrollment-keys/%d", open.ID), nil, &one); code != http.StatusOK || one.Name != "office" {
		t.Errorf("get key: %d %+v", code, one)
	}
	if code := f.api(admin, http.MethodPost, "/api/v1/enrollment-keys", map[string]any{"subnets": []string{"nope"}}, nil); code != http.StatusBadRequest {
		t.Errorf("key with a bad subnet: %d", code)
	}
	if code := f.api(admin, http.MethodPost, "/api/v1/enrollment-keys", map[string]any{"expires_in": "-1h"}, nil); code != http.StatusBadRequest {
		t.Errorf("key expired at birth: %d", code)
	}
	if code := f.api(admin, http.MethodDelete, fmt.Sprintf("/api/v1/enrollment-keys/%d", leaked.ID), nil, nil); code != http.StatusNoContent {
		t.Errorf("delete key: %d", code)
	}
	if code := f.api(admin, http.MethodGet, fmt.Sprintf("/api/v1/enrollment-keys/%d", leaked.ID), nil, nil); code != http.StatusNotFound {
		t.Errorf("deleted key: %d", code)
	}

	var keys []inventory.EnrollmentKey
	f.api(f.tokens[inventory.RoleAdmin], http.MethodGet, "/api/v1/enrollment-keys", nil, &keys)
	if len(keys) != 2 {
		t.Fatalf("keys: %+v", keys)
	}
	if b, _ := json.Marshal(keys); strings.Contains(string(b), open.Key) {
		t.Error("the key list shows a key in clear")
	}
	entries, _, _ := f.store.AuditLog(context.Background(), inventory.AuditQuery{})
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"enrollment_key.create", "enrollment_key.revoke", "agent.enroll"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit log %v lacks %s", actions, want)
		}
	}
}

// TestAgentResultUploads: batches are stored once and in order; a
// malformed, oversized, misdirected or out-of-order upload gets a clear
// 4xx and stores nothing.
func TestAgentResultUploads(t *testing.T) {
	f := agentFixture(t)
	ctx := context.Background()
	k := f.enrollmentKey(map[string]any{})
	me := f.enroll(k.Key, "me", "10.7.0.2/24")
	other := f.enroll(k.Key, "other", "10.7.0.3/24")
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.7.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := f.store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerAgent, ID: "me"}, "arp")
	if err != nil {
		t.Fatal(err)
	}
	task, err := f.store.CreateAgentTask(ctx, inventory.AgentTask{AgentID: me.AgentID, Kind: "scan", SubnetID: sn.ID, ScanID: run.ID,
		Payload: `{"task":{"kind":"scan","scan":{"subnet":"10.7.0.0/24"}}}`})
	if err != nil {
		t.Fatal(err)
	}
	devs := func(ips ...string) []protocol.Device {
		var out []protocol.Device
		for i, ip := range ips {
			out = append(out, protocol.Device{Device: scan.Device{IP: ip, MAC: fmt.Sprintf("02:00:00:00:07:%02x", i+1),
				FoundBy: []string{"arp"}, Hostnames: []string{}, Reasons: []string{}}})
		}
		return out
	}
	path := protocol.ResultPath(task.ID)
	upload := func(tok string, r protocol.TaskResult) (int, string) {
		return f.agentCall(http.MethodPost, path, tok, mustJSON(t, r), true)
	}
	count := func() int {
		page, err := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID})
		if err != nil {
			t.Fatal(err)
		}
		return page.Total
	}
	bomb := append(append([]byte(`{"task_id":"`+task.ID+`","error":"`), bytes.Repeat([]byte("x"), protocol.MaxDecodedBytes)...), []byte(`"}`)...)
	refused := []struct {
		name   string
		status int
		send   func() (int, string)
	}{
		{"not gzip though it says so", 400, func() (int, string) {
			return f.agentCall(http.MethodPost, path, me.Token, []byte(`{"task_id":"x"}`), false, "Content-Encoding", "gzip")
		}},
		{"not JSON", 400, func() (int, string) { return f.agentCall(http.MethodPost, path, me.Token, []byte("{nope"), true) }},
		{"gzip bomb", 413, func() (int, string) { return f.agentCall(http.MethodPost, path, me.Token, bomb, true) }},
		{"too large as sent", 413, func() (int, string) {
			return f.agentCall(http.MethodPost, path, me.Token, bytes.Repeat([]byte(" "), 2<<20), false)
		}},
		{"another task's id in the body", 400, func() (int, string) {
			return upload(me.Token, protocol.TaskResult{TaskID: "elsewhere", Scan: &protocol.ScanResult{Devices: devs("10.7.0.9")}})
		}},
		{"bad device address", 400, func() (int, string) {
			return upload(me.Token, protocol.TaskResult{TaskID: task.ID, Scan: &protocol.ScanResult{Devices: devs("10.7.0.999")}})
		}},
		{"wake part on a scan task", 400, func() (int, string) {
			return upload(me.Token, protocol.TaskResult{TaskID: task.ID, Final: true, Wake: &protocol.WakeResult{}})
		}},
		{"another agent's task", 404, func() (int, string) {
			return upload(other.Token, protocol.TaskResult{TaskID: task.ID, Scan: &protocol.ScanResult{Devices: devs("10.7.0.9")}})
		}},
		{"batch ahead", 409, func() (int, string) {
			return upload(me.Token, protocol.TaskResult{TaskID: task.ID, Batch: 1, Scan: &protocol.ScanResult{Devices: devs("10.7.0.9")}})
		}},
		{"no token", 401, func() (int, string) {
			return upload("", protocol.TaskResult{TaskID: task.ID, Scan: &protocol.ScanResult{Devices: devs("10.7.0.9")}})
		}},
	}
	for _, c := range refused {
		if code, body := c.send(); code != c.status {
			t.Errorf("%s: %d %s; want %d", c.name, code, body, c.status)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("refused uploads stored %d devices", n)
	}
	if got, _ := f.store.AgentTask(ctx, task.ID); got.NextBatch != 0 || got.Status != inventory.TaskPending {
		t.Fatalf("refused uploads moved the task: %+v", got)
	}

	b0 := protocol.TaskResult{TaskID: task.ID, Batch: 0, Scan: &protocol.ScanResult{Devices: devs("10.7.0.10", "10.7.0.11")}}
	code, body := upload(me.Token, b0)
	if code != 200 || !strings.Contains(body, `"recorded":2`) {
		t.Fatalf("batch 0: %d %s", code, body)
	}
	code, body = upload(me.Token, b0)
	if code != 200 || !strings.Contains(body, `"duplicate":true`) {
		t.Fatalf("batch 0 again: %d %s", code, body)
	}
	if n := count(); n != 2 {
		t.Fatalf("after a duplicate batch: %d devices, want 2", n)
	}
	final := protocol.TaskResult{TaskID: task.ID, Batch: 1, Final: true, Scan: &protocol.ScanResult{Devices: devs("10.7.0.12"),
		Summary: &protocol.ScanSummary{Method: "arp", Stats: scan.ReportStats{Addresses: 254, Responders: 3}, Warnings: []string{}}}}
	if code, body := upload(me.Token, final); code != 200 {
		t.Fatalf("final batch: %d %s", code, body)
	}
	if code, body := upload(me.Token, final); code != 200 || !strings.Contains(body, `"duplicate":true`) {
		t.Fatalf("final batch again: %d %s", code, body)
	}
	got, _ := f.store.AgentTask(ctx, task.ID)
	if got.Status != inventory.TaskDone || strings.Contains(got.Result, "10.7.0.12") {
		t.Errorf("task after the final batch: %+v (devices must not be kept in the result)", got)
	}
	done, _ := f.store.ScanRun(ctx, run.ID)
	if done.Status != inventory.ScanDone || done.Stats.Recorded != 3 || done.Stats.Addresses != 254 || done.Scanner.Kind != inventory.ScannerAgent {
		t.Errorf("scan run after the final batch: %+v", done)
	}
	if n := count(); n != 3 {
		t.Errorf("devices: %d, want 3", n)
	}
	page, _ := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID})
	for _, d := range page.Devices {
		det, _ := f.store.Device(ctx, d.ID)
		if len(det.Sightings) == 0 || det.Sightings[0].Scanner.ID != "me" {
			t.Errorf("device %s: sightings %+v, want seen by agent me", d.IP, det.Sightings)
		}
	}
}

// TestAgentEndToEnd runs the real agent against the server over TLS with
// a pinned fingerprint: it enrolls, reports its machine, gets elected for
// its subnet, takes "Scan now" as a task with the subnet's SNMP
// credentials, and its devices land in the inventory as found by it.
func TestAgentEndToEnd(t *testing.T) {
	f := agentFixture(t, func(_ *inventory.Options, o *web.Options) {
		o.Agents.ScanRate, o.Agents.ScanRetries = 321, 3
	})
	ctx := context.Background()
	if _, err := f.store.PutCredential(ctx, snmp.Credential{Name: "lab", Version: snmp.V2c, Community: "s3cret-community"}); err != nil {
		t.Fatal(err)
	}
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.7.0.0/24", Method: "arp", Credentials: []string{"lab"}})
	if err != nil {
		t.Fatal(err)
	}
	k := f.enrollmentKey(map[string]any{"subnets": []string{"10.7.0.0/24"}})
	sum := sha256.Sum256(f.ts.Certificate().Raw)

	var mu sync.Mutex
	var gotCreds []snmp.Credential
	var gotTask protocol.ScanTask
	release := make(chan struct{})
	scanFn := func(ctx context.Context, task protocol.ScanTask, creds []snmp.Credential, device func(scan.Device)) (*scan.Report, error) {
		mu.Lock()
		gotCreds, gotTask = creds, task
		mu.Unlock()
		r := &scan.Report{Method: "arp", Stats: scan.ReportStats{Addresses: 254, Responders: 5}, Warnings: []string{}}
		for i := range 5 {
			d := scan.Device{IP: fmt.Sprintf("10.7.0.%d", 20+i), MAC: fmt.Sprintf("02:00:00:00:07:%02x", 20+i),
				FoundBy: []string{"arp"}, Hostnames: []string{}, Reasons: []string{}, Category: "unknown"}
			device(d)
			r.Devices = append(r.Devices, d)
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return r, nil
	}
	stateDir := t.TempDir()
	a, err := agent.New(agent.Options{
		Server: f.ts.URL, EnrollKey: k.Key, StateDir: stateDir, Version: "test",
		TLS:  agent.TLSOptions{Fingerprint: "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])},
		Scan: scanFn, Wait: 2 * time.Second, BatchDevices: 2,
		Collector: agent.Collector{Root: filepath.Join("..", "agent", "testdata", "root"), Interfaces: func() ([]agent.NetIf, error) {
			return []agent.NetIf{{Name: "eth0", MAC: "52:54:00:07:00:05", MTU: 1500, Addrs: []netip.Prefix{netip.MustParsePrefix("10.7.0.5/24")}}}, nil
		}},
		Backoff: agent.Backoff{Base: 50 * time.Millisecond, Max: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	actx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(actx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("agent Run: %v", err)
		}
	})

	type agentJSON struct {
		ID             int64               `json:"id"`
		State          string              `json:"state"`
		Capabilities   []string            `json:"capabilities"`
		NICs           []inventory.NIC     `json:"nics"`
		ElectedSubnets []map[string]any    `json:"elected_subnets"`
		Inventory      *protocol.Inventory `json:"inventory"`
	}
	var ag agentJSON
	waitFor(t, func() bool {
		var list []agentJSON
		f.api(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/agents", nil, &list)
		if len(list) == 1 && len(list[0].ElectedSubnets) == 1 {
			ag = list[0]
			return true
		}
		return false
	})
	if ag.State != "online" || len(ag.NICs) != 1 || ag.NICs[0].Kind != "wired" || ag.NICs[0].Addresses[0] != "10.7.0.5/24" {
		t.Errorf("agent as listed: %+v", ag)
	}
	var det agentJSON
	f.api(f.tokens[inventory.RoleViewer], http.MethodGet, fmt.Sprintf("/api/v1/agents/%d", ag.ID), nil, &det)
	if det.Inventory == nil || det.Inventory.Hostname != "deskpc" || fmt.Sprint(det.Inventory.Gateways) != "[10.0.0.1 192.168.168.1]" {
		t.Errorf("agent detail inventory: %+v", det.Inventory)
	}

	// The inventory goes up only when it changed: the hellos that follow
	// carry the same hash, the server answers send_inventory false, and
	// the agent does not upload it again.
	sent, err := f.store.Agent(ctx, ag.ID)
	if err != nil || sent.LastInventory.IsZero() {
		t.Fatalf("agent after its first inventory: %+v %v", sent, err)
	}
	waitFor(t, func() bool {
		now, err := f.store.Agent(ctx, ag.ID)
		return err == nil && now.Fidelity >= sent.Fidelity+2
	})
	if now, _ := f.store.Agent(ctx, ag.ID); !now.LastInventory.Equal(sent.LastInventory) {
		t.Errorf("unchanged inventory uploaded again: last inventory %v, then %v after %d more hellos",
			sent.LastInventory, now.LastInventory, now.Fidelity-sent.Fidelity)
	}
	st, err := agent.LoadState(stateDir)
	if err != nil || st.Token == "" || st.InventoryHash == "" {
		t.Fatalf("agent state: %+v %v", st, err)
	}
	hello := func(hash string) protocol.HelloReply {
		t.Helper()
		body := mustJSON(t, protocol.Hello{Version: "test", Protocol: protocol.Version, Capabilities: sent.Capabilities,
			InventoryHash: hash, PollIntervalMS: time.Second.Milliseconds()})
		code, resp := f.agentCall(http.MethodPost, protocol.PathHello, st.Token, body, false)
		var r protocol.HelloReply
		if code != http.StatusOK || json.Unmarshal([]byte(resp), &r) != nil {
			t.Fatalf("hello: %d %s", code, resp)
		}
		return r
	}
	if r := hello(st.InventoryHash); r.SendInventory {
		t.Errorf("hello with the hash of the stored inventory: send_inventory true")
	}
	if r := hello("0123456789abcdef0123456789abcdef"); !r.SendInventory {
		t.Errorf("hello with another hash: send_inventory false")
	}

	var run inventory.ScanRun
	if code := f.api(f.tokens[inventory.RoleOperator], http.MethodPost, fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, &run); code != http.StatusAccepted {
		t.Fatalf("scan now: %d", code)
	}
	if run.Scanner.Kind != inventory.ScannerAgent {
		t.Errorf("scan run %+v: want it recorded as by the agent", run)
	}
	// The subnet has an open task: a second "Scan now" is refused.
	if code := f.api(f.tokens[inventory.RoleOperator], http.MethodPost, fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, nil); code != http.StatusConflict {
		t.Errorf("second scan now while the agent scans: %d, want 409", code)
	}
	// Devices stream in batches while the scan runs.
	waitFor(t, func() bool {
		page, _ := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID})
		return page.Total >= 4
	})
	close(release)
	waitFor(t, func() bool {
		tasks, _ := f.store.AgentTasks(ctx, inventory.AgentTaskQuery{SubnetID: sn.ID})
		return len(tasks) == 1 && !tasks[0].Status.Open()
	})
	r, _ := f.store.ScanRun(ctx, run.ID)
	if r.Status != inventory.ScanDone || r.Stats.Recorded != 5 {
		t.Errorf("agent scan run: %+v", r)
	}
	mu.Lock()
	if len(gotCreds) != 1 || string(gotCreds[0].Community) != "s3cret-community" {
		t.Errorf("credentials delivered: %+v", gotCreds)
	}
	// The server's sweep settings travel with the task.
	if gotTask.Rate != 321 || gotTask.Retries != 3 {
		t.Errorf("scan task rate %d, retries %d; want 321 and 3", gotTask.Rate, gotTask.Retries)
	}
	mu.Unlock()
	tasks, _ := f.store.AgentTasks(ctx, inventory.AgentTaskQuery{AgentID: ag.ID})
	if len(tasks) != 1 || tasks[0].Status != inventory.TaskDone || strings.Contains(tasks[0].Payload, "s3cret") {
		t.Errorf("tasks: %+v (the stored payload must hold no secret)", tasks)
	}
	// An agent the admin deleted enrolls again with its key, keeping its
	// own id (its UID).
	before, err := f.store.Agent(ctx, ag.ID)
	if err != nil {
		t.Fatal(err)
	}
	uid := before.UID
	if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodDelete, fmt.Sprintf("/api/v1/agents/%d", ag.ID), nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete agent: %d", code)
	}
	waitFor(t, func() bool {
		a, err := f.store.AgentByUID(ctx, uid)
		return err == nil && a.FirstContact.After(before.FirstContact)
	})
	again, _ := f.store.AgentByUID(ctx, uid)
	ag.ID = again.ID

	// Pages render for every role.
	c, _ := f.login(mustUser(f, "ann", inventory.RoleAdmin), testPassword)
	for _, p := range []string{"/agents", fmt.Sprintf("/agents/%d", ag.ID), "/enrollment-keys"} {
		resp, err := c.Get(f.ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != 200 || !strings.Contains(body, "deskpc") && p != "/enrollment-keys" {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
}

func mustUser(f *fixture, name string, role inventory.Role) string {
	f.user(name, role)
	return name
}

// TestEnrollmentKeysPage: an admin creates a key from the page and sees
// it once; the list shows only its prefix; other roles are refused.
func TestEnrollmentKeysPage(t *testing.T) {
	f := agentFixture(t)
	f.user("ann", inventory.RoleAdmin)
	f.user("vic", inventory.RoleViewer)
	admin, _ := f.login("ann", testPassword)
	resp := f.postForm(admin, "/enrollment-keys", url.Values{"name": {"office"}, "subnets": {"10.1.0.0/16, 10.2.0.0/24"}, "expires_in": {"72h"}}, "same-origin")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "lse_") || !strings.Contains(body, "10.2.0.0/24") {
		t.Fatalf("create key page: %d\n%s", resp.StatusCode, body)
	}
	keys, _ := f.store.EnrollmentKeys(context.Background())
	if len(keys) != 1 || keys[0].CreatedBy != "ann" || keys[0].Expires.IsZero() {
		t.Fatalf("stored keys %+v", keys)
	}
	resp = f.postForm(admin, "/enrollment-keys", url.Values{"subnets": {"not-a-cidr"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not-a-cidr") {
		t.Errorf("bad subnet: %d", resp.StatusCode)
	}
	resp, _ = admin.Get(f.ts.URL + "/enrollment-keys")
	if body := readBody(t, resp); strings.Count(body, "lse_") != 1 || !strings.Contains(body, keys[0].Prefix+"…") {
		t.Errorf("key list shows more than the prefix:\n%s", body)
	}
	resp = f.postForm(admin, fmt.Sprintf("/enrollment-keys/%d/revoke", keys[0].ID), url.Values{}, "same-origin")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("revoke from the page: %d", resp.StatusCode)
	}
	if k, _ := f.store.EnrollmentKey(context.Background(), keys[0].ID); k.Revoked.IsZero() {
		t.Error("key not revoked")
	}
	viewer, _ := f.login("vic", testPassword)
	resp, _ = viewer.Get(f.ts.URL + "/enrollment-keys")
	if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer on the keys page: %d", resp.StatusCode)
	}
	resp, _ = viewer.Get(f.ts.URL + "/agents")
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || strings.Contains(body, "/enrollment-keys") {
		t.Errorf("viewer on the agents page: %d (no link to the keys)", resp.StatusCode)
	}
	resp, _ = viewer.Get(f.ts.URL + "/agents/999")
	if readBody(t, resp); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown agent page: %d", resp.StatusCode)
	}
}
