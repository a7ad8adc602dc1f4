package wol

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestParseMAC(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"00:1b:a9:12:34:56", "00:1b:a9:12:34:56", ""},
		{"00-1B-A9-12-34-56", "00:1b:a9:12:34:56", ""},
		{"001b.a912.3456", "00:1b:a9:12:34:56", ""},
		{"001BA9123456", "00:1b:a9:12:34:56", ""},
		{"  02:00:00:00:00:01 ", "02:00:00:00:00:01", ""},
		{"", "", "empty"},
		{"00:1b:a9:12:34", "", "want aa:bb"},
		{"00:1b:a9:12:34:5g", "", "want aa:bb"},
		{"001ba912345g", "", "hexadecimal"},
		{"00:00:5e:00:53:00:00:01", "", "8 bytes"},
		{"ff:ff:ff:ff:ff:ff", "", "broadcast"},
		{"01:00:5e:00:00:fb", "", "multicast"},
		{"33:33:00:00:00:01", "", "multicast"},
		{"00:00:00:00:00:00", "", "all-zero"},
		{"000000000000", "", "all-zero"},
		{"00:1b:a9:12:34:56; rm -rf /", "", "want aa:bb"},
	} {
		hw, err := ParseMAC(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrInvalidMAC) {
				t.Errorf("ParseMAC(%q) = %v, %v; want an ErrInvalidMAC containing %q", tc.in, hw, err, tc.err)
			}
			continue
		}
		if err != nil || hw.String() != tc.want {
			t.Errorf("ParseMAC(%q) = %v, %v; want %s", tc.in, hw, err, tc.want)
		}
	}
}

func TestParseMACsDeduplicates(t *testing.T) {
	got, err := ParseMACs([]string{"00:1b:a9:12:34:56", "001B.A912.3456", "02:00:00:00:00:01"})
	if err != nil || len(got) != 2 || got[0].String() != "00:1b:a9:12:34:56" || got[1].String() != "02:00:00:00:00:01" {
		t.Errorf("ParseMACs = %v, %v", got, err)
	}
	if _, err := ParseMACs([]string{"00:1b:a9:12:34:56", "nope"}); !errors.Is(err, ErrInvalidMAC) {
		t.Errorf("a bad MAC among good ones: err = %v", err)
	}
}

func TestParsePassword(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // hex, "-" for an error
	}{
		{"", ""},
		{"aa:bb:cc:dd:ee:ff", "aabbccddeeff"},
		{"AA-BB-CC-DD-EE-FF", "aabbccddeeff"},
		{"aabbccddeeff", "aabbccddeeff"},
		{"01:02:03:04", "01020304"},
		{"01020304", "01020304"},
		{"192.168.1.1", "c0a80101"},
		{"256.1.1.1", "-"},
		{"1.2.3", "-"},
		{"aa:bb:cc", "-"},
		{"aabbcc", "-"},
		{"aa:bb:cc:dd:ee", "-"},
		{"a:abb:cc:dd", "-"},
		{"aa:bb-cc:dd", "-"},
		{"zz:bb:cc:dd", "-"},
		{"secret", "-"},
	} {
		got, err := ParsePassword(tc.in)
		if tc.want == "-" {
			if !errors.Is(err, ErrInvalidPassword) {
				t.Errorf("ParsePassword(%q) = %x, %v; want ErrInvalidPassword", tc.in, got, err)
			} else if strings.Contains(err.Error(), tc.in) {
				t.Errorf("ParsePassword(%q): the error %q repeats the password", tc.in, err)
			}
			continue
		}
		if err != nil || hex.EncodeToString(got) != tc.want {
			t.Errorf("ParsePassword(%q) = %x, %v; want %s", tc.in, got, err, tc.want)
		}
		if len(got) > 0 {
			back, err := ParsePassword(FormatPassword(got))
			if err != nil || !bytes.Equal(back, got) {
				t.Errorf("ParsePassword(FormatPassword(%x)) = %x, %v", got, back, err)
			}
		}
	}
}

