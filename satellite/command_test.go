package satellite

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func mac(i int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}
}

func TestParseTemplate(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{DefaultWakeCommand, ""},
		{LanscoutWakeCommand, ""},
		{LanscoutPasswordWakeCommand, ""},
		{"wakeonlan -p {port} -i {broadcast} {macs}", ""},
		{"wakeonlan -p{port} {macs}", "unknown placeholder"},
		{"lanscout wake --password={password} {macs}", "unknown placeholder"},
		{"{port} {macs}", "program name"},
		{"{password} {macs}", "program name"},
		{"  /usr/bin/wakeonlan   -p 9 -i {broadcast}  {macs} ", ""},
		{"sudo -n etherwake -i {iface} {macs}", ""},
		{"", "empty"},
		{"wakeonlan -i {broadcast}", "{macs} exactly once"},
		{"wakeonlan {macs} {macs}", "{macs} exactly once"},
		{"{macs}", "program name"},
		{"-rf {macs}", "cannot start"},
		{"wakeonlan {mac}", "unknown placeholder"},
		{"wakeonlan -i{broadcast} {macs}", "unknown placeholder"},
		{"wakeonlan {macs} ; reboot", "shell operators"},
		{"wakeonlan {macs}; reboot", "unknown placeholder"},
		{"wakeonlan {macs} && reboot", "shell operators"},
		{"wakeonlan $(reboot) {macs}", "shell operators"},
		{"wakeonlan `reboot` {macs}", "shell operators"},
		{"wakeonlan '{macs}'", "unknown placeholder"},
		{"wakeonlan \"x\" {macs}", "shell operators"},
		{"wakeonlan {macs} > /etc/passwd", "shell operators"},
		{"wakeonlan {macs} | sh", "shell operators"},
		{"wakeonlan ~root/x {macs}", "shell operators"},
		{"wakeonlan \\n {macs}", "shell operators"},
		{"wakeonlan * {macs}", "shell operators"},
		{"wakeonlan {macs} #", "shell operators"},
	} {
		_, err := ParseTemplate(tc.in)
		if tc.err == "" {
			if err != nil {
				t.Errorf("ParseTemplate(%q): %v", tc.in, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrBadTemplate) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseTemplate(%q) = %v, want ErrBadTemplate containing %q", tc.in, err, tc.err)
		}
	}
}

func TestExpand(t *testing.T) {
	bc := netip.MustParseAddr("10.9.1.255")
	macs := []net.HardwareAddr{mac(1), mac(2)}
	for _, tc := range []struct{ tmpl, iface, want string }{
		{"wakeonlan -i {broadcast} {macs}", "", "wakeonlan -i 10.9.1.255 02:00:00:00:00:01 02:00:00:00:00:02"},
		{"lanscout wake --broadcast {broadcast} {macs}", "", "lanscout wake --broadcast 10.9.1.255 02:00:00:00:00:01 02:00:00:00:00:02"},
		{"etherwake -i {iface} {macs}", "eth0.12", "etherwake -i eth0.12 02:00:00:00:00:01 02:00:00:00:00:02"},
	} {
		got, err := MustParseTemplate(tc.tmpl).Expand(bc, tc.iface, macs)
		if err != nil || got != tc.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tc.tmpl, got, err, tc.want)
		}
	}
	tm := MustParseTemplate("etherwake -i {iface} -b {broadcast} {macs}")
	for _, tc := range []struct {
		bc    netip.Addr
		iface string
		macs  []net.HardwareAddr
	}{
		{netip.Addr{}, "eth0", macs},
		{netip.MustParseAddr("2001:db8::1"), "eth0", macs},
		{bc, "eth0; reboot", macs},
		{bc, "$(reboot)", macs},
		{bc, "", macs},
		{bc, "eth0", nil},
		{bc, "eth0", []net.HardwareAddr{{1, 2, 3}}},
	} {
		if got, err := tm.Expand(tc.bc, tc.iface, tc.macs); err == nil {
			t.Errorf("Expand(%v, %q, %v) = %q, want an error", tc.bc, tc.iface, tc.macs, got)
		}
	}
}

