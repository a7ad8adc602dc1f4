package web_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/lanscout/lanscout/agent/ocs"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/web"
)

const (
	unixAgentUA   = "OCS-NG_unified_unix_agent_v2.10.0"
	sampleDevice  = "ocsp-agent-2026-11-22-02-31-32"
	ocsSampleDir  = "../agent/ocs/testdata"
	ocsTestSubnet = "10.88.1.0/24"
)

func ocsSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ocsSampleDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func zlibBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ocsEnabled(_ *inventory.Options, o *web.Options) { o.OCS.Enabled = true }

// ocsPost posts a body as an OCS agent does and returns the status and
// the decoded reply (or the error text).
type ocsCall struct {
	body      []byte
	ua        string
	user, pwd string
	path      string
}

func (f *fixture) ocs(c ocsCall) (int, http.Header, []byte) {
	f.t.Helper()
	if c.path == "" {
		c.path = "/ocsinventory"
	}
	req, err := http.NewRequest(http.MethodPost, f.ts.URL+c.path, bytes.NewReader(c.body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-compress")
	req.Header.Set("Pragma", "no-cache")
	if c.ua == "" {
		c.ua = unixAgentUA
	}
	req.Header.Set("User-Agent", c.ua)
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pwd)
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		doc, _, err := ocs.DecodeBytes(b, ocs.Limits{})
		if err != nil {
			f.t.Fatalf("reply does not decode: %v", err)
		}
		b = doc
	}
	return resp.StatusCode, resp.Header, b
}

// TestOCSPrologEncodings: the captured prolog, in each encoding, is
// answered SEND in the same encoding and counted as a contact.
func TestOCSPrologEncodings(t *testing.T) {
	f := newFixture(t, ocsEnabled)
	plain := ocsSample(t, "prolog-request.xml")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(plain)
	w.Close()
	for i, c := range []struct {
		name string
		body []byte
		enc  ocs.Encoding
	}{
		{"zlib from Perl", ocsSample(t, "prolog-request.zlib"), ocs.Zlib},
		{"gzip", gz.Bytes(), ocs.Gzip},
		{"plain", plain, ocs.Plain},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/ocsinventory", bytes.NewReader(c.body))
			req.Header.Set("User-Agent", unixAgentUA)
			resp, err := f.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw := readBody(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, raw)
			}
			doc, enc, err := ocs.DecodeBytes([]byte(raw), ocs.Limits{})
			if err != nil || enc != c.enc {
				t.Fatalf("reply encoding %s %v, want %s", enc, err, c.enc)
			}
			want := ocsSample(t, "prolog-reply-send.golden.xml")
			if !bytes.Equal(doc, want) {
				t.Errorf("reply\n%s\nwant\n%s", doc, want)
			}
			a, err := f.store.AgentByUID(context.Background(), sampleDevice)
			if err != nil {
				t.Fatal(err)
			}
			if a.Kind != inventory.AgentOCS || a.Fidelity != i+1 {
				t.Errorf("agent %+v: want kind ocs, fidelity %d", a, i+1)
			}
			st, err := f.store.OCSAgent(context.Background(), a.ID)
			if err != nil || st.UserAgent != unixAgentUA || st.LastProlog.IsZero() || st.AskedCIDR != "" {
				t.Errorf("OCS state %+v %v", st, err)
			}
		})
	}
}

// askOCS notes, as a PROLOG reply naming it does, that the OCS agent uid
// was asked to sweep sn.
func (f *fixture) askOCS(uid string, sn inventory.Subnet) {
	f.t.Helper()
	ctx := context.Background()
	a, err := f.store.RecordAgentContact(ctx, uid, inventory.AgentOCS)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.RecordOCSProlog(ctx, inventory.OCSProlog{AgentID: a.ID, UserAgent: unixAgentUA,
		AskedSubnetID: sn.ID, AskedCIDR: sn.CIDR}); err != nil {
		f.t.Fatal(err)
	}
}

