package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/typing"
	"github.com/lanscout/lanscout/web"
)

// adminOptions is what the admin pages show of this process: its version,
// its certificate's fingerprints, the settings fixed at start (read-only
// there) and the rules file's device types.
func adminOptions(cfg serverConfig, fp fingerprints, fileRules []typing.Rule) web.AdminOptions {
	none := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	ports := make([]string, len(cfg.TCPPorts))
	for i, p := range cfg.TCPPorts {
		ports[i] = fmt.Sprint(p)
	}
	tcpPorts := strings.Join(ports, ", ")
	if tcpPorts == "" {
		tcpPorts = "(default) 22, 80, 443, 445, 3389, 9100"
	}
	sweepRate := fmt.Sprintf("(default) %d ARP, %d ICMP, %d TCP per second",
		discover.DefaultARPRate, discover.DefaultICMPRate, discover.DefaultTCPRate)
	if cfg.Sweep.Rate > 0 {
		sweepRate = fmt.Sprintf("%d per second", cfg.Sweep.Rate)
	}
	return web.AdminOptions{
		Version:         Version,
		TLSFingerprints: []string{fp.Base64, fp.Hex},
		FileRules:       fileRules,
		Config: []web.ConfigSetting{
			{Name: "listen", Value: cfg.Listen},
			{Name: "data", Value: cfg.Data},
			{Name: "trusted_proxies", Value: none(strings.Join(cfg.TrustedProxies, ", "))},
			{Name: "session_ttl", Value: time.Duration(cfg.SessionTTL).String()},
			{Name: "log_level", Value: cfg.LogLevel},
			{Name: "rules", Value: none(cfg.Rules)},
			{Name: "tcp_ports", Value: tcpPorts},
			{Name: "snmp.port", Value: fmt.Sprint(cfg.SNMP.Port)},
			{Name: "snmp.timeout", Value: time.Duration(cfg.SNMP.Timeout).String()},
			{Name: "snmp.retries", Value: fmt.Sprint(cfg.SNMP.Retries)},
			{Name: "sweep.rate", Value: sweepRate},
			{Name: "sweep.retries", Value: fmt.Sprint(cfg.Sweep.Retries)},
		},
	}
}
