// Package satellite runs lanscout's work on hosts reached over SSH: waking
// machines and scanning subnets no agent sits in. It owns the SSH connection,
// host-key trust and command construction; it must not know the store or the
// web UI.
//
// Trust is strict and explicit. Dial connects only to a host whose key is
// the one trusted (Config.HostKey), asking for that key's algorithm
// (skeema/knownhosts; golang/go#29286) so a host with several keys is not
// taken for a changed one; a different key is *HostKeyChangedError, before
// anything is authenticated or run. Probe shows a new host's key without
// trusting it and never offers the client key to an untrusted host: an
// admin compares the fingerprint and trusts it. InsecureIgnoreHostKey is
// never used.
//
// Commands are built from a Template: words that are plain text or the
// placeholders {broadcast}, {macs} and {iface}, filled only with parsed
// addresses, so that nothing the remote shell would interpret gets into a
// command line. Wakes go in batches under the command-line limits, a few
// at a time on one connection, with one result per MAC; every network
// step has a deadline (the handshake, which x/crypto/ssh cannot bound by
// itself, through the connection's deadline).
package satellite
