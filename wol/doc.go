// Package wol sends Wake-on-LAN magic packets. It owns the packet format and
// the ways of putting it on a wire (raw Ethernet, UDP broadcast); it must not
// know how a wake was routed to the sender or who asked for it.
//
// A magic packet only works inside the target's broadcast domain: a
// sleeping card owns no IP address and answers no ARP, so the packet must
// reach it as a broadcast. Sender puts it there either as a raw Ethernet
// frame (EtherType 0x0842, to ff:ff:ff:ff:ff:ff; needs CAP_NET_RAW) out of
// the interface on that segment, or as UDP datagrams to the segment's
// directed broadcast (ports 9 and 7 by default; no privilege). FindRoute
// finds the local interface and broadcast for a subnet; when there is
// none, the packet has to be sent by something inside it (an agent or an
// SSH satellite), never to the target's last unicast address, which fails
// once ARP caches forget it.
//
// The packet encoding is github.com/mdlayher/wol's MagicPacket; the
// sockets are this package's own, because that package's raw client sends
// to the target's unicast MAC, which switches that have forgotten it flood
// or drop.
package wol
