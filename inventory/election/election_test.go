package election_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory/election"
)

// t0 is the fake clock's start; every test moves Input.Now by hand.
var t0 = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)

const poll = 5 * time.Minute

// days is a duration in OCS quality units.
func days(d time.Duration) float64 { return d.Hours() / 24 }

// steady is an agent that has polled every 5 minutes for days, with raw
// sockets, on a wired NIC holding addr, heard a minute before t0.
func steady(id int64, addr string) election.Agent {
	return election.Agent{
		ID: id, Name: fmt.Sprintf("pc%d", id), RawSockets: true,
		LastContact: t0.Add(-time.Minute), Fidelity: 800, Quality: days(poll), PollInterval: poll,
		NICs: []election.NIC{{Name: "eth0", Kind: "wired", State: "up", Addresses: []netip.Prefix{netip.MustParsePrefix(addr)}}},
	}
}

func subnet(id int64, cidr string) election.Subnet {
	return election.Subnet{ID: id, Prefix: netip.MustParsePrefix(cidr), MaxScanners: 1}
}

// elect runs rounds, feeding each round's seats into the next, at the
// given times, every agent having polled a minute before each; it
// returns every round's output.
func elect(cfg election.Config, in election.Input, at ...time.Time) []election.Output {
	var outs []election.Output
	in.Agents = slices.Clone(in.Agents)
	for _, now := range at {
		in.Now = now
		for i := range in.Agents {
			in.Agents[i].LastContact = now.Add(-time.Minute)
		}
		out := election.Decide(cfg, in)
		outs = append(outs, out)
		in.Seats = out.Seats
	}
	return outs
}

func seatIDs(out election.Output, subnetID int64) []int64 {
	ids := []int64{}
	for _, s := range out.Seats {
		if s.SubnetID == subnetID {
			ids = append(ids, s.AgentID)
		}
	}
	slices.Sort(ids)
	return ids
}

func result(t *testing.T, out election.Output, subnetID int64) election.Result {
	t.Helper()
	for _, r := range out.Results {
		if r.SubnetID == subnetID {
			return r
		}
	}
	t.Fatalf("no result for subnet %d", subnetID)
	return election.Result{}
}

func kinds(evs []election.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s:%d", e.Kind, e.AgentID))
	}
	return out
}

// TestStormCannotHappen is OCS-Server #487: a release elected 84 of 121
// PCs in one VLAN. Whatever an admin sets, a subnet gets at most
// HardMaxScanners, round after round.
func TestStormCannotHappen(t *testing.T) {
	for _, tc := range []struct {
		name     string
		max      int
		wantSeat int
	}{
		{"default one seat", 0, 1},
		{"admin's two", 2, 2},
		{"three", 3, 3},
		{"84 asked, 3 given", 84, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var agents []election.Agent
			for i := range 121 {
				agents = append(agents, steady(int64(i+1), fmt.Sprintf("10.1.0.%d/24", i+2)))
			}
			sn := subnet(1, "10.1.0.0/24")
			sn.MaxScanners = tc.max
			in := election.Input{Agents: agents, Subnets: []election.Subnet{sn}}
			var at []time.Time
			for i := range 20 {
				at = append(at, t0.Add(time.Duration(i)*time.Minute))
			}
			outs := elect(election.Config{}, in, at...)
			for i, out := range outs {
				if got := len(seatIDs(out, 1)); got != tc.wantSeat {
					t.Fatalf("round %d: %d seats, want %d", i, got, tc.wantSeat)
				}
				if i > 0 && len(out.Events) != 0 {
					t.Errorf("round %d: seats moved among identical agents: %v", i, kinds(out.Events))
				}
			}
			if got := len(outs[0].Events); got != tc.wantSeat {
				t.Errorf("first round: %d events, want %d elections", got, tc.wantSeat)
			}
			// Ties go to the lowest ids.
			want := []int64{1, 2, 3}[:tc.wantSeat]
			if got := seatIDs(outs[len(outs)-1], 1); !slices.Equal(got, want) {
				t.Errorf("seats %v, want %v", got, want)
			}
		})
	}
}

