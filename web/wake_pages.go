package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

func init() { pageTitles["wake.html"] = "Wake" }

// wakeData is the /wake page: recent jobs and the schedules, or one job.
type wakeData struct {
	Job       *wakeJobView // the job page; nil on the list
	Jobs      []wakeJobView
	Schedules []wakeScheduleView
	Subnets   []inventory.Subnet
	SubnetOf  map[int64]string
	Days      []string
	CanWake   bool
	Fallback  WakeFallback // the configured fallback, "none" when there is none
	Notice    string
	Error     string
	Form      wakeFormData
	// Retry are the forms that send a job's unroutable targets again by
	// the fallback, one per subnet of raw MACs plus one for devices.
	Retry []wakeRetry
}

type wakeRetry struct {
	Devices []int64
	MACs    string
	Subnet  string
}

// wakeFormData is what the forms show again after an error.
type wakeFormData struct {
	MACs, Subnet                     string
	SchedName, SchedAt, SchedDevices string
	SchedSubnet                      int64
	SchedDays                        map[string]bool
	SchedFallback                    bool
}

func (s *Server) wakeBase(c *gin.Context) (wakeData, bool) {
	ctx := c.Request.Context()
	d := wakeData{CanWake: principalOf(c).Role.Allows(inventory.RoleOperator), Fallback: s.wake.opts.Fallback,
		SubnetOf: map[int64]string{}, Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}
	subnets, err := s.store.Subnets(ctx)
	if err != nil {
		s.pageError(c, err)
		return d, false
	}
	d.Subnets = subnets
	for _, sn := range subnets {
		d.SubnetOf[sn.ID] = sn.CIDR
	}
	return d, true
}

func (s *Server) wakePage(c *gin.Context) {
	notice := ""
	switch c.Query("done") {
	case "scheduled":
		notice = "Scheduled wake saved."
	case "unscheduled":
		notice = "Scheduled wake deleted."
	}
	s.renderWake(c, http.StatusOK, wakeFormData{}, notice, "")
}

func (s *Server) renderWake(c *gin.Context, status int, form wakeFormData, notice, errMsg string) {
	ctx := c.Request.Context()
	d, ok := s.wakeBase(c)
	if !ok {
		return
	}
	d.Notice, d.Error, d.Form = notice, errMsg, form
	jobs, err := s.store.WakeJobs(ctx, inventory.WakeJobQuery{Limit: 30})
	if err != nil {
		s.pageError(c, err)
		return
	}
	for _, j := range jobs {
		d.Jobs = append(d.Jobs, s.viewWakeJob(j))
	}
	wss, err := s.store.WakeSchedules(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	for _, ws := range wss {
		d.Schedules = append(d.Schedules, s.viewWakeSchedule(ws))
	}
	s.render(c, status, "wake.html", d)
}

func (s *Server) wakeJobPage(c *gin.Context) {
	j, ok := loadPageByID(s, c, "wake job", s.store.WakeJob)
	if !ok {
		return
	}
	d, ok := s.wakeBase(c)
	if !ok {
		return
	}
	v := s.viewWakeJob(j)
	d.Job = &v
	if v.FallbackOffer != "" {
		var devs wakeRetry
		bySubnet := map[string]*wakeRetry{}
		for _, t := range j.Targets {
			switch {
			case t.Status != inventory.WakeNoRoute || !strings.HasSuffix(t.Detail, fallbackOfferPhrase):
			case t.DeviceID != 0:
				devs.Devices = append(devs.Devices, t.DeviceID)
			default:
				r := bySubnet[t.Subnet]
				if r == nil {
					r = &wakeRetry{Subnet: t.Subnet}
					bySubnet[t.Subnet] = r
				}
				r.MACs = strings.TrimSpace(r.MACs + " " + t.MAC)
			}
		}
		if len(devs.Devices) > 0 {
			d.Retry = append(d.Retry, devs)
		}
		for _, t := range j.Targets {
			if r := bySubnet[t.Subnet]; r != nil {
				d.Retry = append(d.Retry, *r)
				delete(bySubnet, t.Subnet)
			}
		}
	}
	s.render(c, http.StatusOK, "wake.html", d)
}

// wakeForm takes the wake buttons: device=ID (the device page, a
// selection of the devices list), subnet_id=ID (a subnet), mac= with an
// optional subnet= (the /wake page), fallback=1 (the "send by the
// fallback" button of a job with targets no route reaches).
func (s *Server) wakeForm(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.renderWake(c, http.StatusBadRequest, wakeFormData{}, "", "The form could not be read.")
		return
	}
	f := c.Request.PostForm
	in := wakeInput{Subnet: strings.TrimSpace(f.Get("subnet")), Fallback: f.Get("fallback") != ""}
	form := wakeFormData{MACs: f.Get("mac"), Subnet: in.Subnet}
	bad := ""
	var err error
	if in.DeviceIDs, err = parseIDs(f["device"], "device"); err != nil {
		bad = err.Error()
	}
	if in.SubnetIDs, err = parseIDs(f["subnet_id"], "subnet"); err != nil {
		bad = err.Error()
	}
	for _, v := range f["mac"] {
		in.MACs = append(in.MACs, strings.FieldsFunc(v, func(r rune) bool {
			return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
		})...)
	}
	if bad == "" && len(in.DeviceIDs)+len(in.SubnetIDs)+len(in.MACs) == 0 {
		bad = "Choose devices to wake, or give MAC addresses."
	}
	if bad != "" {
		s.renderWake(c, http.StatusBadRequest, form, "", bad)
		return
	}
	job, err := s.startWake(c.Request.Context(), principalOf(c).actor(), "ui", 0, in)
	if err != nil {
		if errors.Is(err, errWakeInvalid) {
			s.renderWake(c, http.StatusBadRequest, form, "", strings.TrimPrefix(err.Error(), errWakeInvalid.Error()+": "))
			return
		}
		if errors.Is(err, errClosing) {
			s.renderStatus(c, http.StatusServiceUnavailable, "Shutting down", err.Error())
			return
		}
		s.pageError(c, err)
		return
	}
	s.auditWakeRequest(c, job)
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/wake/%d", job.ID))
}

