package inventory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// WakeStore is the store side of Wake-on-LAN: wake jobs with one result
// per target, and scheduled wakes. It keeps what was asked, which route
// each target took and how it ended; sending and confirming are the web
// server's.
type WakeStore interface {
	// CreateWakeJob stores a job with its targets (Status defaults to
	// running, each target's to pending) and returns it with ids.
	CreateWakeJob(ctx context.Context, j WakeJob) (WakeJob, error)
	// UpdateWakeTarget replaces the route, status and times of one target
	// of a job (by t.ID).
	UpdateWakeTarget(ctx context.Context, jobID int64, t WakeTarget) error
	// FinishWakeJob closes a job with status and returns it.
	FinishWakeJob(ctx context.Context, id int64, status WakeJobStatus) (WakeJob, error)
	WakeJob(ctx context.Context, id int64) (WakeJob, error)
	// WakeJobs lists jobs with their targets, newest first.
	WakeJobs(ctx context.Context, q WakeJobQuery) ([]WakeJob, error)
	// InterruptWakeJobs closes the jobs a stop left running: their targets
	// still waiting end unconfirmed, those never sent failed. It returns
	// how many jobs it closed.
	InterruptWakeJobs(ctx context.Context) (int, error)
	// DevicesByMAC returns the devices with this MAC (any form net.ParseMAC
	// takes), in every subnet, most recently seen first.
	DevicesByMAC(ctx context.Context, mac string) ([]Device, error)

	// CreateWakeSchedule validates (WakeSchedule.Normalize) and stores a
	// scheduled wake.
	CreateWakeSchedule(ctx context.Context, ws WakeSchedule) (WakeSchedule, error)
	DeleteWakeSchedule(ctx context.Context, id int64) error
	WakeSchedule(ctx context.Context, id int64) (WakeSchedule, error)
	WakeSchedules(ctx context.Context) ([]WakeSchedule, error)
	// MarkWakeScheduleRun records that a schedule's slot at was handled
	// (jobID 0 when it was skipped).
	MarkWakeScheduleRun(ctx context.Context, id int64, at time.Time, jobID int64) error
}

// WakeRoute says how a magic packet reaches a target's broadcast domain.
type WakeRoute string

// The wake routes, in the order the server tries them; the last two are
// fallbacks, only used when the requester asked for them.
const (
	WakeRouteLocal     WakeRoute = "local"     // the server, from its own interface in the subnet
	WakeRouteAgent     WakeRoute = "agent"     // an agent online in the subnet, as a task
	WakeRouteSatellite WakeRoute = "satellite" // a satellite serving the subnet, over SSH
	// WakeRouteDirected is UDP to the subnet's directed broadcast from the
	// server, through its routers, which usually drop it.
	WakeRouteDirected      WakeRoute = "directed_broadcast"
	WakeRouteAllSatellites WakeRoute = "all_satellites" // every satellite sends it
	WakeRouteNone          WakeRoute = "none"
)

// WakeStatus is where one target of a wake stands.
type WakeStatus string

// The target statuses. Sent means the packet left and the server is
// watching for the device to come up.
const (
	WakePending     WakeStatus = "pending"
	WakeSent        WakeStatus = "sent"
	WakeConfirmed   WakeStatus = "confirmed"
	WakeUnconfirmed WakeStatus = "unconfirmed"
	WakeFailed      WakeStatus = "failed"
	WakeNoRoute     WakeStatus = "no_route"
)

// Final reports whether nothing more will happen to a target.
func (s WakeStatus) Final() bool {
	switch s {
	case WakeConfirmed, WakeUnconfirmed, WakeFailed, WakeNoRoute:
		return true
	}
	return false
}

// WakeJobStatus is where a wake job stands.
type WakeJobStatus string

// The job statuses. Interrupted: the server stopped while it ran.
const (
	WakeJobRunning     WakeJobStatus = "running"
	WakeJobDone        WakeJobStatus = "done"
	WakeJobInterrupted WakeJobStatus = "interrupted"
)

// WakeTarget is one machine of a wake job and what became of it.
type WakeTarget struct {
	ID       int64     `json:"id"`
	DeviceID int64     `json:"device_id,omitempty"` // 0 for a MAC the store does not know
	MAC      string    `json:"mac"`
	IP       string    `json:"ip,omitempty"`        // last known address, watched for the device to come up
	SubnetID int64     `json:"subnet_id,omitempty"` // the subnet the packet must reach
	Subnet   string    `json:"subnet,omitempty"`    // its CIDR
	Route    WakeRoute `json:"route"`
	// Via names what sent it: an interface, an agent, a satellite.
	Via    string     `json:"via,omitempty"`
	Method string     `json:"method,omitempty"` // "raw", "udp", "ssh", ...
	Status WakeStatus `json:"status"`
	Detail string     `json:"detail,omitempty"` // why it failed, or what to do
	SentAt time.Time  `json:"sent_at,omitzero"`
	// ConfirmedAt is when the device was seen up; ConfirmedBy how
	// ("arp", "icmp", "tcp", "agent", "sighting").
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	ConfirmedBy string    `json:"confirmed_by,omitempty"`
}

