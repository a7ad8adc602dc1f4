package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
)

// Live scan progress: the job runner publishes what a running scan has done
// so far into a feed per run; browsers and API clients follow it as
// server-sent events. A feed lives in memory only: it is a view of a scan
// in progress, and the store stays the record of what was found.

// The phases a scan goes through as the live feed reports them.
const (
	phaseStarting = "starting"
	phaseSweep    = "sweep"   // probing addresses; SNMP answers stream in meanwhile
	phaseSNMP     = "snmp"    // the sweep is over (or method snmp has none); SNMP probes finish
	phaseStoring  = "storing" // the engine is done; its report's late details are stored
	phaseEnded    = "ended"   // the run is closed; Status says how
	phaseRemote   = "remote"  // an agent or satellite runs it; only the stored run is known
)

// ScanProgress is one snapshot of a running scan, as the "progress" events
// carry it. Sent and Total count the current sweep pass's probes; Found
// counts hosts that answered the sweep, Recorded devices stored so far
// and SNMPAnswered those of them that answered SNMP. SNMPDone of
// SNMPTotal addresses had their SNMP probe finish, answered or not;
// SNMPTotal still grows while the sweep finds hosts, and is final in
// phase snmp.
type ScanProgress struct {
	RunID        int64                `json:"run_id"`
	SubnetID     int64                `json:"subnet_id"`
	Scanner      inventory.Scanner    `json:"scanner"`
	Phase        string               `json:"phase"`
	Pass         int                  `json:"pass,omitempty"`
	Sent         int                  `json:"sent"`
	Total        int                  `json:"total"`
	Found        int                  `json:"found"`
	Recorded     int                  `json:"recorded"`
	SNMPAnswered int                  `json:"snmp_answered"`
	SNMPDone     int                  `json:"snmp_done"`
	SNMPTotal    int                  `json:"snmp_total"`
	Status       inventory.ScanStatus `json:"status"`
	Error        string               `json:"error,omitempty"`
	Started      time.Time            `json:"started"`
	Elapsed      float64              `json:"elapsed_s"`
}

// LiveDevice is a device a running scan has just stored, as the "device"
// events carry it.
type LiveDevice struct {
	ID       int64  `json:"id"`
	IP       string `json:"ip"`
	MAC      string `json:"mac,omitempty"`
	Name     string `json:"name,omitempty"`
	Vendor   string `json:"vendor,omitempty"`
	Category string `json:"category"`
	SNMP     bool   `json:"snmp"`
}

// feedDevicesKept bounds the devices a feed remembers for late
// subscribers; past it they still get the counts, and the pages list the
// devices from the store.
const feedDevicesKept = 5000

// feedLinger is how long an ended feed stays, so a page opened just as
// its scan ended still hears the end rather than guessing from the store.
const feedLinger = time.Minute

// scanFeed is the live state of one run. Each change closes changed and
// makes a new one: watchers wake, read the latest state and go back to
// waiting, so a slow watcher skips snapshots instead of slowing the scan.
type scanFeed struct {
	mu       sync.Mutex
	progress ScanProgress
	devices  []LiveDevice
	seen     map[string]bool // IPs already counted: the report records some devices twice
	changed  chan struct{}
	ended    bool
	// snmpOnly: the run's method is snmp, which has no sweep to report.
	snmpOnly bool
}

// update applies fn and wakes the watchers. A nil feed (the job runner
// without live progress) ignores it.
func (f *scanFeed) update(fn func(*scanFeed)) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		return
	}
	fn(f)
	close(f.changed)
	f.changed = make(chan struct{})
}

// snapshot returns the progress, the devices from index from on, whether
// the feed ended, and the channel that closes at the next change.
func (f *scanFeed) snapshot(from int) (ScanProgress, []LiveDevice, bool, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.progress
	if p.Status == inventory.ScanRunning {
		p.Elapsed = time.Since(p.Started).Seconds()
	}
	var ds []LiveDevice
	if from < len(f.devices) {
		ds = append(ds, f.devices[from:]...)
	}
	return p, ds, f.ended, f.changed
}

