package inventory

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/lanscout/lanscout/discover"
)

// Subnet defaults and limits.
const (
	DefaultGoneAfter = 3
	maxGoneAfter     = 1000
	// hardMaxScanners is the cap on elected scanners per subnet whatever
	// admins set: OCS once elected 84 agents on one VLAN.
	hardMaxScanners = 3
	minEvery        = time.Minute
)

// ParseCIDR parses a subnet in canonical network form. It refuses host bits
// ("10.0.0.5/24") rather than silently masking them, because an admin who
// typed that may have meant another prefix length.
func ParseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: CIDR %q: %v", ErrInvalid, s, err)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%w: CIDR %q: write IPv4 networks in dotted form", ErrInvalid, s)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%w: CIDR %q has host bits set; the network is %s", ErrInvalid, s, m)
	}
	// Bounded so that a device keyed "by IP within the subnet" is
	// meaningful and a sweep stays within the engine's address cap.
	if p.Addr().Is4() && p.Bits() < 16 {
		return netip.Prefix{}, fmt.Errorf("%w: CIDR %q is wider than /16; split it into /16s or narrower", ErrInvalid, s)
	}
	if p.Addr().Is6() && p.Bits() < 64 {
		return netip.Prefix{}, fmt.Errorf("%w: CIDR %q is wider than /64", ErrInvalid, s)
	}
	return p, nil
}

// Normalize checks s and fills its defaults. Stores call it before writing;
// callers may call it to validate a form before submitting it.
func (s *Subnet) Normalize() error {
	p, err := ParseCIDR(s.CIDR)
	if err != nil {
		return err
	}
	s.CIDR = p.String()
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" {
		s.Name = s.CIDR
	}
	if len(s.Name) > 128 {
		return fmt.Errorf("%w: subnet %s: name longer than 128 characters", ErrInvalid, s.CIDR)
	}
	s.Site = strings.TrimSpace(s.Site)
	s.Tags = cleanList(s.Tags)
	s.Credentials = cleanList(s.Credentials)
	switch discover.Method(s.Method) {
	case "":
		s.Method = string(discover.MethodAuto)
	case discover.MethodAuto, discover.MethodARP, discover.MethodICMP, discover.MethodTCP, discover.MethodSNMP:
	default:
		return fmt.Errorf("%w: subnet %s: scan method %q is not one of auto, arp, icmp, tcp, snmp", ErrInvalid, s.CIDR, s.Method)
	}
	switch s.Policy {
	case "":
		s.Policy = ScanAllow
	case ScanAllow, ScanDeny:
	default:
		return fmt.Errorf("%w: subnet %s: policy %q is not allow or deny", ErrInvalid, s.CIDR, s.Policy)
	}
	if err := s.Schedule.validate(); err != nil {
		return fmt.Errorf("subnet %s: %w", s.CIDR, err)
	}
	switch {
	case s.GoneAfter == 0:
		s.GoneAfter = DefaultGoneAfter
	case s.GoneAfter < 0 || s.GoneAfter > maxGoneAfter:
		return fmt.Errorf("%w: subnet %s: gone-after %d is not between 1 and %d scans", ErrInvalid, s.CIDR, s.GoneAfter, maxGoneAfter)
	}
	switch {
	case s.MaxScanners == 0:
		s.MaxScanners = 1
	case s.MaxScanners < 0 || s.MaxScanners > hardMaxScanners:
		return fmt.Errorf("%w: subnet %s: at most %d scanners per subnet, not %d", ErrInvalid, s.CIDR, hardMaxScanners, s.MaxScanners)
	}
	return nil
}

// Prefix returns the subnet's network; s must have been normalised.
func (s Subnet) Prefix() netip.Prefix {
	p, _ := netip.ParsePrefix(s.CIDR)
	return p
}

func (sc Schedule) validate() error {
	if sc.Every != 0 && sc.At != "" {
		return fmt.Errorf("%w: schedule: give an interval or a time of day, not both", ErrInvalid)
	}
	if sc.Every != 0 && sc.Every < minEvery {
		return fmt.Errorf("%w: schedule: interval %s is shorter than %s", ErrInvalid, sc.Every, minEvery)
	}
	if sc.At != "" {
		if _, err := time.Parse("15:04", sc.At); err != nil {
			return fmt.Errorf("%w: schedule: time of day %q is not HH:MM", ErrInvalid, sc.At)
		}
	}
	return nil
}

// Next returns when a scan is next due after last (the zero time when the
// subnet never ran), or the zero time for an on-demand subnet. Times of day
// are read in loc.
func (sc Schedule) Next(last, now time.Time, loc *time.Location) time.Time {
	switch {
	case sc.Every > 0:
		if last.IsZero() {
			return now
		}
		next := last.Add(sc.Every)
		if next.Before(now) {
			// Overdue (the server was down): run once now, not once per
			// missed slot.
			return now
		}
		return next
	case sc.At != "":
		t, err := time.Parse("15:04", sc.At)
		if err != nil {
			return time.Time{}
		}
		n := now.In(loc)
		next := time.Date(n.Year(), n.Month(), n.Day(), t.Hour(), t.Minute(), 0, 0, loc)
		if !next.After(n) {
			next = next.AddDate(0, 0, 1)
		}
		// A slot missed while the server was down runs now.
		if prev := next.AddDate(0, 0, -1); !last.IsZero() && last.Before(prev) && !prev.After(n) {
			return now
		}
		return next
	}
	return time.Time{}
}

func cleanList(in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}
