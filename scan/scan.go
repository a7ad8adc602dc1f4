package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

// Prober asks one address over SNMP what it is.
type Prober interface {
	Probe(ctx context.Context, addr netip.Addr) (*snmp.Answer, error)
}

// Classifier decides what a device is.
type Classifier interface {
	Classify(typing.Input) typing.Result
}

// DefaultSNMPConcurrency bounds simultaneous SNMP probes: one UDP socket
// each, and enough to hide per-device latency on a /24 without flooding.
const DefaultSNMPConcurrency = 64

// Config describes one scan.
type Config struct {
	Targets  []discover.Target
	Discover discover.Options
	// Prober is nil when SNMP is off (--no-snmp).
	Prober Prober
	// Classifier types every device; required.
	Classifier      Classifier
	SNMPConcurrency int // default DefaultSNMPConcurrency
	// Passive, when positive, listens for ARP and DHCP on
	// Discover.Interface for this long, starting with the sweep, and adds
	// hosts inside the targets that never answered a probe.
	Passive time.Duration
	Logger  *slog.Logger

	// Device, when set, is called for each device as soon as it is
	// classified, from one goroutine at a time, with what is known then.
	// The Report is authoritative: it adds reverse DNS names and replies
	// that arrived after the device was first seen.
	Device func(Device)

	// SNMPProgress, when set with a Prober, is called with how far the
	// SNMP probes got: at most every SNMPProgressInterval while the counts
	// change, from one goroutine at a time that the probes never wait on.
	// The last call, before Run returns, has AllQueued set and Done ==
	// Queued, even when the scan was cancelled. For method snmp, whose
	// sweep only lists the addresses, the first call comes once all of
	// them are queued, so Queued is the total from the start.
	SNMPProgress func(SNMPProgress)
}

// SNMPProgress counts the SNMP probes of a scan.
type SNMPProgress struct {
	Queued   int // addresses queued for a probe so far
	Done     int // of them, probes finished: answered, failed, or abandoned because the scan stopped
	Answered int // of them, probes that got an answer
	// AllQueued says the sweep (and passive listening) ended: Queued will
	// not grow, and Done/Queued is how far the rest of the scan got.
	AllQueued bool
}

// SNMPProgressInterval is how often at most Config.SNMPProgress is
// called: a /16 finishes thousands of probes a second, and a progress bar
// needs a few updates a second.
const SNMPProgressInterval = 250 * time.Millisecond

// Run scans cfg.Targets. On cancellation or a mid-scan failure it returns
// the report of what was found so far (Incomplete set) together with the
// error, so callers can still keep it.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Classifier == nil {
		return nil, errors.New("scan: no classifier configured")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	concurrency := cfg.SNMPConcurrency
	if concurrency <= 0 {
		concurrency = DefaultSNMPConcurrency
	}
	p := &pipeline{cfg: cfg, logger: logger, queued: map[netip.Addr]bool{}, answers: map[netip.Addr]probeOutcome{},
		classified: map[netip.Addr]classified{}}
	p.idle = sync.NewCond(&p.mu)
	started := time.Now()

	probeCtx, stopProbes := context.WithCancel(ctx)
	defer stopProbes()
	queue := make(chan discover.Host, 1024)
	var workers sync.WaitGroup
	if cfg.Prober != nil {
		for range concurrency {
			workers.Go(func() { p.probeWorker(probeCtx, queue) })
		}
	}
	var reporter sync.WaitGroup
	stopReporting := make(chan struct{})
	if cfg.Prober != nil && cfg.SNMPProgress != nil {
		reporter.Go(func() { p.reportSNMP(stopReporting) })
	}
	enqueue := func(h discover.Host) {
		if !p.markQueued(h.IP) {
			return
		}
		if cfg.Prober == nil {
			p.finish(h, probeOutcome{}, false)
			return
		}
		// The sweep calls Found from its own goroutine; never block it
		// on slow SNMP workers.
		select {
		case queue <- h:
		default:
			go func() {
				select {
				case queue <- h:
				case <-probeCtx.Done():
					p.finish(h, probeOutcome{err: probeCtx.Err()}, true)
				}
			}()
		}
	}

	var passive passiveListener
	if cfg.Passive > 0 {
		passive.start(ctx, cfg, logger)
	}

	opts := cfg.Discover
	opts.Logger = logger
	userFound := opts.Found
	opts.Found = func(h discover.Host) {
		if userFound != nil {
			userFound(h)
		}
		enqueue(h)
	}
	sweep, sweepErr := discover.Sweep(ctx, cfg.Targets, opts)
	if sweep == nil {
		sweep = &discover.Result{Started: started, Method: opts.Method}
	}
	sweepDone := time.Now()

	hosts := sweep.Hosts
	if cfg.Passive > 0 {
		extra, err := passive.wait(ctx, cfg.Targets, sweep)
		if err != nil {
			sweep.Warnings = append(sweep.Warnings, fmt.Sprintf("passive listening: %v", err))
		}
		for _, h := range extra {
			enqueue(h)
		}
		hosts = append(hosts, extra...)
	}
	// Hosts the sweep reported without calling Found still get probed.
	for _, h := range hosts {
		enqueue(h)
	}
	p.mu.Lock()
	p.allQueued = true
	p.mu.Unlock()
	p.queueDone(queue, &workers)
	stopProbes()
	close(stopReporting)
	reporter.Wait()

	report := p.report(started, sweep, hosts, sweepDone)
	var err error
	switch {
	case sweepErr != nil:
		err = fmt.Errorf("sweep: %w", sweepErr)
	case ctx.Err() != nil:
		err = ctx.Err()
	}
	if err != nil {
		report.Incomplete = true
	}
	return report, err
}

