package discover

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Target is one token of a target list, resolved to an inclusive range of
// IPv4 addresses.
type Target struct {
	Token  string       // the token as given, trimmed
	Prefix netip.Prefix // the masked network for CIDR tokens; zero otherwise
	First  netip.Addr
	Last   netip.Addr
}

// hardMaxAddresses bounds a run even with Options.Force: per-address state
// is kept in memory (4 bytes per address for the order, a bit for the
// answer), so a /8 is the most one process sweeps.
const hardMaxAddresses = 1 << 24

// ParseTargets parses target tokens: CIDRs ("10.0.0.0/24", host bits are
// masked off), single addresses, ranges ("10.0.0.10-10.0.0.50" or the
// short form "10.0.0.10-50"). A token may hold several targets separated
// by commas. Only IPv4 is supported.
func ParseTargets(tokens []string) ([]Target, error) {
	var ts []Target
	for _, tok := range tokens {
		for part := range strings.SplitSeq(tok, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			t, err := parseTarget(part)
			if err != nil {
				return nil, fmt.Errorf("bad target %q: %w", part, err)
			}
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return nil, errors.New("no targets given")
	}
	return ts, nil
}

var errIPv6 = errors.New("IPv6 targets are not supported yet")

func parseTarget(s string) (Target, error) {
	switch {
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Target{}, cidrError(s, err)
		}
		if p.Addr().Zone() != "" || !p.Addr().Is4() {
			return Target{}, errIPv6
		}
		p = p.Masked()
		return Target{Token: s, Prefix: p, First: p.Addr(), Last: lastAddr(p)}, nil

	case strings.Contains(s, "-"):
		lo, hi, _ := strings.Cut(s, "-")
		first, err := parseIPv4(strings.TrimSpace(lo))
		if err != nil {
			return Target{}, err
		}
		hi = strings.TrimSpace(hi)
		var last netip.Addr
		if !strings.ContainsAny(hi, ".:") {
			// Short form: "10.0.0.10-50" replaces the last octet.
			n, err := strconv.ParseUint(hi, 10, 8)
			if err != nil {
				return Target{}, fmt.Errorf("range end %q is not an address or a last octet (0-255)", hi)
			}
			b := first.As4()
			b[3] = byte(n)
			last = netip.AddrFrom4(b)
		} else if last, err = parseIPv4(hi); err != nil {
			return Target{}, err
		}
		if last.Less(first) {
			return Target{}, fmt.Errorf("range end %s is before its start %s", last, first)
		}
		return Target{Token: s, First: first, Last: last}, nil

	default:
		a, err := parseIPv4(s)
		if err != nil {
			return Target{}, err
		}
		return Target{Token: s, First: a, Last: a}, nil
	}
}

func parseIPv4(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		if strings.Contains(s, ":") {
			return netip.Addr{}, errIPv6
		}
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address, CIDR or range", s)
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	if !a.Is4() {
		return netip.Addr{}, errIPv6
	}
	return a, nil
}

func cidrError(s string, err error) error {
	addr, bits, _ := strings.Cut(s, "/")
	if strings.Contains(addr, ":") {
		return errIPv6
	}
	if _, aerr := netip.ParseAddr(addr); aerr != nil {
		return fmt.Errorf("%q is not an IPv4 address", addr)
	}
	if n, berr := strconv.Atoi(bits); berr != nil || n < 0 || n > 32 {
		return fmt.Errorf("prefix length %q is not 0-32", bits)
	}
	return err
}

// CountAddresses returns the number of distinct addresses the targets
// cover; overlapping targets count once.
func CountAddresses(ts []Target) uint64 {
	var n uint64
	for _, iv := range mergeTargets(ts) {
		n += iv.size()
	}
	return n
}

// interval is an inclusive range of IPv4 addresses as integers.
type interval struct{ lo, hi uint32 }

func (iv interval) size() uint64 { return uint64(iv.hi) - uint64(iv.lo) + 1 }

// mergeTargets returns the targets as sorted, disjoint, non-adjacent
// intervals: the deduplicated address set.
func mergeTargets(ts []Target) []interval {
	ivs := make([]interval, 0, len(ts))
	for _, t := range ts {
		if !t.First.Is4() || !t.Last.Is4() {
			continue
		}
		ivs = append(ivs, interval{u32(t.First), u32(t.Last)})
	}
	slices.SortFunc(ivs, func(a, b interval) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	out := ivs[:0]
	for _, iv := range ivs {
		if n := len(out); n > 0 && uint64(iv.lo) <= uint64(out[n-1].hi)+1 {
			out[n-1].hi = max(out[n-1].hi, iv.hi)
			continue
		}
		out = append(out, iv)
	}
	return out
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrOf(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func lastAddr(p netip.Prefix) netip.Addr {
	return addrOf(u32(p.Masked().Addr()) | hostMask(p.Bits()))
}

func hostMask(bits int) uint32 {
	if bits >= 32 {
		return 0
	}
	return ^uint32(0) >> bits
}
