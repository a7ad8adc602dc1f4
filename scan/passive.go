package scan

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"sync"

	"github.com/lanscout/lanscout/discover"
)

// passiveListener records hosts seen in ARP and DHCP traffic while a sweep
// runs, to report the ones that never answered a probe.
type passiveListener struct {
	done  chan struct{}
	mu    sync.Mutex
	hosts map[netip.Addr]discover.Host
	err   error
}

func (l *passiveListener) start(ctx context.Context, cfg Config, logger *slog.Logger) {
	l.done = make(chan struct{})
	l.hosts = map[netip.Addr]discover.Host{}
	lctx, cancel := context.WithTimeout(ctx, cfg.Passive)
	go func() {
		defer close(l.done)
		defer cancel()
		err := discover.Listen(lctx, cfg.Discover.Interface, logger, func(h discover.Host) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if old, ok := l.hosts[h.IP]; ok {
				for _, by := range h.FoundBy {
					old.FoundBy = appendUnique(old.FoundBy, by)
				}
				old.Hostnames = mergeNames(old.Hostnames, h.Hostnames)
				h = old
			}
			l.hosts[h.IP] = h
		})
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			l.err = err
		}
	}()
}

// wait blocks until the listening period is over and returns the hosts
// seen passively inside targets (all of them when there are no targets)
// that the sweep did not find.
func (l *passiveListener) wait(ctx context.Context, targets []discover.Target, sweep *discover.Result) ([]discover.Host, error) {
	select {
	case <-l.done:
	case <-ctx.Done():
		<-l.done
	}
	found := map[netip.Addr]bool{}
	for _, h := range sweep.Hosts {
		found[h.IP] = true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var extra []discover.Host
	for ip, h := range l.hosts {
		if found[ip] || (len(targets) > 0 && !inTargets(ip, targets)) {
			continue
		}
		extra = append(extra, h)
	}
	slices.SortFunc(extra, func(a, b discover.Host) int { return a.IP.Compare(b.IP) })
	return extra, l.err
}

func inTargets(ip netip.Addr, targets []discover.Target) bool {
	for _, t := range targets {
		if t.Prefix.IsValid() {
			if t.Prefix.Contains(ip) {
				return true
			}
			continue
		}
		if t.First.Compare(ip) <= 0 && ip.Compare(t.Last) <= 0 {
			return true
		}
	}
	return false
}

func mergeNames(a, b []string) []string {
	for _, n := range b {
		if !slices.Contains(a, n) {
			a = append(a, n)
		}
	}
	slices.Sort(a)
	return a
}
