package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/election"
)

// dispatched says who took a scan and the run it is recorded under.
type dispatched struct {
	Scanner inventory.Scanner
	Run     inventory.ScanRun
	// Tasks are the agent task ids queued, when agents took it.
	Tasks []string
}

// dispatchScan hands a scan of sn to the scanner best placed to run it:
// the subnet's elected agents first (only they can ARP-sweep a segment
// the server does not sit on), then a satellite serving it, then the
// server itself. "Scan now" and the schedule both come through here, so a
// subnet is scanned the same way whoever asks.
//
// A subnet already being scanned, by anyone, is refused with
// errScanRunning before any path is chosen: the server's own job and an
// agent's open task would otherwise not see each other. The check and the
// start are one step per subnet (claimDispatch): two "Scan now" at once
// must not both pass the check and then start an agent task and a server
// scan, as they could when an election between them changed the path.
func (s *Server) dispatchScan(ctx context.Context, sn inventory.Subnet) (dispatched, error) {
	release, err := s.jobs.claimDispatch(ctx, sn.ID)
	if err != nil {
		return dispatched{}, err
	}
	defer release()
	if rid := s.jobs.runningScan(sn.ID); rid != 0 {
		return dispatched{}, fmt.Errorf("%w (scan %d)", errScanRunning, rid)
	}
	if at, ok, err := s.openScanTask(ctx, sn.ID); err != nil {
		return dispatched{}, err
	} else if ok {
		return dispatched{}, fmt.Errorf("%w (agent task %s, %s)", errScanRunning, at.ID, at.Status)
	}
	if d, ok, err := s.scanViaAgents(ctx, sn); err != nil || ok {
		return d, err
	}
	if d, ok, err := s.scanViaSatellite(ctx, sn); err != nil || ok {
		return d, err
	}
	run, err := s.jobs.start(ctx, sn)
	return dispatched{Scanner: serverScanner, Run: run}, err
}

// claimDispatch makes the caller the only dispatch of the subnet until it
// calls release, waiting for one in progress to finish (the waiter then
// sees that scan running). It holds no mutex while the caller decides:
// the claim is a channel others wait on, with ctx, so a dispatch slowed by
// the store blocks only its own subnet, and nobody past their deadline.
func (j *jobs) claimDispatch(ctx context.Context, subnetID int64) (release func(), err error) {
	for {
		j.mu.Lock()
		busy, ok := j.dispatching[subnetID]
		if !ok {
			done := make(chan struct{})
			j.dispatching[subnetID] = done
			j.mu.Unlock()
			return func() {
				j.mu.Lock()
				delete(j.dispatching, subnetID)
				j.mu.Unlock()
				close(done)
			}, nil
		}
		j.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for another dispatch of subnet %d: %w", subnetID, ctx.Err())
		}
	}
}

// openScanTask returns an open (pending or delivered) agent scan task of
// the subnet, if there is one: while it is open the subnet is being
// scanned, or about to be.
func (s *Server) openScanTask(ctx context.Context, subnetID int64) (inventory.AgentTask, bool, error) {
	open, err := s.store.AgentTasks(ctx, inventory.AgentTaskQuery{SubnetID: subnetID, Kind: string(protocol.TaskScan), OpenOnly: true, Limit: 1})
	if err != nil {
		return inventory.AgentTask{}, false, fmt.Errorf("open scan tasks of subnet %d: %w", subnetID, err)
	}
	if len(open) == 0 {
		return inventory.AgentTask{}, false, nil
	}
	return open[0], true, nil
}

// runningRun returns the id of the subnet's scan in progress, 0 if none:
// the server's or a satellite's job, or a run an agent is scanning (known
// only to the store). What the UI, API and metrics call "running".
func (s *Server) runningRun(ctx context.Context, subnetID int64) int64 {
	if rid := s.jobs.runningScan(subnetID); rid != 0 {
		return rid
	}
	run, ok, err := s.store.RunningScan(ctx, subnetID)
	if err != nil {
		s.log.Warn("running scan", "subnet", subnetID, "err", err)
		return 0
	}
	if !ok {
		return 0
	}
	return run.ID
}

// releaseLostSeats closes the open scan tasks of the agents that lost a
// seat in a round (expired, replaced, demoted, released): the subnet's
// new scanner is not to wait out the lost one's scan timeout. It runs
// inside the round, so it must not start another (closeTask would, by
// reporting the outcome): losing a seat is not a failed scan.
func (s *Server) releaseLostSeats(ctx context.Context, events []election.Event) {
	for _, ev := range events {
		lost := ev.AgentID
		switch ev.Kind {
		case election.Replaced:
			lost = ev.Replaced
		case election.Expired, election.Demoted, election.Released:
		default:
			continue
		}
		if lost == 0 {
			continue
		}
		open, err := s.store.AgentTasks(ctx, inventory.AgentTaskQuery{AgentID: lost, SubnetID: ev.SubnetID,
			Kind: string(protocol.TaskScan), OpenOnly: true, Limit: 1000})
		if err != nil {
			s.log.Warn("open scan tasks of an agent that lost its seat", "agent", lost, "subnet", ev.SubnetID, "err", err)
			continue
		}
		why := "the agent is no longer elected to scan this subnet (" + string(ev.Kind) + ")"
		for _, at := range open {
			b, _ := json.Marshal(protocol.TaskResult{TaskID: at.ID, Final: true, Error: why, Finished: s.opts.Now()})
			if _, err := s.store.FinishAgentTask(ctx, at.ID, inventory.TaskFailed, why, string(b)); err != nil {
				if !errors.Is(err, inventory.ErrConflict) {
					s.log.Error("close agent task", "task", at.ID, "err", err)
				}
				continue
			}
			s.log.Info("scan task closed: its agent lost the seat", "task", at.ID, "agent", lost, "subnet", ev.SubnetID, "event", ev.Kind)
			if at.ScanID != 0 {
				if _, err := s.store.FinishScan(ctx, at.ScanID, inventory.ScanEnd{Error: why}); err != nil {
					s.log.Error("finish agent scan", "scan", at.ScanID, "err", err)
				}
			}
			s.agents.taskEnded(at.ID)
		}
	}
}

// scanSatelliteFor returns the satellite that takes scans of p when no
// agent is elected: the first trusted one with lanscout installed that
// serves a network overlapping p. scanViaSatellite sends the scan there
// and the election's view names it, so both say the same.
func (s *Server) scanSatelliteFor(ctx context.Context, p netip.Prefix) (inventory.Satellite, bool, error) {
	sats, err := s.store.Satellites(ctx)
	if err != nil {
		return inventory.Satellite{}, false, err
	}
	for _, c := range sats {
		if c.Trusted() && c.HasLanscout && slices.ContainsFunc(c.Subnets, func(cidr string) bool {
			sp, err := netip.ParsePrefix(cidr)
			return err == nil && sp.Overlaps(p)
		}) {
			return c, true, nil
		}
	}
	return inventory.Satellite{}, false, nil
}
