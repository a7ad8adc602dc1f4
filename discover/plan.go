package discover

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// link is what planning needs to know about a local interface. It is a
// plain value so tests can describe any host's interfaces.
type link struct {
	Index    int
	Name     string
	HW       net.HardwareAddr
	Flags    net.Flags
	Prefixes []netip.Prefix // IPv4 addresses with their masks, unmasked
}

// ethernet reports whether ARP can be spoken on the link.
func (l link) ethernet() bool {
	return len(l.HW) == 6 && l.Flags&net.FlagUp != 0 &&
		l.Flags&(net.FlagLoopback|net.FlagPointToPoint) == 0
}

// localLinks lists the interfaces with their IPv4 prefixes.
// It must run on the sweeping goroutine: interface lookups are netlink
// queries answered by the caller's network namespace.
func localLinks() ([]link, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var links []link
	for _, ifi := range ifs {
		addrs, err := ifi.Addrs()
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", ifi.Name, err)
		}
		l := link{Index: ifi.Index, Name: ifi.Name, HW: ifi.HardwareAddr, Flags: ifi.Flags}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			ones, bits := ipn.Mask.Size()
			if !ip.Is4() || bits != 32 {
				continue
			}
			l.Prefixes = append(l.Prefixes, netip.PrefixFrom(ip, ones))
		}
		links = append(links, l)
	}
	return links, nil
}

// attachment is one directly attached subnet: the link and our address in it.
type attachment struct {
	link   *link
	prefix netip.Prefix // masked
	src    netip.Addr
}

// attachments lists every attached IPv4 subnet, longest prefixes first so
// that the first match is the longest.
func attachments(links []link) []attachment {
	var as []attachment
	for i := range links {
		if links[i].Flags&net.FlagUp == 0 {
			continue
		}
		for _, p := range links[i].Prefixes {
			as = append(as, attachment{link: &links[i], prefix: p.Masked(), src: p.Addr()})
		}
	}
	slices.SortStableFunc(as, func(a, b attachment) int { return b.prefix.Bits() - a.prefix.Bits() })
	return as
}

func lookupAttachment(as []attachment, a netip.Addr, keep func(attachment) bool) (attachment, bool) {
	for _, at := range as {
		if at.prefix.Contains(a) && (keep == nil || keep(at)) {
			return at, true
		}
	}
	return attachment{}, false
}

// arpJob is the ARP part of a sweep on one link.
type arpJob struct {
	link  *link
	nets  []attachment // the link's subnets, longest first: the sender address per target
	addrs []uint32     // sorted
}

// src returns the sender address for a request to a: our address inside
// a's subnet, so hosts that ignore foreign senders still answer; the
// link's first address for targets outside its subnets.
func (j *arpJob) src(a uint32) netip.Addr {
	ip := addrOf(a)
	for _, n := range j.nets {
		if n.prefix.Contains(ip) {
			return n.src
		}
	}
	if len(j.nets) > 0 {
		return j.nets[len(j.nets)-1].src
	}
	return netip.IPv4Unspecified()
}

// plan is how a sweep covers its addresses.
type plan struct {
	addrs    []uint32 // every address swept, sorted
	skipped  []uint32 // network and broadcast addresses left out
	arp      []*arpJob
	routed   []uint32 // swept by ICMP and/or TCP, sorted
	warnings []string
}

// makePlan expands the targets, skips network and broadcast addresses of
// attached subnets and decides which addresses ARP covers. Only addresses
// whose longest attached subnet is wider than /31 lose those two
// addresses: on a routed subnet we cannot know the mask, and /31 and /32
// have none (RFC 3021).
func makePlan(ivs []interval, links []link, method Method, iface string) (*plan, error) {
	as := attachments(links)
	skip := map[uint32]bool{}
	for _, at := range as {
		if at.prefix.Bits() >= 31 {
			continue
		}
		for _, c := range []netip.Addr{at.prefix.Addr(), lastAddr(at.prefix)} {
			// Only the longest attached subnet of an address decides.
			if best, _ := lookupAttachment(as, c, nil); best.prefix == at.prefix {
				skip[u32(c)] = true
			}
		}
	}

	p := &plan{}
	for _, iv := range ivs {
		for v := uint64(iv.lo); v <= uint64(iv.hi); v++ {
			if skip[uint32(v)] {
				p.skipped = append(p.skipped, uint32(v))
				continue
			}
			p.addrs = append(p.addrs, uint32(v))
		}
	}

	var forced *link
	if iface != "" {
		for i := range links {
			if links[i].Name == iface {
				forced = &links[i]
			}
		}
		if forced == nil {
			return nil, fmt.Errorf("interface %q: %w", iface, errNoInterface)
		}
	}

	switch method {
	case MethodSNMP:
		return p, nil
	case MethodICMP, MethodTCP:
		p.routed = p.addrs
		return p, nil
	case MethodARP, MethodAuto:
	default:
		return nil, fmt.Errorf("unknown method %q (want auto, arp, icmp, tcp or snmp)", method)
	}

	if forced != nil && method == MethodARP && !forced.ethernet() {
		return nil, fmt.Errorf("arp sweep on %s: not an Ethernet interface that is up", forced.Name)
	}
	jobs := map[int]*arpJob{}
	var foreign int
	for _, v := range p.addrs {
		at, ok := lookupAttachment(as, addrOf(v), func(at attachment) bool {
			return at.link.ethernet() && (forced == nil || at.link == forced)
		})
		var l *link
		switch {
		case ok:
			l = at.link
		case forced != nil && method == MethodARP:
			// The admin named the segment: ask it even for addresses
			// outside its subnets, as arp-scan -I does.
			l = forced
			foreign++
		default:
			p.routed = append(p.routed, v)
			continue
		}
		j := jobs[l.Index]
		if j == nil {
			j = &arpJob{link: l}
			for _, at := range as {
				if at.link == l {
					j.nets = append(j.nets, at)
				}
			}
			jobs[l.Index] = j
			p.arp = append(p.arp, j)
		}
		j.addrs = append(j.addrs, v)
	}
	if foreign > 0 {
		p.warnings = append(p.warnings, fmt.Sprintf(
			"%d addresses are outside every subnet of %s: hosts may ignore ARP requests from a foreign sender address", foreign, forced.Name))
	}
	if method == MethodARP && len(p.routed) > 0 {
		if len(p.arp) == 0 {
			return nil, fmt.Errorf("arp sweep: no target address is on a directly attached Ethernet subnet (use -method icmp or tcp for routed targets)")
		}
		p.warnings = append(p.warnings, fmt.Sprintf(
			"%d addresses are not on a directly attached Ethernet subnet and were not swept (ARP does not cross routers)", len(p.routed)))
		p.routed = nil
	}
	return p, nil
}

var errNoInterface = errors.New("no such network interface")