func (s *Server) createWakeScheduleForm(c *gin.Context) {
	f := wakeFormData{SchedName: c.PostForm("name"), SchedAt: strings.TrimSpace(c.PostForm("at")),
		SchedDevices: c.PostForm("devices"), SchedDays: map[string]bool{}, SchedFallback: c.PostForm("fallback") != ""}
	ws := inventory.WakeSchedule{Name: f.SchedName, At: f.SchedAt, Fallback: f.SchedFallback,
		CreatedBy: principalOf(c).actor()}
	for _, d := range c.PostFormArray("day") {
		f.SchedDays[d] = true
		ws.Days = append(ws.Days, d)
	}
	if v := c.PostForm("subnet_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.renderWake(c, http.StatusBadRequest, f, "", fmt.Sprintf("%q is not a subnet id", v))
			return
		}
		ws.SubnetID, f.SchedSubnet = id, id
	}
	var err error
	ws.DeviceIDs, err = parseIDs(strings.FieldsFunc(f.SchedDevices, func(r rune) bool { return r == ',' || r == ' ' }), "device")
	if err != nil {
		s.renderWake(c, http.StatusBadRequest, f, "", err.Error())
		return
	}
	ws, err = s.store.CreateWakeSchedule(c.Request.Context(), ws)
	switch {
	case err == nil:
		s.audit(c, "wake.schedule.create", fmt.Sprintf("wake-schedule/%d", ws.ID), wakeScheduleDetails(ws))
		c.Redirect(http.StatusSeeOther, "/wake?done=scheduled")
	case errors.Is(err, inventory.ErrInvalid):
		s.renderWake(c, http.StatusBadRequest, f, "", plainError(err))
	default:
		s.pageError(c, err)
	}
}

func (s *Server) deleteWakeScheduleForm(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such scheduled wake.")
		return
	}
	ctx := c.Request.Context()
	ws, err := s.store.WakeSchedule(ctx, id)
	if err == nil {
		err = s.store.DeleteWakeSchedule(ctx, id)
	}
	switch {
	case err == nil:
		s.audit(c, "wake.schedule.delete", fmt.Sprintf("wake-schedule/%d", id), wakeScheduleDetails(ws))
		c.Redirect(http.StatusSeeOther, "/wake?done=unscheduled")
	case errors.Is(err, inventory.ErrNotFound):
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such scheduled wake.")
	default:
		s.pageError(c, err)
	}
}

// parseIDs reads ids of what (device, subnet): positive integers. The
// error names the first value that is not one.
func parseIDs(vs []string, what string) ([]int64, error) {
	var ids []int64
	for _, v := range vs {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%q is not a %s id", v, what)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