// TestOCSInventory: the captured inventory makes an OCS agent machine with
// its NICs, keeps the other sections raw, and records its IpDiscover
// hosts as a scan of the subnet by that agent once it was asked to sweep
// it; before, they are ignored.
func TestOCSInventory(t *testing.T) {
	f := newFixture(t, ocsEnabled)
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: ocsTestSubnet})
	if err != nil {
		t.Fatal(err)
	}
	// Not asked, not elected: the machine is stored, its results are not.
	status, _, reply := f.ocs(ocsCall{body: ocsSample(t, "inventory-request.zlib")})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, reply)
	}
	a, err := f.store.AgentByUID(ctx, sampleDevice)
	if err != nil {
		t.Fatal(err)
	}
	if page, err := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID, Limit: 100}); err != nil || page.Total != 0 {
		t.Fatalf("results of an agent never asked were recorded: %d devices, %v", page.Total, err)
	}
	if st, err := f.store.OCSAgent(ctx, a.ID); err != nil || st.Hosts != 0 || st.Ignored != 11 || st.LastScanID != 0 ||
		!strings.Contains(st.Note, "ignored: it was neither asked nor elected") || !strings.Contains(st.Note, "without being asked") {
		t.Fatalf("OCS state after unasked results %+v %v", st, err)
	}

	f.askOCS(sampleDevice, sn)
	status, _, reply = f.ocs(ocsCall{body: ocsSample(t, "inventory-request.zlib")})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, reply)
	}
	if want := ocsSample(t, "inventory-reply.xml"); !bytes.Equal(reply, want) {
		t.Errorf("reply\n%s\nwant\n%s", reply, want)
	}
	a, err = f.store.AgentByUID(ctx, sampleDevice)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != inventory.AgentOCS || a.Hostname != "ocsp-agent" || a.OSName != "Debian GNU/Linux 12" || a.Version != "2.10.0" {
		t.Errorf("agent %+v", a.AgentInventory)
	}
	if len(a.NICs) != 1 {
		t.Fatalf("NICs %+v, want eth0 once", a.NICs)
	}
	n := a.NICs[0]
	if n.Name != "eth0" || n.MAC != "02:88:01:00:00:0a" || n.State != "up" || n.Kind != inventory.NICWired ||
		strings.Join(n.Addresses, " ") != "10.88.1.10/24 fe80::88:1ff:fe00:a/64" {
		t.Errorf("NIC %+v", n)
	}
	page, err := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 11 {
		t.Fatalf("%d devices in %s, want the 11 the agent found", page.Total, ocsTestSubnet)
	}
	var gw inventory.Device
	for _, d := range page.Devices {
		if d.IP == "10.88.1.1" {
			gw = d
		}
		if strings.Join(d.FoundBy, ",") != "ocs-ipdiscover" {
			t.Errorf("%s found by %v", d.IP, d.FoundBy)
		}
	}
	if gw.MAC != "02:88:01:00:00:01" || gw.Name != "lab-gw" {
		t.Errorf("gateway %+v", gw)
	}
	detail, err := f.store.Device(ctx, gw.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range detail.Sightings {
		if s.Scanner != (inventory.Scanner{Kind: inventory.ScannerAgent, ID: sampleDevice}) {
			t.Errorf("sighting %+v not by the agent", s)
		}
	}
	runs, err := f.store.ScanRuns(ctx, sn.ID, 5)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v %v", runs, err)
	}
	if r := runs[0]; r.Method != "ocs-ipdiscover" || r.Status != inventory.ScanDone || r.Stats.Recorded != 11 || r.Stats.Addresses != 254 {
		t.Errorf("run %+v", r)
	}
	st, err := f.store.OCSAgent(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.ScannedCIDR != ocsTestSubnet || st.ScannedSubnetID != sn.ID || st.Hosts != 11 || st.LastScanID != runs[0].ID ||
		st.Note != "" {
		t.Errorf("OCS state %+v", st)
	}

	// The page and the API show it.
	f.user("vera", inventory.RoleViewer)
	c, _ := f.login("vera", testPassword)
	resp, err := c.Get(f.ts.URL + "/ocs")
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	for _, want := range []string{"ocsp-agent", sampleDevice, unixAgentUA, ocsTestSubnet} {
		if !strings.Contains(body, want) {
			t.Errorf("/ocs lacks %q", want)
		}
	}
	var out struct{ Agents []inventory.OCSAgent }
	if code := f.api(f.tokens[inventory.RoleViewer], http.MethodGet, "/api/v1/ocs/agents", nil, &out); code != http.StatusOK || len(out.Agents) != 1 {
		t.Errorf("API: %d %+v", code, out)
	}
}

