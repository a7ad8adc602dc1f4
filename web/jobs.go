package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/snmp"
)

// Errors of the job runner that handlers turn into status codes.
var (
	errScanRunning = errors.New("a scan of this subnet is already running")
	errNoScanner   = errors.New("this server was started without a scanner")
	errClosing     = errors.New("the server is shutting down")
)

// serverScanner names the server itself as the scanner of its runs.
var serverScanner = inventory.Scanner{Kind: inventory.ScannerServer, ID: "server"}

// jobs runs scans outside of requests: a scan outlives the request that
// started it and ends with the server, whose context it runs under.
type jobs struct {
	store inventory.Store
	run   ScanFunc
	log   *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[int64]int64 // subnet id → scan run id
	closed  bool
	// dispatching holds the subnets dispatchScan is deciding for; the
	// channel closes when that decision is made (claimDispatch).
	dispatching map[int64]chan struct{}

	// live publishes the progress of running scans (live.go); set once
	// by initLive before any scan starts.
	live *liveService
}

func newJobs(store inventory.Store, run ScanFunc, log *slog.Logger) *jobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &jobs{store: store, run: run, log: log, ctx: ctx, cancel: cancel, running: map[int64]int64{},
		dispatching: map[int64]chan struct{}{}}
}

// start begins a scan of sn and returns its run. Only one scan of a subnet
// runs at a time.
func (j *jobs) start(ctx context.Context, sn inventory.Subnet) (inventory.ScanRun, error) {
	if j.run == nil {
		return inventory.ScanRun{}, errNoScanner
	}
	// Reveal first: a credential that cannot be opened fails the request,
	// not a run nobody watches.
	var creds []snmp.Credential
	if len(sn.Credentials) > 0 {
		var err error
		if creds, err = j.store.RevealCredentials(ctx, sn.Credentials); err != nil {
			return inventory.ScanRun{}, err
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return inventory.ScanRun{}, errClosing
	}
	if _, busy := j.running[sn.ID]; busy {
		return inventory.ScanRun{}, errScanRunning
	}
	run, err := j.store.BeginScan(ctx, sn.ID, serverScanner, sn.Method)
	if err != nil {
		return inventory.ScanRun{}, err
	}
	j.running[sn.ID] = run.ID
	var feed *scanFeed
	if j.live != nil {
		feed = j.live.begin(run)
	}
	j.wg.Go(func() {
		defer func() {
			j.mu.Lock()
			delete(j.running, sn.ID)
			j.mu.Unlock()
		}()
		j.scan(sn, run, creds, feed)
	})
	return run, nil
}

// runningScan returns the run id of the subnet's scan in progress, 0 if
// none.
func (j *jobs) runningScan(subnetID int64) int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.running[subnetID]
}

// scan runs one scan, recording devices as the engine identifies them so
// that a crash keeps them, then the report's late details, then the end.
func (j *jobs) scan(sn inventory.Subnet, run inventory.ScanRun, creds []snmp.Credential, feed *scanFeed) {
	ctx := j.ctx
	if feed != nil {
		ctx = withSweepProgress(ctx, feed.sweep)
		ctx = withSNMPProgress(ctx, feed.snmp)
	}
	log := j.log.With("subnet", sn.CIDR, "scan", run.ID)
	log.Info("scan started", "method", sn.Method)
	recorded := map[string]scan.Device{}
	var recordErr error
	record := func(d scan.Device) {
		if recordErr != nil {
			return
		}
		id, err := j.store.RecordDevice(ctx, run.ID, d)
		if err != nil {
			if ctx.Err() == nil {
				recordErr = err
				log.Error("record device", "ip", d.IP, "err", err)
			}
			return
		}
		recorded[d.IP] = d
		feed.device(id, d)
	}
	report, err := j.runSafely(ctx, sn, creds, record)
	feed.phase(phaseStoring)
	if report != nil && recordErr == nil && ctx.Err() == nil {
		// The report is authoritative: reverse DNS names and late
		// replies arrive after a device was first streamed.
		for _, d := range report.Devices {
			if prev, ok := recorded[d.IP]; ok && prev.MAC == d.MAC && slices.Equal(prev.Hostnames, d.Hostnames) &&
				slices.Equal(prev.FoundBy, d.FoundBy) {
				continue
			}
			record(d)
		}
	}

	end := inventory.ScanEnd{}
	if report != nil {
		end.Stats = inventory.StatsOf(report.Stats)
		end.Warnings = report.Warnings
		end.Incomplete = report.Incomplete
	}
	switch {
	case ctx.Err() != nil:
		end.Incomplete = true
	case recordErr != nil:
		end.Error = fmt.Sprintf("storing devices: %v", recordErr)
	case err != nil:
		end.Error = err.Error()
	}
	// The server's context may be cancelled already (shutdown); the run
	// must still be closed as incomplete, or the next start marks it
	// interrupted.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	done, ferr := j.store.FinishScan(fctx, run.ID, end)
	if ferr != nil {
		log.Error("finish scan", "err", ferr)
		if feed != nil {
			// Watchers must not wait forever for a run nobody closes; the
			// store marks it interrupted at the next start.
			run.Status, run.Error = inventory.ScanInterrupted, fmt.Sprintf("closing the run: %v", ferr)
			j.live.end(feed, run)
		}
		return
	}
	if feed != nil {
		j.live.end(feed, done)
	}
	log.Info("scan finished", "status", done.Status, "recorded", done.Stats.Recorded, "new", done.Stats.NewDevices,
		"gone", done.Stats.Gone, "err", done.Error)
}

// every runs fn each interval until the server closes: housekeeping that
// must not depend on anyone visiting a page.
func (j *jobs) every(interval time.Duration, fn func(ctx context.Context)) {
	j.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-j.ctx.Done():
				return
			case <-t.C:
				fn(j.ctx)
			}
		}
	})
}

// runSafely runs the scan, turning a panic in it into the run's error: a
// bug met on one subnet must not take the whole appliance down.
func (j *jobs) runSafely(ctx context.Context, sn inventory.Subnet, creds []snmp.Credential, device func(scan.Device)) (r *scan.Report, err error) {
	defer func() {
		if v := recover(); v != nil {
			j.log.Error("scan panicked", "subnet", sn.CIDR, "panic", v, "stack", string(debug.Stack()))
			r, err = nil, fmt.Errorf("scan panicked: %v", v)
		}
	}()
	return j.run(ctx, sn, creds, device)
}

// close cancels the scans and waits until they have stored their end or
// ctx ends.
func (j *jobs) close(ctx context.Context) error {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.cancel()
	done := make(chan struct{})
	go func() { j.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for scans to stop: %w", ctx.Err())
	}
}
