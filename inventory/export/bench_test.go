package export

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
)

// benchStore holds n devices in one /16, a third of them SNMP switches.
func benchStore(b *testing.B, n int) *inventory.SQLite {
	b.Helper()
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, b.TempDir(), inventory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.20.0.0/16", Site: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	run, err := store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerServer, ID: "server"}, "snmp")
	if err != nil {
		b.Fatal(err)
	}
	ds := make([]scan.Device, n)
	for i := range ds {
		ds[i] = scan.Device{IP: fmt.Sprintf("10.20.%d.%d", i/250, i%250+1), MAC: fmt.Sprintf("02:00:00:00:%02x:%02x", i/256, i%256),
			Category: "workstation"}
		if i%3 == 0 {
			ds[i].Category, ds[i].Vendor = "switch", "Cisco"
			ds[i].SNMP = &scan.SNMPInfo{Version: "2c", Credential: "public", SysName: fmt.Sprintf("sw-%d", i)}
		}
	}
	if _, err := store.RecordDevices(ctx, run.ID, ds); err != nil {
		b.Fatal(err)
	}
	if _, err := store.FinishScan(ctx, run.ID, inventory.ScanEnd{}); err != nil {
		b.Fatal(err)
	}
	return store
}

// BenchmarkExport10k reads 10,000 devices from SQLite and writes each
// format: what one HTTP SD refresh or one `lanscout export` costs.
func BenchmarkExport10k(b *testing.B) {
	store := benchStore(b, 10_000)
	for _, format := range []string{"prometheus", "icinga2", "nagios"} {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				hosts, err := Collect(context.Background(), store, DefaultFilter(format))
				if err != nil {
					b.Fatal(err)
				}
				if err := Write(io.Discard, format, hosts, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
