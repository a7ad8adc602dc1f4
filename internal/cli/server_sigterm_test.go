package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/tcptest"
	"github.com/lanscout/lanscout/inventory"
)

// TestServerSIGTERMKeepsScan builds the real lanscout binary, starts
// `lanscout server`, scans 127.0.0.0/22 with the tcp method and sends the
// process SIGTERM once the API shows the running scan has stored a device.
// The SNMP port is a UDP socket that never answers, so every one of the
// 1022 addresses waits out its 3s SNMP timeout, at most 64 at once (the
// engine's SNMP concurrency): the first devices are stored within seconds
// and the rest would take most of a minute, so the signal lands while
// most are still to come. The process must exit 0, and
// the store, opened afterwards, must hold the run closed as incomplete
// (not left running for the next start to call interrupted) with every
// device the API showed before the signal.
func TestServerSIGTERMKeepsScan(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go tool to build the lanscout binary:", err)
	}
	bin := filepath.Join(t.TempDir(), "lanscout")
	build := exec.Command(goTool, "build", "-o", bin, "github.com/lanscout/lanscout/cmd/lanscout")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build lanscout: %v\n%s", err, out)
	}

	port := tcptest.Listen(t)
	// Every 127/8 address is this host's: a socket on all of them that
	// never answers makes each SNMP probe time out rather than end on the
	// ICMP port unreachable of a closed port.
	silent, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	snmpPort := silent.LocalAddr().(*net.UDPAddr).Port

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "server", "--listen", "127.0.0.1:0", "--data", dir)
	cmd.Env = append(os.Environ(),
		"LANSCOUT_ADMIN_PASSWORD=admin password",
		fmt.Sprintf("LANSCOUT_TCP_PORTS=%d", port),
		fmt.Sprintf("LANSCOUT_SNMP_PORT=%d", snmpPort),
		"LANSCOUT_SNMP_TIMEOUT=3s",
		"LANSCOUT_SNMP_RETRIES=0",
	)
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// Only when the test failed before the signal: never leave it running.
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})

	re := regexp.MustCompile(`listening on (https://\S+)`)
	var u string
	for deadline := time.Now().Add(time.Minute); u == ""; {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			u = m[1]
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("server exited: %v\n%s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv := &runningServer{url: u, stderr: stderr, client: pinnedClient(t, dir)}
	token := adminTokenCLI(t, dir, "sigterm")

	var sn struct{ ID int64 }
	if code := srv.apiCall(t, token, "POST", "/api/v1/subnets",
		map[string]any{"cidr": "127.0.0.0/22", "method": "tcp", "name": "loopback"}, &sn); code != http.StatusCreated {
		t.Fatalf("create subnet: %d", code)
	}
	var run inventory.ScanRun
	if code := srv.apiCall(t, token, "POST", fmt.Sprintf("/api/v1/subnets/%d/scan", sn.ID), nil, &run); code != http.StatusAccepted {
		t.Fatalf("scan: %d", code)
	}

	// Wait until the running scan has stored devices the API shows.
	var seen []string
	for deadline := time.Now().Add(2 * time.Minute); len(seen) == 0; {
		var list struct {
			Items []inventory.Device
			Total int
		}
		srv.apiCall(t, token, "GET", fmt.Sprintf("/api/v1/devices?subnet=%d&limit=500", sn.ID), nil, &list)
		for _, d := range list.Items {
			seen = append(seen, d.IP)
		}
		if len(seen) > 0 {
			break
		}
		var now inventory.ScanRun
		srv.apiCall(t, token, "GET", fmt.Sprintf("/api/v1/scans/%d", run.ID), nil, &now)
		if now.Status != inventory.ScanRunning {
			t.Fatalf("the scan ended %s before it stored a device: %s\n%s", now.Status, now.Error, stderr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no device stored yet:\n%s", stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var before inventory.ScanRun
	srv.apiCall(t, token, "GET", fmt.Sprintf("/api/v1/scans/%d", run.ID), nil, &before)
	if before.Status != inventory.ScanRunning {
		t.Fatalf("the scan was %s, not running, when the signal was due: nothing to cut", before.Status)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("server after SIGTERM: %v (want exit 0)\n%s", err, stderr)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("server still running 2m after SIGTERM:\n%s", stderr)
	}

	store, err := inventory.OpenSQLite(context.Background(), dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	got, err := store.ScanRun(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != inventory.ScanIncomplete {
		t.Errorf("run after SIGTERM: %s (%q), want %s\n%s", got.Status, got.Error, inventory.ScanIncomplete, stderr)
	}
	if got.Stats.Recorded < len(seen) || got.Stats.Recorded >= 1022 {
		t.Errorf("run recorded %d devices; %d were shown before the signal, of 1022 addresses", got.Stats.Recorded, len(seen))
	}
	kept := map[string]bool{}
	if err := store.EachDevice(context.Background(), inventory.DeviceQuery{SubnetID: sn.ID}, func(d inventory.Device) error {
		kept[d.IP] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, ip := range seen {
		if !kept[ip] {
			t.Errorf("%s was stored before SIGTERM and is gone after it", ip)
		}
	}
	t.Logf("run %d: %s; %d devices shown before SIGTERM, %d recorded, %d kept", got.ID, got.Status, len(seen), got.Stats.Recorded, len(kept))
}
