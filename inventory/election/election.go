package election

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// NIC is one network interface of an agent machine, as the agent reported
// it.
type NIC struct {
	Name      string
	Kind      string // "wired", "wireless", "virtual", "" when unknown
	State     string // "up", "down", ...; "" when not reported
	Addresses []netip.Prefix
}

// Agent is one candidate machine with its contact measures.
type Agent struct {
	ID   int64
	Name string
	// RawSockets says it may open raw sockets, so it can ARP-sweep. OCS
	// agents always may (their ipdiscover runs as root).
	RawSockets bool
	Revoked    bool // its enrollment was revoked: never a candidate
	Never      bool // an admin said it must never scan
	// LastContact, Fidelity (contact count) and Quality (running mean of
	// days between contacts) are OCS's measures.
	LastContact time.Time
	Fidelity    int
	Quality     float64
	// PollInterval is how often it contacts the server; 0 when unknown
	// (Config.PollInterval applies).
	PollInterval time.Duration
	NICs         []NIC
}

// Subnet is one subnet the inventory keeps.
type Subnet struct {
	ID          int64
	Prefix      netip.Prefix
	MaxScanners int  // seats; 0 means 1, more than HardMaxScanners means HardMaxScanners
	Deny        bool // its scan policy is deny
	Never       bool // an admin said no agent may scan it
}

// Seat is an agent elected to scan a subnet.
type Seat struct {
	SubnetID, AgentID int64
	ElectedAt         time.Time
	Score             float64
	Pinned            bool
	Reason            string
}

// Pin is an admin's order that an agent scans a subnet.
type Pin struct{ SubnetID, AgentID int64 }

// Standing is how an agent's scans of a subnet have been going.
type Standing struct {
	SubnetID, AgentID int64
	Failures          int // failed scans in a row
	Demotions         int // demotions in a row (the cool-down doubles with each)
	LastError         string
	LastAt            time.Time
	CooldownUntil     time.Time // not eligible for the subnet before then
}

// Input is everything the election depends on.
type Input struct {
	Now       time.Time
	Agents    []Agent
	Subnets   []Subnet
	Seats     []Seat // as they stand before this round
	Pins      []Pin
	Standings []Standing
}

// Parts are the components of a score, each 0..1.
type Parts struct {
	Reliability float64 `json:"reliability"`
	Freshness   float64 `json:"freshness"`
	Capability  float64 `json:"capability"`
	Medium      float64 `json:"medium"`
	Load        float64 `json:"load"`
}

// The weights of the parts in a score; they sum to 1.
const (
	wReliability = 0.40
	wCapability  = 0.20
	wMedium      = 0.15
	wLoad        = 0.15
	wFreshness   = 0.10
)

// Candidate is an agent with an address in a subnet.
type Candidate struct {
	AgentID  int64
	Name     string
	Fidelity int          // contacts: the older agent wins a tie
	Address  netip.Prefix // the address that makes it a candidate
	NIC      string
	Eligible bool
	Pinned   bool
	Score    float64 // 0 when not eligible
	Parts    Parts
	// Reason says why it is not eligible; for an eligible candidate it is
	// empty and Explain says what its score is made of (formatting 10,000
	// reasons every round was half the cost of a round).
	Reason string
	Detail Detail
}

// Detail is what an eligible candidate's score was computed from.
type Detail struct {
	Gap        time.Duration // mean time between contacts
	Age        time.Duration // since the last contact
	RawSockets bool
	Medium     string // the NIC's kind
	Others     int    // other subnets it holds a seat in
	Failures   int    // failed scans in a row here
}