// TestNewcomerDoesNotBeatSteady is OCS-Server #154: a threshold silently
// 0 let every new PC win. A new agent with few contacts neither beats a
// sitting steady agent nor wins an open seat against one.
func TestNewcomerDoesNotBeatSteady(t *testing.T) {
	old := steady(7, "10.2.0.7/24")
	for _, tc := range []struct {
		name     string
		fidelity int
		seated   bool
		want     int64
	}{
		{"open seat, newcomer just eligible", 3, false, 7},
		{"open seat, newcomer with a day of contacts", 100, false, 7},
		{"sitting steady, newcomer just eligible", 3, true, 7},
		{"newcomer below the minimum contacts", 2, false, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nu := steady(2, "10.2.0.2/24") // lower id: it would win a tie
			nu.Fidelity = tc.fidelity
			nu.Quality = days(poll) * float64(tc.fidelity-1) / float64(tc.fidelity)
			in := election.Input{Agents: []election.Agent{nu, old}, Subnets: []election.Subnet{subnet(1, "10.2.0.0/24")}}
			if tc.seated {
				in.Seats = []election.Seat{{SubnetID: 1, AgentID: 7, ElectedAt: t0.Add(-time.Hour), Score: 0.9}}
			}
			outs := elect(election.Config{}, in, t0, t0.Add(poll), t0.Add(2*poll))
			for i, out := range outs {
				if got := seatIDs(out, 1); !slices.Equal(got, []int64{tc.want}) {
					t.Fatalf("round %d: seats %v, want [%d]; candidates %+v", i, got, tc.want, result(t, out, 1).Candidates)
				}
			}
		})
	}
	// Below the minimum contacts a newcomer is not even a runner-up.
	nu := steady(2, "10.2.0.2/24")
	nu.Fidelity = 2
	out := election.Decide(election.Config{}, election.Input{Now: t0, Agents: []election.Agent{nu},
		Subnets: []election.Subnet{subnet(1, "10.2.0.0/24")}})
	r := result(t, out, 1)
	if len(r.Seats) != 0 || !strings.Contains(r.NoScannerReason, "only 2 contacts; 3 needed") {
		t.Errorf("seats %v, reason %q: want none, for too few contacts", r.Seats, r.NoScannerReason)
	}
}

// TestThresholdPreventsFlapping: a challenger takes an occupied seat only
// when better by more than the threshold, and a wobble does not move it
// back.
func TestThresholdPreventsFlapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		// the challenger's medium and raw sockets set its score against the
		// incumbent's (wired, raw)
		incumbentKind string
		incumbentRaw  bool
		wantReplaced  bool
	}{
		{"wireless incumbent: 0.09 worse, below the threshold", "wireless", true, false},
		{"no raw sockets: 0.12 worse, beyond the threshold", "wired", false, true},
		{"both worse: beaten", "wireless", false, true},
		{"equal: kept", "wired", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inc := steady(9, "10.3.0.9/24")
			inc.NICs[0].Kind, inc.RawSockets = tc.incumbentKind, tc.incumbentRaw
			ch := steady(1, "10.3.0.1/24")
			in := election.Input{Agents: []election.Agent{ch, inc}, Subnets: []election.Subnet{subnet(1, "10.3.0.0/24")},
				Seats: []election.Seat{{SubnetID: 1, AgentID: 9, ElectedAt: t0.Add(-time.Hour)}}}
			outs := elect(election.Config{}, in, t0, t0.Add(time.Minute), t0.Add(2*time.Minute))
			want := []int64{9}
			if tc.wantReplaced {
				want = []int64{1}
			}
			for i, out := range outs {
				if got := seatIDs(out, 1); !slices.Equal(got, want) {
					t.Fatalf("round %d: seats %v, want %v", i, got, want)
				}
			}
			ev := outs[0].Events
			if tc.wantReplaced {
				if len(ev) != 1 || ev[0].Kind != election.Replaced || ev[0].AgentID != 1 || ev[0].Replaced != 9 || ev[0].Score <= ev[0].OldScore+0.1 {
					t.Errorf("events %+v, want agent 1 replacing 9 by more than 0.1", ev)
				}
			} else if len(ev) != 0 {
				t.Errorf("events %v, want none", kinds(ev))
			}
			for i, out := range outs[1:] {
				if len(out.Events) != 0 {
					t.Errorf("round %d: flapped: %v", i+1, kinds(out.Events))
				}
			}
		})
	}
}