// TestOCSRefusals: bad bodies, identities and queries get a 400 (an
// unknown agent's prolog a STOP) and store nothing.
func TestOCSRefusals(t *testing.T) {
	f := newFixture(t, ocsEnabled)
	ctx := context.Background()
	if _, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: ocsTestSubnet}); err != nil {
		t.Fatal(err)
	}
	inv := ocsSample(t, "inventory-request.xml")
	withID := func(id string) []byte {
		return zlibBytes(t, bytes.Replace(inv, []byte(sampleDevice), []byte(id), 1))
	}
	random := make([]byte, 1536<<10)
	rand.Read(random)
	bomb := zlibBytes(t, append(inv[:len(inv)-20], bytes.Repeat([]byte(" "), 30<<20)...))
	zlibInv := ocsSample(t, "inventory-request.zlib")
	cases := []struct {
		name   string
		call   ocsCall
		status int
		want   string
	}{
		{"garbage", ocsCall{body: []byte("hello")}, 400, "malformed body"},
		{"empty", ocsCall{body: nil}, 400, "malformed body"},
		{"truncated zlib", ocsCall{body: zlibInv[:len(zlibInv)/2]}, 400, "malformed body"},
		{"not XML", ocsCall{body: zlibBytes(t, []byte("<REQUEST><QUERY>INVENTORY"))}, 400, "malformed body"},
		{"oversized", ocsCall{body: random}, 400, "too large"},
		{"zip bomb", ocsCall{body: bomb}, 400, "inflates too much"},
		{"no DEVICEID", ocsCall{body: zlibBytes(t, []byte("<REQUEST><QUERY>PROLOG</QUERY></REQUEST>"))}, 400, "DEVICEID"},
		{"bad DEVICEID", ocsCall{body: withID("ocsp-agent")}, 400, "DEVICEID"},
		{"bad DEVICEID date", ocsCall{body: withID("ocsp-agent-2026-13-22-02-31-32")}, 400, "DEVICEID"},
		{"unknown query", ocsCall{body: zlibBytes(t, []byte("<REQUEST><DEVICEID>"+sampleDevice+"</DEVICEID><QUERY>DOWNLOAD</QUERY></REQUEST>"))}, 400, "not supported"},
		{"inventory without content", ocsCall{body: zlibBytes(t, []byte("<REQUEST><DEVICEID>"+sampleDevice+"</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>"))}, 400, "without CONTENT"},
		{"inventory from a browser", ocsCall{body: zlibInv, ua: "Mozilla/5.0"}, 400, "User-Agent"},
		{"inventory from an unknown agent", ocsCall{body: zlibInv, ua: "GLPI-Agent_v1.5"}, 400, "no known OCS agent"},
		{"prolog from curl", ocsCall{body: ocsSample(t, "prolog-request.zlib"), ua: "curl/8.0"}, 200, "<RESPONSE>STOP</RESPONSE>"},
	}
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes, over the body limit: it would not test the ratio", len(bomb))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := f.ocs(c.call)
			if status != c.status || !strings.Contains(string(body), c.want) {
				t.Fatalf("status %d %q, want %d with %q", status, body, c.status, c.want)
			}
			agents, err := f.store.Agents(ctx, inventory.AgentQuery{})
			if err != nil || len(agents) != 0 {
				t.Fatalf("agents stored: %+v %v", agents, err)
			}
			db, err := f.store.Dashboard(ctx)
			if err != nil || db.Devices != 0 {
				t.Fatalf("devices stored: %d %v", db.Devices, err)
			}
		})
	}
	// The endpoint takes POST only.
	resp, err := f.ts.Client().Get(f.ts.URL + "/ocsinventory")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestOCSBasicAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("hashed secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) {
		o.OCS = web.OCSOptions{Enabled: true, Path: "/ocs-agents", Realm: "lab realm", Users: []web.OCSUser{
			{Name: "hashed", BcryptHash: string(hash)},
			{Name: "plain", Password: "plain secret"},
		}}
	})
	prolog := ocsSample(t, "prolog-request.zlib")
	cases := []struct {
		name, user, pwd string
		status          int
	}{
		{"none", "", "", 401},
		{"wrong password", "hashed", "plain secret", 401},
		{"unknown user", "nobody", "hashed secret", 401},
		{"wrong plain password", "plain", "plain secre", 401},
		{"bcrypt user", "hashed", "hashed secret", 200},
		{"plain user", "plain", "plain secret", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := f.ocs(ocsCall{body: prolog, user: c.user, pwd: c.pwd, path: "/ocs-agents"})
			if status != c.status {
				t.Fatalf("status %d (%s), want %d", status, body, c.status)
			}
			if status == 401 && h.Get("WWW-Authenticate") != `Basic realm="lab realm"` {
				t.Errorf("challenge %q", h.Get("WWW-Authenticate"))
			}
		})
	}
	// A guesser is stopped after 20 wrong passwords, even with the right
	// one; asking without credentials (as agents do first) costs nothing.
	for range 30 {
		if status, _, _ := f.ocs(ocsCall{body: prolog, path: "/ocs-agents"}); status != 401 {
			t.Fatalf("no credentials: %d", status)
		}
	}
	for i := range 17 { // 3 wrong ones above already
		if status, _, _ := f.ocs(ocsCall{body: prolog, user: "plain", pwd: "guess", path: "/ocs-agents"}); status != 401 {
			t.Fatalf("guess %d: %d", i, status)
		}
	}
	status, h, _ := f.ocs(ocsCall{body: prolog, user: "plain", pwd: "plain secret", path: "/ocs-agents"})
	if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Errorf("after 20 wrong passwords: %d, Retry-After %q", status, h.Get("Retry-After"))
	}

	// The default path is not served when another is configured.
	if status, _, _ := f.ocs(ocsCall{body: prolog, user: "plain", pwd: "plain secret"}); status != http.StatusNotFound {
		t.Errorf("default path: %d", status)
	}
}