// liveService keeps the feeds of the server's own running scans.
type liveService struct {
	// heartbeat is how often an idle stream gets a comment line
	// (sseHeartbeat; tests shorten it).
	heartbeat time.Duration

	mu    sync.Mutex
	feeds map[int64]*scanFeed // by run id
}

func (s *Server) initLive() error {
	s.live = &liveService{heartbeat: sseHeartbeat, feeds: map[int64]*scanFeed{}}
	s.jobs.live = s.live
	return nil
}

func (s *Server) liveRoutes(ui, api *gin.RouterGroup) {
	api.GET("/scans/:id/events", s.apiScanEvents)
	api.GET("/subnets/:id/scan/events", s.apiSubnetScanEvents)
	api.GET("/openapi.yaml", s.apiOpenAPI)
	ui.GET("/subnets/:id", s.subnetPage)
	ui.GET("/subnets/:id/map", s.subnetMapPage)
}

// begin opens the feed of a run the job runner just started.
func (l *liveService) begin(run inventory.ScanRun) *scanFeed {
	f := &scanFeed{changed: make(chan struct{}), seen: map[string]bool{}, snmpOnly: run.Method == string(discover.MethodSNMP),
		progress: ScanProgress{RunID: run.ID, SubnetID: run.SubnetID, Scanner: run.Scanner, Phase: phaseStarting,
			Status: inventory.ScanRunning, Started: run.Started}}
	l.mu.Lock()
	l.feeds[run.ID] = f
	l.mu.Unlock()
	return f
}

// feed returns the feed of a run, nil when the server has none (a run of
// an agent, one that ended long ago, or one from before a restart).
func (l *liveService) feed(runID int64) *scanFeed {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.feeds[runID]
}

// end closes a feed with the run as stored, and forgets it after a while.
func (l *liveService) end(f *scanFeed, done inventory.ScanRun) {
	f.mu.Lock()
	if !f.ended {
		f.progress.Phase = phaseEnded
		f.progress.Status = done.Status
		f.progress.Error = done.Error
		f.progress.Recorded = max(f.progress.Recorded, done.Stats.Recorded)
		if !done.Finished.IsZero() {
			f.progress.Elapsed = done.Finished.Sub(done.Started).Seconds()
		}
		f.ended = true
		close(f.changed)
	}
	f.mu.Unlock()
	time.AfterFunc(feedLinger, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.feeds[done.ID] == f {
			delete(l.feeds, done.ID)
		}
	})
}

// sweep records the engine's sweep progress.
func (f *scanFeed) sweep(p discover.Progress) {
	f.update(func(f *scanFeed) {
		f.progress.Phase = phaseSweep
		f.progress.Pass, f.progress.Sent, f.progress.Total = p.Pass, p.Sent, p.Total
		f.progress.Found = max(f.progress.Found, p.Found)
	})
}

// snmp records how far the engine's SNMP probes got. Once every address
// is queued, what is left of the scan is the SNMP phase, and its counts
// are the progress bar.
func (f *scanFeed) snmp(p scan.SNMPProgress) {
	f.update(func(f *scanFeed) {
		f.progress.SNMPDone, f.progress.SNMPTotal = p.Done, p.Queued
		if p.AllQueued {
			f.progress.Phase = phaseSNMP
		}
	})
}

// device records a device the scan stored under id.
func (f *scanFeed) device(id int64, d scan.Device) {
	f.update(func(f *scanFeed) {
		if f.progress.Phase == phaseStarting {
			f.progress.Phase = phaseSweep
			if f.snmpOnly {
				f.progress.Phase = phaseSNMP
			}
		}
		first := !f.seen[d.IP]
		if first {
			f.progress.Recorded++
			f.seen[d.IP] = true
		}
		if d.SNMP != nil && first {
			f.progress.SNMPAnswered++
		}
		name := ""
		if d.SNMP != nil {
			name = d.SNMP.SysName
		}
		if name == "" && len(d.Hostnames) > 0 {
			name = d.Hostnames[0]
		}
		if first && len(f.devices) < feedDevicesKept {
			f.devices = append(f.devices, LiveDevice{ID: id, IP: d.IP, MAC: d.MAC, Name: name, Vendor: d.Vendor,
				Category: d.Category, SNMP: d.SNMP != nil})
		}
	})
}

