package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/typing"
)

//go:embed templates/*.html static
var assets embed.FS

var pageFuncs = template.FuncMap{
	"dur": shortDuration,
	"pct": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format("2006-01-02 15:04")
	},
	// catLabel takes a typing.Category or its string.
	"catLabel": func(c any) string {
		s := fmt.Sprint(c)
		if s == string(typing.LoadBalancer) {
			return "load balancer"
		}
		return s
	},
}

// parsePages parses every page with the layout, one template set per page
// so that each can define its own "content".
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(pageFuncs).ParseFS(assets, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// pageData is what every page gets besides its own data.
type pageData struct {
	Title string
	Nav   string
	User  principal
	Data  any
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 rather than half a page.
func (s *Server) render(c *gin.Context, status int, page string, data any) {
	t, ok := s.pages[page]
	if !ok {
		s.log.Error("no such page", "page", page)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	pd := pageData{Title: pageTitles[page], Nav: strings.TrimSuffix(page, ".html"), User: principalOf(c), Data: data}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pd); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

var pageTitles = map[string]string{
	"login.html": "Log in", "dashboard.html": "Dashboard", "devices.html": "Devices",
	"subnets.html": "Subnets", "status.html": "", "device.html": "Device",
	"subnet.html": "Subnet", "subnet_map.html": "IP map", "subnet_edit.html": "Edit subnet",
	"agents.html": "Agents", "agent.html": "Agent", "enrollment_keys.html": "Enrollment keys",
	"monitoring.html": "Monitoring",
}

type statusData struct{ Heading, Message string }

func (s *Server) renderStatus(c *gin.Context, status int, heading, msg string) {
	s.render(c, status, "status.html", statusData{heading, msg})
	c.Abort()
}

func (s *Server) static(c *gin.Context) {
	p := strings.TrimPrefix(c.Param("path"), "/")
	b, err := fs.ReadFile(assets, "static/"+p)
	if err != nil || strings.Contains(p, "..") {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	ct := "application/octet-stream"
	switch path.Ext(p) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, ct, b)
}

func (s *Server) pageError(c *gin.Context, err error) {
	s.log.Error("page failed", "path", c.Request.URL.Path, "err", err)
	s.renderStatus(c, http.StatusInternalServerError, "Something went wrong", "The server could not load this page; its log says why.")
}

// barChart is a horizontal bar chart laid out in Go, so the template only
// places rectangles and the page needs no script.
type barChart struct {
	Width, Height int
	Bars          []bar
}

type bar struct {
	Label, Class string
	Count        int
	Y, W         int
	Href         string
}

const (
	chartLabelW = 120
	chartBarMax = 360
	chartRow    = 26
)

func categoryChart(counts []inventory.CategoryCount) barChart {
	most := 0
	for _, cc := range counts {
		most = max(most, cc.Count)
	}
	ch := barChart{Width: chartLabelW + chartBarMax + 60}
	for _, cc := range counts {
		if cc.Count == 0 {
			continue
		}
		w := int(math.Round(float64(cc.Count) / float64(most) * chartBarMax))
		ch.Bars = append(ch.Bars, bar{Label: string(cc.Category), Class: "cat-" + string(cc.Category),
			Count: cc.Count, Y: len(ch.Bars) * chartRow, W: max(w, 2),
			Href: "/devices?category=" + url.QueryEscape(string(cc.Category))})
	}
	ch.Height = max(len(ch.Bars)*chartRow, chartRow)
	return ch
}

// Devices.

type devicesData struct {
	Query      inventory.DeviceQuery
	Page       int
	Pages      int
	Total      int
	Devices    []inventory.Device
	Subnets    []inventory.Subnet
	SubnetCIDR map[int64]string
	Categories []typing.Category
	// Vendors are the known vendors the vendor filter suggests.
	Vendors    []string
	Error      string
	Prev, Next string
	Columns    []column
	SortParam  string
	// CSVHref and JSONHref download every device the filters match.
	CSVHref, JSONHref string
}

// column is a device table header; sortable ones link to their sort,
// reversed when the table is already sorted by them.
type column struct {
	Label, Href string
	Sort        string // "ascending" or "descending" when the table is sorted by it
}

func deviceColumns(c *gin.Context, q inventory.DeviceQuery) []column {
	sortKey := q.Sort
	if sortKey == "" {
		sortKey = inventory.SortIP
	}
	cols := []struct {
		label string
		key   inventory.DeviceSort
	}{{"Address", inventory.SortIP}, {"Name", inventory.SortName}, {"MAC", inventory.SortMAC},
		{"Category", inventory.SortCategory}, {"Vendor", inventory.SortVendor}, {"Model", ""}, {"Subnet", ""},
		{"Last seen", inventory.SortLastSeen}}
	out := make([]column, 0, len(cols))
	for _, col := range cols {
		cl := column{Label: col.label}
		if col.key != "" {
			v := c.Request.URL.Query()
			v.Del("page")
			param := string(col.key)
			if col.key == sortKey {
				cl.Sort = "ascending"
				if q.Desc {
					cl.Sort = "descending"
				} else {
					param = "-" + param
				}
			}
			v.Set("sort", param)
			cl.Href = "/devices?" + v.Encode()
		}
		out = append(out, cl)
	}
	return out
}

func (s *Server) devicesPage(c *gin.Context) {
	ctx := c.Request.Context()
	subnets, err := s.store.Subnets(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	d := devicesData{Subnets: subnets, Categories: typing.Categories, SubnetCIDR: map[int64]string{}}
	for _, sn := range subnets {
		d.SubnetCIDR[sn.ID] = sn.CIDR
	}
	// Suggestions only: without them the filter still takes a typed name.
	if d.Vendors, err = s.store.Vendors(ctx, maxVendorChoices); err != nil {
		s.log.Warn("list device vendors", "err", err)
	}
	q, page, err := deviceQuery(c, 50)
	d.Query, d.Page = q, page
	d.Columns, d.SortParam = deviceColumns(c, q), c.Query("sort")
	dl := c.Request.URL.Query()
	dl.Del("page")
	dl.Del("limit")
	d.CSVHref, d.JSONHref = "/api/v1/devices.csv", "/api/v1/devices.json"
	if enc := dl.Encode(); enc != "" {
		d.CSVHref += "?" + enc
		d.JSONHref += "?" + enc
	}
	if err != nil {
		d.Error = err.Error()
		s.render(c, http.StatusBadRequest, "devices.html", d)
		return
	}
	res, err := s.store.Devices(ctx, q)
	if err != nil && errors.Is(err, inventory.ErrInvalid) {
		d.Error = err.Error()
		s.render(c, http.StatusBadRequest, "devices.html", d)
		return
	}
	if err != nil {
		s.pageError(c, err)
		return
	}
	d.Devices, d.Total = res.Devices, res.Total
	d.Pages = max(1, (res.Total+q.Limit-1)/q.Limit)
	d.Prev, d.Next = pageLinks(c, "/devices", page, d.Pages)
	s.render(c, http.StatusOK, "devices.html", d)
}

// maxVendorChoices bounds the vendor filter's suggestions: a datalist
// of thousands helps nobody.
const maxVendorChoices = 500

// Subnets.

type subnetsData struct {
	Rows    []inventory.SubnetCoverage
	Running map[int64]bool
	Next    map[int64]time.Time // zero: on demand
	// Elections say who scans each subnet (subnetElection): elected
	// agents, else the satellite or the server that would, else why
	// nobody is elected.
	Elections map[int64]SubnetElection
	Form      subnetForm
	Errors    map[string]string
	Notice    string
	CanEdit   bool
	CanScan   bool
	// AllCredentials are the SNMP credentials the form offers (admins).
	AllCredentials []inventory.Credential
}

func (s *Server) subnetsPage(c *gin.Context) {
	notice := ""
	switch c.Query("done") {
	case "created":
		notice = "Subnet created."
	case "deleted":
		notice = "Subnet deleted, with its devices."
	case "scan":
		notice = "Scan started. Reload to see devices arrive."
	}
	s.renderSubnets(c, http.StatusOK, s.subnetFormDefaults(c.Request.Context()), nil, notice)
}

func (s *Server) renderSubnets(c *gin.Context, status int, form subnetForm, errs map[string]string, notice string) {
	db, err := s.store.Dashboard(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	p := principalOf(c)
	d := subnetsData{Rows: db.Subnets, Running: map[int64]bool{}, Next: map[int64]time.Time{}, Elections: map[int64]SubnetElection{},
		Form: form, Errors: errs, Notice: notice,
		CanEdit: p.Role.Allows(inventory.RoleAdmin), CanScan: p.Role.Allows(inventory.RoleOperator)}
	if d.CanEdit {
		d.AllCredentials = s.credentialChoices(c.Request.Context())
	}
	now := s.opts.Now()
	for _, r := range db.Subnets {
		d.Running[r.Subnet.ID] = s.runningRun(c.Request.Context(), r.Subnet.ID) != 0
		var last time.Time
		if r.LastScan != nil {
			last = r.LastScan.Started
		}
		if r.Subnet.Policy != inventory.ScanDeny {
			d.Next[r.Subnet.ID] = r.Subnet.Schedule.Next(last, now, time.Local)
		}
		// The election is read from memory; a failure only leaves the
		// cell empty, as the subnet page does.
		el, err := s.subnetElection(c.Request.Context(), r.Subnet.ID)
		if err != nil {
			s.log.Warn("subnet election", "subnet", r.Subnet.CIDR, "err", err)
			continue
		}
		d.Elections[r.Subnet.ID] = el
	}
	s.render(c, status, "subnets.html", d)
}

func (s *Server) scanSubnetForm(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such subnet.")
		return
	}
	sn, err := s.store.Subnet(c.Request.Context(), id)
	if err != nil {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such subnet.")
		return
	}
	d, err := s.dispatchScan(c.Request.Context(), sn)
	switch {
	case err == nil:
		run := d.Run
		s.audit(c, "subnet.scan", fmt.Sprintf("subnet/%d", id), fmt.Sprintf("%s, scan %d", sn.CIDR, run.ID))
		if c.PostForm("from") == "subnet" { // the subnet page's own button
			c.Redirect(http.StatusSeeOther, fmt.Sprintf("/subnets/%d?done=scan", id))
			return
		}
		c.Redirect(http.StatusSeeOther, "/subnets?done=scan")
	case errors.Is(err, errScanRunning), errors.Is(err, errNoScanner), errors.Is(err, errClosing),
		errors.Is(err, inventory.ErrInvalid), errors.Is(err, inventory.ErrNotFound):
		s.renderSubnets(c, http.StatusConflict, subnetForm{Method: "auto"}, map[string]string{"form": plainError(err)}, "")
	default:
		s.pageError(c, err)
	}
}

// plainError drops the store's "create subnet 10.0.0.0/8: invalid:" chain
// for people reading a form, keeping the last, self-contained part.
func plainError(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{inventory.ErrInvalid, inventory.ErrConflict, inventory.ErrNotFound} {
		if i := strings.LastIndex(msg, sentinel.Error()+": "); i >= 0 {
			return msg[i+len(sentinel.Error())+2:]
		}
	}
	return msg
}

// Device detail.

type deviceData struct {
	Device      inventory.DeviceDetail
	Subnet      inventory.Subnet
	WakeRoute   string               // the route a wake would take now (wake_preview.go)
	Names       []inventory.Sighting // addresses, MACs and names, in the store's order
	Addrs       []inventory.Sighting
	MACs        []inventory.Sighting
	Uptime      string
	CanIdentify bool
	Categories  []typing.Category
	Form        identifyInput
	Error       string
	Notice      string
}

func deviceID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil && id > 0
}

// loadDevice reads the device the path names. When it cannot, it has
// already answered: 404 for a bad or unknown id, the error page otherwise.
func (s *Server) loadDevice(c *gin.Context) (inventory.DeviceDetail, bool) {
	return loadPageByID(s, c, "device", s.store.Device)
}

// loadPageByID reads with get what the page's :id names. When it cannot,
// it has already answered: 404 "There is no such <what>." for a bad or
// unknown id, the error page otherwise.
func loadPageByID[T any](s *Server, c *gin.Context, what string, get func(context.Context, int64) (T, error)) (T, bool) {
	var zero T
	id, ok := deviceID(c)
	if !ok {
		s.notFoundPage(c, what)
		return zero, false
	}
	v, err := get(c.Request.Context(), id)
	if err != nil {
		s.pageStoreError(c, what, err)
		return zero, false
	}
	return v, true
}

// pageStoreError answers a page whose store call failed: 404 "There is no
// such <what>." for ErrNotFound, the error page otherwise.
func (s *Server) pageStoreError(c *gin.Context, what string, err error) {
	if errors.Is(err, inventory.ErrNotFound) {
		s.notFoundPage(c, what)
		return
	}
	s.pageError(c, err)
}

// pageLinks are the links to the pages before and after page (of pages)
// of a paged list at path, keeping the request's other query values; ""
// where there is none.
func pageLinks(c *gin.Context, path string, page, pages int) (prev, next string) {
	link := func(p int) string {
		v := c.Request.URL.Query()
		v.Set("page", strconv.Itoa(p))
		return path + "?" + v.Encode()
	}
	if page > 1 {
		prev = link(page - 1)
	}
	if page < pages {
		next = link(page + 1)
	}
	return prev, next
}

// notFoundPage answers 404 with "There is no such <what>."
func (s *Server) notFoundPage(c *gin.Context, what string) {
	s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such "+what+".")
}

func (s *Server) devicePage(c *gin.Context) {
	det, ok := s.loadDevice(c)
	if !ok {
		return
	}
	notice := ""
	switch c.Query("done") {
	case "identified":
		notice = "Identification saved."
	case "cleared":
		notice = "Identification cleared; the classification applies again."
	}
	s.renderDevice(c, http.StatusOK, det, nil, "", notice)
}

// renderDevice shows a device; form, when not nil, is what the identify
// form shows instead of the stored identification.
func (s *Server) renderDevice(c *gin.Context, status int, det inventory.DeviceDetail, form *identifyInput, errMsg, notice string) {
	ctx := c.Request.Context()
	d := deviceData{Device: det, CanIdentify: principalOf(c).Role.Allows(inventory.RoleOperator),
		Categories: typing.Categories, Error: errMsg, Notice: notice}
	if form != nil {
		d.Form = *form
	} else if det.Identification != nil {
		d.Form = identifyInput{Category: string(det.Identification.Category), Name: det.Identification.Name,
			Notes: det.Identification.Notes}
	}
	if sn, err := s.store.Subnet(ctx, det.SubnetID); err == nil {
		d.Subnet = sn
		if det.MAC != "" {
			d.WakeRoute = s.wakeRouteLine(ctx, sn)
		}
	}
	for _, sg := range det.Sightings {
		switch sg.Kind {
		case inventory.SightIP:
			d.Addrs = append(d.Addrs, sg)
		case inventory.SightMAC:
			d.MACs = append(d.MACs, sg)
		default:
			d.Names = append(d.Names, sg)
		}
	}
	if det.SNMP != nil && det.SNMP.UptimeS > 0 {
		d.Uptime = (time.Duration(det.SNMP.UptimeS) * time.Second).String()
	}
	s.render(c, status, "device.html", d)
}

func (s *Server) identifyForm(c *gin.Context) {
	dev, ok := s.loadDevice(c)
	if !ok {
		return
	}
	id := dev.ID
	in := identifyInput{Category: c.PostForm("category"), Name: c.PostForm("name"), Notes: c.PostForm("notes")}
	ident, msg := in.identification(principalOf(c).actor())
	if msg == "" {
		err := s.store.Identify(c.Request.Context(), id, ident)
		switch {
		case err == nil:
			s.audit(c, "device.identify", fmt.Sprintf("device/%d", id), identifyDetails(dev.IP, ident))
			c.Redirect(http.StatusSeeOther, fmt.Sprintf("/devices/%d?done=identified", id))
			return
		case errors.Is(err, inventory.ErrInvalid):
			msg = plainError(err)
		default:
			s.pageError(c, err)
			return
		}
	}
	s.renderDevice(c, http.StatusBadRequest, dev, &in, msg, "")
}

func (s *Server) unidentifyForm(c *gin.Context) {
	dev, ok := s.loadDevice(c)
	if !ok {
		return
	}
	id := dev.ID
	if err := s.store.Identify(c.Request.Context(), id, inventory.Identification{}); err != nil {
		s.pageError(c, err)
		return
	}
	s.audit(c, "device.unidentify", fmt.Sprintf("device/%d", id), dev.IP)
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/devices/%d?done=cleared", id))
}
