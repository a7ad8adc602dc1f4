package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/web"
)

// writeConfig writes body as a server configuration file of its own and
// returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "lanscout.yaml")
	writeFile(t, p, body)
	return p
}

// TestRetentionConfig: the retention section reaches the web options,
// unit slips and negative values are refused at load, and `server -h`
// names the section.
func TestRetentionConfig(t *testing.T) {
	cfg, err := loadServerConfig([]string{"--config", writeConfig(t,
		"retention:\n  agent_tasks: 168h\n  scan_runs: 720h\n  events: 2160h\n  audit: 17520h\n  election_events: 336h\n")},
		io.Discard, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	var o web.Options
	if err := cfg.Retention.apply(&o, serverDeps{cfg: &cfg}); err != nil {
		t.Fatal(err)
	}
	want := web.RetentionOptions{AgentTasks: 7 * 24 * time.Hour, ScanRuns: 30 * 24 * time.Hour,
		Events: 90 * 24 * time.Hour, Audit: 2 * 365 * 24 * time.Hour, ElectionEvents: 14 * 24 * time.Hour}
	if o.Retention != want {
		t.Errorf("retention options = %+v, want %+v", o.Retention, want)
	}

	for _, tc := range []struct{ body, want string }{
		{"retention:\n  agent_tasks: 30m\n", "retention.agent_tasks 30m0s: want at least 24h"},
		{"retention:\n  audit: -24h\n", "retention.audit -24h0m0s: want at least 24h"},
		{"retention:\n  election_events: 23h\n", "retention.election_events 23h0m0s: want at least 24h"},
		{"retention:\n  events: 1y\n", `"1y" is not a duration`},
		{"retention:\n  audit_log: 24h\n", "field audit_log not found"},
	} {
		_, err := loadServerConfig([]string{"--config", writeConfig(t, tc.body)}, io.Discard, envMap(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.body, err, tc.want)
		}
	}

	var help bytes.Buffer
	if _, err := loadServerConfig([]string{"-h"}, &help, envMap(nil)); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	if !strings.Contains(help.String(), "retention:") || !strings.Contains(help.String(), "election events") {
		t.Errorf("server -h does not list the retention section:\n%s", help.String())
	}
}
