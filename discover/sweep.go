package discover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/mdlayher/packet"
)

// Defaults for zero Options fields.
const (
	DefaultARPRate   = 2000 // requests per second
	DefaultICMPRate  = 500  // echo requests per second
	DefaultTCPRate   = 2000 // connects started per second
	DefaultRetries   = 2
	DefaultTimeout   = 500 * time.Millisecond
	DefaultDNSBudget = 2 * time.Second

	progressEvery = 250 * time.Millisecond
)

func (o Options) withDefaults() Options {
	if o.Method == "" {
		o.Method = MethodAuto
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if len(o.TCPPorts) == 0 {
		o.TCPPorts = DefaultTCPPorts
	}
	if o.DNSBudget <= 0 {
		o.DNSBudget = DefaultDNSBudget
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	return o
}

func (o Options) rate(def int) int {
	if o.Rate > 0 {
		return o.Rate
	}
	return def
}

// ErrTooManyAddresses is wrapped by Sweep's error when the targets exceed
// MaxAddresses and Options.Force is not set.
var ErrTooManyAddresses = errors.New("more than the limit")

// Sweep finds the hosts that answer among targets.
//
// Every socket is opened on the calling goroutine before any worker
// starts, and TCP probe sockets are created by the calling goroutine on
// the workers' behalf, so a caller that locked its OS thread into a
// network namespace sweeps from that namespace.
//
// When ctx ends, Sweep stops promptly and returns what it found so far
// together with ctx.Err(). Other errors come with a nil Result.
func Sweep(ctx context.Context, targets []Target, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	log := opts.Logger
	started := time.Now()
	res := &Result{Started: started, Method: opts.Method}

	ivs := mergeTargets(targets)
	if len(ivs) == 0 {
		return nil, errors.New("sweep: no targets")
	}
	n := CountAddresses(targets)
	if n > MaxAddresses && !opts.Force {
		return nil, fmt.Errorf("sweep: %d addresses: %w of %d per run: split the targets, or force it", n, ErrTooManyAddresses, MaxAddresses)
	}
	if n > hardMaxAddresses {
		return nil, fmt.Errorf("sweep: %d addresses exceed the hard limit of %d (a /8) per run, even when forced", n, hardMaxAddresses)
	}
	links, err := localLinks()
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	p, err := makePlan(ivs, links, opts.Method, opts.Interface)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	res.Warnings = append(res.Warnings, p.warnings...)
	res.Stats.Addresses = len(p.addrs)
	if len(p.skipped) > 0 {
		log.Debug("skipping network and broadcast addresses of attached subnets", "count", len(p.skipped))
	}
	if len(p.addrs) == 0 {
		res.Warnings = append(res.Warnings, "nothing to sweep: the targets hold only network and broadcast addresses of attached subnets")
	}
	col := newCollector(opts.Found)

	if opts.Method == MethodSNMP {
		// No liveness step: the SNMP prober is the probe.
		for _, v := range p.addrs {
			col.seen(addrOf(v), "", nil, 0, "")
		}
		res.Hosts = col.result()
		for i := range res.Hosts {
			res.Hosts[i].FoundBy = nil
		}
		res.Duration = time.Since(started)
		return res, nil
	}

	s, err := openSweep(ctx, p, opts, links, col, res)
	if err != nil {
		return nil, err
	}
	defer s.close()
	log.Info("sweep started", "addresses", len(p.addrs), "method", opts.Method, "arp_links", len(s.arps), "icmp", s.icmp != nil, "tcp", s.tcp != nil)
	runErr := s.run(ctx, opts)
	s.finish(res, col)

	if runErr == nil && !opts.NoDNS {
		if late := reverseDNS(ctx, opts.Resolver, col.addrs(), opts.DNSBudget, col); late > 0 {
			log.Debug("reverse DNS budget exhausted", "unfinished", late, "budget", opts.DNSBudget)
		}
	}
	res.Hosts = col.result()
	res.Duration = time.Since(started)
	for _, w := range res.Warnings {
		log.Warn(w)
	}
	log.Info("sweep done", "found", len(res.Hosts), "sent", res.Stats.Sent, "replies", res.Stats.Replies, "duration", res.Duration)
	if runErr != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return res, ctxErr
		}
		return nil, runErr
	}
	return res, nil
}

// sweepRun holds one sweep's open sockets and methods.
type sweepRun struct {
	arps    []*arpSweep
	pconns  []*packet.Conn
	closers []func() error
	icmp    *icmpSweep
	tcp     *tcpSweep
	sockets *socketFactory
	col     *collector
	total   int // addresses
	routed  int
}

