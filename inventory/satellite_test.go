package inventory

import (
	"bytes"
	"database/sql"
	"errors"
	"net/netip"
	"testing"
)

func TestSatelliteStore(t *testing.T) {
	s, _, _ := openTest(t)
	ctx := t.Context()
	key := []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nnot really\n-----END OPENSSH PRIVATE KEY-----\n")
	sat, err := s.CreateSatellite(ctx, Satellite{Name: "branch-1", Address: "10.9.0.5", User: "wol",
		Subnets: []string{"10.9.0.7/24", "10.9.0.0/24", "10.10.0.0/16"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	if sat.Port != 22 || sat.WakeCommand != "" || !sat.HasKey || sat.Source != "api" ||
		len(sat.Subnets) != 2 || sat.Subnets[0] != "10.9.0.0/24" || sat.Trusted() {
		t.Errorf("created %+v", sat)
	}
	if !sat.Serves(netip.MustParsePrefix("10.10.4.0/24")) || sat.Serves(netip.MustParsePrefix("10.11.0.0/24")) {
		t.Error("Serves is wrong")
	}
	// The key is sealed at rest: the row holds no clear text.
	var raw []byte
	if err := s.r.QueryRowContext(ctx, `SELECT private_key FROM satellites WHERE id = ?`, sat.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("not really")) {
		t.Error("private key stored in clear")
	}
	got, err := s.SatellitePrivateKey(ctx, sat.ID)
	if err != nil || !bytes.Equal(got, key) {
		t.Errorf("SatellitePrivateKey = %q, %v", got, err)
	}
	if _, err := s.CreateSatellite(ctx, Satellite{Name: "branch-1", Address: "h", User: "u"}, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate name: %v", err)
	}
	for _, bad := range []Satellite{
		{Name: "", Address: "h", User: "u"},
		{Name: "a b", Address: "h", User: "u"},
		{Name: "x", Address: "h; rm -rf /", User: "u"},
		{Name: "x", Address: "h", User: "u$(id)"},
		{Name: "x", Address: "h", User: "u", Port: 70000},
		{Name: "x", Address: "h", User: "u", Subnets: []string{"2001:db8::/64"}},
		{Name: "x", Address: "h", User: "u", WakeCommand: "wakeonlan"},
		{Name: "x", Address: "h", User: "u", WakeCommand: "etherwake -i {iface} {macs}"},
		{Name: "x", Address: "h", User: "u", Interface: "eth0;reboot"},
	} {
		if _, err := s.CreateSatellite(ctx, bad, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: err = %v, want ErrInvalid", bad, err)
		}
	}

	// Trust: only the pending key whose fingerprint was confirmed.
	if _, err := s.TrustSatelliteKey(ctx, sat.ID, "SHA256:x"); !errors.Is(err, ErrConflict) {
		t.Errorf("trust with nothing pending: %v", err)
	}
	if _, err := s.SetSatellitePendingKey(ctx, sat.ID, "ssh-ed25519 AAAA", "SHA256:one"); err != nil {
		t.Fatal(err)
	}
	if sat, _ = s.Satellite(ctx, sat.ID); sat.Trusted() || sat.PendingFingerprint != "SHA256:one" {
		t.Errorf("pending key trusted or lost: %+v", sat)
	}
	if _, err := s.TrustSatelliteKey(ctx, sat.ID, "SHA256:two"); !errors.Is(err, ErrConflict) {
		t.Errorf("trust of another fingerprint: %v", err)
	}
	if sat, err = s.TrustSatelliteKey(ctx, sat.ID, "SHA256:one"); err != nil || !sat.Trusted() ||
		sat.HostKey != "ssh-ed25519 AAAA" || sat.PendingHostKey != "" {
		t.Errorf("trust: %+v, %v", sat, err)
	}

	// Renaming reseals the key; a nil key keeps it; moving the host forgets trust.
	sat.Name = "branch-one"
	if sat, err = s.UpdateSatellite(ctx, sat, nil); err != nil || !sat.Trusted() {
		t.Fatalf("rename: %+v, %v", sat, err)
	}
	if got, err := s.SatellitePrivateKey(ctx, sat.ID); err != nil || !bytes.Equal(got, key) {
		t.Errorf("key after rename = %q, %v", got, err)
	}
	sat.Address = "10.9.0.6"
	if sat, err = s.UpdateSatellite(ctx, sat, []byte{}); err != nil || sat.Trusted() || sat.HasKey {
		t.Errorf("moved and key removed: %+v, %v", sat, err)
	}
	if sat, err = s.SetSatelliteTrustedKey(ctx, sat.ID, "ssh-ed25519 BBBB", "SHA256:cfg"); err != nil || sat.Fingerprint != "SHA256:cfg" {
		t.Errorf("trusted from config: %+v, %v", sat, err)
	}
	sat.WakeCommand, sat.Interface = "etherwake -i {iface} {macs}", "br-lan"
	if sat, err = s.UpdateSatellite(ctx, sat, nil); err != nil || sat.Interface != "br-lan" {
		t.Errorf("interface: %+v, %v", sat, err)
	}
	if err := s.SetSatelliteLanscout(ctx, sat.ID, true); err != nil {
		t.Fatal(err)
	}
	if all, err := s.Satellites(ctx); err != nil || len(all) != 1 || !all[0].HasLanscout {
		t.Errorf("Satellites = %+v, %v", all, err)
	}
	if byName, err := s.SatelliteByName(ctx, "branch-one"); err != nil || byName.ID != sat.ID {
		t.Errorf("SatelliteByName = %+v, %v", byName, err)
	}
	if err := s.DeleteSatellite(ctx, sat.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Satellite(ctx, sat.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM satellites`).Scan(&n); err != nil && !errors.Is(err, sql.ErrNoRows) || n != 0 {
		t.Errorf("rows left: %d, %v", n, err)
	}
}
