package cli

import (
	"bytes"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lanscout/lanscout/web"
	"github.com/lanscout/lanscout/wol"
)

// wakeConfig is the wake section: how the server sends magic packets and
// confirms wakes. Satellites have their own section below.
//
//	wake:
//	  fallback: none            # none | directed_broadcast | all_satellites; used only when a request asks for it
//	  confirm_timeout: 3m       # how long to watch for a woken machine to come up
//	  probe_interval: 5s        # how often to probe it meanwhile
//	  method: auto              # the server's own segments: auto (raw Ethernet when it may, else UDP) | raw | udp
//	  ports: [9, 7]             # UDP ports of directed broadcasts
//	  password: ""              # SecureOn password, 4 or 6 bytes (11:22:33:44:55:66)
//	  agent_timeout: 1m         # how long an agent has to report a wake task
//	  schedule_grace: 15m       # a scheduled wake this late (after a restart) still runs
//	  max_targets: 4096         # targets of one wake
type wakeConfig struct {
	Fallback       string   `yaml:"fallback"`
	ConfirmTimeout duration `yaml:"confirm_timeout"`
	ProbeInterval  duration `yaml:"probe_interval"`
	Method         string   `yaml:"method"`
	Ports          []int    `yaml:"ports"`
	Password       string   `yaml:"password"`
	AgentTimeout   duration `yaml:"agent_timeout"`
	ScheduleGrace  duration `yaml:"schedule_grace"`
	MaxTargets     int      `yaml:"max_targets"`
}

func (c *wakeConfig) validate() error {
	if _, err := web.ParseWakeFallback(c.Fallback); err != nil {
		return fmt.Errorf("wake: %w", err)
	}
	if _, err := wol.ParseMethod(c.Method); err != nil {
		return fmt.Errorf("wake: %w", err)
	}
	for _, p := range c.Ports {
		if p < 1 || p > 65535 {
			return fmt.Errorf("wake: ports: %d is not 1-65535", p)
		}
	}
	if _, err := wol.ParsePassword(c.Password); err != nil {
		return fmt.Errorf("wake: password: %w", err)
	}
	for _, d := range []struct {
		name     string
		v        duration
		min, max time.Duration
	}{
		{"confirm_timeout", c.ConfirmTimeout, 5 * time.Second, time.Hour},
		{"probe_interval", c.ProbeInterval, 500 * time.Millisecond, time.Minute},
		{"agent_timeout", c.AgentTimeout, time.Second, 10 * time.Minute},
		{"schedule_grace", c.ScheduleGrace, time.Minute, 24 * time.Hour},
	} {
		if v := time.Duration(d.v); v != 0 && (v < d.min || v > d.max) {
			return fmt.Errorf("wake: %s %s is not between %s and %s", d.name, v, d.min, d.max)
		}
	}
	if c.MaxTargets < 0 || c.MaxTargets > 65536 {
		return fmt.Errorf("wake: max_targets %d is not between 1 and 65536", c.MaxTargets)
	}
	return nil
}

func (c *wakeConfig) apply(o *web.Options, d serverDeps) error {
	fb, err := web.ParseWakeFallback(c.Fallback)
	if err != nil {
		return err
	}
	method, err := wol.ParseMethod(c.Method)
	if err != nil {
		return err
	}
	pw, err := wol.ParsePassword(c.Password)
	if err != nil {
		return fmt.Errorf("wake: password: %w", err)
	}
	o.Wake = web.WakeOptions{
		Fallback:       fb,
		ConfirmTimeout: time.Duration(c.ConfirmTimeout),
		ProbeInterval:  time.Duration(c.ProbeInterval),
		Method:         method,
		Ports:          c.Ports,
		Password:       pw,
		AgentTimeout:   time.Duration(c.AgentTimeout),
		ScheduleGrace:  time.Duration(c.ScheduleGrace),
		MaxTargets:     c.MaxTargets,
	}
	return nil
}

// satellitesConfig is the satellites section: a list of SSH satellites,
// stored at start (satellite.go has the rest), or, to also set how many
// SSH connections the server opens to one satellite at once (wakes and
// scans together; default 2):
//
//	satellites:
//	  max_connections: 2
//	  hosts:
//	    - name: branch-1
//	      ...
type satellitesConfig struct {
	Hosts          []satelliteEntry
	MaxConnections int
}

// UnmarshalYAML reads either form, refusing unknown keys like the rest of
// the file (yaml.v3 does not carry KnownFields into a custom unmarshaler,
// so the node is decoded again with it).
func (c *satellitesConfig) UnmarshalYAML(node *yaml.Node) error {
	b, err := yaml.Marshal(node)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	switch node.Kind {
	case yaml.SequenceNode:
		return dec.Decode(&c.Hosts)
	case yaml.MappingNode:
		var m struct {
			MaxConnections int              `yaml:"max_connections"`
			Hosts          []satelliteEntry `yaml:"hosts"`
		}
		if err := dec.Decode(&m); err != nil {
			return err
		}
		c.Hosts, c.MaxConnections = m.Hosts, m.MaxConnections
		return nil
	}
	return fmt.Errorf("satellites (line %d): want a list of satellites, or max_connections and hosts", node.Line)
}

func (c *satellitesConfig) validate() error {
	if c.MaxConnections < 0 || c.MaxConnections > 100 {
		return fmt.Errorf("satellites: max_connections %d is not between 1 and 100", c.MaxConnections)
	}
	return validateSatellites(c.Hosts)
}

func (c *satellitesConfig) apply(o *web.Options, d serverDeps) error {
	// After wake's apply, which sets o.Wake as a whole.
	o.Wake.SatelliteConnections = c.MaxConnections
	return applySatellites(c.Hosts, d)
}