type probeOutcome struct {
	answer *snmp.Answer
	err    error
}

type pipeline struct {
	cfg    Config
	logger *slog.Logger
	emitMu sync.Mutex // serialises cfg.Device

	mu      sync.Mutex
	queued  map[netip.Addr]bool
	answers map[netip.Addr]probeOutcome
	// classified keeps each streamed classification, so the report does
	// not classify a device again when its inputs did not change.
	classified map[netip.Addr]classified
	pending    int // enqueued but not yet answered
	answered   int // probes that got an answer
	allQueued  bool
	idle       *sync.Cond
}

// snmpProgress reads the SNMP counts.
func (p *pipeline) snmpProgress() SNMPProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return SNMPProgress{Queued: len(p.queued), Done: len(p.queued) - p.pending, Answered: p.answered, AllQueued: p.allQueued}
}

// reportSNMP calls cfg.SNMPProgress with the counts when they changed, on
// a ticker rather than from the probes, so that a slow callback delays
// only the next report; once stop closes, it reports the final counts.
func (p *pipeline) reportSNMP(stop <-chan struct{}) {
	// Method snmp queues every address while its sweep lists them: a count
	// from then would be a total that still grows.
	wait := p.cfg.Discover.Method == discover.MethodSNMP
	var last SNMPProgress
	report := func() {
		pr := p.snmpProgress()
		if pr == last || (wait && !pr.AllQueued) {
			return
		}
		p.cfg.SNMPProgress(pr)
		last = pr
	}
	tick := time.NewTicker(SNMPProgressInterval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			report()
			return
		case <-tick.C:
			report()
		}
	}
}

func (p *pipeline) markQueued(ip netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queued[ip] {
		return false
	}
	p.queued[ip] = true
	p.pending++
	return true
}

// queueDone waits until every queued address was probed (or the scan was
// cancelled), then stops the workers.
func (p *pipeline) queueDone(queue chan discover.Host, workers *sync.WaitGroup) {
	p.mu.Lock()
	for p.pending > 0 {
		p.idle.Wait()
	}
	p.mu.Unlock()
	close(queue)
	workers.Wait()
}

func (p *pipeline) probeWorker(ctx context.Context, queue <-chan discover.Host) {
	for h := range queue {
		var out probeOutcome
		if ctx.Err() == nil {
			out.answer, out.err = p.cfg.Prober.Probe(ctx, h.IP)
			if out.err != nil {
				p.logger.Debug("snmp probe failed", "ip", h.IP, "err", out.err)
			}
		} else {
			out.err = ctx.Err()
		}
		p.finish(h, out, true)
	}
}

