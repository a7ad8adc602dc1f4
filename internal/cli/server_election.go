package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/lanscout/lanscout/inventory/election"
	"github.com/lanscout/lanscout/web"
)

// electionConfig is the election section: where agents may be elected to
// scan, and how the election weighs them. Zero values mean the defaults.
//
//	election:
//	  allowed: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]   # only subnets inside these get an agent (default RFC 1918)
//	  denied: []                # never, even inside allowed (e.g. a guest Wi-Fi)
//	  poll_interval: 5m         # assumed for agents that do not say how often they poll
//	  max_alive: 3              # poll intervals of silence before a scanner loses its seat
//	  min_contacts: 3           # contacts before a first election
//	  mature_contacts: 50       # contacts at which reliability stops growing
//	  threshold: 0.1            # how much better (score 0..1) a challenger must be to take a seat
//	  failure_limit: 3          # failed scans in a row that demote a scanner
//	  cooldown: 1h              # how long a demoted scanner waits (doubles each time, up to max_cooldown)
//	  max_cooldown: 24h
//	  interval: 1m              # how often the election runs without being asked
//	  coalesce: 1s              # contacts within this of the last round fold into one round
//	  auto_subnets: true        # create allowed networks agents sit on as subnets named "auto"
type electionConfig struct {
	Allowed        []string `yaml:"allowed"`
	Denied         []string `yaml:"denied"`
	PollInterval   duration `yaml:"poll_interval"`
	MaxAlive       int      `yaml:"max_alive"`
	MinContacts    int      `yaml:"min_contacts"`
	MatureContacts int      `yaml:"mature_contacts"`
	Threshold      float64  `yaml:"threshold"`
	FailureLimit   int      `yaml:"failure_limit"`
	Cooldown       duration `yaml:"cooldown"`
	MaxCooldown    duration `yaml:"max_cooldown"`
	Interval       duration `yaml:"interval"`
	Coalesce       duration `yaml:"coalesce"`
	AutoSubnets    *bool    `yaml:"auto_subnets"`
}

// config turns the section into the election's own configuration.
func (c *electionConfig) config() (election.Config, error) {
	allowed, err := election.ParseRanges(c.Allowed)
	if err != nil {
		return election.Config{}, fmt.Errorf("election: allowed: %w", err)
	}
	denied, err := election.ParseRanges(c.Denied)
	if err != nil {
		return election.Config{}, fmt.Errorf("election: denied: %w", err)
	}
	cfg := election.Config{Allowed: allowed, Denied: denied, PollInterval: time.Duration(c.PollInterval),
		MaxAlive: c.MaxAlive, MinContacts: c.MinContacts, MatureContacts: c.MatureContacts, Threshold: c.Threshold,
		FailureLimit: c.FailureLimit, Cooldown: time.Duration(c.Cooldown), MaxCooldown: time.Duration(c.MaxCooldown)}
	if err := cfg.Validate(); err != nil {
		return election.Config{}, fmt.Errorf("election: %w", err)
	}
	return cfg, nil
}

func (c *electionConfig) validate() error {
	if _, err := c.config(); err != nil {
		return err
	}
	if c.Interval != 0 && (c.Interval < duration(time.Second) || c.Interval > duration(time.Hour)) {
		return fmt.Errorf("election: interval %s is not between 1s and 1h", time.Duration(c.Interval))
	}
	if c.Coalesce != 0 && (c.Coalesce < duration(10*time.Millisecond) || c.Coalesce > duration(time.Minute)) {
		return fmt.Errorf("election: coalesce %s is not between 10ms and 1m", time.Duration(c.Coalesce))
	}
	if c.Interval != 0 && c.MaxAlive != 0 && c.PollInterval != 0 &&
		time.Duration(c.Interval) > time.Duration(c.MaxAlive)*time.Duration(c.PollInterval) {
		return errors.New("election: interval is longer than max_alive poll intervals: silent scanners would keep their seats too long")
	}
	return nil
}

func (c *electionConfig) apply(o *web.Options, d serverDeps) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	o.Election = web.ElectionOptions{Config: cfg, Interval: time.Duration(c.Interval), Coalesce: time.Duration(c.Coalesce),
		NoAutoSubnets: c.AutoSubnets != nil && !*c.AutoSubnets}
	return nil
}
