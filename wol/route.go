package wol

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// ErrNoRoute is matched by FindRoute's error when no local interface sits
// in the subnet: the magic packet must be sent by something that does (an
// agent or a satellite), since routers drop directed broadcasts.
var ErrNoRoute = errors.New("no local interface in the subnet")

// Interface is a local network interface as a sender needs it: its
// Ethernet address for raw frames and its IPv4 prefixes for directed
// broadcasts.
type Interface struct {
	Name         string
	Index        int
	HardwareAddr net.HardwareAddr
	Flags        net.Flags
	Prefixes     []netip.Prefix // IPv4 addresses with their prefix length
}

// net returns the interface as the packet socket wants it.
func (i Interface) net() *net.Interface {
	return &net.Interface{Index: i.Index, Name: i.Name, HardwareAddr: i.HardwareAddr, Flags: i.Flags, MTU: 1500}
}

// LocalInterfaces lists the host's interfaces that are up, with their IPv4
// prefixes. Loopback and interfaces without an Ethernet address are left
// out: a magic packet cannot leave through them.
func LocalInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	var out []Interface
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagLoopback != 0 || len(ifi.HardwareAddr) != 6 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", ifi.Name, err)
		}
		li := Interface{Name: ifi.Name, Index: ifi.Index, HardwareAddr: ifi.HardwareAddr, Flags: ifi.Flags}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok || !ip.Unmap().Is4() {
				continue
			}
			bits, _ := ipn.Mask.Size()
			li.Prefixes = append(li.Prefixes, netip.PrefixFrom(ip.Unmap(), bits))
		}
		out = append(out, li)
	}
	return out, nil
}

// LocalInterface returns the named interface as LocalInterfaces would.
func LocalInterface(name string) (Interface, error) {
	ifs, err := LocalInterfaces()
	if err != nil {
		return Interface{}, err
	}
	for _, i := range ifs {
		if i.Name == name {
			return i, nil
		}
	}
	if _, err := net.InterfaceByName(name); err != nil {
		return Interface{}, fmt.Errorf("interface %s: %w", name, err)
	}
	return Interface{}, fmt.Errorf("interface %s is down, loopback or has no Ethernet address", name)
}

// DirectedBroadcast returns the last address of an IPv4 prefix, the
// subnet's broadcast. /31 and /32 have none.
func DirectedBroadcast(p netip.Prefix) (netip.Addr, error) {
	if !p.IsValid() || !p.Addr().Is4() {
		return netip.Addr{}, fmt.Errorf("%s: Wake-on-LAN broadcasts need an IPv4 subnet", p)
	}
	if p.Bits() > 30 {
		return netip.Addr{}, fmt.Errorf("%s: a /%d has no broadcast address", p, p.Bits())
	}
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}

// Route is where a sender puts magic packets for one segment: raw frames
// out of Interface (when set), UDP datagrams to Broadcast (when valid).
type Route struct {
	Interface *Interface
	Broadcast netip.Addr
}

func (r Route) String() string {
	switch {
	case r.Interface != nil && r.Broadcast.IsValid():
		return fmt.Sprintf("%s (broadcast %s)", r.Interface.Name, r.Broadcast)
	case r.Interface != nil:
		return r.Interface.Name
	default:
		return r.Broadcast.String()
	}
}

// FindRoute picks, among ifaces, the interface holding an address inside
// subnet (or inside which subnet lies), and the directed broadcast of that
// interface's own prefix: the one address the kernel sends as a broadcast
// frame on that segment (a broadcast of a wider or narrower subnet would be
// sent as unicast, after an ARP nobody answers). It fails with ErrNoRoute
// when no interface is on the subnet.
func FindRoute(ifaces []Interface, subnet netip.Prefix) (Route, error) {
	if !subnet.IsValid() || !subnet.Addr().Is4() {
		return Route{}, fmt.Errorf("subnet %s: Wake-on-LAN needs an IPv4 subnet", subnet)
	}
	subnet = subnet.Masked()
	for _, ifi := range ifaces {
		for _, p := range ifi.Prefixes {
			if !subnet.Contains(p.Addr()) && !p.Contains(subnet.Addr()) {
				continue
			}
			ifi := ifi
			r := Route{Interface: &ifi}
			if b, err := DirectedBroadcast(p); err == nil {
				r.Broadcast = b
			}
			return r, nil
		}
	}
	return Route{}, fmt.Errorf("%w %s", ErrNoRoute, subnet)
}

// InterfaceRoute is the route out of one named interface: raw frames on
// it, and UDP to the broadcast of its first IPv4 prefix, if it has one.
func InterfaceRoute(ifi Interface) Route {
	r := Route{Interface: &ifi}
	for _, p := range ifi.Prefixes {
		if b, err := DirectedBroadcast(p); err == nil {
			r.Broadcast = b
			break
		}
	}
	return r
}
