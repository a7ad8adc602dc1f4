package cli

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanscout/lanscout/internal/sshtest"
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(l.Addr().String())
	l.Close()
	sshd := sshtest.Start(t, sshtest.Options{Listen: addr, HostKeyTypes: []string{"ed25519"}})
	keyFile := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(keyFile, sshd.ClientPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"satellite", "check", "--address", "127.0.0.1", "--port", strconv.Itoa(int(addr.Port())), "--user", "root", "--key", keyFile}
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
}
