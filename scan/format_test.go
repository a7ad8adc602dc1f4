package scan_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lanscout/lanscout/scan"
)

var update = flag.Bool("update", false, "rewrite golden files")

func goldenReport() *scan.Report {
	return &scan.Report{
		Started:    time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC),
		DurationMS: 1234,
		Targets:    []string{"192.0.2.0/24"},
		Method:     "arp",
		Devices: []scan.Device{
			{
				IP: "192.0.2.1", MAC: "00:00:0c:12:34:56", MACVendor: "Cisco Systems, Inc", Hostnames: []string{"gw.example.net."},
				RTTMS: 0.42, FoundBy: []string{"arp", "snmp"},
				SNMP: &scan.SNMPInfo{Version: "2c", Credential: "public", SysName: "core-sw1", SysDescr: "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E4",
					SysObjectID: "1.3.6.1.4.1.9.1.1208", UptimeS: 86400},
				Category: "switch", Vendor: "Cisco", Model: "WS-C2960X-48FPD-L", Serial: "FOC1234X0AB", Confidence: 0.95,
				Reasons: []string{"BRIDGE-MIB answers with 52 ports"},
			},
			{
				IP: "192.0.2.20", MAC: "3c:2a:f4:00:00:01", MACVendor: "Brother Industries, LTD.", Hostnames: []string{},
				RTTMS: 1.5, FoundBy: []string{"arp"}, SNMPError: "snmp 192.0.2.20: agent does not answer",
				Category: "unknown", Reasons: []string{},
			},
		},
		Conflicts: []scan.Conflict{{IP: "192.0.2.77", MACs: []string{"02:00:00:00:00:01", "02:00:00:00:00:02"}}},
		ProxyARP:  []scan.ProxyARP{},
		Warnings:  []string{"12 frames dropped by the kernel"},
		Stats:     scan.ReportStats{Addresses: 254, ProbesSent: 262, Responders: 2, SNMPProbed: 2, SNMPAnswered: 1, SweepPasses: 3, SweepMS: 380},
	}
}

func TestWriteReportGolden(t *testing.T) {
	for _, format := range scan.Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := scan.WriteReport(&buf, format, goldenReport()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "report."+format+".golden")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s output differs from %s:\n--- got\n%s\n--- want\n%s", format, path, buf.Bytes(), want)
			}
		})
	}
}

func TestWriteReportRejectsUnknownFormat(t *testing.T) {
	if err := scan.WriteReport(&bytes.Buffer{}, "xml", goldenReport()); err == nil {
		t.Fatal("want an error for format xml")
	}
}

func TestWriteJSONWithoutDevices(t *testing.T) {
	var buf bytes.Buffer
	r := goldenReport()
	r.Devices = nil
	if err := scan.WriteReport(&buf, "json", r); err != nil {
		t.Fatal(err)
	}
	back, err := scan.ReadReport(&buf)
	if err != nil {
		t.Fatalf("%v in:\n%s", err, buf.String())
	}
	if back.Devices == nil || len(back.Devices) != 0 || back.Stats.Addresses != 254 {
		t.Errorf("read back %+v, want an empty devices list and the stats", back)
	}
}