// openSweep opens every socket on the calling goroutine and builds the
// methods. In auto mode a link whose ARP socket needs a privilege we lack
// falls back to ICMP and TCP, and a missing ICMP privilege leaves TCP.
func openSweep(ctx context.Context, p *plan, opts Options, links []link, col *collector, res *Result) (*sweepRun, error) {
	s := &sweepRun{col: col, total: len(p.addrs), sockets: newSocketFactory()}
	fail := func(err error) (*sweepRun, error) {
		s.close()
		return nil, err
	}
	routed := slices.Clone(p.routed)
	seed := rand.Uint64()
	for _, j := range p.arp {
		ifi, err := net.InterfaceByIndex(j.link.Index)
		if err != nil {
			return fail(fmt.Errorf("arp sweep on %s: %w", j.link.Name, err))
		}
		c, pc, err := openARP(ifi)
		if err != nil {
			if opts.Method == MethodAuto && isPrivilege(err) {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%v; sweeping %d addresses on %s with ICMP and TCP instead (no MAC addresses)", err, len(j.addrs), ifi.Name))
				routed = append(routed, j.addrs...)
				continue
			}
			return fail(err)
		}
		s.pconns = append(s.pconns, pc)
		s.closers = append(s.closers, c.Close)
		eng := newPassEngine(j.addrs, newLimiter(opts.rate(DefaultARPRate)), realClock{}, opts.Retries, opts.Timeout, seed)
		eng.log, eng.name = opts.Logger, "arp on "+ifi.Name
		a := &arpSweep{job: j, conn: c, hw: ifi.HardwareAddr, eng: eng, col: col, log: opts.Logger, iface: ifi.Name, stats: pc}
		eng.dropped = a.kernelDropped
		// Our own addresses never answer our requests; the sweep lists them.
		for _, pf := range j.link.Prefixes {
			if i, ok := eng.index(pf.Addr()); ok {
				eng.markAnswered(i)
				col.seen(pf.Addr(), "local", ifi.HardwareAddr, 0, ifi.Name)
			}
		}
		s.arps = append(s.arps, a)
	}
	slices.Sort(routed)
	s.routed = len(routed)
	if len(routed) == 0 {
		return s, nil
	}

	useICMP := opts.Method == MethodICMP || opts.Method == MethodAuto
	useTCP := opts.Method == MethodTCP || opts.Method == MethodAuto
	if useICMP {
		c, raw, err := openICMP()
		switch {
		case err == nil:
			s.closers = append(s.closers, c.Close)
			eng := newPassEngine(routed, newLimiter(opts.rate(DefaultICMPRate)), realClock{}, opts.Retries, opts.Timeout, seed)
			eng.log, eng.name = opts.Logger, "icmp"
			s.icmp = newICMPSweep(c, raw, eng, col)
			if raw {
				opts.Logger.Debug("icmp sweep uses a raw socket")
			} else {
				res.Warnings = append(res.Warnings, "icmp sweep uses an unprivileged ping socket (net.ipv4.ping_group_range): no raw socket without CAP_NET_RAW")
			}
		case opts.Method == MethodAuto && isPrivilege(err):
			res.Warnings = append(res.Warnings, fmt.Sprintf("%v; sweeping routed targets with TCP only", err))
		default:
			return fail(err)
		}
	}
	if useTCP {
		s.tcp = &tcpSweep{
			addrs:       routed,
			ports:       slices.Clone(opts.TCPPorts),
			limiter:     newLimiter(opts.rate(DefaultTCPRate)),
			clock:       realClock{},
			timeout:     opts.Timeout,
			retries:     opts.Retries,
			concurrency: tcpConcurrency(opts.rate(DefaultTCPRate), opts.Timeout),
			sockets:     s.sockets,
			col:         col,
			rng:         rand.New(rand.NewPCG(seed, seed>>3)),
		}
	}
	return s, nil
}

