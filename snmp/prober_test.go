package snmp_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lanscout/lanscout/internal/snmptest"
	"github.com/lanscout/lanscout/snmp"
)

// corpusFiles are a few recordings of different kinds; supercap has no
// sysObjectID.
var corpusFiles = []string{
	"3com.snmprec", "supercap.snmprec", "canonprinter_lbp.snmprec",
	"dlink_des-3526.snmprec", "nimbleos.snmprec", "rittal-cmc.snmprec",
}

func readRecording(t *testing.T, path string) *snmp.Recording {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := snmp.ParseSnmprec(f)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestProberMatchesRecording is the strongest check of the live session:
// the evidence gathered over the wire from snmpsim must equal the same plan
// run offline on the recording snmpsim serves.
func TestProberMatchesRecording(t *testing.T) {
	var files []string
	for _, f := range corpusFiles {
		files = append(files, snmptest.CorpusFile(t, f))
	}
	sim := snmptest.StartSim(t, files, snmptest.SimOptions{})
	for _, version := range []snmp.Version{snmp.V2c, snmp.V1} {
		p, err := snmp.NewProber(snmp.ProberOptions{
			Credentials: []snmp.Credential{{Version: version, Community: snmp.Secret(sim.Community)}},
			Port:        sim.Devices[0].Addr.Port(),
			Timeout:     2 * time.Second,
			Plan:        snmp.DefaultPlan(),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range sim.Devices {
			t.Run("v"+version.String()+"/"+filepath.Base(d.File), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				ans, err := p.Probe(ctx, d.Addr.Addr())
				if err != nil {
					t.Fatal(err)
				}
				want, err := snmp.Gather(ctx, readRecording(t, d.File), snmp.DefaultPlan())
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want.Vars, ans.Evidence.Vars); diff != "" {
					t.Errorf("live evidence differs from the recording (-recording +live):\n%s", diff)
				}
				if diff := cmp.Diff(want.Truncated, ans.Evidence.Truncated); diff != "" {
					t.Errorf("truncated walks differ:\n%s", diff)
				}
			})
		}
	}
}

// TestWalkMatchesRecording walks a whole recorded device (v2c GETBULK and
// v1 GETNEXT) and compares every variable.
func TestWalkMatchesRecording(t *testing.T) {
	file := snmptest.CorpusFile(t, "dlink_des-3526.snmprec")
	sim := snmptest.StartSim(t, []string{file}, snmptest.SimOptions{})
	var want []snmp.Var
	for _, v := range readRecording(t, file).Vars() {
		if snmp.HasPrefix(v.Name, "1.3.6.1") {
			want = append(want, v)
		}
	}
	for _, version := range []snmp.Version{snmp.V2c, snmp.V1} {
		t.Run("v"+version.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			s := dial(t, sim.Devices[0].Addr, snmp.Credential{Version: version, Community: "public"})
			var got []snmp.Var
			err := s.Walk(ctx, "1.3.6.1", 0, func(v snmp.Var) error { got = append(got, v); return nil })
			if version == snmp.V1 {
				// snmpsim answers genErr where a v1 GETNEXT meets a
				// Counter64 (v1 cannot carry one); the walk must end there
				// with an error, having returned everything before it.
				if err == nil || !strings.Contains(err.Error(), "GenErr") {
					t.Fatalf("v1 walk error = %v, want genErr at the first Counter64", err)
				}
				if len(got) == 0 || len(got) >= len(want) || want[len(got)].Kind != snmp.Counter64 {
					t.Fatalf("v1 walk stopped after %d of %d rows", len(got), len(want))
				}
				want = want[:len(got)]
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("walk differs (-recording +live):\n%s", diff)
			}
			// A capped walk stops at the cap.
			n := 0
			if err := s.Walk(ctx, "1.3.6.1.2.1.2.2.1", 7, func(snmp.Var) error { n++; return nil }); err != nil || n != 7 {
				t.Errorf("capped walk: %d rows, %v", n, err)
			}
			// Walking a scalar instance returns it, as net-snmp does.
			var leaf []snmp.Var
			if err := s.Walk(ctx, "1.3.6.1.2.1.1.1.0", 0, func(v snmp.Var) error { leaf = append(leaf, v); return nil }); err != nil || len(leaf) != 1 {
				t.Errorf("leaf walk: %v, %v", leaf, err)
			}
		})
	}
}

