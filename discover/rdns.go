package discover

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// dnsConcurrency bounds reverse lookups in flight; resolvers rate-limit
// clients that fire thousands of PTR queries at once.
const dnsConcurrency = 32

// reverseDNS looks up PTR names for addrs within budget and stores them
// in col. Lookups still running when the budget ends are abandoned: names
// are a convenience, the sweep result is not held hostage by a slow DNS.
// It returns how many lookups did not finish in time.
func reverseDNS(ctx context.Context, r Resolver, addrs []netip.Addr, budget time.Duration, col *collector) int {
	if len(addrs) == 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	work := make(chan netip.Addr)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		pending = len(addrs)
	)
	for range min(dnsConcurrency, len(addrs)) {
		wg.Go(func() {
			for a := range work {
				names, err := r.LookupAddr(ctx, a.String())
				if ctx.Err() != nil {
					continue
				}
				mu.Lock()
				pending--
				mu.Unlock()
				if err != nil || len(names) == 0 {
					continue
				}
				col.setHostnames(a, cleanNames(names))
			}
		})
	}
feed:
	for _, a := range addrs {
		select {
		case work <- a:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return pending
}

// cleanNames strips the root dot, lowercases, dedupes and sorts.
func cleanNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
