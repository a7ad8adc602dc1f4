package discover

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// clock is the time source of the pass engine, so tests can run sweeps in
// a synctest bubble or on a fake clock.
type clock interface {
	Now() time.Time
	// After returns a channel that receives once d has elapsed.
	After(d time.Duration) (<-chan time.Time, func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) After(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// sleep waits for d on c, or until ctx ends.
func sleep(ctx context.Context, c clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	ch, stop := c.After(d)
	defer stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Tuning of the adaptive wait. The wait after a pass is rttFactor times
// the 99th percentile RTT seen so far, at least minWait and at most
// Options.Timeout. Until a first reply arrives nothing is known, so the
// full timeout is waited.
const (
	rttFactor  = 4
	minWait    = 50 * time.Millisecond
	rttSamples = 2048 // most recent samples kept for the percentile
)

// rttStats keeps the latest RTT samples for a percentile.
type rttStats struct {
	samples []time.Duration
	next    int
}

func (r *rttStats) add(d time.Duration) {
	if len(r.samples) < rttSamples {
		r.samples = append(r.samples, d)
		return
	}
	r.samples[r.next] = d
	r.next = (r.next + 1) % rttSamples
}

// p99 returns the 99th percentile sample, 0 without samples.
func (r *rttStats) p99() time.Duration {
	if len(r.samples) == 0 {
		return 0
	}
	s := slices.Clone(r.samples)
	slices.Sort(s)
	return s[(len(s)*99)/100]
}

// passEngine runs the passes of a probe-and-listen method (ARP, ICMP): the
// method sends one probe per call to send and feeds replies to reply from
// its reader goroutine. The engine owns order, pacing, retries and when to
// stop waiting.
type passEngine struct {
	addrs   []uint32 // sorted
	send    func(ctx context.Context, i int) error
	limiter *rate.Limiter
	clock   clock
	retries int
	timeout time.Duration // cap of every wait
	rng     *rand.Rand
	log     *slog.Logger // nil: silent
	name    string       // "arp on eth0", "icmp", for the log

	// confirm, when set, re-probes an address that has answered, cheaply
	// (ARP: a request unicast to the MAC it answered with, which no switch
	// floods). See measureLoss.
	confirm func(ctx context.Context, i int) error
	// dropped, when set, reports answers known lost on the way in (kernel
	// socket drops during a burst). Then retries are never skipped:
	// loss probes sent after the pass cannot see loss the pass caused.
	dropped func() bool

	wake chan struct{} // poked on every first answer

	mu         sync.Mutex
	base       time.Time
	sentAt     []int64 // latest probe of each address, ns after base plus 1; 0 = never
	sends      []uint8
	answered   []bool
	unanswered int
	lastNew    time.Time
	rtts       rttStats

	lastPassNew int // answers first seen during the last pass

	confirming map[int]bool // loss probes awaiting their answer
	lossProbes int          // loss probes sent
	lossLost   int          // loss probes never answered
	skipped    int          // silent addresses not retried because no loss was measured

	pass    atomic.Int64
	sent    atomic.Int64 // probes sent in the current pass
	total   atomic.Int64 // probes sent in all passes
	replies atomic.Int64 // replies, duplicates included
}

func newPassEngine(addrs []uint32, lim *rate.Limiter, c clock, retries int, timeout time.Duration, seed uint64) *passEngine {
	return &passEngine{
		addrs:      addrs,
		limiter:    lim,
		clock:      c,
		retries:    retries,
		timeout:    timeout,
		rng:        rand.New(rand.NewPCG(seed, seed>>1|1)),
		wake:       make(chan struct{}, 1),
		base:       c.Now(),
		sentAt:     make([]int64, len(addrs)),
		sends:      make([]uint8, len(addrs)),
		answered:   make([]bool, len(addrs)),
		unanswered: len(addrs),
	}
}

// index finds a in the sweep.
func (e *passEngine) index(a netip.Addr) (int, bool) {
	if !a.Is4() {
		return 0, false
	}
	return slices.BinarySearch(e.addrs, u32(a))
}

// reply records an answer for address i received at t. It returns the RTT
// to the latest probe of i and whether this is i's first answer.
func (e *passEngine) reply(i int, t time.Time) (time.Duration, bool) {
	e.replies.Add(1)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.answered[i] {
		if e.confirming[i] {
			delete(e.confirming, i)
			e.poke()
		}
		return 0, false
	}
	var rtt time.Duration
	if e.sentAt[i] != 0 {
		rtt = max(t.Sub(e.base)-time.Duration(e.sentAt[i]-1), 0)
		// Karn: after a retry we cannot tell which probe is answered, so
		// only single-probe answers teach us the RTT.
		if e.sends[i] == 1 {
			e.rtts.add(rtt)
		}
	}
	e.answered[i] = true
	e.unanswered--
	e.lastNew = t
	e.poke()
	return rtt, true
}

func (e *passEngine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// window is how long to wait for stragglers after the last probe.
func (e *passEngine) window() time.Duration {
	p := e.rtts.p99()
	if p == 0 {
		return e.timeout
	}
	return min(max(rttFactor*p, minWait), e.timeout)
}

// runWithReader runs the passes while read, on its own goroutine,
// collects replies until the passes are over. wake must make a blocked
// read return: a past read deadline does, without closing the socket,
// which the caller owns. what names the sweep in a read error.
func (e *passEngine) runWithReader(ctx context.Context, what string, read func(stopped *atomic.Bool) error, wake func()) error {
	var (
		stopped atomic.Bool
		wg      sync.WaitGroup
		readErr error
	)
	wg.Go(func() { readErr = read(&stopped) })
	err := e.run(ctx)
	stopped.Store(true)
	wake()
	wg.Wait()
	if err == nil && readErr != nil {
		err = fmt.Errorf("%s: read: %w", what, readErr)
	}
	return err
}

// run sends up to 1+retries passes, each over the addresses that have not
// answered yet, in a new random order, and returns when every address
// answered, the passes are over, a retry pass recovered nobody, or ctx
// ends.
func (e *passEngine) run(ctx context.Context) error {
	for pass := 1; pass <= 1+e.retries; pass++ {
		pending := e.pending()
		if len(pending) == 0 {
			return nil
		}
		if pass > 2 && e.lastPassNew == 0 {
			// The previous retry pass recovered nobody: what is left is
			// not there, rather than lost (the chance to lose a host's
			// answer twice in a row is the square of the loss rate).
			if e.log != nil {
				e.log.Debug("retry pass found nobody new, not retrying again", "method", e.name, "pass", pass-1)
			}
			return nil
		}
		if pass == 2 && e.confirm != nil && len(pending) >= lossProbeMinSilent && (e.dropped == nil || !e.dropped()) {
			lost, probed, err := e.measureLoss(ctx)
			if err != nil {
				return err
			}
			if probed > 0 && lost == 0 {
				e.skipped = len(pending)
				if e.log != nil {
					e.log.Debug("no loss measured: not retrying silent addresses", "method", e.name, "loss_probes", probed, "silent", len(pending))
				}
				return nil
			}
		}
		before := len(e.addrs) - len(pending)
		e.rng.Shuffle(len(pending), func(a, b int) { pending[a], pending[b] = pending[b], pending[a] })
		e.pass.Store(int64(pass))
		e.sent.Store(0)
		for _, i := range pending {
			if e.isAnswered(i) {
				continue
			}
			if err := e.pace(ctx); err != nil {
				return err
			}
			e.mu.Lock()
			e.sentAt[i] = int64(e.clock.Now().Sub(e.base)) + 1
			if e.sends[i] < 255 {
				e.sends[i]++
			}
			e.mu.Unlock()
			if err := e.send(ctx, i); err != nil {
				return err
			}
			e.sent.Add(1)
			e.total.Add(1)
		}
		err := e.waitQuiet(ctx, e.clock.Now())
		e.mu.Lock()
		answered, window := len(e.addrs)-e.unanswered, e.window()
		e.mu.Unlock()
		e.lastPassNew = answered - before
		if e.log != nil {
			e.log.Debug("pass done", "method", e.name, "pass", pass, "sent", e.sent.Load(), "answered", answered, "of", len(e.addrs), "wait", window)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Loss measurement. A retry pass exists to recover hosts whose probe or
// answer was lost; on a sparse range almost every silent address is simply
// empty, and retrying it costs a broadcast flooded to every port of the
// segment. So before retrying many silent addresses the engine re-probes a
// random sample of responders, which costs no flooding: if not one of
// those answers is lost, the link is not losing answers and the retry pass
// would recover nothing. With lossProbeSample probes, a link losing 1% of
// round trips shows at least one loss with probability 1-0.99^1024 > 0.9999.
const (
	lossProbeMinSilent    = 1024 // fewer silent addresses are cheaper to retry than to reason about
	lossProbeSample       = 1024
	lossProbeMinResponses = 64 // fewer responders say too little about the link
)

// measureLoss re-probes a sample of the addresses that answered and
// returns how many of those probes went unanswered. probed is 0 when too
// few addresses answered to measure anything.
func (e *passEngine) measureLoss(ctx context.Context) (lost, probed int, err error) {
	e.mu.Lock()
	var sample []int
	for i, ok := range e.answered {
		if ok {
			sample = append(sample, i)
		}
	}
	e.mu.Unlock()
	if len(sample) < lossProbeMinResponses {
		return 0, 0, nil
	}
	e.rng.Shuffle(len(sample), func(a, b int) { sample[a], sample[b] = sample[b], sample[a] })
	sample = sample[:min(len(sample), lossProbeSample)]
	e.mu.Lock()
	e.confirming = make(map[int]bool, len(sample))
	for _, i := range sample {
		e.confirming[i] = true
	}
	e.mu.Unlock()
	for _, i := range sample {
		if err := e.pace(ctx); err != nil {
			return 0, 0, err
		}
		if err := e.confirm(ctx, i); err != nil {
			return 0, 0, err
		}
	}
	if err := e.waitConfirmed(ctx, e.clock.Now()); err != nil {
		return 0, 0, err
	}
	e.mu.Lock()
	lost = len(e.confirming)
	e.confirming = nil
	e.lossProbes += len(sample)
	e.lossLost += lost
	e.mu.Unlock()
	if e.log != nil {
		e.log.Debug("loss measured", "method", e.name, "probes", len(sample), "lost", lost)
	}
	return lost, len(sample), nil
}

// lossStats returns the loss probes sent, those lost, and the silent
// addresses not retried because no loss was measured.
func (e *passEngine) lossStats() (probes, lost, skipped int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lossProbes, e.lossLost, e.skipped
}

// waitConfirmed waits until every loss probe is answered or one
// RTT-derived window has passed since the last probe.
func (e *passEngine) waitConfirmed(ctx context.Context, lastSend time.Time) error {
	return e.waitFor(ctx, func() (bool, time.Time) {
		return len(e.confirming) == 0, lastSend.Add(e.window())
	})
}

func (e *passEngine) pace(ctx context.Context) error {
	if e.limiter == nil {
		return ctx.Err()
	}
	r := e.limiter.ReserveN(e.clock.Now(), 1)
	if !r.OK() {
		return ctx.Err()
	}
	return sleep(ctx, e.clock, r.DelayFrom(e.clock.Now()))
}

// waitQuiet waits until every address answered, or nothing new arrived for
// one RTT-derived window after the later of the last probe and the last
// new answer, and never longer than the timeout after the last probe.
func (e *passEngine) waitQuiet(ctx context.Context, lastSend time.Time) error {
	hardStop := lastSend.Add(e.timeout)
	return e.waitFor(ctx, func() (bool, time.Time) {
		from := lastSend
		if e.lastNew.After(from) {
			from = e.lastNew
		}
		deadline := from.Add(e.window())
		if deadline.After(hardStop) {
			deadline = hardStop
		}
		return e.unanswered == 0, deadline
	})
}

// waitFor waits until check, run under e.mu, says done or its deadline
// passes; it checks again whenever an answer arrives, since answers move
// deadlines.
func (e *passEngine) waitFor(ctx context.Context, check func() (done bool, deadline time.Time)) error {
	for {
		e.mu.Lock()
		done, deadline := check()
		e.mu.Unlock()
		if done {
			return nil
		}
		d := deadline.Sub(e.clock.Now())
		if d <= 0 {
			return ctx.Err()
		}
		ch, stop := e.clock.After(d)
		select {
		case <-ch:
		case <-e.wake:
		case <-ctx.Done():
			stop()
			return ctx.Err()
		}
		stop()
	}
}

func (e *passEngine) pending() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := make([]int, 0, e.unanswered)
	for i, ok := range e.answered {
		if !ok {
			p = append(p, i)
		}
	}
	return p
}

func (e *passEngine) isAnswered(i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.answered[i]
}

// newLimiter paces probes at pps with a burst of 10 ms worth of probes:
// enough to absorb timer slack, too little to flood weak devices.
func newLimiter(pps int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(pps), max(1, pps/100))
}