// Explain says why c is not eligible, or what its score is made of.
func (c Candidate) Explain() string {
	if !c.Eligible || c.Reason != "" {
		return c.Reason
	}
	d := c.Detail
	why := make([]string, 0, 6)
	why = append(why, fmt.Sprintf("reliability %.2f (%d contacts, one every %s on average)", c.Parts.Reliability, c.Fidelity, roundDur(d.Gap)))
	why = append(why, fmt.Sprintf("heard %s ago", roundDur(max(d.Age, 0))))
	if d.RawSockets {
		why = append(why, "may open raw sockets (ARP)")
	} else {
		why = append(why, "no raw sockets (ICMP/TCP only)")
	}
	kind := d.Medium
	if kind == "" {
		kind = "medium unknown"
	}
	why = append(why, kind+" "+c.NIC)
	switch d.Others {
	case 0:
		why = append(why, "scans no other subnet")
	case 1:
		why = append(why, "scans 1 other subnet")
	default:
		why = append(why, fmt.Sprintf("scans %d other subnets", d.Others))
	}
	if d.Failures > 0 {
		why = append(why, fmt.Sprintf("%d failed scans in a row", d.Failures))
	}
	return strings.Join(why, ", ")
}

// Result is the election of one subnet.
type Result struct {
	SubnetID int64
	Seats    []Seat     // pinned first, then best score first
	RunnerUp *Candidate // the best eligible candidate without a seat
	// Candidates are every agent with a usable address in the subnet:
	// eligible ones first, best score first, then by id.
	Candidates []Candidate
	// NoScannerReason says why nobody holds a seat; "" when someone does.
	NoScannerReason string
}

// EventKind names what happened to a seat.
type EventKind string

// The event kinds.
const (
	Elected  EventKind = "elected"  // took a free seat
	Replaced EventKind = "replaced" // took a seat from a scanner it beat by the threshold
	Expired  EventKind = "expired"  // lost its seat: not heard from within max-alive
	Demoted  EventKind = "demoted"  // lost its seat: too many failed scans in a row
	Released EventKind = "released" // lost its seat for another reason, given in Reason
)

// Event is a change of seat. For Replaced, AgentID took the seat from
// Replaced; for the losses, AgentID lost it.
type Event struct {
	Kind     EventKind
	SubnetID int64
	AgentID  int64
	Replaced int64
	Score    float64 // AgentID's
	OldScore float64 // Replaced's
	Reason   string
}

// Network is a network agents sit on that no subnet covers.
type Network struct {
	Prefix   netip.Prefix
	AgentIDs []int64 // ascending
}

// Output is the outcome of a round.
type Output struct {
	Results []Result // one per subnet, by subnet id
	Seats   []Seat   // every seat, by subnet then agent id
	Events  []Event
	// Unknown are allowed networks agents sit on that are in no subnet
	// and overlap none, in address order: the caller may create them.
	Unknown []Network
}

// candidacy is an agent's best usable address in one subnet.
type candidacy struct {
	agent  *Agent
	nic    string
	kind   string
	addr   netip.Prefix
	medium float64
}

