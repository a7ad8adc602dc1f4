package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
)

// subnetRef names a subnet in lists.
type subnetRef struct {
	ID   int64  `json:"id"`
	CIDR string `json:"cidr"`
}

// agentView is an agent as the API and pages show it.
type agentView struct {
	inventory.Agent
	// State is "online", "offline" or "revoked".
	State         string      `json:"state"`
	PollIntervalS float64     `json:"poll_interval_s"`
	Elected       []subnetRef `json:"elected_subnets"`
}

// agentDetailView adds what the agent said about its machine beyond the
// stored fields, and its recent tasks.
type agentDetailView struct {
	agentView
	Inventory *protocol.Inventory   `json:"inventory,omitempty"`
	Tasks     []inventory.AgentTask `json:"tasks"`
	// Uptime is the inventory's uptime for people, "" when unknown.
	Uptime string `json:"-"`
}

// agentState says whether an agent is calling as often as it said it
// would.
func (s *Server) agentState(a inventory.Agent) string {
	if a.Revoked {
		return "revoked"
	}
	if s.agentOnline(a) {
		return "online"
	}
	return "offline"
}

func (s *Server) viewAgent(ctx context.Context, a inventory.Agent, subnets map[int64]string) (agentView, error) {
	v := agentView{Agent: a, State: s.agentState(a), PollIntervalS: a.PollInterval.Seconds(), Elected: []subnetRef{}}
	if v.Capabilities == nil {
		v.Capabilities = []string{}
	}
	ids, err := s.electedSubnets(ctx, a.ID)
	if err != nil {
		return v, err
	}
	for _, id := range ids {
		v.Elected = append(v.Elected, subnetRef{ID: id, CIDR: subnets[id]})
	}
	return v, nil
}

func (s *Server) subnetNames(ctx context.Context) (map[int64]string, error) {
	sns, err := s.store.Subnets(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(sns))
	for _, sn := range sns {
		m[sn.ID] = sn.CIDR
	}
	return m, nil
}