// TestProberV3Context: an agent that answers a v3 user only within a
// context (as some printers do, GLPI agent #1091) is read with the
// credential that names it.
func TestProberV3Context(t *testing.T) {
	file := snmptest.CorpusFile(t, "canonprinter_lbp.snmprec")
	sim := snmptest.StartSim(t, []string{file}, snmptest.SimOptions{Plain: true})
	d := sim.Devices[0]
	user := snmp.Credential{Version: snmp.V3, User: snmptest.SimV3User, Auth: snmp.MD5, AuthPass: snmptest.SimV3AuthPass, Priv: snmp.DES, PrivPass: snmptest.SimV3PrivPass}
	noContext, withContext := user, user
	noContext.Name = "no-context"
	withContext.Name, withContext.Context = "printer", d.Community
	plan := snmp.Plan{Scalars: []string{"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"}, Walks: []snmp.PlanWalk{{Root: "1.3.6.1.2.1.43.5", Max: 50}}}
	p, err := snmp.NewProber(snmp.ProberOptions{Credentials: []snmp.Credential{noContext, withContext}, Port: d.Addr.Port(), Timeout: 500 * time.Millisecond, Retries: -1, Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ans, err := p.Probe(ctx, d.Addr.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if ans.Credential != "printer" || len(ans.Tried) != 1 || ans.Tried[0].Credential != "no-context" {
		t.Fatalf("answer by %s after %v", ans.Credential, ans.Tried)
	}
	want, err := snmp.Gather(ctx, readRecording(t, file), plan)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Vars, ans.Evidence.Vars); diff != "" {
		t.Errorf("evidence (-recording +live):\n%s", diff)
	}
}

func TestProberCredentialOrder(t *testing.T) {
	d := startSnmpd(t)
	right := snmp.Credential{Name: "right", Version: snmp.V3, User: shaUser, Auth: snmp.SHA, AuthPass: shaAuth, Priv: snmp.AES, PrivPass: shaPriv}
	creds := []snmp.Credential{
		{Name: "bad-auth", Version: snmp.V3, User: shaUser, Auth: snmp.SHA, AuthPass: "wrong-auth-pass", Priv: snmp.AES, PrivPass: shaPriv},
		{Name: "bad-priv", Version: snmp.V3, User: shaUser, Auth: snmp.SHA, AuthPass: shaAuth, Priv: snmp.AES, PrivPass: "wrong-priv-pass"},
		{Name: "bad-community", Version: snmp.V2c, Community: "not-it"},
		right,
		{Name: "also-right", Version: snmp.V2c, Community: "s3cret-comm"},
	}
	mem := snmp.NewMemory()
	plan := snmp.Plan{Scalars: []string{"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"}, Walks: []snmp.PlanWalk{{Root: "1.3.6.1.2.1.1", Max: 20}}}
	p, err := snmp.NewProber(snmp.ProberOptions{Credentials: creds, Port: d.Addr.Port(), Timeout: 300 * time.Millisecond, Plan: plan, Memory: mem})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ans, err := p.Probe(ctx, d.Addr.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if ans.Credential != "right" || ans.Version != "3" {
		t.Fatalf("answer by %s v%s, want right v3", ans.Credential, ans.Version)
	}
	reasons := map[string]snmp.Reason{}
	for _, c := range ans.Tried {
		reasons[c.Credential] = c.Reason
		t.Logf("tried: %v", c)
		for _, secret := range []string{"wrong-auth-pass", "wrong-priv-pass", "not-it", shaAuth, shaPriv} {
			if strings.Contains(c.Error(), secret) {
				t.Errorf("error %q shows a secret", c.Error())
			}
		}
	}
	want := map[string]snmp.Reason{"bad-auth": snmp.AuthFailed, "bad-priv": snmp.AuthFailed, "bad-community": snmp.NoAnswer}
	if diff := cmp.Diff(want, reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if got := ans.Evidence.Text("1.3.6.1.2.1.1.1.0"); got != "lanscout test agent" {
		t.Errorf("sysDescr %q", got)
	}
	// The second probe goes straight to the remembered credential.
	ans, err = p.Probe(ctx, d.Addr.Addr())
	if err != nil || ans.Credential != "right" || len(ans.Tried) != 0 {
		t.Errorf("second probe: %+v, %v", ans, err)
	}
	// The memory survives a file round trip.
	path := filepath.Join(t.TempDir(), "state", "memory.json")
	file, err := snmp.LoadMemoryFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := mem.Preferred(d.Addr.Addr())
	file.Remember(d.Addr.Addr(), name)
	if err := file.Save(); err != nil {
		t.Fatal(err)
	}
	back, err := snmp.LoadMemoryFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if name, ok := back.Preferred(d.Addr.Addr()); !ok || name != "right" {
		t.Errorf("loaded memory: %q %v", name, ok)
	}
}

// TestProberAllRejected: when a v3 agent rejects every credential, the
// probe fails fast with ErrAuthFailed and says why for each one.
func TestProberAllRejected(t *testing.T) {
	d := startSnmpd(t)
	p, err := snmp.NewProber(snmp.ProberOptions{
		Credentials: []snmp.Credential{
			{Name: "bad-auth", Version: snmp.V3, User: md5User, Auth: snmp.MD5, AuthPass: "wrong-auth-pass", Priv: snmp.DES, PrivPass: md5Priv},
			{Name: "bad-user", Version: snmp.V3, User: "ghost", Auth: snmp.SHA, AuthPass: "ghost-auth-pass"},
		},
		Port: d.Addr.Port(), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second) // less than one timeout
	defer cancel()
	ans, err := p.Probe(ctx, d.Addr.Addr())
	if ans != nil || !errors.Is(err, snmp.ErrAuthFailed) || errors.Is(err, snmp.ErrUnreachable) {
		t.Fatalf("Probe = %v, %v; want nil, ErrAuthFailed", ans, err)
	}
	if strings.Contains(err.Error(), "wrong-auth-pass") || !strings.Contains(err.Error(), "bad-auth") || !strings.Contains(err.Error(), "bad-user") {
		t.Errorf("error: %v", err)
	}
	t.Log(err)
}

func TestProberNoAgent(t *testing.T) {
	creds := []snmp.Credential{
		{Version: snmp.V2c, Community: "public"},
		{Version: snmp.V1, Community: "private"},
		{Version: snmp.V3, User: "u", Auth: snmp.SHA, AuthPass: "auth-pass-1", Priv: snmp.AES, PrivPass: "priv-pass-1"},
	}
	t.Run("closed port", func(t *testing.T) {
		// Nothing listens there: the kernel answers ICMP port unreachable.
		p, err := snmp.NewProber(snmp.ProberOptions{Credentials: creds, Port: 1, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second) // less than one timeout: refusal must be instant
		defer cancel()
		ans, err := p.Probe(ctx, netip.MustParseAddr("127.0.0.1"))
		if !errors.Is(err, snmp.ErrUnreachable) || ans != nil {
			t.Fatalf("Probe = %v, %v; want nil, ErrUnreachable", ans, err)
		}
		var perr *snmp.ProbeError
		if !errors.As(err, &perr) || len(perr.Tried) == 0 || perr.Tried[0].Reason != snmp.Refused {
			t.Errorf("err = %#v", err)
		}
	})
	t.Run("silent", func(t *testing.T) {
		// A socket that swallows every request, like a filtered host.
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
		p, err := snmp.NewProber(snmp.ProberOptions{Credentials: creds, Port: port, Timeout: 2 * time.Second, Retries: -1})
		if err != nil {
			t.Fatal(err)
		}
		// The three credentials are tried at once: well under 3 timeouts.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = p.Probe(ctx, netip.MustParseAddr("127.0.0.1"))
		if !errors.Is(err, snmp.ErrUnreachable) {
			t.Fatalf("err = %v, want ErrUnreachable", err)
		}
		var perr *snmp.ProbeError
		if !errors.As(err, &perr) || len(perr.Tried) != 3 {
			t.Fatalf("err = %#v", err)
		}
		for _, c := range perr.Tried {
			if c.Reason != snmp.NoAnswer {
				t.Errorf("%v", c)
			}
		}
	})
}

// pausing pauses the agent after the first request, so the rest of the
// plan meets a silent agent.
type pausing struct {
	snmp.Source
	pause func() error
	calls int
}

func (p *pausing) Get(ctx context.Context, oids []string) ([]snmp.Var, error) {
	defer p.step()
	return p.Source.Get(ctx, oids)
}

func (p *pausing) step() {
	if p.calls++; p.calls == 1 {
		p.pause()
	}
}

func TestAgentStopsMidWalk(t *testing.T) {
	d := startSnmpd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // proves "no hang"
	defer cancel()
	t.Run("walk", func(t *testing.T) {
		s := dial(t, d.Addr, snmp.Credential{Version: snmp.V2c, Community: "s3cret-comm"})
		rows := 0
		err := s.Walk(ctx, "1.3.6.1", 0, func(snmp.Var) error {
			if rows++; rows == 25 {
				if err := d.Pause(); err != nil {
					t.Fatal(err)
				}
			}
			return nil
		})
		d.Resume()
		if !errors.Is(err, snmp.ErrUnreachable) {
			t.Fatalf("err = %v, want ErrUnreachable", err)
		}
		if rows < 25 {
			t.Errorf("only %d rows before the stop", rows)
		}
		t.Logf("%d rows, then %v", rows, err)
	})
	t.Run("gather", func(t *testing.T) {
		s := dial(t, d.Addr, snmp.Credential{Version: snmp.V3, User: md5User, Auth: snmp.MD5, AuthPass: md5Auth, Priv: snmp.DES, PrivPass: md5Priv})
		src := &pausing{Source: s, pause: d.Pause}
		defer d.Resume()
		plan := snmp.Plan{
			Scalars: []string{"1.3.6.1.2.1.1.1.0"},
			Walks:   []snmp.PlanWalk{{Root: "1.3.6.1.2.1.2", Max: 100}, {Root: "1.3.6.1.2.1.25", Max: 100}},
		}
		ev, err := snmp.Gather(ctx, src, plan)
		if !errors.Is(err, snmp.ErrUnreachable) {
			t.Fatalf("err = %v, want ErrUnreachable", err)
		}
		if ev.Text("1.3.6.1.2.1.1.1.0") != "lanscout test agent" {
			t.Errorf("partial evidence lost: %v", ev.Vars)
		}
	})
}
