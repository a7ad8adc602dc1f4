package inventory

import (
	"context"
	"fmt"

	"github.com/lanscout/lanscout/scan"
)

// RecordReport stores a whole scan report, as agents and satellites upload
// it, in one run: begin, every device in one transaction (an upload is all
// or nothing), finish. Server scans stream instead, calling RecordDevice as
// devices come so that a crash keeps them.
func RecordReport(ctx context.Context, s ScanStore, subnetID int64, by Scanner, r *scan.Report) (ScanRun, error) {
	run, err := s.BeginScan(ctx, subnetID, by, r.Method)
	if err != nil {
		return ScanRun{}, err
	}
	if _, err := s.RecordDevices(ctx, run.ID, r.Devices); err != nil {
		if _, ferr := s.FinishScan(ctx, run.ID, ScanEnd{Error: err.Error()}); ferr != nil {
			return ScanRun{}, fmt.Errorf("%w (and closing the run: %v)", err, ferr)
		}
		return ScanRun{}, err
	}
	return s.FinishScan(ctx, run.ID, ScanEnd{Stats: StatsOf(r.Stats), Warnings: r.Warnings, Incomplete: r.Incomplete})
}

// StatsOf converts the engine's statistics.
func StatsOf(st scan.ReportStats) ScanStats {
	return ScanStats{Addresses: st.Addresses, ProbesSent: st.ProbesSent, Responders: st.Responders,
		SNMPProbed: st.SNMPProbed, SNMPAnswered: st.SNMPAnswered, SweepPasses: st.SweepPasses, SweepMS: st.SweepMS}
}
