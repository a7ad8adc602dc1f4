package election

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// HardMaxScanners caps the seats of a subnet whatever an admin sets: OCS
// once elected 84 agents on one VLAN and took it down with ARP storms.
const HardMaxScanners = 3

// The defaults of Config.
const (
	DefaultPollInterval   = 5 * time.Minute
	DefaultMaxAlive       = 3 // poll intervals
	DefaultMinContacts    = 3 // OCS: fidelity > 2
	DefaultMatureContacts = 50
	DefaultThreshold      = 0.10
	DefaultFailureLimit   = 3
	DefaultCooldown       = time.Hour
	DefaultMaxCooldown    = 24 * time.Hour
)

// DefaultAllowed are the private IPv4 ranges of RFC 1918: where an agent
// may be elected when the admin names no ranges.
var DefaultAllowed = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// Config tunes the election. The zero value means the defaults.
type Config struct {
	// Allowed are the ranges a subnet must lie inside to get a scanner;
	// nil means DefaultAllowed. Denied ranges win over allowed ones: a
	// network overlapping one never gets a scanner.
	Allowed, Denied []netip.Prefix
	// PollInterval is assumed for agents that do not say how often they
	// poll.
	PollInterval time.Duration
	// MaxAlive is how many of an agent's poll intervals may pass without a
	// contact before it loses its seats (and may not be elected).
	MaxAlive int
	// MinContacts is the fidelity (contact count) an agent needs before
	// its first election.
	MinContacts int
	// MatureContacts is the contact count at which reliability stops
	// growing with it: below, a new agent's score is scaled down.
	MatureContacts int
	// Threshold is how much better (in score, 0..1) a challenger must be
	// to take an occupied seat.
	Threshold float64
	// FailureLimit failed scans in a row demote a scanner for Cooldown,
	// doubled at each demotion in a row, at most MaxCooldown.
	FailureLimit          int
	Cooldown, MaxCooldown time.Duration
}

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.Allowed == nil {
		c.Allowed = DefaultAllowed
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.MaxAlive <= 0 {
		c.MaxAlive = DefaultMaxAlive
	}
	if c.MinContacts <= 0 {
		c.MinContacts = DefaultMinContacts
	}
	if c.MatureContacts <= 0 {
		c.MatureContacts = DefaultMatureContacts
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	if c.FailureLimit <= 0 {
		c.FailureLimit = DefaultFailureLimit
	}
	if c.Cooldown <= 0 {
		c.Cooldown = DefaultCooldown
	}
	if c.MaxCooldown <= 0 {
		c.MaxCooldown = DefaultMaxCooldown
	}
	return c
}

// Validate refuses settings that would make the election unsafe or
// meaningless; it is meant for c as configured, before WithDefaults.
func (c Config) Validate() error {
	var errs []error
	if c.Allowed != nil && len(c.Allowed) == 0 {
		errs = append(errs, errors.New("allowed is empty, so no agent could ever be elected; leave it out for the RFC 1918 ranges"))
	}
	for _, p := range c.Allowed {
		if err := checkRange(p); err != nil {
			errs = append(errs, fmt.Errorf("allowed: %w", err))
		}
	}
	for _, p := range c.Denied {
		if err := checkRange(p); err != nil {
			errs = append(errs, fmt.Errorf("denied: %w", err))
		}
	}
	if c.PollInterval < 0 || (c.PollInterval > 0 && c.PollInterval < time.Second) {
		errs = append(errs, fmt.Errorf("poll_interval %s is shorter than 1s", c.PollInterval))
	}
	if c.MaxAlive < 0 || c.MaxAlive > 100 {
		errs = append(errs, fmt.Errorf("max_alive %d is not between 1 and 100 poll intervals", c.MaxAlive))
	}
	if c.MaxAlive == 1 {
		// One interval leaves no room for jitter: scanners would expire
		// between two punctual contacts.
		errs = append(errs, errors.New("max_alive 1 would expire punctual scanners; use 2 or more poll intervals"))
	}
	if c.MinContacts < 0 || c.MatureContacts < 0 {
		errs = append(errs, errors.New("min_contacts and mature_contacts cannot be negative"))
	}
	if c.Threshold < 0 || c.Threshold >= 1 {
		errs = append(errs, fmt.Errorf("threshold %g is not between 0 and 1 (scores are 0 to 1)", c.Threshold))
	}
	if c.FailureLimit < 0 || c.FailureLimit > 100 {
		errs = append(errs, fmt.Errorf("failure_limit %d is not between 1 and 100", c.FailureLimit))
	}
	if c.Cooldown < 0 || c.MaxCooldown < 0 || (c.MaxCooldown > 0 && c.Cooldown > c.MaxCooldown) {
		errs = append(errs, fmt.Errorf("cooldown %s and max_cooldown %s: want 0 < cooldown <= max_cooldown", c.Cooldown, c.MaxCooldown))
	}
	return errors.Join(errs...)
}

func checkRange(p netip.Prefix) error {
	switch {
	case !p.IsValid():
		return errors.New("invalid range")
	case !p.Addr().Is4():
		return fmt.Errorf("%s: only IPv4 ranges (agents sweep IPv4 subnets)", p)
	case p.Masked() != p:
		return fmt.Errorf("%s has host bits set; the range is %s", p, p.Masked())
	}
	return nil
}

// ParseRanges parses CIDRs for Allowed and Denied, refusing host bits.
func ParseRanges(ss []string) ([]netip.Prefix, error) {
	if ss == nil {
		return nil, nil
	}
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("range %q: %v", s, err)
		}
		if err := checkRange(p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// maxAlive is how long agent a may stay silent.
func (c Config) maxAlive(a *Agent) time.Duration {
	return time.Duration(c.MaxAlive) * c.pollOf(a)
}

func (c Config) pollOf(a *Agent) time.Duration {
	if a.PollInterval > 0 {
		return a.PollInterval
	}
	return c.PollInterval
}

// allowed says whether network n lies inside an allowed range and
// overlaps no denied one; when not, why.
func (c Config) allowed(n netip.Prefix) string {
	for _, d := range c.Denied {
		if d.Overlaps(n) {
			return fmt.Sprintf("%s is inside the denied range %s", n, d)
		}
	}
	for _, a := range c.Allowed {
		if a.Bits() <= n.Bits() && a.Contains(n.Addr()) {
			return ""
		}
	}
	return fmt.Sprintf("%s is outside the allowed ranges (%s)", n, joinPrefixes(c.Allowed))
}

func joinPrefixes(ps []netip.Prefix) string {
	ss := make([]string, len(ps))
	for i, p := range ps {
		ss[i] = p.String()
	}
	return strings.Join(ss, ", ")
}
