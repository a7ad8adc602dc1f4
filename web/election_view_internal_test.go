package web

import (
	"context"
	"crypto/ed25519"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
)

// TestElectionViewNamesSatellite: with no agent elected, the scanner the
// election names is the one dispatchScan uses: a trusted satellite with
// lanscout serving the subnet before the server; without lanscout (it
// cannot scan) the server stays.
func TestElectionViewNamesSatellite(t *testing.T) {
	ctx := context.Background()
	srv, store := electionServer(t, ElectionOptions{ServerNetworks: func() ([]netip.Prefix, error) {
		return []netip.Prefix{netip.MustParsePrefix("10.46.0.0/16")}, nil
	}})
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.46.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	sat, err := store.CreateSatellite(ctx, inventory.Satellite{Name: "branch", Address: "192.0.2.1", Port: 22, User: "root",
		Subnets: []string{"10.46.1.0/24"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetSatelliteTrustedKey(ctx, sat.ID, satellite.FormatHostKey(hk), satellite.Fingerprint(hk)); err != nil {
		t.Fatal(err)
	}
	el, err := srv.subnetElection(ctx, sn.ID)
	if err != nil || len(el.Scanners) != 1 || el.Scanners[0].Kind != "server" {
		t.Fatalf("satellite without lanscout: %+v, %v; want the server", el, err)
	}
	if err := store.SetSatelliteLanscout(ctx, sat.ID, true); err != nil {
		t.Fatal(err)
	}
	el, err = srv.subnetElection(ctx, sn.ID)
	if err != nil || len(el.Scanners) != 1 || el.Scanners[0].Kind != "satellite" || el.Scanners[0].ID != "branch" ||
		!strings.Contains(el.Scanners[0].Reason, "satellite branch") || el.NoScannerReason == "" {
		t.Fatalf("satellite with lanscout: %+v, %v; want satellite branch", el, err)
	}
	// An elected agent comes first, as in dispatchScan.
	electionAgent(t, store, "pc-c", "wired", "10.46.1.5/24", 5, true)
	if err := srv.electNow(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if el, err = srv.subnetElection(ctx, sn.ID); err != nil || len(el.Scanners) != 1 || el.Scanners[0].Kind != "agent" {
		t.Errorf("with an elected agent: %+v, %v", el, err)
	}
}
