package discover

import (
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// passiveFilter passes ARP and unfragmented IPv4 UDP to or from ports 67
// and 68 (DHCP), so the kernel drops everything else.
func passiveFilter() []bpf.RawInstruction {
	const drop, accept = 14, 15
	at := func(i, target int) uint8 { return uint8(target - i - 1) }
	f, err := bpf.Assemble([]bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: 12, Size: 2},
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0806, SkipTrue: at(1, accept)},
		/* 2 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: at(2, drop)},
		/* 3 */ bpf.LoadAbsolute{Off: 23, Size: 1},
		/* 4 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipFalse: at(4, drop)},
		/* 5 */ bpf.LoadAbsolute{Off: 20, Size: 2},
		/* 6 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: at(6, drop)},
		/* 7 */ bpf.LoadMemShift{Off: 14},
		/* 8 */ bpf.LoadIndirect{Off: 14, Size: 2},
		/* 9 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 67, SkipTrue: at(9, accept)},
		/* 10 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 68, SkipTrue: at(10, accept)},
		/* 11 */ bpf.LoadIndirect{Off: 16, Size: 2},
		/* 12 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 67, SkipTrue: at(12, accept)},
		/* 13 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 68, SkipTrue: at(13, accept)},
		/* 14 */ bpf.RetConstant{Val: 0},
		/* 15 */ bpf.RetConstant{Val: 0x40000},
	})
	if err != nil {
		panic(err) // a constant program
	}
	return f
}

// sighting is one fact decoded from a frame.
type sighting struct {
	how      string // "passive-arp" or "passive-dhcp"
	ip       netip.Addr
	mac      net.HardwareAddr
	hostname string // DHCP option 12
}

// decodeFrame extracts sightings from an Ethernet frame. It never panics
// on hostile input (see FuzzDecodeFrame).
func decodeFrame(data []byte) []sighting {
	var (
		eth  layers.Ethernet
		vlan layers.Dot1Q
		arpL layers.ARP
		ip4  layers.IPv4
		udp  layers.UDP
		dhcp layers.DHCPv4
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &vlan, &arpL, &ip4, &udp, &dhcp)
	p.IgnoreUnsupported = true
	var decoded []gopacket.LayerType
	_ = p.DecodeLayers(data, &decoded) // a truncated tail still leaves the layers before it
	var out []sighting
	for _, lt := range decoded {
		switch lt {
		case layers.LayerTypeARP:
			if arpL.AddrType != layers.LinkTypeEthernet || arpL.Protocol != layers.EthernetTypeIPv4 ||
				len(arpL.SourceHwAddress) != 6 || len(arpL.SourceProtAddress) != 4 {
				continue
			}
			ip := netip.AddrFrom4([4]byte(arpL.SourceProtAddress))
			mac := net.HardwareAddr(slices.Clone(arpL.SourceHwAddress))
			// An ARP probe (RFC 5227) has no sender address yet.
			if !usableHostIP(ip) || isZeroMAC(mac) {
				continue
			}
			out = append(out, sighting{how: "passive-arp", ip: ip, mac: mac})
		case layers.LayerTypeDHCPv4:
			if s, ok := dhcpSighting(&dhcp); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func dhcpSighting(d *layers.DHCPv4) (sighting, bool) {
	if d.HardwareType != layers.LinkTypeEthernet || len(d.ClientHWAddr) < 6 {
		return sighting{}, false
	}
	s := sighting{how: "passive-dhcp", mac: net.HardwareAddr(slices.Clone(d.ClientHWAddr[:6]))}
	var msgType layers.DHCPMsgType
	var requested netip.Addr
	for _, o := range d.Options {
		switch o.Type {
		case layers.DHCPOptMessageType:
			if len(o.Data) == 1 {
				msgType = layers.DHCPMsgType(o.Data[0])
			}
		case layers.DHCPOptHostname:
			s.hostname = printable(o.Data)
		case layers.DHCPOptRequestIP:
			if len(o.Data) == 4 {
				requested = netip.AddrFrom4([4]byte(o.Data))
			}
		}
	}
	ciaddr, _ := netip.AddrFromSlice(d.ClientIP.To4())
	yiaddr, _ := netip.AddrFromSlice(d.YourClientIP.To4())
	switch {
	case d.Operation == layers.DHCPOpReply && msgType == layers.DHCPMsgTypeAck && usableHostIP(yiaddr):
		s.ip = yiaddr
	case d.Operation == layers.DHCPOpRequest && usableHostIP(requested):
		s.ip = requested
	case d.Operation == layers.DHCPOpRequest && usableHostIP(ciaddr):
		s.ip = ciaddr
	default:
		return sighting{}, false
	}
	if isZeroMAC(s.mac) || s.mac[0]&1 != 0 {
		return sighting{}, false
	}
	// A server's reply carries the server's name, if any, not the client's.
	if d.Operation == layers.DHCPOpReply {
		s.hostname = ""
	}
	return s, true
}

func usableHostIP(a netip.Addr) bool {
	return a.Is4() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

func isZeroMAC(m net.HardwareAddr) bool {
	for _, b := range m {
		if b != 0 {
			return false
		}
	}
	return true
}

// printable keeps a DHCP host name to printable ASCII: it comes from any
// device on the segment and ends up in logs and web pages.
func printable(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c >= 0x21 && c < 0x7f {
			out = append(out, c)
		}
	}
	if len(out) > 64 {
		out = out[:64]
	}
	return string(out)
}

// passiveState remembers what was reported so each change is reported once.
type passiveState struct {
	own   map[string]bool
	found func(Host)

	mu   sync.Mutex
	arp  map[netip.Addr]string // IP -> MAC
	dhcp map[string]dhcpLease  // MAC -> lease
}

type dhcpLease struct {
	ip       netip.Addr
	hostname string
}

func newPassiveState(own map[string]bool, found func(Host)) *passiveState {
	return &passiveState{own: own, found: found, arp: map[netip.Addr]string{}, dhcp: map[string]dhcpLease{}}
}

func (st *passiveState) handle(iface string, ss []sighting) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range ss {
		mac := s.mac.String()
		if st.own[mac] {
			continue
		}
		switch s.how {
		case "passive-arp":
			if st.arp[s.ip] == mac {
				continue
			}
			st.arp[s.ip] = mac
		case "passive-dhcp":
			old, ok := st.dhcp[mac]
			l := dhcpLease{ip: s.ip, hostname: s.hostname}
			if l.hostname == "" && old.ip == l.ip {
				l.hostname = old.hostname // an ACK does not forget the name a request gave
			}
			if ok && old == l {
				continue
			}
			st.dhcp[mac] = l
			s.hostname = l.hostname
		}
		if st.found == nil {
			continue
		}
		h := Host{IP: s.ip, FoundBy: []string{s.how}, Interface: iface, DHCPHostname: s.hostname}
		setMAC(&h, s.mac)
		st.found(h)
	}
}
