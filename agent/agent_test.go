package agent

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"encoding/pem"

	"github.com/lanscout/lanscout/agent/protocol"
)

func TestNICKind(t *testing.T) {
	sysNet := filepath.Join("testdata", "root", "sys", "class", "net")
	cases := []struct{ name, kind, virtual string }{
		{"eth0", "wired", ""},
		{"wlan0", "wireless", ""},
		{"br0", "virtual", "bridge"},
		{"veth1", "virtual", "veth"},
		{"lo", "virtual", "loopback"},
		{"tun0", "virtual", "tun"},
		{"bond0", "virtual", "bond"},
		{"eth0.10", "virtual", "vlan"},
		{"dummy0", "virtual", "virtual"},
		{"missing0", "", ""},
	}
	for _, c := range cases {
		kind, virt := NICKind(sysNet, c.name)
		if kind != c.kind || virt != c.virtual {
			t.Errorf("NICKind(%s) = %q, %q; want %q, %q", c.name, kind, virt, c.kind, c.virtual)
		}
	}
}

func TestCollect(t *testing.T) {
	now := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	c := Collector{
		Root: filepath.Join("testdata", "root"),
		Now:  func() time.Time { return now },
		Interfaces: func() ([]NetIf, error) {
			return []NetIf{
				{Name: "lo", MTU: 65536, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
				{Name: "eth0", MAC: "52:54:00:12:34:56", MTU: 1500, Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.23/24")}},
				{Name: "wlan0", MAC: "a0:b1:c2:d3:e4:f5", MTU: 1500},
			}, nil
		},
	}
	inv := c.Collect("1.2.3")
	want := protocol.Inventory{Hostname: "deskpc", OSName: "Debian GNU/Linux", OSVersion: "12", Kernel: "6.1.0-28-amd64",
		Manufacturer: "LENOVO", Model: "20XW0026GE", Serial: "PF2ABC12", UUID: "4c4c4544-0042-3510-8052-b4c04f4b4e32",
		UptimeS: 12345, Version: "1.2.3", Gateways: []string{"10.0.0.1", "192.168.168.1"},
		DNS: []string{"10.0.0.53", "2001:db8::53"}, DNSSearch: []string{"corp.example", "lab.example"}}
	got := inv
	got.NICs, got.Hash, got.Arch, got.Boot = nil, "", "", time.Time{}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("Collect:\n got %+v\nwant %+v", got, want)
	}
	// The kernel's btime, not the clock less the uptime.
	if wantBoot := time.Date(2026, 11, 22, 3, 34, 14, 0, time.UTC); !inv.Boot.Equal(wantBoot) {
		t.Errorf("boot %v, want %v (btime of /proc/stat)", inv.Boot, wantBoot)
	}
	nics := fmt.Sprint(inv.NICs)
	for _, w := range []string{"{lo  virtual unknown [127.0.0.1/8] 65536 loopback}", "{eth0 52:54:00:12:34:56 wired up [10.0.0.23/24] 1500 }",
		"{wlan0 a0:b1:c2:d3:e4:f5 wireless dormant [] 1500 }"} {
		if !strings.Contains(nics, w) {
			t.Errorf("NICs %s lack %s", nics, w)
		}
	}
	// The hash ignores the uptime but not the rest.
	now = now.Add(10 * time.Second)
	if again := c.Collect("1.2.3"); again.Hash != inv.Hash {
		t.Errorf("hash changed with the clock: %s → %s", inv.Hash, again.Hash)
	}
	if other := c.Collect("1.2.4"); other.Hash == inv.Hash {
		t.Error("hash unchanged after the version changed")
	}
}

// TestCollectBootStable: the boot time, which the inventory hash counts,
// does not move with the instant it is read. The clock and the uptime
// are read a few milliseconds apart; at 07:00:45.67 the clock less the
// uptime (12345.67s) is 03:35:00 exactly, where a boot time derived from
// them and cut to the minute flips between 03:34 and 03:35 from one
// report to the next. The kernel's btime does not. Without /proc/stat
// (not Linux, or a fake tree) it is derived from the uptime and rounded
// to bootStep.
func TestCollectBootStable(t *testing.T) {
	noStat := t.TempDir()
	if err := os.MkdirAll(filepath.Join(noStat, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	up, err := os.ReadFile(filepath.Join("testdata", "root", "proc", "uptime"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(noStat, "proc", "uptime"), up, 0o644); err != nil {
		t.Fatal(err)
	}
	edge := time.Date(2026, 11, 22, 7, 0, 45, 670_000_000, time.UTC)
	quiet := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, root string
		at         time.Time
		boot       time.Time
	}{
		{"btime", filepath.Join("testdata", "root"), edge, time.Date(2026, 11, 22, 3, 34, 14, 0, time.UTC)},
		// 07:00 less 12345.67s is 03:34:14.33.
		{"uptime", noStat, quiet, time.Date(2026, 11, 22, 3, 30, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hashes []string
			for _, d := range []time.Duration{-time.Millisecond, 0, time.Millisecond} {
				now := tc.at.Add(d)
				c := Collector{Root: tc.root, Now: func() time.Time { return now },
					Interfaces: func() ([]NetIf, error) { return nil, nil }}
				inv := c.Collect("1.2.3")
				if !inv.Boot.Equal(tc.boot) {
					t.Errorf("read at %v: boot %v, want %v", now, inv.Boot, tc.boot)
				}
				hashes = append(hashes, inv.Hash)
			}
			if len(slices.Compact(slices.Clone(hashes))) != 1 {
				t.Errorf("hash changed with the instant it was read: %v", hashes)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999} {
		b := Backoff{Base: time.Second, Max: 30 * time.Second, Rand: func() float64 { return r }}
		var got []time.Duration
		for range 8 {
			got = append(got, b.Next())
		}
		ceils := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
		for i, d := range got {
			ceil := ceils[i] * time.Second
			if d < ceil/2 || d > ceil {
				t.Errorf("rand %v: wait %d = %v, want within [%v, %v]", r, i+1, d, ceil/2, ceil)
			}
		}
		b.Reset()
		if d := b.Next(); d > time.Second {
			t.Errorf("after Reset: %v, want at most the base", d)
		}
	}
	for _, r := range []float64{0, 0.5, 0.999} {
		d := Jitter(time.Minute, 0.1, func() float64 { return r })
		if d < 54*time.Second || d > 66*time.Second {
			t.Errorf("Jitter(1m, 10%%) with %v = %v", r, d)
		}
	}
}

func TestParseFingerprint(t *testing.T) {
	sum := sha256.Sum256([]byte("cert"))
	hexColons := strings.ToUpper(fmt.Sprintf("% x", sum[:]))
	hexColons = strings.ReplaceAll(hexColons, " ", ":")
	for _, in := range []string{
		"SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]),
		"SHA256:" + base64.StdEncoding.EncodeToString(sum[:]),
		hexColons,
		"SHA-256 " + hexColons,
		strings.ToLower(strings.ReplaceAll(hexColons, ":", "")),
	} {
		got, err := ParseFingerprint(in)
		if err != nil || !slices.Equal(got, sum[:]) {
			t.Errorf("ParseFingerprint(%q) = %x, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "SHA256:abc", "AB:CD", "MD5:aa", strings.Repeat("zz", 32)} {
		if _, err := ParseFingerprint(bad); err == nil {
			t.Errorf("ParseFingerprint(%q) accepted", bad)
		}
	}
}

// TestServerVerification: the agent talks only to the server it was told
// to trust: a pinned fingerprint or a CA file, and neither a wrong pin nor
// a certificate unknown to the system is accepted.
func TestServerVerification(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"agent_id":1,"poll_interval_ms":1000}`)
	}))
	defer srv.Close()
	cert := srv.Certificate()
	sum := sha256.Sum256(cert.Raw)
	right := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
	wrongSum := sha256.Sum256([]byte("another"))
	wrong := "SHA256:" + base64.RawStdEncoding.EncodeToString(wrongSum[:])
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts TLSOptions
		ok   bool
		want error
	}{
		{"pinned", TLSOptions{Fingerprint: right}, true, nil},
		{"wrong pin", TLSOptions{Fingerprint: wrong}, false, ErrFingerprintMismatch},
		{"CA file", TLSOptions{CAFile: caFile}, true, nil},
		{"CA file and pin", TLSOptions{CAFile: caFile, Fingerprint: right}, true, nil},
		{"CA file and wrong pin", TLSOptions{CAFile: caFile, Fingerprint: wrong}, false, ErrFingerprintMismatch},
		{"system roots only", TLSOptions{}, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, err := NewClient(srv.URL, c.opts, "test")
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.Hello(context.Background(), protocol.Hello{})
			if c.ok != (err == nil) {
				t.Fatalf("Hello: %v, want ok=%v", err, c.ok)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Hello: %v, want %v", err, c.want)
			}
		})
	}
	if _, err := NewClient(strings.Replace(srv.URL, "https", "http", 1), TLSOptions{}, "test"); err == nil {
		t.Error("plain http server URL accepted")
	}
}

func TestState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if st, err := LoadState(dir); err != nil || st != (State{}) {
		t.Fatalf("empty state = %+v, %v", st, err)
	}
	want := State{UID: "u", Server: "https://x", AgentID: 3, Token: "lsa_secret", InventoryHash: "h"}
	if err := SaveState(dir, want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, stateFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v, want 0700", di.Mode())
	}
	os.Chmod(filepath.Join(dir, stateFile), 0o644)
	got, err := LoadState(dir)
	if err != nil || got != want {
		t.Fatalf("LoadState = %+v, %v", got, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, stateFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("a state file readable by others was left %v", fi.Mode())
	}
}

func TestCapNetRawEffective(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		capEff string
		want   bool
	}{{"0000000000002000", true}, {"000001ffffffffff", true}, {"0000000000000000", false}, {"0000000000001000", false}} {
		p := filepath.Join(dir, "status")
		os.WriteFile(p, []byte("Name:\tx\nCapEff:\t"+c.capEff+"\n"), 0o644)
		got, known := capNetRawEffective(p)
		if !known || got != c.want {
			t.Errorf("CapEff %s: %v, %v; want %v", c.capEff, got, known, c.want)
		}
	}
}

// TestEnrollConflict: a UID the server already has is refused for good
// (409), with what to do, rather than retried for ever.
func TestEnrollConflict(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprint(w, `{"error":"refused: agent u1 is already enrolled; an admin deletes it to enroll it again"}`)
	}))
	defer srv.Close()
	sum := sha256.Sum256(srv.Certificate().Raw)
	a, err := New(Options{Server: srv.URL, EnrollKey: "lse_k", StateDir: t.TempDir(),
		TLS: TLSOptions{Fingerprint: "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])}, Version: "t",
		Collector: Collector{Root: filepath.Join("testdata", "root"), Interfaces: func() ([]NetIf, error) { return nil, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "an admin deletes that agent") {
		t.Fatalf("Run against a 409 at enrollment: %v; want ErrRefused saying what to do", err)
	}
}
