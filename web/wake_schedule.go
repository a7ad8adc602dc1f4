package web

import (
	"context"
	"fmt"
	"time"

	"github.com/lanscout/lanscout/inventory"
)

// Scheduled wakes (OCS users asked for them for years: ocsreports #724,
// #949) run as ordinary wake jobs, by "system", so they are routed,
// confirmed and audited like any other. When a schedule last ran is in
// the store: a restart neither repeats a slot nor forgets one, and a slot
// missed by more than ScheduleGrace (the server was down through it) is
// skipped, because waking machines for a patch night that is over helps
// nobody.

// wakeDue returns the latest slot of ws at or before now that has not been
// handled, or the zero time when none is due.
func wakeDue(ws inventory.WakeSchedule, now time.Time, loc *time.Location) time.Time {
	from := ws.LastRun
	if from.IsZero() || from.Before(ws.Created) {
		from = ws.Created
	}
	slot := ws.Next(from, loc)
	if slot.IsZero() || slot.After(now) {
		return time.Time{}
	}
	// Catch up to the latest slot: one run, not one per missed slot.
	for {
		next := ws.Next(slot, loc)
		if next.IsZero() || next.After(now) {
			return slot
		}
		slot = next
	}
}

// nextWakeRun is when ws runs next, for display.
func (s *Server) nextWakeRun(ws inventory.WakeSchedule) time.Time {
	now := s.opts.Now()
	if due := wakeDue(ws, now, s.wake.opts.Location); !due.IsZero() && now.Sub(due) <= s.wake.opts.ScheduleGrace {
		return now
	}
	return ws.Next(now, s.wake.opts.Location)
}

// runWakeSchedules starts the wakes that are due.
func (s *Server) runWakeSchedules(ctx context.Context) {
	wss, err := s.store.WakeSchedules(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("wake schedules: list", "err", err)
		}
		return
	}
	now := s.opts.Now()
	for _, ws := range wss {
		slot := wakeDue(ws, now, s.wake.opts.Location)
		if slot.IsZero() {
			continue
		}
		log := s.log.With("wake_schedule", ws.ID, "slot", slot)
		if late := now.Sub(slot); late > s.wake.opts.ScheduleGrace {
			log.Warn("scheduled wake skipped: its time passed while the server was down", "late", late.Round(time.Second))
			if err := s.store.MarkWakeScheduleRun(ctx, ws.ID, slot, 0); err != nil && ctx.Err() == nil {
				log.Error("wake schedules: mark skipped", "err", err)
			}
			continue
		}
		in := wakeInput{DeviceIDs: ws.DeviceIDs, Fallback: ws.Fallback}
		if ws.SubnetID != 0 {
			in.SubnetIDs = []int64{ws.SubnetID}
		}
		job, err := s.startWake(ctx, "system", "schedule", ws.ID, in)
		// The slot is handled either way: a schedule whose devices are
		// gone must not retry every tick.
		if merr := s.store.MarkWakeScheduleRun(ctx, ws.ID, slot, job.ID); merr != nil && ctx.Err() == nil {
			log.Error("wake schedules: mark run", "err", merr)
		}
		entry := inventory.AuditEntry{Actor: "system", Action: "wake.request", Target: fmt.Sprintf("wake/%d", job.ID)}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("scheduled wake not started", "err", err)
			entry.Target = fmt.Sprintf("wake-schedule/%d", ws.ID)
			entry.Details = fmt.Sprintf("scheduled wake %q not started: %v", ws.Name, err)
		} else {
			entry.Details = fmt.Sprintf("schedule %d %q: %s", ws.ID, ws.Name, wakeRequestDetails(job))
		}
		if err := s.store.Audit(ctx, entry); err != nil {
			log.Error("audit", "action", entry.Action, "err", err)
		}
	}
}
