package discover

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"
)

// Method selects how liveness is established.
type Method string

// The sweep methods. MethodSNMP has no liveness step: every address is
// handed to the SNMP prober as if it had answered.
const (
	MethodAuto Method = "auto"
	MethodARP  Method = "arp"
	MethodICMP Method = "icmp"
	MethodTCP  Method = "tcp"
	MethodSNMP Method = "snmp"
)

// DefaultTCPPorts are the ports probed by MethodTCP when none are given:
// SSH, HTTP, HTTPS, SMB, RDP and raw printing cover most hosts that drop ICMP.
var DefaultTCPPorts = []uint16{22, 80, 443, 445, 3389, 9100}

// MaxAddresses is the largest number of addresses one run may target unless
// Options.Force is set.
const MaxAddresses = 65536

// Options configure a sweep. The zero value is usable: every zero field
// takes the documented default.
type Options struct {
	Method    Method        // default MethodAuto
	Interface string        // network interface for ARP and passive listening; default: chosen per target
	Rate      int           // probes per second; default 2000 (ARP), 500 (ICMP), 2000 TCP connects
	Retries   int           // extra passes for non-responders; default 2, negative for none
	Timeout   time.Duration // longest wait for a reply before a probe counts as lost; default 500ms
	TCPPorts  []uint16      // default DefaultTCPPorts
	Force     bool          // allow more than MaxAddresses addresses
	NoDNS     bool          // skip reverse DNS
	DNSBudget time.Duration // total time allowed for reverse DNS after the sweep; default 2s
	Logger    *slog.Logger  // default: discard
	Resolver  Resolver      // reverse DNS; default net.DefaultResolver

	// Found, when set, is called once for every host as soon as it is first
	// seen, from the sweep's reader goroutines one call at a time; it must
	// not block for long.
	Found func(Host)
	// Progress, when set, is called periodically with the sweep's progress.
	Progress func(Progress)
}

// Resolver looks up reverse DNS names; *net.Resolver implements it.
type Resolver interface {
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// Progress reports how far a sweep has got.
type Progress struct {
	Sent, Total int // probes sent in this pass / addresses in the sweep
	Pass        int // 1 for the first pass, 2.. for retries
	Found       int // hosts found so far
}

// Host is one address that answered.
type Host struct {
	IP        netip.Addr
	MAC       net.HardwareAddr // nil when not learned (routed targets)
	MACVendor string           // IEEE registry name, "" when unknown
	MACFlags  []string         // "locally-administered", "randomized", "multicast"
	Hostnames []string         // reverse DNS names, sorted
	RTT       time.Duration    // first reply's round-trip time
	FoundBy   []string         // "arp", "icmp", "tcp/22", "passive-arp", "passive-dhcp", "snmp", "local"

	// Added by the sweep engine.
	OpenPorts    []uint16 // TCP ports that accepted a connection, sorted; ports that refused are only in FoundBy
	Interface    string   // interface the host was seen on (ARP and passive), "" for routed hosts
	DHCPHostname string   // host name a DHCP client announced (option 12), passive listening only
}

// Conflict is an IP address answered by more than one MAC.
type Conflict struct {
	IP   netip.Addr
	MACs []net.HardwareAddr
}

// ProxyARP is one MAC answering for many addresses, as a router doing proxy
// ARP (or a misconfigured host) does.
type ProxyARP struct {
	MAC net.HardwareAddr
	IPs []netip.Addr
}

// Result is what a sweep found.
type Result struct {
	Started   time.Time
	Duration  time.Duration
	Method    Method // the method actually used (auto resolved)
	Hosts     []Host // sorted by IP
	Conflicts []Conflict
	ProxyARP  []ProxyARP
	Warnings  []string
	Stats     Stats
}

// Stats count what a sweep did on the wire.
type Stats struct {
	Addresses int // addresses targeted
	Sent      int // probes sent, retries included
	Replies   int // replies received, duplicates included
	Passes    int

	// Before retrying many silent addresses, ARP and ICMP sweeps re-probe
	// a sample of responders to measure loss; with none lost, the silent
	// addresses are taken as empty and not retried (RetriesSkipped).
	LossProbes     int
	LossProbesLost int
	RetriesSkipped int
}