// listAgents reads ?q=, ?subnet=, ?state=, ?kind=, ?limit=, ?offset=.
func (s *Server) listAgents(c *gin.Context) ([]agentView, error) {
	ctx := c.Request.Context()
	q := inventory.AgentQuery{Search: strings.TrimSpace(c.Query("q"))}
	q.Limit, _ = strconv.Atoi(c.Query("limit"))
	q.Offset, _ = strconv.Atoi(c.Query("offset"))
	q.SubnetID, _ = strconv.ParseInt(c.Query("subnet"), 10, 64)
	agents, err := s.store.Agents(ctx, q)
	if err != nil {
		return nil, err
	}
	names, err := s.subnetNames(ctx)
	if err != nil {
		return nil, err
	}
	state, kind := c.Query("state"), c.Query("kind")
	out := []agentView{}
	for _, a := range agents {
		if kind != "" && string(a.Kind) != kind {
			continue
		}
		v, err := s.viewAgent(ctx, a, names)
		if err != nil {
			return nil, err
		}
		if state != "" && v.State != state {
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Server) apiAgents(c *gin.Context) {
	out, err := s.listAgents(c)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) agentDetail(ctx context.Context, id int64) (agentDetailView, error) {
	a, err := s.store.Agent(ctx, id)
	if err != nil {
		return agentDetailView{}, err
	}
	names, err := s.subnetNames(ctx)
	if err != nil {
		return agentDetailView{}, err
	}
	v, err := s.viewAgent(ctx, a, names)
	if err != nil {
		return agentDetailView{}, err
	}
	d := agentDetailView{agentView: v}
	if a.Kind == inventory.AgentLanscout {
		raw, err := s.store.AgentRaw(ctx, id)
		if err != nil {
			return agentDetailView{}, err
		}
		if raw != "" {
			var inv protocol.Inventory
			if json.Unmarshal([]byte(raw), &inv) == nil {
				d.Inventory = &inv
				if inv.UptimeS > 0 {
					d.Uptime = (time.Duration(inv.UptimeS) * time.Second).String()
				}
			}
		}
	}
	if d.Tasks, err = s.store.AgentTasks(ctx, inventory.AgentTaskQuery{AgentID: id, Limit: 50}); err != nil {
		return agentDetailView{}, err
	}
	return d, nil
}

func (s *Server) apiAgent(c *gin.Context) { serveByID(s, c, s.agentDetail) }

func (s *Server) apiAgentTasks(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if _, err := s.store.Agent(c.Request.Context(), id); err != nil {
		s.storeError(c, err)
		return
	}
	limit, _ := strconv.Atoi(c.Query("limit"))
	tasks, err := s.store.AgentTasks(c.Request.Context(), inventory.AgentTaskQuery{AgentID: id, Limit: limit,
		OpenOnly: c.Query("open") == "1" || c.Query("open") == "true"})
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, tasks)
}

// revokeAgent revokes or reinstates an agent; revoking closes its open
// tasks (nobody will answer them) and has the election drop it.
func (s *Server) revokeAgent(ctx context.Context, id int64, revoked bool) (inventory.Agent, error) {
	if err := s.store.SetAgentRevoked(ctx, id, revoked); err != nil {
		return inventory.Agent{}, err
	}
	if revoked {
		open, err := s.store.AgentTasks(ctx, inventory.AgentTaskQuery{AgentID: id, OpenOnly: true, Limit: 1000})
		if err != nil {
			return inventory.Agent{}, err
		}
		for _, at := range open {
			s.closeTask(ctx, at, inventory.TaskFailed, protocol.TaskResult{TaskID: at.ID, Final: true,
				Error: "the agent was revoked", Finished: s.opts.Now()})
		}
		s.agents.wakeAgent(id)
	}
	if err := s.reelect(ctx, fmt.Sprintf("agent %d revoked=%v", id, revoked)); err != nil {
		s.log.Warn("reelect after revocation", "agent", id, "err", err)
	}
	return s.store.Agent(ctx, id)
}

func (s *Server) apiRevokeAgent(c *gin.Context)    { s.apiSetRevoked(c, true) }
func (s *Server) apiReinstateAgent(c *gin.Context) { s.apiSetRevoked(c, false) }

func (s *Server) apiSetRevoked(c *gin.Context, revoked bool) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	a, err := s.revokeAgent(c.Request.Context(), id, revoked)
	if err != nil {
		s.storeError(c, err)
		return
	}
	action := "agent.revoke"
	if !revoked {
		action = "agent.reinstate"
	}
	s.audit(c, action, fmt.Sprintf("agent/%d", id), fmt.Sprintf("%s (%s)", a.Hostname, a.UID))
	names, _ := s.subnetNames(c.Request.Context())
	v, err := s.viewAgent(c.Request.Context(), a, names)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (s *Server) apiDeleteAgent(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	a, err := s.store.Agent(ctx, id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	if err := s.store.DeleteAgent(ctx, id); err != nil {
		s.storeError(c, err)
		return
	}
	s.agents.wakeAgent(id)
	if err := s.reelect(ctx, fmt.Sprintf("agent %d deleted", id)); err != nil {
		s.log.Warn("reelect after delete", "agent", id, "err", err)
	}
	s.audit(c, "agent.delete", fmt.Sprintf("agent/%d", id), fmt.Sprintf("%s (%s)", a.Hostname, a.UID))
	c.Status(http.StatusNoContent)
}

// ---- enrollment keys (admin) ----

type enrollmentKeyInput struct {
	Name    string   `json:"name"`
	Subnets []string `json:"subnets"`
	// Expires is RFC 3339; ExpiresIn a duration such as "72h"; neither:
	// the key does not expire.
	Expires   string `json:"expires"`
	ExpiresIn string `json:"expires_in"`
}

func (in enrollmentKeyInput) key(now time.Time, by string) (inventory.EnrollmentKey, error) {
	k := inventory.EnrollmentKey{Name: in.Name, Subnets: in.Subnets, CreatedBy: by}
	switch {
	case in.Expires != "" && in.ExpiresIn != "":
		return k, fmt.Errorf("%w: give expires or expires_in, not both", inventory.ErrInvalid)
	case in.Expires != "":
		t, err := time.Parse(time.RFC3339, in.Expires)
		if err != nil {
			return k, fmt.Errorf("%w: expires %q is not an RFC 3339 time", inventory.ErrInvalid, in.Expires)
		}
		k.Expires = t
	case in.ExpiresIn != "":
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			return k, fmt.Errorf("%w: expires_in %q is not a positive duration", inventory.ErrInvalid, in.ExpiresIn)
		}
		k.Expires = now.Add(d)
	}
	if !k.Expires.IsZero() && !k.Expires.After(now) {
		return k, fmt.Errorf("%w: the key would be expired already", inventory.ErrInvalid)
	}
	return k, nil
}

// createdKeyView is the one answer that carries the key in clear.
type createdKeyView struct {
	inventory.EnrollmentKey
	Key string `json:"key"`
}

func (s *Server) apiEnrollmentKeys(c *gin.Context) {
	keys, err := s.store.EnrollmentKeys(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, keys)
}

func (s *Server) apiEnrollmentKey(c *gin.Context) { serveByID(s, c, s.store.EnrollmentKey) }

func (s *Server) apiCreateEnrollmentKey(c *gin.Context) {
	var in enrollmentKeyInput
	if !decodeJSON(c, &in) {
		return
	}
	k, err := in.key(s.opts.Now(), principalOf(c).actor())
	if err != nil {
		s.storeError(c, err)
		return
	}
	key, created, err := s.store.CreateEnrollmentKey(c.Request.Context(), k)
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "enrollment_key.create", fmt.Sprintf("enrollment_key/%d", created.ID),
		fmt.Sprintf("%q %s, subnets [%s]", created.Name, created.Prefix, strings.Join(created.Subnets, ", ")))
	c.Header("Location", fmt.Sprintf("/api/v1/enrollment-keys/%d", created.ID))
	c.JSON(http.StatusCreated, createdKeyView{EnrollmentKey: created, Key: key})
}

