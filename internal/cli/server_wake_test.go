package cli

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/web"
	"github.com/lanscout/lanscout/wol"
)

func TestWakeConfig(t *testing.T) {
	dir := t.TempDir()
	load := func(body string) (serverConfig, error) {
		p := filepath.Join(dir, "server.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return loadServerConfig([]string{"--config", p}, io.Discard, envMap(nil))
	}
	cfg, err := load("wake:\n  fallback: directed_broadcast\n  confirm_timeout: 90s\n  probe_interval: 2s\n  method: udp\n" +
		"  ports: [9]\n  password: 11:22:33:44:55:66\n  max_targets: 100\n")
	if err != nil {
		t.Fatal(err)
	}
	var o web.Options
	if err := cfg.Wake.apply(&o, serverDeps{}); err != nil {
		t.Fatal(err)
	}
	w := o.Wake
	if w.Fallback != web.WakeFallbackDirected || w.ConfirmTimeout != 90*time.Second || w.ProbeInterval != 2*time.Second ||
		w.Method != wol.MethodUDP || !slices.Equal(w.Ports, []int{9}) || len(w.Password) != 6 ||
		w.MaxTargets != 100 {
		t.Fatalf("applied %+v", w)
	}
	// The defaults are web's: an empty section sets nothing.
	cfg, err = load("listen: \":8443\"\n")
	if err != nil {
		t.Fatal(err)
	}
	o = web.Options{}
	if err := cfg.Wake.apply(&o, serverDeps{}); err != nil || o.Wake.Fallback != web.WakeFallbackNone || o.Wake.ConfirmTimeout != 0 {
		t.Fatalf("empty section: %+v, %v", o.Wake, err)
	}

	for _, tc := range []struct{ body, want string }{
		{"wake:\n  fallback: everywhere\n", `wake fallback "everywhere"`},
		{"wake:\n  method: carrier-pigeon\n", `method "carrier-pigeon"`},
		{"wake:\n  ports: [0]\n", "ports: 0"},
		{"wake:\n  password: hunter2\n", "wake: password"},
		{"wake:\n  confirm_timeout: 1s\n", "confirm_timeout 1s"},
		{"wake:\n  probe_interval: 10m\n", "probe_interval 10m0s"},
		{"wake:\n  max_targets: -1\n", "max_targets -1"},
		{"wake:\n  confirm: 3m\n", "field confirm not found"},
	} {
		if _, err := load(tc.body); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.body, err, tc.want)
		}
	}
	// A refused password is not echoed.
	if _, err := load("wake:\n  password: hunter2\n"); err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
}
