package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/lanscout/lanscout/web"
)

// agentsConfig is the agents section: how often our agents call and what
// their scan tasks carry. Zero values mean the defaults.
//
//	agents:
//	  poll_interval: 60s        # told to agents; they add ±10% jitter
//	  offline_after: 3          # poll intervals of silence before an agent shows offline
//	  scan_timeout: 1h          # a scan task with no final result by then expires (its run fails)
//	  task_timeout: 2m          # other tasks (wake) without a deadline of their own
//	  scan_rate: 0              # probes per second of agent sweeps (0: sweep.rate, as the server's own)
//	  listen_between_sweeps: 0s # after each agent scan, listen passively this long for new MACs (0: off)
//
// The SNMP port, timeout and retries, the tcp method's ports and the
// sweep's rate and retries of agent scans are the server's own (snmp:,
// tcp_ports:, sweep:), so a subnet is scanned alike whoever scans it.
// scan_rate, when set, is the agents' rate alone (it predates sweep:).
type agentsConfig struct {
	PollInterval        duration `yaml:"poll_interval"`
	OfflineAfter        int      `yaml:"offline_after"`
	ScanTimeout         duration `yaml:"scan_timeout"`
	TaskTimeout         duration `yaml:"task_timeout"`
	ScanRate            int      `yaml:"scan_rate"`
	ListenBetweenSweeps duration `yaml:"listen_between_sweeps"`
}

func (c *agentsConfig) validate() error {
	switch {
	case c.PollInterval != 0 && (time.Duration(c.PollInterval) < time.Second || time.Duration(c.PollInterval) > 24*time.Hour):
		return fmt.Errorf("agents: poll_interval %s: want 1s to 24h", c.PollInterval.String())
	case c.OfflineAfter < 0:
		return errors.New("agents: offline_after must not be negative")
	case c.ScanTimeout < 0, c.TaskTimeout < 0, c.ListenBetweenSweeps < 0:
		return errors.New("agents: durations must not be negative")
	case c.ScanRate < 0:
		return errors.New("agents: scan_rate must not be negative")
	}
	return nil
}

func (c *agentsConfig) apply(o *web.Options, d serverDeps) error {
	o.Agents = web.AgentOptions{
		PollInterval:        time.Duration(c.PollInterval),
		OfflineAfter:        c.OfflineAfter,
		ScanTimeout:         time.Duration(c.ScanTimeout),
		WakeTimeout:         time.Duration(c.TaskTimeout),
		ScanRate:            c.ScanRate,
		ListenBetweenSweeps: time.Duration(c.ListenBetweenSweeps),
	}
	if d.cfg != nil {
		o.Agents.SNMPPort = uint16(d.cfg.SNMP.Port)
		o.Agents.SNMPTimeout = time.Duration(d.cfg.SNMP.Timeout)
		o.Agents.SNMPRetries = d.cfg.SNMP.Retries
		o.Agents.TCPPorts = d.cfg.TCPPorts
		if c.ScanRate == 0 {
			o.Agents.ScanRate = d.cfg.Sweep.Rate
		}
		// As in the server's own sweeps: sweep.retries 0 means none.
		o.Agents.ScanRetries = zeroMeansNone(d.cfg.Sweep.Retries)
	}
	return nil
}
