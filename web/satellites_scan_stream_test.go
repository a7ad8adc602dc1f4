package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/sshtest"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
)

// TestSatelliteScanStreamCut: the satellite's output ends after its first
// device line (its lanscout's output goes through `head -n 1`, and the
// command exits 0 without the summary). The device that arrived is
// stored, and the run is closed as failed with why, not left running and
// not counted as a complete scan.
func TestSatelliteScanStreamCut(t *testing.T) {
	sshtest.Skip(t)
	real, env := sshtest.SelfCommand(t, "lanscout-real", "TestLanscoutHelperProcess")
	env["LANSCOUT_STATE"] = t.TempDir()
	script := "#!/bin/sh\n'" + real + "' \"$@\" | head -n 1\n"
	if err := os.WriteFile(filepath.Join(filepath.Dir(real), "lanscout"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(l.Addr().String())
	l.Close()
	sshd := sshtest.Start(t, sshtest.Options{Listen: addr, HostKeyTypes: []string{"ed25519"}, Env: env})

	f := newFixture(t)
	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "127.0.0.0/30", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	sat, err := f.store.CreateSatellite(ctx, inventory.Satellite{Name: "loop", Address: "127.0.0.1", Port: int(addr.Port()),
		User: "root", Subnets: []string{"127.0.0.0/8"}}, sshd.ClientPEM)
	if err != nil {
		t.Fatal(err)
	}
	hk := sshd.HostKeys["ed25519"]
	if _, err := f.store.SetSatelliteTrustedKey(ctx, sat.ID, satellite.FormatHostKey(hk), satellite.Fingerprint(hk)); err != nil {
		t.Fatal(err)
	}
	admin := f.tokens[inventory.RoleAdmin]
	var tv struct{ Satellite inventory.Satellite }
	if code := f.api(admin, http.MethodPost, fmt.Sprintf("/api/v1/satellites/%d/test", sat.ID), nil, &tv); code != http.StatusOK ||
		!tv.Satellite.HasLanscout {
		t.Fatalf("test: %d %+v\n%s", code, tv, sshd.Log())
	}
	var run inventory.ScanRun
	if code := f.api(f.tokens[inventory.RoleOperator], http.MethodPost, fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, &run); code != http.StatusAccepted {
		t.Fatalf("scan now: %d", code)
	}
	deadline := time.Now().Add(90 * time.Second)
	for run.Status == inventory.ScanRunning && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if run, err = f.store.ScanRun(ctx, run.ID); err != nil {
			t.Fatal(err)
		}
	}
	if run.Status != inventory.ScanFailed || !strings.Contains(run.Error, "cut off") || run.Stats.Recorded != 1 {
		t.Fatalf("run %+v, want failed with the stream cut off and one device recorded\n%s", run, sshd.Log())
	}
	page, err := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Devices) != 1 {
		t.Fatalf("stored %+v, want the one device that arrived", page.Devices)
	}
	t.Logf("run error: %s; kept %s", run.Error, page.Devices[0].IP)
}