func TestExpandPortPassword(t *testing.T) {
	bc := netip.MustParseAddr("10.9.1.255")
	macs := []net.HardwareAddr{mac(1)}
	pw6 := []byte{0xaa, 0xBB, 0x01, 0x02, 0x03, 0xff}
	for _, tc := range []struct {
		tmpl string
		p    Params
		want string
	}{
		{DefaultWakeCommand, Params{Broadcast: bc, Port: 4009}, "wakeonlan -i 10.9.1.255 -p 4009 02:00:00:00:00:01"},
		{LanscoutWakeCommand, Params{Broadcast: bc, Port: 7}, "lanscout wake --broadcast 10.9.1.255 --port 7 02:00:00:00:00:01"},
		{LanscoutPasswordWakeCommand, Params{Broadcast: bc, Port: 9, Password: pw6},
			"lanscout wake --broadcast 10.9.1.255 --port 9 --password aa:bb:01:02:03:ff 02:00:00:00:00:01"},
		{"lanscout wake --password {password} {macs}", Params{Password: []byte{10, 20, 30, 40}},
			"lanscout wake --password 0a:14:1e:28 02:00:00:00:00:01"},
		// A password without {password} in the template is Wake's to
		// refuse; Expand fills only what the template has.
		{"wakeonlan {macs}", Params{Port: 9, Password: pw6}, "wakeonlan 02:00:00:00:00:01"},
	} {
		got, err := MustParseTemplate(tc.tmpl).ExpandParams(tc.p, macs)
		if err != nil || got != tc.want {
			t.Errorf("ExpandParams(%q, %+v) = %q, %v; want %q", tc.tmpl, tc.p, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		tmpl string
		p    Params
		err  string
	}{
		{DefaultWakeCommand, Params{Broadcast: bc}, "UDP port"},
		{DefaultWakeCommand, Params{Broadcast: bc, Port: 65536}, "UDP port"},
		{DefaultWakeCommand, Params{Broadcast: bc, Port: -9}, "UDP port"},
		{LanscoutPasswordWakeCommand, Params{Broadcast: bc, Port: 9}, "no SecureOn password"},
		{LanscoutPasswordWakeCommand, Params{Broadcast: bc, Port: 9, Password: []byte{1, 2, 3}}, "4 or 6 bytes"},
		{LanscoutPasswordWakeCommand, Params{Broadcast: bc, Port: 9, Password: []byte("a;reboot")}, "4 or 6 bytes"},
	} {
		got, err := MustParseTemplate(tc.tmpl).ExpandParams(tc.p, macs)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ExpandParams(%q, %+v) = %q, %v; want an error with %q", tc.tmpl, tc.p, got, err, tc.err)
		}
	}
}

// TestWakeRefusesWhatTheCommandCannotCarry: a password or ports the
// template has no placeholder for fail the wake before anything is
// dialled (no Dial is set and the address is unroutable: reaching the
// network would be a different error).
func TestWakeRefusesWhatTheCommandCannotCarry(t *testing.T) {
	base := Config{Name: "branch", Address: "192.0.2.1", User: "wake"}
	for _, tc := range []struct {
		cmd   string
		ports []int
		pw    []byte
		want  string
	}{
		{DefaultWakeCommand, nil, []byte{1, 2, 3, 4, 5, 6}, "has no {password}"},
		{"wakeonlan -i {broadcast} {macs}", []int{4009, 7}, nil, "has no {port}"},
	} {
		cfg := base
		cfg.WakeCommand, cfg.WakePorts, cfg.WakePassword = tc.cmd, tc.ports, tc.pw
		cfg.Dial = func(context.Context, string, string) (net.Conn, error) {
			t.Errorf("%q: dialled though the command cannot carry the settings", tc.cmd)
			return nil, errors.New("no")
		}
		_, err := Wake(t.Context(), cfg, netip.MustParseAddr("10.0.0.255"), "", []net.HardwareAddr{mac(1)})
		if !errors.Is(err, ErrWakeCommandCannot) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was sent") {
			t.Errorf("%q ports %v password %v: err = %v, want ErrWakeCommandCannot saying %q", tc.cmd, tc.ports, tc.pw, err, tc.want)
		}
		if tc.pw != nil && strings.Contains(err.Error(), "01:02:03") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// TestExpandOnlySafeWords: whatever valid inputs, every word of the
// command is one the shell reads as itself.
func TestExpandOnlySafeWords(t *testing.T) {
	tm := MustParseTemplate("sudo -n /usr/sbin/etherwake -i {iface} -b {broadcast} -p {port} --pw {password} {macs}")
	var macs []net.HardwareAddr
	for i := range 50 {
		macs = append(macs, mac(i*7919))
	}
	cmd, err := tm.ExpandParams(Params{Broadcast: netip.MustParseAddr("192.168.7.255"), Iface: "br-lan_2", Port: 65535,
		Password: []byte{0xff, 0x00, 0x7f, 0x80, 0x0a, 0x3b}}, macs)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range strings.Split(cmd, " ") {
		if !shellWord(w) {
			t.Errorf("word %q of %q needs quoting", w, cmd)
		}
	}
}

func TestBatches(t *testing.T) {
	tm := MustParseTemplate(DefaultWakeCommand)
	var macs []net.HardwareAddr
	for i := range 5000 {
		macs = append(macs, mac(i))
	}
	for _, tc := range []struct {
		maxBytes, maxMACs int
		wantBatches       int
	}{
		{DefaultMaxCommandBytes, DefaultMaxBatch, 5},
		{DefaultMaxCommandBytes, 0, 3}, // 32 KiB holds ~1,818 MACs
		{4096, 0, 23},
		{1 << 20, 5000, 1},
	} {
		bs, err := tm.Batches(macs, tc.maxBytes, tc.maxMACs)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != tc.wantBatches {
			t.Errorf("maxBytes %d maxMACs %d: %d batches, want %d", tc.maxBytes, tc.maxMACs, len(bs), tc.wantBatches)
		}
		n := 0
		for _, b := range bs {
			cmd, err := tm.ExpandParams(Params{Broadcast: netip.MustParseAddr("255.255.255.255"), Port: 65535}, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(cmd) > tc.maxBytes {
				t.Errorf("batch command of %d bytes over %d", len(cmd), tc.maxBytes)
			}
			if tc.maxMACs > 0 && len(b) > tc.maxMACs {
				t.Errorf("batch of %d MACs over %d", len(b), tc.maxMACs)
			}
			for _, m := range b {
				if m.String() != macs[n].String() {
					t.Fatalf("MAC %d is %s, want %s: batches must keep every MAC once, in order", n, m, macs[n])
				}
				n++
			}
		}
		if n != len(macs) {
			t.Errorf("%d MACs in batches, want %d", n, len(macs))
		}
	}
	if _, err := tm.Batches(macs, 20, 0); err == nil {
		t.Error("no room for a MAC: no error")
	}
	if bs, err := tm.Batches(nil, 100, 0); err != nil || len(bs) != 0 {
		t.Errorf("no MACs: %v, %v", bs, err)
	}
}

func TestScanCommand(t *testing.T) {
	req := ScanRequest{Target: netip.MustParsePrefix("10.9.1.7/24"), Method: "arp", Credentials: []byte("x")}
	for format, want := range map[string]string{
		FormatStream: "lanscout scan --format jsonl --method arp --credentials /dev/stdin 10.9.1.0/24",
		FormatReport: "lanscout scan --format json --method arp --credentials /dev/stdin 10.9.1.0/24",
	} {
		if got, err := ScanCommand(req, format); err != nil || got != want {
			t.Errorf("ScanCommand(%s) = %q, %v; want %q", format, got, err, want)
		}
	}
	if _, err := ScanCommand(req, "csv;reboot"); err == nil {
		t.Error("bad format accepted")
	}
	if _, err := ScanCommand(ScanRequest{Target: netip.MustParsePrefix("10.9.1.0/24"), Method: "arp;reboot"}, FormatStream); err == nil {
		t.Error("bad method accepted")
	}
	if _, err := ScanCommand(ScanRequest{}, FormatStream); err == nil {
		t.Error("no target accepted")
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{DefaultWakeCommand, LanscoutWakeCommand, "a {macs}; b", "x {iface} {macs} $y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTemplate(s)
		if err != nil {
			return
		}
		cmd, err := tm.ExpandParams(Params{Broadcast: netip.MustParseAddr("10.0.0.255"), Iface: "eth0", Port: 9,
			Password: []byte{1, 2, 3, 4, 5, 6}}, []net.HardwareAddr{mac(1), mac(2)})
		if err != nil {
			t.Fatalf("Expand of accepted %q: %v", s, err)
		}
		for _, w := range strings.Split(cmd, " ") {
			if !shellWord(w) {
				t.Fatalf("template %q gave word %q that the shell would interpret", s, w)
			}
		}
		if !strings.Contains(cmd, mac(1).String()) {
			t.Fatalf("template %q: %s not in %q", s, mac(1), cmd)
		}
		_ = fmt.Sprint(tm)
	})
}

func TestSentMACs(t *testing.T) {
	out := `Sending magic packet to 10.9.1.255:9 with 02:00:5e:30:00:01
Sending magic packet to 10.9.1.255:9 with 02:00:5E:30:00:02
02:00:5e:30:00:03  sent    UDP to 10.9.1.255 port 9,7
02:00:5e:30:00:04  FAILED  send UDP to 10.9.1.255:9: network is unreachable
02:00:5e:30:00:05  sent    raw Ethernet on eth0
garbage sent here
lanscout wake: 1 of 4 magic packets were not sent
`
	got := sentMACs(out)
	for _, m := range []string{"02:00:5e:30:00:01", "02:00:5e:30:00:02", "02:00:5e:30:00:03", "02:00:5e:30:00:05"} {
		if !got[m] {
			t.Errorf("%s not read as sent", m)
		}
	}
	if got["02:00:5e:30:00:04"] || len(got) != 4 {
		t.Errorf("sentMACs = %v", got)
	}
}