// finish records what the probe of h found and streams the device.
func (p *pipeline) finish(h discover.Host, out probeOutcome, probed bool) {
	p.mu.Lock()
	if probed {
		p.answers[h.IP] = out
	}
	if out.answer != nil {
		p.answered++
	}
	p.pending--
	if p.pending == 0 {
		p.idle.Broadcast()
	}
	p.mu.Unlock()
	if p.cfg.Device == nil {
		return
	}
	d, ok := p.device(h, out, probed)
	if !ok {
		return
	}
	p.emitMu.Lock()
	defer p.emitMu.Unlock()
	p.cfg.Device(d)
}

// device builds and classifies the device for h. It reports false for an
// address that is no device: with no liveness step (method snmp), one that
// did not answer SNMP.
func (p *pipeline) device(h discover.Host, out probeOutcome, probed bool) (Device, bool) {
	d := newDevice(h)
	in := typing.Input{MAC: h.MAC, MACVendor: h.MACVendor}
	snmpOnly := p.cfg.Discover.Method == discover.MethodSNMP
	switch {
	case out.answer != nil:
		d.SNMP = snmpInfo(out.answer)
		d.Evidence = out.answer.Evidence
		in.Evidence = out.answer.Evidence
		d.FoundBy = appendUnique(d.FoundBy, "snmp")
		if out.err != nil {
			d.SNMPError = out.err.Error()
		}
	case snmpOnly:
		return Device{}, false
	case probed && out.err != nil:
		d.SNMPError = out.err.Error()
	}
	d.applyClassification(p.classify(h.IP, in))
	return d, true
}

// classified is one classification and the inputs it was made from.
type classified struct {
	evidence  *snmp.Evidence
	mac       string
	macVendor string
	result    typing.Result
}

// classify types the device at ip, reusing the classification made when
// it was streamed if the inputs are still the same ones.
func (p *pipeline) classify(ip netip.Addr, in typing.Input) typing.Result {
	key := classified{evidence: in.Evidence, mac: in.MAC.String(), macVendor: in.MACVendor}
	p.mu.Lock()
	c, ok := p.classified[ip]
	p.mu.Unlock()
	if ok && c.evidence == key.evidence && c.mac == key.mac && c.macVendor == key.macVendor {
		return c.result
	}
	key.result = p.cfg.Classifier.Classify(in)
	p.mu.Lock()
	p.classified[ip] = key
	p.mu.Unlock()
	return key.result
}

func (p *pipeline) report(started time.Time, sweep *discover.Result, hosts []discover.Host, sweepDone time.Time) *Report {
	r := &Report{
		Started:   started,
		Targets:   targetTokens(p.cfg.Targets),
		Method:    string(sweep.Method),
		Devices:   []Device{},
		Conflicts: []Conflict{},
		ProxyARP:  []ProxyARP{},
		Warnings:  append([]string{}, sweep.Warnings...),
		Stats: ReportStats{
			Addresses:      sweep.Stats.Addresses,
			ProbesSent:     sweep.Stats.Sent,
			SweepPasses:    sweep.Stats.Passes,
			LossProbes:     sweep.Stats.LossProbes,
			LossProbesLost: sweep.Stats.LossProbesLost,
			RetriesSkipped: sweep.Stats.RetriesSkipped,
			SweepMS:        sweepDone.Sub(started).Milliseconds(),
		},
	}
	seen := map[netip.Addr]bool{}
	for _, h := range hosts {
		if seen[h.IP] {
			continue
		}
		seen[h.IP] = true
		out, probed := p.answers[h.IP]
		if probed {
			r.Stats.SNMPProbed++
			if out.answer != nil {
				r.Stats.SNMPAnswered++
			}
		}
		if d, ok := p.device(h, out, probed); ok {
			r.Devices = append(r.Devices, d)
		}
	}
	sortDevices(r.Devices)
	for _, c := range sweep.Conflicts {
		cc := Conflict{IP: c.IP.String()}
		for _, m := range c.MACs {
			cc.MACs = append(cc.MACs, m.String())
		}
		r.Conflicts = append(r.Conflicts, cc)
	}
	for _, pa := range sweep.ProxyARP {
		pp := ProxyARP{MAC: pa.MAC.String()}
		for _, ip := range pa.IPs {
			pp.IPs = append(pp.IPs, ip.String())
		}
		r.ProxyARP = append(r.ProxyARP, pp)
	}
	r.Stats.Responders = len(r.Devices)
	r.DurationMS = time.Since(started).Milliseconds()
	return r
}

func targetTokens(ts []discover.Target) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Token)
	}
	return out
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
