package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/election"
)

// ElectionOptions configure the election of the agents that scan each
// subnet (package inventory/election decides; this side loads its input,
// keeps its outcome and serves it).
type ElectionOptions struct {
	// Config is the election's own: allowed and denied ranges, the default
	// poll interval, max-alive, minimum contacts, threshold, failures and
	// cool-down.
	Config election.Config
	// Interval is how often the election runs without being asked, so a
	// scanner that went silent loses its seat within max-alive even when
	// no other agent calls. Default 1m; negative: never.
	Interval time.Duration
	// Coalesce bounds the cost of running on every contact: a reelect
	// within the window after the last round (or during one) only marks
	// the election dirty, and one round runs at the end of the window. The
	// window is Coalesce, or ten times the last round's duration when
	// that is longer, so the election never takes more than about a
	// tenth of a core however fast agents call. Default 1s.
	Coalesce time.Duration
	// NoAutoSubnets stops the election from creating, as subnets named
	// "auto", the allowed networks agents sit on that no subnet covers.
	NoAutoSubnets bool
	// ServerNetworks lists the networks the server itself has an address
	// in (it may scan those itself); default: its interfaces' IPv4
	// networks. Tests set it.
	ServerNetworks func() ([]netip.Prefix, error)
}

// electionService holds the election's outcome between rounds. Rounds run
// one at a time (runMu); readers take the latest outcome under mu.
type electionService struct {
	opts  ElectionOptions
	cfg   election.Config // with defaults
	runMu sync.Mutex

	mu      sync.Mutex
	cur     *electionState
	lastRun time.Time
	running bool
	dirty   bool
	why     string // of the round the dirty flag stands for
	stats   electionStats
}

// electionStats describe the rounds so far, for the UI and the API.
type electionStats struct {
	Rounds    int           `json:"rounds"`
	Coalesced int           `json:"coalesced"` // reelect calls folded into a later round
	Last      time.Time     `json:"last_round"`
	LastDur   time.Duration `json:"-"`
	LastMS    float64       `json:"last_round_ms"`
	LastWhy   string        `json:"last_why"`
	LastErr   string        `json:"last_error,omitempty"`
}

// electionState is one round's outcome, indexed for the readers.
type electionState struct {
	at         time.Time
	results    map[int64]*election.Result // by subnet id
	subnets    map[int64]inventory.Subnet
	never      map[int64]bool // subnets marked never
	names      map[int64]string
	elected    map[int64][]int64 // agent id → subnet ids, ascending
	pins       map[int64][]inventory.ElectionPin
	agentNever map[int64]bool
	serverNets []netip.Prefix
	hostname   string
}

func (s *Server) initElection() error {
	o := s.opts.Election
	if err := o.Config.Validate(); err != nil {
		return fmt.Errorf("web: election: %w", err)
	}
	if o.Interval == 0 {
		o.Interval = time.Minute
	}
	if o.Coalesce <= 0 {
		o.Coalesce = time.Second
	}
	if o.ServerNetworks == nil {
		o.ServerNetworks = interfaceNetworks
	}
	s.election = &electionService{opts: o, cfg: o.Config.WithDefaults()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A store that cannot be read now is logged, not fatal: the timer
	// tries again.
	if err := s.electNow(ctx, "server start"); err != nil {
		s.log.Warn("election: first round failed", "err", err)
	}
	// The folded round runs at the first tick after the window; a tick
	// costs a lock and a comparison, but not one every nanosecond.
	s.jobs.every(max(o.Coalesce, 10*time.Millisecond), func(ctx context.Context) {
		e := s.election
		e.mu.Lock()
		dirty, why := e.dirty && !e.running && s.opts.Now().Sub(e.lastRun) >= e.window(), e.why
		e.mu.Unlock()
		if dirty {
			if err := s.electNow(ctx, why); err != nil && ctx.Err() == nil {
				s.log.Warn("election round failed", "why", why, "err", err)
			}
		}
	})
	if o.Interval > 0 {
		s.jobs.every(o.Interval, func(ctx context.Context) {
			if err := s.electNow(ctx, "timer"); err != nil && ctx.Err() == nil {
				s.log.Warn("election round failed", "why", "timer", "err", err)
			}
		})
	}
	return nil
}

// interfaceNetworks are the IPv4 networks of the server's own interfaces.
func interfaceNetworks() ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list interface addresses: %w", err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.To4() == nil {
			continue
		}
		ip, _ := netip.AddrFromSlice(ipn.IP.To4())
		ones, bits := ipn.Mask.Size()
		if bits == 128 {
			ones -= 96
		}
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ones < 0 {
			continue
		}
		out = append(out, netip.PrefixFrom(ip, ones).Masked())
	}
	return out, nil
}

