package cli

import (
	"fmt"
	"time"

	"github.com/lanscout/lanscout/web"
)

// retentionConfig is the retention section: how long history is kept,
// pruned hourly. Zero values mean the defaults. Webhook deliveries have
// their own (webhooks.keep).
//
//	retention:
//	  agent_tasks: 720h   # closed agent tasks (default 30 days)
//	  scan_runs: 2160h    # finished scan runs; each subnet's newest are always kept (default 90 days)
//	  events: 8760h       # the device event log (default 365 days)
//	  audit: 0s           # the audit log; 0: for ever (the default)
//	  election_events: 2160h  # the election's seat changes (default 90 days)
type retentionConfig struct {
	AgentTasks     duration `yaml:"agent_tasks"`
	ScanRuns       duration `yaml:"scan_runs"`
	Events         duration `yaml:"events"`
	Audit          duration `yaml:"audit"`
	ElectionEvents duration `yaml:"election_events"`
}

// minRetention guards against a unit slip ("30m" for thirty days)
// deleting nearly all history at the next hourly round.
const minRetention = 24 * time.Hour

func (c *retentionConfig) validate() error {
	for _, d := range []struct {
		name string
		v    duration
	}{{"agent_tasks", c.AgentTasks}, {"scan_runs", c.ScanRuns}, {"events", c.Events}, {"audit", c.Audit},
		{"election_events", c.ElectionEvents}} {
		if d.v != 0 && time.Duration(d.v) < minRetention {
			return fmt.Errorf("retention.%s %s: want at least 24h (0: the default)", d.name, time.Duration(d.v))
		}
	}
	return nil
}

func (c *retentionConfig) apply(o *web.Options, d serverDeps) error {
	o.Retention = web.RetentionOptions{AgentTasks: time.Duration(c.AgentTasks), ScanRuns: time.Duration(c.ScanRuns),
		Events: time.Duration(c.Events), Audit: time.Duration(c.Audit), ElectionEvents: time.Duration(c.ElectionEvents)}
	return nil
}
