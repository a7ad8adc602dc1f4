package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/web"
)

func TestOCSConfig(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("agent secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", `ocs:
  enabled: true
  path: /ocsinventory
  realm: Lab agents
  users:
    - name: agent
      bcrypt: "`+string(hash)+`"
    - name: legacy
      password: "long enough"
  prolog_freq: 12
  ipdiscover_latency: 20
  max_body: 524288
  max_xml: 8388608
  max_ratio: 50
`)
	cfg, err := loadServerConfig([]string{"--config", good}, io.Discard, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	var o web.Options
	if err := cfg.OCS.apply(&o, serverDeps{}); err != nil {
		t.Fatal(err)
	}
	got := o.OCS
	if !got.Enabled || got.Path != "/ocsinventory" || got.Realm != "Lab agents" || got.PrologFreq != 12 ||
		got.IPDiscoverLatency != 20 || got.Limits.MaxBody != 524288 || got.Limits.MaxXML != 8388608 || got.Limits.MaxRatio != 50 ||
		len(got.Users) != 2 || got.Users[0].BcryptHash != string(hash) || got.Users[1].Password != "long enough" {
		t.Errorf("options %+v", got)
	}
	// The options it makes are ones the server accepts.
	store, err := inventory.OpenSQLite(t.Context(), t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv, err := web.New(web.Options{Store: store, OCS: got, ScheduleCheck: -1})
	if err != nil {
		t.Fatalf("web.New refuses the options: %v", err)
	}
	srv.Close(t.Context())

	cases := map[string]struct{ yaml, want string }{
		"unknown key":     {"ocs:\n  enable: true\n", "field enable not found"},
		"relative path":   {"ocs:\n  path: ocsinventory\n", "ocs.path"},
		"path in the API": {"ocs:\n  path: /api/v1/ocs\n", "ocs.path"},
		"user no secret":  {"ocs:\n  users:\n    - name: a\n", "exactly one of bcrypt and password"},
		"user both":       {"ocs:\n  users:\n    - name: a\n      password: abcdefghij\n      bcrypt: x\n", "exactly one"},
		"bad bcrypt":      {"ocs:\n  users:\n    - name: a\n      bcrypt: notahash\n", "bcrypt"},
		"short password":  {"ocs:\n  users:\n    - name: a\n      password: short\n", "shorter than 8"},
		"twice":           {"ocs:\n  users:\n    - name: a\n      password: abcdefghij\n    - name: a\n      password: abcdefghik\n", "appears twice"},
		"colon in name":   {"ocs:\n  users:\n    - name: \"a:b\"\n      password: abcdefghij\n", "without ':'"},
		"quote in realm":  {"ocs:\n  realm: 'a\"b'\n", "ocs.realm"},
		"latency":         {"ocs:\n  ipdiscover_latency: 20000\n", "ipdiscover_latency"},
		"prolog freq":     {"ocs:\n  prolog_freq: -1\n", "prolog_freq"},
		"ratio":           {"ocs:\n  max_ratio: 2\n", "max_ratio"},
		"negative size":   {"ocs:\n  max_xml: -1\n", "cannot be negative"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := loadServerConfig([]string{"--config", write(strings.ReplaceAll(name, " ", "-")+".yaml", c.yaml)}, io.Discard, envMap(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
