package discover

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

var (
	hostMAC  = net.HardwareAddr{0x00, 0x00, 0x0c, 0x01, 0x02, 0x03}
	otherMAC = net.HardwareAddr{0x3c, 0x5a, 0xb4, 0x0a, 0x0b, 0x0c}
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func arpFrame(t testing.TB, op uint16, srcMAC net.HardwareAddr, srcIP, dstIP string) []byte {
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
	a := &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: op, SourceHwAddress: srcMAC, SourceProtAddress: netip.MustParseAddr(srcIP).AsSlice(),
		DstHwAddress: make([]byte, 6), DstProtAddress: netip.MustParseAddr(dstIP).AsSlice(),
	}
	return serialize(t, eth, a)
}

func dhcpFrame(t testing.TB, op layers.DHCPOp, msg layers.DHCPMsgType, client net.HardwareAddr, yiaddr string, opts ...layers.DHCPOption) []byte {
	eth := &layers.Ethernet{SrcMAC: client, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4zero, DstIP: net.IPv4bcast}
	udp := &layers.UDP{SrcPort: 68, DstPort: 67}
	if op == layers.DHCPOpReply {
		udp.SrcPort, udp.DstPort = 67, 68
	}
	_ = udp.SetNetworkLayerForChecksum(ip)
	d := &layers.DHCPv4{Operation: op, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6, ClientHWAddr: client, Xid: 7,
		ClientIP: net.IPv4zero, YourClientIP: net.ParseIP(yiaddr).To4(), NextServerIP: net.IPv4zero, RelayAgentIP: net.IPv4zero}
	d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(msg)}))
	d.Options = append(d.Options, opts...)
	d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptEnd, nil))
	return serialize(t, eth, ip, udp, d)
}