// TestDeadScannerReplacedWithinMaxAlive is the 7-days MAX_ALIVE of OCS: a
// scanner not heard from within 3 poll intervals loses its seat to the
// runner-up at the first round after, not before.
func TestDeadScannerReplacedWithinMaxAlive(t *testing.T) {
	dead := steady(1, "10.4.0.1/24")
	dead.LastContact = t0
	alive := steady(2, "10.4.0.2/24")
	alive.NICs[0].Kind = "wireless" // worse, so it would not take the seat otherwise
	in := election.Input{Agents: []election.Agent{dead, alive}, Subnets: []election.Subnet{subnet(1, "10.4.0.0/24")}}
	maxAlive := 3 * poll
	for _, tc := range []struct {
		at     time.Duration // after the dead agent's last contact
		want   int64
		events []string
	}{
		{0, 1, []string{"elected:1"}},
		{maxAlive / 2, 1, []string{}},
		{maxAlive, 1, []string{}},
		{maxAlive + time.Second, 2, []string{"expired:1", "elected:2"}},
		{maxAlive + time.Hour, 2, []string{}},
	} {
		in.Now = t0.Add(tc.at)
		alive.LastContact = in.Now.Add(-time.Minute)
		in.Agents[1] = alive
		out := election.Decide(election.Config{}, in)
		in.Seats = out.Seats
		if got := seatIDs(out, 1); !slices.Equal(got, []int64{tc.want}) {
			t.Fatalf("at +%s: seats %v, want [%d]", tc.at, got, tc.want)
		}
		if got := kinds(out.Events); !slices.Equal(got, tc.events) {
			t.Errorf("at +%s: events %v, want %v", tc.at, got, tc.events)
		}
	}
	// A custom poll interval scales max-alive: an OCS agent polling daily
	// is not dead after 15 minutes.
	ocs := steady(3, "10.4.1.3/24")
	ocs.PollInterval, ocs.Quality, ocs.LastContact = 24*time.Hour, 1, t0.Add(-30*time.Hour)
	out := election.Decide(election.Config{}, election.Input{Now: t0, Agents: []election.Agent{ocs},
		Subnets: []election.Subnet{subnet(2, "10.4.1.0/24")}})
	if got := seatIDs(out, 2); !slices.Equal(got, []int64{3}) {
		t.Errorf("daily agent heard 30h ago: seats %v, want [3]", got)
	}
}

