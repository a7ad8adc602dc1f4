package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/web"
)

// TestElectionConfig reads the election section from YAML as the server
// does, and refuses settings that would make the election unsafe.
func TestElectionConfig(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string // error substring; "" for none
		check      func(t *testing.T, o web.ElectionOptions)
	}{
		{"defaults", "", "", func(t *testing.T, o web.ElectionOptions) {
			if o.Config.Allowed != nil || o.NoAutoSubnets || o.Interval != 0 {
				t.Errorf("defaults: %+v", o)
			}
		}},
		{"everything", `election:
  allowed: [10.0.0.0/8]
  denied: [10.99.0.0/16]
  poll_interval: 2m
  max_alive: 4
  min_contacts: 5
  mature_contacts: 100
  threshold: 0.2
  failure_limit: 2
  cooldown: 30m
  max_cooldown: 6h
  interval: 30s
  coalesce: 250ms
  auto_subnets: false
`, "", func(t *testing.T, o web.ElectionOptions) {
			c := o.Config
			if len(c.Allowed) != 1 || c.Allowed[0].String() != "10.0.0.0/8" || c.Denied[0].String() != "10.99.0.0/16" ||
				c.PollInterval != 2*time.Minute || c.MaxAlive != 4 || c.MinContacts != 5 || c.MatureContacts != 100 ||
				c.Threshold != 0.2 || c.FailureLimit != 2 || c.Cooldown != 30*time.Minute || c.MaxCooldown != 6*time.Hour ||
				o.Interval != 30*time.Second || o.Coalesce != 250*time.Millisecond || !o.NoAutoSubnets {
				t.Errorf("options %+v", o)
			}
		}},
		{"empty allowed", "election:\n  allowed: []\n", "allowed is empty", nil},
		{"host bits", "election:\n  allowed: [10.1.2.3/8]\n", "host bits", nil},
		{"IPv6 denied", "election:\n  denied: [fd00::/8]\n", "only IPv4", nil},
		{"bad range", "election:\n  denied: [nonsense]\n", "range \"nonsense\"", nil},
		{"threshold", "election:\n  threshold: 1.5\n", "threshold", nil},
		{"max alive one", "election:\n  max_alive: 1\n", "max_alive 1", nil},
		{"interval", "election:\n  interval: 2h\n", "interval 2h0m0s is not between", nil},
		{"unknown key", "election:\n  max_scanners: 5\n", "field max_scanners not found", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lanscout.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := defaultServerConfig()
			err := loadConfigFile(path, &cfg)
			if err == nil {
				err = cfg.Election.validate()
			}
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if tc.check != nil {
				var o web.Options
				if err := cfg.Election.apply(&o, serverDeps{}); err != nil {
					t.Fatal(err)
				}
				tc.check(t, o.Election)
			}
		})
	}
}