func TestOCSDisabledByDefault(t *testing.T) {
	f := newFixture(t)
	if status, _, _ := f.ocs(ocsCall{body: ocsSample(t, "prolog-request.zlib")}); status != http.StatusNotFound {
		t.Errorf("status %d, want 404", status)
	}
}

// ocsElecting turns OCS on with an IpDiscover latency of 20 and no server
// networks, so that an OCS agent may be elected for any subnet.
func ocsElecting(_ *inventory.Options, o *web.Options) {
	o.OCS = web.OCSOptions{Enabled: true, IPDiscoverLatency: 20}
	o.Election.ServerNetworks = func() ([]netip.Prefix, error) { return nil, nil }
}

// withoutIPDiscover is the inventory doc without its IPDISCOVER section:
// an agent that was not asked, or did not sweep.
func withoutIPDiscover(doc []byte) []byte {
	start, end := bytes.Index(doc, []byte("<IPDISCOVER>")), bytes.Index(doc, []byte("</IPDISCOVER>"))+len("</IPDISCOVER>")
	return append(append([]byte{}, doc[:start]...), doc[end:]...)
}

// ocsOK posts body as an OCS agent does and returns the decoded reply;
// anything but 200 fails the test.
func (f *fixture) ocsOK(body []byte) string {
	f.t.Helper()
	status, _, reply := f.ocs(ocsCall{body: body})
	if status != http.StatusOK {
		f.t.Fatalf("status %d: %s", status, reply)
	}
	return string(reply)
}

// prologUntilAsked sends prolog until the reply holds option, the PARAM
// asking the agent to sweep. OCS's rule: a few contacts before a first
// election; rounds close together are coalesced, so the agent calls until
// a round has seen enough of its contacts (as a real agent does, every
// PROLOG_FREQ).
func (f *fixture) prologUntilAsked(prolog []byte, option string) {
	f.t.Helper()
	var reply string
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(reply, option); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatalf("the agent was never asked for %s; last reply:\n%s", option, reply)
		}
		reply = f.ocsOK(prolog)
	}
}

