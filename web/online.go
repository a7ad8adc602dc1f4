package web

import (
	"time"

	"github.com/lanscout/lanscout/inventory"
)

// onlineRule is when an agent counts as online, the same for the agents
// pages, the API and the metrics: heard from within OfflineAfter poll
// intervals, its poll interval being the one it announced, else the
// default; an OCS agent that announced none polls as the election takes
// it to (ocsPoll: the PROLOG_FREQ the OCS endpoint hands out).
func (s *Server) onlineRule() inventory.OnlineRule {
	return inventory.OnlineRule{Now: s.opts.Now(), Factor: s.agents.opts.OfflineAfter,
		DefaultPoll: s.agents.opts.PollInterval, OCSPoll: s.ocsPoll()}
}

// agentOnline applies onlineRule to one agent (revoked ones never are).
func (s *Server) agentOnline(a inventory.Agent) bool {
	if a.Revoked {
		return false
	}
	r := s.onlineRule()
	poll := a.PollInterval
	switch {
	case poll > 0:
	case a.Kind == inventory.AgentOCS:
		poll = r.OCSPoll
	default:
		poll = r.DefaultPoll
	}
	return !a.LastContact.Before(r.Now.Add(-time.Duration(r.Factor) * poll))
}