// reelect recomputes the election (on an agent's contact, on a timer,
// after an admin change); why goes to the log and the events. It is cheap
// to call on every contact: within ElectionOptions.Coalesce of the last
// round, or while one runs, it only marks the election dirty and returns
// at once; a single round then runs at the end of the window. Otherwise
// it runs the round before returning.
func (s *Server) reelect(ctx context.Context, why string) error {
	e := s.election
	e.mu.Lock()
	if e.running || s.opts.Now().Sub(e.lastRun) < e.window() {
		e.dirty, e.why = true, why
		e.stats.Coalesced++
		e.mu.Unlock()
		return nil
	}
	e.mu.Unlock()
	return s.electDetached(ctx, why)
}

// electDetached runs a round at once, for at most 30 s. A request may end
// before the round does; the round is the election's, not the request's.
func (s *Server) electDetached(ctx context.Context, why string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return s.electNow(rctx, why)
}

// window is how long after a round reelect only marks the election
// dirty; e.mu must be held.
func (e *electionService) window() time.Duration {
	return max(e.opts.Coalesce, 10*e.stats.LastDur)
}

// electNow runs a round now, waiting for one in progress: admin changes
// and demotions use it so that what they changed shows at once.
func (s *Server) electNow(ctx context.Context, why string) error {
	e := s.election
	e.runMu.Lock()
	defer e.runMu.Unlock()
	e.mu.Lock()
	e.running, e.dirty = true, false
	e.mu.Unlock()
	start := time.Now()
	st, err := s.electRound(ctx, why)
	dur := time.Since(start)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running = false
	e.lastRun = s.opts.Now()
	e.stats.Rounds++
	e.stats.Last, e.stats.LastDur, e.stats.LastMS, e.stats.LastWhy = e.lastRun, dur, float64(dur.Microseconds())/1000, why
	e.stats.LastErr = ""
	if err != nil {
		e.stats.LastErr = err.Error()
		return err
	}
	e.cur = st
	return nil
}

