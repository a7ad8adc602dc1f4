package export_test

import (
	"bytes"
	"testing"

	"github.com/lanscout/lanscout/inventory/export"
	"github.com/lanscout/lanscout/inventory/export/exporttest"
	"github.com/lanscout/lanscout/typing"
)

// These tests feed the exports of hostile names to the real tools from
// Debian, which must accept them and see exactly the hosts written: an
// injected object would be counted.

func templates(hosts []export.Host, name func(typing.Category) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range hosts {
		if n := name(h.Category); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func TestIcinga2AcceptsExport(t *testing.T) {
	hosts, opts := export.HostileHosts(), export.TestOptions()
	var conf bytes.Buffer
	if err := export.WriteIcinga2(&conf, hosts, opts.Icinga2); err != nil {
		t.Fatal(err)
	}
	if n := exporttest.Icinga2(t, conf.Bytes(), templates(hosts, opts.Icinga2.Template)); n != len(hosts) {
		t.Errorf("icinga2 counted %d hosts, want %d", n, len(hosts))
	}
}

func TestNagiosAcceptsExport(t *testing.T) {
	hosts, opts := export.HostileHosts(), export.TestOptions()
	var cfg bytes.Buffer
	if err := export.WriteNagios(&cfg, hosts, opts.Nagios); err != nil {
		t.Fatal(err)
	}
	nHosts, nGroups := exporttest.Nagios(t, cfg.Bytes(), templates(hosts, opts.Nagios.Template))
	if nHosts != len(hosts) || nGroups != 4 {
		t.Errorf("nagios counted %d hosts and %d host groups, want %d and 4 (switch, printer, power, unknown)", nHosts, nGroups, len(hosts))
	}
}
