package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// The subnet page: its OCS-style counts, when it was and will be scanned,
// its recent runs, who scans it and the devices a running scan finds.

type subnetPageData struct {
	Subnet   inventory.Subnet
	Counts   inventory.SubnetCounts
	Coverage float64
	Runs     []runRow // newest first
	LastScan *inventory.ScanRun
	Next     time.Time // zero: on demand, or denied
	// Running is the run in progress, the server's own or an agent's.
	Running      *inventory.ScanRun
	Election     SubnetElection
	ElectionErr  string
	Recent       []inventory.Device // most recently seen
	DevicesTotal int
	CanScan      bool
	CanEdit      bool   // admins: edit and delete
	WakeRoute    string // the route a wake would take now (wake_preview.go)
	Notice       string
	// EventsURL is the stream a running scan's progress comes from.
	EventsURL string
	HasMap    bool
}

// runRow is a scan run with how long it took, for people.
type runRow struct {
	inventory.ScanRun
	Took string
}

// subnetRecentDevices is how many devices the subnet page lists; the
// devices page has them all.
const subnetRecentDevices = 25

// loadSubnet reads the subnet the path names, answering 404 when it
// cannot.
func (s *Server) loadSubnet(c *gin.Context) (inventory.Subnet, bool) {
	id, ok := deviceID(c) // the same positive integer id parsing
	if !ok {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such subnet.")
		return inventory.Subnet{}, false
	}
	sn, err := s.store.Subnet(c.Request.Context(), id)
	if err != nil {
		if errors.Is(err, inventory.ErrNotFound) {
			s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such subnet.")
		} else {
			s.pageError(c, err)
		}
		return inventory.Subnet{}, false
	}
	return sn, true
}

func (s *Server) subnetPage(c *gin.Context) {
	sn, ok := s.loadSubnet(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	d := subnetPageData{Subnet: sn, Counts: inventory.SubnetCounts{SubnetID: sn.ID},
		CanScan: principalOf(c).Role.Allows(inventory.RoleOperator) && sn.Policy != inventory.ScanDeny,
		CanEdit: principalOf(c).Role.Allows(inventory.RoleAdmin)}
	switch c.Query("done") {
	case "scan":
		d.Notice = "Scan started."
	case "saved":
		d.Notice = "Subnet saved."
	}
	counts, err := s.store.SubnetCounts(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	for _, sc := range counts {
		if sc.SubnetID == sn.ID {
			d.Counts = sc
		}
	}
	d.Coverage = d.Counts.Coverage()
	runs, err := s.store.ScanRuns(ctx, sn.ID, 10)
	if err != nil {
		s.pageError(c, err)
		return
	}
	for i := range runs {
		r := &runs[i]
		row := runRow{ScanRun: *r}
		if !r.Finished.IsZero() {
			row.Took = r.Finished.Sub(r.Started).Round(100 * time.Millisecond).String()
		}
		d.Runs = append(d.Runs, row)
		if r.Status == inventory.ScanRunning && d.Running == nil {
			d.Running = r
		}
		if r.Status != inventory.ScanRunning && d.LastScan == nil {
			d.LastScan = r
		}
	}
	if d.Running != nil {
		d.EventsURL = fmt.Sprintf("/api/v1/scans/%d/events", d.Running.ID)
	}
	if sn.Policy != inventory.ScanDeny {
		var last time.Time
		if len(runs) > 0 {
			last = runs[0].Started
		}
		d.Next = sn.Schedule.Next(last, s.opts.Now(), time.Local)
	}
	if d.Election, err = s.subnetElection(ctx, sn.ID); err != nil {
		s.log.Warn("subnet election", "subnet", sn.CIDR, "err", err)
		d.ElectionErr = "The election could not be read; the server log says why."
	}
	page, err := s.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID, Sort: inventory.SortLastSeen, Desc: true,
		Limit: subnetRecentDevices})
	if err != nil {
		s.pageError(c, err)
		return
	}
	d.Recent, d.DevicesTotal = page.Devices, page.Total
	if p, err := netip.ParsePrefix(sn.CIDR); err == nil && p.Addr().Is4() {
		d.HasMap = true
	}
	d.WakeRoute = s.wakeRouteLine(ctx, sn)
	s.render(c, http.StatusOK, "subnet.html", d)
}

// The IP map.

type subnetMapData struct {
	Subnet inventory.Subnet
	Map    ipMap
	Legend []legendEntry
	// Blocks are the /24 blocks of a subnet wider than /23 that hold
	// devices, for the picker; empty when the whole subnet is drawn.
	Blocks     []mapBlock
	Block      string // the block drawn, when Blocks is used
	Prev, Next string // links to the neighbouring blocks
	Error      string
}

type mapBlock struct {
	Prefix   string
	Devices  int
	Selected bool
}

func (s *Server) subnetMapPage(c *gin.Context) {
	sn, ok := s.loadSubnet(c)
	if !ok {
		return
	}
	d := subnetMapData{Subnet: sn, Legend: mapLegend()}
	p, err := netip.ParsePrefix(sn.CIDR)
	if err != nil || !p.Addr().Is4() {
		d.Error = "The IP map draws IPv4 subnets; see the devices list for this one."
		s.render(c, http.StatusOK, "subnet_map.html", d)
		return
	}
	view, blocks, status, msg := mapView(p, c.Query("block"))
	if msg != "" {
		d.Error = msg
	}
	ctx := c.Request.Context()
	var devs []inventory.Device
	perBlock := map[netip.Prefix]int{}
	err = s.store.EachDevice(ctx, inventory.DeviceQuery{SubnetID: sn.ID, Sort: inventory.SortIP}, func(dev inventory.Device) error {
		a, err := netip.ParseAddr(dev.IP)
		if err != nil {
			return nil
		}
		if blocks {
			b, _ := a.Prefix(24)
			perBlock[b]++
		}
		if view.Contains(a) {
			devs = append(devs, dev)
		}
		return nil
	})
	if err != nil {
		s.pageError(c, err)
		return
	}
	d.Map = buildIPMap(p, view, devs, s.opts.Now())
	if blocks {
		d.Block = view.String()
		d.Blocks = blockList(perBlock, view)
		link := func(b netip.Prefix) string {
			return fmt.Sprintf("/subnets/%d/map?block=%s", sn.ID, url.QueryEscape(b.Addr().String()))
		}
		if prev, ok := neighbourBlock(p, view, -1); ok {
			d.Prev = link(prev)
		}
		if next, ok := neighbourBlock(p, view, 1); ok {
			d.Next = link(next)
		}
	}
	s.render(c, status, "subnet_map.html", d)
}
