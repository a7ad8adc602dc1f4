package web

import (
	"context"

	"github.com/lanscout/lanscout/inventory"
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
func (s *Server) dispatchScan(ctx context.Context, sn inventory.Subnet) (dispatched, error) {
	if d, ok, err := s.scanViaAgents(ctx, sn); err != nil || ok {
		return d, err
	}
	if d, ok, err := s.scanViaSatellite(ctx, sn); err != nil || ok {
		return d, err
	}
	run, err := s.jobs.start(ctx, sn)
	return dispatched{Scanner: serverScanner, Run: run}, err
}
