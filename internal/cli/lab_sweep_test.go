package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
	"github.com/lanscout/lanscout/inventory"
)

// TestLabServerSweepRetries: the server's own scans take sweep.retries. A
// real `lanscout server` in the lab's scanner namespace ARP-sweeps the
// hosts' /24, where most addresses never answer: with retries 0 the sweep
// makes one pass over them, with 1 two passes.
func TestLabServerSweepRetries(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the sweep lab in -short mode")
	}
	l := labtest.New(t, lab.Config{Hosts: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lan := netip.PrefixFrom(l.Hosts[0].IP, 24).Masked()
	for _, tc := range []struct {
		retries string
		passes  int
	}{{"0", 1}, {"1", 2}} {
		t.Run("retries "+tc.retries, func(t *testing.T) {
			dir := t.TempDir()
			args, _ := json.Marshal([]string{"server", "--listen", netip.AddrPortFrom(l.Scanner.Addr.Addr(), 0).String(), "--data", dir})
			cmd := l.Command(ctx, l.Scanner.Namespace, os.Args[0], "-test.run=^TestCLIHelperProcess$")
			cmd.Env = append(os.Environ(), cliArgsEnv+"="+string(args), "LANSCOUT_ADMIN_PASSWORD=lab admin password",
				"LANSCOUT_SWEEP_RETRIES="+tc.retries, "LANSCOUT_SNMP_TIMEOUT=200ms", "LANSCOUT_SNMP_RETRIES=0")
			out := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			p, err := l.Start(cmd)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Stop() })
			re := regexp.MustCompile(`listening on (https://\S+)`)
			var u string
			for deadline := time.Now().Add(30 * time.Second); u == ""; time.Sleep(50 * time.Millisecond) {
				if m := re.FindStringSubmatch(out.String()); m != nil {
					u = m[1]
				} else if time.Now().After(deadline) {
					t.Fatalf("server did not start:\n%s", out)
				}
			}
			token := adminTokenCLI(t, dir, "lab")
			// The test process is not in the lab: it dials from the
			// server's namespace.
			client := pinnedClient(t, dir)
			tr := client.Transport.(*http.Transport)
			tr.DialContext = l.DialFrom(l.Scanner.Namespace)
			srv := &runningServer{url: u, stderr: out, client: client}
			var sn struct{ ID int64 }
			if code := srv.apiCall(t, token, http.MethodPost, "/api/v1/subnets",
				map[string]any{"cidr": lan.String(), "method": "arp", "name": "lab"}, &sn); code != http.StatusCreated {
				t.Fatalf("create subnet: %d\n%s", code, out)
			}
			run := srv.scanNow(t, token, sn.ID, 90*time.Second)
			if run.Status != inventory.ScanDone {
				t.Fatalf("scan ended %s: %s\n%s", run.Status, run.Error, out)
			}
			if run.Stats.SweepPasses != tc.passes || run.Stats.Responders < len(l.Hosts) {
				t.Errorf("sweep.retries %s: %d passes, %d responders; want %d passes and the %d lab hosts",
					tc.retries, run.Stats.SweepPasses, run.Stats.Responders, tc.passes, len(l.Hosts))
			}
			t.Logf("sweep.retries %s: %s", tc.retries, fmt.Sprintf("%+v", run.Stats))
		})
	}
}
