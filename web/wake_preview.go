package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// A wake's route is chosen when it is sent; admins want to know before
// pressing the button whether the server, an agent or a satellite will
// send it, or nothing will. The preview runs the same choice (planWake)
// without sending.

// wakeRouteView is the route a wake of one target would take now.
type wakeRouteView struct {
	DeviceID int64               `json:"device_id,omitempty"`
	MAC      string              `json:"mac"`
	IP       string              `json:"ip,omitempty"`
	Subnet   string              `json:"subnet,omitempty"`
	Route    inventory.WakeRoute `json:"route"`
	Via      string              `json:"via,omitempty"`
	// Detail says why there is no route, or which fallback was offered.
	Detail string `json:"detail,omitempty"`
	// FallbackOffer is the configured fallback a request could ask for
	// ("fallback": true) when there is no route.
	FallbackOffer WakeFallback `json:"fallback_offer,omitempty"`
	// Summary is the line the pages show: "server (eth1)", "agent
	// NAME", "satellite NAME", "no route: fallback X".
	Summary string `json:"summary"`
}

// wakeRouteSummary is the route of p in a few words.
func (s *Server) wakeRouteSummary(p wakePlan) (string, WakeFallback) {
	switch p.Route {
	case inventory.WakeRouteLocal:
		return "server (" + p.Via + ")", ""
	case inventory.WakeRouteAgent:
		return "agent " + p.Via, ""
	case inventory.WakeRouteSatellite:
		return "satellite " + p.Via, ""
	}
	if strings.HasSuffix(p.Detail, fallbackOfferPhrase) {
		return "no route: fallback " + string(s.wake.opts.Fallback) + " if asked for", s.wake.opts.Fallback
	}
	return "no route", ""
}

// previewWake is the route each target of in would take now.
func (s *Server) previewWake(ctx context.Context, in wakeInput) ([]wakeRouteView, error) {
	specs, err := s.resolveWake(ctx, in)
	if err != nil {
		return nil, err
	}
	router := s.newWakeRouter()
	out := make([]wakeRouteView, 0, len(specs))
	for _, sp := range specs {
		p, err := s.planWake(ctx, router, sp, false)
		if err != nil {
			return nil, err
		}
		v := wakeRouteView{DeviceID: sp.deviceID, MAC: sp.mac, IP: sp.ip, Route: p.Route, Via: p.Via, Detail: p.Detail}
		if sp.prefix.IsValid() {
			v.Subnet = sp.prefix.String()
		}
		v.Summary, v.FallbackOffer = s.wakeRouteSummary(p)
		out = append(out, v)
	}
	return out, nil
}

// wakeRouteLine is what a page shows for a wake into sn now; "" when it
// cannot tell (the error is logged).
func (s *Server) wakeRouteLine(ctx context.Context, sn inventory.Subnet) string {
	p := sn.Prefix()
	if !p.IsValid() {
		return ""
	}
	plan, err := s.planWake(ctx, s.newWakeRouter(), wakeSpec{prefix: p, subnetID: sn.ID}, false)
	if err != nil {
		s.log.Warn("wake route preview", "subnet", sn.CIDR, "err", err)
		return ""
	}
	line, _ := s.wakeRouteSummary(plan)
	return line
}

// apiWakeRoutes answers GET /api/v1/wake/routes?device=ID&mac=MAC&subnet=ID
// (each repeatable; subnet: every device of it known by MAC).
func (s *Server) apiWakeRoutes(c *gin.Context) {
	var in wakeInput
	var err error
	if in.DeviceIDs, err = parseIDs(c.QueryArray("device"), "device"); err != nil {
		apiError(c, http.StatusBadRequest, "device "+err.Error())
		return
	}
	if in.SubnetIDs, err = parseIDs(c.QueryArray("subnet"), "subnet"); err != nil {
		apiError(c, http.StatusBadRequest, "subnet "+err.Error())
		return
	}
	in.MACs = c.QueryArray("mac")
	routes, err := s.previewWake(c.Request.Context(), in)
	if err != nil {
		s.wakeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": routes})
}