// Decide runs one round of the election. It never elects more than a
// subnet's seats (at most HardMaxScanners), only moves a seat when the
// rules say so, and is deterministic.
func Decide(cfg Config, in Input) Output {
	cfg = cfg.WithDefaults()
	now := in.Now

	subnets := slices.Clone(in.Subnets)
	slices.SortFunc(subnets, func(a, b Subnet) int { return cmp.Compare(a.ID, b.ID) })
	byPrefix := make(map[netip.Prefix]int, len(subnets))
	for i, sn := range subnets {
		byPrefix[sn.Prefix.Masked()] = i
	}

	// Where each agent may scan.
	cands := make([][]candidacy, len(subnets))
	unknown := map[netip.Prefix][]int64{}
	agents := make([]*Agent, len(in.Agents))
	for i := range in.Agents {
		agents[i] = &in.Agents[i]
	}
	slices.SortFunc(agents, func(a, b *Agent) int { return cmp.Compare(a.ID, b.ID) })
	for _, a := range agents {
		for _, nic := range a.NICs {
			for _, addr := range nic.Addresses {
				network, why := UsableNetwork(nic, addr)
				if why != "" {
					continue
				}
				i, ok := subnetOf(byPrefix, addr.Addr())
				if !ok {
					if cfg.allowed(network) == "" {
						unknown[network] = appendOnce(unknown[network], a.ID)
					}
					continue
				}
				c := candidacy{agent: a, nic: nic.Name, kind: nic.Kind, addr: addr, medium: mediumOf(nic.Kind)}
				list := cands[i]
				if n := len(list); n > 0 && list[n-1].agent == a {
					if c.medium > list[n-1].medium {
						list[n-1] = c
					}
					continue
				}
				cands[i] = append(list, c)
			}
		}
	}

	prev := map[int64][]Seat{}
	load := map[int64]int{}
	for _, s := range in.Seats {
		prev[s.SubnetID] = append(prev[s.SubnetID], s)
		load[s.AgentID]++
	}
	pins := map[int64]map[int64]bool{}
	for _, p := range in.Pins {
		if pins[p.SubnetID] == nil {
			pins[p.SubnetID] = map[int64]bool{}
		}
		pins[p.SubnetID][p.AgentID] = true
	}
	standings := map[[2]int64]Standing{}
	for _, st := range in.Standings {
		standings[[2]int64{st.SubnetID, st.AgentID}] = st
	}

	r := round{cfg: cfg, now: now, load: load, standings: standings}
	out := Output{Results: make([]Result, 0, len(subnets))}
	for i, sn := range subnets {
		res := r.subnet(sn, cands[i], prev[sn.ID], pins[sn.ID])
		out.Results = append(out.Results, res)
		out.Seats = append(out.Seats, res.Seats...)
	}
	// Seats of subnets that no longer exist are simply gone: the subnet
	// was deleted, and its events with it.
	slices.SortFunc(out.Seats, func(a, b Seat) int {
		return cmp.Or(cmp.Compare(a.SubnetID, b.SubnetID), cmp.Compare(a.AgentID, b.AgentID))
	})
	out.Events = r.events
	for p, ids := range unknown {
		overlaps := false
		for _, sn := range subnets {
			if sn.Prefix.Overlaps(p) {
				overlaps = true
				break
			}
		}
		if !overlaps {
			slices.Sort(ids)
			out.Unknown = append(out.Unknown, Network{Prefix: p, AgentIDs: ids})
		}
	}
	slices.SortFunc(out.Unknown, func(a, b Network) int {
		return cmp.Or(a.Prefix.Addr().Compare(b.Prefix.Addr()), cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()))
	})
	return out
}

func appendOnce(ids []int64, id int64) []int64 {
	if n := len(ids); n > 0 && ids[n-1] == id {
		return ids
	}
	return append(ids, id)
}

// subnetOf finds the subnet holding addr: subnets never overlap, so it is
// the one keyed by addr's network at some length from /32 to /16.
func subnetOf(byPrefix map[netip.Prefix]int, addr netip.Addr) (int, bool) {
	for bits := addr.BitLen(); bits >= 16; bits-- {
		p, _ := addr.Prefix(bits)
		if i, ok := byPrefix[p]; ok {
			return i, true
		}
	}
	return 0, false
}

// virtualPrefixes are names of interfaces that are virtual whatever the
// agent says their kind is: container and VM bridges, veths, tunnels.
var virtualPrefixes = []string{"docker", "virbr", "br-", "veth", "vmnet", "vboxnet", "lxcbr", "lxdbr", "cni",
	"flannel", "cali", "podman", "kube", "vnet"}

// pointToPointPrefixes are names of point-to-point links.
var pointToPointPrefixes = []string{"ppp", "tun", "wg", "tailscale", "zt", "ipsec", "gre", "sit"}

