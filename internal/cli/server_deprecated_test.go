package cli

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestDeprecatedOnlineWithin: a file setting export.online_within still
// loads, and the server warns at start that the key does nothing and
// which rule applies; a file without it gets no warning.
func TestDeprecatedOnlineWithin(t *testing.T) {
	old := writeConfig(t, "export:\n  metrics_access: loopback\n  online_within: 10m\n")
	plain := writeConfig(t, "export:\n  metrics_access: loopback\n")

	for _, tc := range []struct {
		name, path string
		warn       bool
	}{{"old", old, true}, {"plain", plain, false}} {
		cfg, err := loadServerConfig([]string{"--config", tc.path}, io.Discard, envMap(nil))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var buf bytes.Buffer
		warnDeprecated(slog.New(slog.NewTextHandler(&buf, nil)), &cfg)
		got := buf.String()
		if !tc.warn {
			if got != "" {
				t.Errorf("%s: unexpected warning: %s", tc.name, got)
			}
			continue
		}
		for _, want := range []string{"level=WARN", "key=export.online_within", "agents.offline_after"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: warning %q lacks %q", tc.name, got, want)
			}
		}
	}

	// A real start: the server comes up and its log carries the warning.
	srv := startServer(t, t.TempDir(), nil, "--config", old)
	if out := srv.stderr.String(); !strings.Contains(out, "deprecated key is ignored") ||
		!strings.Contains(out, "key=export.online_within") {
		t.Errorf("server log lacks the deprecation warning:\n%s", out)
	}
	if err := srv.stop(); err != nil {
		t.Error(err)
	}
}