// run runs every method concurrently while the calling goroutine serves
// socket requests and progress reports. The first failure ends the rest.
func (s *sweepRun) run(ctx context.Context, opts Options) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		if err == nil || errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return
		}
		errOnce.Do(func() { firstErr = err; cancel(err) })
	}
	for _, a := range s.arps {
		wg.Go(func() { fail(a.run(ctx)) })
	}
	if s.icmp != nil {
		wg.Go(func() { fail(s.icmp.run(ctx)) })
	}
	if s.tcp != nil {
		wg.Go(func() { fail(s.tcp.run(ctx)) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	var tick <-chan time.Time
	if opts.Progress != nil {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		tick = t.C
	}
	report := func() {
		if opts.Progress != nil {
			opts.Progress(s.progress())
		}
	}
	s.sockets.serve(done, tick, report)
	report()
	if err := context.Cause(ctx); err != nil && firstErr == nil {
		return err
	}
	if firstErr != nil {
		if pe := ctx.Err(); pe != nil && errors.Is(firstErr, context.Canceled) {
			return pe
		}
	}
	return firstErr
}

// progress folds every method's pass into one: ARP and ICMP count
// addresses, TCP counts connects per port, and when ICMP and TCP share the
// routed addresses each counts for half.
func (s *sweepRun) progress() Progress {
	pr := Progress{Total: s.total, Found: s.col.count()}
	for _, a := range s.arps {
		pr.Sent += int(a.eng.sent.Load())
		pr.Pass = max(pr.Pass, int(a.eng.pass.Load()))
	}
	var routedSent, share float64
	if s.icmp != nil {
		routedSent += float64(s.icmp.eng.sent.Load())
		share++
		pr.Pass = max(pr.Pass, int(s.icmp.eng.pass.Load()))
	}
	if s.tcp != nil {
		routedSent += float64(s.tcp.sent.Load()) / float64(len(s.tcp.ports))
		share++
		pr.Pass = max(pr.Pass, int(s.tcp.pass.Load()))
	}
	if share > 0 {
		pr.Sent += int(routedSent / share)
	}
	pr.Sent = min(pr.Sent, pr.Total)
	return pr
}

func (st *Stats) addLoss(e *passEngine) {
	probes, lost, skipped := e.lossStats()
	st.LossProbes += probes
	st.LossProbesLost += lost
	st.RetriesSkipped += skipped
}

// finish moves statistics and findings into res.
func (s *sweepRun) finish(res *Result, col *collector) {
	st := &res.Stats
	probed := map[string]int{}
	for _, a := range s.arps {
		st.Sent += int(a.eng.total.Load())
		st.Replies += int(a.eng.replies.Load())
		st.Passes = max(st.Passes, int(a.eng.pass.Load()))
		st.addLoss(a.eng)
		probed[a.hw.String()] += len(a.eng.addrs)
		if n := a.sendErrors.Load(); n > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("arp sweep on %s: %d requests dropped by a full transmit queue: lower the rate", a.iface, n))
		}
	}
	for _, a := range s.arps {
		if drops := a.kernelDrops(); drops > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"arp sweep on %s: the kernel dropped %d ARP replies (socket buffer overrun): results may be incomplete, lower the rate", a.iface, drops))
		}
	}
	if s.icmp != nil {
		st.Sent += int(s.icmp.eng.total.Load())
		st.Replies += int(s.icmp.eng.replies.Load())
		st.Passes = max(st.Passes, int(s.icmp.eng.pass.Load()))
		st.addLoss(s.icmp.eng)
		if n := s.icmp.sendErrors.Load(); n > 0 {
			err, _ := s.icmp.lastErr.Load().(error)
			res.Warnings = append(res.Warnings, fmt.Sprintf("icmp sweep: %d echo requests could not be sent (last: %v)", n, err))
		}
	}
	if s.tcp != nil {
		st.Sent += int(s.tcp.total.Load())
		st.Replies += int(s.tcp.replies.Load())
		st.Passes = max(st.Passes, int(s.tcp.pass.Load()))
		res.Warnings = append(res.Warnings, s.tcp.warnings()...)
	}
	switch {
	case len(s.arps) > 0 && (s.icmp != nil || s.tcp != nil):
		// Mixed: report auto, the hosts' FoundBy tells which answered.
	case len(s.arps) > 0:
		res.Method = MethodARP
	case s.icmp != nil && s.tcp != nil:
		// auto on routed targets: both.
	case s.icmp != nil:
		res.Method = MethodICMP
	case s.tcp != nil:
		res.Method = MethodTCP
	}
	// A MAC is judged against the most addresses probed on one link.
	most := 0
	for _, v := range probed {
		most = max(most, v)
	}
	conflicts, proxies, warnings := col.arpFindings(most)
	res.Conflicts, res.ProxyARP = conflicts, proxies
	res.Warnings = append(res.Warnings, warnings...)
}

func (s *sweepRun) close() {
	for _, c := range s.closers {
		_ = c()
	}
}

// isPrivilege reports whether err is a missing privilege, which auto
// mode works around.
func isPrivilege(err error) bool {
	var pe *PrivilegeError
	return errors.As(err, &pe)
}

// markAnswered takes address i out of the probing without an RTT.
func (e *passEngine) markAnswered(i int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.answered[i] {
		e.answered[i] = true
		e.unanswered--
	}
}
