package inventory

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSubnetNormalize(t *testing.T) {
	cases := []struct {
		name    string
		in      Subnet
		wantErr string // substring; "" means valid
		check   func(t *testing.T, s Subnet)
	}{
		{name: "defaults", in: Subnet{CIDR: " 10.1.2.0/24 "}, check: func(t *testing.T, s Subnet) {
			if s.CIDR != "10.1.2.0/24" || s.Name != "10.1.2.0/24" || s.Method != "auto" || s.Policy != ScanAllow ||
				s.GoneAfter != 3 || s.MaxScanners != 1 || s.Tags == nil || s.Credentials == nil {
				t.Errorf("defaults not filled: %+v", s)
			}
		}},
		{name: "lists cleaned", in: Subnet{CIDR: "10.1.2.0/24", Tags: []string{" a", "", "a", "b"}}, check: func(t *testing.T, s Subnet) {
			if strings.Join(s.Tags, ",") != "a,b" {
				t.Errorf("tags = %q", s.Tags)
			}
		}},
		{name: "not a CIDR", in: Subnet{CIDR: "10.1.2.300/24"}, wantErr: `CIDR "10.1.2.300/24"`},
		{name: "no prefix", in: Subnet{CIDR: "10.1.2.0"}, wantErr: `CIDR "10.1.2.0"`},
		{name: "host bits", in: Subnet{CIDR: "10.1.2.5/24"}, wantErr: "host bits set; the network is 10.1.2.0/24"},
		{name: "too wide", in: Subnet{CIDR: "10.0.0.0/8"}, wantErr: "wider than /16"},
		{name: "ipv6 /64", in: Subnet{CIDR: "2001:db8::/64"}},
		{name: "ipv6 too wide", in: Subnet{CIDR: "2001:db8::/48"}, wantErr: "wider than /64"},
		{name: "bad method", in: Subnet{CIDR: "10.1.2.0/24", Method: "nmap"}, wantErr: `scan method "nmap"`},
		{name: "bad policy", in: Subnet{CIDR: "10.1.2.0/24", Policy: "maybe"}, wantErr: `policy "maybe"`},
		{name: "both schedules", in: Subnet{CIDR: "10.1.2.0/24", Schedule: Schedule{Every: time.Hour, At: "02:00"}}, wantErr: "not both"},
		{name: "interval too short", in: Subnet{CIDR: "10.1.2.0/24", Schedule: Schedule{Every: time.Second}}, wantErr: "shorter than"},
		{name: "bad time of day", in: Subnet{CIDR: "10.1.2.0/24", Schedule: Schedule{At: "25:00"}}, wantErr: "not HH:MM"},
		{name: "negative gone-after", in: Subnet{CIDR: "10.1.2.0/24", GoneAfter: -1}, wantErr: "gone-after"},
		{name: "too many scanners", in: Subnet{CIDR: "10.1.2.0/24", MaxScanners: 84}, wantErr: "at most 3 scanners"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.in
			err := s.Normalize()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Normalize: %v", err)
				}
				if tc.check != nil {
					tc.check(t, s)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Normalize error = %v, want ErrInvalid containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestScheduleNext(t *testing.T) {
	loc := time.UTC
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, loc)
	cases := []struct {
		name string
		sc   Schedule
		last time.Time
		want time.Time
	}{
		{"on demand", Schedule{}, now.Add(-time.Hour), time.Time{}},
		{"interval never ran", Schedule{Every: time.Hour}, time.Time{}, now},
		{"interval due later", Schedule{Every: time.Hour}, now.Add(-20 * time.Minute), now.Add(40 * time.Minute)},
		{"interval overdue runs once now", Schedule{Every: time.Hour}, now.Add(-5 * time.Hour), now},
		{"time of day later today", Schedule{At: "22:30"}, now.Add(-2 * time.Hour), time.Date(2026, 11, 2, 22, 30, 0, 0, loc)},
		{"time of day passed today", Schedule{At: "02:00"}, time.Date(2026, 11, 2, 2, 0, 5, 0, loc), time.Date(2026, 11, 3, 2, 0, 0, 0, loc)},
		{"time of day missed while down", Schedule{At: "02:00"}, time.Date(2026, 10, 30, 2, 0, 0, 0, loc), now},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.sc.Next(tc.last, now, loc); !got.Equal(tc.want) {
				t.Errorf("Next = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSubnetCRUD(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t)

	a, err := s.CreateSubnet(ctx, Subnet{CIDR: "192.168.1.0/24", Name: "office", Site: "hq", Tags: []string{"floor-1"},
		Schedule: Schedule{Every: 30 * time.Minute}, GoneAfter: 5})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Subnet(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "office" || got.Site != "hq" || got.Schedule.Every != 30*time.Minute || got.GoneAfter != 5 || got.Tags[0] != "floor-1" {
		t.Errorf("round trip: %+v", got)
	}

	for _, tc := range []struct {
		cidr string
		want error
	}{
		{"192.168.1.0/24", ErrConflict},   // same
		{"192.168.1.128/25", ErrConflict}, // inside
		{"192.168.0.0/16", ErrConflict},   // around
		{"192.168.1.0/33", ErrInvalid},
	} {
		if _, err := s.CreateSubnet(ctx, Subnet{CIDR: tc.cidr}); !errors.Is(err, tc.want) {
			t.Errorf("create %s: err = %v, want %v", tc.cidr, err, tc.want)
		}
	}
	if _, err := s.CreateSubnet(ctx, Subnet{CIDR: "10.9.0.0/24", Credentials: []string{"nope"}}); !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), `no SNMP credential is named "nope"`) {
		t.Errorf("unknown credential: err = %v", err)
	}
	b := mustSubnet(t, s, "10.9.0.0/24")

	got.Name, got.Policy = "office LAN", ScanDeny
	if _, err := s.UpdateSubnet(ctx, got); err != nil {
		t.Fatal(err)
	}
	got.CIDR = "192.168.2.0/24"
	if _, err := s.UpdateSubnet(ctx, got); !errors.Is(err, ErrInvalid) {
		t.Errorf("changing the CIDR: err = %v, want ErrInvalid", err)
	}
	if _, err := s.BeginScan(ctx, a.ID, Scanner{Kind: ScannerServer, ID: "server"}, "arp"); !errors.Is(err, ErrInvalid) {
		t.Errorf("scanning a denied subnet: err = %v, want ErrInvalid", err)
	}

	list, err := s.Subnets(ctx)
	if err != nil || len(list) != 2 || list[0].ID != b.ID {
		t.Fatalf("Subnets = %+v, %v (want address order)", list, err)
	}
	if err := s.DeleteSubnet(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subnet(ctx, b.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted subnet: err = %v", err)
	}
	if err := s.DeleteSubnet(ctx, b.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: err = %v", err)
	}
}
