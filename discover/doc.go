// Package discover finds out who is on a network: it sweeps targets with ARP
// on directly attached Ethernet segments, with ICMP echo and TCP connects on
// routed ones, and listens passively for ARP and DHCP. It owns target
// parsing, probe pacing, retries and termination, conflict and proxy-ARP
// detection, reverse DNS and MAC vendors.
//
// It must not know about SNMP, device typing, the inventory store or the
// web UI: it reports hosts and leaves the rest to its callers.
package discover
