package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lanscout/lanscout/inventory"
)

// TestSatelliteScanStreamCut: the satellite's output ends after its first
// device line (its lanscout's output goes through `head -n 1`, and the
// command exits 0 without the summary). The device that arrived is
// stored, and the run is closed as failed with why, not left running and
// not counted as a complete scan.
func TestSatelliteScanStreamCut(t *testing.T) {
	f := newFixture(t)
	sn, sshd := f.loopSatellite(`"$real" "$@" | head -n 1` + "\n")
	run := f.waitScanRun(f.scanNow(sn))
	if run.Status != inventory.ScanFailed || !strings.Contains(run.Error, "cut off") || run.Stats.Recorded != 1 {
		t.Fatalf("run %+v, want failed with the stream cut off and one device recorded\n%s", run, sshd.Log())
	}
	page, err := f.store.Devices(context.Background(), inventory.DeviceQuery{SubnetID: sn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Devices) != 1 {
		t.Fatalf("stored %+v, want the one device that arrived", page.Devices)
	}
	t.Logf("run error: %s; kept %s", run.Error, page.Devices[0].IP)
}
