package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/typing"
)

// storeError answers a store error with the status it means. Messages of
// invalid and conflicting input are the store's own, written for people;
// anything else is logged and hidden.
func (s *Server) storeError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		apiError(c, http.StatusNotFound, "not found")
	case errors.Is(err, inventory.ErrConflict):
		apiError(c, http.StatusConflict, plainError(err))
	case errors.Is(err, inventory.ErrInvalid):
		apiError(c, http.StatusBadRequest, plainError(err))
	case errors.Is(err, errScanRunning):
		apiError(c, http.StatusConflict, err.Error())
	case errors.Is(err, errNoScanner), errors.Is(err, errClosing):
		apiError(c, http.StatusServiceUnavailable, err.Error())
	default:
		s.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		apiError(c, http.StatusInternalServerError, "internal error")
	}
}

func idParam(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		apiError(c, http.StatusNotFound, "not found")
		return 0, false
	}
	return id, true
}

// decodeJSON reads a JSON body strictly: unknown fields and trailing data
// are errors, so a typo in a field name does not silently do nothing.
func decodeJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", tooBig.Limit))
			return false
		}
		apiError(c, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	if dec.More() {
		apiError(c, http.StatusBadRequest, "bad JSON body: more than one value")
		return false
	}
	return true
}

type meView struct {
	Username string         `json:"username,omitempty"`
	Token    string         `json:"token,omitempty"`
	Role     inventory.Role `json:"role"`
}

func (s *Server) apiMe(c *gin.Context) {
	p := principalOf(c)
	c.JSON(http.StatusOK, meView{Username: p.Username, Token: p.Token, Role: p.Role})
}

// deviceQuery reads the device list's filters, shared by the API and the
// page. It returns the page number too, counted from 1.
func deviceQuery(c *gin.Context, defLimit int) (inventory.DeviceQuery, int, error) {
	q := inventory.DeviceQuery{
		Search: strings.TrimSpace(c.Query("q")),
		State:  inventory.DeviceState(c.Query("state")),
		Vendor: strings.TrimSpace(c.Query("vendor")),
		Limit:  defLimit,
	}
	if cat := c.Query("category"); cat != "" {
		if !slices.Contains(typing.Categories, typing.Category(cat)) {
			return q, 0, fmt.Errorf("unknown category %q", cat)
		}
		q.Category = typing.Category(cat)
	}
	switch q.State {
	case "", inventory.StateUp, inventory.StateGone:
	default:
		return q, 0, fmt.Errorf("state %q is not up or gone", q.State)
	}
	if v := c.Query("subnet"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return q, 0, fmt.Errorf("subnet %q is not a subnet id", v)
		}
		q.SubnetID = id
	}
	if v := c.Query("sort"); v != "" {
		q.Desc = strings.HasPrefix(v, "-")
		q.Sort = inventory.DeviceSort(strings.TrimPrefix(v, "-"))
		switch q.Sort {
		case inventory.SortIP, inventory.SortName, inventory.SortMAC, inventory.SortVendor, inventory.SortCategory,
			inventory.SortFirstSeen, inventory.SortLastSeen:
		default:
			return q, 0, fmt.Errorf("sort %q is not one of ip, name, mac, vendor, category, first_seen, last_seen (prefix - to reverse)", v)
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return q, 0, fmt.Errorf("limit %q is not between 1 and 1000", v)
		}
		q.Limit = n
	}
	page := 1
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return q, 0, fmt.Errorf("page %q is not a positive number", v)
		}
		page = n
	}
	q.Offset = (page - 1) * q.Limit
	return q, page, nil
}

type devicesView struct {
	Items []inventory.Device `json:"items"`
	Total int                `json:"total"`
	Page  int                `json:"page"`
	Limit int                `json:"limit"`
}

