package web

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/wol"
)

// A magic packet only works inside the target's broadcast domain, so each
// target needs something that sits in its subnet: the server itself, an
// agent there, or a satellite serving it. The subnet is the device's as
// the store knows it (from its last address and the subnet's prefix); the
// packet never goes to the last unicast address, which fails as soon as
// the router's ARP entry for it expires.

// wakeCandidates is everything that could send into one subnet.
type wakeCandidates struct {
	// Local is the server's own way onto the segment; nil when it has no
	// interface there.
	Local *wol.Route
	// Agents are the agents online in the subnet, most recent contact
	// first.
	Agents []inventory.Agent
	// Satellite names a satellite serving the subnet, "" for none.
	Satellite string
	// Satellites are every configured satellite, for the all_satellites
	// fallback.
	Satellites []string
	// Broadcast is the subnet's directed broadcast (invalid for /31, /32
	// and IPv6), for the directed_broadcast fallback.
	Broadcast netip.Addr
}

// wakePlan is the route chosen for one target and what it needs to be
// carried out.
type wakePlan struct {
	Route inventory.WakeRoute
	Via   string
	// Detail explains a target with no route, or a fallback taken.
	Detail string

	local      wol.Route // local and directed_broadcast
	agentID    int64     // agent
	satellites []string  // satellite (one), all_satellites (every one)
	subnet     netip.Prefix
	// next are the online agents in the subnet not already tried and
	// thenSatellite a satellite serving it: a local or agent route tries
	// them in turn when its own send fails (wakeFailover).
	next          []inventory.Agent
	thenSatellite string
}

// key groups targets that are sent together: one agent task, one SSH
// session or one socket per group.
func (p wakePlan) key() string {
	return string(p.Route) + "|" + p.Via + "|" + p.subnet.String()
}

// fallbackOfferPhrase ends the detail of a target the configured fallback
// could reach if the request asked for it; the job view offers the
// fallback when a target says so.
const fallbackOfferPhrase = `ask for it ("fallback": true)`

// chooseWakeRoute picks the route for a target in subnet: the server's own
// interface, else an agent online there, else a satellite serving it,
// else nothing, unless the requester allowed the configured fallback.
func chooseWakeRoute(subnet netip.Prefix, c wakeCandidates, fallback WakeFallback, allowFallback bool) wakePlan {
	p := wakePlan{subnet: subnet}
	switch {
	case c.Local != nil:
		p.Route, p.local = inventory.WakeRouteLocal, *c.Local
		p.Via = c.Local.String()
		p.next, p.thenSatellite = c.Agents, c.Satellite
		return p
	case len(c.Agents) > 0:
		a := c.Agents[0]
		p.Route, p.agentID = inventory.WakeRouteAgent, a.ID
		p.Via = agentLabel(a)
		p.next, p.thenSatellite = c.Agents[1:], c.Satellite
		return p
	case c.Satellite != "":
		p.Route, p.satellites = inventory.WakeRouteSatellite, []string{c.Satellite}
		p.Via = c.Satellite
		return p
	}
	p.Route = inventory.WakeRouteNone
	what := "the server has no interface in " + subnet.String() + ", no agent there is online and no satellite serves it"
	if !subnet.IsValid() {
		return wakePlan{Route: inventory.WakeRouteNone,
			Detail: "the subnet is unknown: the MAC is not in the inventory; give the subnet with the request"}
	}
	switch {
	case fallback == WakeFallbackNone:
		p.Detail = what + "; no fallback is configured (wake.fallback)"
	case fallback == WakeFallbackDirected && !c.Broadcast.IsValid():
		p.Detail = what + "; the subnet has no directed broadcast for the fallback"
	case fallback == WakeFallbackAllSatellites && len(c.Satellites) == 0:
		p.Detail = what + "; no satellite is configured for the fallback"
	case !allowFallback:
		p.Detail = what + fmt.Sprintf("; the fallback %s is available: %s", fallback, fallbackOfferPhrase)
	case fallback == WakeFallbackDirected:
		p.Route, p.local = inventory.WakeRouteDirected, wol.Route{Broadcast: c.Broadcast}
		p.Via = c.Broadcast.String()
		p.Detail = "fallback: UDP to the directed broadcast through the routers, which often drop it"
	case fallback == WakeFallbackAllSatellites:
		p.Route, p.satellites = inventory.WakeRouteAllSatellites, c.Satellites
		p.Via = strings.Join(c.Satellites, ", ")
		p.Detail = "fallback: every satellite sends it"
	}
	return p
}

