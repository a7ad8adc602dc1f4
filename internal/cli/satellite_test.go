package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/web"
)

func TestSatellitesConfig(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "sat_key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	hostPub, _, _ := ed25519.GenerateKey(rand.Reader)
	hk, _ := ssh.NewPublicKey(hostPub)
	hostKey := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hk)))
	write := func(body string) string {
		p := filepath.Join(dir, "lanscout.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := `satellites:
  - name: branch-1
    address: 10.20.0.5
    user: wol
    key_file: ` + keyFile + `
    host_key: "` + hostKey + `"
    subnets: [10.20.0.0/24, 10.21.0.7/24]
  - name: branch-2
    address: sat2.example.org
    port: 2222
    user: wol
    key_file: ` + keyFile + `
    subnets: [10.30.0.0/16]
    wake_command: "lanscout wake --broadcast {broadcast} {macs}"
`
	cfg, err := loadServerConfig([]string{"--config", write(good), "--data", dir}, io.Discard, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Satellites.Hosts) != 2 || cfg.Satellites.Hosts[1].Port != 2222 || cfg.Satellites.MaxConnections != 0 {
		t.Fatalf("parsed %+v", cfg.Satellites)
	}
	// The mapping form: a connection limit and the same hosts.
	mapped := strings.Replace(strings.ReplaceAll(good, "\n  ", "\n    "), "satellites:\n", "satellites:\n  max_connections: 1\n  hosts:\n", 1)
	if cfg, err := loadServerConfig([]string{"--config", write(mapped), "--data", dir}, io.Discard, func(string) string { return "" }); err != nil ||
		len(cfg.Satellites.Hosts) != 2 || cfg.Satellites.Hosts[1].Port != 2222 || cfg.Satellites.MaxConnections != 1 {
		t.Fatalf("mapping form %q: %+v %v", mapped, cfg.Satellites, err)
	} else {
		var o web.Options
		if err := cfg.Wake.apply(&o, serverDeps{}); err != nil {
			t.Fatal(err)
		}
		cfg.Satellites.Hosts = nil // apply would store them
		if err := cfg.Satellites.apply(&o, serverDeps{}); err != nil || o.Wake.SatelliteConnections != 1 {
			t.Errorf("apply: %v, connections %d", err, o.Wake.SatelliteConnections)
		}
	}
	for _, bad := range []struct{ yaml, want string }{
		{strings.Replace(mapped, "max_connections: 1", "max_connections: 101", 1), "max_connections 101"},
		{strings.Replace(mapped, "max_connections: 1", "max_conns: 1", 1), "max_conns"},
		{strings.Replace(mapped, "user: wol\n      key_file", "user: wol\n      keyfile: x\n      key_file", 1), "keyfile"},
		{"satellites: 3\n", "want a list of satellites"},
	} {
		_, err := loadServerConfig([]string{"--config", write(bad.yaml), "--data", dir}, io.Discard, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error with %q", bad.yaml, err, bad.want)
		}
	}

	for _, bad := range []struct{ yaml, want string }{
		{strings.Replace(good, "user: wol\n    key_file", "user: wol\n    keyfile: x\n    key_file", 1), "keyfile"},
		{strings.Replace(good, `"lanscout wake --broadcast {broadcast} {macs}"`, `"wakeonlan {macs}; reboot"`, 1), "invalid wake command"},
		{strings.Replace(good, "10.30.0.0/16", "10.30.0.0/33", 1), "not an IPv4 CIDR"},
		{strings.Replace(good, "name: branch-2", "name: branch-1", 1), "used twice"},
		{strings.Replace(good, hostKey, "ssh-ed25519 nope", 1), "host key"},
		{strings.Replace(good, "key_file: "+keyFile+"\n    subnets: [10.30", "key_file: /no/such/key\n    subnets: [10.30", 1), "/no/such/key"},
	} {
		_, err := loadServerConfig([]string{"--config", write(bad.yaml), "--data", dir}, io.Discard, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("want an error mentioning %q, got %v", bad.want, err)
		}
	}

	store, err := inventory.OpenSQLite(t.Context(), dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d := serverDeps{store: store, logger: slog.New(slog.DiscardHandler), cfg: &cfg}
	for range 2 { // applied at every start: the second changes nothing
		if err := cfg.Satellites.apply(&web.Options{}, d); err != nil {
			t.Fatal(err)
		}
	}
	sats, err := store.Satellites(t.Context())
	if err != nil || len(sats) != 2 {
		t.Fatalf("stored %+v, %v", sats, err)
	}
	b1, b2 := sats[0], sats[1]
	if b1.Source != "config" || b1.KeyFile != keyFile || b1.HostKey != hostKey || b1.Fingerprint != ssh.FingerprintSHA256(hk) ||
		strings.Join(b1.Subnets, ",") != "10.20.0.0/24,10.21.0.0/24" || b1.WakeCommand != "" {
		t.Errorf("branch-1 %+v", b1)
	}
	if b2.Trusted() || b2.Port != 2222 || b2.WakeCommand != "lanscout wake --broadcast {broadcast} {macs}" {
		t.Errorf("branch-2 %+v", b2)
	}
	entries, _, err := store.AuditLog(t.Context(), inventory.AuditQuery{Action: "satellite.trust"})
	if err != nil || len(entries) != 1 {
		t.Errorf("trust audited %d times (%v), want once", len(entries), err)
	}
}