// UsableNetwork says whether an agent's address may make it a candidate:
// the network it is on, or why not. It does not check the allowed and
// denied ranges (Config does, on the subnet).
func UsableNetwork(nic NIC, addr netip.Prefix) (netip.Prefix, string) {
	name := strings.ToLower(nic.Name)
	a := addr.Addr()
	switch st := strings.ToLower(nic.State); {
	case st != "" && st != "up" && st != "unknown":
		return netip.Prefix{}, "interface is " + st
	case nic.Kind == "virtual" || hasAnyPrefix(name, virtualPrefixes):
		return netip.Prefix{}, "virtual interface"
	case hasAnyPrefix(name, pointToPointPrefixes):
		return netip.Prefix{}, "point-to-point interface"
	case !a.Is4():
		return netip.Prefix{}, "not IPv4"
	case a.IsLoopback():
		return netip.Prefix{}, "loopback"
	case a.IsLinkLocalUnicast():
		return netip.Prefix{}, "link-local"
	case a.IsMulticast() || a.IsUnspecified():
		return netip.Prefix{}, "not a host address"
	case addr.Bits() >= 31:
		return netip.Prefix{}, "point-to-point address"
	case addr.Bits() < 16:
		return netip.Prefix{}, "network wider than /16"
	}
	return addr.Masked(), ""
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func mediumOf(kind string) float64 {
	switch kind {
	case "wired":
		return 1
	case "wireless":
		return 0.4
	}
	return 0.7
}

// round is the state of one Decide across subnets.
type round struct {
	cfg       Config
	now       time.Time
	load      map[int64]int // seats held per agent, updated subnet by subnet
	standings map[[2]int64]Standing
	events    []Event
}

// blocked says why a subnet may have no scanner at all, "" when it may.
func (r *round) blocked(sn Subnet) string {
	switch {
	case sn.Deny:
		return "scanning is denied by the subnet's policy"
	case sn.Never:
		return "an admin marked this subnet never"
	}
	return r.cfg.allowed(sn.Prefix.Masked())
}

func seatsOf(sn Subnet) int {
	switch {
	case sn.MaxScanners <= 0:
		return 1
	case sn.MaxScanners > HardMaxScanners:
		return HardMaxScanners
	}
	return sn.MaxScanners
}

// loss is the event of an incumbent losing its seat because it is no
// longer eligible.
type loss struct {
	kind   EventKind
	reason string
}

// assess scores a candidate for subnet sn; own says whether it holds a
// seat there now (the minimum contacts do not apply to it then).
func (r *round) assess(sn Subnet, c candidacy, own, pinned bool) (Candidate, loss) {
	a := c.agent
	out := Candidate{AgentID: a.ID, Name: a.Name, Fidelity: a.Fidelity, Address: c.addr, NIC: c.nic, Pinned: pinned}
	poll, maxAlive := r.cfg.pollOf(a), r.cfg.maxAlive(a)
	age := r.now.Sub(a.LastContact)
	st := r.standings[[2]int64{sn.ID, a.ID}]
	switch {
	case a.Revoked:
		out.Reason = "its enrollment was revoked"
		return out, loss{Released, out.Reason}
	case a.Never:
		out.Reason = "an admin marked this agent never"
		return out, loss{Released, out.Reason}
	case a.LastContact.IsZero() || age > maxAlive:
		out.Reason = fmt.Sprintf("not heard from for %s (max-alive %s)", roundDur(age), maxAlive)
		if a.LastContact.IsZero() {
			out.Reason = "never heard from"
		}
		return out, loss{Expired, out.Reason}
	case !pinned && st.CooldownUntil.After(r.now):
		out.Reason = fmt.Sprintf("demoted after failed scans (last: %s); cool-down until %s",
			st.LastError, st.CooldownUntil.UTC().Format(time.RFC3339))
		return out, loss{Demoted, out.Reason}
	case !pinned && !own && a.Fidelity < r.cfg.MinContacts:
		out.Reason = fmt.Sprintf("only %d contact%s; %d needed before a first election", a.Fidelity, plural(a.Fidelity), r.cfg.MinContacts)
		return out, loss{}
	}
	out.Eligible = true

	gap := time.Duration(a.Quality * 24 * float64(time.Hour))
	regularity := 1.0
	if gap > poll {
		regularity = float64(poll) / float64(gap)
	}
	maturity := math.Min(1, float64(a.Fidelity)/float64(r.cfg.MatureContacts))
	p := Parts{Reliability: regularity * maturity, Freshness: 1, Capability: 0.4, Medium: c.medium}
	if age > poll && maxAlive > poll {
		p.Freshness = 1 - 0.5*float64(age-poll)/float64(maxAlive-poll)
	}
	if a.RawSockets {
		p.Capability = 1
	}
	others := r.load[a.ID] // this subnet's seat is not counted (see subnet)
	p.Load = 1 / float64(1+others)
	out.Parts = p
	out.Score = round4(wReliability*p.Reliability + wFreshness*p.Freshness + wCapability*p.Capability +
		wMedium*p.Medium + wLoad*p.Load)

	out.Detail = Detail{Gap: gap, Age: age, RawSockets: a.RawSockets, Medium: c.kind, Others: others, Failures: st.Failures}
	return out, loss{}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute)
	case d >= time.Minute:
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// better orders candidates best first: by score, then the one with more
// contacts (seniority breaks ties, so a new machine never wins one), then
// by id.
func better(a, b Candidate) int {
	return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Fidelity, a.Fidelity), cmp.Compare(a.AgentID, b.AgentID))
}

