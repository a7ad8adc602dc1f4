package satellite_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lanscout/lanscout/internal/sshtest"
	"github.com/lanscout/lanscout/satellite"
	"github.com/lanscout/lanscout/scan"
)

// scanSatellite is a real sshd on loopback whose lanscout is this test
// binary, reached through the script that gate names; 127.0.0.1 is the
// one device its TCP sweep finds. conns are the connections dialled to
// it, for a test to break.
type scanSatellite struct {
	cfg   satellite.Config
	sshd  *sshtest.Server
	bin   string // the directory on the satellite's PATH
	mu    sync.Mutex
	conns []net.Conn
}

func startScanSatellite(t *testing.T) *scanSatellite {
	t.Helper()
	sshtest.Skip(t)
	real, env := sshtest.SelfCommand(t, "lanscout-real", "TestLanscoutHelperProcess")
	env["LANSCOUT_STATE"] = t.TempDir()
	s := &scanSatellite{bin: filepath.Dir(real)}
	s.sshd = sshtest.Start(t, sshtest.Options{HostKeyTypes: []string{"ed25519"}, Env: env})
	s.cfg = satellite.Config{Name: "loop", Address: s.sshd.Addr.Addr().String(), Port: int(s.sshd.Addr.Port()), User: s.sshd.User,
		Signer: s.sshd.Client, HostKey: s.sshd.HostKeys["ed25519"],
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, address)
			if err == nil {
				s.mu.Lock()
				s.conns = append(s.conns, c)
				s.mu.Unlock()
			}
			return c, err
		}}
	return s
}