type revokeKeyInput struct {
	// Agents also revokes the agents enrolled with the key (a leaked key).
	Agents bool `json:"agents"`
}

func (s *Server) apiRevokeEnrollmentKey(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var in revokeKeyInput
	if c.Request.ContentLength != 0 && !decodeJSON(c, &in) {
		return
	}
	k, n, err := s.revokeKey(c.Request.Context(), id, in.Agents)
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "enrollment_key.revoke", fmt.Sprintf("enrollment_key/%d", id),
		fmt.Sprintf("%q %s, %d agents revoked with it", k.Name, k.Prefix, n))
	c.JSON(http.StatusOK, gin.H{"key": k, "agents_revoked": n})
}

// revokeKey revokes a key and, when asked, its agents, closing their
// open tasks.
func (s *Server) revokeKey(ctx context.Context, id int64, agentsToo bool) (inventory.EnrollmentKey, int, error) {
	var before []inventory.Agent
	if agentsToo {
		all, err := s.store.Agents(ctx, inventory.AgentQuery{Limit: 1000})
		if err != nil {
			return inventory.EnrollmentKey{}, 0, err
		}
		before = all
	}
	n, err := s.store.RevokeEnrollmentKey(ctx, id, agentsToo)
	if err != nil {
		return inventory.EnrollmentKey{}, 0, err
	}
	if n > 0 {
		// Close the tasks of the agents that just lost their standing.
		for _, a := range before {
			if a.Revoked {
				continue
			}
			now, err := s.store.Agent(ctx, a.ID)
			if err == nil && now.Revoked {
				if _, err := s.revokeAgent(ctx, a.ID, true); err != nil {
					s.log.Warn("close tasks of revoked agent", "agent", a.ID, "err", err)
				}
			}
		}
	}
	k, err := s.store.EnrollmentKey(ctx, id)
	return k, n, err
}

func (s *Server) apiDeleteEnrollmentKey(c *gin.Context) {
	apiDeleteByID(s, c, "enrollment_key.delete", "enrollment_key", s.store.EnrollmentKey, s.store.DeleteEnrollmentKey,
		func(k inventory.EnrollmentKey) string { return fmt.Sprintf("%q %s", k.Name, k.Prefix) })
}