// TestMagicPacketGolden pins the bytes on the wire: 6 x 0xff, 16 x the
// MAC, then the password.
func TestMagicPacketGolden(t *testing.T) {
	mac, _ := ParseMAC("00:1b:a9:12:34:56")
	for _, tc := range []struct {
		name     string
		password []byte
		size     int
	}{
		{"plain", nil, 102},
		{"password4", []byte{192, 168, 1, 1}, 106},
		{"password6", []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}, 108},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := MagicPacket(mac, tc.password)
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != tc.size {
				t.Fatalf("%d bytes, want %d", len(p), tc.size)
			}
			// Independent of the golden file: the layout itself.
			if !bytes.Equal(p[:6], bytes.Repeat([]byte{0xff}, 6)) || !bytes.Equal(p[6:102], bytes.Repeat(mac, 16)) ||
				!bytes.Equal(p[102:], tc.password) {
				t.Fatalf("layout wrong: %x", p)
			}
			golden := filepath.Join("testdata", "magic-"+tc.name+".hex")
			dump := hex.Dump(p)
			if *update {
				if err := os.WriteFile(golden, []byte(dump), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if dump != string(want) {
				t.Errorf("packet differs from %s:\n%s\nwant:\n%s", golden, dump, want)
			}
			gotMAC, gotPW, err := ParseMagicPacket(p)
			if err != nil || gotMAC.String() != mac.String() || !bytes.Equal(gotPW, tc.password) {
				t.Errorf("ParseMagicPacket = %v, %x, %v", gotMAC, gotPW, err)
			}
		})
	}
	if _, err := MagicPacket(mac, []byte{1, 2, 3}); !errors.Is(err, ErrInvalidPassword) {
		t.Errorf("3-byte password: err = %v", err)
	}
	if _, err := MagicPacket(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, nil); !errors.Is(err, ErrInvalidMAC) {
		t.Errorf("broadcast MAC: err = %v", err)
	}
}

func TestEthernetFrame(t *testing.T) {
	src := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	f := ethernetFrame(src, []byte{1, 2, 3})
	want := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x42, 1, 2, 3}
	if !bytes.Equal(f, want) {
		t.Errorf("frame %x, want %x", f, want)
	}
}