// phase moves the feed to another phase.
func (f *scanFeed) phase(p string) {
	f.update(func(f *scanFeed) { f.progress.Phase = p })
}

// sweepProgressKey carries the sweep progress callback of a scan in its
// context, as net/http/httptrace carries a request's trace hooks: the
// ScanFunc signature stays as it is, and a ScanFunc that ignores it only
// loses the progress bar.
type sweepProgressKey struct{}

// SweepProgress returns the callback a ScanFunc should set as
// discover.Options.Progress for the scan running under ctx, so that the
// UI can show how far the sweep got; nil when nobody listens.
func SweepProgress(ctx context.Context) func(discover.Progress) {
	fn, _ := ctx.Value(sweepProgressKey{}).(func(discover.Progress))
	return fn
}

func withSweepProgress(ctx context.Context, fn func(discover.Progress)) context.Context {
	return context.WithValue(ctx, sweepProgressKey{}, fn)
}

// snmpProgressKey carries the SNMP progress callback as sweepProgressKey
// carries the sweep's.
type snmpProgressKey struct{}

// SNMPProgress returns the callback a ScanFunc should set as
// scan.Config.SNMPProgress for the scan running under ctx, so that the UI
// can show how far the SNMP probes got; nil when nobody listens.
func SNMPProgress(ctx context.Context) func(scan.SNMPProgress) {
	fn, _ := ctx.Value(snmpProgressKey{}).(func(scan.SNMPProgress))
	return fn
}

func withSNMPProgress(ctx context.Context, fn func(scan.SNMPProgress)) context.Context {
	return context.WithValue(ctx, snmpProgressKey{}, fn)
}

// SSE.

const (
	sseHeartbeat = 15 * time.Second
	// ssePollStore is how often a run with no feed (an agent's) is read
	// back from the store.
	ssePollStore = 2 * time.Second
	// sseMaxLife bounds one stream; EventSource reconnects by itself.
	sseMaxLife = time.Hour
)

// apiScanEvents streams a run's progress as server-sent events:
// "progress" (a ScanProgress) whenever it changes, "device" (a
// LiveDevice) for each device stored, and "end" (the stored ScanRun) once
// the run is closed, after which the stream ends. A comment line every 15
// seconds keeps proxies from closing an idle stream.
func (s *Server) apiScanEvents(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	run, err := s.store.ScanRun(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.streamRun(c, run)
}

// apiSubnetScanEvents is apiScanEvents for a subnet's running scan, or its
// latest when none runs (which then ends at once); 404 when it never ran.
func (s *Server) apiSubnetScanEvents(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if _, err := s.store.Subnet(ctx, id); err != nil {
		s.storeError(c, err)
		return
	}
	var run inventory.ScanRun
	if rid := s.runningRun(ctx, id); rid != 0 {
		r, err := s.store.ScanRun(ctx, rid)
		if err != nil {
			s.storeError(c, err)
			return
		}
		run = r
	} else {
		runs, err := s.store.ScanRuns(ctx, id, 1)
		if err != nil {
			s.storeError(c, err)
			return
		}
		if len(runs) == 0 {
			apiError(c, http.StatusNotFound, "this subnet was never scanned")
			return
		}
		run = runs[0]
	}
	s.streamRun(c, run)
}

// sseWriter writes events and flushes each, pushing the write deadline
// forward every time: the real server's WriteTimeout would otherwise cut
// a stream after two minutes.
type sseWriter struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	heartbeat time.Duration
}

func (sw sseWriter) extend() {
	// A writer that cannot set deadlines (httptest's recorder) has none.
	_ = sw.rc.SetWriteDeadline(time.Now().Add(sw.heartbeat + 30*time.Second))
}

func (sw sseWriter) event(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", name, err)
	}
	sw.extend()
	if _, err := fmt.Fprintf(sw.w, "event: %s\ndata: %s\n\n", name, b); err != nil {
		return err
	}
	return sw.rc.Flush()
}

func (sw sseWriter) comment(text string) error {
	sw.extend()
	if _, err := fmt.Fprintf(sw.w, ": %s\n\n", text); err != nil {
		return err
	}
	return sw.rc.Flush()
}