// standing is agent's election standing in subnet, zero when it has none.
func (f *fixture) standing(subnet, agent int64) inventory.ScanStanding {
	f.t.Helper()
	in, err := f.store.ElectionInput(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	for _, st := range in.Standings {
		if st.SubnetID == subnet && st.AgentID == agent {
			return st
		}
	}
	return inventory.ScanStanding{}
}

// TestOCSElectedAgent: an agent the election seats is asked to sweep its
// subnet; when it sweeps another (the Unix agent sweeps its default-route
// interface whatever it is told) what it really swept is recorded and
// said, and the election hears of the failure, as it does of an upload
// without results.
func TestOCSElectedAgent(t *testing.T) {
	f := newFixture(t, ocsElecting)
	ctx := context.Background()
	swept, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: ocsTestSubnet})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.77.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	// No agent may scan the default-route subnet, so the election seats
	// the agent on its other interface's subnet.
	if err := f.store.SetSubnetNever(ctx, swept.ID, true, "test"); err != nil {
		t.Fatal(err)
	}
	full := ocsSample(t, "inventory-request.xml")
	secondNIC := []byte(`<NETWORKS><DESCRIPTION>eth1</DESCRIPTION><IPADDRESS>10.77.1.10</IPADDRESS><IPMASK>255.255.255.0</IPMASK>` +
		`<IPSUBNET>10.77.1.0</IPSUBNET><MACADDR>02:77:01:00:00:0a</MACADDR><STATUS>Up</STATUS><TYPE>ethernet</TYPE></NETWORKS>`)
	full = bytes.Replace(full, []byte("<STORAGES />"), append(secondNIC, "<STORAGES />"...), 1)
	noDiscovery := withoutIPDiscover(full)
	prolog := ocsSample(t, "prolog-request.zlib")

	post := f.ocsOK
	post(prolog)
	post(zlibBytes(t, noDiscovery)) // not asked: nothing to report
	option := `<PARAM IPDISC_LAT="20" SCAN_TYPE_IPDISCOVER="ICMP">10.77.1.0</PARAM>`
	f.prologUntilAsked(prolog, option)
	a, err := f.store.AgentByUID(ctx, sampleDevice)
	if err != nil {
		t.Fatal(err)
	}
	standing := func() inventory.ScanStanding { return f.standing(other.ID, a.ID) }

	// It sweeps its default-route network instead.
	post(zlibBytes(t, full))
	st, err := f.store.OCSAgent(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := "elected for 10.77.1.0/24 but its IpDiscover results were for 10.88.1.0/24"
	if st.AskedCIDR != "10.77.1.0/24" || st.ScannedCIDR != ocsTestSubnet || st.ScannedSubnetID != swept.ID ||
		st.Hosts != 0 || st.Ignored != 11 || !strings.Contains(st.Note, want) {
		t.Fatalf("OCS state %+v", st)
	}
	if s := standing(); s.Failures != 1 || !strings.Contains(s.LastError, want) {
		t.Errorf("standing after a sweep of the wrong subnet: %+v", s)
	}
	// Nobody asked it to sweep that subnet, nor elected it there: what
	// it says of it is not recorded.
	page, err := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: swept.ID})
	if err != nil || page.Total != 0 {
		t.Errorf("devices recorded in a subnet it was not asked or elected for: %d %v", page.Total, err)
	}

	// Asked again, it sends no results at all (unprivileged).
	f.prologUntilAsked(prolog, option)
	post(zlibBytes(t, noDiscovery))
	st, err = f.store.OCSAgent(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want = "elected for 10.77.1.0/24 but reported no IpDiscover results"
	if !strings.Contains(st.Note, want) || st.ScannedCIDR != ocsTestSubnet {
		t.Errorf("OCS state %+v", st)
	}
	if s := standing(); s.Failures != 2 || !strings.Contains(s.LastError, want) {
		t.Errorf("standing after an upload without results: %+v", s)
	}

	// The page says it.
	f.user("vera", inventory.RoleViewer)
	c, _ := f.login("vera", testPassword)
	resp, err := c.Get(f.ts.URL + "/ocs")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, want) || !strings.Contains(body, "10.77.1.0/24") {
		t.Errorf("/ocs does not show the note")
	}
}

