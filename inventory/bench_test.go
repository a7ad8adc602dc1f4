package inventory

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/lanscout/lanscout/scan"
)

// The targets: 10,000 agent inventories in 60 s or less on two
// cores, 100,000 device sightings, and the device list under 150 ms p95
// with 100k devices. Run them at the target sizes with
//
//	go test -run '^$' -bench 'Ingest' -benchtime 10000x ./inventory    (inventories)
//	go test -run '^$' -bench 'Sightings' -benchtime 100000x ./inventory
//	go test -run '^$' -bench 'DeviceList' ./inventory

// cpuTime is the CPU time this process used. Reported per op beside the
// wall time, it stays meaningful when other work shares the two cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportRate(b *testing.B, start time.Time, cpu0 time.Duration, unit string) {
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), unit+"/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
}

func benchStore(b *testing.B) *SQLite {
	b.Helper()
	s, err := OpenSQLite(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchMAC(prefix byte, i int) string {
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", prefix, byte(i>>24), byte(i>>16), byte(i>>8), byte(i))
}

// BenchmarkIngestAgentInventories stores one agent inventory per op
// (hostname, OS, a wired and a wireless NIC, three addresses) into an
// inventory that already holds the discovered devices of 40 /24 subnets,
// so that every inventory links to its device by MAC. "new" is a first
// inventory; "again" replaces one already stored, as agents do every day.
func BenchmarkIngestAgentInventories(b *testing.B) {
	ctx := context.Background()
	const subnets, perSubnet = 40, 250
	inventory := func(i int) AgentInventory {
		k := i%(subnets*perSubnet) + 1
		n, h := (k-1)/perSubnet, (k-1)%perSubnet+1
		return AgentInventory{
			UID: fmt.Sprintf("agent-%d", i), Kind: AgentLanscout, Hostname: fmt.Sprintf("pc-%d.corp.example", k),
			OSName: "Windows 11 Pro", OSVersion: "10.0.26100", Manufacturer: "Dell Inc.", Model: "Latitude 7440",
			Serial: fmt.Sprintf("SN%08d", i), UUID: fmt.Sprintf("4c4c4544-%012d", i), Version: "1.0.0",
			NICs: []NIC{
				{Name: "eth0", MAC: benchMAC(1, k), Kind: NICWired, State: "up",
					Addresses: []string{fmt.Sprintf("10.%d.%d.%d/24", 60+n/250, n%250, h), fmt.Sprintf("fe80::%x/64", k)}},
				{Name: "wlan0", MAC: benchMAC(2, i), Kind: NICWireless, State: "up",
					Addresses: []string{fmt.Sprintf("172.16.%d.%d/16", byte(i>>8), byte(i))}},
			},
		}
	}
	setup := func(b *testing.B) *SQLite {
		s := benchStore(b)
		for n := 0; n < subnets; n++ {
			sn := mustSubnet(b, s, fmt.Sprintf("10.%d.%d.0/24", 60+n/250, n%250))
			run, err := s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerServer, ID: "server"}, "arp")
			if err != nil {
				b.Fatal(err)
			}
			var ds []scan.Device
			for h := 1; h <= perSubnet; h++ {
				i := n*perSubnet + h
				ds = append(ds, dev(fmt.Sprintf("10.%d.%d.%d", 60+n/250, n%250, h), benchMAC(1, i), fmt.Sprintf("pc-%d", i), "workstation"))
			}
			if _, err := s.RecordDevices(ctx, run.ID, ds); err != nil {
				b.Fatal(err)
			}
			if _, err := s.FinishScan(ctx, run.ID, ScanEnd{}); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}
	for _, mode := range []string{"new", "again"} {
		b.Run(mode, func(b *testing.B) {
			s := setup(b)
			agents := b.N
			if mode == "again" {
				agents = min(b.N, subnets*perSubnet)
				for i := 0; i < agents; i++ {
					if _, err := s.RecordAgentInventory(ctx, inventory(i)); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for i := 0; i < b.N; i++ {
				inv := inventory(i % agents)
				if mode == "again" {
					inv.OSVersion = fmt.Sprintf("10.0.%d", 26100+i) // a changed inventory
				}
				if _, err := s.RecordAgentInventory(ctx, inv); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportRate(b, start, cpu0, "inventories")
		})
	}
}

// BenchmarkIngestSightings records one device per op. "streamed" commits
// each device on its own, as a server scan does; "batch" uploads 500 per
// transaction, as an agent's report does; "again" re-records devices
// already known, the steady state of scheduled scans.
func BenchmarkIngestSightings(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []string{"streamed", "batch", "again"} {
		b.Run(mode, func(b *testing.B) {
			s := benchStore(b)
			var (
				run     ScanRun
				addr    netip.Addr
				subnetN int
				pending []scan.Device
			)
			// Devices spread over /16 subnets, a new one every 65,000.
			next := func(i int) scan.Device {
				if i%65000 == 0 {
					if run.ID != 0 {
						if _, err := s.FinishScan(ctx, run.ID, ScanEnd{}); err != nil {
							b.Fatal(err)
						}
					}
					sn := mustSubnet(b, s, fmt.Sprintf("10.%d.0.0/16", 100+subnetN))
					subnetN++
					var err error
					if run, err = s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerAgent, ID: "agent-1"}, "arp"); err != nil {
						b.Fatal(err)
					}
					addr = sn.Prefix().Addr().Next()
				}
				d := withSNMP(dev(addr.String(), benchMAC(3, i), fmt.Sprintf("host-%d", i), "workstation"), fmt.Sprintf("host-%d", i), "")
				d.Vendor, d.Model, d.Reasons = "Dell", "OptiPlex 7010", []string{"sysObjectID 1.3.6.1.4.1.311.1.1.3.1.1 is Windows"}
				addr = addr.Next()
				return d
			}
			if mode == "again" {
				// Known devices: record them once outside the timer.
				var first []scan.Device
				for i := 0; i < min(b.N, 65000); i++ {
					first = append(first, next(i))
				}
				for c := range slices.Chunk(first, 500) {
					if _, err := s.RecordDevices(ctx, run.ID, c); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := s.FinishScan(ctx, run.ID, ScanEnd{}); err != nil {
					b.Fatal(err)
				}
				var err error
				if run, err = s.BeginScan(ctx, run.SubnetID, Scanner{Kind: ScannerServer, ID: "server"}, "arp"); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				start, cpu0 := time.Now(), cpuTime()
				for i := 0; i < b.N; i++ {
					if _, err := s.RecordDevice(ctx, run.ID, first[i%len(first)]); err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b, start, cpu0, "sightings")
				return
			}
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for i := 0; i < b.N; i++ {
				d := next(i)
				if mode == "streamed" {
					if _, err := s.RecordDevice(ctx, run.ID, d); err != nil {
						b.Fatal(err)
					}
					continue
				}
				pending = append(pending, d)
				if len(pending) == 500 || i == b.N-1 || (i+1)%65000 == 0 {
					if _, err := s.RecordDevices(ctx, run.ID, pending); err != nil {
						b.Fatal(err)
					}
					pending = pending[:0]
				}
			}
			reportRate(b, start, cpu0, "sightings")
		})
	}
}

// BenchmarkDeviceList queries a page of 50 out of 100,000 devices the way
// the UI does, and reports the 95th percentile.
func BenchmarkDeviceList(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	cats := []string{"workstation", "printer", "switch", "phone", "camera", "server", "unknown"}
	for n := 0; n < 2; n++ {
		sn := mustSubnet(b, s, fmt.Sprintf("10.%d.0.0/16", 200+n))
		run, err := s.BeginScan(ctx, sn.ID, Scanner{Kind: ScannerServer, ID: "server"}, "arp")
		if err != nil {
			b.Fatal(err)
		}
		addr := sn.Prefix().Addr().Next()
		var batch []scan.Device
		for h := 0; h < 50000; h++ {
			i := n*50000 + h
			d := dev(addr.String(), benchMAC(4, i), fmt.Sprintf("host-%d", i), cats[i%len(cats)])
			d.Vendor = []string{"Dell", "HP", "Cisco", "Brother", "Polycom"}[i%5]
			batch = append(batch, d)
			addr = addr.Next()
			if len(batch) == 1000 {
				if _, err := s.RecordDevices(ctx, run.ID, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		if _, err := s.FinishScan(ctx, run.ID, ScanEnd{}); err != nil {
			b.Fatal(err)
		}
	}
	queries := []struct {
		name string
		q    DeviceQuery
	}{
		{"first page by IP", DeviceQuery{}},
		{"page 1000 by IP", DeviceQuery{Offset: 50000}},
		{"by name desc", DeviceQuery{Sort: SortName, Desc: true}},
		{"by last seen", DeviceQuery{Sort: SortLastSeen, Desc: true}},
		{"category filter", DeviceQuery{Category: "printer"}},
		{"vendor+subnet", DeviceQuery{Vendor: "cisco", SubnetID: 2}},
		{"search name", DeviceQuery{Search: "host-4242"}},
		{"search MAC", DeviceQuery{Search: "00:00:10:92"}},
	}
	for _, qc := range queries {
		b.Run(qc.name, func(b *testing.B) {
			var lat []time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := s.Devices(ctx, qc.q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
