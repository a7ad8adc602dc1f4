package discover

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lanscout/lanscout/discover/oui"
)

// collector merges what every method learns about every address. Its
// methods are safe for concurrent use; Found callbacks are serialised.
type collector struct {
	found func(Host)

	mu     sync.Mutex
	hosts  map[netip.Addr]*Host
	arpIPs map[netip.Addr][]net.HardwareAddr // every MAC that answered ARP for an IP
	macIPs map[string][]netip.Addr           // every IP a MAC answered ARP for
}

func newCollector(found func(Host)) *collector {
	return &collector{
		found:  found,
		hosts:  map[netip.Addr]*Host{},
		arpIPs: map[netip.Addr][]net.HardwareAddr{},
		macIPs: map[string][]netip.Addr{},
	}
}

// seen records that ip answered by way of how on interface iface. mac may
// be nil, rtt 0 and iface "" when unknown. The first sighting calls Found.
func (c *collector) seen(ip netip.Addr, how string, mac net.HardwareAddr, rtt time.Duration, iface string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, isNew := c.hostLocked(ip)
	if how != "" && !slices.Contains(h.FoundBy, how) {
		h.FoundBy = append(h.FoundBy, how)
	}
	if h.MAC == nil && mac != nil {
		setMAC(h, mac)
	}
	if h.RTT == 0 && rtt > 0 {
		h.RTT = rtt
	}
	if h.Interface == "" {
		h.Interface = iface
	}
	if isNew && c.found != nil {
		c.found(cloneHost(*h))
	}
}

// arpAnswer records an ARP answer for conflict and proxy-ARP detection.
func (c *collector) arpAnswer(ip netip.Addr, mac net.HardwareAddr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	macs := c.arpIPs[ip]
	if slices.ContainsFunc(macs, func(m net.HardwareAddr) bool { return bytes.Equal(m, mac) }) {
		return
	}
	c.arpIPs[ip] = append(macs, slices.Clone(mac))
	// A pair new to arpIPs is new to macIPs too; checking there instead
	// would be quadratic for a proxy-ARP MAC answering for a /17.
	k := string(mac)
	c.macIPs[k] = append(c.macIPs[k], ip)
}

// macOf returns the MAC ip answered ARP with, nil when none did.
func (c *collector) macOf(ip netip.Addr) net.HardwareAddr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.hosts[ip]; ok {
		return h.MAC
	}
	return nil
}

func (c *collector) openPort(ip netip.Addr, port uint16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, _ := c.hostLocked(ip)
	if !slices.Contains(h.OpenPorts, port) {
		h.OpenPorts = append(h.OpenPorts, port)
	}
}

func (c *collector) setHostnames(ip netip.Addr, names []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.hosts[ip]; ok {
		h.Hostnames = names
	}
}

func (c *collector) addrs() []netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]netip.Addr, 0, len(c.hosts))
	for a := range c.hosts {
		out = append(out, a)
	}
	return out
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.hosts)
}

func (c *collector) hostLocked(ip netip.Addr) (*Host, bool) {
	if h, ok := c.hosts[ip]; ok {
		return h, false
	}
	h := &Host{IP: ip}
	c.hosts[ip] = h
	return h, true
}

func setMAC(h *Host, mac net.HardwareAddr) {
	h.MAC = slices.Clone(mac)
	h.MACVendor = oui.Lookup(mac)
	h.MACFlags = oui.Flags(mac)
}

// hosts returns every host sorted by IP with sorted, stable fields.
func (c *collector) result() []Host {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Host, 0, len(c.hosts))
	for _, h := range c.hosts {
		hh := cloneHost(*h)
		sortFoundBy(hh.FoundBy)
		slices.Sort(hh.OpenPorts)
		out = append(out, hh)
	}
	slices.SortFunc(out, func(a, b Host) int { return a.IP.Compare(b.IP) })
	return out
}

// Proxy-ARP threshold: a MAC is reported when it answered for at least
// proxyARPMin addresses and for more than half of the addresses probed on
// its link, or for proxyARPAlways addresses whatever the sweep size. A
// host with a few aliases (a server with service addresses, a router with
// VRRP) stays under it; a router answering proxy ARP for a subnet answers
// for every probed address, alive or not, and crosses it on anything from
// a /29 up.
const (
	proxyARPMin    = 4
	proxyARPAlways = 16
)

// arpFindings returns IPs answered by more than one MAC and MACs
// answering for suspiciously many IPs, with a warning for each; probed is
// how many addresses were asked for on the link.
func (c *collector) arpFindings(probed int) ([]Conflict, []ProxyARP, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var (
		conflicts []Conflict
		proxies   []ProxyARP
		warnings  []string
	)
	for ip, macs := range c.arpIPs {
		if len(macs) < 2 {
			continue
		}
		ms := slices.Clone(macs)
		slices.SortFunc(ms, func(a, b net.HardwareAddr) int { return bytes.Compare(a, b) })
		conflicts = append(conflicts, Conflict{IP: ip, MACs: ms})
	}
	slices.SortFunc(conflicts, func(a, b Conflict) int { return a.IP.Compare(b.IP) })
	for _, cf := range conflicts {
		ms := make([]string, len(cf.MACs))
		for i, m := range cf.MACs {
			ms[i] = m.String()
		}
		warnings = append(warnings, fmt.Sprintf("IP conflict: %s is answered by %d MACs (%s)", cf.IP, len(cf.MACs), strings.Join(ms, ", ")))
	}
	for k, ips := range c.macIPs {
		mac := net.HardwareAddr(k)
		n := len(ips)
		if n < proxyARPAlways && (n < proxyARPMin || 2*n <= probed) {
			continue
		}
		s := slices.Clone(ips)
		slices.SortFunc(s, func(a, b netip.Addr) int { return a.Compare(b) })
		proxies = append(proxies, ProxyARP{MAC: slices.Clone(mac), IPs: s})
	}
	slices.SortFunc(proxies, func(a, b ProxyARP) int { return bytes.Compare(a.MAC, b.MAC) })
	for _, p := range proxies {
		warnings = append(warnings, fmt.Sprintf("proxy ARP: %s answered for %d addresses (%s … %s): a router answering for others, or a misconfigured host",
			p.MAC, len(p.IPs), p.IPs[0], p.IPs[len(p.IPs)-1]))
	}
	return conflicts, proxies, warnings
}

func cloneHost(h Host) Host {
	h.MAC = slices.Clone(h.MAC)
	h.MACFlags = slices.Clone(h.MACFlags)
	h.Hostnames = slices.Clone(h.Hostnames)
	h.FoundBy = slices.Clone(h.FoundBy)
	h.OpenPorts = slices.Clone(h.OpenPorts)
	return h
}

// sortFoundBy orders methods as "local", "arp", "icmp", then "tcp/N" by
// port number.
func sortFoundBy(s []string) {
	rank := func(m string) (int, int) {
		switch {
		case m == "local":
			return 0, 0
		case m == "arp":
			return 1, 0
		case m == "icmp":
			return 2, 0
		case strings.HasPrefix(m, "tcp/"):
			var p int
			fmt.Sscanf(m, "tcp/%d", &p)
			return 3, p
		}
		return 4, 0
	}
	sort.SliceStable(s, func(i, j int) bool {
		a1, a2 := rank(s[i])
		b1, b2 := rank(s[j])
		if a1 != b1 {
			return a1 < b1
		}
		if a2 != b2 {
			return a2 < b2
		}
		return s[i] < s[j]
	})
}
