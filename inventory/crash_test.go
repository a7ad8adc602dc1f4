package inventory

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

const (
	crashDirEnv    = "LANSCOUT_INVENTORY_CRASH_DIR"
	crashSubnetEnv = "LANSCOUT_INVENTORY_CRASH_SUBNET"
)

// TestCrashChild is the child of TestKillDuringScan: it streams devices
// into a scan and prints each address once its transaction committed,
// until it is killed. Run alone it does nothing.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child process of TestKillDuringScan")
	}
	ctx := context.Background()
	subnetID, _ := strconv.ParseInt(os.Getenv(crashSubnetEnv), 10, 64)
	s, err := OpenSQLite(ctx, dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	run, err := s.BeginScan(ctx, subnetID, Scanner{Kind: ScannerServer, ID: "server"}, "arp")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	addr := netip.MustParseAddr("10.50.0.1")
	for i := 0; i < 60000; i++ {
		d := withSNMP(dev(addr.String(), fmt.Sprintf("02:50:%02x:%02x:%02x:%02x", byte(i>>24), byte(i>>16), byte(i>>8), byte(i)),
			fmt.Sprintf("host-%d", i), "workstation"), fmt.Sprintf("host-%d", i), "")
		if _, err := s.RecordDevice(ctx, run.ID, d); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// Unbuffered: the line leaves the process right after the commit.
		fmt.Fprintln(os.Stdout, addr)
		addr = addr.Next()
	}
	os.Exit(3) // never reached in the test: the parent kills us first
}

// TestKillDuringScan kills a process with SIGKILL in the middle of a scan
// and checks that every device it reported as committed is in the
// database, which must pass an integrity check, and that the run is marked
// interrupted.
func TestKillDuringScan(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenSQLite(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sn := mustSubnet(t, s, "10.50.0.0/16")
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashSubnetEnv+"="+strconv.FormatInt(sn.ID, 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var committed []string
	killed := false
	deadline := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if _, err := netip.ParseAddr(line); err != nil {
			continue // test framework chatter
		}
		committed = append(committed, line)
		// Kill at an arbitrary point well into the scan, while the child
		// is busy writing.
		if len(committed) == 1500 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the child ended before it was killed (%d devices): %v", len(committed), err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", cmd.ProcessState)
	}
	t.Logf("child committed at least %d devices before SIGKILL", len(committed))

	s, err = OpenSQLite(ctx, dir, Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	var check string
	if err := s.r.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	stored := map[string]bool{}
	rows, err := s.r.Query(`SELECT ip FROM devices WHERE subnet_id = ?`, sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ip string
		if err := rows.Scan(&ip); err != nil {
			t.Fatal(err)
		}
		stored[ip] = true
	}
	rows.Close()
	missing := 0
	for _, ip := range committed {
		if !stored[ip] {
			missing++
			if missing < 5 {
				t.Errorf("device %s was committed but is not in the database", ip)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d committed devices lost", missing, len(committed))
	}
	// At most one device may be in the database that the child had no time
	// to print: the commit happened, the print did not.
	if extra := len(stored) - len(committed); extra < 0 || extra > 1 {
		t.Errorf("database holds %d devices, the child printed %d", len(stored), len(committed))
	}
	runs, err := s.ScanRuns(ctx, sn.ID, 10)
	if err != nil || len(runs) != 1 || runs[0].Status != ScanInterrupted || runs[0].Stats.Recorded != len(stored) {
		t.Errorf("scan run after the kill = %+v, %v", runs, err)
	}
	// The interrupted run counted nobody as missed.
	if page, err := s.Devices(ctx, DeviceQuery{State: StateGone}); err != nil || page.Total != 0 {
		t.Errorf("gone devices after an interrupted scan = %d, %v", page.Total, err)
	}
}
