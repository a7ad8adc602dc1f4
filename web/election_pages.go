package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/election"
)

// The election's pages, set here rather than in pages.go's table, which
// other features edit.
func init() {
	pageTitles["election.html"] = "Election"
	pageTitles["subnet_election.html"] = "Subnet election"
}

// candidateView is an agent with an address in a subnet, as the API and
// the subnet's election page show it.
type candidateView struct {
	AgentID  int64          `json:"agent_id"`
	Name     string         `json:"name"`
	Address  string         `json:"address"`
	NIC      string         `json:"nic"`
	Eligible bool           `json:"eligible"`
	Elected  bool           `json:"elected"`
	Pinned   bool           `json:"pinned"`
	Never    bool           `json:"never"`
	Score    float64        `json:"score"`
	Parts    election.Parts `json:"parts"`
	Reason   string         `json:"reason"`
}

// subnetElectionView is a subnet's election with its settings; the
// candidates and events are filled in for one subnet only.
type subnetElectionView struct {
	SubnetID    int64                `json:"subnet_id"`
	CIDR        string               `json:"cidr"`
	Name        string               `json:"name"`
	Policy      inventory.ScanPolicy `json:"policy"`
	MaxScanners int                  `json:"max_scanners"`
	Never       bool                 `json:"never"`
	SubnetElection
	Pins       []inventory.ElectionPin   `json:"pins"`
	Candidates []candidateView           `json:"candidates,omitempty"`
	Events     []inventory.ElectionEvent `json:"events,omitempty"`
}

// electionConfigView is the election's configuration as the API shows it.
type electionConfigView struct {
	Allowed        []string `json:"allowed"`
	Denied         []string `json:"denied"`
	PollInterval   string   `json:"poll_interval"`
	MaxAlive       int      `json:"max_alive"`
	MinContacts    int      `json:"min_contacts"`
	MatureContacts int      `json:"mature_contacts"`
	Threshold      float64  `json:"threshold"`
	FailureLimit   int      `json:"failure_limit"`
	Cooldown       string   `json:"cooldown"`
	MaxCooldown    string   `json:"max_cooldown"`
	HardMax        int      `json:"hard_max_scanners"`
	AutoSubnets    bool     `json:"auto_subnets"`
}

type electionView struct {
	At      time.Time            `json:"at"`
	Stats   electionStats        `json:"stats"`
	Config  electionConfigView   `json:"config"`
	Subnets []subnetElectionView `json:"subnets"`
}

func (e *electionService) configView() electionConfigView {
	c := e.cfg
	v := electionConfigView{Allowed: []string{}, Denied: []string{}, PollInterval: c.PollInterval.String(),
		MaxAlive: c.MaxAlive, MinContacts: c.MinContacts, MatureContacts: c.MatureContacts, Threshold: c.Threshold,
		FailureLimit: c.FailureLimit, Cooldown: c.Cooldown.String(), MaxCooldown: c.MaxCooldown.String(),
		HardMax: election.HardMaxScanners, AutoSubnets: !e.opts.NoAutoSubnets}
	for _, p := range c.Allowed {
		v.Allowed = append(v.Allowed, p.String())
	}
	for _, p := range c.Denied {
		v.Denied = append(v.Denied, p.String())
	}
	return v
}

func (e *electionService) statsNow() electionStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

func (st *electionState) subnetView(r *election.Result, detail bool) subnetElectionView {
	sn := st.subnets[r.SubnetID]
	v := subnetElectionView{SubnetID: sn.ID, CIDR: sn.CIDR, Name: sn.Name, Policy: sn.Policy, MaxScanners: sn.MaxScanners,
		Never: st.never[sn.ID], SubnetElection: st.view(r), Pins: st.pins[sn.ID]}
	if v.Pins == nil {
		v.Pins = []inventory.ElectionPin{}
	}
	if !detail {
		return v
	}
	elected := map[int64]bool{}
	for _, seat := range r.Seats {
		elected[seat.AgentID] = true
	}
	v.Candidates = []candidateView{}
	for _, c := range r.Candidates {
		v.Candidates = append(v.Candidates, candidateView{AgentID: c.AgentID, Name: c.Name, Address: c.Address.String(),
			NIC: c.NIC, Eligible: c.Eligible, Elected: elected[c.AgentID], Pinned: c.Pinned, Never: st.agentNever[c.AgentID],
			Score: c.Score, Parts: c.Parts, Reason: c.Explain()})
	}
	return v
}