// electRound loads the input, decides, creates the unknown networks when
// allowed (and decides again with them), stores what changed and logs
// the events.
func (s *Server) electRound(ctx context.Context, why string) (*electionState, error) {
	e := s.election
	now := s.opts.Now()
	in, err := s.store.ElectionInput(ctx)
	if err != nil {
		return nil, err
	}
	out := election.Decide(e.cfg, electionInput(in, now, s.ocsPoll()))
	if len(out.Unknown) > 0 && !e.opts.NoAutoSubnets {
		// Networks an admin deleted the auto subnet of stay deleted.
		dismissed, err := s.store.DismissedAutoSubnets(ctx)
		if err != nil {
			return nil, err
		}
		created := 0
		for _, n := range out.Unknown {
			if slices.Contains(dismissed, n.Prefix.Masked()) {
				continue
			}
			sn, err := s.store.CreateSubnet(ctx, inventory.Subnet{CIDR: n.Prefix.String(), Name: "auto", Tags: []string{autoSubnetTag}})
			if errors.Is(err, inventory.ErrConflict) || errors.Is(err, inventory.ErrInvalid) {
				continue // created meanwhile, or not a subnet the store takes
			}
			if err != nil {
				return nil, fmt.Errorf("create subnet %s for its agents: %w", n.Prefix, err)
			}
			created++
			s.log.Info("election: created a subnet agents sit on", "subnet", sn.CIDR, "agents", n.AgentIDs)
			if err := s.store.Audit(ctx, inventory.AuditEntry{Actor: "system", Action: "subnet.create",
				Target:  fmt.Sprintf("subnet/%d", sn.ID),
				Details: fmt.Sprintf("%s, named auto: an allowed network agents %v sit on", sn.CIDR, n.AgentIDs)}); err != nil {
				s.log.Error("audit", "action", "subnet.create", "err", err)
			}
		}
		if created > 0 {
			if in, err = s.store.ElectionInput(ctx); err != nil {
				return nil, err
			}
			out = election.Decide(e.cfg, electionInput(in, now, s.ocsPoll()))
		}
	}

	st := &electionState{at: now, results: make(map[int64]*election.Result, len(out.Results)),
		subnets: make(map[int64]inventory.Subnet, len(in.Subnets)), never: map[int64]bool{},
		names: make(map[int64]string, len(in.Agents)), elected: map[int64][]int64{},
		pins: map[int64][]inventory.ElectionPin{}, agentNever: map[int64]bool{}}
	for i := range out.Results {
		st.results[out.Results[i].SubnetID] = &out.Results[i]
	}
	for _, sn := range in.Subnets {
		st.subnets[sn.ID] = sn
	}
	for _, id := range in.NeverSubnets {
		st.never[id] = true
	}
	for _, a := range in.Agents {
		st.names[a.ID] = agentName(a)
		if a.Never {
			st.agentNever[a.ID] = true
		}
	}
	for _, p := range in.Pins {
		st.pins[p.SubnetID] = append(st.pins[p.SubnetID], p)
	}
	for _, seat := range out.Seats {
		st.elected[seat.AgentID] = append(st.elected[seat.AgentID], seat.SubnetID)
	}
	if nets, err := e.opts.ServerNetworks(); err != nil {
		s.log.Warn("election: the server's own networks", "err", err)
	} else {
		st.serverNets = nets
	}
	st.hostname, _ = os.Hostname()

	events := make([]inventory.ElectionEvent, 0, len(out.Events))
	for _, ev := range out.Events {
		ie := inventory.ElectionEvent{At: now, Kind: string(ev.Kind), SubnetID: ev.SubnetID, AgentID: ev.AgentID,
			AgentName: st.names[ev.AgentID], ReplacedID: ev.Replaced, Score: ev.Score, OldScore: ev.OldScore,
			Reason: ev.Reason, Why: why}
		if ev.Replaced != 0 {
			ie.ReplacedName = st.names[ev.Replaced]
		}
		events = append(events, ie)
		attrs := []any{"event", ev.Kind, "subnet", st.subnets[ev.SubnetID].CIDR, "agent", ie.AgentName,
			"agent_id", ev.AgentID, "score", ev.Score, "reason", ev.Reason, "why", why}
		if ev.Replaced != 0 {
			attrs = append(attrs, "replaced", ie.ReplacedName, "replaced_id", ev.Replaced, "old_score", ev.OldScore)
		}
		s.log.Info("election", attrs...)
	}
	if len(events) > 0 || seatsMoved(in.Seats, out.Seats) {
		seats := make([]inventory.ElectionSeat, len(out.Seats))
		for i, seat := range out.Seats {
			seats[i] = inventory.ElectionSeat{SubnetID: seat.SubnetID, AgentID: seat.AgentID, ElectedAt: seat.ElectedAt,
				Score: seat.Score, Pinned: seat.Pinned, Reason: seat.Reason}
		}
		if err := s.store.SaveElection(ctx, seats, events); err != nil {
			return nil, err
		}
	}
	s.releaseLostSeats(ctx, out.Events)
	return st, nil
}