// subnet runs the election of one subnet.
func (r *round) subnet(sn Subnet, cs []candidacy, prev []Seat, pins map[int64]bool) Result {
	res := Result{SubnetID: sn.ID, Seats: []Seat{}, Candidates: make([]Candidate, 0, len(cs))}
	held := map[int64]Seat{}
	for _, s := range prev {
		held[s.AgentID] = s
		r.load[s.AgentID]-- // counted again below if kept
	}
	blocked := r.blocked(sn)
	losses := map[int64]loss{}
	byID := map[int64]Candidate{}
	for _, c := range cs {
		_, own := held[c.agent.ID]
		cand, l := r.assess(sn, c, own, pins[c.agent.ID])
		if blocked != "" && cand.Eligible {
			cand.Eligible, cand.Score, cand.Reason = false, 0, blocked
		}
		if l.kind != "" {
			losses[c.agent.ID] = l
		}
		res.Candidates = append(res.Candidates, cand)
		byID[cand.AgentID] = cand
	}
	slices.SortFunc(res.Candidates, func(a, b Candidate) int {
		if a.Eligible != b.Eligible {
			if a.Eligible {
				return -1
			}
			return 1
		}
		return better(a, b)
	})

	capacity := seatsOf(sn)
	var seats []Seat
	seated := map[int64]bool{}
	take := func(c Candidate, reason string) {
		s := Seat{SubnetID: sn.ID, AgentID: c.AgentID, ElectedAt: r.now, Score: c.Score, Pinned: c.Pinned,
			Reason: reason + "; " + c.Explain()}
		if old, ok := held[c.AgentID]; ok {
			s.ElectedAt = old.ElectedAt
		}
		seats = append(seats, s)
		seated[c.AgentID] = true
	}
	// Pinned agents first, by id, while they are alive.
	if blocked == "" && len(pins) > 0 {
		for _, c := range sortedByID(res.Candidates) {
			if c.Pinned && c.Eligible && len(seats) < capacity {
				take(c, "pinned by an admin")
				if _, ok := held[c.AgentID]; !ok {
					r.events = append(r.events, Event{Kind: Elected, SubnetID: sn.ID, AgentID: c.AgentID, Score: c.Score,
						Reason: "pinned by an admin; " + c.Explain()})
				}
			}
		}
	}
	// Then the incumbents still eligible, best first.
	var keep []Candidate
	for _, s := range prev {
		if seated[s.AgentID] {
			continue
		}
		c, ok := byID[s.AgentID]
		switch {
		case blocked != "":
			r.lose(sn.ID, s, Released, blocked)
		case !ok:
			r.lose(sn.ID, s, Released, "it no longer has a usable address in this subnet")
		case !c.Eligible:
			l := losses[s.AgentID]
			if l.kind == "" {
				l = loss{Released, c.Reason}
			}
			r.lose(sn.ID, s, l.kind, l.reason)
		default:
			keep = append(keep, c)
		}
	}
	slices.SortFunc(keep, better)
	for _, c := range keep {
		if len(seats) < capacity {
			take(c, "holds the seat")
			continue
		}
		why := fmt.Sprintf("the subnet has %d seats", capacity)
		if len(pins) > 0 {
			why += ", taken by pinned or better agents"
		}
		r.lose(sn.ID, held[c.AgentID], Released, why)
	}
	if blocked != "" {
		res.NoScannerReason = blocked
		r.finish(&res, seats, seated)
		return res
	}
	// Free seats go to the best challengers; then a challenger takes the
	// worst unpinned seat only when better by the threshold.
	var challengers []Candidate
	for _, c := range res.Candidates {
		if c.Eligible && !seated[c.AgentID] {
			challengers = append(challengers, c)
		}
	}
	next := 0
	for ; next < len(challengers) && len(seats) < capacity; next++ {
		c := challengers[next]
		take(c, fmt.Sprintf("elected: best of %d eligible candidates", len(challengers)+len(seats)))
		r.events = append(r.events, Event{Kind: Elected, SubnetID: sn.ID, AgentID: c.AgentID, Score: c.Score, Reason: c.Explain()})
	}
	for ; next < len(challengers); next++ {
		c := challengers[next]
		worst := -1
		for i, s := range seats {
			if s.Pinned {
				continue
			}
			if worst < 0 || s.Score < seats[worst].Score || (s.Score == seats[worst].Score && s.AgentID > seats[worst].AgentID) {
				worst = i
			}
		}
		if worst < 0 || c.Score <= seats[worst].Score+r.cfg.Threshold {
			break
		}
		old := seats[worst]
		delete(seated, old.AgentID)
		seats = slices.Delete(seats, worst, worst+1)
		take(c, fmt.Sprintf("replaced agent %d (score %.2f): better by more than %.2f", old.AgentID, old.Score, r.cfg.Threshold))
		r.events = append(r.events, Event{Kind: Replaced, SubnetID: sn.ID, AgentID: c.AgentID, Replaced: old.AgentID,
			Score: c.Score, OldScore: old.Score,
			Reason: fmt.Sprintf("score %.4f beats %.4f by more than the threshold %.2f", c.Score, old.Score, r.cfg.Threshold)})
	}
	r.finish(&res, seats, seated)
	if len(res.Seats) == 0 {
		res.NoScannerReason = noScannerReason(res.Candidates)
	}
	return res
}