// TestPinnedAndNever: pins win over scores and the minimum contacts, but
// not over death or "never"; never-agents and never-subnets get nothing.
func TestPinnedAndNever(t *testing.T) {
	best := steady(1, "10.5.0.1/24")
	weak := steady(2, "10.5.0.2/24")
	weak.NICs[0].Kind, weak.RawSockets, weak.Fidelity = "wireless", false, 1
	sn := subnet(1, "10.5.0.0/24")
	for _, tc := range []struct {
		name   string
		edit   func(in *election.Input)
		want   []int64
		reason string
	}{
		{"no pin: best wins", func(in *election.Input) {}, []int64{1}, ""},
		{"pinned weak newcomer wins", func(in *election.Input) {
			in.Pins = []election.Pin{{SubnetID: 1, AgentID: 2}}
		}, []int64{2}, ""},
		{"pinned and seated keeps the seat against a far better agent", func(in *election.Input) {
			in.Pins = []election.Pin{{SubnetID: 1, AgentID: 2}}
			in.Seats = []election.Seat{{SubnetID: 1, AgentID: 2, Pinned: true}}
		}, []int64{2}, ""},
		{"pinned but dead: the seat goes to the living", func(in *election.Input) {
			in.Pins = []election.Pin{{SubnetID: 1, AgentID: 2}}
			in.Agents[1].LastContact = t0.Add(-time.Hour)
		}, []int64{1}, ""},
		{"pinned but never: never wins", func(in *election.Input) {
			in.Pins = []election.Pin{{SubnetID: 1, AgentID: 2}}
			in.Agents[1].Never = true
		}, []int64{1}, ""},
		{"best marked never", func(in *election.Input) {
			in.Agents[0].Never = true
			in.Agents[1].Fidelity = 500
		}, []int64{2}, ""},
		{"revoked best", func(in *election.Input) {
			in.Agents[0].Revoked = true
			in.Agents[1].Fidelity = 500
		}, []int64{2}, ""},
		{"subnet never", func(in *election.Input) {
			in.Subnets[0].Never = true
			in.Pins = []election.Pin{{SubnetID: 1, AgentID: 1}}
		}, []int64{}, "an admin marked this subnet never"},
		{"subnet policy deny", func(in *election.Input) {
			in.Subnets[0].Deny = true
		}, []int64{}, "denied by the subnet's policy"},
		{"everyone never", func(in *election.Input) {
			in.Agents[0].Never, in.Agents[1].Never = true, true
		}, []int64{}, "pc1: an admin marked this agent never"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := election.Input{Now: t0, Agents: []election.Agent{best, weak}, Subnets: []election.Subnet{sn}}
			tc.edit(&in)
			out := election.Decide(election.Config{}, in)
			if got := seatIDs(out, 1); !slices.Equal(got, tc.want) {
				t.Fatalf("seats %v, want %v", got, tc.want)
			}
			r := result(t, out, 1)
			if !strings.Contains(r.NoScannerReason, tc.reason) || (tc.reason == "") != (r.NoScannerReason == "") {
				t.Errorf("no-scanner reason %q, want it to say %q", r.NoScannerReason, tc.reason)
			}
		})
	}
	// An incumbent marked never loses its seat with a released event.
	in := election.Input{Now: t0, Agents: []election.Agent{best, weak}, Subnets: []election.Subnet{sn},
		Seats: []election.Seat{{SubnetID: 1, AgentID: 1}}}
	in.Agents[0].Never = true
	in.Agents[1].Fidelity = 500
	out := election.Decide(election.Config{}, in)
	if got := kinds(out.Events); !slices.Equal(got, []string{"released:1", "elected:2"}) {
		t.Errorf("events %v, want released:1 elected:2", got)
	}
}

// TestOnlySafeNetworks: a denied range, a public subnet, a hotel-like /22
// outside the allowed ranges and unusable interfaces never get a scanner.
func TestOnlySafeNetworks(t *testing.T) {
	office := election.Config{Allowed: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Denied: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}}
	for _, tc := range []struct {
		name    string
		cfg     election.Config
		subnet  string // "" for none
		nic     election.NIC
		seated  bool
		reason  string // of the subnet, when it gets no scanner
		unknown string // the network reported as unknown, if any
	}{
		{"office LAN", office, "10.1.2.0/24", nic("eth0", "wired", "10.1.2.5/24"), true, "", ""},
		{"denied range", office, "10.9.1.0/24", nic("eth0", "wired", "10.9.1.5/24"), false, "inside the denied range 10.9.0.0/16", ""},
		{"public subnet an admin created", election.Config{}, "81.2.3.0/24", nic("eth0", "wired", "81.2.3.4/24"), false, "outside the allowed ranges", ""},
		{"public address, no subnet", election.Config{}, "", nic("wlan0", "wireless", "81.2.3.4/24"), false, "", ""},
		{"hotel /22 outside allowed, subnet exists", office, "192.168.4.0/22", nic("wlan0", "wireless", "192.168.5.77/22"), false, "outside the allowed ranges", ""},
		{"hotel /22 outside allowed, no subnet", office, "", nic("wlan0", "wireless", "192.168.5.77/22"), false, "", ""},
		{"CGNAT hotel with defaults", election.Config{}, "", nic("wlan0", "wireless", "100.64.5.77/22"), false, "", ""},
		{"unknown allowed network is reported", election.Config{}, "", nic("eth0", "wired", "192.168.50.7/24"), false, "", "192.168.50.0/24"},
		{"denied unknown network is not", office, "", nic("eth0", "wired", "10.9.7.7/24"), false, "", ""},
		{"interface down", election.Config{}, "10.1.2.0/24", election.NIC{Name: "eth0", Kind: "wired", State: "down", Addresses: pfx("10.1.2.5/24")}, false, "no agent has a usable address", ""},
		{"virtual kind", election.Config{}, "10.1.2.0/24", nic("br0", "virtual", "10.1.2.5/24"), false, "no agent", ""},
		{"docker bridge by name", election.Config{}, "172.17.0.0/16", nic("docker0", "", "172.17.0.1/16"), false, "no agent", ""},
		{"wireguard tunnel", election.Config{}, "10.1.2.0/24", nic("wg0", "", "10.1.2.5/24"), false, "no agent", ""},
		{"point-to-point /32", election.Config{}, "10.1.2.0/24", nic("eth0", "wired", "10.1.2.5/32"), false, "no agent", ""},
		{"wider than /16", election.Config{}, "", nic("eth0", "wired", "10.1.2.5/8"), false, "", ""},
		{"link-local", election.Config{}, "", nic("eth0", "wired", "169.254.3.4/16"), false, "", ""},
		{"loopback", election.Config{}, "", nic("lo", "", "127.0.0.1/8"), false, "", ""},
		{"IPv6", election.Config{}, "", nic("eth0", "wired", "fd00::5/64"), false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := steady(1, "10.200.0.1/24")
			a.NICs = []election.NIC{tc.nic}
			in := election.Input{Now: t0, Agents: []election.Agent{a}}
			if tc.subnet != "" {
				in.Subnets = []election.Subnet{subnet(1, tc.subnet)}
			}
			out := election.Decide(tc.cfg, in)
			if got := len(out.Seats) > 0; got != tc.seated {
				t.Fatalf("seated %v, want %v (%+v)", got, tc.seated, out.Results)
			}
			if tc.subnet != "" && !tc.seated {
				if r := result(t, out, 1); !strings.Contains(r.NoScannerReason, tc.reason) {
					t.Errorf("reason %q, want it to say %q", r.NoScannerReason, tc.reason)
				}
			}
			var unk []string
			for _, n := range out.Unknown {
				unk = append(unk, n.Prefix.String())
			}
			if want := []string{tc.unknown}; tc.unknown != "" && !slices.Equal(unk, want) || tc.unknown == "" && len(unk) != 0 {
				t.Errorf("unknown networks %v, want %q", unk, tc.unknown)
			}
		})
	}
}

