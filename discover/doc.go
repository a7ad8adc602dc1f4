// Package discover finds out who is on a network: it sweeps targets with ARP
// on directly attached Ethernet segments, with ICMP echo and TCP connects on
// routed ones, and listens passively for ARP and DHCP. It owns target
// parsing, probe pacing, retries and termination, conflict and proxy-ARP
// detection, reverse DNS and MAC vendors.
//
// It must not know about SNMP, device typing, the inventory store or the
// web UI: it reports hosts and leaves the rest to its callers.
//
// # Targets
//
// [ParseTargets] accepts CIDRs, single addresses and ranges, several per
// token separated by commas. Overlapping targets are swept once. A run
// covers at most [MaxAddresses] addresses unless [Options.Force] is set,
// and never more than a /8. Network and broadcast addresses are skipped
// only for subnets this machine is attached to and that are wider than
// /31, with the attached subnet's mask: for a routed target the mask is
// unknown, so every address is probed.
//
// # Methods
//
//   - arp: pipelined ARP requests on the attached segment, sent from our
//     address inside the target's subnet by one paced writer while one
//     reader takes replies through a kernel filter. Learns MACs; reports IP
//     conflicts (two MACs for one address) and proxy ARP (one MAC for many
//     addresses, see the threshold on [ProxyARP]'s detection in collector.go:
//     at least 4 addresses and more than half of those probed, or 16).
//     The scanner's own addresses are listed with FoundBy "local". A Linux
//     host with two interfaces on one segment answers from both by default
//     (arp_ignore=0) and shows up as a conflict too: check before blaming.
//   - icmp: echo requests from a raw socket, or an unprivileged ping
//     socket when net.ipv4.ping_group_range allows it.
//   - tcp: connects to [Options.TCPPorts]; a refused connection proves the
//     host as well as an accepted one. Needs no privilege.
//   - snmp: no liveness step. Every target address is returned as a Host
//     with FoundBy nil, for the SNMP prober to try; no reverse DNS.
//   - auto: arp for addresses on attached Ethernet subnets when a packet
//     socket can be opened, icmp and tcp together for the rest.
//
// ARP and ICMP run in passes: the first over every address, up to
// [Options.Retries] more over the addresses that have not answered, each
// in a new random order, paced by a token bucket. A retry pass that
// recovers nobody is the last: losing one host's answer twice in a row is
// as likely as the loss rate squared, so what is left is absent. After a pass's last
// probe the sweep waits until nothing new has arrived for four times the
// 99th percentile RTT seen (at least 50 ms, at most [Options.Timeout]);
// before any reply the whole timeout. TCP connects have their own deadline
// of [Options.Timeout] and retry addresses that answered on no port.
//
// # Privileges
//
// ARP and passive listening need CAP_NET_RAW, ICMP needs it or ping
// sockets; a missing privilege is a [*PrivilegeError], which matches
// os.ErrPermission and says how to grant it.
//
// # Namespaces
//
// Sweep and Listen open their sockets on the calling goroutine, and Sweep
// creates TCP probe sockets there too, so a caller that locked its OS
// thread into a network namespace works in that namespace.
package discover
