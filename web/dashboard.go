package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// The dashboard, as a page and as GET /api/v1/dashboard: both are built
// by dashboard, so the API says exactly what the page shows.

// dashboardView is what the dashboard shows. The JSON names are the API's
// contract (openapi.yaml, Dashboard).
type dashboardView struct {
	Devices     int                       `json:"devices"` // up
	Gone        int                       `json:"gone"`
	NewThisWeek int                       `json:"new_this_week"`
	ByCategory  []inventory.CategoryCount `json:"by_category"` // devices up, typing's order
	// NewPerDay is devices first seen on each of the last 30 days (UTC),
	// oldest first: the "discovered over time" chart.
	NewPerDay []inventory.DayCount `json:"new_per_day"`
	Subnets   []dashboardSubnet    `json:"subnets"`
	Scanners  scannersOnline       `json:"scanners"`
}

// dashboardSubnet is a subnet with its coverage: the OCS-style counts and
// the share of devices up that are inventoried or identified.
type dashboardSubnet struct {
	ID       int64                  `json:"id"`
	CIDR     string                 `json:"cidr"`
	Name     string                 `json:"name"`
	Site     string                 `json:"site"`
	Counts   inventory.SubnetCounts `json:"counts"`
	Coverage float64                `json:"coverage"`
	LastScan *inventory.ScanRun     `json:"last_scan,omitempty"`
}

// scannersOnline is who can scan: agents online by the agents pages'
// rule (online.go), the agents elected somewhere, and the satellites.
type scannersOnline struct {
	AgentsOnline int `json:"agents_online"`
	Agents       int `json:"agents"` // every enrolled agent, revoked ones included
	// ElectedAgents is how many agents hold a seat in at least one
	// subnet; SubnetsElected how many subnets have an elected agent.
	ElectedAgents  int `json:"elected_agents"`
	SubnetsElected int `json:"subnets_elected"`
	Satellites     int `json:"satellites"`
	// SatellitesTrusted have a confirmed host key: the only ones the
	// server connects to.
	SatellitesTrusted int `json:"satellites_trusted"`
	// SatellitesScanning are trusted and have lanscout installed: they
	// scan the subnets they serve that no agent is elected for.
	SatellitesScanning int `json:"satellites_scanning"`
}

func (s *Server) dashboard(ctx context.Context) (dashboardView, error) {
	db, err := s.store.Dashboard(ctx)
	if err != nil {
		return dashboardView{}, err
	}
	v := dashboardView{Devices: db.Devices, Gone: db.Gone, NewThisWeek: db.NewThisWeek, ByCategory: db.ByCategory,
		NewPerDay: db.NewPerDay, Subnets: make([]dashboardSubnet, 0, len(db.Subnets))}
	for _, sc := range db.Subnets {
		v.Subnets = append(v.Subnets, dashboardSubnet{ID: sc.Subnet.ID, CIDR: sc.Subnet.CIDR, Name: sc.Subnet.Name,
			Site: sc.Subnet.Site, Counts: sc.Counts, Coverage: sc.Coverage, LastScan: sc.LastScan})
	}
	// Empty lists are [] in the JSON, not null.
	if v.ByCategory == nil {
		v.ByCategory = []inventory.CategoryCount{}
	}
	if v.NewPerDay == nil {
		v.NewPerDay = []inventory.DayCount{}
	}
	v.Scanners.Agents = db.Agents
	// Counted in the store, as /metrics does: loading every agent with
	// its NICs for a number would cost more than the page.
	if v.Scanners.AgentsOnline, err = s.store.OnlineAgents(ctx, s.onlineRule()); err != nil {
		return v, err
	}
	st, err := s.electionState(ctx)
	if err != nil {
		return v, err
	}
	v.Scanners.ElectedAgents = len(st.elected)
	for _, r := range st.results {
		if len(r.Seats) > 0 {
			v.Scanners.SubnetsElected++
		}
	}
	sats, err := s.store.Satellites(ctx)
	if err != nil {
		return v, err
	}
	v.Scanners.Satellites = len(sats)
	for _, sat := range sats {
		if sat.Trusted() {
			v.Scanners.SatellitesTrusted++
			if sat.HasLanscout {
				v.Scanners.SatellitesScanning++
			}
		}
	}
	return v, nil
}

// dashboardData is the page's: the view and its pictures.
type dashboardData struct {
	dashboardView
	Chart barChart
	Days  dayChart // devices discovered per day (svg_charts.go)
}

func (s *Server) dashboardPage(c *gin.Context) {
	v, err := s.dashboard(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.render(c, http.StatusOK, "dashboard.html", dashboardData{dashboardView: v, Chart: categoryChart(v.ByCategory),
		Days: newDayChart(v.NewPerDay)})
}

func (s *Server) apiDashboard(c *gin.Context) {
	v, err := s.dashboard(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
