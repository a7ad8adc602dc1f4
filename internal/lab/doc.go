// Package lab builds a test LAN out of Linux network namespaces, veth pairs
// and a bridge, for integration tests and for the benchmark program.
//
// A Lab owns everything it creates and nothing else: its network namespaces
// (and with them every interface, bridge, route and nftables table inside
// them), the processes it started with Start, the listeners it opened inside
// its namespaces, and its share of the few global sysctls a large lab must
// raise (neighbour table thresholds, netdev_max_backlog). Close gives all of
// it back, in every case, and may be called more than once.
//
// Every name a lab creates starts with a random prefix ("lsl" and six hex
// digits), so labs built concurrently by different test binaries never
// collide. Traffic never leaves the lab's namespaces: addresses are drawn
// from 10.0.0.0/8 and live only inside them, so two labs that happen to pick
// the same block are still isolated from each other.
//
// # Topology
//
//	scanner ──┐                    ┌── hosts (N veths, one MAC and IP each)
//	          ├── switch (bridge) ─┼── responder (AnyIP: one MAC, a /17)
//	router ───┘        │           └── conflict a/b, proxy-ARP, gratuitous-only
//	   └── remote subnet (ICMP hosts, ICMP-dropping hosts with a TCP listener)
//
// The scanner's address is the first of the LAN prefix (10.X.0.1/16); the
// hosts are numbered from 10.X.1.1, the specials live in 10.X.0.0/24 and the
// AnyIP responder answers for the upper half, 10.X.128.0/17.
//
// Sockets belong to the network namespace of the thread that created them:
// a program that wants to act as the scanner must run inside the scanner's
// namespace, for example through Command or Start.
//
// Everything needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN), iproute2's ip and,
// for loss and the routed hop, nft. Tests should use package labtest, which
// skips with the reason when those are missing.
package lab