// overview is every subnet's election, in the subnets' address order.
func (s *Server) electionOverview(ctx context.Context) (electionView, error) {
	st, err := s.electionState(ctx)
	if err != nil {
		return electionView{}, err
	}
	subnets, err := s.store.Subnets(ctx)
	if err != nil {
		return electionView{}, err
	}
	v := electionView{At: st.at, Stats: s.election.statsNow(), Config: s.election.configView(), Subnets: []subnetElectionView{}}
	for _, sn := range subnets {
		if r, ok := st.results[sn.ID]; ok {
			v.Subnets = append(v.Subnets, st.subnetView(r, false))
		}
	}
	return v, nil
}

// subnetDetail is one subnet's election with its candidates and events.
func (s *Server) subnetDetail(ctx context.Context, subnetID int64) (subnetElectionView, error) {
	st, r, err := s.stateWith(ctx, subnetID)
	if err != nil {
		return subnetElectionView{}, err
	}
	v := st.subnetView(r, true)
	if v.Events, err = s.store.ElectionEvents(ctx, inventory.ElectionEventQuery{SubnetID: subnetID, Limit: 50}); err != nil {
		return v, err
	}
	return v, nil
}

func (s *Server) apiElection(c *gin.Context) {
	v, err := s.electionOverview(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (s *Server) apiSubnetElection(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	v, err := s.subnetDetail(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (s *Server) apiElectionEvents(c *gin.Context) {
	q := inventory.ElectionEventQuery{Limit: 100}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"subnet", &q.SubnetID}, {"agent", &q.AgentID}} {
		if v := c.Query(f.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				apiError(c, http.StatusBadRequest, fmt.Sprintf("%s %q is not an id", f.name, v))
				return
			}
			*f.dst = n
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			apiError(c, http.StatusBadRequest, fmt.Sprintf("limit %q is not between 1 and 1000", v))
			return
		}
		q.Limit = n
	}
	evs, err := s.store.ElectionEvents(c.Request.Context(), q)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": evs, "total": len(evs)})
}

// subnetElectionInput is what PUT /subnets/{id}/election takes; fields
// left out keep their value.
type subnetElectionInput struct {
	MaxScanners *int  `json:"max_scanners"`
	Never       *bool `json:"never"`
}

// setSubnetElection applies an admin's settings of a subnet's election
// and runs a round; it returns a message for people when the input is
// wrong, and audits what changed.
func (s *Server) setSubnetElection(c *gin.Context, id int64, in subnetElectionInput) (string, error) {
	ctx := c.Request.Context()
	sn, err := s.store.Subnet(ctx, id)
	if err != nil {
		return "", err
	}
	if in.MaxScanners == nil && in.Never == nil {
		return "give max_scanners (1 to 3) or never (true or false)", nil
	}
	var changes []string
	if in.MaxScanners != nil {
		n := *in.MaxScanners
		if n < 1 || n > election.HardMaxScanners {
			return fmt.Sprintf("max_scanners %d is not between 1 and %d: no subnet gets more than %d scanners", n,
				election.HardMaxScanners, election.HardMaxScanners), nil
		}
		if n != sn.MaxScanners {
			changes = append(changes, fmt.Sprintf("max scanners %d → %d", sn.MaxScanners, n))
			sn.MaxScanners = n
			if _, err := s.store.UpdateSubnet(ctx, sn); err != nil {
				return "", err
			}
		}
	}
	if in.Never != nil {
		if err := s.store.SetSubnetNever(ctx, id, *in.Never, principalOf(c).actor()); err != nil {
			return "", err
		}
		changes = append(changes, fmt.Sprintf("never %v", *in.Never))
	}
	s.audit(c, "election.subnet", fmt.Sprintf("subnet/%d", id), sn.CIDR+": "+strings.Join(changes, ", "))
	return "", s.electNow(ctx, "admin: "+sn.CIDR+" election settings")
}

func (s *Server) apiPutSubnetElection(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var in subnetElectionInput
	if !decodeJSON(c, &in) {
		return
	}
	msg, err := s.setSubnetElection(c, id, in)
	if err != nil {
		s.storeError(c, err)
		return
	}
	if msg != "" {
		apiError(c, http.StatusBadRequest, msg)
		return
	}
	s.apiSubnetElection(c)
}

// setPin pins or unpins an agent to a subnet, audits it and runs a round.
func (s *Server) setPin(c *gin.Context, subnetID, agentID int64, pin bool) error {
	ctx := c.Request.Context()
	if err := s.store.SetElectionPin(ctx, subnetID, agentID, pin, principalOf(c).actor()); err != nil {
		return err
	}
	action := "election.pin"
	if !pin {
		action = "election.unpin"
	}
	s.audit(c, action, fmt.Sprintf("subnet/%d", subnetID), fmt.Sprintf("agent %d", agentID))
	return s.electNow(ctx, fmt.Sprintf("admin: %s agent %d on subnet %d", strings.TrimPrefix(action, "election."), agentID, subnetID))
}

func (s *Server) apiPin(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	agentID, err := strconv.ParseInt(c.Param("agent"), 10, 64)
	if err != nil || agentID <= 0 {
		apiError(c, http.StatusNotFound, "not found")
		return
	}
	if err := s.setPin(c, id, agentID, c.Request.Method == http.MethodPut); err != nil {
		s.storeError(c, err)
		return
	}
	s.apiSubnetElection(c)
}

// agentElectionInput is what PUT /election/agents/{id} takes.
type agentElectionInput struct {
	Never *bool `json:"never"`
}

type agentElectionView struct {
	AgentID        int64   `json:"agent_id"`
	Never          bool    `json:"never"`
	ElectedSubnets []int64 `json:"elected_subnets"`
}

// setAgentNever marks or unmarks an agent never, audits it and runs a
// round.
func (s *Server) setAgentNever(c *gin.Context, agentID int64, never bool) error {
	ctx := c.Request.Context()
	if err := s.store.SetAgentNever(ctx, agentID, never, principalOf(c).actor()); err != nil {
		return err
	}
	s.audit(c, "election.agent", fmt.Sprintf("agent/%d", agentID), fmt.Sprintf("never %v", never))
	return s.electNow(ctx, fmt.Sprintf("admin: agent %d never %v", agentID, never))
}

func (s *Server) apiAgentElection(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var in agentElectionInput
	if !decodeJSON(c, &in) {
		return
	}
	if in.Never == nil {
		apiError(c, http.StatusBadRequest, "give never (true or false)")
		return
	}
	if err := s.setAgentNever(c, id, *in.Never); err != nil {
		s.storeError(c, err)
		return
	}
	subnets, err := s.electedSubnets(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, agentElectionView{AgentID: id, Never: *in.Never, ElectedSubnets: subnets})
}

// Pages.

type electionPageData struct {
	View   electionView
	Events []inventory.ElectionEvent
	CIDR   map[int64]string
}

func (s *Server) electionPage(c *gin.Context) {
	ctx := c.Request.Context()
	v, err := s.electionOverview(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	d := electionPageData{View: v, CIDR: map[int64]string{}}
	for _, sn := range v.Subnets {
		d.CIDR[sn.SubnetID] = sn.CIDR
	}
	if d.Events, err = s.store.ElectionEvents(ctx, inventory.ElectionEventQuery{Limit: 50}); err != nil {
		s.pageError(c, err)
		return
	}
	s.render(c, http.StatusOK, "election.html", d)
}

type subnetElectionPageData struct {
	View    subnetElectionView
	Config  electionConfigView
	CanEdit bool
	Notice  string
	Error   string
	Seats   []int // the choices of max scanners
}

func (s *Server) subnetElectionPage(c *gin.Context) {
	notice := ""
	switch c.Query("done") {
	case "saved":
		notice = "Election settings saved; the election ran again."
	case "pinned":
		notice = "Agent pinned to this subnet."
	case "unpinned":
		notice = "Pin removed."
	case "never":
		notice = "Agent marked never: it scans nothing."
	case "allowed":
		notice = "Agent may be elected again."
	}
	s.renderSubnetElection(c, http.StatusOK, notice, "")
}

func (s *Server) renderSubnetElection(c *gin.Context, status int, notice, errMsg string) {
	v, ok := loadPageByID(s, c, "subnet", s.subnetDetail)
	if !ok {
		return
	}
	d := subnetElectionPageData{View: v, Config: s.election.configView(), Notice: notice, Error: errMsg,
		CanEdit: principalOf(c).Role.Allows(inventory.RoleAdmin)}
	for n := 1; n <= election.HardMaxScanners; n++ {
		d.Seats = append(d.Seats, n)
	}
	s.render(c, status, "subnet_election.html", d)
}

// electionFormError answers a form whose store call failed: 404 for what is not
// there, the page with the message for bad input, the error page else.
func (s *Server) electionFormError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such subnet or agent.")
	case errors.Is(err, inventory.ErrInvalid), errors.Is(err, inventory.ErrConflict):
		s.renderSubnetElection(c, http.StatusBadRequest, "", plainError(err))
	default:
		s.pageError(c, err)
	}
}

