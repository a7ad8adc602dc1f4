package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// wakeRequest is the body of POST /api/v1/wake.
type wakeRequest struct {
	Devices []int64  `json:"devices"`
	MACs    []string `json:"macs"`
	// Subnet locates MACs the inventory does not know: a CIDR or a subnet
	// id (a number or a string). Without it they are looked up in the
	// store by MAC.
	Subnet cidrOrID `json:"subnet"`
	// Subnets wakes every device of each subnet known by its MAC.
	Subnets []int64 `json:"subnets"`
	// Fallback allows the configured fallback for targets no route
	// reaches; it is never used unasked.
	Fallback bool `json:"fallback"`
}

// cidrOrID is a subnet given as a CIDR string or as its id, a JSON number
// or string.
type cidrOrID string

func (v *cidrOrID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*v = cidrOrID(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("subnet: want a CIDR or a subnet id")
	}
	*v = cidrOrID(s)
	return nil
}

// wakeTargetView is a target as the API shows it, with the time it took
// to come up.
type wakeTargetView struct {
	inventory.WakeTarget
	TookS float64 `json:"took_s,omitempty"`
}

// wakeJobView is a job as the API shows it.
type wakeJobView struct {
	ID          int64                        `json:"id"`
	RequestedBy string                       `json:"requested_by"`
	Source      string                       `json:"source"`
	ScheduleID  int64                        `json:"schedule_id,omitempty"`
	Fallback    bool                         `json:"fallback"`
	Status      inventory.WakeJobStatus      `json:"status"`
	Created     time.Time                    `json:"created"`
	Finished    time.Time                    `json:"finished,omitzero"`
	Counts      map[inventory.WakeStatus]int `json:"counts"`
	Targets     []wakeTargetView             `json:"targets"`
	// FallbackOffer names the configured fallback when targets had no
	// route and the request did not ask for it: send again with
	// "fallback": true to use it.
	FallbackOffer WakeFallback `json:"fallback_offer,omitempty"`
}

func (s *Server) viewWakeJob(j inventory.WakeJob) wakeJobView {
	v := wakeJobView{ID: j.ID, RequestedBy: j.RequestedBy, Source: j.Source, ScheduleID: j.ScheduleID,
		Fallback: j.Fallback, Status: j.Status, Created: j.Created, Finished: j.Finished,
		Counts: map[inventory.WakeStatus]int{}, Targets: make([]wakeTargetView, 0, len(j.Targets))}
	for _, t := range j.Targets {
		tv := wakeTargetView{WakeTarget: t}
		if t.Status == inventory.WakeConfirmed {
			tv.TookS = t.TookToWake().Round(10 * time.Millisecond).Seconds()
		}
		v.Counts[t.Status]++
		v.Targets = append(v.Targets, tv)
		if t.Status == inventory.WakeNoRoute && !j.Fallback && strings.HasSuffix(t.Detail, fallbackOfferPhrase) &&
			s.wake.opts.Fallback != WakeFallbackNone {
			v.FallbackOffer = s.wake.opts.Fallback
		}
	}
	return v
}

// wakeError answers an error of startWake.
func (s *Server) wakeError(c *gin.Context, err error) {
	if errors.Is(err, errWakeInvalid) {
		apiError(c, http.StatusBadRequest, strings.TrimPrefix(err.Error(), errWakeInvalid.Error()+": "))
		return
	}
	s.storeError(c, err)
}

func (s *Server) apiWake(c *gin.Context) {
	var req wakeRequest
	if !decodeJSON(c, &req) {
		return
	}
	source := "api"
	job, err := s.startWake(c.Request.Context(), principalOf(c).actor(), source, 0, wakeInput{DeviceIDs: req.Devices,
		MACs: req.MACs, Subnet: string(req.Subnet), SubnetIDs: req.Subnets, Fallback: req.Fallback})
	if err != nil {
		s.wakeError(c, err)
		return
	}
	s.auditWakeRequest(c, job)
	c.Header("Location", fmt.Sprintf("/api/v1/wake/%d", job.ID))
	c.JSON(http.StatusAccepted, s.viewWakeJob(job))
}