// seatsMoved says whether who sits where (or who is pinned) changed;
// scores move with every contact and are not worth a write.
func seatsMoved(old []inventory.ElectionSeat, now []election.Seat) bool {
	if len(old) != len(now) {
		return true
	}
	type key struct {
		subnet, agent int64
		pinned        bool
	}
	set := make(map[key]bool, len(old))
	for _, s := range old {
		set[key{s.SubnetID, s.AgentID, s.Pinned}] = true
	}
	for _, s := range now {
		if !set[key{s.SubnetID, s.AgentID, s.Pinned}] {
			return true
		}
	}
	return false
}

func agentName(a inventory.ElectionAgent) string {
	if a.Hostname != "" {
		return a.Hostname
	}
	return a.UID
}

// ocsPoll is how often OCS agents call: the PROLOG_FREQ the OCS endpoint
// hands them (hours, default 24). They do not say it themselves, and
// measured against the default poll interval a daily agent would never be
// alive enough to scan.
func (s *Server) ocsPoll() time.Duration {
	if h := s.opts.OCS.PrologFreq; h > 0 {
		return time.Duration(h) * time.Hour
	}
	return 24 * time.Hour
}

// electionInput turns the store's input into the election's; OCS agents
// that did not say how often they poll are taken to poll every ocsPoll.
func electionInput(in inventory.ElectionInput, now time.Time, ocsPoll time.Duration) election.Input {
	out := election.Input{Now: now, Agents: make([]election.Agent, 0, len(in.Agents)),
		Subnets: make([]election.Subnet, 0, len(in.Subnets))}
	for _, a := range in.Agents {
		ea := election.Agent{ID: a.ID, Name: agentName(a), Revoked: a.Revoked, Never: a.Never,
			LastContact: a.LastContact, Fidelity: a.Fidelity, Quality: a.Quality, PollInterval: a.PollInterval,
			// OCS agents' ipdiscover runs as root.
			RawSockets: a.Kind == inventory.AgentOCS || slices.Contains(a.Capabilities, inventory.CapRawSockets),
			NICs:       make([]election.NIC, 0, len(a.NICs))}
		if a.Kind == inventory.AgentOCS && ea.PollInterval == 0 {
			ea.PollInterval = ocsPoll
		}
		for _, n := range a.NICs {
			en := election.NIC{Name: n.Name, Kind: string(n.Kind), State: n.State}
			for _, addr := range n.Addresses {
				if p, err := netip.ParsePrefix(addr); err == nil {
					en.Addresses = append(en.Addresses, p)
				}
			}
			ea.NICs = append(ea.NICs, en)
		}
		out.Agents = append(out.Agents, ea)
	}
	never := map[int64]bool{}
	for _, id := range in.NeverSubnets {
		never[id] = true
	}
	for _, sn := range in.Subnets {
		p, err := netip.ParsePrefix(sn.CIDR)
		if err != nil {
			continue
		}
		out.Subnets = append(out.Subnets, election.Subnet{ID: sn.ID, Prefix: p, MaxScanners: sn.MaxScanners,
			Deny: sn.Policy == inventory.ScanDeny, Never: never[sn.ID]})
	}
	for _, st := range in.Seats {
		out.Seats = append(out.Seats, election.Seat{SubnetID: st.SubnetID, AgentID: st.AgentID, ElectedAt: st.ElectedAt,
			Score: st.Score, Pinned: st.Pinned, Reason: st.Reason})
	}
	for _, p := range in.Pins {
		out.Pins = append(out.Pins, election.Pin{SubnetID: p.SubnetID, AgentID: p.AgentID})
	}
	for _, st := range in.Standings {
		out.Standings = append(out.Standings, standingOf(st))
	}
	return out
}

func standingOf(st inventory.ScanStanding) election.Standing {
	return election.Standing{SubnetID: st.SubnetID, AgentID: st.AgentID, Failures: st.Failures, Demotions: st.Demotions,
		LastError: st.LastError, LastAt: st.LastAt, CooldownUntil: st.CooldownUntil}
}

// state returns the latest outcome, running a first round when there is
// none yet (the store could not be read at start).
func (s *Server) electionState(ctx context.Context) (*electionState, error) {
	e := s.election
	e.mu.Lock()
	st := e.cur
	e.mu.Unlock()
	if st != nil {
		return st, nil
	}
	if err := s.electNow(ctx, "first read"); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cur, nil
}