func (s *Server) subnetElectionForm(c *gin.Context) {
	id, ok := deviceID(c)
	if !ok {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such subnet.")
		return
	}
	var in subnetElectionInput
	if v := c.PostForm("max_scanners"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.renderSubnetElection(c, http.StatusBadRequest, "", fmt.Sprintf("max scanners %q is not a number", v))
			return
		}
		in.MaxScanners = &n
	}
	never := c.PostForm("never") != ""
	in.Never = &never
	msg, err := s.setSubnetElection(c, id, in)
	switch {
	case err != nil:
		s.electionFormError(c, err)
	case msg != "":
		s.renderSubnetElection(c, http.StatusBadRequest, "", msg)
	default:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/subnets/%d/election?done=saved", id))
	}
}

func (s *Server) pinForm(c *gin.Context) {
	id, ok := deviceID(c)
	if !ok {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such subnet.")
		return
	}
	agentID, err := strconv.ParseInt(c.PostForm("agent"), 10, 64)
	if err != nil || agentID <= 0 {
		s.renderSubnetElection(c, http.StatusBadRequest, "", "choose an agent")
		return
	}
	pin := c.PostForm("pin") == "1"
	if err := s.setPin(c, id, agentID, pin); err != nil {
		s.electionFormError(c, err)
		return
	}
	done := "pinned"
	if !pin {
		done = "unpinned"
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/subnets/%d/election?done=%s", id, done))
}

func (s *Server) agentNeverForm(c *gin.Context) {
	id, ok := deviceID(c)
	if !ok {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such agent.")
		return
	}
	never := c.PostForm("never") == "1"
	if err := s.setAgentNever(c, id, never); err != nil {
		s.pageStoreError(c, "agent", err)
		return
	}
	done := "never"
	if !never {
		done = "allowed"
	}
	// Back to the subnet the form was on, when it says one.
	if back, err := strconv.ParseInt(c.PostForm("subnet"), 10, 64); err == nil && back > 0 {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/subnets/%d/election?done=%s", back, done))
		return
	}
	c.Redirect(http.StatusSeeOther, "/election")
}