func agentLabel(a inventory.Agent) string {
	if a.Hostname != "" && a.Hostname != "-" {
		return fmt.Sprintf("%s (agent %d)", a.Hostname, a.ID)
	}
	return fmt.Sprintf("agent %d", a.ID)
}

// onlineAgents keeps the agents that can carry a wake task into subnet:
// lanscout agents (OCS agents take no tasks), not revoked, online by
// online (as the agents pages say), holding an address in subnet; most
// recent contact first.
func onlineAgents(agents []inventory.Agent, subnet netip.Prefix, online func(inventory.Agent) bool) []inventory.Agent {
	var out []inventory.Agent
	for _, a := range agents {
		if a.Kind != inventory.AgentLanscout || a.Revoked || a.LastContact.IsZero() || !online(a) {
			continue
		}
		if !agentIn(a, subnet) {
			continue
		}
		out = append(out, a)
	}
	slices.SortStableFunc(out, func(a, b inventory.Agent) int { return b.LastContact.Compare(a.LastContact) })
	return out
}

func agentIn(a inventory.Agent, subnet netip.Prefix) bool {
	for _, n := range a.NICs {
		for _, addr := range n.Addresses {
			p, err := netip.ParsePrefix(addr)
			if err != nil {
				if ip, err := netip.ParseAddr(addr); err == nil && subnet.Contains(ip) {
					return true
				}
				continue
			}
			if subnet.Contains(p.Addr()) {
				return true
			}
		}
	}
	return false
}

// wakeRouter gathers candidates, once per subnet of a request.
type wakeRouter struct {
	s        *Server
	ifaces   []wol.Interface
	ifaceErr error
	cache    map[netip.Prefix]wakeCandidates
}

func (s *Server) newWakeRouter() *wakeRouter {
	r := &wakeRouter{s: s, cache: map[netip.Prefix]wakeCandidates{}}
	r.ifaces, r.ifaceErr = wol.LocalInterfaces()
	if r.ifaceErr != nil {
		s.log.Warn("wake: list local interfaces", "err", r.ifaceErr)
	}
	return r
}

// candidates finds what can send into subnet (subnetID: the store's
// subnet, 0 when the prefix is not one).
func (r *wakeRouter) candidates(ctx context.Context, subnet netip.Prefix, subnetID int64) (wakeCandidates, error) {
	if c, ok := r.cache[subnet]; ok {
		return c, nil
	}
	var c wakeCandidates
	if rt, err := wol.FindRoute(r.ifaces, subnet); err == nil {
		c.Local = &rt
	} else if !errors.Is(err, wol.ErrNoRoute) {
		return c, err
	}
	q := inventory.AgentQuery{SubnetID: subnetID, Limit: 1000}
	agents, err := r.s.store.Agents(ctx, q)
	if err != nil {
		return c, err
	}
	c.Agents = onlineAgents(agents, subnet, func(a inventory.Agent) bool { return r.s.agentState(a) == "online" })
	if c.Satellite, c.Satellites, err = r.s.wakeSatellites(ctx, subnet); err != nil {
		return c, err
	}
	// The fallbacks send where no route is known: only into a subnet of
	// the inventory, never to a network a request merely named.
	if subnetID == 0 {
		c.Satellites = nil
	} else if b, err := wol.DirectedBroadcast(subnet); err == nil {
		c.Broadcast = b
	}
	r.cache[subnet] = c
	return c, nil
}