// stateWith returns the latest outcome, with a round run first when it
// does not know subnetID yet (a subnet created since).
func (s *Server) stateWith(ctx context.Context, subnetID int64) (*electionState, *election.Result, error) {
	st, err := s.electionState(ctx)
	if err != nil {
		return nil, nil, err
	}
	if r, ok := st.results[subnetID]; ok {
		return st, r, nil
	}
	if _, err := s.store.Subnet(ctx, subnetID); err != nil {
		return nil, nil, err
	}
	if err := s.electNow(ctx, "new subnet"); err != nil {
		return nil, nil, err
	}
	if st, err = s.electionState(ctx); err != nil {
		return nil, nil, err
	}
	r, ok := st.results[subnetID]
	if !ok {
		return nil, nil, fmt.Errorf("subnet %d: %w", subnetID, inventory.ErrNotFound)
	}
	return st, r, nil
}

// ScannerView is one scanner of a subnet as the API and UI show it. The
// JSON names are a stable contract (issue: agents and the election).
type ScannerView struct {
	Kind      string    `json:"kind"` // "agent", "server" or "satellite"
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	ElectedAt time.Time `json:"elected_at"`
	Score     float64   `json:"score"`
	Reason    string    `json:"reason"`
}

// SubnetElection is who scans a subnet, who would be next, and why no one
// does when no one does.
type SubnetElection struct {
	Scanners        []ScannerView `json:"scanners"`
	RunnerUp        *ScannerView  `json:"runner_up,omitempty"`
	NoScannerReason string        `json:"no_scanner_reason,omitempty"`
}

// subnetElection returns the current outcome of the election for a
// subnet: the elected agents, best first (pinned ones first of all); when
// none is elected, NoScannerReason says why and the scanner dispatchScan
// would use is listed: a satellite serving the subnet (kind "satellite",
// see scanSatelliteFor), else the server when it has an address in the
// subnet (kind "server"). ErrNotFound for an unknown subnet.
func (s *Server) subnetElection(ctx context.Context, subnetID int64) (SubnetElection, error) {
	st, r, err := s.stateWith(ctx, subnetID)
	if err != nil {
		return SubnetElection{Scanners: []ScannerView{}}, err
	}
	v := st.view(r)
	if len(r.Seats) == 0 && st.subnets[subnetID].Policy != inventory.ScanDeny {
		// No agent: dispatchScan sends the scan to a satellite serving
		// the subnet before the server, and so says the view.
		if p, err := netip.ParsePrefix(st.subnets[subnetID].CIDR); err == nil {
			sat, ok, err := s.scanSatelliteFor(ctx, p)
			if err != nil {
				return v, err
			}
			if ok {
				v.Scanners = []ScannerView{{Kind: string(inventory.ScannerSatellite), ID: sat.Name, Name: sat.Name,
					Reason: fmt.Sprintf("no agent is elected; satellite %s serves %s and scans it", sat.Name, p)}}
			}
		}
	}
	return v, nil
}

func (st *electionState) view(r *election.Result) SubnetElection {
	out := SubnetElection{Scanners: []ScannerView{}, NoScannerReason: r.NoScannerReason}
	for _, seat := range r.Seats {
		out.Scanners = append(out.Scanners, ScannerView{Kind: string(inventory.ScannerAgent), ID: fmt.Sprint(seat.AgentID),
			Name: st.names[seat.AgentID], ElectedAt: seat.ElectedAt, Score: seat.Score, Reason: seat.Reason})
	}
	if ru := r.RunnerUp; ru != nil {
		out.RunnerUp = &ScannerView{Kind: string(inventory.ScannerAgent), ID: fmt.Sprint(ru.AgentID), Name: ru.Name,
			Score: ru.Score, Reason: ru.Reason}
	}
	if len(out.Scanners) == 0 {
		sn := st.subnets[r.SubnetID]
		if p, err := netip.ParsePrefix(sn.CIDR); err == nil && sn.Policy != inventory.ScanDeny {
			for _, n := range st.serverNets {
				if n.Overlaps(p) {
					out.Scanners = append(out.Scanners, ScannerView{Kind: string(inventory.ScannerServer), ID: "server",
						Name: st.hostname, Reason: fmt.Sprintf("no agent is elected; the server has an address in %s and sweeps it itself", n)})
					break
				}
			}
		}
	}
	return out
}