func (s *Server) streamRun(c *gin.Context, run inventory.ScanRun) {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx would otherwise hold events back
	c.Status(http.StatusOK)
	sw := sseWriter{w: c.Writer, rc: http.NewResponseController(c.Writer), heartbeat: s.live.heartbeat}
	// Reconnect slowly: a closed run's stream ends on purpose.
	sw.extend()
	if _, err := fmt.Fprint(c.Writer, "retry: 5000\n\n"); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), sseMaxLife)
	defer cancel()
	// A stopping server ends its streams: http.Server.Shutdown waits for
	// requests, and a stream of an agent's run would otherwise hold it.
	defer context.AfterFunc(s.jobs.ctx, cancel)()
	var err error
	if f := s.live.feed(run.ID); f != nil {
		err = s.streamFeed(ctx, sw, f)
	} else {
		err = s.streamStored(ctx, sw, run)
	}
	if err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		s.log.Debug("scan events stream ended", "run", run.ID, "err", err)
	}
}

// streamFeed follows a feed of the server's own scan to its end.
func (s *Server) streamFeed(ctx context.Context, sw sseWriter, f *scanFeed) error {
	heartbeat := time.NewTicker(sw.heartbeat)
	defer heartbeat.Stop()
	sent := 0
	var last ScanProgress
	first := true
	for {
		p, devs, ended, changed := f.snapshot(sent)
		for _, d := range devs {
			if err := sw.event("device", d); err != nil {
				return err
			}
		}
		sent += len(devs)
		if first || p != last {
			if err := sw.event("progress", p); err != nil {
				return err
			}
			last, first = p, false
		}
		if ended {
			return s.sendEnd(ctx, sw, p.RunID)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-heartbeat.C:
			if err := sw.comment("heartbeat"); err != nil {
				return err
			}
		case <-changed:
			// Coalesce bursts: a /16 sweep changes many times a second.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// sendEnd sends the stored run as the "end" event.
func (s *Server) sendEnd(ctx context.Context, sw sseWriter, runID int64) error {
	run, err := s.store.ScanRun(ctx, runID)
	if err != nil {
		return err
	}
	return sw.event("end", run)
}

// streamStored follows a run the server does not run itself (an agent's,
// a satellite's), or one already closed, by reading it back from the
// store: its state and its count of devices recorded.
func (s *Server) streamStored(ctx context.Context, sw sseWriter, run inventory.ScanRun) error {
	poll := time.NewTicker(ssePollStore)
	defer poll.Stop()
	heartbeat := time.NewTicker(sw.heartbeat)
	defer heartbeat.Stop()
	var last ScanProgress
	for {
		if run.Status != inventory.ScanRunning {
			p := storedProgress(run, s.opts.Now())
			p.Phase = phaseEnded
			if err := sw.event("progress", p); err != nil {
				return err
			}
			return sw.event("end", run)
		}
		if p := storedProgress(run, s.opts.Now()); p != last {
			if err := sw.event("progress", p); err != nil {
				return err
			}
			last = p
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-heartbeat.C:
			if err := sw.comment("heartbeat"); err != nil {
				return err
			}
		case <-poll.C:
			// The run may have moved to the server's own runner since.
			if f := s.live.feed(run.ID); f != nil {
				return s.streamFeed(ctx, sw, f)
			}
			r, err := s.store.ScanRun(ctx, run.ID)
			if err != nil {
				return err
			}
			run = r
		}
	}
}

func storedProgress(run inventory.ScanRun, now time.Time) ScanProgress {
	p := ScanProgress{RunID: run.ID, SubnetID: run.SubnetID, Scanner: run.Scanner, Phase: phaseRemote,
		Total: run.Stats.Addresses, Found: run.Stats.Responders, Recorded: run.Stats.Recorded,
		SNMPAnswered: run.Stats.SNMPAnswered, Status: run.Status, Error: run.Error, Started: run.Started}
	end := run.Finished
	if end.IsZero() {
		end = now
	}
	p.Elapsed = end.Sub(run.Started).Seconds()
	return p
}