// auditWakeRequest records who asked to wake what, and by which routes.
func (s *Server) auditWakeRequest(c *gin.Context, job inventory.WakeJob) {
	s.audit(c, "wake.request", fmt.Sprintf("wake/%d", job.ID), wakeRequestDetails(job))
}

func wakeRequestDetails(job inventory.WakeJob) string {
	lines := make([]string, len(job.Targets))
	for i, t := range job.Targets {
		lines[i] = wakeTargetSummary(t)
	}
	fb := "no fallback asked"
	if job.Fallback {
		fb = "fallback allowed"
	}
	return fmt.Sprintf("wake job %d (%s, %d target%s, %s): %s", job.ID, job.Source, len(job.Targets),
		plural(len(job.Targets)), fb, clip(lines, 20))
}

func (s *Server) apiWakeJob(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	j, err := s.store.WakeJob(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.viewWakeJob(j))
}

func (s *Server) apiWakeJobs(c *gin.Context) {
	q := inventory.WakeJobQuery{Limit: 50}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			apiError(c, http.StatusBadRequest, fmt.Sprintf("limit %q is not between 1 and 500", v))
			return
		}
		q.Limit = n
	}
	if v := c.Query("schedule"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			apiError(c, http.StatusBadRequest, fmt.Sprintf("schedule %q is not a schedule id", v))
			return
		}
		q.ScheduleID = n
	}
	js, err := s.store.WakeJobs(c.Request.Context(), q)
	if err != nil {
		s.storeError(c, err)
		return
	}
	out := make([]wakeJobView, len(js))
	for i, j := range js {
		out[i] = s.viewWakeJob(j)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

// wakeScheduleView is a schedule with its next run.
type wakeScheduleView struct {
	inventory.WakeSchedule
	Next time.Time `json:"next,omitzero"`
}

func (s *Server) viewWakeSchedule(ws inventory.WakeSchedule) wakeScheduleView {
	return wakeScheduleView{WakeSchedule: ws, Next: s.nextWakeRun(ws)}
}

// wakeScheduleRequest is the body of POST /api/v1/wake/schedules.
type wakeScheduleRequest struct {
	Name     string   `json:"name"`
	At       string   `json:"at"`
	Days     []string `json:"days"`
	Devices  []int64  `json:"devices"`
	Subnet   int64    `json:"subnet"`
	Fallback bool     `json:"fallback"`
}

func (s *Server) apiWakeSchedules(c *gin.Context) {
	wss, err := s.store.WakeSchedules(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	out := make([]wakeScheduleView, len(wss))
	for i, ws := range wss {
		out[i] = s.viewWakeSchedule(ws)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

func (s *Server) apiCreateWakeSchedule(c *gin.Context) {
	var req wakeScheduleRequest
	if !decodeJSON(c, &req) {
		return
	}
	ws, err := s.store.CreateWakeSchedule(c.Request.Context(), inventory.WakeSchedule{Name: req.Name, At: req.At,
		Days: req.Days, DeviceIDs: req.Devices, SubnetID: req.Subnet, Fallback: req.Fallback,
		CreatedBy: principalOf(c).actor()})
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "wake.schedule.create", fmt.Sprintf("wake-schedule/%d", ws.ID), wakeScheduleDetails(ws))
	c.JSON(http.StatusCreated, s.viewWakeSchedule(ws))
}

func wakeScheduleDetails(ws inventory.WakeSchedule) string {
	days := "every day"
	if len(ws.Days) > 0 {
		days = strings.Join(ws.Days, ",")
	}
	out := fmt.Sprintf("%q at %s %s", ws.Name, ws.At, days)
	if len(ws.DeviceIDs) > 0 {
		out += fmt.Sprintf(", %d device%s", len(ws.DeviceIDs), plural(len(ws.DeviceIDs)))
	}
	if ws.SubnetID != 0 {
		out += fmt.Sprintf(", subnet %d", ws.SubnetID)
	}
	if ws.Fallback {
		out += ", fallback allowed"
	}
	return out
}

func (s *Server) apiDeleteWakeSchedule(c *gin.Context) {
	apiDeleteByID(s, c, "wake.schedule.delete", "wake-schedule", s.store.WakeSchedule, s.store.DeleteWakeSchedule,
		wakeScheduleDetails)
}
