package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/export"
	"github.com/lanscout/lanscout/web"
)

// exportConfig is the `export` section: how devices map to snmp_exporter
// modules and to Icinga 2 and Nagios templates (the server's downloads
// and `lanscout export --config` read the same section), and who may read
// /metrics.
//
//	export:
//	  prometheus:
//	    modules: {power: apcups}       # else each category's own (export.CategoryModule)
//	    default_module: ""             # set: every category modules leaves out
//	    credential_modules:            # snmp_exporter < 0.23: module per category and credential
//	      "*": {office: if_mib_office}
//	    auths: {office: office_v2}     # lanscout credential -> snmp_exporter auth (0.23+)
//	    no_auth: false
//	    snmp_port: 0                   # 0: the server's snmp.port
//	  icinga2: {templates: {switch: my-switch}, template_prefix: lanscout-}
//	  nagios: {templates: {}, template_prefix: lanscout-, hostgroup_prefix: lanscout-}
//	  metrics_access: token            # token, loopback or open
//
// online_within is deprecated: /metrics counts agents online by the
// agents pages' rule. It is still read, so that files setting it load,
// and the server warns that it does nothing.
type exportConfig struct {
	export.Options `yaml:",inline"`
	MetricsAccess  string    `yaml:"metrics_access"`
	OnlineWithin   *duration `yaml:"online_within"` // deprecated, ignored
}

// onlineWithinInstead is what the server's warning about
// export.online_within says applies.
const onlineWithinInstead = "agents count as online by the agents pages' rule: heard from within " +
	"agents.offline_after poll intervals (OCS agents at ocs.prolog_freq hours)"

func (c *exportConfig) deprecatedKeys() []deprecatedKey {
	if c.OnlineWithin == nil {
		return nil
	}
	return []deprecatedKey{{Key: "export.online_within", Instead: onlineWithinInstead}}
}

func (c *exportConfig) validate() error {
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("export.%w", err)
	}
	switch c.MetricsAccess {
	case "", web.MetricsToken, web.MetricsLoopback, web.MetricsOpen:
	default:
		return fmt.Errorf("export.metrics_access %q: want token, loopback or open", c.MetricsAccess)
	}
	return nil
}

// exportOptions are the export settings with the server's SNMP port
// filled in: targets must name the port the scans reached devices on.
func (c *exportConfig) exportOptions(cfg *serverConfig) export.Options {
	o := c.Options
	if o.Prometheus.SNMPPort == 0 && cfg != nil {
		o.Prometheus.SNMPPort = cfg.SNMP.Port
	}
	return o
}

func (c *exportConfig) apply(o *web.Options, d serverDeps) error {
	o.Monitoring.Export = c.exportOptions(d.cfg)
	o.Monitoring.MetricsAccess = c.MetricsAccess
	return nil
}

// webhooksConfig is the `webhooks` section: endpoints the configuration
// file owns, and how deliveries are retried.
//
//	webhooks:
//	  hooks:
//	    - name: chat
//	      url: https://chat.example.org/hooks/lanscout
//	      secret_file: /etc/lanscout/chat.secret   # or secret: "..."
//	      events: [new_device, gone, ip_changed, category_changed, wake.outcome]   # none: all
//	  poll: 5s
//	  timeout: 10s
//	  retry_base: 30s
//	  max_attempts: 10
//	  keep: 168h
type webhooksConfig struct {
	Hooks       []webhookEntry `yaml:"hooks"`
	Poll        duration       `yaml:"poll"`
	Timeout     duration       `yaml:"timeout"`
	RetryBase   duration       `yaml:"retry_base"`
	MaxAttempts int            `yaml:"max_attempts"`
	Keep        duration       `yaml:"keep"`
}

type webhookEntry struct {
	Name       string   `yaml:"name"`
	URL        string   `yaml:"url"`
	Secret     string   `yaml:"secret"`
	SecretFile string   `yaml:"secret_file"`
	Events     []string `yaml:"events"`
}

func (c *webhooksConfig) validate() error {
	names := map[string]bool{}
	for i, h := range c.Hooks {
		w := inventory.Webhook{Name: h.Name, URL: h.URL, Events: h.Events, Enabled: true}
		if err := w.Validate(); err != nil {
			return fmt.Errorf("webhooks.hooks[%d]: %s", i, strings.TrimPrefix(err.Error(), inventory.ErrInvalid.Error()+": "))
		}
		if names[h.Name] {
			return fmt.Errorf("webhooks.hooks[%d]: name %q used twice", i, h.Name)
		}
		names[h.Name] = true
		if h.Secret != "" && h.SecretFile != "" {
			return fmt.Errorf("webhooks.hooks[%d] (%s): give secret or secret_file, not both", i, h.Name)
		}
	}
	for _, d := range []struct {
		name string
		v    duration
	}{{"poll", c.Poll}, {"timeout", c.Timeout}, {"retry_base", c.RetryBase}, {"keep", c.Keep}} {
		if d.v < 0 {
			return fmt.Errorf("webhooks.%s: must not be negative", d.name)
		}
	}
	if c.MaxAttempts < 0 || c.MaxAttempts > 100 {
		return fmt.Errorf("webhooks.max_attempts %d: want 1-100 (0: default 10)", c.MaxAttempts)
	}
	return nil
}

func (c *webhooksConfig) apply(o *web.Options, d serverDeps) error {
	for _, h := range c.Hooks {
		secret := h.Secret
		if h.SecretFile != "" {
			b, err := os.ReadFile(h.SecretFile)
			if err != nil {
				return fmt.Errorf("webhook %s: secret_file: %w", h.Name, err)
			}
			secret = strings.TrimSpace(string(b))
		}
		o.Monitoring.Webhooks = append(o.Monitoring.Webhooks, web.WebhookConfig{Name: h.Name, URL: h.URL, Secret: secret, Events: h.Events})
	}
	o.Monitoring.WebhookPoll = time.Duration(c.Poll)
	o.Monitoring.WebhookTimeout = time.Duration(c.Timeout)
	o.Monitoring.WebhookRetryBase = time.Duration(c.RetryBase)
	o.Monitoring.WebhookMaxAttempts = c.MaxAttempts
	o.Monitoring.WebhookKeep = time.Duration(c.Keep)
	return nil
}