// finish orders the seats, counts them as load and picks the runner-up.
func (r *round) finish(res *Result, seats []Seat, seated map[int64]bool) {
	slices.SortFunc(seats, func(a, b Seat) int {
		if a.Pinned != b.Pinned {
			if a.Pinned {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.AgentID, b.AgentID))
	})
	if seats == nil {
		seats = []Seat{}
	}
	res.Seats = seats
	for _, s := range seats {
		r.load[s.AgentID]++
	}
	for i := range res.Candidates {
		c := &res.Candidates[i]
		if c.Eligible && !seated[c.AgentID] {
			ru := *c
			ru.Reason = ru.Explain()
			res.RunnerUp = &ru
			break
		}
	}
}

func (r *round) lose(subnetID int64, s Seat, kind EventKind, reason string) {
	r.events = append(r.events, Event{Kind: kind, SubnetID: subnetID, AgentID: s.AgentID, Score: s.Score, Reason: reason})
}

func sortedByID(cs []Candidate) []Candidate {
	out := slices.Clone(cs)
	slices.SortFunc(out, func(a, b Candidate) int { return cmp.Compare(a.AgentID, b.AgentID) })
	return out
}

// noScannerReason explains an empty subnet from its candidates.
func noScannerReason(cs []Candidate) string {
	if len(cs) == 0 {
		return "no agent has a usable address in this subnet"
	}
	var parts []string
	for i, c := range cs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(cs)-3))
			break
		}
		name := c.Name
		if name == "" {
			name = fmt.Sprintf("agent %d", c.AgentID)
		}
		parts = append(parts, name+": "+c.Reason)
	}
	return "no eligible agent (" + strings.Join(parts, "; ") + ")"
}

// Record updates a standing with the outcome of a scan: failure is ""
// for a scan that worked. FailureLimit failures in a row demote the
// scanner for a cool-down (doubled with each demotion in a row, at most
// MaxCooldown); a success clears the count. It reports whether this
// failure demoted it.
func (c Config) Record(st Standing, failure string, now time.Time) (Standing, bool) {
	c = c.WithDefaults()
	st.LastAt = now
	if failure == "" {
		st.Failures, st.Demotions, st.LastError = 0, 0, ""
		return st, false
	}
	st.Failures++
	st.LastError = failure
	if st.Failures < c.FailureLimit {
		return st, false
	}
	st.Failures = 0
	st.Demotions++
	cool := c.Cooldown
	for i := 1; i < st.Demotions && cool < c.MaxCooldown; i++ {
		cool *= 2
	}
	st.CooldownUntil = now.Add(min(cool, c.MaxCooldown))
	return st, true
}
