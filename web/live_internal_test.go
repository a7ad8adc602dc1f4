package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/discover"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/scan"
)

// TestScanFeedHeartbeatAndEnd: an idle stream gets comment lines, and the
// feed's end closes it with the stored run; a feed ignores updates after
// its end, and a nil feed (no live progress) ignores everything.
func TestScanFeedHeartbeatAndEnd(t *testing.T) {
	ctx := context.Background()
	store, err := inventory.OpenSQLite(ctx, t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s, err := New(Options{Store: store, ScheduleCheck: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s.Close(cctx)
	})
	s.live.heartbeat = 50 * time.Millisecond
	ts := httptest.NewTLSServer(s.Handler())
	t.Cleanup(ts.Close)
	tok, _, err := store.CreateAPIToken(ctx, "v", inventory.RoleViewer, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := store.CreateSubnet(ctx, inventory.Subnet{CIDR: "10.12.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := store.BeginScan(ctx, sn.ID, serverScanner, "arp")
	if err != nil {
		t.Fatal(err)
	}
	feed := s.live.begin(run)
	feed.sweep(discover.Progress{Sent: 10, Total: 254, Pass: 1, Found: 2})

	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, fmt.Sprintf("%s/api/v1/scans/%d/events", ts.URL, run.ID), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	next := func(prefix string) string {
		t.Helper()
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("stream ended before a line starting %q: %v", prefix, lines.Err())
		return ""
	}
	if l := next("data: "); !strings.Contains(l, `"sent":10,"total":254`) {
		t.Errorf("first progress %s", l)
	}
	next(": heartbeat")
	next(": heartbeat")

	var nilFeed *scanFeed
	nilFeed.sweep(discover.Progress{Sent: 1})
	nilFeed.device(1, scan.Device{IP: "10.12.0.1"})
	nilFeed.phase(phaseStoring)

	done, err := store.FinishScan(ctx, run.ID, inventory.ScanEnd{})
	if err != nil {
		t.Fatal(err)
	}
	s.live.end(feed, done)
	feed.sweep(discover.Progress{Sent: 99, Total: 254}) // after the end: ignored
	if p, _, ended, _ := feed.snapshot(0); !ended || p.Sent != 10 || p.Phase != phaseEnded || p.Status != inventory.ScanDone {
		t.Errorf("ended feed %+v (ended %v)", p, ended)
	}
	next("event: end")
	if l := next("data: "); !strings.Contains(l, `"status":"done"`) {
		t.Errorf("end %s", l)
	}
	for lines.Scan() {
		if l := lines.Text(); l != "" && !strings.HasPrefix(l, ":") {
			t.Errorf("after the end: %q", l)
		}
	}
}
