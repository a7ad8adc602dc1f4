package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/cli"
	"github.com/lanscout/lanscout/internal/sshtest"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
)

// TestLanscoutHelperProcess is the lanscout command on the satellite: its
// sshd runs this test binary through sshtest.SelfCommand.
func TestLanscoutHelperProcess(t *testing.T) {
	args, ok := sshtest.HelperArgs()
	if !ok {
		t.Skip("helper: the satellite scan test's sshd runs this binary as lanscout")
	}
	os.Exit(cli.Run(context.Background(), args, os.Stdin, os.Stdout, os.Stderr))
}

// TestSatelliteScan: "Scan now" on a subnet served by a satellite with
// lanscout installed runs `lanscout scan --format jsonl` there over SSH and
// stores what it found under a run whose scanner is the satellite.
// Everything is on loopback: the satellite is a real sshd on 127.0.0.1,
// the subnet 127.0.0.0/30, scanned with TCP connects.
func TestSatelliteScan(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sn, sshd := f.loopSatellite("")

	run := f.scanNow(sn)
	if run.Scanner != (inventory.Scanner{Kind: inventory.ScannerSatellite, ID: "loop"}) {
		t.Errorf("run scanner %+v, want the satellite", run.Scanner)
	}
	// A second one while it runs is refused, as for the server's scans.
	if code := f.api(f.tokens[inventory.RoleOperator], http.MethodPost, fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, nil); code != http.StatusConflict {
		t.Errorf("second scan while one runs: %d, want 409", code)
	}
	run = f.waitScanRun(run)
	if run.Status != inventory.ScanDone || run.Error != "" {
		t.Fatalf("run %+v\n%s", run, sshd.Log())
	}
	page, err := f.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID})
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, d := range page.Devices {
		ips = append(ips, d.IP)
	}
	if !strings.Contains(strings.Join(ips, " "), "127.0.0.1") || run.Stats.Recorded == 0 {
		t.Errorf("devices %v (recorded %d), want 127.0.0.1 among them", ips, run.Stats.Recorded)
	}
	t.Logf("satellite scan: %d devices %v in %s", len(ips), ips, run.Finished.Sub(run.Started))
}

// loopSatellite starts a satellite on loopback, a real sshd on 127.0.0.1
// whose lanscout is this test binary, and registers it in f's store as
// "loop", trusted and tested, serving 127.0.0.0/30: a subnet it creates,
// scanned with TCP connects. wrap, when not "", is a shell script put on
// the satellite as lanscout in front of the real one, which it calls as
// "$real".
func (f *fixture) loopSatellite(wrap string) (inventory.Subnet, *sshtest.Server) {
	t := f.t
	t.Helper()
	sshtest.Skip(t)
	name := "lanscout"
	if wrap != "" {
		name = "lanscout-real"
	}
	real, env := sshtest.SelfCommand(t, name, "TestLanscoutHelperProcess")
	env["LANSCOUT_STATE"] = t.TempDir()
	lanscoutPath := filepath.Join(filepath.Dir(real), "lanscout")
	if wrap != "" {
		script := "#!/bin/sh\nreal='" + real + "'\n" + wrap
		if err := os.WriteFile(lanscoutPath, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sshd := sshtest.Start(t, sshtest.Options{HostKeyTypes: []string{"ed25519"}, Env: env})

	ctx := context.Background()
	sn, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "127.0.0.0/30", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	sat, err := f.store.CreateSatellite(ctx, inventory.Satellite{Name: "loop", Address: "127.0.0.1", Port: int(sshd.Addr.Port()),
		User: "root", Subnets: []string{"127.0.0.0/8"}}, sshd.ClientPEM)
	if err != nil {
		t.Fatal(err)
	}
	hk := sshd.HostKeys["ed25519"]
	if _, err := f.store.SetSatelliteTrustedKey(ctx, sat.ID, satellite.FormatHostKey(hk), satellite.Fingerprint(hk)); err != nil {
		t.Fatal(err)
	}
	// The test finds lanscout there and records it.
	var tv struct {
		Probe     satellite.ProbeResult
		Satellite inventory.Satellite
	}
	if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodPost, fmt.Sprintf("/api/v1/satellites/%d/test", sat.ID), nil, &tv); code != http.StatusOK ||
		tv.Probe.LanscoutPath != lanscoutPath || !tv.Satellite.HasLanscout {
		t.Fatalf("test: %d %+v\n%s", code, tv, sshd.Log())
	}
	return sn, sshd
}

// scanNow asks for a scan of sn, as an operator, and returns its run.
func (f *fixture) scanNow(sn inventory.Subnet) inventory.ScanRun {
	f.t.Helper()
	var run inventory.ScanRun
	if code := f.api(f.tokens[inventory.RoleOperator], http.MethodPost, fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, &run); code != http.StatusAccepted {
		f.t.Fatalf("scan now: %d", code)
	}
	return run
}

// waitScanRun waits, up to 90s, for run to end and returns it as stored.
func (f *fixture) waitScanRun(run inventory.ScanRun) inventory.ScanRun {
	f.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for run.Status == inventory.ScanRunning && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		var err error
		if run, err = f.store.ScanRun(context.Background(), run.ID); err != nil {
			f.t.Fatal(err)
		}
	}
	return run
}
