package inventory

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/lanscout/lanscout/scan"
)

// RecordReport stores a whole scan report, as agents and satellites upload
// it, in one run: begin, every device in one transaction (an upload is all
// or nothing), finish. Server scans stream instead, calling RecordDevice as
// devices come so that a crash keeps them.
//
// Devices outside the subnet are left out with a warning on the run rather
// than failing the upload: agents have been known to sweep another segment
// than the one they were given (OCS's ipdiscover scans its default-route
// interface whatever it is told).
func RecordReport(ctx context.Context, s interface {
	SubnetStore
	ScanStore
}, subnetID int64, by Scanner, r *scan.Report) (ScanRun, error) {
	sn, err := s.Subnet(ctx, subnetID)
	if err != nil {
		return ScanRun{}, fmt.Errorf("record report: %w", err)
	}
	p := sn.Prefix()
	devices := make([]scan.Device, 0, len(r.Devices))
	warnings := append([]string{}, r.Warnings...)
	var outside []string
	for _, d := range r.Devices {
		if a, err := netip.ParseAddr(d.IP); err == nil && !p.Contains(a.Unmap()) {
			outside = append(outside, d.IP)
			continue
		}
		devices = append(devices, d)
	}
	if len(outside) > 0 {
		sample := outside[:min(len(outside), 5)]
		warnings = append(warnings, fmt.Sprintf("%d devices outside %s were not recorded (%s)", len(outside), sn.CIDR, strings.Join(sample, ", ")))
	}
	run, err := s.BeginScan(ctx, subnetID, by, r.Method)
	if err != nil {
		return ScanRun{}, err
	}
	if _, err := s.RecordDevices(ctx, run.ID, devices); err != nil {
		if _, ferr := s.FinishScan(ctx, run.ID, ScanEnd{Error: err.Error()}); ferr != nil {
			return ScanRun{}, fmt.Errorf("%w (and closing the run: %v)", err, ferr)
		}
		return ScanRun{}, err
	}
	return s.FinishScan(ctx, run.ID, ScanEnd{Stats: StatsOf(r.Stats), Warnings: warnings, Incomplete: r.Incomplete})
}

// StatsOf converts the engine's statistics.
func StatsOf(st scan.ReportStats) ScanStats {
	return ScanStats{Addresses: st.Addresses, ProbesSent: st.ProbesSent, Responders: st.Responders,
		SNMPProbed: st.SNMPProbed, SNMPAnswered: st.SNMPAnswered, SweepPasses: st.SweepPasses, SweepMS: st.SweepMS}
}