// install writes the satellite's lanscout: a shell script around the
// real one.
func (s *scanSatellite) install(t *testing.T, script string) {
	t.Helper()
	body := "#!/bin/sh\nreal='" + filepath.Join(s.bin, "lanscout-real") + "'\n" + script
	if err := os.WriteFile(filepath.Join(s.bin, "lanscout"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// gated installs a lanscout whose output stops after its first line
// until the file gate exists; the test creates it at the end in any case
// so that nothing is left waiting.
func (s *scanSatellite) gated(t *testing.T) (gate string) {
	gate = filepath.Join(t.TempDir(), "gate")
	s.install(t, `"$real" "$@" | { IFS= read -r line && printf '%s\n' "$line"; while [ ! -e '`+gate+`' ]; do sleep 0.05; done; exec cat; }`+"\n")
	t.Cleanup(func() { _ = os.WriteFile(gate, nil, 0o644) })
	return gate
}

var loopScan = satellite.ScanRequest{Target: netip.MustParsePrefix("127.0.0.1/32"), Method: "tcp"}

// TestSatelliteScanStreams: devices reach the caller while the remote
// command still runs. The satellite's output is held after its first
// line until the callback opens the gate, so the command cannot end
// before a device was delivered: a client that read the output only at
// the end would wait forever (go test's -timeout fails it).
func TestSatelliteScanStreams(t *testing.T) {
	s := startScanSatellite(t)
	gate := s.gated(t)
	var got []string
	rep, err := satellite.Scan(t.Context(), s.cfg, loopScan, func(d scan.Device) {
		got = append(got, d.IP)
		if len(got) == 1 {
			if err := os.WriteFile(gate, nil, 0o644); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, s.sshd.Log())
	}
	if rep.Incomplete || len(rep.Devices) != 1 || rep.Devices[0].IP != "127.0.0.1" || got[0] != "127.0.0.1" ||
		rep.Stats.Addresses != 1 || rep.Method != "tcp" || slices.Contains(rep.Warnings, satellite.FallbackWarning) {
		t.Errorf("report %+v, devices called back %v", rep, got)
	}
}

// TestSatelliteScanConnectionDrops: the connection breaks after the first
// device arrived and before the rest was sent. What arrived is kept, the
// report says it is incomplete, and the error says the stream was cut.
func TestSatelliteScanConnectionDrops(t *testing.T) {
	s := startScanSatellite(t)
	s.gated(t)
	calls := 0
	rep, err := satellite.Scan(t.Context(), s.cfg, loopScan, func(d scan.Device) {
		calls++
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			c.Close()
		}
	})
	if err == nil || rep == nil || !rep.Incomplete || len(rep.Devices) != 1 || calls != 1 {
		t.Fatalf("report %+v, %d calls, %v; want the one device, incomplete, and an error", rep, calls, err)
	}
	if !strings.Contains(err.Error(), "devices received before: 1") {
		t.Errorf("error %q does not say what arrived", err)
	}
	t.Logf("dropped: %v", err)
}

// TestSatelliteScanOlderLanscout: a lanscout from before jsonl rejects the
// format with a usage error; Scan runs --format json once instead, says so
// in the log and in the report's warnings, and still hands over the
// devices. The script answers as those releases did; anything else goes
// to the real lanscout, which still writes json. LANSCOUT_OLD_BINARY
// names a lanscout built from such a release to run instead (git archive
// e983d9e | tar -x; go build ./cmd/lanscout).
func TestSatelliteScanOlderLanscout(t *testing.T) {
	s := startScanSatellite(t)
	if old := os.Getenv("LANSCOUT_OLD_BINARY"); old != "" {
		t.Logf("the satellite runs %s", old)
		s.install(t, "exec '"+old+"' \"$@\"\n")
	} else {
		s.install(t, `for a; do
	if [ "$a" = jsonl ]; then
		echo 'lanscout scan: unknown --format "jsonl" (want one of table, json, csv)' >&2
		exit 2
	fi
done
exec "$real" "$@"
`)
	}
	var log strings.Builder
	s.cfg.Logger = slogTo(&log)
	var got []string
	rep, err := satellite.Scan(t.Context(), s.cfg, loopScan, func(d scan.Device) { got = append(got, d.IP) })
	if err != nil || len(rep.Devices) != 1 || len(got) != 1 || !slices.Contains(rep.Warnings, satellite.FallbackWarning) {
		t.Fatalf("report %+v, devices %v, %v", rep, got, err)
	}
	if !strings.Contains(log.String(), "--format json") || !strings.Contains(log.String(), "satellite=loop") {
		t.Errorf("log %q does not say it fell back", log.String())
	}

	// Any other failure is not taken for an old release.
	s.install(t, "echo 'lanscout scan: no route to 127.0.0.1' >&2\nexit 1\n")
	log.Reset()
	if _, err := satellite.Scan(t.Context(), s.cfg, loopScan, nil); err == nil || !strings.Contains(err.Error(), "no route") ||
		log.Len() != 0 {
		t.Errorf("failing lanscout: %v, log %q", err, log.String())
	}
}

// TestSatelliteScanGarbage: output that is not the stream ends the scan
// with an error naming the line, keeping the devices before it.
func TestSatelliteScanGarbage(t *testing.T) {
	s := startScanSatellite(t)
	s.install(t, `"$real" "$@" | { IFS= read -r line && printf '%s\n' "$line"; echo 'Segmentation fault'; exec cat >/dev/null; }`+"\n")
	rep, err := satellite.Scan(t.Context(), s.cfg, loopScan, nil)
	if err == nil || !strings.Contains(err.Error(), "line 2: not a JSON object") || rep == nil || len(rep.Devices) != 1 ||
		errors.Is(err, context.Canceled) {
		t.Fatalf("report %+v, %v", rep, err)
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestSatelliteScanDeviceOutsideTarget: a device the satellite was not
// asked about ends the scan; it is not handed on, those before it are.
func TestSatelliteScanDeviceOutsideTarget(t *testing.T) {
	s := startScanSatellite(t)
	s.install(t, `echo '{"device":{"ip":"127.0.0.1"}}'; echo '{"device":{"ip":"192.0.2.9"}}'; exec "$real" "$@"`+"\n")
	var got []string
	rep, err := satellite.Scan(t.Context(), s.cfg, loopScan, func(d scan.Device) { got = append(got, d.IP) })
	if err == nil || !strings.Contains(err.Error(), "device 192.0.2.9 is outside the target 127.0.0.1/32") ||
		rep == nil || !rep.Incomplete || len(rep.Devices) != 1 || strings.Join(got, " ") != "127.0.0.1" {
		t.Fatalf("report %+v, devices %v, %v", rep, got, err)
	}
}