func pfx(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func nic(name, kind string, addrs ...string) election.NIC {
	return election.NIC{Name: name, Kind: kind, State: "up", Addresses: pfx(addrs...)}
}

// TestFailuresDemote: K failed scans in a row demote a scanner for a
// cool-down that doubles; the runner-up takes over; a lone agent is not
// re-elected in a loop during its cool-down; a success clears the count.
func TestFailuresDemote(t *testing.T) {
	cfg := election.Config{FailureLimit: 3, Cooldown: time.Hour}
	st := election.Standing{SubnetID: 1, AgentID: 1}
	var demoted bool
	for i := range 2 {
		if st, demoted = cfg.Record(st, "no hosts found", t0); demoted || st.Failures != i+1 {
			t.Fatalf("failure %d: %+v demoted %v", i+1, st, demoted)
		}
	}
	if st2, _ := cfg.Record(st, "", t0); st2.Failures != 0 {
		t.Errorf("a success left %d failures", st2.Failures)
	}
	st, demoted = cfg.Record(st, "arp: operation not permitted", t0)
	if !demoted || !st.CooldownUntil.Equal(t0.Add(time.Hour)) || st.Failures != 0 || st.Demotions != 1 {
		t.Fatalf("third failure: %+v demoted %v, want a one-hour cool-down", st, demoted)
	}

	one, two := steady(1, "10.6.0.1/24"), steady(2, "10.6.0.2/24")
	two.NICs[0].Kind = "wireless"
	in := election.Input{Now: t0, Agents: []election.Agent{one, two}, Subnets: []election.Subnet{subnet(1, "10.6.0.0/24")},
		Seats: []election.Seat{{SubnetID: 1, AgentID: 1}}, Standings: []election.Standing{st}}
	outs := elect(cfg, in, t0, t0.Add(10*time.Minute), t0.Add(50*time.Minute))
	if got := kinds(outs[0].Events); !slices.Equal(got, []string{"demoted:1", "elected:2"}) {
		t.Errorf("events %v, want demoted:1 elected:2", got)
	}
	if !strings.Contains(outs[0].Events[0].Reason, "arp: operation not permitted") {
		t.Errorf("demotion reason %q does not say what failed", outs[0].Events[0].Reason)
	}
	for i, out := range outs {
		if got := seatIDs(out, 1); !slices.Equal(got, []int64{2}) {
			t.Errorf("round %d: seats %v, want the runner-up [2]", i, got)
		}
	}
	// After the cool-down the demoted agent is a challenger again, held
	// to the threshold like any other: better by 0.09 only, it waits.
	in.Seats = outs[2].Seats
	in.Now = t0.Add(2 * time.Hour)
	for i := range in.Agents {
		in.Agents[i].LastContact = in.Now.Add(-time.Minute)
	}
	if out := election.Decide(cfg, in); !slices.Equal(seatIDs(out, 1), []int64{2}) || len(out.Events) != 0 {
		t.Errorf("after the cool-down: seats %v events %v, want 2 kept", seatIDs(out, 1), kinds(out.Events))
	}

	// A lone agent in cool-down: no scanner, with the reason, and no
	// events round after round (no drop and re-elect loop).
	in = election.Input{Agents: []election.Agent{one}, Subnets: []election.Subnet{subnet(1, "10.6.0.0/24")},
		Seats: []election.Seat{{SubnetID: 1, AgentID: 1}}, Standings: []election.Standing{st}}
	outs = elect(cfg, in, t0, t0.Add(time.Minute), t0.Add(2*time.Minute))
	r := result(t, outs[0], 1)
	if len(r.Seats) != 0 || !strings.Contains(r.NoScannerReason, "cool-down until") {
		t.Errorf("lone demoted agent: seats %v, reason %q", r.Seats, r.NoScannerReason)
	}
	for i, out := range outs[1:] {
		if len(out.Events) != 0 {
			t.Errorf("round %d: %v", i+1, kinds(out.Events))
		}
	}
	// The next demotion in a row doubles the cool-down, up to the cap.
	for _, want := range []time.Duration{2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 16 * time.Hour, 24 * time.Hour, 24 * time.Hour} {
		for range 3 {
			st, demoted = cfg.Record(st, "timeout", t0)
		}
		if !demoted || st.CooldownUntil.Sub(t0) != want {
			t.Fatalf("demotion %d: cool-down %s, want %s", st.Demotions, st.CooldownUntil.Sub(t0), want)
		}
	}
}

// TestLoadSpreadsScanners: an agent on two subnets is not elected for
// both when each has another agent as good.
func TestLoadSpreadsScanners(t *testing.T) {
	multi := steady(1, "10.7.1.1/24")
	multi.NICs = append(multi.NICs, nic("eth1", "wired", "10.7.2.1/24"))
	in := election.Input{Agents: []election.Agent{multi, steady(2, "10.7.1.2/24"), steady(3, "10.7.2.3/24")},
		Subnets: []election.Subnet{subnet(1, "10.7.1.0/24"), subnet(2, "10.7.2.0/24")}}
	outs := elect(election.Config{}, in, t0, t0.Add(time.Minute))
	for i, out := range outs {
		if a, b := seatIDs(out, 1), seatIDs(out, 2); !slices.Equal(a, []int64{1}) || !slices.Equal(b, []int64{3}) {
			t.Errorf("round %d: seats %v and %v, want [1] and [3]", i, a, b)
		}
	}
	if ru := result(t, outs[1], 2).RunnerUp; ru == nil || ru.AgentID != 1 || !strings.Contains(ru.Reason, "scans 1 other subnet") {
		t.Errorf("runner-up of subnet 2: %+v, want agent 1, busy elsewhere", ru)
	}
}

// TestDeterministic: the order of the input does not matter.
func TestDeterministic(t *testing.T) {
	var agents []election.Agent
	var subnets []election.Subnet
	rng := rand.New(rand.NewPCG(1, 2))
	for s := range 20 {
		subnets = append(subnets, subnet(int64(s+1), fmt.Sprintf("10.8.%d.0/24", s)))
		subnets[s].MaxScanners = 1 + s%3
	}
	for i := range 300 {
		a := steady(int64(i+1), fmt.Sprintf("10.8.%d.%d/24", rng.IntN(20), 10+i%200))
		a.Fidelity = 1 + rng.IntN(200)
		a.Quality = days(time.Duration(rng.IntN(20)+1) * time.Minute)
		a.RawSockets = rng.IntN(3) > 0
		a.LastContact = t0.Add(-time.Duration(rng.IntN(20)) * time.Minute)
		if rng.IntN(4) == 0 {
			a.NICs[0].Kind = "wireless"
		}
		agents = append(agents, a)
	}
	base := election.Decide(election.Config{}, election.Input{Now: t0, Agents: agents, Subnets: subnets})
	if len(base.Seats) == 0 {
		t.Fatal("nobody elected")
	}
	for range 5 {
		sa, ss := slices.Clone(agents), slices.Clone(subnets)
		rng.Shuffle(len(sa), func(i, j int) { sa[i], sa[j] = sa[j], sa[i] })
		rng.Shuffle(len(ss), func(i, j int) { ss[i], ss[j] = ss[j], ss[i] })
		got := election.Decide(election.Config{}, election.Input{Now: t0, Agents: sa, Subnets: ss})
		if !reflect.DeepEqual(got, base) {
			t.Fatal("a shuffled input gave another outcome")
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  election.Config
		want string
	}{
		{"zero is fine", election.Config{}, ""},
		{"empty allowed", election.Config{Allowed: []netip.Prefix{}}, "allowed is empty"},
		{"IPv6 range", election.Config{Denied: pfx("fd00::/8")}, "only IPv4"},
		{"host bits", election.Config{Allowed: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/8")}}, "host bits"},
		{"max alive one", election.Config{MaxAlive: 1}, "max_alive 1"},
		{"threshold one", election.Config{Threshold: 1}, "threshold"},
		{"cooldown over max", election.Config{Cooldown: 2 * time.Hour, MaxCooldown: time.Hour}, "cooldown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestNoFlappingUnderJitter: agents whose contacts arrive at random points
// of their poll interval (freshness wobbles every round) keep their seats
// round after round; only a real change moves one.
func TestNoFlappingUnderJitter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var in election.Input
	for s := range 100 {
		in.Subnets = append(in.Subnets, subnet(int64(s+1), fmt.Sprintf("10.9.%d.0/24", s)))
		in.Subnets[s].MaxScanners = 1 + s%3
	}
	for i := range 1000 {
		a := steady(int64(i+1), fmt.Sprintf("10.9.%d.%d/24", i%100, 10+i/100))
		a.Fidelity = 20 + rng.IntN(500)
		a.RawSockets = rng.IntN(4) > 0
		if rng.IntN(5) == 0 {
			a.NICs[0].Kind = "wireless"
		}
		in.Agents = append(in.Agents, a)
	}
	moved := 0
	for r := range 60 {
		in.Now = t0.Add(time.Duration(r) * time.Minute)
		for i := range in.Agents {
			// Heard within the last 1.5 poll intervals: late, but alive.
			in.Agents[i].LastContact = in.Now.Add(-time.Duration(rng.Int64N(int64(poll * 3 / 2))))
		}
		out := election.Decide(election.Config{}, in)
		if r > 0 {
			moved += len(out.Events)
		}
		in.Seats = out.Seats
	}
	if moved != 0 {
		t.Errorf("%d seat changes in 59 rounds of jitter alone", moved)
	}
}

// TestPinsAreCapped: pins fill seats first but never beyond the subnet's
// seats, nor beyond HardMaxScanners.
func TestPinsAreCapped(t *testing.T) {
	var agents []election.Agent
	var pins []election.Pin
	for i := range 6 {
		agents = append(agents, steady(int64(i+1), fmt.Sprintf("10.10.0.%d/24", i+1)))
		pins = append(pins, election.Pin{SubnetID: 1, AgentID: int64(i + 1)})
	}
	for _, asked := range []int{1, 3, 50} {
		sn := subnet(1, "10.10.0.0/24")
		sn.MaxScanners = asked
		out := election.Decide(election.Config{}, election.Input{Now: t0, Agents: agents, Subnets: []election.Subnet{sn}, Pins: pins})
		want := min(asked, election.HardMaxScanners)
		if got := seatIDs(out, 1); len(got) != want || got[0] != 1 {
			t.Errorf("%d seats asked with 6 pins: seats %v, want the %d lowest ids", asked, got, want)
		}
		for _, s := range out.Seats {
			if !s.Pinned {
				t.Errorf("seat %+v not marked pinned", s)
			}
		}
	}
}
