package web

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lanscout/lanscout/inventory"
)

// scheduler starts the scans subnets' schedules call for. It keeps no
// state of its own beyond failed attempts: when a subnet last ran is in
// the store, so a restart picks up where it left off, and a slot missed
// while the server was down runs once at start (Schedule.Next).
type scheduler struct {
	s        *Server
	lastTry  map[int64]time.Time // a start that failed before a run existed
	location *time.Location
}

func (s *Server) startScheduler(every time.Duration) {
	sc := &scheduler{s: s, lastTry: map[int64]time.Time{}, location: time.Local}
	s.jobs.every(every, sc.tick)
}

// tick starts every due scan. It runs on one goroutine, so lastTry needs
// no lock.
func (sc *scheduler) tick(ctx context.Context) {
	s := sc.s
	subnets, err := s.store.Subnets(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("scheduler: list subnets", "err", err)
		}
		return
	}
	now := s.opts.Now()
	for _, sn := range subnets {
		if sn.Policy == inventory.ScanDeny || (sn.Schedule.Every == 0 && sn.Schedule.At == "") {
			continue
		}
		if s.runningRun(ctx, sn.ID) != 0 {
			continue // an agent's too: dispatchScan would refuse it
		}
		var last time.Time
		// The last sweep, not the last listen an agent did between sweeps.
		if runs, err := s.store.ScanRuns(ctx, sn.ID, 20); err != nil {
			s.log.Error("scheduler: last scan", "subnet", sn.CIDR, "err", err)
			continue
		} else if i := slices.IndexFunc(runs, func(r inventory.ScanRun) bool { return r.Method != inventory.MethodPassive }); i >= 0 {
			last = runs[i].Started
		}
		if t := sc.lastTry[sn.ID]; t.After(last) {
			last = t
		}
		next := sn.Schedule.Next(last, now, sc.location)
		if next.IsZero() || next.After(now) {
			continue
		}
		sc.lastTry[sn.ID] = now
		d, err := s.dispatchScan(ctx, sn)
		run := d.Run
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("scheduler: scan not started", "subnet", sn.CIDR, "err", err)
			}
			continue
		}
		if err := s.store.Audit(ctx, inventory.AuditEntry{Actor: "system", Action: "subnet.scan",
			Target: fmt.Sprintf("subnet/%d", sn.ID), Details: fmt.Sprintf("%s, scan %d, scheduled", sn.CIDR, run.ID)}); err != nil {
			s.log.Error("audit", "action", "subnet.scan", "err", err)
		}
	}
}