// electedAgents returns the ids of the agents elected to scan a subnet,
// ascending; none (and no error) when it has none. Only agents: the
// server's own place is not an agent's.
func (s *Server) electedAgents(ctx context.Context, subnetID int64) ([]int64, error) {
	_, r, err := s.stateWith(ctx, subnetID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(r.Seats))
	for _, seat := range r.Seats {
		ids = append(ids, seat.AgentID)
	}
	slices.Sort(ids)
	return ids, nil
}

// electedSubnets returns the subnets an agent is elected for, ascending;
// none for an agent elected nowhere or unknown.
func (s *Server) electedSubnets(ctx context.Context, agentID int64) ([]int64, error) {
	st, err := s.electionState(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(st.elected[agentID]), nil
}

// reportScanOutcome tells the election how an elected scanner's scan of a
// subnet went: failure is empty on success, else what went wrong (a scan
// that failed or produced nothing), so the election can act on it rather
// than re-elect the same agent in a loop. Failures in a row are counted
// per (agent, subnet); at ElectionOptions.Config.FailureLimit the agent is
// demoted there for a cool-down (doubling with each demotion in a row)
// and the runner-up takes the seat at once; a success clears the count.
// Pinned agents are counted but not demoted.
func (s *Server) reportScanOutcome(ctx context.Context, agentID, subnetID int64, failure string) error {
	var demoted bool
	st, err := s.store.UpdateScanStanding(ctx, subnetID, agentID, func(cur inventory.ScanStanding) inventory.ScanStanding {
		next, d := s.election.cfg.Record(standingOf(cur), failure, s.opts.Now())
		demoted = d
		return inventory.ScanStanding{Failures: next.Failures, Demotions: next.Demotions, LastError: next.LastError,
			LastAt: next.LastAt, CooldownUntil: next.CooldownUntil}
	})
	if err != nil {
		return err
	}
	if failure == "" {
		return nil
	}
	s.log.Warn("election: an elected scan failed", "agent_id", agentID, "subnet_id", subnetID, "failure", failure,
		"failures_in_a_row", st.Failures, "demoted", demoted)
	if demoted {
		return s.electNow(ctx, fmt.Sprintf("agent %d failed %d scans in a row on subnet %d", agentID, s.election.cfg.FailureLimit, subnetID))
	}
	return nil
}

func (s *Server) electionRoutes(ui, api *gin.RouterGroup) {
	ui.GET("/election", s.electionPage)
	ui.GET("/subnets/:id/election", s.subnetElectionPage)
	ui.POST("/subnets/:id/election", s.requireRole(inventory.RoleAdmin), s.subnetElectionForm)
	ui.POST("/subnets/:id/election/pin", s.requireRole(inventory.RoleAdmin), s.pinForm)
	ui.POST("/election/agents/:id/never", s.requireRole(inventory.RoleAdmin), s.agentNeverForm)

	api.GET("/election", s.apiElection)
	api.GET("/election/events", s.apiElectionEvents)
	api.PUT("/election/agents/:id", s.requireRole(inventory.RoleAdmin), s.apiAgentElection)
	api.GET("/subnets/:id/election", s.apiSubnetElection)
	api.PUT("/subnets/:id/election", s.requireRole(inventory.RoleAdmin), s.apiPutSubnetElection)
	api.PUT("/subnets/:id/election/pins/:agent", s.requireRole(inventory.RoleAdmin), s.apiPin)
	api.DELETE("/subnets/:id/election/pins/:agent", s.requireRole(inventory.RoleAdmin), s.apiPin)
}