// TestOCSSilentElectedAgent: an elected OCS agent that keeps calling
// (PROLOG) but never sends the inventory its IpDiscover results ride on
// fails a scan at each prolog after the one that asked it, and at the
// failure limit loses its seat and is no longer asked, saying why; it is
// not kept elected in silence.
func TestOCSSilentElectedAgent(t *testing.T) {
	f := newFixture(t, ocsElecting)
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: ocsTestSubnet})
	if err != nil {
		t.Fatal(err)
	}
	full := ocsSample(t, "inventory-request.xml")
	noDiscovery := withoutIPDiscover(full)
	prolog := ocsSample(t, "prolog-request.zlib")
	post := f.ocsOK
	post(prolog)
	post(zlibBytes(t, noDiscovery)) // its NICs, for the election
	option := `<PARAM IPDISC_LAT="20" SCAN_TYPE_IPDISCOVER="ICMP">10.88.1.0</PARAM>`
	f.prologUntilAsked(prolog, option)
	a, err := f.store.AgentByUID(ctx, sampleDevice)
	if err != nil {
		t.Fatal(err)
	}
	standing := func() inventory.ScanStanding { return f.standing(sn.ID, a.ID) }
	if s := standing(); s.Failures != 0 || s.Demotions != 0 {
		t.Fatalf("standing before any silent prolog: %+v", s)
	}
	want := "asked to sweep 10.88.1.0/24 at "
	// Two prologs without an inventory between: two failures; still
	// elected, it is asked again each time.
	for i := 1; i <= 2; i++ {
		reply := post(prolog)
		s := standing()
		if s.Failures != i || !strings.Contains(s.LastError, want) || !strings.Contains(s.LastError, "no inventory followed") {
			t.Fatalf("standing after %d silent prologs: %+v", i, s)
		}
		if !strings.Contains(reply, option) {
			t.Fatalf("not asked again after %d failures (limit 3):\n%s", i, reply)
		}
	}
	// The third: demoted, and no longer asked.
	reply := post(prolog)
	if strings.Contains(reply, "IPDISCOVER") {
		t.Errorf("a demoted agent is still asked to sweep:\n%s", reply)
	}
	if s := standing(); s.Demotions != 1 || s.CooldownUntil.IsZero() || !strings.Contains(s.LastError, "no inventory followed") {
		t.Errorf("standing after three silent prologs: %+v", s)
	}
	evs, err := f.store.ElectionEvents(ctx, inventory.ElectionEventQuery{SubnetID: sn.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	demoted := false
	for _, ev := range evs {
		if ev.Kind == "demoted" && ev.AgentID == a.ID && strings.Contains(ev.Reason, "no inventory followed") {
			demoted = true
		}
	}
	if !demoted {
		t.Errorf("no demoted event saying why: %+v", evs)
	}
	st, err := f.store.OCSAgent(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.AskedSubnetID != 0 || !strings.Contains(st.Note, want) {
		t.Errorf("OCS state after the demotion %+v", st)
	}
	f.user("vera", inventory.RoleViewer)
	c, _ := f.login("vera", testPassword)
	resp, err := c.Get(f.ts.URL + "/ocs")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, "no inventory followed") {
		t.Errorf("/ocs does not say the agent sent no inventory")
	}
}

// TestOCSInventoryMapping: a Windows agent's inventory, synthetic but in
// its shapes (upper-case MACs, TYPEMIB, a Wi-Fi card, one section per
// address, "-" for unnamed hosts), maps onto the machine as expected.
func TestOCSInventoryMapping(t *testing.T) {
	f := newFixture(t, ocsEnabled)
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "192.168.5.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<REQUEST><DEVICEID>DESKTOP-PMOIBHH-2018-06-01-16-31-07</DEVICEID><QUERY>INVENTORY</QUERY><CONTENT>
<HARDWARE><NAME>DESKTOP-PMOIBHH</NAME><OSNAME>Microsoft Windows 10 Professionnel</OSNAME><OSVERSION>10.0.17134</OSVERSION>
<UUID>19104CED-27A1-4B05-A0C9-ACFE6DA9FBE2</UUID><DEFAULTGATEWAY>192.168.5.1</DEFAULTGATEWAY></HARDWARE>
<BIOS><SMANUFACTURER>Dell Inc.</SMANUFACTURER><SMODEL>OptiPlex 7090</SMODEL><SSN>ABC1234</SSN><MSN>/XYZ/</MSN></BIOS>
<NETWORKS><DESCRIPTION>Intel(R) Ethernet Connection I219-LM</DESCRIPTION><TYPE>Ethernet</TYPE><TYPEMIB>ethernetCsmacd</TYPEMIB>
<MACADDR>00:1A:2B:3C:4D:5E</MACADDR><STATUS>Up</STATUS><IPADDRESS>192.168.5.20</IPADDRESS><IPMASK>255.255.255.0</IPMASK></NETWORKS>
<NETWORKS><DESCRIPTION>Intel(R) Ethernet Connection I219-LM</DESCRIPTION><TYPE>Ethernet</TYPE><TYPEMIB>ethernetCsmacd</TYPEMIB>
<MACADDR>00:1A:2B:3C:4D:5E</MACADDR><STATUS>Up</STATUS><IPADDRESS>192.168.5.21</IPADDRESS><IPMASK>255.255.255.0</IPMASK></NETWORKS>
<NETWORKS><DESCRIPTION>Intel(R) Wi-Fi 6 AX201</DESCRIPTION><TYPE>Wifi</TYPE><TYPEMIB>ieee80211</TYPEMIB>
<MACADDR>A0:B1:C2:D3:E4:F5</MACADDR><STATUS>Down</STATUS><IPADDRESS>0.0.0.0</IPADDRESS><IPMASK>0.0.0.0</IPMASK></NETWORKS>
<NETWORKS><DESCRIPTION>Hyper-V Virtual Ethernet Adapter</DESCRIPTION><TYPE>Ethernet</TYPE><VIRTUALDEV>1</VIRTUALDEV>
<MACADDR>00:15:5D:01:02:03</MACADDR><STATUS>Up</STATUS><IPADDRESS>172.20.0.1</IPADDRESS><IPMASK>255.255.240.0</IPMASK></NETWORKS>
<NETWORKS><DESCRIPTION>lo</DESCRIPTION><IPADDRESS>127.0.0.1</IPADDRESS><IPMASK>255.0.0.0</IPMASK></NETWORKS>
<SOFTWARES><NAME>7-Zip</NAME></SOFTWARES>
<IPDISCOVER><H><I>192.168.5.1</I><M>00:AA:BB:CC:DD:01</M><N>-</N></H><H><I>192.168.5.9</I><M>00:00:00:00:00:00</M><N>-</N></H>
<H><I>192.168.5.10</I><M>bogus</M><N>x</N></H><H><I>10.9.9.9</I><M>00:AA:BB:CC:DD:02</M><N>far</N></H></IPDISCOVER>
</CONTENT></REQUEST>`
	f.askOCS("DESKTOP-PMOIBHH-2018-06-01-16-31-07", sn)
	status, _, reply := f.ocs(ocsCall{body: zlibBytes(t, []byte(doc)), ua: "OCS-NG_WINDOWS_AGENT_v2.3.1.2"})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, reply)
	}
	a, err := f.store.AgentByUID(ctx, "DESKTOP-PMOIBHH-2018-06-01-16-31-07")
	if err != nil {
		t.Fatal(err)
	}
	if a.Hostname != "DESKTOP-PMOIBHH" || a.Manufacturer != "Dell Inc." || a.Model != "OptiPlex 7090" || a.Serial != "ABC1234" ||
		a.UUID != "19104CED-27A1-4B05-A0C9-ACFE6DA9FBE2" || a.Version != "2.3.1.2" || a.OSVersion != "10.0.17134" {
		t.Errorf("machine %+v", a.AgentInventory)
	}
	want := []inventory.NIC{
		{Name: "Intel(R) Ethernet Connection I219-LM", MAC: "00:1a:2b:3c:4d:5e", Kind: inventory.NICWired, State: "up",
			Addresses: []string{"192.168.5.20/24", "192.168.5.21/24"}},
		{Name: "Intel(R) Wi-Fi 6 AX201", MAC: "a0:b1:c2:d3:e4:f5", Kind: inventory.NICWireless, State: "down", Addresses: []string{}},
		{Name: "Hyper-V Virtual Ethernet Adapter", MAC: "00:15:5d:01:02:03", Kind: inventory.NICVirtual, State: "up",
			Addresses: []string{"172.20.0.1/20"}},
	}
	if fmt.Sprint(a.NICs) != fmt.Sprint(want) {
		t.Errorf("NICs\n%+v\nwant\n%+v", a.NICs, want)
	}
	page, err := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID})
	if err != nil || page.Total != 1 || page.Devices[0].MAC != "00:aa:bb:cc:dd:01" || page.Devices[0].Name != "" {
		t.Fatalf("devices %+v %v", page, err)
	}
	st, err := f.store.OCSAgent(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The zero MAC and the bogus one are refused, 10.9.9.9 is in no subnet.
	if st.Hosts != 1 || st.Ignored != 3 || st.Gateway != "192.168.5.1" || !strings.Contains(st.Note, "found outside every subnet of lanscout: 1") {
		t.Errorf("OCS state %+v", st)
	}
}
