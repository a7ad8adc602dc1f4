// Package election decides which agents scan each subnet: OCS Inventory's
// IpDiscover election, made predictable, capped, quick to fail over and
// able to say why.
//
// It is a pure function of its [Input] (the agents with their NICs and
// contact measures, the subnets, who holds a seat now, the admins' pins
// and "never" marks, the record of failed scans) and a [Config]: [Decide]
// returns, per subnet, the seats, the runner-up, every candidate with its
// score and reasons, why nobody scans when nobody does, and the events
// (elected, replaced, expired, demoted, released) that moved the seats.
// The same input gives the same output: candidates are sorted by score,
// then by agent id.
//
// # What it must not know
//
// The store, HTTP, agents' protocol and the scan engine are not its
// business: it has its own input and output types and no clock but
// Input.Now. The caller (web) loads the input, stores the seats and
// events, and creates the networks [Decide] reports as unknown.
//
// # Who may scan
//
// An agent's address makes it a candidate for the subnet holding it when
// its NIC is up and not virtual (bridges, tunnels), the address is IPv4,
// not loopback, link-local or point-to-point (/31, /32), its network is a
// /16 or narrower, and the network lies inside an allowed range
// (Config.Allowed; RFC 1918 by default) and overlaps no denied one. So a
// laptop on a hotel or public network never becomes a scanner. Subnets
// whose policy is deny, or that an admin marked never, get no scanner;
// neither do revoked agents or agents marked never.
//
// # Score
//
// Eligible candidates (heard within max-alive, enough contacts, not in a
// cool-down after failed scans) score between 0 and 1, a weighted sum of:
// reliability (OCS's measures: the mean time between contacts compared
// with the agent's poll interval, times the maturity of its contact count,
// so a new PC cannot beat a steady one), capability (raw sockets for ARP),
// the medium (wired over wireless), load (fewer other subnets already
// scanned) and freshness. Pinned agents take seats first; the others go to
// the best scores, and a challenger replaces a sitting scanner only when
// better by Config.Threshold, so scores that wobble do not flap.
package election
