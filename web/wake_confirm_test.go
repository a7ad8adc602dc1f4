package web

import (
	"context"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
)

// TestWakeSeenSince: the store confirms a wake when a scanner sees the
// device again or its agent makes contact after the packet left, and not
// on what it knew before.
func TestWakeSeenSince(t *testing.T) {
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	s, err := New(Options{Store: store, ScheduleCheck: -1, Wake: WakeOptions{ScheduleCheck: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "198.51.100.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	scanOnce := func(ds ...scan.Device) []int64 {
		run, err := store.BeginScan(ctx, sn.ID, inventory.Scanner{Kind: inventory.ScannerServer, ID: "server"}, "arp")
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, d := range ds {
			id, err := store.RecordDevice(ctx, run.ID, d)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if _, err := store.FinishScan(ctx, run.ID, inventory.ScanEnd{}); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	pc := scan.Device{IP: "198.51.100.20", MAC: "02:00:00:00:00:20", FoundBy: []string{"arp"}}
	laptop := scan.Device{IP: "198.51.100.21", MAC: "02:00:00:00:00:21", FoundBy: []string{"arp"}}
	ids := scanOnce(pc, laptop)
	// The laptop runs an agent: its NIC's MAC links it to the device.
	if _, err := store.RecordAgentInventory(ctx, inventory.AgentInventory{UID: "laptop-1", Kind: inventory.AgentLanscout,
		Hostname: "laptop", NICs: []inventory.NIC{{Name: "eth0", MAC: laptop.MAC, Addresses: []string{laptop.IP + "/24"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.RecordAgentContact(ctx, "laptop-1", inventory.AgentLanscout); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // the store keeps milliseconds
	sent := time.Now()
	time.Sleep(5 * time.Millisecond)
	pcT := inventory.WakeTarget{DeviceID: ids[0], MAC: pc.MAC, IP: pc.IP, SentAt: sent}
	laptopT := inventory.WakeTarget{DeviceID: ids[1], MAC: laptop.MAC, IP: laptop.IP, SentAt: sent}
	rawT := inventory.WakeTarget{MAC: pc.MAC, SentAt: sent} // a raw MAC, found through the store
	for _, tg := range []inventory.WakeTarget{pcT, laptopT, rawT} {
		if by := s.seenSince(ctx, tg); by != "" {
			t.Fatalf("%s seen by %q before anything happened after the wake", tg.MAC, by)
		}
	}
	if _, err := store.RecordAgentContact(ctx, "laptop-1", inventory.AgentLanscout); err != nil {
		t.Fatal(err)
	}
	if by := s.seenSince(ctx, laptopT); by != "agent" {
		t.Errorf("laptop after its agent called: %q, want agent", by)
	}
	if by := s.seenSince(ctx, pcT); by != "" {
		t.Errorf("pc after another machine's agent called: %q", by)
	}
	scanOnce(pc)
	if by := s.seenSince(ctx, pcT); by != "sighting" {
		t.Errorf("pc after a scan saw it: %q, want sighting", by)
	}
	if by := s.seenSince(ctx, rawT); by != "sighting" {
		t.Errorf("raw MAC after a scan saw it: %q, want sighting", by)
	}
}
