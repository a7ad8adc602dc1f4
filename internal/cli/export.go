package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/export"
	"github.com/lanscout/lanscout/typing"
)

const exportUsage = `Usage: lanscout export FORMAT [flags]

Writes the server's inventory for a monitoring system, reading the store
under --data (also while the server runs). FORMAT is one of:

  prometheus   Prometheus service discovery JSON for file_sd_configs: one
               target per device that answered SNMP, labelled for
               snmp_exporter (__param_module, __param_auth) and with
               lanscout_category, _vendor, _model, _sys_name, _subnet, _site
  icinga2      one Icinga 2 Host object per device, importing the template
               of its category (lanscout-switch, ... unless configured)
  nagios       Nagios host definitions and a hostgroup per category
  csv, json    the device list, as the API's /api/v1/devices.csv and .json

With -o the file is replaced atomically, so a monitoring system reading it
never sees half a file. Monitoring formats list devices that are up
(--state all for every device); csv and json list every device.

The snmp_exporter module mapping and template names come from the export
section of the server's configuration file (--config).

Flags:
`

func runExport(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "export", exportCommand(ctx, e, args))
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, export.ParseList([]string{s})...)
	return nil
}

func exportCommand(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, exportUsage); fs.PrintDefaults() }
	data := fs.String("data", "./data", "the server's data directory")
	out := fs.String("o", "", "write to this file (atomically) instead of standard output")
	configPath := fs.String("config", "", "the server's YAML configuration: its export section and snmp.port")
	state := fs.String("state", "", "up, gone or all (default: up for monitoring formats, all for csv and json)")
	snmpPort := fs.Int("snmp-port", 0, "SNMP port in Prometheus targets (default: snmp.port of --config, else 161)")
	var cats, subnets, sites listFlag
	fs.Var(&cats, "category", "only these categories (repeatable or comma-separated)")
	fs.Var(&subnets, "subnet", "only these subnets, by id or CIDR (repeatable or comma-separated)")
	fs.Var(&sites, "site", "only subnets of these sites (repeatable or comma-separated)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if len(rest) != 1 {
		return usagef("give one FORMAT: %s", strings.Join(export.Formats, ", "))
	}
	format := rest[0]
	if !slices.Contains(export.Formats, format) {
		return usagef("unknown FORMAT %q: want %s", format, strings.Join(export.Formats, ", "))
	}
	f := export.DefaultFilter(format)
	for _, c := range cats {
		f.Categories = append(f.Categories, typing.Category(c))
	}
	f.Subnets, f.Sites = subnets, sites
	switch *state {
	case "":
	case "all":
		f.State = ""
	default:
		f.State = inventory.DeviceState(*state)
	}
	if err := f.Validate(); err != nil {
		return usageError{err.Error()}
	}
	cfg := defaultServerConfig()
	if *configPath != "" {
		if err := loadConfigFile(*configPath, &cfg); err != nil {
			return err
		}
		if err := cfg.Export.validate(); err != nil {
			return fmt.Errorf("config %s: %w", *configPath, err)
		}
	}
	opts := cfg.Export.exportOptions(&cfg)
	if *snmpPort != 0 {
		if *snmpPort < 1 || *snmpPort > 65535 {
			return usagef("--snmp-port %d: want 1-65535", *snmpPort)
		}
		opts.Prometheus.SNMPPort = *snmpPort
	}
	store, err := openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer store.Close()
	hosts, err := export.Collect(ctx, store, f)
	if err != nil {
		return err
	}
	write := func(w io.Writer) error { return export.Write(w, format, hosts, opts) }
	if *out == "" || *out == "-" {
		// Built in memory first, so a failure never leaves half a file
		// in a pipe either.
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			return err
		}
		_, err := e.stdout.Write(buf.Bytes())
		return err
	}
	if err := writeFileAtomic(*out, write); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %d devices to %s\n", len(hosts), *out)
	return nil
}