func (s *Server) apiDevices(c *gin.Context) {
	q, page, err := deviceQuery(c, 50)
	if err != nil {
		apiError(c, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.store.Devices(c.Request.Context(), q)
	if err != nil {
		s.storeError(c, err)
		return
	}
	if res.Devices == nil {
		res.Devices = []inventory.Device{}
	}
	c.JSON(http.StatusOK, devicesView{Items: res.Devices, Total: res.Total, Page: page, Limit: q.Limit})
}

func (s *Server) apiDevice(c *gin.Context) { serveByID(s, c, s.store.Device) }

// subnetView is a subnet as the API shows it: the schedule's interval as
// a duration string ("1h30m") rather than nanoseconds, and the run in
// progress.
type subnetView struct {
	ID          int64                `json:"id"`
	CIDR        string               `json:"cidr"`
	Name        string               `json:"name"`
	Site        string               `json:"site"`
	Tags        []string             `json:"tags"`
	Schedule    scheduleView         `json:"schedule"`
	Method      string               `json:"method"`
	Credentials []string             `json:"credentials"`
	Policy      inventory.ScanPolicy `json:"policy"`
	GoneAfter   int                  `json:"gone_after"`
	MaxScanners int                  `json:"max_scanners"`
	Created     time.Time            `json:"created"`
	Updated     time.Time            `json:"updated"`
	RunningScan int64                `json:"running_scan,omitempty"`
	// Scanners is who scans the subnet (election.go); only GET of one
	// subnet fills it in.
	Scanners []ScannerView `json:"scanners,omitzero"`
}

type scheduleView struct {
	Every string `json:"every,omitempty"`
	At    string `json:"at,omitempty"`
}

func (s *Server) viewSubnet(ctx context.Context, sn inventory.Subnet) subnetView {
	v := subnetView{ID: sn.ID, CIDR: sn.CIDR, Name: sn.Name, Site: sn.Site, Tags: sn.Tags,
		Schedule: scheduleView{At: sn.Schedule.At}, Method: sn.Method, Credentials: sn.Credentials,
		Policy: sn.Policy, GoneAfter: sn.GoneAfter, MaxScanners: sn.MaxScanners, Created: sn.Created,
		Updated: sn.Updated, RunningScan: s.runningRun(ctx, sn.ID)}
	if sn.Schedule.Every > 0 {
		v.Schedule.Every = sn.Schedule.Every.String()
	}
	return v
}

// subnetInput is what POST and PUT take. PUT starts from the stored
// subnet, so fields left out keep their values.
type subnetInput struct {
	CIDR        string               `json:"cidr"`
	Name        string               `json:"name"`
	Site        string               `json:"site"`
	Tags        []string             `json:"tags"`
	Schedule    scheduleView         `json:"schedule"`
	Method      string               `json:"method"`
	Credentials []string             `json:"credentials"`
	Policy      inventory.ScanPolicy `json:"policy"`
	GoneAfter   int                  `json:"gone_after"`
	MaxScanners int                  `json:"max_scanners"`
}

func inputOf(sn inventory.Subnet) subnetInput {
	in := subnetInput{CIDR: sn.CIDR, Name: sn.Name, Site: sn.Site, Tags: sn.Tags,
		Schedule: scheduleView{At: sn.Schedule.At}, Method: sn.Method, Credentials: sn.Credentials,
		Policy: sn.Policy, GoneAfter: sn.GoneAfter, MaxScanners: sn.MaxScanners}
	if sn.Schedule.Every > 0 {
		in.Schedule.Every = sn.Schedule.Every.String()
	}
	return in
}

func (in subnetInput) subnet() (inventory.Subnet, error) {
	sn := inventory.Subnet{CIDR: in.CIDR, Name: in.Name, Site: in.Site, Tags: in.Tags,
		Schedule: inventory.Schedule{At: in.Schedule.At}, Method: in.Method, Credentials: in.Credentials,
		Policy: in.Policy, GoneAfter: in.GoneAfter, MaxScanners: in.MaxScanners}
	if in.Schedule.Every != "" {
		d, err := time.ParseDuration(in.Schedule.Every)
		if err != nil {
			return sn, fmt.Errorf("%w: schedule.every %q is not a duration such as 30m or 6h", inventory.ErrInvalid, in.Schedule.Every)
		}
		sn.Schedule.Every = d
	}
	return sn, nil
}

func (s *Server) apiSubnets(c *gin.Context) {
	subnets, err := s.store.Subnets(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	out := make([]subnetView, 0, len(subnets))
	for _, sn := range subnets {
		out = append(out, s.viewSubnet(c.Request.Context(), sn))
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "total": len(out)})
}

func (s *Server) apiSubnet(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	sn, err := s.store.Subnet(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	v := s.viewSubnet(c.Request.Context(), sn)
	el, err := s.subnetElection(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	v.Scanners = el.Scanners
	c.JSON(http.StatusOK, v)
}

func (s *Server) apiCreateSubnet(c *gin.Context) {
	// Fields left out take the admin settings' defaults (admin_settings.go).
	in, err := s.newSubnetInput(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	if !decodeJSON(c, &in) {
		return
	}
	sn, err := s.addSubnet(c, in)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/api/v1/subnets/%d", sn.ID))
	c.JSON(http.StatusCreated, s.viewSubnet(c.Request.Context(), sn))
}

func (s *Server) apiUpdateSubnet(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	old, err := s.store.Subnet(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	in := inputOf(old)
	if !decodeJSON(c, &in) {
		return
	}
	sn, err := s.saveSubnet(c, id, in)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.viewSubnet(c.Request.Context(), sn))
}

func (s *Server) apiDeleteSubnet(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if _, err := s.removeSubnet(c, id); err != nil {
		s.storeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiScanSubnet(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	sn, err := s.store.Subnet(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	d, err := s.dispatchScan(c.Request.Context(), sn)
	if err != nil {
		s.storeError(c, err)
		return
	}
	run := d.Run
	s.audit(c, "subnet.scan", fmt.Sprintf("subnet/%d", id), fmt.Sprintf("%s, scan %d", sn.CIDR, run.ID))
	c.Header("Location", fmt.Sprintf("/api/v1/scans/%d", run.ID))
	c.JSON(http.StatusAccepted, run)
}

func (s *Server) apiSubnetScans(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if _, err := s.store.Subnet(c.Request.Context(), id); err != nil {
		s.storeError(c, err)
		return
	}
	runs, err := s.store.ScanRuns(c.Request.Context(), id, 50)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": runs, "total": len(runs)})
}

func (s *Server) apiScanRun(c *gin.Context) { serveByID(s, c, s.store.ScanRun) }

// identifyInput is what PUT /devices/{id}/identify takes: what a person
// says the device is. At least one field must be set; DELETE clears.
type identifyInput struct {
	Category string `json:"category"`
	Name     string `json:"name"`
	Notes    string `json:"notes"`
}

const (
	maxIdentifyName  = 200
	maxIdentifyNotes = 4000
)

// identification checks the input and returns it as the store takes it,
// or a message for people.
func (in identifyInput) identification(by string) (inventory.Identification, string) {
	id := inventory.Identification{Category: typing.Category(strings.TrimSpace(in.Category)),
		Name: strings.TrimSpace(in.Name), Notes: strings.TrimSpace(in.Notes), By: by}
	switch {
	case id.Category != "" && !slices.Contains(typing.Categories, id.Category):
		return id, fmt.Sprintf("unknown category %q", in.Category)
	case len(id.Name) > maxIdentifyName:
		return id, fmt.Sprintf("name is longer than %d bytes", maxIdentifyName)
	case len(id.Notes) > maxIdentifyNotes:
		return id, fmt.Sprintf("notes are longer than %d bytes", maxIdentifyNotes)
	case id.Category == "" && id.Name == "" && id.Notes == "":
		return id, "give a category, a name or notes (DELETE clears the identification)"
	}
	return id, ""
}

// identifyDetails is the audit log's account of an identification.
func identifyDetails(ip string, id inventory.Identification) string {
	return fmt.Sprintf("%s: category %q, name %q, notes %q", ip, id.Category, id.Name, id.Notes)
}

func (s *Server) apiIdentify(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	dev, err := s.store.Device(ctx, id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	var in identifyInput
	if !decodeJSON(c, &in) {
		return
	}
	ident, msg := in.identification(principalOf(c).actor())
	if msg != "" {
		apiError(c, http.StatusBadRequest, msg)
		return
	}
	if err := s.store.Identify(ctx, id, ident); err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "device.identify", fmt.Sprintf("device/%d", id), identifyDetails(dev.IP, ident))
	s.answerDevice(c, id)
}

func (s *Server) apiUnidentify(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	dev, err := s.store.Device(ctx, id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	if err := s.store.Identify(ctx, id, inventory.Identification{}); err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "device.unidentify", fmt.Sprintf("device/%d", id), dev.IP)
	s.answerDevice(c, id)
}

func (s *Server) answerDevice(c *gin.Context, id int64) {
	d, err := s.store.Device(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// serveByID answers a GET of one stored object named by the path's {id}.
func serveByID[T any](s *Server, c *gin.Context, get func(context.Context, int64) (T, error)) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	v, err := get(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// apiDeleteByID answers DELETE on a resource's :id: it reads the row first,
// so that the audit line can say what went, then deletes it and answers
// 204. A missing row is 404 (storeError). target is the audit target's
// kind ("satellite" gives "satellite/7").
func apiDeleteByID[T any](s *Server, c *gin.Context, action, target string,
	get func(context.Context, int64) (T, error), del func(context.Context, int64) error, details func(T) string) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	v, err := get(c.Request.Context(), id)
	if err == nil {
		err = del(c.Request.Context(), id)
	}
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, action, fmt.Sprintf("%s/%d", target, id), details(v))
	c.Status(http.StatusNoContent)
}
