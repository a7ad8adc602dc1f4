package discover

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/time/rate"
)

// socketFactory creates TCP sockets on the goroutine that serves it. Sweep
// serves it from its calling goroutine, so a caller that locked its thread
// into a network namespace gets every probe socket from that namespace,
// while connects run on worker goroutines.
type socketFactory struct {
	reqs chan chan sockResult
}

type sockResult struct {
	fd  int
	err error
}

func newSocketFactory() *socketFactory { return &socketFactory{reqs: make(chan chan sockResult)} }

// socket asks the serving goroutine for a socket.
func (f *socketFactory) socket(ctx context.Context) (int, error) {
	if f == nil {
		return newTCPSocket()
	}
	ch := make(chan sockResult, 1)
	select {
	case f.reqs <- ch:
	case <-ctx.Done():
		return -1, ctx.Err()
	}
	r := <-ch
	return r.fd, r.err
}

// serve answers socket requests until done is closed.
func (f *socketFactory) serve(done <-chan struct{}, tick <-chan time.Time, onTick func()) {
	for {
		select {
		case ch := <-f.reqs:
			fd, err := newTCPSocket()
			ch <- sockResult{fd, err}
		case <-tick:
			onTick()
		case <-done:
			return
		}
	}
}

// tcpOutcome is what one connect learned.
type tcpOutcome int

const (
	tcpSilent  tcpOutcome = iota // timeout, unreachable: no proof of life
	tcpOpen                      // handshake completed
	tcpRefused                   // RST: the host is there, the port is closed
)

// tcpConnect connects fd to dst and reports the outcome. It never sends
// data; an open connection is closed at once with a FIN.
func tcpConnect(ctx context.Context, fd int, dst netip.AddrPort, timeout time.Duration) (tcpOutcome, error) {
	sa := &unix.SockaddrInet4{Port: int(dst.Port()), Addr: dst.Addr().As4()}
	err := unix.Connect(fd, sa)
	switch {
	case err == nil:
		unix.Close(fd)
		return tcpOpen, nil
	case errors.Is(err, unix.ECONNREFUSED):
		unix.Close(fd)
		return tcpRefused, nil
	case !errors.Is(err, unix.EINPROGRESS):
		unix.Close(fd)
		return tcpSilent, err
	}
	// The runtime poller waits for the connect to finish.
	f := os.NewFile(uintptr(fd), "tcp-probe")
	defer f.Close()
	if err := f.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return tcpSilent, err
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return tcpSilent, err
	}
	var soErr int
	werr := rc.Write(func(fd uintptr) bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		if n, _ := unix.Poll(pfd, 0); n == 0 {
			return false // still connecting
		}
		soErr, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		return true
	})
	if werr != nil {
		if errors.Is(werr, os.ErrDeadlineExceeded) {
			if ctx.Err() != nil {
				return tcpSilent, ctx.Err()
			}
			return tcpSilent, nil
		}
		return tcpSilent, werr
	}
	if err != nil {
		return tcpSilent, err
	}
	switch unix.Errno(soErr) {
	case 0:
		return tcpOpen, nil
	case unix.ECONNREFUSED:
		return tcpRefused, nil
	}
	return tcpSilent, unix.Errno(soErr)
}

// tcpSweep probes ports with connects. Each connect has its own deadline
// (Options.Timeout), so a pass ends when its last connect does.
type tcpSweep struct {
	addrs       []uint32
	ports       []uint16
	limiter     *rate.Limiter
	clock       clock
	timeout     time.Duration
	retries     int
	concurrency int
	sockets     *socketFactory
	col         *collector
	rng         *rand.Rand

	pass    atomic.Int64
	sent    atomic.Int64 // connects started in this pass
	total   atomic.Int64
	replies atomic.Int64

	mu       sync.Mutex
	alive    []bool
	firstErr error
	errCount int
}

// run probes every port of every address in the first pass, then only
// addresses that never answered on any port, until a retry pass recovers
// nobody.
func (s *tcpSweep) run(ctx context.Context) error {
	s.alive = make([]bool, len(s.addrs))
	sem := make(chan struct{}, s.concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	lastPending := -1
	for pass := 1; pass <= 1+s.retries; pass++ {
		var pending []int
		s.mu.Lock()
		for i, ok := range s.alive {
			if !ok {
				pending = append(pending, i)
			}
		}
		s.mu.Unlock()
		if len(pending) == 0 {
			return nil
		}
		if pass > 2 && len(pending) == lastPending {
			return nil // the previous retry pass recovered nobody
		}
		lastPending = len(pending)
		s.rng.Shuffle(len(pending), func(a, b int) { pending[a], pending[b] = pending[b], pending[a] })
		s.pass.Store(int64(pass))
		s.sent.Store(0)
		// Ports in the outer loop spread each host's probes over the pass.
		for _, port := range s.ports {
			for _, i := range pending {
				if err := s.pace(ctx); err != nil {
					return err
				}
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return ctx.Err()
				}
				s.sent.Add(1)
				s.total.Add(1)
				wg.Go(func() {
					defer func() { <-sem }()
					s.probe(ctx, i, port)
				})
			}
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (s *tcpSweep) pace(ctx context.Context) error {
	r := s.limiter.ReserveN(s.clock.Now(), 1)
	if !r.OK() {
		return ctx.Err()
	}
	return sleep(ctx, s.clock, r.DelayFrom(s.clock.Now()))
}

func (s *tcpSweep) probe(ctx context.Context, i int, port uint16) {
	fd, err := s.sockets.socket(ctx)
	if err != nil {
		s.noteErr(err)
		return
	}
	ip := addrOf(s.addrs[i])
	start := time.Now()
	out, err := tcpConnect(ctx, fd, netip.AddrPortFrom(ip, port), s.timeout)
	rtt := time.Since(start)
	if err != nil && ctx.Err() == nil && !isUnreachable(err) {
		s.noteErr(err)
	}
	if out == tcpSilent {
		return
	}
	s.replies.Add(1)
	s.mu.Lock()
	s.alive[i] = true
	s.mu.Unlock()
	s.col.seen(ip, "tcp/"+strconv.Itoa(int(port)), nil, rtt, "")
	if out == tcpOpen {
		s.col.openPort(ip, port)
	}
}

func isUnreachable(err error) bool {
	return errors.Is(err, unix.EHOSTUNREACH) || errors.Is(err, unix.ENETUNREACH) || errors.Is(err, unix.ETIMEDOUT)
}

func (s *tcpSweep) noteErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errCount++
	if s.firstErr == nil {
		s.firstErr = err
	}
}

func (s *tcpSweep) warnings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errCount == 0 {
		return nil
	}
	return []string{fmt.Sprintf("tcp sweep: %d connects failed locally (first: %v)", s.errCount, s.firstErr)}
}

// tcpConcurrency bounds connects in flight. Each holds a descriptor and
// an ephemeral port for up to timeout, so sustaining pps connects per
// second takes pps × timeout of them (Little's law); a quarter of the
// descriptor limit and 4096 cap it.
func tcpConcurrency(pps int, timeout time.Duration) int {
	n := int(float64(pps)*timeout.Seconds()*1.1) + 1
	limit := 4096
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur > 0 && uint64(rl.Cur)/4 < uint64(limit) {
		limit = max(16, int(rl.Cur/4))
	}
	return min(max(n, 16), limit)
}