func TestDecodeFrame(t *testing.T) {
	cases := []struct {
		name  string
		frame []byte
		want  []sighting
	}{
		{"arp request", arpFrame(t, layers.ARPRequest, hostMAC, "10.0.0.5", "10.0.0.1"),
			[]sighting{{how: "passive-arp", ip: ip4("10.0.0.5"), mac: hostMAC}}},
		{"gratuitous arp", arpFrame(t, layers.ARPReply, hostMAC, "10.0.0.5", "10.0.0.5"),
			[]sighting{{how: "passive-arp", ip: ip4("10.0.0.5"), mac: hostMAC}}},
		{"arp probe has no sender address", arpFrame(t, layers.ARPRequest, hostMAC, "0.0.0.0", "10.0.0.5"), nil},
		{"dhcp request with requested address and host name", dhcpFrame(t, layers.DHCPOpRequest, layers.DHCPMsgTypeRequest, hostMAC, "0.0.0.0",
			layers.NewDHCPOption(layers.DHCPOptRequestIP, []byte{10, 0, 0, 42}),
			layers.NewDHCPOption(layers.DHCPOptHostname, []byte("printer-3f\x00\n"))),
			[]sighting{{how: "passive-dhcp", ip: ip4("10.0.0.42"), mac: hostMAC, hostname: "printer-3f"}}},
		{"dhcp discover without an address", dhcpFrame(t, layers.DHCPOpRequest, layers.DHCPMsgTypeDiscover, hostMAC, "0.0.0.0",
			layers.NewDHCPOption(layers.DHCPOptHostname, []byte("laptop"))), nil},
		{"dhcp ack gives the lease", dhcpFrame(t, layers.DHCPOpReply, layers.DHCPMsgTypeAck, otherMAC, "10.0.0.77",
			layers.NewDHCPOption(layers.DHCPOptHostname, []byte("server-name"))),
			[]sighting{{how: "passive-dhcp", ip: ip4("10.0.0.77"), mac: otherMAC}}},
		{"dhcp offer is not a lease", dhcpFrame(t, layers.DHCPOpReply, layers.DHCPMsgTypeOffer, otherMAC, "10.0.0.77"), nil},
		{"truncated", arpFrame(t, layers.ARPRequest, hostMAC, "10.0.0.5", "10.0.0.1")[:30], nil},
		{"empty", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeFrame(tc.frame)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(sighting{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("decodeFrame (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPassiveFilter(t *testing.T) {
	vm, err := bpf.NewVM(disassemble(t, passiveFilter()))
	if err != nil {
		t.Fatal(err)
	}
	dnsIP := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 0, 0, 5), DstIP: net.IPv4(10, 0, 0, 1)}
	dnsUDP := &layers.UDP{SrcPort: 5353, DstPort: 53}
	_ = dnsUDP.SetNetworkLayerForChecksum(dnsIP)
	dns := serialize(t, &layers.Ethernet{SrcMAC: hostMAC, DstMAC: otherMAC, EthernetType: layers.EthernetTypeIPv4}, dnsIP, dnsUDP, gopacket.Payload("x"))
	cases := []struct {
		name  string
		frame []byte
		pass  bool
	}{
		{"arp", arpFrame(t, layers.ARPRequest, hostMAC, "10.0.0.5", "10.0.0.1"), true},
		{"dhcp request", dhcpFrame(t, layers.DHCPOpRequest, layers.DHCPMsgTypeRequest, hostMAC, "0.0.0.0"), true},
		{"dhcp reply", dhcpFrame(t, layers.DHCPOpReply, layers.DHCPMsgTypeAck, hostMAC, "10.0.0.9"), true},
		{"dns", dns, false},
	}
	for _, tc := range cases {
		n, err := vm.Run(tc.frame)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if (n > 0) != tc.pass {
			t.Errorf("%s: filter returned %d, want pass=%v", tc.name, n, tc.pass)
		}
	}
}

func disassemble(t *testing.T, raw []bpf.RawInstruction) []bpf.Instruction {
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("filter does not disassemble")
	}
	return ins
}

// TestPassiveStateReportsChangesOnce: the same fact twice is one report;
// a new MAC for an address, or a new name, is another.
func TestPassiveStateReportsChangesOnce(t *testing.T) {
	var got []Host
	st := newPassiveState(map[string]bool{scannerMAC.String(): true}, func(h Host) { got = append(got, h) })
	arpSeen := sighting{how: "passive-arp", ip: ip4("10.0.0.5"), mac: hostMAC}
	st.handle("eth0", []sighting{arpSeen, arpSeen})
	st.handle("eth0", []sighting{{how: "passive-arp", ip: ip4("10.0.0.9"), mac: scannerMAC}}) // ourselves
	st.handle("eth0", []sighting{{how: "passive-arp", ip: ip4("10.0.0.5"), mac: otherMAC}})
	req := sighting{how: "passive-dhcp", ip: ip4("10.0.0.42"), mac: hostMAC, hostname: "printer"}
	st.handle("eth0", []sighting{req, req})
	st.handle("eth0", []sighting{{how: "passive-dhcp", ip: ip4("10.0.0.42"), mac: hostMAC}}) // the ACK, nameless
	if len(got) != 3 {
		t.Fatalf("got %d reports, want 3: %+v", len(got), got)
	}
	if got[1].MAC.String() != otherMAC.String() || got[2].DHCPHostname != "printer" || got[2].FoundBy[0] != "passive-dhcp" {
		t.Errorf("reports %+v", got)
	}
	if got[0].MACVendor != "Cisco Systems, Inc" || got[0].Interface != "eth0" {
		t.Errorf("first report %+v, want Cisco's MAC on eth0", got[0])
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add(arpFrame(f, layers.ARPRequest, hostMAC, "10.0.0.5", "10.0.0.1"))
	f.Add(dhcpFrame(f, layers.DHCPOpRequest, layers.DHCPMsgTypeRequest, hostMAC, "0.0.0.0",
		layers.NewDHCPOption(layers.DHCPOptRequestIP, []byte{10, 0, 0, 42}),
		layers.NewDHCPOption(layers.DHCPOptHostname, []byte("printer"))))
	f.Add(dhcpFrame(f, layers.DHCPOpReply, layers.DHCPMsgTypeAck, otherMAC, "10.0.0.77"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range decodeFrame(b) {
			if !s.ip.Is4() || len(s.mac) != 6 || len(s.hostname) > 64 {
				t.Fatalf("bad sighting %+v", s)
			}
		}
	})
}