// TookToWake is how long the device took to answer after the packet, when
// it was confirmed.
func (t WakeTarget) TookToWake() time.Duration {
	if t.ConfirmedAt.IsZero() || t.SentAt.IsZero() {
		return 0
	}
	return t.ConfirmedAt.Sub(t.SentAt)
}

// WakeJob is one request to wake machines.
type WakeJob struct {
	ID          int64  `json:"id"`
	RequestedBy string `json:"requested_by"` // the audit actor: a username, "token:NAME", or "system"
	// Source says where the request came from: "api", "ui" or "schedule".
	Source     string        `json:"source"`
	ScheduleID int64         `json:"schedule_id,omitempty"`
	Fallback   bool          `json:"fallback"` // the requester allowed the fallback route
	Status     WakeJobStatus `json:"status"`
	Created    time.Time     `json:"created"`
	Finished   time.Time     `json:"finished,omitzero"`
	Targets    []WakeTarget  `json:"targets"`
}

// WakeJobQuery selects wake jobs, newest first.
type WakeJobQuery struct {
	ScheduleID int64 // 0: any
	Limit      int   // default 50, at most 500
}

// WakeSchedule is a wake that repeats at a time of day, every day or on
// some weekdays. Its targets are devices, a subnet (every device of it
// with a known MAC, when it runs), or both.
type WakeSchedule struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	At        string    `json:"at"`   // "HH:MM", the server's time zone
	Days      []string  `json:"days"` // "mon".."sun"; empty: every day
	DeviceIDs []int64   `json:"device_ids"`
	SubnetID  int64     `json:"subnet_id,omitempty"`
	Fallback  bool      `json:"fallback"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	LastRun   time.Time `json:"last_run,omitzero"` // the last slot handled
	LastJob   int64     `json:"last_job,omitempty"`
}

// weekdayNames are the day names schedules take, in time.Weekday order.
var weekdayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// maxScheduleDevices bounds a schedule's device list.
const maxScheduleDevices = 4096

// Normalize checks ws and puts its lists in canonical form.
func (ws *WakeSchedule) Normalize() error {
	ws.Name = strings.TrimSpace(ws.Name)
	if len(ws.Name) > 128 {
		return fmt.Errorf("%w: wake schedule: name longer than 128 characters", ErrInvalid)
	}
	ws.At = strings.TrimSpace(ws.At)
	at, err := time.Parse("15:04", ws.At)
	if err != nil {
		return fmt.Errorf("%w: wake schedule: time of day %q is not HH:MM", ErrInvalid, ws.At)
	}
	ws.At = at.Format("15:04")
	var days []string
	for _, d := range ws.Days {
		d = strings.ToLower(strings.TrimSpace(d))
		if len(d) > 3 {
			d = d[:3] // "Monday" → "mon"
		}
		if !slices.Contains(weekdayNames, d) {
			return fmt.Errorf("%w: wake schedule: day %q is not one of mon, tue, wed, thu, fri, sat, sun", ErrInvalid, d)
		}
		if !slices.Contains(days, d) {
			days = append(days, d)
		}
	}
	// Week order, so that equal schedules read the same.
	slices.SortFunc(days, func(a, b string) int {
		return slices.Index(weekdayNames, a) - slices.Index(weekdayNames, b)
	})
	if len(days) == 7 {
		days = nil
	}
	ws.Days = days
	if ws.Days == nil {
		ws.Days = []string{}
	}
	var ids []int64
	for _, id := range ws.DeviceIDs {
		if id <= 0 {
			return fmt.Errorf("%w: wake schedule: device id %d", ErrInvalid, id)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > maxScheduleDevices {
		return fmt.Errorf("%w: wake schedule: %d devices, at most %d", ErrInvalid, len(ids), maxScheduleDevices)
	}
	ws.DeviceIDs = ids
	if ws.DeviceIDs == nil {
		ws.DeviceIDs = []int64{}
	}
	if ws.SubnetID < 0 {
		return fmt.Errorf("%w: wake schedule: subnet id %d", ErrInvalid, ws.SubnetID)
	}
	if len(ws.DeviceIDs) == 0 && ws.SubnetID == 0 {
		return fmt.Errorf("%w: wake schedule: give devices or a subnet to wake", ErrInvalid)
	}
	if ws.Name == "" {
		ws.Name = "wake at " + ws.At
	}
	return nil
}

// Next returns the first slot of the schedule strictly after after, with
// times of day read in loc; the zero time when the schedule is invalid.
// Days are those of loc: a schedule at 01:30 on Mondays runs at 01:30 on
// Monday local time, whatever UTC says.
func (ws WakeSchedule) Next(after time.Time, loc *time.Location) time.Time {
	at, err := time.Parse("15:04", ws.At)
	if err != nil {
		return time.Time{}
	}
	a := after.In(loc)
	// Eight days cover every weekday once more than a week; time.Date
	// normalises across month ends and DST changes (a slot inside a
	// skipped hour moves forward with the clock).
	for i := 0; i <= 7; i++ {
		slot := time.Date(a.Year(), a.Month(), a.Day()+i, at.Hour(), at.Minute(), 0, 0, loc)
		if !slot.After(after) {
			continue
		}
		if len(ws.Days) == 0 || slices.Contains(ws.Days, weekdayNames[slot.Weekday()]) {
			return slot
		}
	}
	return time.Time{}
}
