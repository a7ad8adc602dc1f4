package inventory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWakeJobs(t *testing.T) {
	s, clk, _ := openTest(t)
	ctx := context.Background()
	sn := mustSubnet(t, s, "10.9.1.0/24")
	scanOnce(t, s, clk, sn.ID, dev("10.9.1.5", "00:11:22:33:44:55", "pc5", ""))
	d := deviceByIP(t, s, "10.9.1.5")

	if _, err := s.CreateWakeJob(ctx, WakeJob{RequestedBy: "alice"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("job without targets: %v, want ErrInvalid", err)
	}
	if _, err := s.CreateWakeJob(ctx, WakeJob{RequestedBy: "alice", Targets: []WakeTarget{{MAC: "nope"}}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad MAC: %v, want ErrInvalid", err)
	}
	j, err := s.CreateWakeJob(ctx, WakeJob{RequestedBy: "alice", Source: "api", Targets: []WakeTarget{
		{DeviceID: d.ID, MAC: "00-11-22-33-44-55", IP: d.IP, SubnetID: sn.ID, Subnet: sn.CIDR, Route: WakeRouteLocal, Via: "eth0"},
		{MAC: "66:77:88:99:aa:bb", Status: WakeNoRoute, Detail: "no subnet"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if j.ID == 0 || j.Status != WakeJobRunning || j.Targets[0].ID == 0 || j.Targets[0].MAC != "00:11:22:33:44:55" ||
		j.Targets[0].Status != WakePending || j.Targets[1].Route != WakeRouteNone {
		t.Fatalf("created %+v", j)
	}
	clk.Advance(time.Second)
	sent := clk.Now()
	tg := j.Targets[0]
	tg.Status, tg.SentAt, tg.Method = WakeSent, sent, "raw"
	if err := s.UpdateWakeTarget(ctx, j.ID, tg); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateWakeTarget(ctx, j.ID+1, tg); !errors.Is(err, ErrNotFound) {
		t.Fatalf("target of another job: %v, want ErrNotFound", err)
	}
	clk.Advance(4 * time.Second)
	tg.Status, tg.ConfirmedAt, tg.ConfirmedBy = WakeConfirmed, clk.Now(), "arp"
	if err := s.UpdateWakeTarget(ctx, j.ID, tg); err != nil {
		t.Fatal(err)
	}
	done, err := s.FinishWakeJob(ctx, j.ID, WakeJobDone)
	if err != nil {
		t.Fatal(err)
	}
	got := done.Targets[0]
	if done.Status != WakeJobDone || done.Finished.IsZero() || got.Status != WakeConfirmed || got.Method != "raw" ||
		got.ConfirmedBy != "arp" || got.TookToWake() != 4*time.Second || done.Targets[1].Detail != "no subnet" {
		t.Fatalf("finished %+v", done)
	}

	// A second job, left running by a "crash", is closed at the next start.
	j2, err := s.CreateWakeJob(ctx, WakeJob{RequestedBy: "system", Source: "schedule", ScheduleID: 7, Targets: []WakeTarget{
		{MAC: "00:11:22:33:44:55", Status: WakeSent, SentAt: clk.Now()}, {MAC: "00:11:22:33:44:56"}}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.InterruptWakeJobs(ctx)
	if err != nil || n != 1 {
		t.Fatalf("interrupt: %d, %v", n, err)
	}
	j2, _ = s.WakeJob(ctx, j2.ID)
	if j2.Status != WakeJobInterrupted || j2.Targets[0].Status != WakeUnconfirmed || j2.Targets[1].Status != WakeFailed {
		t.Fatalf("interrupted %+v", j2)
	}
	all, err := s.WakeJobs(ctx, WakeJobQuery{})
	if err != nil || len(all) != 2 || all[0].ID != j2.ID || len(all[1].Targets) != 2 {
		t.Fatalf("jobs: %+v, %v", all, err)
	}
	bySched, err := s.WakeJobs(ctx, WakeJobQuery{ScheduleID: 7})
	if err != nil || len(bySched) != 1 || bySched[0].ID != j2.ID {
		t.Fatalf("jobs of schedule 7: %+v, %v", bySched, err)
	}
	if _, err := s.WakeJob(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing job: %v", err)
	}
}

func TestDevicesByMAC(t *testing.T) {
	s, clk, _ := openTest(t)
	ctx := context.Background()
	a := mustSubnet(t, s, "10.9.1.0/24")
	b := mustSubnet(t, s, "10.9.2.0/24")
	scanOnce(t, s, clk, a.ID, dev("10.9.1.5", "00:11:22:33:44:55", "", ""))
	scanOnce(t, s, clk, b.ID, dev("10.9.2.7", "00:11:22:33:44:55", "", ""), dev("10.9.2.8", "00:11:22:33:44:66", "", ""))
	ds, err := s.DevicesByMAC(ctx, "0011.2233.4455")
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, d := range ds {
		ips = append(ips, d.IP)
	}
	// Most recently seen first.
	if !slices.Equal(ips, []string{"10.9.2.7", "10.9.1.5"}) {
		t.Fatalf("devices by MAC: %v", ips)
	}
	if ds, err := s.DevicesByMAC(ctx, "00:00:5e:00:53:01"); err != nil || len(ds) != 0 {
		t.Fatalf("unknown MAC: %v, %v", ds, err)
	}
	if _, err := s.DevicesByMAC(ctx, "zz"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad MAC: %v", err)
	}
}

func TestWakeSchedules(t *testing.T) {
	s, clk, _ := openTest(t)
	ctx := context.Background()
	sn := mustSubnet(t, s, "10.9.1.0/24")
	scanOnce(t, s, clk, sn.ID, dev("10.9.1.5", "00:11:22:33:44:55", "", ""))
	d := deviceByIP(t, s, "10.9.1.5")

	for _, bad := range []WakeSchedule{
		{At: "25:00", SubnetID: sn.ID},
		{At: "07:00"},
		{At: "07:00", SubnetID: 999},
		{At: "07:00", DeviceIDs: []int64{999}},
		{At: "07:00", SubnetID: sn.ID, Days: []string{"someday"}},
	} {
		if _, err := s.CreateWakeSchedule(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("schedule %+v: %v, want ErrInvalid", bad, err)
		}
	}
	ws, err := s.CreateWakeSchedule(ctx, WakeSchedule{At: "7:05", Days: []string{"Friday", "mon", "mon"},
		DeviceIDs: []int64{d.ID, d.ID}, SubnetID: sn.ID, Fallback: true, CreatedBy: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if ws.At != "07:05" || !slices.Equal(ws.Days, []string{"mon", "fri"}) || !slices.Equal(ws.DeviceIDs, []int64{d.ID}) ||
		ws.Name != "wake at 07:05" || ws.Created.IsZero() {
		t.Fatalf("created %+v", ws)
	}
	at := clk.Now()
	if err := s.MarkWakeScheduleRun(ctx, ws.ID, at, 42); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkWakeScheduleRun(ctx, ws.ID, at.Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.WakeSchedule(ctx, ws.ID)
	if err != nil || !got.LastRun.Equal(at.Add(time.Hour)) || got.LastJob != 42 || !got.Fallback {
		t.Fatalf("after runs: %+v, %v", got, err)
	}
	list, err := s.WakeSchedules(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if err := s.DeleteWakeSchedule(ctx, ws.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWakeSchedule(ctx, ws.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	// A subnet's schedules go with it.
	ws2, err := s.CreateWakeSchedule(ctx, WakeSchedule{At: "06:00", SubnetID: sn.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSubnet(ctx, sn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WakeSchedule(ctx, ws2.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("schedule of a deleted subnet: %v", err)
	}
}

func TestWakeScheduleNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	utc := time.UTC
	// 2026-11-02 is a Monday.
	mon0900 := time.Date(2026, 11, 2, 9, 0, 0, 0, utc)
	cases := []struct {
		name  string
		at    string
		days  []string
		after time.Time
		loc   *time.Location
		want  time.Time
	}{
		{"later today", "18:30", nil, mon0900, utc, time.Date(2026, 11, 2, 18, 30, 0, 0, utc)},
		{"passed today: tomorrow", "07:00", nil, mon0900, utc, time.Date(2026, 11, 3, 7, 0, 0, 0, utc)},
		{"exactly now: the next one", "09:00", nil, mon0900, utc, time.Date(2026, 11, 3, 9, 0, 0, 0, utc)},
		{"weekday later this week", "07:00", []string{"fri"}, mon0900, utc, time.Date(2026, 11, 6, 7, 0, 0, 0, utc)},
		{"only monday, passed: next week", "07:00", []string{"mon"}, mon0900, utc, time.Date(2026, 11, 9, 7, 0, 0, 0, utc)},
		{"only monday, later today", "22:00", []string{"mon"}, mon0900, utc, time.Date(2026, 11, 2, 22, 0, 0, 0, utc)},
		{"month end", "01:00", nil, time.Date(2026, 11, 30, 23, 0, 0, 0, utc), utc, time.Date(2026, 12, 1, 1, 0, 0, 0, utc)},
		{"local day, not UTC's", "00:30", []string{"tue"}, time.Date(2026, 11, 2, 22, 0, 0, 0, utc), berlin,
			time.Date(2026, 11, 3, 0, 30, 0, 0, berlin)},
		// 2026-03-29 02:30 does not exist in Berlin: the clock jumps from
		// 02:00 to 03:00 and the slot moves with it.
		{"inside the DST gap", "02:30", nil, time.Date(2026, 3, 28, 12, 0, 0, 0, berlin), berlin,
			time.Date(2026, 3, 29, 3, 30, 0, 0, berlin)},
		{"bad time", "7 o'clock", nil, mon0900, utc, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := WakeSchedule{At: tc.at, Days: tc.days}
			if got := ws.Next(tc.after, tc.loc); !got.Equal(tc.want) {
				t.Errorf("Next(%s) = %s, want %s", tc.after, got, tc.want)
			}
		})
	}
}

// FuzzWakeSchedule: whatever a request holds, Normalize either refuses it
// with ErrInvalid or leaves a schedule that normalises to itself, and
// Next always moves forward, to a slot on one of its days at its time.
func FuzzWakeSchedule(f *testing.F) {
	f.Add("07:00", "mon,fri", int64(1), int64(0), int64(1762070400))
	f.Add("23:59", "", int64(0), int64(3), int64(0))
	f.Add("0:5", "Sunday,sat,sat", int64(2), int64(2), int64(-1))
	f.Add("24:00", "x", int64(-1), int64(0), int64(99))
	f.Fuzz(func(t *testing.T, at, days string, dev, subnet, unix int64) {
		ws := WakeSchedule{At: at, DeviceIDs: []int64{dev}, SubnetID: subnet}
		if days != "" {
			ws.Days = strings.Split(days, ",")
		}
		if err := ws.Normalize(); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		again := ws
		again.Days, again.DeviceIDs = slices.Clone(ws.Days), slices.Clone(ws.DeviceIDs)
		if err := again.Normalize(); err != nil || again.At != ws.At || !slices.Equal(again.Days, ws.Days) ||
			!slices.Equal(again.DeviceIDs, ws.DeviceIDs) {
			t.Fatalf("normalising twice: %+v, %v; first %+v", again, err, ws)
		}
		after := time.Unix(unix%(1<<34), 0).UTC()
		next := ws.Next(after, time.UTC)
		if next.IsZero() || !next.After(after) || next.Sub(after) > 8*24*time.Hour {
			t.Fatalf("Next(%s) = %s", after, next)
		}
		if next.Format("15:04") != ws.At {
			t.Fatalf("Next(%s) = %s, not at %s", after, next, ws.At)
		}
		if len(ws.Days) > 0 && !slices.Contains(ws.Days, weekdayNames[next.Weekday()]) {
			t.Fatalf("Next(%s) = %s, a %s, not one of %v", after, next, next.Weekday(), ws.Days)
		}
	})
}
