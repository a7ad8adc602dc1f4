package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/lab"
	"github.com/lanscout/lanscout/internal/lab/labtest"
	"github.com/lanscout/lanscout/internal/sshtest"
	"github.com/lanscout/lanscout/internal/woltest"
	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/wol"
)

func TestWakeUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"wake"}, "at least one MAC"},
		{[]string{"wake", "ff:ff:ff:ff:ff:ff"}, "broadcast address names no machine"},
		{[]string{"wake", "02:00:00:00:00:01", "nope"}, "invalid MAC"},
		{[]string{"wake", "--iface", "lo", "--broadcast", "127.255.255.255", "02:00:00:00:00:01"}, "not both"},
		{[]string{"wake", "--method", "raw", "02:00:00:00:00:01"}, "needs --iface"},
		{[]string{"wake", "--method", "telepathy", "02:00:00:00:00:01"}, "want auto, raw or udp"},
		{[]string{"wake", "--broadcast", "fe80::1", "02:00:00:00:00:01"}, "not an IPv4"},
		{[]string{"wake", "--port", "0", "02:00:00:00:00:01"}, "not a port"},
		{[]string{"wake", "--password", "abc", "02:00:00:00:00:01"}, "SecureOn"},
		{[]string{"wake", "--iface", "no-such-if0", "02:00:00:00:00:01"}, "no-such-if0"},
	} {
		stdout, stderr, code := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 mentioning %q and nothing sent", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// TestWakeLoopback sends through the real UDP path to loopback's
// broadcast, received by a listener on this host: one line per MAC, the
// packets carry the MACs and the password.
func TestWakeLoopback(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
	stdout, stderr, code := runCLI(t, "wake", "--broadcast", "127.255.255.255", "--port", port, "--password", "192.168.1.1",
		"001B.A912.3456", "02-00-00-00-00-01")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "00:1b:a9:12:34:56  sent  UDP to 127.255.255.255 port "+port) ||
		!strings.HasPrefix(lines[1], "02:00:00:00:00:01  sent") {
		t.Errorf("output:\n%s", stdout)
	}
	got := map[string]bool{}
	buf := make([]byte, 200)
	for range 2 {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		mac, pw, err := wol.ParseMagicPacket(buf[:n])
		if err != nil || !bytes.Equal(pw, []byte{192, 168, 1, 1}) {
			t.Fatalf("%x: %v", buf[:n], err)
		}
		got[mac.String()] = true
	}
	if !got["00:1b:a9:12:34:56"] || !got["02:00:00:00:00:01"] {
		t.Errorf("received %v", got)
	}
}

// TestSatelliteCheck runs `lanscout satellite check` against a real sshd
// on loopback: an untrusted key is shown and refused (exit 1), the
// trusted one logs in and finds wakeonlan (exit 0).
func TestSatelliteCheck(t *testing.T) {
	sshtest.Skip(t)
	sshd := sshtest.Start(t, sshtest.Options{HostKeyTypes: []string{"ed25519"}})
	keyFile := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(keyFile, sshd.ClientPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"satellite", "check", "--address", "127.0.0.1", "--port", strconv.Itoa(int(sshd.Addr.Port())), "--user", "root", "--key", keyFile}
	fp := satelliteFingerprint(sshd)

	stdout, stderr, code := runCLI(t, base...)
	if code != 1 || !strings.Contains(stdout, fp) || !strings.Contains(stdout, "not trusted yet") || !strings.Contains(stderr, "not trusted") {
		t.Errorf("untrusted: exit %d\n%s\n%s", code, stdout, stderr)
	}
	hostKey := strings.TrimSpace(string(sshMarshal(sshd)))
	stdout, stderr, code = runCLI(t, append(base, "--host-key", hostKey)...)
	if code != 0 || !strings.Contains(stdout, "login       ok as root") || !strings.Contains(stdout, "/usr/bin/wakeonlan") {
		t.Errorf("trusted: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, _, code = runCLI(t, append(base, "--host-key", hostKey, "--wake-command", "etherwake-not-here {macs}")...)
	if code != 1 || !strings.Contains(stdout, "NOT FOUND") {
		t.Errorf("missing program: exit %d\n%s", code, stdout)
	}
	if _, stderr, code := runCLI(t, "satellite", "check", "--address", "127.0.0.1"); code != 2 {
		t.Errorf("missing flags: exit %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "satellite", "check", "--data", t.TempDir(), "branch"); code != 1 || !strings.Contains(stderr, "no lanscout data") {
		t.Errorf("no data dir: exit %d %s", code, stderr)
	}

	// A satellite of the server's store, by name, with its sealed key.
	data := t.TempDir()
	store, err := inventory.OpenSQLite(t.Context(), data, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sat, err := store.CreateSatellite(t.Context(), inventory.Satellite{Name: "loop", Address: "127.0.0.1", Port: int(sshd.Addr.Port()), User: "root"}, sshd.ClientPEM)
	if err == nil {
		_, err = store.SetSatelliteTrustedKey(t.Context(), sat.ID, hostKey, fp)
	}
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runCLI(t, "satellite", "check", "--data", data, "loop")
	if code != 0 || !strings.Contains(stdout, fp) || !strings.Contains(stdout, "/usr/bin/wakeonlan") {
		t.Errorf("stored satellite: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "satellite", "check", "--data", data, "nope"); code != 1 || !strings.Contains(stderr, `no satellite named "nope"`) {
		t.Errorf("unknown name: exit %d %s", code, stderr)
	}
}

// TestLabWakeWithoutCapNetRaw runs `lanscout wake` in the lab's scanner
// namespace without CAP_NET_RAW: --method raw fails naming the capability
// and how to grant it; auto falls back to UDP, which a lab host receives.
func TestLabWakeWithoutCapNetRaw(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("skipping: setpriv (util-linux) not found")
	}
	l := labtest.New(t, lab.Config{Hosts: 1})
	sink := woltest.Listen(t, l, l.HostsNS, l.Hosts[0].Interface, 9)
	run := func(args ...string) (string, string, int) {
		raw, _ := json.Marshal(append([]string{"wake"}, args...))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := l.Command(ctx, l.Scanner.Namespace, "setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw",
			os.Args[0], "-test.run=^TestCLIHelperProcess$")
		cmd.Env = append(os.Environ(), cliArgsEnv+"="+string(raw))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}
	stdout, stderr, code := run("--iface", l.Scanner.Interface, "--method", "raw", "02:00:5e:50:00:01")
	if code != 1 || !strings.Contains(stderr, "needs CAP_NET_RAW") || !strings.Contains(stderr, "setcap cap_net_raw+ep") {
		t.Errorf("raw without the capability: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	ps, err := sink.SendUntil(20*time.Second, func() error {
		stdout, stderr, code = run("--iface", l.Scanner.Interface, "--port", "9", "02:00:5e:50:00:02")
		if code != 0 || !strings.Contains(stdout, "02:00:5e:50:00:02  sent  UDP to") {
			return fmt.Errorf("auto without the capability: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
		}
		return nil
	}, func(ps []woltest.Packet) bool { return woltest.Has(ps, "udp", "02:00:5e:50:00:02") })
	if err != nil || woltest.Has(ps, "", "02:00:5e:50:00:01") {
		t.Errorf("%v: received %+v", err, ps)
	}
}
