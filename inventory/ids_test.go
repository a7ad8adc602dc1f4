package inventory

import (
	"context"
	"net/netip"
	"slices"
	"testing"
)

// TestEventIDsNeverReused: webhooks follow the event log by id, so an id
// handed out once must never come back, even after the events holding
// the highest ids are deleted with their subnet.
func TestEventIDsNeverReused(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	a := mustSubnet(t, s, "10.1.0.0/24")
	b := mustSubnet(t, s, "10.2.0.0/24")
	scanOnce(t, s, clk, a.ID, dev("10.1.0.1", "00:00:5e:00:01:01", "", ""))
	scanOnce(t, s, clk, b.ID, dev("10.2.0.1", "00:00:5e:00:02:01", "", ""))
	evs, err := s.Events(ctx, EventQuery{})
	if err != nil || len(evs) == 0 {
		t.Fatalf("events: %v %v", evs, err)
	}
	highest := evs[0].ID
	if err := s.DeleteSubnet(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	scanOnce(t, s, clk, a.ID, dev("10.1.0.2", "00:00:5e:00:01:02", "", ""))
	evs, err = s.Events(ctx, EventQuery{AfterID: highest})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != EventNewDevice {
		t.Fatalf("events after id %d: %+v, want the one new device", highest, evs)
	}
}

// TestDeletedDeviceLeavesWakeSchedules: a scheduled wake names devices by
// id; a deleted device must leave it, or its id, once reused, would wake
// another machine.
func TestDeletedDeviceLeavesWakeSchedules(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	sn := mustSubnet(t, s, "10.3.0.0/24")
	scanOnce(t, s, clk, sn.ID, dev("10.3.0.1", "00:00:5e:00:03:01", "", ""), dev("10.3.0.2", "00:00:5e:00:03:02", "", ""))
	keep, gone := deviceByIP(t, s, "10.3.0.1"), deviceByIP(t, s, "10.3.0.2")
	ws, err := s.CreateWakeSchedule(ctx, WakeSchedule{Name: "nightly", At: "02:00", DeviceIDs: []int64{keep.ID, gone.ID}, CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDevice(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.WakeSchedule(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.DeviceIDs, []int64{keep.ID}) {
		t.Fatalf("schedule's devices after deleting %d: %v, want [%d]", gone.ID, got.DeviceIDs, keep.ID)
	}
}

func TestDismissedAutoSubnets(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t)
	for _, c := range []string{"10.5.0.0/24", "10.4.0.0/16", "10.5.0.0/24"} {
		if err := s.DismissAutoSubnet(ctx, netip.MustParsePrefix(c), "alice"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.DismissedAutoSubnets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.4.0.0/16"), netip.MustParsePrefix("10.5.0.0/24")}
	if !slices.Equal(got, want) {
		t.Fatalf("dismissed: %v, want %v", got, want)
	}
}
