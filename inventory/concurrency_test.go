package inventory

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentWriters runs what the appliance runs at once: a scan
// streaming devices, the UI reading pages, and a second process on the same
// files (`lanscout user add --data DIR` while the server runs). Nothing may
// fail with "database is locked".
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s, _, dir := openTest(t)
	other, err := OpenSQLite(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	sn := mustSubnet(t, s, "10.40.0.0/22")
	run, err := s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerServer, ID: "server"}, "arp")
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	wg.Go(func() {
		for i := 0; i < 300; i++ {
			if _, err := s.RecordDevice(ctx, run.ID, dev(fmt.Sprintf("10.40.%d.%d", i/250, i%250+1), benchMAC(9, i), "", "")); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		for i := 0; i < 3; i++ {
			if _, err := other.CreateUser(ctx, fmt.Sprintf("user%d", i), "a long enough password", RoleViewer); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		for i := 0; i < 200; i++ {
			if err := other.Audit(ctx, AuditEntry{Actor: "cli", Action: "test.write"}); err != nil {
				errs <- err
				return
			}
		}
	})
	for r := 0; r < 3; r++ {
		wg.Go(func() {
			for i := 0; i < 50; i++ {
				if _, err := s.Devices(ctx, DeviceQuery{Search: "10.40"}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if page, err := other.Devices(ctx, DeviceQuery{}); err != nil || page.Total != 300 {
		t.Errorf("the other process sees %d devices, %v", page.Total, err)
	}
}
