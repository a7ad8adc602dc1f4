package discover

import (
	"encoding/binary"
	"net"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// TestICMPMatch: only echo replies to our own probes, from the address
// probed, count. A raw socket sees every echo reply the host receives.
func TestICMPMatch(t *testing.T) {
	eng := newPassEngine([]uint32{u32(ip4("192.0.2.1")), u32(ip4("192.0.2.2"))}, nil, realClock{}, 0, 0, 1)
	s := newICMPSweep(nil, true, eng, newCollector(nil))
	reply := func(typ icmp.Type, id int, token []byte, index uint32) []byte {
		data := make([]byte, icmpPayloadLen)
		copy(data, token)
		binary.BigEndian.PutUint32(data[8:], index)
		b, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: 1, Data: data}}).Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	from := func(s string) net.Addr { return &net.IPAddr{IP: net.ParseIP(s)} }
	cases := []struct {
		name  string
		b     []byte
		from  net.Addr
		index int
		ok    bool
	}{
		{"ours", reply(ipv4.ICMPTypeEchoReply, s.id, s.token[:], 1), from("192.0.2.2"), 1, true},
		{"ping socket peer", reply(ipv4.ICMPTypeEchoReply, s.id, s.token[:], 0), &net.UDPAddr{IP: net.ParseIP("192.0.2.1")}, 0, true},
		{"our own request looped back", reply(ipv4.ICMPTypeEcho, s.id, s.token[:], 1), from("192.0.2.2"), 0, false},
		{"another pinger", reply(ipv4.ICMPTypeEchoReply, s.id, []byte("someone!"), 1), from("192.0.2.2"), 0, false},
		{"wrong id", reply(ipv4.ICMPTypeEchoReply, s.id^1, s.token[:], 1), from("192.0.2.2"), 0, false},
		{"answered from elsewhere", reply(ipv4.ICMPTypeEchoReply, s.id, s.token[:], 1), from("192.0.2.99"), 0, false},
		{"index out of range", reply(ipv4.ICMPTypeEchoReply, s.id, s.token[:], 7), from("192.0.2.2"), 0, false},
		{"garbage", []byte{0, 0}, from("192.0.2.2"), 0, false},
	}
	for _, tc := range cases {
		_, i, ok := s.match(tc.b, tc.from)
		if ok != tc.ok || ok && i != tc.index {
			t.Errorf("%s: match = %d, %v; want %d, %v", tc.name, i, ok, tc.index, tc.ok)
		}
	}
}