func TestDirectedBroadcast(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.168.1.0/24", "192.168.1.255"},
		{"192.168.1.77/24", "192.168.1.255"},
		{"10.20.0.0/16", "10.20.255.255"},
		{"10.0.0.4/30", "10.0.0.7"},
		{"0.0.0.0/0", "255.255.255.255"},
		{"10.0.0.0/31", "-"},
		{"10.0.0.1/32", "-"},
		{"2001:db8::/64", "-"},
	} {
		got, err := DirectedBroadcast(netip.MustParsePrefix(tc.in))
		if tc.want == "-" {
			if err == nil {
				t.Errorf("DirectedBroadcast(%s) = %s, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("DirectedBroadcast(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestFindRoute(t *testing.T) {
	ifaces := []Interface{
		{Name: "eth0", Index: 2, HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1},
			Prefixes: []netip.Prefix{netip.MustParsePrefix("192.168.1.10/24")}},
		{Name: "eth1", Index: 3, HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 2},
			Prefixes: []netip.Prefix{netip.MustParsePrefix("10.5.3.2/22"), netip.MustParsePrefix("172.16.0.1/30")}},
	}
	for _, tc := range []struct{ subnet, iface, bcast string }{
		{"192.168.1.0/24", "eth0", "192.168.1.255"},
		{"192.168.1.128/25", "eth0", "192.168.1.255"}, // narrower: the interface's own broadcast
		{"10.5.0.0/16", "eth1", "10.5.3.255"},         // wider
		{"10.5.2.0/24", "eth1", "10.5.3.255"},
		{"172.16.0.0/30", "eth1", "172.16.0.3"},
	} {
		r, err := FindRoute(ifaces, netip.MustParsePrefix(tc.subnet))
		if err != nil || r.Interface.Name != tc.iface || r.Broadcast.String() != tc.bcast {
			t.Errorf("FindRoute(%s) = %v, %v; want %s %s", tc.subnet, r, err, tc.iface, tc.bcast)
		}
	}
	if _, err := FindRoute(ifaces, netip.MustParsePrefix("10.9.0.0/24")); !errors.Is(err, ErrNoRoute) {
		t.Errorf("no interface there: err = %v, want ErrNoRoute", err)
	}
	if _, err := FindRoute(ifaces, netip.MustParsePrefix("2001:db8::/64")); err == nil {
		t.Error("IPv6 subnet: no error")
	}
	r := InterfaceRoute(ifaces[1])
	if r.Interface.Name != "eth1" || r.Broadcast.String() != "10.5.3.255" {
		t.Errorf("InterfaceRoute = %v", r)
	}
}

func TestSenderValidate(t *testing.T) {
	for _, s := range []Sender{
		{Ports: []int{0}},
		{Ports: []int{70000}},
		{Password: []byte{1, 2}},
		{Method: "carrier-pigeon"},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	s := Sender{Method: MethodRaw}
	if _, err := s.Send(t.Context(), Route{Broadcast: netip.MustParseAddr("127.255.255.255")}, nil); err == nil {
		t.Error("raw without an interface: no error")
	}
	s = Sender{Method: MethodUDP}
	if _, err := s.Send(t.Context(), Route{}, nil); err == nil {
		t.Error("UDP without a broadcast: no error")
	}
}

// TestSendUDPLoopback sends through the real UDP path to loopback's
// broadcast, where a listener on this host receives it: the datagrams on
// every port carry the right packet.
func TestSendUDPLoopback(t *testing.T) {
	var conns []*net.UDPConn
	var ports []int
	for range 2 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		ports = append(ports, c.LocalAddr().(*net.UDPAddr).Port)
	}
	macs, _ := ParseMACs([]string{"02:00:00:00:00:0a", "02:00:00:00:00:0b"})
	s := Sender{Ports: ports, Password: []byte{1, 2, 3, 4}}
	res, err := s.Send(t.Context(), Route{Broadcast: netip.MustParseAddr("127.255.255.255")}, macs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Method != MethodUDP || r.MAC.String() != macs[i].String() {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	for _, c := range conns {
		got := map[string]bool{}
		buf := make([]byte, 1500)
		for range macs {
			_ = c.SetReadDeadline(deadline(t))
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("port %s: %v", c.LocalAddr(), err)
			}
			mac, pw, err := ParseMagicPacket(buf[:n])
			if err != nil || !bytes.Equal(pw, []byte{1, 2, 3, 4}) {
				t.Fatalf("port %s: %x: %v", c.LocalAddr(), buf[:n], err)
			}
			got[mac.String()] = true
		}
		for _, m := range macs {
			if !got[m.String()] {
				t.Errorf("port %s: no packet for %s", c.LocalAddr(), m)
			}
		}
	}
}

func FuzzParseMAC(f *testing.F) {
	for _, s := range []string{"00:1b:a9:12:34:56", "001b.a912.3456", "001BA9123456", "ff:ff:ff:ff:ff:ff", "00-00-5e-00-53-01", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hw, err := ParseMAC(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidMAC) {
				t.Fatalf("ParseMAC(%q): error %v is not ErrInvalidMAC", s, err)
			}
			return
		}
		if len(hw) != 6 || hw[0]&1 != 0 || hw.String() == "00:00:00:00:00:00" {
			t.Fatalf("ParseMAC(%q) accepted %v", s, hw)
		}
		// The normalised form parses back to itself, and is only hex and colons.
		back, err := ParseMAC(hw.String())
		if err != nil || back.String() != hw.String() {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
		if strings.Trim(hw.String(), "0123456789abcdef:") != "" {
			t.Fatalf("normalised %q has other characters", hw)
		}
		if _, err := MagicPacket(hw, nil); err != nil {
			t.Fatalf("MagicPacket(%v): %v", hw, err)
		}
	})
}

func FuzzParsePassword(f *testing.F) {
	for _, s := range []string{"", "aa:bb:cc:dd:ee:ff", "01020304", "192.168.1.1", "a:abb:cc:dd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePassword(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPassword) {
				t.Fatalf("ParsePassword(%q): error %v is not ErrInvalidPassword", s, err)
			}
			return
		}
		if n := len(p); n != 0 && n != 4 && n != 6 {
			t.Fatalf("ParsePassword(%q) = %d bytes", s, n)
		}
		back, err := ParsePassword(FormatPassword(p))
		if err != nil || !bytes.Equal(back, p) {
			t.Fatalf("round trip of %q: %x, %v", s, back, err)
		}
	})
}

func FuzzParseMagicPacket(f *testing.F) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	p, _ := MagicPacket(mac, nil)
	f.Add(p)
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, pw, err := ParseMagicPacket(b)
		if err != nil {
			return
		}
		if len(m) != 6 {
			t.Fatalf("MAC of %d bytes", len(m))
		}
		if checkMAC(m) != nil {
			return
		}
		again, err := MagicPacket(m, pw)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding %x gave %x, %v", b, again, err)
		}
	})
}

func deadline(t *testing.T) (d time.Time) {
	return time.Now().Add(5 * time.Second)
}
