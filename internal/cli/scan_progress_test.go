package cli

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/scan"
)

// TestProgressBarFollowsSNMPPhase: the scan's bar shows the sweep while it
// runs, ignores SNMP counts that are not final yet, then counts the SNMP
// probes against their total.
func TestProgressBarFollowsSNMPPhase(t *testing.T) {
	var out bytes.Buffer
	p := progressTo(&out)
	p.update(discover.Progress{Sent: 100, Total: 254, Pass: 1, Found: 3})
	p.snmp(scan.SNMPProgress{Queued: 3, Done: 1, Answered: 1})
	if st := p.bar.State(); st.Max != 254 || st.CurrentNum != 100 {
		t.Errorf("during the sweep the bar is at %d of %d, want the sweep's 100 of 254", st.CurrentNum, st.Max)
	}
	p.update(discover.Progress{Sent: 254, Total: 254, Pass: 1, Found: 5})
	p.update(discover.Progress{Sent: 20, Total: 249, Pass: 2, Found: 5})
	if st := p.bar.State(); st.Max != 249 || st.CurrentNum != 20 {
		t.Errorf("in the retry pass the bar is at %d of %d, want 20 of 249", st.CurrentNum, st.Max)
	}
	p.update(discover.Progress{Sent: 249, Total: 249, Pass: 2, Found: 5})
	for _, pr := range []scan.SNMPProgress{{Queued: 5, Done: 2, Answered: 1, AllQueued: true}, {Queued: 5, Done: 5, Answered: 2, AllQueued: true}} {
		p.snmp(pr)
		if st := p.bar.State(); st.Max != int64(pr.Queued) || st.CurrentNum != int64(pr.Done) || st.Description != fmt.Sprintf("SNMP, %d answered", pr.Answered) {
			t.Errorf("after %+v the bar is at %d of %d, %q", pr, st.CurrentNum, st.Max, st.Description)
		}
	}
	p.finish()
}
