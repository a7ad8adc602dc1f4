package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/satellite"
	"github.com/lanscout/lanscout/web"
	"github.com/lanscout/lanscout/wol"
)

// countingWake is a wake command for the satellite that records how many
// of its runs overlap, then runs the real wakeonlan. It is counted on the
// satellite rather than at a TCP proxy: a run ends before its connection
// closes and the connection closes before the server frees its slot, so
// the count has no race of its own (a proxy sees a close only some time
// after the next connection may have opened). Each call below wakes one
// MAC, one command on one connection, so overlapping runs are overlapping
// connections.
const countingWake = `#!/bin/sh
d=%s
lock() { while ! mkdir "$d/lock" 2>/dev/null; do sleep 0.01; done; }
lock
n=$(( $(cat "$d/active") + 1 )); echo $n > "$d/active"
[ $n -gt $(cat "$d/max") ] && echo $n > "$d/max"
rmdir "$d/lock"
sleep 2
lock
echo $(( $(cat "$d/active") - 1 )) > "$d/active"
rmdir "$d/lock"
exec wakeonlan "$@"
`

// TestSatelliteConnectionLimit: with at most one connection per satellite,
// many wake groups sent through one satellite at once (as runWake does for
// the all_satellites fallback over many subnets) never hold two
// connections to it at the same time, and every one still gets through.
func TestSatelliteConnectionLimit(t *testing.T) {
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) { o.Wake.SatelliteConnections = 1 })
	sshd := loopbackSSHD(t)
	port, received := udpSink(t)
	dir := t.TempDir()
	for name, v := range map[string]string{"active": "0", "max": "0"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "count-wake")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(countingWake, dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	var sat inventory.Satellite
	body := map[string]any{"name": "loop", "address": "127.0.0.1", "port": int(sshd.Addr.Port()), "user": "root",
		"private_key": string(sshd.ClientPEM), "subnets": []string{"127.0.0.0/8"},
		"wake_command": script + " -i {broadcast} -p " + strconv.Itoa(port) + " {macs}"}
	if code := f.api(f.tokens[inventory.RoleAdmin], http.MethodPost, "/api/v1/satellites", body, &sat); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	hk := sshd.HostKeys["ed25519"]
	sat, err := f.store.SetSatelliteTrustedKey(context.Background(), sat.ID, satellite.FormatHostKey(hk), satellite.Fingerprint(hk))
	if err != nil {
		t.Fatal(err)
	}

	const groups = 4
	var wg sync.WaitGroup
	errs := make([]error, groups)
	for i := range groups {
		wg.Go(func() {
			m, _ := wol.ParseMACs([]string{fmt.Sprintf("02:00:5e:41:00:%02x", i)})
			res, err := f.srv.WakeViaSatelliteForTest(context.Background(), sat, netip.MustParseAddr("127.255.255.255"), m)
			if err == nil && (len(res) != 1 || res[0].Err != nil) {
				err = fmt.Errorf("results %+v", res)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("group %d: %v\n%s", i, err, sshd.Log())
		}
	}
	if got := received(groups); len(got) != groups {
		t.Errorf("received %v", got)
	}
	maxRaw, err := os.ReadFile(filepath.Join(dir, "max"))
	if err != nil {
		t.Fatal(err)
	}
	if most := strings.TrimSpace(string(maxRaw)); most != "1" {
		t.Errorf("%s connections to the satellite at once, want at most 1", most)
	} else {
		t.Logf("at most %s connection at once", most)
	}
	if n := strings.Count(sshd.Log(), "Accepted publickey"); n != groups {
		t.Errorf("%d logins, want one per group (%d)", n, groups)
	}
}

// TestSatelliteScansLeaveAWakeSlot: with max_connections 2, two scans of
// subnets the same satellite serves hold at most one connection between
// them, so a wake through that satellite gets the other at once instead of
// queueing behind scans that may run for half an hour. The scans block on
// the satellite until the test lets them go, so nothing here depends on
// how long anything takes: with scans allowed every slot the wake would
// wait for them and its context would end first.
func TestSatelliteScansLeaveAWakeSlot(t *testing.T) {
	f := newFixture(t, func(_ *inventory.Options, o *web.Options) { o.Wake.SatelliteConnections = 2 })
	dir := t.TempDir()
	// lanscout on the satellite: a scan notes that it started and waits
	// for "go"; anything else (the wake, the test's probe) runs at once.
	sn1, sshd := f.loopSatellite(`if [ "$1" = scan ]; then
	mkdir "` + dir + `/started.$$"
	while [ ! -e "` + dir + `/go" ]; do sleep 0.05; done
fi
exec "$real" "$@"
`)
	ctx := context.Background()
	sn2, err := f.store.CreateSubnet(ctx, inventory.Subnet{CIDR: "127.0.0.4/30", Method: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	sat, err := f.store.SatelliteByName(ctx, "loop")
	if err != nil {
		t.Fatal(err)
	}
	release := func() {
		if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil && !os.IsExist(err) {
			t.Error(err)
		}
	}
	t.Cleanup(release)
	started := func() int {
		m, _ := filepath.Glob(filepath.Join(dir, "started.*"))
		return len(m)
	}

	runs := []inventory.ScanRun{f.scanNow(sn1), f.scanNow(sn2)}
	for _, r := range runs {
		if r.Scanner.Kind != inventory.ScannerSatellite {
			t.Fatalf("run %+v not through the satellite", r)
		}
	}
	// Wait (bounded) until one scan is running on the satellite: it holds
	// a connection, and the other scan waits for the scans' one slot.
	for i := 0; started() == 0 && i < 600; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if started() != 1 {
		t.Fatalf("%d scans started on the satellite, want 1\n%s", started(), sshd.Log())
	}

	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	m, _ := wol.ParseMACs([]string{"02:00:5e:41:01:01"})
	res, err := f.srv.WakeViaSatelliteForTest(wctx, sat, netip.MustParseAddr("127.255.255.255"), m)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("wake while scans hold the satellite: %+v %v\n%s", res, err, sshd.Log())
	}
	if n := started(); n != 1 {
		t.Errorf("%d scans running on the satellite at once, want 1 (the other slot is the wakes')", n)
	}

	release()
	for _, r := range runs {
		if r = f.waitScanRun(r); r.Status != inventory.ScanDone {
			t.Errorf("scan %+v, want done once let go\n%s", r, sshd.Log())
		}
	}
	if n := started(); n != 2 {
		t.Errorf("%d scans ran, want both", n)
	}
}
