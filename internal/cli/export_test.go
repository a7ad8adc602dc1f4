package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/inventory/export"
	"github.com/lanscout/lanscout/scan"
	"github.com/lanscout/lanscout/web"
)

// exportStore makes a data directory with a subnet and three devices,
// two of which answered SNMP.
func exportStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "192.0.2.0/24", Site: "dc1"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerServer, ID: "server"}, "snmp")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []scan.Device{
		{IP: "192.0.2.1", MAC: "00:00:0c:00:00:01", Category: "switch", Vendor: "Cisco",
			SNMP: &scan.SNMPInfo{Version: "2c", Credential: "dc", SysName: "sw1"}},
		{IP: "192.0.2.2", MAC: "00:00:0c:00:00:02", Category: "printer", Vendor: "HP",
			SNMP: &scan.SNMPInfo{Version: "2c", Credential: "dc", SysName: "prn;2"}},
		{IP: "192.0.2.3", MAC: "00:00:0c:00:00:03", Category: "workstation"},
	} {
		if _, err := store.RecordDevice(ctx, run.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.FinishScan(ctx, run.ID, inventory.ScanEnd{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExportCommand(t *testing.T) {
	dir := exportStore(t)
	cfg := filepath.Join(t.TempDir(), "lanscout.yaml")
	writeFile(t, cfg, `snmp:
  port: 1161
export:
  prometheus:
    modules: {printer: printer_mib}
    credential_modules: {switch: {dc: if_mib_dc}}
    auths: {dc: dc_v2}
  icinga2:
    templates: {switch: my-switch}
`)
	out := filepath.Join(t.TempDir(), "targets.json")
	if _, stderr, code := runCLI(t, "export", "prometheus", "--data", dir, "--config", cfg, "-o", out); code != 0 {
		t.Fatalf("export prometheus: %d %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var groups []export.TargetGroup
	if err := json.Unmarshal(b, &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].Targets[0] != "192.0.2.1:1161" || groups[0].Labels["__param_module"] != "if_mib_dc" ||
		groups[0].Labels["__param_auth"] != "dc_v2" || groups[1].Labels["__param_module"] != "printer_mib" ||
		groups[1].Labels["lanscout_site"] != "dc1" {
		t.Errorf("targets: %s", b)
	}
	// Only the file: the temporary one is gone.
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files after an atomic write", len(entries))
	}

	stdout, stderr, code := runCLI(t, "export", "icinga2", "--data", dir, "--config", cfg, "--category", "switch,workstation")
	if code != 0 || strings.Count(stdout, "object Host ") != 2 || !strings.Contains(stdout, `import "my-switch"`) ||
		!strings.Contains(stdout, `import "lanscout-workstation"`) {
		t.Errorf("icinga2: %d %s\n%s", code, stderr, stdout)
	}
	stdout, _, code = runCLI(t, "export", "nagios", "--data", dir, "--site", "dc1", "--state", "all")
	if code != 0 || strings.Count(stdout, "define host {") != 3 || !strings.Contains(stdout, `prn\;2`) {
		t.Errorf("nagios: %d\n%s", code, stdout)
	}
	stdout, _, code = runCLI(t, "export", "csv", "--data", dir)
	if code != 0 || !strings.HasPrefix(stdout, strings.Join(export.CSVHeader, ",")+"\n") || strings.Count(stdout, "\n") != 4 {
		t.Errorf("csv: %d\n%s", code, stdout)
	}
	stdout, _, code = runCLI(t, "export", "json", "--data", dir, "--subnet", "192.0.2.0/24")
	var devs []inventory.Device
	if code != 0 || json.Unmarshal([]byte(stdout), &devs) != nil || len(devs) != 3 {
		t.Errorf("json: %d\n%s", code, stdout)
	}
	// Filters that select nothing give an empty, valid document.
	stdout, _, code = runCLI(t, "export", "prometheus", "--data", dir, "--site", "elsewhere")
	if code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("empty prometheus: %d %q", code, stdout)
	}
}

func TestExportCommandErrors(t *testing.T) {
	dir := exportStore(t)
	existing := filepath.Join(t.TempDir(), "hosts.conf")
	writeFile(t, existing, "keep me")
	badCfg := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, badCfg, "export:\n  prometheus:\n    modulez: {}\n")
	badCat := filepath.Join(t.TempDir(), "badcat.yaml")
	writeFile(t, badCat, "export:\n  prometheus:\n    modules: {toaster: x}\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export"}, 2, "give one FORMAT"},
		{[]string{"export", "xml", "--data", dir}, 2, `unknown FORMAT "xml"`},
		{[]string{"export", "icinga2", "--data", dir, "--category", "toaster"}, 2, `unknown category "toaster"`},
		{[]string{"export", "icinga2", "--data", dir, "--state", "asleep"}, 2, "state"},
		{[]string{"export", "icinga2", "--data", dir, "--snmp-port", "70000"}, 2, "--snmp-port"},
		{[]string{"export", "icinga2", "--data", filepath.Join(dir, "nope")}, 1, "no lanscout data"},
		{[]string{"export", "icinga2", "--data", dir, "--config", badCfg}, 1, "modulez"},
		{[]string{"export", "icinga2", "--data", dir, "--config", badCat, "-o", existing}, 1, `unknown category "toaster"`},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if b, _ := os.ReadFile(existing); !bytes.Equal(b, []byte("keep me")) {
		t.Errorf("a failed export touched the output file: %q", b)
	}
}

func TestMonitoringConfig(t *testing.T) {
	for _, tc := range []struct {
		yaml, want string
	}{
		{"export:\n  metrics_access: everyone\n", "metrics_access"},
		{"export:\n  icinga2:\n    templates: {switch: \"a b\"}\n", "templates"},
		{"export:\n  prometheus:\n    credential_modules: {toaster: {a: b}}\n", "toaster"},
		{"webhooks:\n  hooks:\n    - {name: a, url: \"ftp://x\"}\n", "not an http"},
		{"webhooks:\n  hooks:\n    - {name: a, url: \"https://x\", events: [coffee]}\n", "coffee"},
		{"webhooks:\n  hooks:\n    - {name: a, url: \"https://x\"}\n    - {name: a, url: \"https://y\"}\n", "used twice"},
		{"webhooks:\n  hooks:\n    - {name: a, url: \"https://x\", secret: s, secret_file: f}\n", "not both"},
		{"webhooks:\n  max_attempts: 1000\n", "max_attempts"},
		{"webhooks:\n  hookz: []\n", "hookz"},
	} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		writeFile(t, path, tc.yaml)
		_, err := loadServerConfig([]string{"--config", path}, &bytes.Buffer{}, envMap(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error about %s", tc.yaml, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "good.yaml")
	secret := filepath.Join(t.TempDir(), "hook.secret")
	writeFile(t, secret, "from-a-file\n")
	writeFile(t, path, `export:
  metrics_access: loopback
  prometheus: {no_auth: true}
webhooks:
  retry_base: 1m
  hooks:
    - name: chat
      url: https://chat.example.org/hook
      secret_file: `+secret+`
      events: [new_device, wake.outcome]
`)
	cfg, err := loadServerConfig([]string{"--config", path}, &bytes.Buffer{}, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	var o web.Options
	if err := cfg.Export.apply(&o, serverDeps{cfg: &cfg}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Webhooks.apply(&o, serverDeps{cfg: &cfg}); err != nil {
		t.Fatal(err)
	}
	m := o.Monitoring
	if m.MetricsAccess != "loopback" || !m.Export.Prometheus.NoAuth || m.Export.Prometheus.SNMPPort != 161 ||
		len(m.Webhooks) != 1 || m.Webhooks[0].Secret != "from-a-file" || m.WebhookRetryBase.String() != "1m0s" {
		t.Errorf("applied: %+v", m)
	}
}
