package web

// Wake-on-LAN from the server: which route reaches each target's
// broadcast domain (wake_route.go), the job that sends and then watches
// for the machines to come up (wake_job.go), the API and pages
// (wake_api.go, wake_pages.go) and scheduled wakes (wake_schedule.go).
// The packets themselves are package wol's; the agent and satellite
// routes hand them to agents.go and satellites.go.

import (
	"context"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/wol"
)

// WakeFallback is what the server offers for a target no route reaches.
// It is only used when the request asks for it ("fallback": true): a
// directed broadcast that routers drop, or every satellite whatever
// subnets it serves, must never be what happens silently.
type WakeFallback string

// The fallbacks.
const (
	WakeFallbackNone          WakeFallback = "none"
	WakeFallbackDirected      WakeFallback = "directed_broadcast"
	WakeFallbackAllSatellites WakeFallback = "all_satellites"
)

// ParseWakeFallback reads a fallback setting; "" means none.
func ParseWakeFallback(s string) (WakeFallback, error) {
	switch WakeFallback(s) {
	case "", WakeFallbackNone:
		return WakeFallbackNone, nil
	case WakeFallbackDirected, WakeFallbackAllSatellites:
		return WakeFallback(s), nil
	}
	return "", fmt.Errorf("wake fallback %q: want none, directed_broadcast or all_satellites", s)
}

// WakeOptions configure Wake-on-LAN. The zero value is usable.
type WakeOptions struct {
	// Fallback is offered for targets with no route; default none.
	Fallback WakeFallback
	// ConfirmTimeout is how long the server watches for a woken machine
	// to come up; default 3m, negative to not watch (targets stay "sent").
	ConfirmTimeout time.Duration
	// ProbeInterval is how often it probes and looks; default 5s.
	ProbeInterval time.Duration
	// Ports are the UDP ports of directed broadcasts; default 9 and 7.
	Ports []int
	// Method is how the server sends on its own segments: auto (raw
	// Ethernet when it may, else UDP), raw or udp.
	Method wol.Method
	// Password is a SecureOn password (4 or 6 bytes), nil for none.
	Password []byte
	// AgentTimeout bounds the wait for an agent to report a wake task;
	// default 60s.
	AgentTimeout time.Duration
	// ScheduleCheck is how often scheduled wakes are checked; default
	// 30s, negative to run none.
	ScheduleCheck time.Duration
	// ScheduleGrace is how late a scheduled wake may still run (after a
	// restart); older slots are skipped. Default 15m.
	ScheduleGrace time.Duration
	// MaxTargets caps the targets of one job; default 4096.
	MaxTargets int
	// SatelliteConnections caps the SSH connections to one satellite at
	// once, shared by wakes and scans; default
	// DefaultSatelliteConnections.
	SatelliteConnections int
	// Location reads schedules' times of day; default time.Local.
	Location *time.Location
}

func (o *WakeOptions) withDefaults() (WakeOptions, error) {
	w := *o
	var err error
	if w.Fallback, err = ParseWakeFallback(string(w.Fallback)); err != nil {
		return w, err
	}
	if w.ConfirmTimeout == 0 {
		w.ConfirmTimeout = 3 * time.Minute
	}
	if w.ProbeInterval <= 0 {
		w.ProbeInterval = 5 * time.Second
	}
	if w.AgentTimeout <= 0 {
		w.AgentTimeout = time.Minute
	}
	if w.ScheduleCheck == 0 {
		w.ScheduleCheck = 30 * time.Second
	}
	if w.ScheduleGrace <= 0 {
		w.ScheduleGrace = 15 * time.Minute
	}
	if w.MaxTargets <= 0 {
		w.MaxTargets = 4096
	}
	switch {
	case w.SatelliteConnections == 0:
		w.SatelliteConnections = DefaultSatelliteConnections
	case w.SatelliteConnections < 0 || w.SatelliteConnections > 100:
		return w, fmt.Errorf("satellites: max_connections %d: want 1 to 100", w.SatelliteConnections)
	}
	if w.Location == nil {
		w.Location = time.Local
	}
	sender := wol.Sender{Ports: w.Ports, Password: w.Password, Method: w.Method}
	if err := sender.Validate(); err != nil {
		return w, fmt.Errorf("wake: %w", err)
	}
	return w, nil
}

type wakeService struct {
	opts   WakeOptions
	sender wol.Sender
	// satSlots bound the SSH connections to each satellite, for wakes
	// and satellite scans.
	satSlots *satelliteSlots
}

func (s *Server) initWake() error {
	o, err := s.opts.Wake.withDefaults()
	if err != nil {
		return err
	}
	s.wake = &wakeService{opts: o, sender: wol.Sender{Ports: o.Ports, Password: o.Password, Method: o.Method,
		Logger: s.log.With("feature", "wake")}, satSlots: newSatelliteSlots(o.SatelliteConnections)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := s.store.InterruptWakeJobs(ctx); err != nil {
		return fmt.Errorf("wake: %w", err)
	} else if n > 0 {
		s.log.Warn("wake jobs were interrupted by a stop", "jobs", n)
	}
	if o.ScheduleCheck > 0 {
		s.jobs.every(o.ScheduleCheck, s.runWakeSchedules)
	}
	return nil
}

func (s *Server) wakeRoutes(ui, api *gin.RouterGroup) {
	op := s.requireRole(inventory.RoleOperator)
	ui.GET("/wake", s.wakePage)
	ui.GET("/wake/confirm", op, s.wakeSelectionPage)
	ui.GET("/wake/:id", s.wakeJobPage)
	ui.POST("/wake", op, s.wakeForm)
	ui.POST("/wake/schedules", op, s.createWakeScheduleForm)
	ui.POST("/wake/schedules/:id/delete", op, s.deleteWakeScheduleForm)

	api.GET("/wake", s.apiWakeJobs)
	api.POST("/wake", op, s.apiWake)
	api.GET("/wake/routes", s.apiWakeRoutes)
	api.GET("/wake/:id", s.apiWakeJob)
	api.GET("/wake/schedules", s.apiWakeSchedules)
	api.POST("/wake/schedules", op, s.apiCreateWakeSchedule)
	api.DELETE("/wake/schedules/:id", op, s.apiDeleteWakeSchedule)
}
